/* tether.symlink, hardlink, junction, replace, unlink, readlink: argument checking and
 * result translation over core/link. Dry-run is decided here and passed down as a flag,
 * so core/ still checks everything it would check for real. */
#include "l_tether.h"

#include "../core/link.h"

#include <stdlib.h>

static const char *const link_opts[] = {"dir", "relative", "replace", "dry", NULL};
static const unsigned link_bits[] = {TT_LINK_DIR, TT_LINK_RELATIVE, TT_LINK_REPLACE, 0};
static const char *const unlink_opts[] = {"hard", "dry", NULL};
static const unsigned unlink_bits[] = {TT_LINK_HARD, 0};

typedef int (*link_fn)(const char *, const char *, unsigned, tt_err *);

/* The shared shape of every create call: (target, path [, opts]) -> true | fail. */
static int create(lua_State *L, link_fn fn, const char *op)
{
    const char *target = l_checkpath(L, 1);
    const char *path = l_checkpath(L, 2);
    unsigned flags = l_flags(L, 3, link_opts, link_bits);
    int dry = l_isdry(L, 3);
    if (dry) flags |= TT_LINK_DRY;
    tt_err e;
    if (fn(target, path, flags, &e) != 0) return l_fail(L, &e);
    if (dry) l_record(L, op, path, target);
    lua_pushboolean(L, 1);
    return 1;
}

static int l_symlink(lua_State *L)
{
    return create(L, tt_symlink, "symlink");
}

static int l_hardlink(lua_State *L)
{
    return create(L, tt_hardlink, "hardlink");
}

static int l_junction(lua_State *L)
{
    return create(L, tt_junction, "junction");
}

static int l_replace(lua_State *L)
{
    return create(L, tt_replace, "replace");
}

static int l_unlink(lua_State *L)
{
    const char *path = l_checkpath(L, 1);
    unsigned flags = l_flags(L, 2, unlink_opts, unlink_bits);
    int dry = l_isdry(L, 2);
    if (dry) flags |= TT_LINK_DRY;
    tt_err e;
    if (tt_unlink(path, flags, &e) != 0) return l_fail(L, &e);
    if (dry) l_record(L, "unlink", path, NULL);
    lua_pushboolean(L, 1);
    return 1;
}

static int l_readlink(lua_State *L)
{
    const char *path = l_checkpath(L, 1);
    char **box = l_newbox(L);
    tt_err e;
    if (tt_readlink_alloc(path, box, &e) != 0) return l_fail(L, &e);
    lua_pushstring(L, *box);
    return 1;
}

static lua_Integer field_int(lua_State *L, int t, const char *k)
{
    lua_getfield(L, t, k);
    lua_Integer v = lua_tointeger(L, -1);
    if (!lua_isinteger(L, -1)) luaL_error(L, "bad argument: field '%s' must be an integer", k);
    lua_pop(L, 1);
    return v;
}

static const char *const over_opts[] = {"clone", "background", "dry", NULL};
static const unsigned over_bits[] = {TT_LINK_CLONE, TT_LINK_BACKGROUND, 0};

/* link_over(existing, path, expect [, {clone, dry}]): path (a regular file that must still
 * match expect = tether.info(path) as it was planned) becomes a hard link to existing. */
static int l_link_over(lua_State *L)
{
    const char *existing = l_checkpath(L, 1), *path = l_checkpath(L, 2);
    luaL_checktype(L, 3, LUA_TTABLE);
    tt_expect x = {(uint64_t)field_int(L, 3, "dev"),
                   (uint64_t)field_int(L, 3, "ino"),
                   (uint64_t)field_int(L, 3, "size"),
                   field_int(L, 3, "mtime"),
                   field_int(L, 3, "ctime"),
                   (int32_t)field_int(L, 3, "mtime_ns"),
                   (int32_t)field_int(L, 3, "ctime_ns")};
    unsigned flags = l_flags(L, 4, over_opts, over_bits);
    int dry = l_isdry(L, 4);
    tt_err e;
    if (tt_link_over(existing, path, &x, flags | (dry ? TT_LINK_DRY : 0), &e) != 0)
        return l_fail(L, &e);
    if (dry) l_record(L, (flags & TT_LINK_CLONE) ? "clone" : "hardlink", path, existing);
    lua_pushboolean(L, 1);
    return 1;
}

/* link_drain() -> true once every old copy link_over{background = true} queued is
 * removed, or fail naming one that could not be. */
static int l_link_drain(lua_State *L)
{
    tt_err e;
    if (tt_link_drain(&e) != 0) return l_fail(L, &e);
    lua_pushboolean(L, 1);
    return 1;
}

/* unshare(path, meta): path gets its own copy of its content, with meta's mode, uid, gid
 * and mtime/mtime_ns (the inverse of link_over). */
static int l_unshare(lua_State *L)
{
    const char *path = l_checkpath(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    tt_stat m = {0};
    m.mode = (uint32_t)field_int(L, 2, "mode");
    m.uid = (uint32_t)field_int(L, 2, "uid");
    m.gid = (uint32_t)field_int(L, 2, "gid");
    m.mtime_sec = m.atime_sec = field_int(L, 2, "mtime");
    m.mtime_nsec = m.atime_nsec = (int32_t)field_int(L, 2, "mtime_ns");
    if (l_isdry(L, 3)) {
        l_record(L, "unshare", path, NULL);
        lua_pushboolean(L, 1);
        return 1;
    }
    tt_err e;
    if (tt_unshare(path, &m, &e) != 0) return l_fail(L, &e);
    lua_pushboolean(L, 1);
    return 1;
}

/* relative_target(target, linkpath) -> the relative target a link at linkpath needs to
 * reach target, computed from the link's real parent directory. */
static int l_relative_target(lua_State *L)
{
    const char *target = l_checkpath(L, 1), *path = l_checkpath(L, 2);
    char **box = l_newbox(L);
    tt_err e;
    if (tt_relative_target(target, path, box, &e) != 0) return l_fail(L, &e);
    lua_pushstring(L, *box);
    return 1;
}

static const luaL_Reg funcs[] = {
    {"relative_target", l_relative_target},
    {"link_over", l_link_over},
    {"link_drain", l_link_drain},
    {"unshare", l_unshare},
    {"symlink", l_symlink},
    {"hardlink", l_hardlink},
    {"junction", l_junction},
    {"replace", l_replace},
    {"unlink", l_unlink},
    {"readlink", l_readlink},
    {NULL, NULL},
};

void l_open_link(lua_State *L)
{
    luaL_setfuncs(L, funcs, 0);
}
