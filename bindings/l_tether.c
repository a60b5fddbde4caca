/* Entry point of the Lua module `tether` (built into the host and as tether.so):
 * assembles the functions of each binding file and the dry-run switch. */
#include "l_tether.h"

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

static const luaL_Reg funcs[] = {
    {"dryrun", l_dryrun},
    {"drylog", l_drylog},
    {NULL, NULL},
};

int luaopen_tether(lua_State *L)
{
    l_open_util(L);
    luaL_newlib(L, funcs);
    l_open_link(L);
    l_open_info(L);
    l_open_fs(L);
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
