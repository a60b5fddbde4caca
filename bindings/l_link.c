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

static const luaL_Reg funcs[] = {
    {"symlink", l_symlink}, {"hardlink", l_hardlink}, {"junction", l_junction},
    {"replace", l_replace}, {"unlink", l_unlink},     {"readlink", l_readlink},
    {NULL, NULL},
};

void l_open_link(lua_State *L)
{
    luaL_setfuncs(L, funcs, 0);
}
