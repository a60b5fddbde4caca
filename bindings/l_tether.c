/* Entry point of the Lua module `tether` (built into the host and as tether.so):
 * assembles the functions of each binding file and the dry-run switch. */
#include "l_tether.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* tether.dryrun([on]) -> whether dry-run mode is on (after setting it, if given). */
static int l_dryrun(lua_State *L)
{
    if (!lua_isnone(L, 1)) {
        luaL_checktype(L, 1, LUA_TBOOLEAN);
        lua_pushvalue(L, 1);
        lua_setfield(L, LUA_REGISTRYINDEX, DRY_KEY);
    }
    lua_pushboolean(L, l_isdry(L, 0));
    return 1;
}

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
    struct timespec ts;
    clock_gettime(lua_toboolean(L, 1) ? CLOCK_REALTIME : CLOCK_MONOTONIC, &ts);
    lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
    return 1;
}

/* tether.quote(s) -> s itself when it has no control characters, else a %q-style
 * quoted form, so one name stays on one line of output. Checked in C because reports
 * call it for every path they print. */
static int l_quote(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    size_t i = 0;
    while (i < n && (unsigned char)s[i] >= 0x20 && s[i] != 0x7f)
        i++;
    if (i == n) {
        lua_settop(L, 1);
        return 1;
    }
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addchar(&b, '"');
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            luaL_addchar(&b, '\\');
            luaL_addchar(&b, (char)c);
        } else if (c == '\n') {
            luaL_addstring(&b, "\\n");
        } else if (c < 0x20 || c == 0x7f) {
            char esc[8];
            snprintf(esc, sizeof esc, "\\%03u", c);
            luaL_addstring(&b, esc);
        } else {
            luaL_addchar(&b, (char)c);
        }
    }
    luaL_addchar(&b, '"');
    luaL_pushresult(&b);
    return 1;
}

/* Functions written in Lua live in the stdlib; the module finds them on first use,
 * so tether.migrate(...) works without a require. */
static int module_index(lua_State *L)
{
    static const char *const lazy[][2] = {{"migrate", "tether.migration"}};
    const char *k = lua_tostring(L, 2);
    for (size_t i = 0; k && i < sizeof lazy / sizeof lazy[0]; i++) {
        if (strcmp(k, lazy[i][0]) != 0) continue;
        lua_getglobal(L, "require");
        lua_pushstring(L, lazy[i][1]);
        lua_call(L, 1, 1);
        lua_getfield(L, -1, k);
        lua_pushvalue(L, -1);
        lua_setfield(L, 1, k);
        return 1;
    }
    return 0;
}

static const luaL_Reg funcs[] = {
    {"now", l_now}, {"quote", l_quote}, {"dryrun", l_dryrun}, {"drylog", l_drylog}, {NULL, NULL},
};

int luaopen_tether(lua_State *L)
{
    l_open_util(L);
    luaL_newlib(L, funcs);
    l_open_link(L);
    l_open_info(L);
    l_open_fs(L);
    l_open_walk(L);
    l_open_copy(L);
    l_open_journal(L);
    l_open_json(L);
    lua_pushliteral(L, TETHER_VERSION);
    lua_setfield(L, -2, "version");
#ifdef _WIN32
    lua_pushliteral(L, "windows");
#else
    lua_pushliteral(L, "posix");
#endif
    lua_setfield(L, -2, "platform");
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, module_index);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
    return 1;
}
