/* Helpers shared by every binding file: the one failure helper, the one option checker,
 * argument checks, dry-run state, expectations, and boxes for memory that core/ hands
 * back. */
#include "l_tether.h"

#include <stdlib.h>
#include <string.h>

#define BOX_META "tether.box"

/* The fourth value of a failure: {errno, path, reason, hint, message}, so a caller that
 * reports it (the JSON form of an error) never takes the message apart again. */
static void push_error(lua_State *L, const char *name, const char *path, const char *reason,
                       const char *hint, int msg)
{
    lua_createtable(L, 0, 5);
    lua_pushstring(L, name);
    lua_setfield(L, -2, "errno");
    lua_pushstring(L, path);
    lua_setfield(L, -2, "path");
    lua_pushstring(L, reason);
    lua_setfield(L, -2, "reason");
    if (hint) {
        lua_pushstring(L, hint);
        lua_setfield(L, -2, "hint");
    }
    lua_pushvalue(L, msg);
    lua_setfield(L, -2, "message");
}

int l_fail(lua_State *L, const tt_err *e)
{
    char msg[TT_ERR_PATH_MAX + 512], reason[256];
    tt_errformat(e, msg, sizeof msg);
    luaL_pushfail(L);
    lua_pushstring(L, msg);
    lua_pushstring(L, tt_errname(e->code));
    push_error(L, tt_errname(e->code), e->path, tt_errmsg(e, reason, sizeof reason), e->hint,
               lua_gettop(L) - 1);
    return 4;
}

/* tether.fail(ENAME, path, reason [, hint]) -> nil, "PATH: reason (ENAME); hint", ENAME,
 * {errno, path, reason, hint, message}: the Lua twin of l_fail, for the stdlib. */
int l_fail_lua(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1), *path = luaL_checkstring(L, 2);
    const char *reason = luaL_checkstring(L, 3), *hint = luaL_optstring(L, 4, NULL);
    luaL_pushfail(L);
    size_t n = strlen(path), need = tt_quote(path, n, 0, NULL, 0);
    luaL_Buffer b; /* the path as tt_errformat shows it (tt_quote) */
    char *shown = luaL_buffinitsize(L, &b, need + 1);
    tt_quote(path, n, 0, shown, need + 1);
    luaL_pushresultsize(&b, need);
    if (hint)
        lua_pushfstring(L, "%s: %s (%s); %s", lua_tostring(L, -1), reason, name, hint);
    else
        lua_pushfstring(L, "%s: %s (%s)", lua_tostring(L, -1), reason, name);
    lua_remove(L, -2);
    lua_pushstring(L, name);
    push_error(L, name, path, reason, hint, lua_gettop(L) - 1);
    return 4;
}

const char *l_checkpath(lua_State *L, int idx)
{
    size_t len;
    const char *s = luaL_checklstring(L, idx, &len);
    if (strlen(s) != len) luaL_argerror(L, idx, "path contains a NUL byte");
    return s;
}

unsigned l_options(lua_State *L, int idx, const l_opt *spec)
{
    if (lua_isnoneornil(L, idx)) return 0;
    luaL_checktype(L, idx, LUA_TTABLE);
    unsigned bits = 0;
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        const char *key = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
        const l_opt *o = spec;
        while (key && o->name && strcmp(o->name, key) != 0)
            o++;
        if (!key || !o->name) {
            lua_pushfstring(L, "unknown option '%s'", key ? key : luaL_typename(L, -2));
            luaL_argerror(L, idx, lua_tostring(L, -1));
        }
        int t = lua_type(L, -1);
        if (o->type == LUA_TBOOLEAN) {
            if (lua_toboolean(L, -1)) bits |= o->bit;
        } else if (t != o->type && t != LUA_TNIL) {
            lua_pushfstring(L, "option '%s' must be a %s, not a %s", key, lua_typename(L, o->type),
                            luaL_typename(L, -1));
            luaL_argerror(L, idx, lua_tostring(L, -1));
        }
        lua_pop(L, 1);
    }
    return bits;
}

int l_isdry(lua_State *L, int opts)
{
    if (opts <= 0 || !lua_istable(L, opts)) return 0;
    lua_getfield(L, opts, "dry");
    int dry = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return dry;
}

void l_record(lua_State *L, const char *op, const char *path, const char *target)
{
    if (lua_getfield(L, LUA_REGISTRYINDEX, LOG_KEY) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_setfield(L, LUA_REGISTRYINDEX, LOG_KEY);
    }
    lua_createtable(L, 0, 3);
    l_setstr(L, "op", op);
    l_setstr(L, "path", path);
    if (target) l_setstr(L, "target", target);
    lua_rawseti(L, -2, (lua_Integer)luaL_len(L, -2) + 1);
    lua_pop(L, 1);
}

/* Reads integer field k of the table at t into *v; whether it was there. */
static int int_field(lua_State *L, int t, const char *k, lua_Integer *v)
{
    int type = lua_getfield(L, t, k);
    if (type != LUA_TNIL && !lua_isinteger(L, -1))
        luaL_error(L, "bad argument: field '%s' must be an integer", k);
    *v = lua_tointeger(L, -1);
    lua_pop(L, 1);
    return type != LUA_TNIL;
}

const tt_expect *l_expect(lua_State *L, int opts, const char *field, tt_expect *x)
{
    if (opts <= 0 || !lua_istable(L, opts)) return NULL;
    if (lua_getfield(L, opts, field) == LUA_TNIL) {
        lua_pop(L, 1);
        return NULL;
    }
    if (!lua_istable(L, -1)) luaL_error(L, "bad argument: option '%s' must be a table", field);
    int t = lua_gettop(L);
    memset(x, 0, sizeof *x);
    lua_Integer a, b;
    if (lua_getfield(L, t, "type") == LUA_TSTRING) {
        static const char *const names[] = {"none", "file", "dir", "symlink", "junction", "other"};
        for (int i = 0; i < 6; i++)
            if (strcmp(lua_tostring(L, -1), names[i]) == 0)
                x->st.type = (tt_type)i, x->have |= TT_X_TYPE;
    }
    lua_pop(L, 1);
    if (int_field(L, t, "dev", &a) && int_field(L, t, "ino", &b))
        x->have |= TT_X_ID, x->st.dev = (uint64_t)a, x->st.ino = (uint64_t)b;
    if (int_field(L, t, "size", &a)) x->have |= TT_X_SIZE, x->st.size = (uint64_t)a;
    if (int_field(L, t, "mtime", &a)) {
        x->have |= TT_X_MTIME, x->st.mtime_sec = a;
        if (int_field(L, t, "mtime_ns", &b)) x->st.mtime_nsec = (int32_t)b;
    }
    if (int_field(L, t, "ctime", &a)) {
        x->have |= TT_X_CTIME, x->st.ctime_sec = a;
        if (int_field(L, t, "ctime_ns", &b)) x->st.ctime_nsec = (int32_t)b;
    }
    if (int_field(L, t, "mode", &a)) x->have |= TT_X_MODE, x->st.mode = (uint32_t)a;
    if (int_field(L, t, "uid", &a) && int_field(L, t, "gid", &b))
        x->have |= TT_X_OWNER, x->st.uid = (uint32_t)a, x->st.gid = (uint32_t)b;
    lua_pop(L, 1);
    return x;
}

void l_tostat(lua_State *L, int idx, tt_stat *st)
{
    memset(st, 0, sizeof *st);
    lua_Integer v;
    if (int_field(L, idx, "mode", &v)) st->mode = (uint32_t)v;
    if (int_field(L, idx, "uid", &v)) st->uid = (uint32_t)v;
    if (int_field(L, idx, "gid", &v)) st->gid = (uint32_t)v;
    if (int_field(L, idx, "mtime", &v)) st->mtime_sec = st->atime_sec = v;
    if (int_field(L, idx, "mtime_ns", &v)) st->mtime_nsec = st->atime_nsec = (int32_t)v;
}

static int box_gc(lua_State *L)
{
    char **box = luaL_checkudata(L, 1, BOX_META);
    free(*box);
    *box = NULL;
    return 0;
}

char **l_newbox(lua_State *L)
{
    char **box = lua_newuserdatauv(L, sizeof(char *), 0);
    *box = NULL;
    luaL_setmetatable(L, BOX_META);
    return box;
}

void l_setstr(lua_State *L, const char *k, const char *v)
{
    lua_pushstring(L, v);
    lua_setfield(L, -2, k);
}

void l_setint(lua_State *L, const char *k, lua_Integer v)
{
    lua_pushinteger(L, v);
    lua_setfield(L, -2, k);
}

void l_setbool(lua_State *L, const char *k, int v)
{
    lua_pushboolean(L, v);
    lua_setfield(L, -2, k);
}

void l_newclass(lua_State *L, const char *name, lua_CFunction gc, const luaL_Reg *methods)
{
    if (luaL_newmetatable(L, name)) {
        lua_pushcfunction(L, gc);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, gc);
        lua_setfield(L, -2, "__close");
        if (methods) {
            lua_newtable(L);
            luaL_setfuncs(L, methods, 0);
            lua_setfield(L, -2, "__index");
        }
    }
    lua_pop(L, 1);
}

void l_open_util(lua_State *L)
{
    l_newclass(L, BOX_META, box_gc, NULL);
}

void l_setstat(lua_State *L, const tt_stat *st)
{
    static const char *const types[] = {"none", "file", "dir", "symlink", "junction", "other"};
    l_setstr(L, "type", types[st->type <= TT_OTHER ? st->type : TT_OTHER]);
    l_setint(L, "nlink", (lua_Integer)st->nlink);
    l_setint(L, "dev", (lua_Integer)st->dev);
    l_setint(L, "ino", (lua_Integer)st->ino);
    l_setint(L, "size", (lua_Integer)st->size);
    l_setint(L, "mode", (lua_Integer)(st->mode & 07777));
    l_setint(L, "uid", (lua_Integer)st->uid);
    l_setint(L, "gid", (lua_Integer)st->gid);
    l_setint(L, "mtime", (lua_Integer)st->mtime_sec);
    l_setint(L, "mtime_ns", (lua_Integer)st->mtime_nsec);
    l_setint(L, "ctime", (lua_Integer)st->ctime_sec);
    l_setint(L, "ctime_ns", (lua_Integer)st->ctime_nsec);
}

int l_done(lua_State *L, const tt_stat *st)
{
    if (!st) {
        lua_pushboolean(L, 1);
        return 1;
    }
    /* The identity only (what `expect` and a journal need): a table per call is most of
     * a link's cost from Lua, each field counts (bench/symlinks.sh). */
    static const char *const types[] = {"none", "file", "dir", "symlink", "junction", "other"};
    lua_createtable(L, 0, 7);
    l_setstr(L, "type", types[st->type <= TT_OTHER ? st->type : TT_OTHER]);
    l_setint(L, "dev", (lua_Integer)st->dev);
    l_setint(L, "ino", (lua_Integer)st->ino);
    l_setint(L, "mode", (lua_Integer)(st->mode & 07777));
    l_setint(L, "uid", (lua_Integer)st->uid);
    l_setint(L, "ctime", (lua_Integer)st->ctime_sec);
    l_setint(L, "ctime_ns", (lua_Integer)st->ctime_nsec);
    return 1;
}
