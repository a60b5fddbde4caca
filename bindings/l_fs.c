/* tether.mkdir and tether.mkdtemp: the directory helpers scripts need beside links
 * (Lua's os library has no mkdir). */
#include "l_tether.h"

#include "../core/fs.h"
#include "../core/path.h"

#include <stdint.h>
#include <stdlib.h>

static const char *const mkdir_opts[] = {"parents", "dry", NULL};
static const unsigned mkdir_bits[] = {TT_MKDIR_PARENTS, 0};

static int l_mkdir(lua_State *L)
{
    const char *path = l_checkpath(L, 1);
    unsigned flags = l_flags(L, 2, mkdir_opts, mkdir_bits);
    int dry = l_isdry(L, 2);
    tt_err e;
    if (tt_mkdir(path, flags | (dry ? TT_MKDIR_DRY : 0), &e) != 0) return l_fail(L, &e);
    if (dry) l_record(L, "mkdir", path, NULL);
    lua_pushboolean(L, 1);
    return 1;
}

/* mkdtemp([prefix]) -> path of a new private directory (default under $TMPDIR, on
 * Windows %TEMP%, else /tmp). */
static int l_mkdtemp(lua_State *L)
{
    const char *prefix = luaL_optstring(L, 1, NULL);
    if (!prefix) {
        const char *tmp = getenv("TMPDIR");
#ifdef _WIN32
        if (!tmp || !*tmp) tmp = getenv("TEMP");
        if (!tmp || !*tmp) tmp = getenv("TMP");
#endif
        prefix = lua_pushfstring(L, "%s%stether-", tmp && *tmp ? tmp : "/tmp", TT_SEP_STR);
    }
    char **box = l_newbox(L);
    tt_err e;
    if (tt_mkdtemp(prefix, box, &e) != 0) return l_fail(L, &e);
    lua_pushstring(L, *box);
    return 1;
}

/* rename(from, to): rename(2) with tether's conventions and dry-run. */
static int l_rename(lua_State *L)
{
    const char *from = l_checkpath(L, 1), *to = l_checkpath(L, 2);
    if (l_isdry(L, 3)) {
        l_record(L, "rename", to, from);
        lua_pushboolean(L, 1);
        return 1;
    }
    tt_err e;
    if (tt_rename(from, to, &e) != 0) return l_fail(L, &e);
    lua_pushboolean(L, 1);
    return 1;
}

/* statfs(path) -> {avail=, total=} in bytes. */
static int l_statfs(lua_State *L)
{
    const char *path = l_checkpath(L, 1);
    uint64_t avail, total;
    tt_err e;
    if (tt_statfs(path, &avail, &total, &e) != 0) return l_fail(L, &e);
    lua_createtable(L, 0, 2);
    lua_pushinteger(L, (lua_Integer)avail);
    lua_setfield(L, -2, "avail");
    lua_pushinteger(L, (lua_Integer)total);
    lua_setfield(L, -2, "total");
    lua_pushinteger(L, (lua_Integer)tt_link_max(path));
    lua_setfield(L, -2, "link_max");
    return 1;
}

static int l_pid(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)tt_pid());
    return 1;
}

static const luaL_Reg funcs[] = {
    {"pid", l_pid},     {"rename", l_rename},   {"statfs", l_statfs},
    {"mkdir", l_mkdir}, {"mkdtemp", l_mkdtemp}, {NULL, NULL},
};

void l_open_fs(lua_State *L)
{
    luaL_setfuncs(L, funcs, 0);
}
