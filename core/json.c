/* The JSON codec: an appending writer and a reader that hands out one token at a time,
 * keeping for each open container where it is, so an error can say where in the
 * document it happened ("links[2].path") as well as at which byte. */
#include "json.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Room for n more bytes, or 0 (and oom set) when there is none to be had. */
static int grow(tt_json_out *o, size_t n)
{
    if (o->oom) return 0;
    if (o->len + n <= o->cap) return 1;
    size_t cap = o->cap ? o->cap : 256;
    while (cap < o->len + n)
        cap *= 2;
    char *p = realloc(*o->buf, cap);
    if (!p) return o->oom = 1, 0;
    *o->buf = p;
    o->cap = cap;
    return 1;
}

void tt_json_put(tt_json_out *o, const char *s, size_t n)
{
    if (!grow(o, n)) return;
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

void tt_json_in_init(tt_json_in *in, const char *text, size_t n)
{
    in->s = in->p = text;
    in->end = text + n;
    in->key = 0;
    in->state = VALUE;
    in->depth = 0;
    in->what = NULL;
    in->at = 0;
}

/* The four hex digits at s (before end), or -1. */
static long hex4(const char *s, const char *end)
{
    long v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s + i < end ? s[i] : 0;
        int d = c >= '0' && c <= '9'                 ? c - '0'
                : (c | 32) >= 'a' && (c | 32) <= 'f' ? (c | 32) - 'a' + 10
                                                     : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

static size_t put_utf8(char *u, unsigned long cp)
{
    if (cp < 0x80) return u[0] = (char)cp, 1;
    if (cp < 0x800) return u[0] = (char)(0xC0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3F)), 2;
    if (cp < 0x10000)
        return u[0] = (char)(0xE0 | cp >> 12), u[1] = (char)(0x80 | (cp >> 6 & 0x3F)),
               u[2] = (char)(0x80 | (cp & 0x3F)), 3;
    return u[0] = (char)(0xF0 | cp >> 18), u[1] = (char)(0x80 | (cp >> 12 & 0x3F)),
           u[2] = (char)(0x80 | (cp >> 6 & 0x3F)), u[3] = (char)(0x80 | (cp & 0x3F)), 4;
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

/* The escape at *p (a backslash, before end): checked, its bytes written to out (when
 * not NULL; never more than the escape's own length), *p moved past it. The number of
 * bytes, or 0 with *p left at the bad escape. A \udcXX is the raw byte XX; a high
 * surrogate followed by \udc00-\udfff is one code point. */
static size_t escape_at(const char **p, const char *end, char *out, const char **why)
{
    char u[4], *o = out ? out : u, e = *p + 1 < end ? (*p)[1] : 0, c = simple_escape(e);
    if (c) {
        *p += 2;
        return *o = c, 1;
    }
    long cp = e == 'u' ? hex4(*p + 2, end) : -1;
    if (cp < 0) return *why = e == 'u' ? "bad \\u escape" : "bad escape", 0;
    const char *q = *p + 6;
    if (cp >= 0xDC80 && cp <= 0xDCFF) {
        *p = q;
        return *o = (char)(cp - 0xDC00), 1;
    }
    if (cp >= 0xD800 && cp <= 0xDBFF && end - q >= 6 && q[0] == '\\' && q[1] == 'u' &&
        (q[2] | 32) == 'd' && strchr("cdefCDEF", q[3])) {
        long lo = hex4(q + 2, end);
        if (lo < 0) return *p = q, *why = "bad \\u escape", 0;
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        q += 6;
    }
    *p = q;
    return put_utf8(o, (unsigned long)cp);
}

/* The string whose opening quote is at *p: checked (decoded into out when not NULL),
 * *p moved past its closing quote. Its decoded length, or -1 with *p at the fault. */
static long scan_string(const char **p, const char *end, char *out, int *escaped, const char **why)
{
    size_t len = 0;
    *escaped = 0;
    for ((*p)++;;) {
        const char *run = *p;
        while (*p < end && **p != '"' && **p != '\\')
            (*p)++;
        if (out) memcpy(out + len, run, (size_t)(*p - run));
        len += (size_t)(*p - run);
        if (*p >= end) return *why = "unterminated string", -1;
        if (**p == '"') {
            (*p)++;
            return (long)len;
        }
        *escaped = 1;
        size_t n = escape_at(p, end, out ? out + len : NULL, why);
        if (!n) return -1;
        len += n;
    }
}

size_t tt_json_unescape(const char *s, size_t n, char *out)
{
    const char *p = s - 1, *why; /* as if at the opening quote; the text was checked */
    int escaped;
    long len = scan_string(&p, s + n + 1, out, &escaped, &why);
    return len < 0 ? 0 : (size_t)len;
}

void tt_json_fail(tt_json_in *in, const char *what, size_t at)
{
    in->what = what;
    in->at = at;
    in->state = STOPPED;
}

static tt_json_token fail(tt_json_in *in, tt_json_tok *t, const char *what)
{
    t->at = (size_t)(in->p - in->s);
    tt_json_fail(in, what, t->at);
    return t->type = TT_JSON_ERROR;
}

static void put_str(tt_json_out *o, const char *s)
{
    tt_json_put(o, s, strlen(s));
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

/* Appends the key whose opening quote is at text offset `at`, decoded, as the place
 * names it: .name (no dot first), or ["name"] (a name Lua could not write after a dot). */
static void put_key(tt_json_out *o, const tt_json_in *in, size_t at, int first)
{
    const char *p = in->s + at, *why;
    int escaped;
    if (scan_string(&p, in->end, NULL, &escaped, &why) < 0) return; /* read before: cannot be */
    if (!grow(o, (size_t)(p - (in->s + at)) + 4)) return;           /* decoded is never longer */
    char *key = *o->buf + o->len;
    p = in->s + at;
    size_t n = (size_t)scan_string(&p, in->end, key + 2, &escaped, &why);
    if (!plain_key(key + 2, n)) {
        memcpy(key, "[\"", 2);
        memcpy(key + 2 + n, "\"]", 2);
        o->len += n + 4;
    } else if (first) {
        memmove(key, key + 2, n);
        o->len += n;
    } else {
        key[1] = '.';
        memmove(key, key + 1, n + 1);
        o->len += n + 1;
    }
}

int tt_json_message(const tt_json_in *in, char **buf, size_t *n)
{
    tt_json_out o = {.buf = buf};
    put_str(&o, "json: ");
    put_str(&o, in->what ? in->what : "no error");
    size_t before = o.len;
    put_str(&o, " in ");
    int first = 1;
    for (int i = 0; i < in->depth; i++) { /* the place of each open container, outermost first */
        const tt_json_frame *f = &in->frames[i];
        char num[32];
        if (f->key)
            put_key(&o, in, f->key - 1, first);
        else if (f->index)
            tt_json_put(&o, num, (size_t)snprintf(num, sizeof num, "[%lld]", (long long)f->index));
        else
            continue;
        first = 0;
    }
    if (first) o.len = before; /* nowhere in particular */
    char at[48];
    tt_json_put(&o, at,
                (size_t)snprintf(at, sizeof at, " at byte %llu", (unsigned long long)in->at + 1));
    *n = o.len;
    return o.oom ? ENOMEM : 0;
}

static void skip_ws(tt_json_in *in)
{
    while (in->p < in->end && (*in->p == ' ' || *in->p == '\t' || *in->p == '\r' || *in->p == '\n'))
        in->p++;
}

/* A string token (a key or a value) at in->p: checked, handed out as written. */
static tt_json_token string(tt_json_in *in, tt_json_tok *t, tt_json_token type)
{
    const char *why;
    t->at = (size_t)(in->p - in->s);
    if (scan_string(&in->p, in->end, NULL, &t->escaped, &why) < 0) return fail(in, t, why);
    t->s = in->s + t->at + 1, t->n = (size_t)(in->p - t->s) - 1;
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
    snprintf(in->what_buf, sizeof in->what_buf, "unexpected '%c'", c);
    return fail(in, t, in->what_buf);
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
    t->s = NULL, t->n = 0, t->escaped = 0;
    if (in->state == STOPPED) return t->at = in->at, t->type = TT_JSON_ERROR;
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
