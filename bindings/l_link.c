/* tether.symlink, hardlink, junction, replace, unlink, readlink, relative_target:
 * argument checking and result translation over core/link. Dry-run is decided here
 * (l_isdry) and passed down as a flag, so core/ still checks everything it would check
 * for real. */
#include "l_tether.h"

#include "../core/link.h"

#include <stdlib.h>

static const l_opt create_opts[] = {
    {"dir", LUA_TBOOLEAN, TT_LINK_DIR},
    {"relative", LUA_TBOOLEAN, TT_LINK_RELATIVE},
    {"replace", LUA_TBOOLEAN, TT_LINK_REPLACE},
    {"dry", LUA_TBOOLEAN, 0},
    {"loop", LUA_TBOOLEAN, TT_LINK_LOOP},
    {"owner", LUA_TTABLE, 0},
    {NULL, 0, 0},
};
static const l_opt junction_opts[] = {
    {"replace", LUA_TBOOLEAN, TT_LINK_REPLACE},
    {"dry", LUA_TBOOLEAN, 0},
    {NULL, 0, 0},
};
static const l_opt hard_opts[] = {
    {"replace", LUA_TBOOLEAN, TT_LINK_REPLACE},
    {"dry", LUA_TBOOLEAN, 0},
    {"expect", LUA_TTABLE, 0},
    {NULL, 0, 0},
};
static const l_opt replace_opts[] = {
    {"dir", LUA_TBOOLEAN, TT_LINK_DIR},
    {"relative", LUA_TBOOLEAN, TT_LINK_RELATIVE},
    {"dry", LUA_TBOOLEAN, 0},
    {"old", LUA_TSTRING, 0},
    {"expect", LUA_TTABLE, 0},
    {"loop", LUA_TBOOLEAN, TT_LINK_LOOP},
    {NULL, 0, 0},
};

/* The tail every change shares: recorded in a dry run; else true, or the identity of
 * what was made (a table of tether.info's numbers, for a journal to keep). */
static int changed(lua_State *L, int dry, const char *op, const char *path, const char *target,
                   const tt_stat *made)
{
    if (dry) l_record(L, op, path, target);
    return l_done(L, dry ? NULL : made);
}

static const char *opt_string(lua_State *L, int opts, const char *k)
{
    if (lua_isnoneornil(L, opts)) return NULL;
    lua_getfield(L, opts, k);
    const char *s = lua_tostring(L, -1); /* kept alive by the options table */
    lua_pop(L, 1);
    return s;
}

typedef int (*link_maker)(tt_confine *c, const char *target, const char *path, unsigned flags,
                          tt_stat *made, tt_err *e);

/* junction (target, path [, {replace, dry}]: always a directory, always absolute) */
static int make_link(lua_State *L, link_maker make, const char *kind, const l_opt *spec)
{
    const char *target = l_checkpath(L, 1), *path = l_checkpath(L, 2);
    unsigned flags = l_options(L, 3, spec);
    int dry = l_isdry(L, 3);
    tt_stat made;
    tt_err e;
    if (make(l_confine(L), target, path, flags | (dry ? TT_LINK_DRY : 0), &made, &e) != 0)
        return l_fail(L, &e);
    return changed(L, dry, kind, path, target, &made);
}

/* The owner option {uid =, gid =}, or NULL when not given. */
static const tt_owner *opt_owner(lua_State *L, int opts, tt_owner *o)
{
    if (!lua_istable(L, opts)) return NULL;
    if (lua_getfield(L, opts, "owner") == LUA_TNIL) { /* opts.owner (checked a table) */
        lua_pop(L, 1);
        return NULL;
    }
    lua_getfield(L, -1, "uid"); /* opts.owner, its uid */
    lua_getfield(L, -2, "gid"); /* opts.owner, its uid, its gid */
    if (!lua_isinteger(L, -2) || !lua_isinteger(L, -1) || lua_tointeger(L, -2) < 0 ||
        lua_tointeger(L, -1) < 0)
        luaL_argerror(L, opts, "option 'owner' must be {uid = integer, gid = integer}");
    o->uid = (uint32_t)lua_tointeger(L, -2);
    o->gid = (uint32_t)lua_tointeger(L, -1);
    lua_pop(L, 3);
    return o;
}

/* symlink(target, path [, {dir, relative, replace, dry, loop, owner}]) */
static int l_symlink(lua_State *L)
{
    const char *target = l_checkpath(L, 1), *path = l_checkpath(L, 2);
    unsigned flags = l_options(L, 3, create_opts);
    int dry = l_isdry(L, 3);
    tt_owner o;
    const tt_owner *owner = opt_owner(L, 3, &o);
    tt_stat made;
    tt_err e;
    if (tt_symlink_owned(l_confine(L), target, path, flags | (dry ? TT_LINK_DRY : 0), owner, &made,
                         &e) != 0)
        return l_fail(L, &e);
    return changed(L, dry, "symlink", path, target, &made);
}

/* hardlink(existing, path [, {replace, dry, expect}]): expect is what existing must be. */
static int l_hardlink(lua_State *L)
{
    const char *existing = l_checkpath(L, 1), *path = l_checkpath(L, 2);
    unsigned flags = l_options(L, 3, hard_opts);
    int dry = l_isdry(L, 3);
    tt_expect x;
    tt_err e;
    tt_stat made;
    if (tt_hardlink(l_confine(L), existing, path, l_expect(L, 3, "expect", &x),
                    flags | (dry ? TT_LINK_DRY : 0), &made, &e) != 0)
        return l_fail(L, &e);
    return changed(L, dry, "hardlink", path, existing, &made);
}

static int l_junction(lua_State *L)
{
    return make_link(L, tt_junction, "junction", junction_opts);
}

/* replace(target, path [, {dir, relative, dry, old, expect}]): the link at path must
 * still exist, store `old` and be as `expect` says, when they are given. */
static int l_replace(lua_State *L)
{
    const char *target = l_checkpath(L, 1), *path = l_checkpath(L, 2);
    unsigned flags = l_options(L, 3, replace_opts);
    int dry = l_isdry(L, 3);
    tt_expect x;
    tt_err e;
    tt_stat made;
    if (tt_replace(l_confine(L), target, path, opt_string(L, 3, "old"),
                   l_expect(L, 3, "expect", &x), flags | (dry ? TT_LINK_DRY : 0), &made, &e) != 0)
        return l_fail(L, &e);
    return changed(L, dry, "replace", path, target, &made);
}

static const l_opt unlink_opts[] = {
    {"hard", LUA_TBOOLEAN, TT_LINK_HARD},
    {"dry", LUA_TBOOLEAN, 0},
    {"old", LUA_TSTRING, 0},
    {"expect", LUA_TTABLE, 0},
    {NULL, 0, 0},
};

/* unlink(path [, {hard, dry, old, expect}]) -> the identity of what it removed, with its
 * owner (uid, gid: an undo gives a link back to it), or true in a dry run */
static int l_unlink(lua_State *L)
{
    const char *path = l_checkpath(L, 1);
    unsigned flags = l_options(L, 2, unlink_opts);
    int dry = l_isdry(L, 2);
    tt_expect x;
    tt_err e;
    tt_stat removed;
    if (tt_unlink_stat(l_confine(L), path, opt_string(L, 2, "old"), l_expect(L, 2, "expect", &x),
                       flags | (dry ? TT_LINK_DRY : 0), &removed, &e) != 0)
        return l_fail(L, &e);
    changed(L, dry, "unlink", path, NULL, dry ? NULL : &removed);
    if (!dry) l_setint(L, "gid", (lua_Integer)removed.gid); /* (l_done's identity has the uid) */
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

const luaL_Reg l_link_funcs[] = {
    {"relative_target", l_relative_target},
    {"symlink", l_symlink},
    {"hardlink", l_hardlink},
    {"junction", l_junction},
    {"replace", l_replace},
    {"unlink", l_unlink},
    {"readlink", l_readlink},
    {NULL, NULL},
};
