/* The JSON codec: an appending writer and a reader that hands out one token at a time,
 * keeping for each open container where it is, so an error can say where in the
 * document it happened ("links[2].path") as well as at which byte. */
#include "json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tt_json_put(tt_json_out *o, const char *s, size_t n)
{
    if (o->oom) return;
    if (o->len + n > o->cap) {
        size_t cap = o->cap ? o->cap : 256;
        while (cap < o->len + n)
            cap *= 2;
        char *p = realloc(*o->buf, cap);
        if (!p) {
            o->oom = 1;
            return;
        }
        *o->buf = p;
        o->cap = cap;
    }
    memcpy(*o->buf + o->len, s, n);
    o->len += n;
}

void tt_json_newline(tt_json_out *o, int depth)
{
    if (!o->indent) return;
    tt_json_put(o, "\n", 1);
    for (int i = 0; i < depth; i++)
        tt_json_put(o, o->indent, o->indent_len);
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0: no overlong forms,
 * no surrogates, nothing above U+10FFFF (what Lua's utf8.len accepts). */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len = c < 0x80                 ? 1
                 : c >= 0xC2 && c <= 0xDF ? 2
                 : c >= 0xE0 && c <= 0xEF ? 3
                 : c >= 0xF0 && c <= 0xF4 ? 4
                                          : 0;
    if (len <= 1 || len > n) return len > n ? 0 : len;
    unsigned long cp = c & (0x7F >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    static const unsigned long min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
}

/* The escape that writes byte c, which cannot be written as it is. */
static const char *escape(unsigned c, char esc[8])
{
    switch (c) {
    case '"':
        return "\\\"";
    case '\\':
        return "\\\\";
    case '\b':
        return "\\b";
    case '\f':
        return "\\f";
    case '\n':
        return "\\n";
    case '\r':
        return "\\r";
    case '\t':
        return "\\t";
    }
    snprintf(esc, 8, c >= 0x80 ? "\\udc%02x" : "\\u%04x", c);
    return esc;
}

void tt_json_put_string(tt_json_out *o, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    tt_json_put(o, "\"", 1);
    size_t i = 0, run = 0; /* bytes s[i - run .. i) are copied as they are */
    while (i < n) {
        unsigned c = s[i];
        size_t len = c >= 0x20 && c < 0x7f && c != '"' && c != '\\' ? 1
                     : c >= 0x80                                    ? utf8_seq(s + i, n - i)
                                                                    : 0;
        if (len) {
            i += len;
            run += len;
            continue;
        }
        tt_json_put(o, str + i - run, run);
        run = 0;
        char esc[8];
        const char *e = escape(c, esc);
        tt_json_put(o, e, strlen(e));
        i++;
    }
    tt_json_put(o, str + i - run, run);
    tt_json_put(o, "\"", 1);
}

void tt_json_put_integer(tt_json_out *o, long long v)
{
    char num[32];
    tt_json_put(o, num, (size_t)snprintf(num, sizeof num, "%lld", v));
}

void tt_json_put_number(tt_json_out *o, double v)
{
    char num[64];
    if (!isfinite(v))
        tt_json_put(o, "null", 4);
    else
        tt_json_put(o, num, (size_t)snprintf(num, sizeof num, "%.17g", v));
}

static int key_cmp(const void *a, const void *b)
{
    const tt_json_key *x = a, *y = b;
    int c = memcmp(x->s, y->s, x->n < y->n ? x->n : y->n);
    return c ? c : (x->n > y->n) - (x->n < y->n);
}

void tt_json_sort_keys(tt_json_key *keys, size_t n)
{
    if (n > 1) qsort(keys, n, sizeof *keys, key_cmp);
}

/* The reader. state: what may come next. */
enum {
    VALUE,          /* a value (the top level's, an element's after ',', a member's after ':') */
    VALUE_OR_CLOSE, /* right after '[' */
    KEY,            /* after ',' in an object */
    KEY_OR_CLOSE,   /* right after '{' */
    COLON,          /* after a key */
    AFTER_VALUE,    /* ',' or the container's close, or the end of the text at the top */
    STOPPED,        /* after an error */
};

void tt_json_in_init(tt_json_in *in, const char *text, size_t n, char **str)
{
    in->s = in->p = text;
    in->end = text + n;
    in->str = str;
    in->str_cap = 0;
    in->key = 0;
    in->state = VALUE;
    in->depth = 0;
}

/* A growing string in *in->str: room for n more bytes after len, or 0 when out of memory. */
static int room(tt_json_in *in, size_t len, size_t n)
{
    if (*in->str && len + n <= in->str_cap) return 1;
    size_t cap = in->str_cap ? in->str_cap : 64;
    while (cap < len + n)
        cap *= 2;
    char *p = realloc(*in->str, cap);
    if (!p) return 0;
    *in->str = p;
    in->str_cap = cap;
    return 1;
}

static int add(tt_json_in *in, size_t *len, const char *s, size_t n)
{
    if (!room(in, *len, n + 1)) return 0;
    memcpy(*in->str + *len, s, n);
    *len += n;
    (*in->str)[*len] = '\0';
    return 1;
}

/* Whether the key k (n bytes) is a plain name, written name rather than ["name"]. */
static int plain_key(const char *k, size_t n)
{
    if (n == 0 || (k[0] >= '0' && k[0] <= '9')) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)k[i];
        if (!(c == '_' || ((c | 32) >= 'a' && (c | 32) <= 'z') || (c >= '0' && c <= '9'))) return 0;
    }
    return 1;
}

static int decode_string(tt_json_in *in, size_t *len, const char **why);

/* The key that starts at text offset `at`, decoded again (into *key, malloc'd). */
static int key_at(const tt_json_in *in, size_t at, char **key, size_t *n)
{
    tt_json_in k = *in;
    char *buf = NULL;
    k.str = &buf;
    k.str_cap = 0;
    k.p = in->s + at;
    const char *why;
    *n = 0;
    int ok = decode_string(&k, n, &why);
    *key = buf;
    return ok;
}

/* Appends the place of the open containers ("links[2].path") to the message at *len. */
static int add_place(tt_json_in *in, size_t *len, size_t before)
{
    int first = 1, ok = add(in, len, " in ", 4);
    for (int i = 0; ok && i < in->depth; i++) {
        const tt_json_frame *f = &in->frames[i];
        char num[32], *key = NULL;
        size_t n = 0;
        if (f->key) {
            ok = key_at(in, f->key - 1, &key, &n);
            int plain = ok && plain_key(key, n);
            ok = ok &&
                 (plain ? (first || add(in, len, ".", 1)) && add(in, len, key, n)
                        : add(in, len, "[\"", 2) && add(in, len, key, n) && add(in, len, "\"]", 2));
            free(key);
        } else if (f->index) {
            ok =
                add(in, len, num, (size_t)snprintf(num, sizeof num, "[%lld]", (long long)f->index));
        } else {
            continue;
        }
        first = 0;
    }
    if (ok && first) *len = before; /* nowhere in particular */
    return ok;
}

const char *tt_json_fail(tt_json_in *in, const char *what, size_t at, size_t *n)
{
    static const char oom[] = "json: out of memory";
    size_t len = 0;
    char num[32];
    int ok = add(in, &len, "json: ", 6) && add(in, &len, what, strlen(what));
    ok = ok && add_place(in, &len, len) &&
         add(in, &len, num, (size_t)snprintf(num, sizeof num, " at byte %zu", at + 1));
    in->state = STOPPED;
    *n = ok ? len : sizeof oom - 1;
    return ok ? *in->str : oom;
}

static tt_json_token fail(tt_json_in *in, tt_json_tok *t, const char *what)
{
    t->at = (size_t)(in->p - in->s);
    t->s = tt_json_fail(in, what, t->at, &t->n);
    return t->type = TT_JSON_ERROR;
}

static void skip_ws(tt_json_in *in)
{
    while (in->p < in->end && (*in->p == ' ' || *in->p == '\t' || *in->p == '\r' || *in->p == '\n'))
        in->p++;
}

/* The four hex digits at `at`, or -1. */
static long hex4(const tt_json_in *in, const char *at)
{
    long v = 0;
    for (int i = 0; i < 4; i++) {
        char c = at + i < in->end ? at[i] : 0;
        int d = c >= '0' && c <= '9'                 ? c - '0'
                : (c | 32) >= 'a' && (c | 32) <= 'f' ? (c | 32) - 'a' + 10
                                                     : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

static int add_utf8(tt_json_in *in, size_t *len, unsigned long cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80)
        u[0] = (char)cp, n = 1;
    else if (cp < 0x800)
        u[0] = (char)(0xC0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
    else if (cp < 0x10000)
        u[0] = (char)(0xE0 | cp >> 12), u[1] = (char)(0x80 | (cp >> 6 & 0x3F)),
        u[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
    else
        u[0] = (char)(0xF0 | cp >> 18), u[1] = (char)(0x80 | (cp >> 12 & 0x3F)),
        u[2] = (char)(0x80 | (cp >> 6 & 0x3F)), u[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
    return add(in, len, u, n);
}

/* The \uXXXX escape at in->p (one or, for a surrogate pair, two), decoded. */
static int decode_u(tt_json_in *in, size_t *len, const char **why)
{
    long cp = hex4(in, in->p + 2);
    if (cp < 0) return *why = "bad \\u escape", 0;
    in->p += 6;
    if (cp >= 0xDC80 && cp <= 0xDCFF) { /* an escaped raw byte */
        char byte = (char)(cp - 0xDC00);
        return add(in, len, &byte, 1) || (*why = "out of memory", 0);
    }
    if (cp >= 0xD800 && cp <= 0xDBFF && in->end - in->p >= 6 && in->p[0] == '\\' &&
        in->p[1] == 'u' && (in->p[2] | 32) == 'd' && strchr("cdefCDEF", in->p[3])) {
        long lo = hex4(in, in->p + 2);
        if (lo < 0) return *why = "bad \\u escape", 0;
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        in->p += 6;
    }
    return add_utf8(in, len, (unsigned long)cp) || (*why = "out of memory", 0);
}

/* The byte the escape \e stands for, or 0 (\u is not one of these). */
static char simple_escape(char e)
{
    switch (e) {
    case 'b':
        return '\b';
    case 'f':
        return '\f';
    case 'n':
        return '\n';
    case 'r':
        return '\r';
    case 't':
        return '\t';
    case '"':
    case '\\':
    case '/':
        return e;
    }
    return 0;
}

/* The string at in->p (its opening quote), decoded into *in->str from *len on. */
static int decode_string(tt_json_in *in, size_t *len, const char **why)
{
    in->p++;
    if (!add(in, len, "", 0)) return *why = "out of memory", 0;
    for (;;) {
        const char *run = in->p;
        while (in->p < in->end && *in->p != '"' && *in->p != '\\')
            in->p++;
        if (!add(in, len, run, (size_t)(in->p - run))) return *why = "out of memory", 0;
        if (in->p >= in->end) return *why = "unterminated string", 0;
        if (*in->p == '"') {
            in->p++;
            return 1;
        }
        char e = in->p + 1 < in->end ? in->p[1] : 0, c = simple_escape(e);
        if (e == 'u') {
            if (!decode_u(in, len, why)) return 0;
        } else if (c) {
            if (!add(in, len, &c, 1)) return *why = "out of memory", 0;
            in->p += 2;
        } else {
            return *why = "bad escape", 0;
        }
    }
}

/* A string token (a key or a value) at in->p. */
static tt_json_token string(tt_json_in *in, tt_json_tok *t, tt_json_token type)
{
    size_t len = 0;
    const char *why;
    t->at = (size_t)(in->p - in->s);
    if (!decode_string(in, &len, &why)) return fail(in, t, why);
    t->s = *in->str, t->n = len;
    return t->type = type;
}

static tt_json_token number(tt_json_in *in, tt_json_tok *t)
{
    const char *start = in->p;
    if (in->p < in->end && *in->p == '-') in->p++;
    while (in->p < in->end && ((*in->p >= '0' && *in->p <= '9') || strchr(".eE+-", *in->p)))
        in->p++;
    t->at = (size_t)(start - in->s);
    t->s = start, t->n = (size_t)(in->p - start);
    return t->n >= 64 ? fail(in, t, "bad number") : (t->type = TT_JSON_NUMBER);
}

static int word(tt_json_in *in, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(in->end - in->p) < n || memcmp(in->p, w, n) != 0) return 0;
    in->p += n;
    return 1;
}

static tt_json_token open_container(tt_json_in *in, tt_json_tok *t, int object)
{
    if (in->depth >= TT_JSON_MAX_DEPTH) return fail(in, t, "nested too deeply");
    in->frames[in->depth++] = (tt_json_frame){0, 0, object};
    t->at = (size_t)(in->p++ - in->s);
    in->state = object ? KEY_OR_CLOSE : VALUE_OR_CLOSE;
    return t->type = object ? TT_JSON_OBJECT : TT_JSON_ARRAY;
}

static tt_json_token value(tt_json_in *in, tt_json_tok *t)
{
    if (in->p >= in->end) return fail(in, t, "unexpected end");
    char c = *in->p;
    if (c == '{' || c == '[') return open_container(in, t, c == '{');
    in->state = AFTER_VALUE;
    t->at = (size_t)(in->p - in->s);
    if (c == '"') return string(in, t, TT_JSON_STRING);
    if (word(in, "true")) return t->type = TT_JSON_TRUE;
    if (word(in, "false")) return t->type = TT_JSON_FALSE;
    if (word(in, "null")) return t->type = TT_JSON_NULL;
    if (c == '-' || (c >= '0' && c <= '9')) return number(in, t);
    char what[32];
    snprintf(what, sizeof what, "unexpected '%c'", c);
    return fail(in, t, what);
}

/* The innermost container ends at in->p (its close); it is a value of the one around. */
static tt_json_token close_container(tt_json_in *in, tt_json_tok *t)
{
    t->at = (size_t)(in->p++ - in->s);
    in->depth--;
    in->state = AFTER_VALUE;
    return t->type = TT_JSON_END;
}

tt_json_token tt_json_next(tt_json_in *in, tt_json_tok *t)
{
    t->s = NULL, t->n = 0;
    if (in->state == STOPPED) return fail(in, t, "read past an error");
    tt_json_frame *f = in->depth ? &in->frames[in->depth - 1] : NULL;
    if (f && in->state == AFTER_VALUE) f->key = 0; /* between members */
    skip_ws(in);
    char c = in->p < in->end ? *in->p : 0;
    switch (in->state) {
    case AFTER_VALUE:
        if (!f)
            return in->p < in->end ? fail(in, t, "trailing characters") : (t->type = TT_JSON_DONE);
        if (c == (f->object ? '}' : ']')) return close_container(in, t);
        if (c != ',') return fail(in, t, f->object ? "expected ',' or '}'" : "expected ',' or ']'");
        in->p++;
        in->state = f->object ? KEY : VALUE;
        return tt_json_next(in, t);
    case KEY_OR_CLOSE:
        if (c == '}') return close_container(in, t);
        /* fall through */
    case KEY:
        if (c != '"') return fail(in, t, "expected a key");
        in->key = (size_t)(in->p - in->s) + 1;
        in->state = COLON;
        return string(in, t, TT_JSON_KEY);
    case COLON:
        f->key = in->key; /* from here on, errors are inside this member */
        if (c != ':') return fail(in, t, "expected ':'");
        in->p++;
        skip_ws(in);
        return value(in, t);
    case VALUE_OR_CLOSE:
        if (c == ']') return close_container(in, t);
        /* fall through */
    default:
        if (f && !f->object) f->index++;
        return value(in, t);
    }
}

int tt_json_container(const tt_json_in *in, int64_t *index)
{
    if (!in->depth) return 0;
    const tt_json_frame *f = &in->frames[in->depth - 1];
    *index = f->index;
    return f->object ? 2 : 1;
}
