/* Entry point of the C part of the module, tether.core (built into the host and as
 * tether/core.so): assembles the functions of each binding file. */
#include "l_tether.h"

#include "../core/at.h"
#include "../core/cancel.h"
#include "../core/platform/platform.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* tether.drylog() -> the actions recorded in dry-run mode since the last call. */
static int l_drylog(lua_State *L)
{
    if (lua_getfield(L, LUA_REGISTRYINDEX, LOG_KEY) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
    }
    lua_pushnil(L);
    lua_setfield(L, LUA_REGISTRYINDEX, LOG_KEY);
    return 1;
}

/* tether.now([wall]) -> seconds on a monotonic clock, for rates and ETAs; with wall =
 * true, the wall clock with sub-second precision (for ordering run ids). */
static int l_now(lua_State *L)
{
    lua_pushnumber(L, pf_clock(lua_toboolean(L, 1)));
    return 1;
}

/* tether.quote(s [, bare]) -> s itself when it has no control characters, else a
 * %q-style quoted form (core/error.c's tt_quote, the one quoting of a name for output, the
 * one an error message's path gets too). bare: escaped without the quotes (for a whole
 * message that holds names already quoted: only what is left is escaped). */
static int l_quote(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    int bare = lua_toboolean(L, 2);
    size_t need = tt_quote(s, n, bare, NULL, 0);
    if (need == n) { /* nothing to escape: s itself (reports call this for every path) */
        lua_settop(L, 1);
        return 1;
    }
    luaL_Buffer b;
    char *p = luaL_buffinitsize(L, &b, need + 1);
    tt_quote(s, n, bare, p, need + 1);
    luaL_pushresultsize(&b, need);
    return 1;
}

/* interrupted([false]) -> the signal number a stop was asked with (SIGINT, SIGTERM,
 * SIGHUP), or false. Long operations stop by themselves (ECANCELED); scripts ask between
 * steps. With false, the request is forgotten (a rollback after a stop must run). */
static int l_interrupted(lua_State *L)
{
    if (lua_isboolean(L, 1) && !lua_toboolean(L, 1)) tt_cancel = 0;
    int sig = tt_cancel;
    if (sig)
        lua_pushinteger(L, sig);
    else
        lua_pushboolean(L, 0);
    return 1;
}

/* sleep(seconds): waits; a signal asking to stop (see interrupted()) cuts it short. */
static int l_sleep(lua_State *L)
{
    double s = luaL_checknumber(L, 1);
    double end = pf_clock(0) + s;
    while (!tt_cancel) {
        double left = end - pf_clock(0);
        if (left <= 0) break;
        if (left > 0.05) left = 0.05; /* looks at the stop request this often */
        struct timespec ts = {(time_t)left, (long)((left - (double)(time_t)left) * 1e9)};
        nanosleep(&ts, NULL);
    }
    lua_pushboolean(L, !tt_cancel); /* false: a stop signal cut it short */
    return 1;
}

/* defer_interrupts(on): while on, a signal only asks the run to stop (interrupted()
 * says so; long operations stop with ECANCELED) instead of raising in the Lua code, so
 * a run stops at a point of its own choosing. */
static int l_defer_interrupts(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TBOOLEAN);
    tt_cancel_deferred = lua_toboolean(L, 1);
    return 0;
}

/* tether.isatty(fd) -> whether fd (0, 1 or 2) is a terminal. */
static int l_isatty(lua_State *L)
{
    lua_pushboolean(L, pf_isatty((int)luaL_checkinteger(L, 1)));
    return 1;
}

/* tether.term_width() -> the columns of the terminal stderr is on (nil when it is
 * none), and whether it was resized (SIGWINCH) since the last call. */
static int l_term_width(lua_State *L)
{
    int w = pf_term_width(2);
    if (w > 0)
        lua_pushinteger(L, w);
    else
        lua_pushnil(L);
    lua_pushboolean(L, tt_resized != 0);
    tt_resized = 0;
    return 2;
}

static const luaL_Reg funcs[] = {
    {"isatty", l_isatty},
    {"term_width", l_term_width},
    {"now", l_now},
    {"quote", l_quote},
    {"fail", l_fail_lua},
    {"drylog", l_drylog},
    {"interrupted", l_interrupted},
    {"defer_interrupts", l_defer_interrupts},
    {"sleep", l_sleep},
    {NULL, NULL},
};

void l_tether_idle(void)
{
    tt_at_release();
}

void l_seed_random(lua_State *L)
{
    /* Lua's own seed is the time in seconds and addresses that a build may fix: two runs
     * in one second would draw the same run hints and id suffixes. */
    if (lua_getglobal(L, "math") == LUA_TTABLE &&
        lua_getfield(L, -1, "randomseed") == LUA_TFUNCTION) {
        lua_pushinteger(L, (lua_Integer)(pf_clock(1) * 1e6));
        lua_pushinteger(L, (lua_Integer)pf_pid() ^ (lua_Integer)(pf_clock(0) * 1e9));
        lua_call(L, 2, 0);
    } else {
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
}

/* Every function list of the binding files, registered into the table on top. */
static void register_all(lua_State *L)
{
    static const luaL_Reg *const lists[] = {
        funcs,          l_link_funcs,    l_info_funcs, l_fs_funcs,   l_walk_funcs, l_tree_funcs,
        l_dedupe_funcs, l_journal_funcs, l_lock_funcs, l_json_funcs, l_at_funcs,   l_regex_funcs};
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
        luaL_setfuncs(L, lists[i], 0);
}

/* tether.core: the functions written in C. Each takes its own `dry` option and knows no
 * other dry-run state; the module tether (stdlib/tether/init.lua) is built over it. */
int luaopen_tether_core(lua_State *L)
{
    l_open_util(L);
    l_open_walk(L);
    l_open_journal(L);
    l_open_lock(L);
    l_open_regex(L);
    l_open_at(L);
    lua_newtable(L);
    register_all(L);
    lua_pushliteral(L, TETHER_VERSION);
    lua_setfield(L, -2, "version");
#ifdef _WIN32
    lua_pushliteral(L, "windows");
#else
    lua_pushliteral(L, "posix");
#endif
    lua_setfield(L, -2, "platform");
    return 1;
}
