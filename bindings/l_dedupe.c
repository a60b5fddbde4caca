/* tether.hash, same_content, same_groups, same_groups_many, link_over, link_drain and
 * unshare: what dedupe is made of, over core/dedupe. A file to compare is given as its
 * path, or as a table with `path` and the numbers the walk saw (a walk entry with
 * stat = true will do): then it is checked to be that file before it is read. */
#include "l_tether.h"

#include "../core/dedupe.h"
#include "../core/fs.h"

#include <stdlib.h>
#include <string.h>

/* The path and (for a table) the identity of a file to compare, at idx. */
static const char *file_arg(lua_State *L, int idx, tt_expect *x, int *have)
{
    *have = 0;
    if (lua_type(L, idx) == LUA_TSTRING) return l_checkpath(L, idx);
    luaL_checktype(L, idx, LUA_TTABLE);
    lua_getfield(L, idx, "path");
    const char *path = l_checkpath(L, -1); /* anchored by the table */
    lua_pop(L, 1);
    lua_createtable(L, 0, 1);
    lua_pushvalue(L, idx);
    lua_setfield(L, -2, "x");
    if (l_expect(L, lua_gettop(L), "x", x)) {
        x->have &= TT_X_ID | TT_X_SIZE | TT_X_MTIME | TT_X_TYPE; /* the content, not the name */
        *have = 1;
    }
    lua_pop(L, 1);
    return path;
}

/* hash(file [, limit]) -> xxHash64 of the file (or of its first limit bytes). */
static int l_hash(lua_State *L)
{
    tt_expect x;
    int have;
    const char *path = file_arg(L, 1, &x, &have);
    lua_Integer limit = luaL_optinteger(L, 2, 0);
    uint64_t h;
    tt_err e;
    if (tt_hash_file(l_confine(L), path, have ? &x : NULL, (uint64_t)limit, &h, &e) != 0)
        return l_fail(L, &e);
    lua_pushinteger(L, (lua_Integer)h);
    return 1;
}

/* same_content(a, b) -> whether the two files hold the same bytes. */
static int l_same_content(lua_State *L)
{
    const char *a = l_checkpath(L, 1), *b = l_checkpath(L, 2);
    int same;
    tt_err e;
    if (tt_same_content(l_confine(L), a, b, &same, &e) != 0) return l_fail(L, &e);
    lua_pushboolean(L, same);
    return 1;
}

/* Pushes the answer for n files: the sets of indices (1-based) of files with the same
 * bytes, then the messages of the files that could not be read or were not the ones
 * planned. */
static void push_groups(lua_State *L, const char *const *paths, lua_Integer n, const int *group,
                        const int *errs)
{
    lua_newtable(L);
    for (lua_Integer i = 0; i < n; i++) {
        if (group[i] != (int)i) continue; /* each set once, from its first member */
        lua_newtable(L);
        for (lua_Integer j = i, k = 0; j < n; j++)
            if (group[j] == (int)i) {
                lua_pushinteger(L, j + 1);
                lua_rawseti(L, -2, ++k);
            }
        lua_rawseti(L, -2, (lua_Integer)luaL_len(L, -2) + 1);
    }
    lua_newtable(L);
    for (lua_Integer i = 0, k = 0; i < n; i++) {
        if (group[i] != TT_SAME_UNREADABLE) continue;
        char msg[TT_ERR_PATH_MAX + 256];
        tt_err e;
        tt_fail(&e, errs[i], paths[i],
                errs[i] == TT_ECHANGED ? "changed since it was walked; left alone" : NULL, NULL);
        tt_errformat(&e, msg, sizeof msg);
        lua_pushstring(L, msg);
        lua_rawseti(L, -2, ++k);
    }
}

/* The files of list (at stack index idx), at most 64, into paths and xs (whose `have`
 * is 0 for a bare path); returns how many. */
static lua_Integer list_files(lua_State *L, int idx, const char **paths, tt_expect *xs)
{
    luaL_checktype(L, idx, LUA_TTABLE);
    lua_Integer n = luaL_len(L, idx);
    luaL_argcheck(L, n <= TT_SAME_GROUPS_MAX, 1, "at most 64 files in a list");
    for (lua_Integer i = 1; i <= n; i++) {
        lua_geti(L, idx, i);
        int have;
        paths[i - 1] = file_arg(L, lua_gettop(L), &xs[i - 1], &have); /* anchored by the list */
        if (!have) xs[i - 1].have = 0;
        lua_pop(L, 1);
    }
    return n;
}

/* same_groups({file, ...}) -> {{i, j, ...}, ...}, {message, ...}: the files (at most 64)
 * with exactly the same bytes, as lists of indices into the argument, each file read
 * once; then a message for each file that could not be read (left out of every set). */
static int l_same_groups(lua_State *L)
{
    const char *paths[TT_SAME_GROUPS_MAX];
    tt_expect xs[TT_SAME_GROUPS_MAX];
    int group[TT_SAME_GROUPS_MAX], errs[TT_SAME_GROUPS_MAX];
    lua_Integer n = list_files(L, 1, paths, xs);
    tt_err e;
    if (tt_same_groups(l_confine(L), paths, xs, (size_t)n, group, errs, &e) != 0)
        return l_fail(L, &e);
    push_groups(L, paths, n, group, errs);
    return 2;
}

/* same_groups_many({{file, ...}, ...}) -> {{sets, unreadable}, ...}: same_groups for
 * each list, the lists compared on two threads. */
static int l_same_groups_many(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_Integer lists = luaL_len(L, 1), total = 0;
    for (lua_Integer i = 1; i <= lists; i++) {
        lua_geti(L, 1, i);
        luaL_argcheck(L, lua_istable(L, -1), 1, "a list of lists of files");
        total += luaL_len(L, -1);
        lua_pop(L, 1);
    }
    char **box = l_newbox(L); /* one block: paths, expectations, starts, group, errs */
    size_t bytes = (size_t)total * (sizeof(char *) + sizeof(tt_expect) + 2 * sizeof(int)) +
                   (size_t)(lists + 1) * sizeof(size_t);
    *box = malloc(bytes ? bytes : 1);
    if (!*box) return luaL_error(L, "out of memory");
    tt_expect *xs = (tt_expect *)*box;
    const char **paths = (const char **)(xs + total);
    size_t *starts = (size_t *)(paths + total);
    int *group = (int *)(starts + lists + 1), *errs = group + total;
    starts[0] = 0;
    for (lua_Integer i = 1; i <= lists; i++) {
        lua_geti(L, 1, i);
        size_t at = starts[i - 1];
        luaL_argcheck(L, luaL_len(L, -1) <= TT_SAME_GROUPS_MAX, 1, "at most 64 files in a list");
        starts[i] = at + (size_t)list_files(L, lua_gettop(L), paths + at, xs + at);
        lua_pop(L, 1); /* the strings stay anchored by the argument */
    }
    tt_err e;
    if (tt_same_groups_many(l_confine(L), paths, xs, starts, (size_t)lists, group, errs, &e) != 0)
        return l_fail(L, &e);
    lua_createtable(L, (int)lists, 0);
    for (lua_Integer i = 0; i < lists; i++) {
        size_t at = starts[i];
        lua_createtable(L, 2, 0);
        push_groups(L, paths + at, (lua_Integer)(starts[i + 1] - at), group + at, errs + at);
        lua_rawseti(L, -3, 2);
        lua_rawseti(L, -2, 1);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

/* The removals of old copies link_over{background = true} hands on: a work queue owned
 * by the Lua state (a userdata in the registry) from the first such call until
 * link_drain ends it and says how they went; the collector ends one left running, at
 * the latest when the state is closed. */
#define REAPER_META "tether.reaper"
#define REAPER_KEY  "tether.reaper.running"

static int reaper_gc(lua_State *L)
{
    tt_workq **q = luaL_checkudata(L, 1, REAPER_META);
    tt_err ignored; /* no one is left to tell */
    if (*q) tt_workq_finish(*q, &ignored);
    *q = NULL;
    return 0;
}

/* The running reaper, started here when there is none (NULL: old copies are removed
 * by link_over itself). */
static tt_workq *reaper(lua_State *L)
{
    if (lua_getfield(L, LUA_REGISTRYINDEX, REAPER_KEY) == LUA_TUSERDATA) {
        tt_workq *q = *(tt_workq **)lua_touserdata(L, -1);
        lua_pop(L, 1); /* the registry keeps it */
        return q;
    }
    lua_pop(L, 1);
    l_newclass(L, REAPER_META, reaper_gc, NULL);
    tt_workq **q = lua_newuserdatauv(L, sizeof *q, 0); /* the handle before the threads */
    *q = NULL;
    luaL_setmetatable(L, REAPER_META);
    *q = tt_reaper_start();
    lua_setfield(L, LUA_REGISTRYINDEX, REAPER_KEY);
    return *q;
}

enum { BACKGROUND = 1u << 16 }; /* an option of the binding's, not a flag of core's */

static const l_opt over_opts[] = {
    {"clone", LUA_TBOOLEAN, TT_DEDUPE_CLONE},
    {"background", LUA_TBOOLEAN, BACKGROUND},
    {"dry", LUA_TBOOLEAN, 0},
    {"expect_existing", LUA_TTABLE, 0},
    {NULL, 0, 0},
};

/* link_over(existing, path, expect [, {clone, background, expect_existing, dry}]): path (a
 * regular file that must still match expect, e.g. tether.info(path) as it was planned)
 * becomes a hard link to (or a clone of) existing, which must still match
 * expect_existing when given. */
static int l_link_over(lua_State *L)
{
    const char *existing = l_checkpath(L, 1), *path = l_checkpath(L, 2);
    luaL_checktype(L, 3, LUA_TTABLE);
    unsigned flags = l_options(L, 4, over_opts);
    lua_createtable(L, 0, 1);
    lua_pushvalue(L, 3);
    lua_setfield(L, -2, "x");
    tt_expect xpath, xex;
    const tt_expect *xp = l_expect(L, lua_gettop(L), "x", &xpath);
    int dry = l_isdry(L, 4);
    tt_workq *later = (flags & BACKGROUND) && !dry ? reaper(L) : NULL;
    tt_err e;
    if (tt_link_over(l_confine(L), existing, path, l_expect(L, 4, "expect_existing", &xex), xp,
                     (flags & ~BACKGROUND) | (dry ? TT_DEDUPE_DRY : 0), later, &e) != 0)
        return l_fail(L, &e);
    if (dry) l_record(L, (flags & TT_DEDUPE_CLONE) ? "clone" : "hardlink", path, existing);
    return l_done(L, NULL);
}

/* link_drain() -> true once every old copy link_over{background = true} queued is
 * removed, or fail naming one that could not be. */
static int l_link_drain(lua_State *L)
{
    if (lua_getfield(L, LUA_REGISTRYINDEX, REAPER_KEY) != LUA_TUSERDATA) return l_done(L, NULL);
    tt_workq **q = lua_touserdata(L, -1), *running = *q;
    *q = NULL;
    lua_pushnil(L);
    lua_setfield(L, LUA_REGISTRYINDEX, REAPER_KEY); /* the next background call starts one */
    tt_err e;
    if (running && tt_workq_finish(running, &e) != 0) return l_fail(L, &e);
    return l_done(L, NULL);
}

static const l_opt unshare_opts[] = {
    {"dry", LUA_TBOOLEAN, 0}, {"expect", LUA_TTABLE, 0}, {NULL, 0, 0}};

/* unshare(path, meta [, {expect, dry}]): path (which must still be as expect says) gets
 * its own copy of its content, with meta's mode, uid, gid and mtime/mtime_ns (the
 * inverse of link_over). */
static int l_unshare(lua_State *L)
{
    const char *path = l_checkpath(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    l_options(L, 3, unshare_opts);
    tt_stat meta;
    l_tostat(L, 2, &meta);
    tt_expect x;
    const tt_expect *xp = l_expect(L, 3, "expect", &x);
    tt_err e;
    if (l_isdry(L, 3)) { /* it must be there, a regular file, as expected */
        pf_file *f;
        if (tt_file_open(l_confine(L), path, xp, &f, &e) != 0) return l_fail(L, &e);
        pf_file_close(f);
        l_record(L, "unshare", path, NULL);
        return l_done(L, NULL);
    }
    if (tt_unshare(l_confine(L), path, xp, &meta, &e) != 0) return l_fail(L, &e);
    return l_done(L, NULL);
}

const luaL_Reg l_dedupe_funcs[] = {
    {"hash", l_hash},
    {"same_content", l_same_content},
    {"same_groups", l_same_groups},
    {"same_groups_many", l_same_groups_many},
    {"link_over", l_link_over},
    {"link_drain", l_link_drain},
    {"unshare", l_unshare},
    {NULL, NULL},
};
