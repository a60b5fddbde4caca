/* tether._json: Lua values to JSON text and back, over core/json (the codec itself).
 * Tables are written as arrays or objects as tether.json's markers say; decoded arrays
 * and objects come back marked, so they encode back the same way. */
#include "l_tether.h"

#include "../core/json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    lua_State *L;
    tt_json_out out; /* its buffer is a box: a Lua error cannot leak it */
    int sorted;
    int seen; /* stack index of the set of tables being encoded (cycle check) */
} jout;

/* Upvalues of the encoder: the markers tether.json uses. */
#define ARRAY_MARK  lua_upvalueindex(1)
#define OBJECT_MARK lua_upvalueindex(2)
#define NULL_MARK   lua_upvalueindex(3)

static _Noreturn void fail(jout *o, const char *msg, const char *what)
{
    lua_pushfstring(o->L, "json: %s%s", msg, what);
    lua_error(o->L);
    abort(); /* not reached */
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
    tt_json_key *order = n ? malloc((size_t)n * sizeof *order) : NULL;
    if (n && !order) luaL_error(L, "json: out of memory");
    *box = (char *)order;
    for (lua_Integer i = 0; i < n; i++) {
        lua_rawgeti(L, keys, 2 * i + 1);
        order[i].s = lua_tolstring(L, -1, &order[i].n);
        order[i].slot = (size_t)i;
        lua_pop(L, 1);
    }
    if (o->sorted) tt_json_sort_keys(order, (size_t)n);
    tt_json_out *out = &o->out;
    tt_json_put(out, "{", 1);
    for (lua_Integer i = 0; i < n; i++) {
        if (i) tt_json_put(out, ",", 1);
        tt_json_newline(out, depth + 1);
        tt_json_put_string(out, order[i].s, order[i].n);
        tt_json_put(out, out->indent ? ": " : ":", out->indent ? 2 : 1);
        lua_rawgeti(L, keys, 2 * (lua_Integer)order[i].slot + 2);
        lua_gettable(L, idx);
        put_value(o, lua_gettop(L), depth + 1);
        lua_pop(L, 1);
    }
    if (n) tt_json_newline(out, depth);
    tt_json_put(out, "}", 1);
    lua_settop(L, keys - 1);
}

static void put_table(jout *o, int idx, int depth)
{
    lua_State *L = o->L;
    if (depth >= TT_JSON_MAX_DEPTH) fail(o, "nested too deeply", "");
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
        tt_json_put(&o->out, "[", 1);
        for (lua_Integer i = 1; i <= n; i++) {
            if (i > 1) tt_json_put(&o->out, ",", 1);
            tt_json_newline(&o->out, depth + 1);
            lua_rawgeti(L, idx, i);
            put_value(o, lua_gettop(L), depth + 1);
            lua_pop(L, 1);
        }
        if (n) tt_json_newline(&o->out, depth);
        tt_json_put(&o->out, "]", 1);
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
    switch (lua_type(L, idx)) {
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(L, idx, &n);
        tt_json_put_string(&o->out, s, n);
        return;
    }
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx))
            tt_json_put_integer(&o->out, (long long)lua_tointeger(L, idx));
        else
            tt_json_put_number(&o->out, (double)lua_tonumber(L, idx));
        return;
    case LUA_TBOOLEAN:
        lua_toboolean(L, idx) ? tt_json_put(&o->out, "true", 4) : tt_json_put(&o->out, "false", 5);
        return;
    case LUA_TNIL:
        tt_json_put(&o->out, "null", 4);
        return;
    case LUA_TTABLE:
        if (lua_rawequal(L, idx, NULL_MARK))
            tt_json_put(&o->out, "null", 4);
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
    o.out.indent = luaL_optlstring(L, 2, NULL, &o.out.indent_len);
    lua_settop(L, 3);
    lua_newtable(L);
    o.seen = lua_gettop(L);
    o.out.buf = l_newbox(L);
    put_value(&o, 1, 0);
    if (o.out.oom) luaL_error(L, "json: out of memory");
    lua_pushlstring(L, *o.out.buf ? *o.out.buf : "", o.out.len);
    return 1;
}

#define ARRAY_META  lua_upvalueindex(1)
#define OBJECT_META lua_upvalueindex(2)
#define NULL_VALUE  lua_upvalueindex(3)

/* Raises what went wrong, as core/json says it. */
static _Noreturn void json_error(lua_State *L, const tt_json_in *in)
{
    char **box = l_newbox(L);
    size_t n;
    if (tt_json_message(in, box, &n) != 0) luaL_error(L, "json: out of memory");
    lua_pushlstring(L, *box, n);
    lua_error(L);
    abort(); /* not reached */
}

/* Pushes a key or a string, its escapes decoded. */
static void push_string(lua_State *L, const tt_json_tok *t)
{
    if (!t->escaped) {
        lua_pushlstring(L, t->s, t->n);
        return;
    }
    luaL_Buffer b;
    char *p = luaL_buffinitsize(L, &b, t->n);
    luaL_pushresultsize(&b, tt_json_unescape(t->s, t->n, p));
}

static void push_number(lua_State *L, tt_json_in *in, const tt_json_tok *t)
{
    char text[64]; /* core/json gives at most 63 bytes */
    memcpy(text, t->s, t->n);
    text[t->n] = '\0';
    if (lua_stringtonumber(L, text) != t->n + 1) {
        tt_json_fail(in, "bad number", t->at);
        json_error(L, in);
    }
    lua_Integer i; /* an integral float comes back as an integer, as math.tointeger does */
    lua_Number f = lua_tonumber(L, -1);
    if (!lua_isinteger(L, -1) && f == floor(f) && lua_numbertointeger(f, &i)) {
        lua_pop(L, 1);
        lua_pushinteger(L, i);
    }
}

/* Pushes the value a token stands for; 0 when it is not a whole value yet (a container
 * begins: the table is pushed, and it is a value when it ends). */
static int push_token(lua_State *L, tt_json_in *in, const tt_json_tok *t)
{
    switch (t->type) {
    case TT_JSON_OBJECT:
    case TT_JSON_ARRAY:
        luaL_checkstack(L, 4, "json: nested too deeply");
        lua_newtable(L);
        lua_pushvalue(L, t->type == TT_JSON_OBJECT ? OBJECT_META : ARRAY_META);
        lua_setmetatable(L, -2);
        return 0;
    case TT_JSON_STRING:
        push_string(L, t);
        return 1;
    case TT_JSON_NUMBER:
        push_number(L, in, t);
        return 1;
    case TT_JSON_TRUE:
    case TT_JSON_FALSE:
        lua_pushboolean(L, t->type == TT_JSON_TRUE);
        return 1;
    case TT_JSON_NULL:
        lua_pushvalue(L, NULL_VALUE);
        return 1;
    default: /* TT_JSON_END: the container on top is the value */
        return 1;
    }
}

/* decode(text, duplicates) -> value; duplicates: a key given twice in one object keeps
 * its last value (else it is an error). Containers being read are on the stack, each
 * object with the key being read above it. */
static int l_decode(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    int duplicates = lua_toboolean(L, 2);
    lua_settop(L, 2);
    tt_json_in in; /* less C stack than a recursive descent would take */
    tt_json_in_init(&in, s, n);
    for (;;) {
        tt_json_tok t;
        switch (tt_json_next(&in, &t)) {
        case TT_JSON_ERROR:
            json_error(L, &in);
        case TT_JSON_DONE:
            return 1;
        case TT_JSON_KEY:
            push_string(L, &t); /* object, key */
            lua_pushvalue(L, -1);
            if (!duplicates && lua_rawget(L, -3) != LUA_TNIL) {
                tt_json_fail(&in, lua_pushfstring(L, "duplicate key \"%s\"", lua_tostring(L, -2)),
                             t.at);
                json_error(L, &in);
            }
            lua_pop(L, 1);
            continue;
        default:
            if (!push_token(L, &in, &t)) continue;
        }
        int64_t i; /* a value is on top: into its container */
        int kind = tt_json_container(&in, &i);
        if (kind == 2)
            lua_rawset(L, -3);
        else if (kind == 1)
            lua_rawseti(L, -2, (lua_Integer)i);
    }
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
