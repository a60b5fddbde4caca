/* tether.copytree, verifytree, treesize, rmtree: whole-tree operations over core/copy.
 * A progress function given in the options is called from inside the C loop; if it
 * raises, the operation stops and the error is re-raised once C has cleaned up. */
#include "l_tether.h"

#include "../core/copy.h"

#include <errno.h>
#include <stdlib.h>

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

/* Pushes the answer of tt_same_groups for n paths: the sets of indices (1-based) of
 * files with the same bytes, then the messages of the files that could not be read. */
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
        tt_fail(&e, errs[i], paths[i], NULL, NULL);
        tt_errformat(&e, msg, sizeof msg);
        lua_pushstring(L, msg);
        lua_rawseti(L, -2, ++k);
    }
}

/* The paths of list t (at stack index idx), at most 64, into out; returns how many. */
static lua_Integer list_paths(lua_State *L, int idx, const char **out)
{
    luaL_checktype(L, idx, LUA_TTABLE);
    lua_Integer n = luaL_len(L, idx);
    luaL_argcheck(L, n <= TT_SAME_GROUPS_MAX, 1, "at most 64 files in a list");
    for (lua_Integer i = 1; i <= n; i++) {
        lua_geti(L, idx, i);
        out[i - 1] = l_checkpath(L, -1); /* anchored by the list */
        lua_pop(L, 1);
    }
    return n;
}

/* same_groups({path, ...}) -> {{i, j, ...}, ...}, {message, ...}: the files (at most 64)
 * with exactly the same bytes, as lists of indices into the argument, each file read
 * once; then a message for each file that could not be read (left out of every set). */
static int l_same_groups(lua_State *L)
{
    const char *paths[TT_SAME_GROUPS_MAX];
    int group[TT_SAME_GROUPS_MAX], errs[TT_SAME_GROUPS_MAX];
    lua_Integer n = list_paths(L, 1, paths);
    tt_err e;
    if (tt_same_groups(paths, (size_t)n, group, errs, &e) != 0) return l_fail(L, &e);
    push_groups(L, paths, n, group, errs);
    return 2;
}

/* same_groups_many({{path, ...}, ...}) -> {{sets, unreadable}, ...}: same_groups for each
 * list, the lists shared between two threads. */
static int l_same_groups_many(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_Integer lists = luaL_len(L, 1), total = 0;
    for (lua_Integer i = 1; i <= lists; i++) {
        lua_geti(L, 1, i);
        luaL_argcheck(L, lua_istable(L, -1), 1, "a list of lists of paths");
        total += luaL_len(L, -1);
        lua_pop(L, 1);
    }
    char **box = l_newbox(L); /* one block: paths, starts, group, errs */
    size_t bytes =
        (size_t)total * (sizeof(char *) + 2 * sizeof(int)) + (size_t)(lists + 1) * sizeof(size_t);
    *box = malloc(bytes ? bytes : 1);
    if (!*box) return luaL_error(L, "out of memory");
    const char **paths = (const char **)*box;
    size_t *starts = (size_t *)(paths + total);
    int *group = (int *)(starts + lists + 1), *errs = group + total;
    starts[0] = 0;
    for (lua_Integer i = 1; i <= lists; i++) {
        lua_geti(L, 1, i);
        starts[i] = starts[i - 1] + (size_t)list_paths(L, lua_gettop(L), paths + starts[i - 1]);
        lua_pop(L, 1); /* the strings stay anchored by the argument */
    }
    tt_err e;
    if (tt_same_groups_many(paths, starts, (size_t)lists, group, errs, &e) != 0)
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

static const luaL_Reg funcs[] = {
    {"hash", l_hash},
    {"same_content", l_same_content},
    {"same_groups", l_same_groups},
    {"same_groups_many", l_same_groups_many},
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
