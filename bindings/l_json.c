/* The JSON codec behind tether.json, in C because journals and reports encode a record
 * per file or link, and undo and history read them back. File names are bytes, not always UTF-8: a
 * byte that is not part of valid UTF-8 is written as "\udcXX" (a lone low surrogate, as Python's
 * surrogateescape does); tether.json decodes it back to that byte. */
#include "l_tether.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    lua_State *L;
    char **box; /* owns the output while it grows, so a Lua error cannot leak it */
    size_t len, cap;
    const char *indent; /* NULL: compact */
    size_t indent_len;
    int sorted;
    int seen; /* stack index of the set of tables being encoded (cycle check) */
} jout;

/* Upvalues of the encoder: the markers tether.json uses. */
/* Both ways, documents nested deeper than this are refused: the C stack is finite. */
#define JSON_MAX_DEPTH 1000

#define ARRAY_MARK  lua_upvalueindex(1)
#define OBJECT_MARK lua_upvalueindex(2)
#define NULL_MARK   lua_upvalueindex(3)

static void put(jout *o, const char *s, size_t n)
{
    if (o->len + n > o->cap) {
        size_t cap = o->cap ? o->cap : 256;
        while (cap < o->len + n)
            cap *= 2;
        char *p = realloc(*o->box, cap);
        if (!p) luaL_error(o->L, "json: out of memory");
        *o->box = p;
        o->cap = cap;
    }
    memcpy(*o->box + o->len, s, n);
    o->len += n;
}

static void putc1(jout *o, char c)
{
    put(o, &c, 1);
}

static void newline(jout *o, int depth)
{
    if (!o->indent) return;
    putc1(o, '\n');
    for (int i = 0; i < depth; i++)
        put(o, o->indent, o->indent_len);
}

static _Noreturn void fail(jout *o, const char *msg, const char *what)
{
    lua_pushfstring(o->L, "json: %s%s", msg, what);
    lua_error(o->L);
    abort(); /* not reached */
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0: no overlong forms,
 * no surrogates, nothing above U+10FFFF (what utf8.len accepts). */
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

static void put_string(jout *o, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    putc1(o, '"');
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
        put(o, str + i - run, run);
        run = 0;
        char esc[8];
        const char *e = c == '"'    ? "\\\""
                        : c == '\\' ? "\\\\"
                        : c == '\b' ? "\\b"
                        : c == '\f' ? "\\f"
                        : c == '\n' ? "\\n"
                        : c == '\r' ? "\\r"
                        : c == '\t' ? "\\t"
                                    : NULL;
        if (!e) {
            snprintf(esc, sizeof esc, c >= 0x80 ? "\\udc%02x" : "\\u%04x", c);
            e = esc;
        }
        put(o, e, strlen(e));
        i++;
    }
    put(o, str + i - run, run);
    putc1(o, '"');
}

static void put_value(jout *o, int idx, int depth);

/* Whether the table at idx is written as an array: its __json marker says so, or its
 * keys are exactly 1..#t (an empty table without a marker is an object). */
static int is_array(jout *o, int idx)
{
    lua_State *L = o->L;
    if (lua_getmetatable(L, idx)) {
        int marked = lua_getfield(L, -1, "__json") != LUA_TNIL;
        int array = marked && lua_rawequal(L, -1, ARRAY_MARK);
        lua_pop(L, 2);
        if (marked) return array;
    }
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
    if (n == 0) return 0;
    lua_Integer count = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (++count > n) {
            lua_pop(L, 1);
            return 0;
        }
    }
    return count == n;
}

typedef struct {
    const char *s;
    size_t n;
    lua_Integer slot; /* where the key and its original form are kept on the stack */
} jkey;

/* Keys sorted as Lua compares strings in the C locale: byte by byte, shorter first. */
static int key_cmp(const void *a, const void *b)
{
    const jkey *x = a, *y = b;
    int c = memcmp(x->s, y->s, x->n < y->n ? x->n : y->n);
    return c ? c : (x->n > y->n) - (x->n < y->n);
}

static void put_object(jout *o, int idx, int depth)
{
    lua_State *L = o->L;
    /* Each key as a string at 2i-1 and as it was at 2i of a table on the stack, which
     * keeps the strings alive while they are sorted and written. */
    lua_newtable(L);
    int keys = lua_gettop(L);
    lua_Integer n = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) == LUA_TSTRING)
            lua_pushvalue(L, -1);
        else if (lua_isinteger(L, -1))
            lua_pushfstring(L, "%I", (LUAI_UACINT)lua_tointeger(L, -1));
        else
            fail(o, "object keys must be strings, got ", luaL_typename(L, -1));
        lua_rawseti(L, keys, 2 * n + 1);
        lua_pushvalue(L, -1);
        lua_rawseti(L, keys, 2 * n + 2);
        n++;
    }
    char **box = l_newbox(L);
    jkey *order = n ? malloc((size_t)n * sizeof *order) : NULL;
    if (n && !order) luaL_error(L, "json: out of memory");
    *box = (char *)order;
    for (lua_Integer i = 0; i < n; i++) {
        lua_rawgeti(L, keys, 2 * i + 1);
        order[i].s = lua_tolstring(L, -1, &order[i].n);
        order[i].slot = i;
        lua_pop(L, 1);
    }
    if (o->sorted && n > 1) qsort(order, (size_t)n, sizeof *order, key_cmp);
    putc1(o, '{');
    for (lua_Integer i = 0; i < n; i++) {
        if (i) putc1(o, ',');
        newline(o, depth + 1);
        put_string(o, order[i].s, order[i].n);
        put(o, o->indent ? ": " : ":", o->indent ? 2 : 1);
        lua_rawgeti(L, keys, 2 * order[i].slot + 2);
        lua_gettable(L, idx);
        put_value(o, lua_gettop(L), depth + 1);
        lua_pop(L, 1);
    }
    if (n) newline(o, depth);
    putc1(o, '}');
    lua_settop(L, keys - 1);
}

static void put_table(jout *o, int idx, int depth)
{
    lua_State *L = o->L;
    if (depth >= JSON_MAX_DEPTH) fail(o, "nested too deeply", "");
    luaL_checkstack(L, 8, "json: nested too deeply");
    lua_pushvalue(L, idx);
    if (lua_rawget(L, o->seen) != LUA_TNIL)
        fail(o, "cannot encode a table that contains itself", "");
    lua_pop(L, 1);
    lua_pushvalue(L, idx);
    lua_pushboolean(L, 1);
    lua_rawset(L, o->seen);
    if (is_array(o, idx)) {
        lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
        putc1(o, '[');
        for (lua_Integer i = 1; i <= n; i++) {
            if (i > 1) putc1(o, ',');
            newline(o, depth + 1);
            lua_rawgeti(L, idx, i);
            put_value(o, lua_gettop(L), depth + 1);
            lua_pop(L, 1);
        }
        if (n) newline(o, depth);
        putc1(o, ']');
    } else {
        put_object(o, idx, depth);
    }
    lua_pushvalue(L, idx);
    lua_pushnil(L);
    lua_rawset(L, o->seen);
}

static void put_value(jout *o, int idx, int depth)
{
    lua_State *L = o->L;
    char num[64];
    switch (lua_type(L, idx)) {
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(L, idx, &n);
        put_string(o, s, n);
        return;
    }
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) {
            snprintf(num, sizeof num, LUA_INTEGER_FMT, (LUAI_UACINT)lua_tointeger(L, idx));
        } else {
            lua_Number v = lua_tonumber(L, idx);
            if (!isfinite(v))
                snprintf(num, sizeof num, "null");
            else
                snprintf(num, sizeof num, "%.17g", (double)v);
        }
        put(o, num, strlen(num));
        return;
    case LUA_TBOOLEAN:
        lua_toboolean(L, idx) ? put(o, "true", 4) : put(o, "false", 5);
        return;
    case LUA_TNIL:
        put(o, "null", 4);
        return;
    case LUA_TTABLE:
        if (lua_rawequal(L, idx, NULL_MARK))
            put(o, "null", 4);
        else
            put_table(o, idx, depth);
        return;
    default:
        fail(o, "cannot encode a ", luaL_typename(L, idx));
    }
}

/* encode(value, indent|nil, sorted) -> string */
static int l_encode(lua_State *L)
{
    luaL_checkany(L, 1);
    jout o = {.L = L, .sorted = lua_toboolean(L, 3)};
    o.indent = luaL_optlstring(L, 2, NULL, &o.indent_len);
    lua_settop(L, 3);
    lua_newtable(L);
    o.seen = lua_gettop(L);
    o.box = l_newbox(L);
    put_value(&o, 1, 0);
    lua_pushlstring(L, *o.box ? *o.box : "", o.len);
    return 1;
}

/* The decoder: a recursive descent over the text, building tables marked as arrays or
 * objects (so they encode back the same way) and the null sentinel for null. An error
 * says where it is, as a byte and as the place in the document ("links[2].path"):
 * each container being read is a frame on the C stack, linked to the one around it. */
typedef struct jframe {
    const struct jframe *up;
    lua_Integer index; /* of an array: the element being read (from 1) */
    int key;           /* of an object: the stack slot of the key being read, or 0 */
} jframe;

typedef struct {
    lua_State *L;
    const char *s, *p, *end;
    int depth;
    int duplicates; /* 1: a key given twice keeps its last value; 0: it is an error */
    const jframe *top;
} jin;

#define ARRAY_META  lua_upvalueindex(1)
#define OBJECT_META lua_upvalueindex(2)
#define NULL_VALUE  lua_upvalueindex(3)

/* Whether the key at slot is a plain name, written name rather than ["name"]. */
static int plain_key(lua_State *L, int slot)
{
    size_t n;
    const char *k = lua_tolstring(L, slot, &n);
    if (n == 0 || (k[0] >= '0' && k[0] <= '9')) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)k[i];
        if (!(c == '_' || ((c | 32) >= 'a' && (c | 32) <= 'z') || (c >= '0' && c <= '9'))) return 0;
    }
    return 1;
}

/* Adds the place f is at to b: the frames around it first. */
static void add_place(luaL_Buffer *b, const jframe *f, int *first)
{
    if (!f) return;
    add_place(b, f->up, first);
    lua_State *L = b->L;
    if (f->key && plain_key(L, f->key)) {
        if (!*first) luaL_addchar(b, '.');
        size_t n;
        const char *k = lua_tolstring(L, f->key, &n);
        luaL_addlstring(b, k, n);
    } else if (f->key) {
        size_t n;
        const char *k = lua_tolstring(L, f->key, &n);
        luaL_addstring(b, "[\"");
        luaL_addlstring(b, k, n);
        luaL_addstring(b, "\"]");
    } else if (f->index) {
        lua_pushfstring(L, "[%I]", (LUAI_UACINT)f->index);
        luaL_addvalue(b);
    } else {
        return;
    }
    *first = 0;
}

/* Raises "json: WHAT in PLACE at byte N" (PLACE left out at the top level). */
static _Noreturn void bad(jin *in, const char *what)
{
    lua_State *L = in->L;
    luaL_checkstack(L, 8, NULL);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addstring(&b, "json: ");
    luaL_addstring(&b, what);
    size_t before = luaL_bufflen(&b);
    luaL_addstring(&b, " in ");
    int first = 1;
    add_place(&b, in->top, &first);
    if (first) luaL_buffsub(&b, luaL_bufflen(&b) - before); /* nowhere in particular */
    lua_pushfstring(L, " at byte %d", (int)(in->p - in->s) + 1);
    luaL_addvalue(&b);
    luaL_pushresult(&b);
    lua_error(L);
    abort(); /* not reached */
}

static void skip_ws(jin *in)
{
    while (in->p < in->end && (*in->p == ' ' || *in->p == '\t' || *in->p == '\r' || *in->p == '\n'))
        in->p++;
}

static unsigned hex4(jin *in, const char *at)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = at + i < in->end ? at[i] : 0;
        int d = c >= '0' && c <= '9'                 ? c - '0'
                : (c | 32) >= 'a' && (c | 32) <= 'f' ? (c | 32) - 'a' + 10
                                                     : -1;
        if (d < 0) bad(in, "bad \\u escape");
        v = v * 16 + (unsigned)d;
    }
    return v;
}

static void add_utf8(luaL_Buffer *b, unsigned long cp)
{
    char u[4];
    int n;
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
    luaL_addlstring(b, u, (size_t)n);
}

static void get_string(jin *in)
{
    luaL_Buffer b;
    luaL_buffinit(in->L, &b);
    in->p++; /* the opening quote */
    for (;;) {
        const char *run = in->p;
        while (in->p < in->end && *in->p != '"' && *in->p != '\\')
            in->p++;
        luaL_addlstring(&b, run, (size_t)(in->p - run));
        if (in->p >= in->end) bad(in, "unterminated string");
        if (*in->p == '"') {
            in->p++;
            luaL_pushresult(&b);
            return;
        }
        char e = in->p + 1 < in->end ? in->p[1] : 0, simple = 0;
        switch (e) {
        case 'b':
            simple = '\b';
            break;
        case 'f':
            simple = '\f';
            break;
        case 'n':
            simple = '\n';
            break;
        case 'r':
            simple = '\r';
            break;
        case 't':
            simple = '\t';
            break;
        case '"':
        case '\\':
        case '/':
            simple = e;
            break;
        }
        if (simple) {
            luaL_addchar(&b, simple);
            in->p += 2;
        } else if (e == 'u') {
            unsigned cp = hex4(in, in->p + 2);
            in->p += 6;
            if (cp >= 0xDC80 && cp <= 0xDCFF) {
                luaL_addchar(&b, (char)(cp - 0xDC00)); /* an escaped raw byte */
            } else if (cp >= 0xD800 && cp <= 0xDBFF && in->end - in->p >= 6 && in->p[0] == '\\' &&
                       in->p[1] == 'u' && (in->p[2] | 32) == 'd' && strchr("cdefCDEF", in->p[3])) {
                unsigned lo = hex4(in, in->p + 2);
                add_utf8(&b, 0x10000 + ((unsigned long)(cp - 0xD800) << 10) + (lo - 0xDC00));
                in->p += 6;
            } else {
                add_utf8(&b, cp);
            }
        } else {
            bad(in, "bad escape");
        }
    }
}

static void get_number(jin *in)
{
    const char *start = in->p;
    if (in->p < in->end && *in->p == '-') in->p++;
    while (in->p < in->end && ((*in->p >= '0' && *in->p <= '9') || strchr(".eE+-", *in->p)))
        in->p++;
    char text[64];
    size_t n = (size_t)(in->p - start);
    if (n == 0 || n >= sizeof text) bad(in, "bad number");
    memcpy(text, start, n);
    text[n] = '\0';
    if (lua_stringtonumber(in->L, text) != n + 1) {
        in->p = start;
        bad(in, "bad number");
    }
    lua_Integer i; /* an integral float comes back as an integer, as math.tointeger does */
    lua_Number f = lua_tonumber(in->L, -1);
    if (!lua_isinteger(in->L, -1) && f == floor(f) && lua_numbertointeger(f, &i)) {
        lua_pop(in->L, 1);
        lua_pushinteger(in->L, i);
    }
}

static void get_value(jin *in);

static void get_container(jin *in, int object)
{
    lua_State *L = in->L;
    if (++in->depth > JSON_MAX_DEPTH) bad(in, "nested too deeply");
    luaL_checkstack(L, 4, "json: nested too deeply");
    lua_newtable(L);
    lua_pushvalue(L, object ? OBJECT_META : ARRAY_META);
    lua_setmetatable(L, -2);
    in->p++;
    skip_ws(in);
    char close = object ? '}' : ']';
    if (in->p < in->end && *in->p == close) {
        in->p++;
        in->depth--;
        return;
    }
    jframe frame = {in->top, 0, 0};
    in->top = &frame;
    for (;;) {
        skip_ws(in);
        if (object) {
            if (in->p >= in->end || *in->p != '"') bad(in, "expected a key");
            const char *at = in->p;
            get_string(in); /* table, key */
            lua_pushvalue(L, -1);
            if (!in->duplicates && lua_rawget(L, -3) != LUA_TNIL) {
                in->p = at;
                lua_pushfstring(L, "duplicate key \"%s\"", lua_tostring(L, -2));
                bad(in, lua_tostring(L, -1));
            }
            lua_pop(L, 1);
            frame.key = lua_gettop(L);
            skip_ws(in);
            if (in->p >= in->end || *in->p != ':') bad(in, "expected ':'");
            in->p++;
            get_value(in);
            lua_rawset(L, -3);
            frame.key = 0;
        } else {
            frame.index++;
            get_value(in);
            lua_rawseti(L, -2, frame.index);
        }
        skip_ws(in);
        char c = in->p < in->end ? *in->p : 0;
        if (c == ',') {
            in->p++;
            continue;
        }
        if (c != close) bad(in, object ? "expected ',' or '}'" : "expected ',' or ']'");
        in->top = frame.up;
        in->p++;
        in->depth--;
        return;
    }
}

static int word(jin *in, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(in->end - in->p) < n || memcmp(in->p, w, n) != 0) return 0;
    in->p += n;
    return 1;
}

static void get_value(jin *in)
{
    skip_ws(in);
    if (in->p >= in->end) bad(in, "unexpected end");
    char c = *in->p;
    if (c == '{' || c == '[') {
        get_container(in, c == '{');
    } else if (c == '"') {
        get_string(in);
    } else if (word(in, "true")) {
        lua_pushboolean(in->L, 1);
    } else if (word(in, "false")) {
        lua_pushboolean(in->L, 0);
    } else if (word(in, "null")) {
        lua_pushvalue(in->L, NULL_VALUE);
    } else if (c == '-' || (c >= '0' && c <= '9')) {
        get_number(in);
    } else {
        char what[32];
        snprintf(what, sizeof what, "unexpected '%c'", c);
        bad(in, what);
    }
}

/* decode(text, duplicates) -> value; duplicates: a key given twice in one object keeps
 * its last value (else it is an error) */
static int l_decode(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    jin in = {L, s, s, s + n, 0, lua_toboolean(L, 2), NULL};
    lua_settop(L, 1);
    get_value(&in);
    skip_ws(&in);
    if (in.p < in.end) bad(&in, "trailing characters");
    return 1;
}

/* tether._json(ARRAY, OBJECT, null) -> encode(value, indent, sorted), decode(text): the
 * codec of tether.json, which owns the markers (ARRAY and OBJECT are the values of the
 * __json field that marks a table as one or the other; null stands for JSON null). */
static int l_json(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checktype(L, 2, LUA_TTABLE);
    luaL_checktype(L, 3, LUA_TTABLE);
    lua_settop(L, 3);
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 2);
    lua_pushvalue(L, 3);
    lua_pushcclosure(L, l_encode, 3);
    for (int i = 1; i <= 2; i++) { /* the metatables decoded arrays and objects get */
        lua_createtable(L, 0, 1);
        lua_pushvalue(L, i);
        lua_setfield(L, -2, "__json");
    }
    lua_pushvalue(L, 3);
    lua_pushcclosure(L, l_decode, 3);
    return 2;
}

const luaL_Reg l_json_funcs[] = {{"_json", l_json}, {NULL, NULL}};
