/* tether.info (alias lstat), exists, islink, realpath: looking at paths without
 * changing anything. A link is inspected, never followed, unless asked. */
#include "l_tether.h"

#include "../core/info.h"
#include "../core/link.h"

#include <errno.h>

static int l_info(lua_State *L)
{
    const char *path = l_checkpath(L, 1);
    char **box = l_newbox(L);
    tt_info in;
    tt_err e;
    /* Inside a run's roots, looked at from their handles, as a change would reach it. */
    if (tt_info_in(l_confine(L), path, &in, box, &e) != 0) return l_fail(L, &e);
    int link = in.st.type == TT_SYMLINK || in.st.type == TT_JUNCTION;
    int has_target = link && *box; /* a link that vanished in between has no target */
    lua_createtable(L, 0, 16);
    l_setstr(L, "path", path);
    l_setstr(L, "type", tt_type_name(in.st.type));
    l_setstat(L, &in.st);
    if (link) {
        if (has_target) l_setstr(L, "target", *box);
        l_setstr(L, "status", tt_status_name(in.status));
        if (in.status == TT_ST_OK) {
            l_setstr(L, "target_type", tt_type_name(in.target.type));
            l_setint(L, "target_dev", (lua_Integer)in.target.dev); /* what it leads to */
            l_setint(L, "target_ino", (lua_Integer)in.target.ino);
        } else
            l_setstr(L, "status_error", tt_errname(in.status_err));
    }
    return 1;
}

/* true/false for "there is (no) such path"; other failures (EACCES, ELOOP when
 * following) are errors the caller must see, not a quiet false. */
static int answer(lua_State *L, const char *path, int err, int yes)
{
    if (err == ENOENT || err == ENOTDIR) {
        lua_pushboolean(L, 0);
        return 1;
    }
    if (err) {
        tt_err e;
        tt_fail(&e, err, path, NULL, NULL);
        return l_fail(L, &e);
    }
    lua_pushboolean(L, yes);
    return 1;
}

static const l_opt exists_opts[] = {{"follow", LUA_TBOOLEAN, 1}, {NULL, 0, 0}};

static int l_exists(lua_State *L)
{
    const char *path = l_checkpath(L, 1);
    unsigned follow = l_options(L, 2, exists_opts);
    tt_stat st;
    return answer(L, path, tt_stat_path(path, (int)follow, &st), 1);
}

static int l_islink(lua_State *L)
{
    const char *path = l_checkpath(L, 1);
    tt_info in;
    tt_err e;
    int err = tt_info_get(path, &in, &e) == 0 ? 0 : e.code;
    return answer(L, path, err, in.st.type == TT_SYMLINK || in.st.type == TT_JUNCTION);
}

static int l_realpath(lua_State *L)
{
    const char *path = l_checkpath(L, 1);
    char **box = l_newbox(L);
    tt_err e;
    if (tt_realpath(path, box, &e) != 0) return l_fail(L, &e);
    lua_pushstring(L, *box);
    return 1;
}

const luaL_Reg l_info_funcs[] = {
    {"info", l_info},     {"lstat", l_info},        {"exists", l_exists},
    {"islink", l_islink}, {"realpath", l_realpath}, {NULL, NULL},
};
