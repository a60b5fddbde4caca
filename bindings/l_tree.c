/* tether.copytree, verifytree, treesize, rmtree: whole-tree operations over core/tree.
 * A progress function given in the options is called from inside the C loop; if it
 * raises, the operation stops and the error is re-raised once C has cleaned up. */
#include "l_tether.h"

#include "../core/copy_keep.h"
#include "../core/tree.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct progress_ctx {
    lua_State *L;
    int fn;     /* stack index of the Lua function, 0 for none */
    int opts;   /* stack index of the options (copytree's copied function is read there) */
    int failed; /* the function raised; its error is on the stack */
} progress_ctx;

static int call_progress(void *ud, uint64_t bytes, uint64_t files, const char *path)
{
    progress_ctx *p = ud;
    if (!p->fn || p->failed) return p->failed;
    lua_State *L = p->L;
    lua_pushvalue(L, p->fn);
    lua_createtable(L, 0, 3);
    l_setint(L, "bytes", (lua_Integer)bytes);
    l_setint(L, "files", (lua_Integer)files);
    if (path) l_setstr(L, "path", path);
    l_setbool(L, "sync", path == NULL);                 /* the copy is flushed to disk now */
    if (lua_pcall(L, 1, 0, 0) != LUA_OK) p->failed = 1; /* keep the error for later */
    return p->failed;
}

/* The progress function of the options at idx (pushed, so it stays on the stack). */
static void read_progress(lua_State *L, int idx, progress_ctx *p)
{
    p->L = L;
    p->fn = 0;
    p->failed = 0;
    if (lua_isnoneornil(L, idx)) return;
    if (lua_getfield(L, idx, "progress") != LUA_TNIL)
        p->fn = lua_gettop(L);
    else
        lua_pop(L, 1);
}

static int opt_bool(lua_State *L, int idx, const char *k)
{
    if (lua_isnoneornil(L, idx)) return 0;
    lua_getfield(L, idx, k);
    int v = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return v;
}

static void push_stats(lua_State *L, const tt_tree_stats *s)
{
    lua_createtable(L, 0, 9);
#define F(name) l_setint(L, #name, (lua_Integer)s->name)
    F(bytes);
    F(alloc);
    F(files);
    F(dirs);
    F(links);
    F(hardlinks);
    F(specials);
    F(rewritten);
    F(kept);
#undef F
}

/* opts.keep (the texts `copied` gave, tt_copied_read's lines) into an array owned by a
 * userdata left on the stack. */
static void read_keep(lua_State *L, int idx, tt_copy_opts *o)
{
    if (lua_isnoneornil(L, idx) || lua_getfield(L, idx, "keep") == LUA_TNIL) {
        if (!lua_isnoneornil(L, idx)) lua_pop(L, 1);
        return;
    }
    int list = lua_gettop(L);
    size_t batches = (size_t)luaL_len(L, list), n = 0, bytes = 0;
    for (size_t i = 1; i <= batches; i++) { /* how much they hold, and that they are records */
        size_t len, pb;
        const char *s =
            lua_rawgeti(L, list, (lua_Integer)i) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
        long k = s ? tt_copied_read(s, len, NULL, NULL, &pb) : -1;
        if (k < 0) luaL_error(L, "keep[%d]: not a record of copied files", (int)i);
        n += (size_t)k, bytes += pb;
        lua_pop(L, 1);
    }
    tt_copied *files = lua_newuserdatauv(L, (n ? n : 1) * sizeof *files + bytes, 0);
    char *paths = (char *)(files + (n ? n : 1));
    size_t at = 0, used = 0;
    for (size_t i = 1; i <= batches; i++) {
        size_t len, pb;
        lua_rawgeti(L, list, (lua_Integer)i);
        const char *s = lua_tolstring(L, -1, &len);
        at += (size_t)tt_copied_read(s, len, files + at, paths + used, &pb);
        used += pb;
        lua_pop(L, 1);
    }
    o->keep = files, o->nkeep = n;
}

/* Gives `copied` a batch as the journal keeps it: one text (tt_copied_text). */
static int call_copied(void *ud, const tt_copied *files, size_t n)
{
    progress_ctx *p = ud;
    if (p->failed) return 1;
    lua_State *L = p->L;
    size_t len;
    char *text = tt_copied_text(files, n, &len);
    if (!text) return 1;
    lua_getfield(L, p->opts, "copied");
    lua_pushlstring(L, text, len);
    free(text);
    if (lua_pcall(L, 1, 0, 0) != LUA_OK) p->failed = 1; /* keep the error for later */
    return p->failed;
}

/* copied_records(text) -> how many records of copied files text holds, or nil when it is
 * not such a text (a journal's schema asks). */
static int l_copied_records(lua_State *L)
{
    size_t len, pb;
    const char *s = luaL_checklstring(L, 1, &len);
    long n = tt_copied_read(s, len, NULL, NULL, &pb);
    if (n <= 0) {
        luaL_pushfail(L);
        return 1;
    }
    lua_pushinteger(L, n);
    return 1;
}

/* After a failed operation: re-raise the progress function's error, else fail. */
static int finish(lua_State *L, const progress_ctx *p, const tt_err *e)
{
    if (p->failed) return lua_error(L); /* the error object is on top */
    return l_fail(L, e);
}

/* Each takes only the options it acts on (hash and names_only are verifytree's, the
 * rest copytree's), so one given to the other is an error, not ignored. */
static const l_opt copy_opts[] = {
    {"final", LUA_TSTRING, 0},      {"no_sync", LUA_TBOOLEAN, 0},    {"into", LUA_TBOOLEAN, 0},
    {"progress", LUA_TFUNCTION, 0}, {"dry", LUA_TBOOLEAN, 0},        {"expect", LUA_TTABLE, 0},
    {"expect_dst", LUA_TTABLE, 0},  {"copied", LUA_TFUNCTION, 0},    {"resume", LUA_TBOOLEAN, 0},
    {"keep", LUA_TTABLE, 0},        {"batch_files", LUA_TNUMBER, 0}, {NULL, 0, 0},
};
static const l_opt verify_opts[] = {
    {"final", LUA_TSTRING, 0},
    {"hash", LUA_TBOOLEAN, 0},
    {"names_only", LUA_TBOOLEAN, 0},
    {"progress", LUA_TFUNCTION, 0},
    {NULL, 0, 0},
};

/* Reads the options of copytree or verifytree (spec) at idx into o. */
static void read_copy_opts(lua_State *L, int idx, const l_opt *spec, tt_copy_opts *o,
                           progress_ctx *p, tt_expect *xs, tt_expect *xd)
{
    l_options(L, idx, spec);
    if (!lua_isnoneornil(L, idx)) {
        lua_getfield(L, idx, "final");
        o->final_dst = lua_tostring(L, -1); /* the string stays alive in the options table */
        lua_pop(L, 1);
    }
    o->hash = opt_bool(L, idx, "hash");
    o->no_sync = opt_bool(L, idx, "no_sync");
    o->into = opt_bool(L, idx, "into");
    o->names_only = opt_bool(L, idx, "names_only");
    o->expect_src = l_expect(L, idx, "expect", xs);
    o->expect_dst = l_expect(L, idx, "expect_dst", xd);
    read_progress(L, idx, p);
    o->progress = call_progress;
    o->ud = p;
}

/* copytree(src, dst [, {final, into, expect, expect_dst, progress, no_sync, dry, copied,
 * batch_files, resume, keep}]) */
static int l_copytree(lua_State *L)
{
    const char *src = l_checkpath(L, 1), *dst = l_checkpath(L, 2);
    tt_copy_opts o = {0};
    progress_ctx p;
    tt_expect xs, xd;
    read_copy_opts(L, 3, copy_opts, &o, &p, &xs, &xd);
    o.resume = opt_bool(L, 3, "resume");
    if (o.resume && !o.into) return luaL_argerror(L, 3, "resume needs into");
    if (!lua_isnoneornil(L, 3)) {
        p.opts = 3;
        lua_getfield(L, 3, "batch_files");
        o.batch_files = (unsigned)luaL_optinteger(L, -1, 0);
        o.copied = lua_getfield(L, 3, "copied") == LUA_TFUNCTION ? call_copied : NULL;
        o.copied_ud = &p;
        lua_pop(L, 2);
        read_keep(L, 3, &o);
    }
    tt_tree_stats st;
    tt_err e;
    if (l_isdry(L, 3)) {
        /* Everything the copy reads must be there and readable. */
        if (tt_tree_size(l_confine(L), src, NULL, &st, &e) != 0) return l_fail(L, &e);
        l_record(L, "copytree", dst, src);
        return l_done(L, NULL);
    }
    if (tt_copytree(l_confine(L), src, dst, &o, &st, &e) != 0) return finish(L, &p, &e);
    push_stats(L, &st);
    return 1;
}

/* verifytree(src, copy [, {final, hash, progress}]) */
static int l_verifytree(lua_State *L)
{
    const char *src = l_checkpath(L, 1), *copy = l_checkpath(L, 2);
    tt_copy_opts o = {0};
    progress_ctx p;
    tt_expect xs, xd;
    read_copy_opts(L, 3, verify_opts, &o, &p, &xs, &xd);
    tt_err e;
    if (tt_verifytree(l_confine(L), src, copy, &o, &e) != 0) return finish(L, &p, &e);
    return l_done(L, NULL);
}

/* Collects tt_tree_size's problems into the table at `list`. */
typedef struct problems {
    lua_State *L;
    int list;
} problems;

static void add_problem(void *ud, enum tt_problem kind, const char *path, int err)
{
    static const char *const kinds[] = {NULL,           "mount",    "unreadable", "stuck",
                                        "hardlink_out", "link_out", "changed"};
    problems *pr = ud;
    lua_State *L = pr->L;
    lua_createtable(L, 0, 3);
    l_setstr(L, "kind", kinds[kind]);
    l_setstr(L, "path", path);
    if (err) l_setstr(L, "error", tt_errname(err));
    lua_rawseti(L, pr->list, (lua_Integer)luaL_len(L, pr->list) + 1);
}

static const l_opt size_opts[] = {
    {"check", LUA_TBOOLEAN, 0},
    {"since", LUA_TTABLE, 0},
    {"expect", LUA_TTABLE, 0},
    {"progress", LUA_TFUNCTION, 0},
    {NULL, 0, 0},
};

/* treesize(root [, {check, since = {sec, nsec}, expect, progress}]) -> stats, problems:
 * sizes and counts; with check, what would stop a migration (mounts, unreadable and
 * unremovable entries) and what it should report (hard links and relative links that
 * lead out); with since, entries changed at or after that moment. problems is a list of
 * {kind=, path=, error=} (empty without check or since). */
static int l_treesize(lua_State *L)
{
    const char *root = l_checkpath(L, 1);
    l_options(L, 2, size_opts);
    tt_size_opts o = {0};
    tt_expect x;
    o.expect = l_expect(L, 2, "expect", &x);
    o.check_removable = o.check_readable = opt_bool(L, 2, "check");
    if (!lua_isnoneornil(L, 2) && lua_getfield(L, 2, "since") == LUA_TTABLE) {
        lua_rawgeti(L, -1, 1);
        lua_rawgeti(L, -2, 2);
        o.since = 1;
        o.since_sec = luaL_checkinteger(L, -2);
        o.since_nsec = (int32_t)luaL_optinteger(L, -1, 0);
        lua_pop(L, 3);
    } else if (!lua_isnoneornil(L, 2)) {
        lua_pop(L, 1);
    }
    progress_ctx p;
    read_progress(L, 2, &p);
    o.progress = call_progress;
    o.progress_ud = &p;
    lua_newtable(L);
    problems pr = {L, lua_gettop(L)};
    if (o.check_removable || o.since) o.problem = add_problem, o.ud = &pr;
    tt_tree_stats st;
    tt_err e;
    if (tt_tree_size(l_confine(L), root, &o, &st, &e) != 0) return finish(L, &p, &e);
    push_stats(L, &st);
    lua_pushvalue(L, pr.list);
    return 2;
}

static const l_opt rm_opts[] = {
    {"dry", LUA_TBOOLEAN, 0},
    {"expect", LUA_TTABLE, 0},
    {"chmod", LUA_TBOOLEAN, 0},
    {"progress", LUA_TFUNCTION, 0},
    {NULL, 0, 0},
};

/* rmtree(path [, {dry, expect, chmod, progress}]) */
static int l_rmtree(lua_State *L)
{
    const char *path = l_checkpath(L, 1);
    l_options(L, 2, rm_opts);
    tt_expect x;
    tt_rm_opts o = {.expect = l_expect(L, 2, "expect", &x), .chmod = opt_bool(L, 2, "chmod")};
    progress_ctx p;
    read_progress(L, 2, &p);
    o.progress = call_progress;
    o.ud = &p;
    tt_err e;
    if (l_isdry(L, 2)) {
        tt_size_opts so = {.expect = o.expect, .check_removable = 1};
        tt_tree_stats st;
        if (tt_tree_size(l_confine(L), path, &so, &st, &e) != 0) return l_fail(L, &e);
        l_record(L, "rmtree", path, NULL);
        return l_done(L, NULL);
    }
    if (tt_rmtree(l_confine(L), path, &o, &e) != 0) return finish(L, &p, &e);
    return l_done(L, NULL);
}

const luaL_Reg l_tree_funcs[] = {
    {"copytree", l_copytree},     {"copied_records", l_copied_records},
    {"verifytree", l_verifytree}, {"treesize", l_treesize},
    {"rmtree", l_rmtree},         {NULL, NULL},
};
