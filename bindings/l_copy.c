/* tether.copytree, verifytree, treesize, rmtree: whole-tree operations over core/copy.
 * A progress function given in the options is called from inside the C loop; if it
 * raises, the operation stops and the error is re-raised once C has cleaned up. */
#include "l_tether.h"

#include "../core/copy.h"

#include <errno.h>

typedef struct progress_ctx {
    lua_State *L;
    int fn;     /* stack index of the Lua function, 0 for none */
    int failed; /* the function raised; its error is on the stack */
} progress_ctx;

static int call_progress(void *ud, uint64_t bytes, uint64_t files, const char *path)
{
    progress_ctx *p = ud;
    if (!p->fn || p->failed) return p->failed;
    lua_State *L = p->L;
    lua_pushvalue(L, p->fn);
    lua_createtable(L, 0, 3);
    lua_pushinteger(L, (lua_Integer)bytes);
    lua_setfield(L, -2, "bytes");
    lua_pushinteger(L, (lua_Integer)files);
    lua_setfield(L, -2, "files");
    lua_pushstring(L, path ? path : "");
    lua_setfield(L, -2, "path");
    if (lua_pcall(L, 1, 0, 0) != LUA_OK) p->failed = 1; /* keep the error for later */
    return p->failed;
}

/* Reads {final=, hash=, no_sync=, progress=} from the table at idx. */
static void read_opts(lua_State *L, int idx, tt_copy_opts *o, progress_ctx *p)
{
    p->L = L;
    p->fn = 0;
    p->failed = 0;
    o->progress = call_progress;
    o->ud = p;
    if (lua_isnoneornil(L, idx)) return;
    luaL_checktype(L, idx, LUA_TTABLE);
    if (lua_getfield(L, idx, "final") != LUA_TNIL) o->final_dst = luaL_checkstring(L, -1);
    lua_pop(L, 1); /* the string stays alive in the options table */
    lua_getfield(L, idx, "hash");
    o->hash = lua_toboolean(L, -1);
    lua_getfield(L, idx, "no_sync");
    o->no_sync = lua_toboolean(L, -1);
    lua_pop(L, 2);
    if (lua_getfield(L, idx, "progress") != LUA_TNIL) {
        luaL_checktype(L, -1, LUA_TFUNCTION);
        p->fn = lua_gettop(L);
    } else {
        lua_pop(L, 1);
    }
}

static void push_stats(lua_State *L, const tt_tree_stats *s)
{
    lua_createtable(L, 0, 8);
#define F(name)                                                                                    \
    lua_pushinteger(L, (lua_Integer)s->name);                                                      \
    lua_setfield(L, -2, #name)
    F(bytes);
    F(alloc);
    F(files);
    F(dirs);
    F(links);
    F(hardlinks);
    F(specials);
    F(rewritten);
#undef F
}

/* After a failed operation: re-raise the progress function's error, else fail. */
static int finish(lua_State *L, const progress_ctx *p, const tt_err *e)
{
    if (p->failed) return lua_error(L); /* the error object is on top */
    return l_fail(L, e);
}

static int l_copytree(lua_State *L)
{
    const char *src = l_checkpath(L, 1), *dst = l_checkpath(L, 2);
    tt_copy_opts o = {0};
    progress_ctx p;
    read_opts(L, 3, &o, &p);
    if (l_isdry(L, 3)) {
        l_record(L, "copytree", dst, src);
        lua_pushboolean(L, 1);
        return 1;
    }
    tt_tree_stats st;
    tt_err e;
    if (tt_copytree(src, dst, &o, &st, &e) != 0) return finish(L, &p, &e);
    push_stats(L, &st);
    return 1;
}

static int l_verifytree(lua_State *L)
{
    const char *src = l_checkpath(L, 1), *copy = l_checkpath(L, 2);
    tt_copy_opts o = {0};
    progress_ctx p;
    read_opts(L, 3, &o, &p);
    tt_err e;
    if (tt_verifytree(src, copy, &o, &e) != 0) return finish(L, &p, &e);
    lua_pushboolean(L, 1);
    return 1;
}

static int l_treesize(lua_State *L)
{
    const char *root = l_checkpath(L, 1);
    tt_tree_stats st;
    tt_err e;
    if (tt_tree_size(root, &st, &e) != 0) return l_fail(L, &e);
    push_stats(L, &st);
    return 1;
}

static int l_rmtree(lua_State *L)
{
    const char *path = l_checkpath(L, 1);
    if (l_isdry(L, 2)) {
        l_record(L, "rmtree", path, NULL);
        lua_pushboolean(L, 1);
        return 1;
    }
    tt_err e;
    if (tt_rmtree(path, &e) != 0) return l_fail(L, &e);
    lua_pushboolean(L, 1);
    return 1;
}

/* hash(path [, limit]) -> xxHash64 of the file (or of its first limit bytes), an integer. */
static int l_hash(lua_State *L)
{
    const char *path = l_checkpath(L, 1);
    lua_Integer limit = luaL_optinteger(L, 2, 0);
    uint64_t h;
    tt_err e;
    if (tt_hash_file(path, (uint64_t)limit, &h, &e) != 0) return l_fail(L, &e);
    lua_pushinteger(L, (lua_Integer)h);
    return 1;
}

/* same_content(a, b) -> whether the two files hold the same bytes. */
static int l_same_content(lua_State *L)
{
    const char *a = l_checkpath(L, 1), *b = l_checkpath(L, 2);
    int same;
    tt_err e;
    if (tt_same_content(a, b, &same, &e) != 0) return l_fail(L, &e);
    lua_pushboolean(L, same);
    return 1;
}

/* same_groups({path, ...}) -> {{i, j, ...}, ...}, {message, ...}: the files (at most 64)
 * with exactly the same bytes, as lists of indices into the argument, each file read
 * once; then a message for each file that could not be read (left out of every group). */
static int l_same_groups(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_Integer n = luaL_len(L, 1);
    luaL_argcheck(L, n <= TT_SAME_GROUPS_MAX, 1, "at most 64 files at once");
    const char *paths[TT_SAME_GROUPS_MAX];
    int group[TT_SAME_GROUPS_MAX], errs[TT_SAME_GROUPS_MAX];
    for (lua_Integer i = 1; i <= n; i++) {
        lua_geti(L, 1, i);
        paths[i - 1] = l_checkpath(L, -1); /* anchored by the argument table */
        lua_pop(L, 1);
    }
    tt_err e;
    if (tt_same_groups(paths, (size_t)n, group, errs, &e) != 0) return l_fail(L, &e);
    lua_newtable(L);
    for (lua_Integer i = 0; i < n; i++) {
        if (group[i] != (int)i) continue; /* each group once, from its first member */
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
        tt_fail(&e, errs[i], paths[i], NULL, NULL);
        tt_errformat(&e, msg, sizeof msg);
        lua_pushstring(L, msg);
        lua_rawseti(L, -2, ++k);
    }
    return 2;
}

static const luaL_Reg funcs[] = {
    {"hash", l_hash},
    {"same_content", l_same_content},
    {"same_groups", l_same_groups},
    {"copytree", l_copytree},
    {"verifytree", l_verifytree},
    {"treesize", l_treesize},
    {"rmtree", l_rmtree},
    {NULL, NULL},
};

void l_open_copy(lua_State *L)
{
    luaL_setfuncs(L, funcs, 0);
}
