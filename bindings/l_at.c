/* tether.confine(paths [, {expect = {identity, ...}}]): the roots of a run. While the
 * handle is open (a to-be-closed variable, or until :close()), every change any tether
 * function makes must lie inside one of them and is reached from its directory handle
 * without following a link (core/at). Closing it restores the roots before it. */
#include "l_tether.h"

#include "../core/chase.h"

#include <string.h>

#define CONFINE_META "tether.confine"
#define CONFINE_KEY  "tether.confine.active"

typedef struct l_confine_ud {
    tt_confine *c;
    int active; /* it is (or was) the active one, and the one before it is uservalue 1 */
} l_confine_ud;

tt_confine *l_confine(lua_State *L)
{
    lua_getfield(L, LUA_REGISTRYINDEX, CONFINE_KEY);
    l_confine_ud *h = lua_touserdata(L, -1);
    lua_pop(L, 1); /* the registry keeps it alive */
    return h ? h->c : NULL;
}

static int confine_close(lua_State *L)
{
    l_confine_ud *h = luaL_checkudata(L, 1, CONFINE_META);
    if (h->active) {
        /* Back to the roots before this one, if this one is still the active one. */
        lua_getfield(L, LUA_REGISTRYINDEX, CONFINE_KEY);
        int current = lua_rawequal(L, -1, 1);
        lua_pop(L, 1);
        if (current) {
            lua_getiuservalue(L, 1, 1);
            lua_setfield(L, LUA_REGISTRYINDEX, CONFINE_KEY);
        }
        h->active = 0;
    }
    tt_confine_free(h->c);
    h->c = NULL;
    return 0;
}

/* c:roots() -> {{path=, dev=, ino=}, ...}: the roots' absolute spellings and identities,
 * for a journal to check them against later. */
static int confine_roots(lua_State *L)
{
    l_confine_ud *h = luaL_checkudata(L, 1, CONFINE_META);
    size_t n = tt_confine_size(h->c);
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        tt_stat st;
        const char *path = tt_confine_root(h->c, i, &st);
        lua_createtable(L, 0, 4);
        l_setstr(L, "path", path);
        lua_pushboolean(L, tt_confine_root_is_dir(h->c, i));
        lua_setfield(L, -2, "dir");
        l_setint(L, "dev", (lua_Integer)st.dev);
        l_setint(L, "ino", (lua_Integer)st.ino);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

static const l_opt confine_opts[] = {{"expect", LUA_TTABLE, 0}, {NULL, 0, 0}};

static int l_confine_open(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    l_options(L, 2, confine_opts);
    int expects = 0;
    if (!lua_isnoneornil(L, 2)) {
        lua_getfield(L, 2, "expect");
        expects = lua_istable(L, -1) ? lua_gettop(L) : 0;
        if (!expects) lua_pop(L, 1);
    }
    l_confine_ud *h = lua_newuserdatauv(L, sizeof *h, 1);
    h->c = NULL;
    h->active = 0;
    luaL_setmetatable(L, CONFINE_META);
    int ud = lua_gettop(L);
    tt_err e;
    if (!(h->c = tt_confine_new(&e))) return l_fail(L, &e);
    lua_Integer n = luaL_len(L, 1);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_geti(L, 1, i);
        const char *path = l_checkpath(L, -1);
        tt_expect x, *xp = NULL;
        if (expects) {
            lua_geti(L, expects, i);
            int t = lua_gettop(L);
            lua_createtable(L, 0, 1);
            lua_pushvalue(L, t);
            lua_setfield(L, -2, "id");
            xp = (tt_expect *)l_expect(L, lua_gettop(L), "id", &x);
            /* A directory's contents change; what it is and its identity not (an identity a
             * newer run's copy made new is given as its type alone: a directory still). */
            if (xp) xp->have &= TT_X_ID | TT_X_TYPE | TT_X_OWNER;
            lua_pop(L, 2);
        }
        if (tt_confine_add(h->c, path, xp, &e) != 0) return l_fail(L, &e);
        lua_pop(L, 1);
    }
    lua_getfield(L, LUA_REGISTRYINDEX, CONFINE_KEY);
    lua_setiuservalue(L, ud, 1);
    lua_pushvalue(L, ud);
    lua_setfield(L, LUA_REGISTRYINDEX, CONFINE_KEY);
    h->active = 1;
    lua_settop(L, ud);
    return 1;
}

/* link_trusted(link_uid [, dir [, euid]]) -> true, or false and why: "owner" (the link
 * is another user's) or "dir" (root's, in a directory another user can write). dir: the
 * tether.info (uid and mode) of the directory the link is in, nil when it is not there
 * yet; euid: whose run it is (the caller's by default). core/chase's rule. */
static int l_link_trusted(lua_State *L)
{
    uint32_t uid = (uint32_t)luaL_checkinteger(L, 1);
    tt_stat dir = {0};
    int have_dir = !lua_isnoneornil(L, 2);
    if (have_dir) {
        luaL_checktype(L, 2, LUA_TTABLE);
        lua_getfield(L, 2, "uid");
        lua_getfield(L, 2, "mode");
        luaL_argcheck(L, lua_isinteger(L, -2) && lua_isinteger(L, -1), 2,
                      "a directory's uid and mode (tether.info)");
        dir.uid = (uint32_t)lua_tointeger(L, -2);
        dir.mode = (uint32_t)lua_tointeger(L, -1);
        lua_pop(L, 2);
    }
    uint32_t euid = lua_isnoneornil(L, 3) ? pf_euid() : (uint32_t)luaL_checkinteger(L, 3);
    int why = tt_link_trust(uid, have_dir ? &dir : NULL, euid);
    lua_pushboolean(L, why == TT_TRUSTED);
    if (why == TT_TRUSTED) return 1;
    lua_pushstring(L, why == TT_TRUST_NOT_OWNERS ? "owner" : "dir");
    return 2;
}

static const luaL_Reg methods[] = {
    {"roots", confine_roots},
    {"close", confine_close},
    {NULL, NULL},
};

const luaL_Reg l_at_funcs[] = {
    {"confine", l_confine_open},
    {"link_trusted", l_link_trusted},
    {NULL, NULL},
};

void l_open_at(lua_State *L)
{
    l_newclass(L, CONFINE_META, confine_close, methods);
}
