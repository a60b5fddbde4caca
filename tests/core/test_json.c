/* cmocka tests of core/json: any bytes survive a string's trip through the writer and
 * the reader (random strings, every single byte), the writer's numbers and key order,
 * the reader's tokens in document order, and every error saying what, where in the
 * document and at which byte. */
#include "../testutil.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/json.h"

/* The text the writer makes of one string (a new string, NUL-terminated). */
static char *encoded(const char *s, size_t n)
{
    char *buf = NULL;
    tt_json_out o = {.buf = &buf};
    tt_json_put_string(&o, s, n);
    tt_json_put(&o, "", 1);
    assert_false(o.oom);
    return buf;
}

/* Reads text that holds one string; *out (malloc'd) its bytes. */
static size_t decoded(const char *text, char **out)
{
    static tt_json_in in; /* too big for a test's stack frame twice over */
    tt_json_tok t;
    tt_json_in_init(&in, text, strlen(text));
    assert_int_equal(tt_json_next(&in, &t), TT_JSON_STRING);
    *out = malloc(t.n + 1);
    size_t n = tt_json_unescape(t.s, t.n, *out);
    assert_true(n <= t.n);
    assert_int_equal(t.escaped, memchr(t.s, '\\', t.n) != NULL);
    assert_int_equal(tt_json_next(&in, &t), TT_JSON_DONE);
    return n;
}

static void round_trip(const char *s, size_t n)
{
    char *text = encoded(s, n), *back = NULL;
    for (const unsigned char *c = (const unsigned char *)text; *c; c++)
        assert_true(*c >= 0x20 && *c != 0x7f); /* no control character is written raw */
    assert_int_equal(decoded(text, &back), n);
    assert_memory_equal(back, s, n);
    free(text);
    free(back);
}

static void test_any_bytes_round_trip(void **state)
{
    (void)state;
    for (int c = 0; c < 256; c++) {
        char one = (char)c;
        round_trip(&one, 1);
    }
    srand(22);
    for (int i = 0; i < 2000; i++) {
        char s[64];
        size_t n = (size_t)(rand() % 64);
        for (size_t j = 0; j < n; j++) /* mostly UTF-8-like bytes, some of every kind */
            s[j] = (char)(rand() % 4 ? "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\\\"\n"[rand() % 13]
                                     : rand() % 256);
        round_trip(s, n);
    }
}

static void test_writer_forms(void **state)
{
    (void)state;
    char *t = encoded("caf\xc3\xa9 \xff\x01\"\\\t\x7f", 12);
    assert_string_equal(t, "\"caf\xc3\xa9 \\udcff\\u0001\\\"\\\\\\t\\u007f\"");
    free(t);
    t = encoded("\xed\xa0\x80\xc0\x80", 5); /* a surrogate and an overlong form: byte by byte */
    assert_string_equal(t, "\"\\udced\\udca0\\udc80\\udcc0\\udc80\"");
    free(t);
    char *buf = NULL;
    tt_json_out o = {.buf = &buf, .indent = "  ", .indent_len = 2};
    tt_json_put_integer(&o, LLONG_MIN);
    tt_json_newline(&o, 2);
    tt_json_put_number(&o, 0.1);
    tt_json_put(&o, ",", 1);
    tt_json_put_number(&o, NAN);
    tt_json_put(&o, ",", 1);
    tt_json_put_number(&o, -INFINITY);
    tt_json_put(&o, "", 1);
    assert_string_equal(buf, "-9223372036854775808\n    0.10000000000000001,null,null");
    free(buf);
    tt_json_key keys[] = {{"b", 1, 0}, {"ab", 2, 1}, {"B", 1, 2}, {"a", 1, 3}, {"a\0", 2, 4}};
    tt_json_sort_keys(keys, 5);
    const size_t order[] = {2, 3, 4, 1, 0}; /* bytewise, shorter first */
    for (int i = 0; i < 5; i++)
        assert_int_equal(keys[i].slot, order[i]);
}

/* The tokens of text, one letter each: { [ ) (an end) K(ey) S N t f n, and . for the
 * end of the text; an element of an array is followed by its index. */
static void tokens(const char *text, const char *want)
{
    static tt_json_in in;
    char got[128];
    size_t n = 0;
    tt_json_in_init(&in, text, strlen(text));
    for (;;) {
        tt_json_tok t;
        tt_json_token k = tt_json_next(&in, &t);
        assert_int_not_equal(k, TT_JSON_ERROR);
        int64_t i;
        got[n++] = "!.{[)KSNtfn"[k];
        if (k >= TT_JSON_END && tt_json_container(&in, &i) == 1) got[n++] = (char)('0' + i);
        if (k == TT_JSON_DONE) break;
    }
    got[n] = '\0';
    assert_string_equal(got, want);
}

static void test_tokens_in_order(void **state)
{
    (void)state;
    tokens(" 1 ", "N.");
    tokens("\"x\"", "S.");
    tokens("[]", "[).");
    tokens("{}", "{).");
    tokens("[5, 6 ,7]", "[N1N2N3).");
    tokens("{\"a\": [1, true, {\"b\": null}], \"c\": false}", "{K[N1t2{Kn)3)Kf).");
    tokens("[[[]],[{}]]", "[[[)1)1[{)1)2).");
}

/* The error reading text gives. */
static void fails(const char *text, const char *want)
{
    static tt_json_in in;
    tt_json_in_init(&in, text, strlen(text));
    tt_json_tok t;
    tt_json_token k;
    while ((k = tt_json_next(&in, &t)) != TT_JSON_ERROR)
        assert_int_not_equal(k, TT_JSON_DONE);
    char *msg = NULL;
    size_t n;
    assert_int_equal(tt_json_message(&in, &msg, &n), 0);
    assert_int_equal(n, strlen(want));
    assert_memory_equal(msg, want, n);
    assert_int_equal(tt_json_next(&in, &t), TT_JSON_ERROR); /* and it stays stopped */
    free(msg);
}

static void test_errors_say_where(void **state)
{
    (void)state;
    fails("", "json: unexpected end at byte 1");
    fails("[1,", "json: unexpected end in [2] at byte 4");
    fails("nul", "json: unexpected 'n' at byte 1");
    fails("[] x", "json: trailing characters at byte 4");
    fails("\"abc", "json: unterminated string at byte 5");
    fails("\"\\q\"", "json: bad escape at byte 2");
    fails("\"\\u12\"", "json: bad \\u escape at byte 2");
    fails("\"\\ud800\\udcxy\"", "json: bad \\u escape at byte 8");
    fails("{\"a\" 1}", "json: expected ':' in a at byte 6");
    fails("{\"a\":1 2}", "json: expected ',' or '}' at byte 8");
    fails("{\"a\":1,}", "json: expected a key at byte 8");
    fails("[1 2]", "json: expected ',' or ']' in [1] at byte 4");
    fails("{\"links\":[{\"path\":\"a\"},{\"path\" \"b\"}]}",
          "json: expected ':' in links[2].path at byte 32");
    fails("{\"a b\":{\"x\":[1,{\"y\":[}]}]}}",
          "json: unexpected '}' in [\"a b\"].x[2].y[1] at byte 22");
    fails("{\"9\":{\"\":x}}", "json: unexpected 'x' in [\"9\"][\"\"] at byte 10");
    fails("[1234567890123456789012345678901234567890123456789012345678901234567890]",
          "json: bad number in [1] at byte 72");
    /* TT_JSON_MAX_DEPTH arrays are read (to their missing end), one more is refused. */
    static char deep[TT_JSON_MAX_DEPTH + 2], msg[8 * TT_JSON_MAX_DEPTH],
        place[4 * TT_JSON_MAX_DEPTH];
    memset(deep, '[', TT_JSON_MAX_DEPTH + 1);
    for (int i = 0; i < TT_JSON_MAX_DEPTH; i++)
        strcat(place, "[1]");
    snprintf(msg, sizeof msg, "json: nested too deeply in %s at byte %d", place,
             TT_JSON_MAX_DEPTH + 1);
    fails(deep, msg);
    deep[TT_JSON_MAX_DEPTH] = '\0';
    snprintf(msg, sizeof msg, "json: unexpected end in %s at byte %d", place,
             TT_JSON_MAX_DEPTH + 1);
    fails(deep, msg);
}

/* A failure the caller finds (a duplicate key) is said the same way, at its byte. */
static void test_caller_failures(void **state)
{
    (void)state;
    static tt_json_in in;
    const char *text = "[{\"k\":1,\"k\":2}]";
    tt_json_in_init(&in, text, strlen(text));
    tt_json_tok t;
    int keys = 0;
    while (tt_json_next(&in, &t) != TT_JSON_KEY || ++keys < 2) {
    }
    tt_json_fail(&in, "duplicate key \"k\"", t.at);
    char *msg = NULL;
    size_t n;
    assert_int_equal(tt_json_message(&in, &msg, &n), 0);
    assert_int_equal(n, strlen("json: duplicate key \"k\" in [1] at byte 9"));
    assert_memory_equal(msg, "json: duplicate key \"k\" in [1] at byte 9", n);
    assert_int_equal(tt_json_next(&in, &t), TT_JSON_ERROR);
    free(msg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_any_bytes_round_trip), cmocka_unit_test(test_writer_forms),
        cmocka_unit_test(test_tokens_in_order),      cmocka_unit_test(test_errors_say_where),
        cmocka_unit_test(test_caller_failures),
    };
    return cmocka_run_group_tests_name("core/json", tests, NULL, NULL);
}
