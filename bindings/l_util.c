/* Helpers shared by every binding file: the one failure helper, argument checks,
 * option tables, dry-run state and boxes for memory that core/ hands back. */
#include "l_tether.h"

#include <stdlib.h>
#include <string.h>

#define BOX_META "tether.box"

int l_fail(lua_State *L, const tt_err *e)
{
    char msg[TT_ERR_PATH_MAX + 512];
    tt_errformat(e, msg, sizeof msg);
    luaL_pushfail(L);
    lua_pushstring(L, msg);
    lua_pushstring(L, tt_errname(e->code));
    return 3;
}

const char *l_checkpath(lua_State *L, int idx)
{
    size_t len;
    const char *s = luaL_checklstring(L, idx, &len);
    if (strlen(s) != len) luaL_argerror(L, idx, "path contains a NUL byte");
    return s;
}

unsigned l_flags(lua_State *L, int idx, const char *const names[], const unsigned bits[])
{
    if (lua_isnoneornil(L, idx)) return 0;
    luaL_checktype(L, idx, LUA_TTABLE);
    unsigned flags = 0;
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        const char *key = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
        int i = 0;
        while (key && names[i] && strcmp(names[i], key) != 0)
            i++;
        if (!key || !names[i]) {
            lua_pushfstring(L, "unknown option '%s'", key ? key : luaL_typename(L, -2));
            luaL_argerror(L, idx, lua_tostring(L, -1));
        }
        if (lua_toboolean(L, -1)) flags |= bits[i];
        lua_pop(L, 1);
    }
    return flags;
}

int l_isdry(lua_State *L, int opts)
{
    if (opts > 0 && lua_istable(L, opts)) {
        int t = lua_getfield(L, opts, "dry");
        int dry = lua_toboolean(L, -1);
        lua_pop(L, 1);
        if (t != LUA_TNIL) return dry;
    }
    lua_getfield(L, LUA_REGISTRYINDEX, DRY_KEY);
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
    lua_pushstring(L, op);
    lua_setfield(L, -2, "op");
    lua_pushstring(L, path);
    lua_setfield(L, -2, "path");
    if (target) {
        lua_pushstring(L, target);
        lua_setfield(L, -2, "target");
    }
    lua_rawseti(L, -2, (lua_Integer)luaL_len(L, -2) + 1);
    lua_pop(L, 1);
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
