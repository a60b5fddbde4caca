/* tether.walk(root, opts): the tree walker as a generic-for iterator. The walker is a
 * to-be-closed userdata, so leaving the loop early (break, error) releases every
 * directory descriptor at once. Link entries are classified in C when opts.classify is
 * set (audit), otherwise lazily the first time a link field is read; with opts.stat
 * every entry carries tether.info's numbers (size, dev, ino, ...), taken by the walk's
 * thread relative to the directory. */
#include "l_tether.h"

#include "../core/classify.h"
#include "../core/link.h"
#include "../core/scan.h"
#include "../core/walk.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WALKER_META    "tether.walker"
#define ENTRY_META     "tether.entry"
#define PROGRESS_EVERY 16 /* entries yielded between clock checks */

typedef struct l_walker {
    tt_scan *s;
    uint64_t yielded;
    const char **roots; /* canonical roots; the strings live in the uservalue table */
    tt_roots set;
    tt_walk_stats final; /* kept when the walker is released */
    double next_progress;
} l_walker;

static void release(l_walker *lw)
{
    if (lw->s) tt_scan_progress(lw->s, &lw->final, NULL, 0);
    tt_scan_close(lw->s);
    lw->s = NULL;
    free(lw->roots);
    lw->roots = NULL;
}

static int walker_close(lua_State *L)
{
    release(luaL_checkudata(L, 1, WALKER_META));
    return 0;
}

static void push_stats(lua_State *L, const tt_walk_stats *s)
{
    lua_createtable(L, 0, 5);
    l_setint(L, "entries", (lua_Integer)s->entries);
    l_setint(L, "dirs", (lua_Integer)s->dirs);
    l_setint(L, "links", (lua_Integer)s->links);
    l_setint(L, "errors", (lua_Integer)s->errors);
    const tt_cache_stats *c = &s->cache;
    if (c->hits + c->misses + c->fallbacks > 0) {
        lua_createtable(L, 0, 3);
        l_setint(L, "hits", (lua_Integer)c->hits);
        l_setint(L, "misses", (lua_Integer)c->misses);
        l_setint(L, "fallbacks", (lua_Integer)c->fallbacks);
        lua_setfield(L, -2, "target_cache");
    }
}

/* Adds the classification fields to the entry table on top of the stack. */
static void push_class(lua_State *L, const char *target, const tt_class *c)
{
    l_setstr(L, "target", target);
    l_setstr(L, "kind", tt_type_name(c->kind));
    l_setstr(L, "status", tt_status_name(c->status));
    if (c->status == TT_ST_OK)
        l_setstr(L, "target_type", tt_type_name(c->target_type));
    else
        l_setstr(L, "status_error", tt_errname(c->status_err));
    l_setstr(L, "form", tt_form_name(c->absolute));
    l_setbool(L, "cross_fs", c->cross_fs);
    l_setbool(L, "escapes", c->escapes);
    l_setbool(L, "messy", c->messy);
}

static double now(void)
{
    return pf_clock(0);
}

/* Calls opts.progress({entries=, dirs=, links=, errors=, dir=}) about ten times a second. */
static void progress(lua_State *L, l_walker *lw, uint64_t n)
{
    if (n % PROGRESS_EVERY != 0) return;
    if (lua_getiuservalue(L, lua_upvalueindex(1), 1) != LUA_TFUNCTION) {
        lua_pop(L, 1);
        return;
    }
    double t = now();
    if (t < lw->next_progress) {
        lua_pop(L, 1);
        return;
    }
    lw->next_progress = t + 0.1;
    tt_walk_stats st;
    char dir[1024];
    tt_scan_progress(lw->s, &st, dir, sizeof dir);
    const tt_walk_stats *s = &st;
    push_stats(L, s);
    l_setstr(L, "dir", dir);
    lua_call(L, 1, 0);
}

static int walker_next(lua_State *L)
{
    l_walker *lw = luaL_checkudata(L, lua_upvalueindex(1), WALKER_META);
    if (!lw->s) return 0;
    const tt_scan_item *it;
    tt_err e;
    int rc = tt_scan_next(lw->s, &it, &e);
    if (rc == 0) {
        release(lw); /* the end: give the descriptors back now */
        return 0;
    }
    if (rc < 0) {
        l_fail(L, &e);
        lua_pop(L, 2); /* raise the message, not the error name */
        return lua_error(L);
    }
    lua_createtable(L, 0, it->classified ? 16 : 8); /* no rehash while filling */
    lua_pushlstring(L, it->path, it->path_len);
    lua_setfield(L, -2, "path");
    l_setstr(L, "name", it->name);
    l_setstr(L, "type", tt_type_name(it->type));
    lua_pushinteger(L, it->depth);
    lua_setfield(L, -2, "depth");
    if (it->err) l_setstr(L, "error", tt_errname(it->err));
    lua_getiuservalue(L, lua_upvalueindex(1), 2);
    lua_getfield(L, -1, "root");
    lua_setfield(L, -3, "root");
    lua_pop(L, 1);
    if (it->has_stat) l_setstat(L, &it->st);
    if (it->classified)
        push_class(L, it->target, &it->c);
    else if (it->class_err)
        l_setstr(L, "error", tt_errname(it->class_err));
    else if (it->type == TT_SYMLINK || it->type == TT_JUNCTION)
        luaL_setmetatable(L, ENTRY_META);
    progress(L, lw, ++lw->yielded);
    return 1;
}

/* Lazy link fields of an entry that was not classified during the walk. */
static int entry_index(lua_State *L)
{
    static const char *const fields[] = {"target",      "kind", "status",   "status_error",
                                         "target_type", "form", "cross_fs", "escapes",
                                         "messy",       NULL};
    const char *k = lua_tostring(L, 2);
    int i = 0;
    while (k && fields[i] && strcmp(fields[i], k) != 0)
        i++;
    if (!k || !fields[i] || lua_rawgetp(L, 1, (void *)fields) != LUA_TNIL) return 0;
    lua_pop(L, 1);
    if (i == 0) { /* the stored target alone is one readlink, not a classification */
        lua_getfield(L, 1, "path");
        char **target = l_newbox(L);
        tt_err e;
        if (tt_readlink_alloc(lua_tostring(L, -2), target, &e) == 0) {
            lua_pushstring(L, *target);
            lua_pushvalue(L, -1);
            lua_setfield(L, 1, "target");
            return 1;
        }
        lua_settop(L, 2);
    }
    lua_pushboolean(L, 1);
    lua_rawsetp(L, 1, (void *)fields); /* classify once, even if it fails */
    lua_getfield(L, 1, "path");
    const char *path = lua_tostring(L, -1);
    lua_getfield(L, 1, "root");
    const char *root = lua_tostring(L, -1);
    char **real = l_newbox(L), **target = l_newbox(L);
    tt_err e;
    const char *one[1] = {NULL};
    tt_roots roots = {one, 0};
    if (root && tt_realpath(root, real, &e) == 0) one[0] = *real, roots.n = 1;
    size_t cap = 0;
    tt_class c;
    lua_pushvalue(L, 1);
    if (path && tt_classify_path(path, &roots, target, &cap, &c, &e) == 0)
        push_class(L, *target, &c);
    else
        l_setstr(L, "error", tt_errname(e.code));
    lua_pushvalue(L, 2);
    lua_rawget(L, 1);
    return 1;
}

static unsigned type_bits(lua_State *L, int opts)
{
    unsigned bits = 0;
    if (lua_getfield(L, opts, "types") != LUA_TNIL) {
        luaL_argcheck(L, lua_istable(L, -1), 2, "types must be a list of type names");
        for (lua_Integer i = 1; lua_rawgeti(L, -1, i) != LUA_TNIL; i++) {
            static const char *const names[] = {"none",     "file",  "dir", "symlink",
                                                "junction", "other", NULL};
            const char *name = lua_tostring(L, -1);
            int k = 0;
            while (names[k] && (!name || strcmp(names[k], name) != 0))
                k++;
            if (!names[k])
                luaL_argerror(L, 2,
                              lua_pushfstring(L,
                                              "types[%d]: no type '%s' (one of: file, dir, "
                                              "symlink, junction, other)",
                                              (int)i, name ? name : luaL_typename(L, -1)));
            bits |= 1u << k;
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    lua_getfield(L, opts, "links_only");
    if (lua_toboolean(L, -1)) bits |= (1u << TT_SYMLINK) | (1u << TT_JUNCTION);
    lua_pop(L, 1);
    return bits;
}

static const l_opt walk_opts[] = {
    {"follow", LUA_TBOOLEAN, 1},     {"xdev", LUA_TBOOLEAN, 2},
    {"classify", LUA_TBOOLEAN, 4},   {"stat", LUA_TBOOLEAN, 8},
    {"links_only", LUA_TBOOLEAN, 0}, {"max_depth", LUA_TNUMBER, 0},
    {"types", LUA_TTABLE, 0},        {"roots", LUA_TTABLE, 0},
    {"progress", LUA_TFUNCTION, 0},  {NULL, 0, 0},
};

/* The canonical scan roots (opts.roots, default the root itself) for `escapes`. */
static void set_roots(lua_State *L, l_walker *lw, const char *root, int opts)
{
    if (opts)
        lua_getfield(L, opts, "roots");
    else
        lua_pushnil(L);
    int have = lua_istable(L, -1);
    int src = lua_gettop(L);
    lua_Integer n = have ? luaL_len(L, src) : 1;
    lua_createtable(L, (int)n, 1); /* uservalue 2: keeps the strings alive */
    lua_pushstring(L, root);
    lua_setfield(L, -2, "root");
    lw->roots = calloc((size_t)n + 1, sizeof *lw->roots);
    if (!lw->roots) luaL_error(L, "not enough memory");
    for (lua_Integer i = 1; i <= n; i++) {
        const char *r = root;
        if (have) {
            lua_rawgeti(L, src, i);
            r = luaL_checkstring(L, -1);
            lua_pop(L, 1);
        }
        char **real = l_newbox(L);
        tt_err e;
        if (tt_realpath(r, real, &e) != 0) {
            lua_pop(L, 1);
            continue;
        }
        lua_pushstring(L, *real);
        lua_remove(L, -2);
        lw->roots[lw->set.n++] = lua_tostring(L, -1);
        lua_rawseti(L, -2, (lua_Integer)lw->set.n);
    }
    lw->set.paths = lw->roots;
    lua_setiuservalue(L, -3, 2);
    lua_pop(L, 1); /* opts.roots or nil */
}

static int l_walk(lua_State *L)
{
    const char *root = l_checkpath(L, 1);
    int opts = lua_isnoneornil(L, 2) ? 0 : 2;
    if (opts) luaL_checktype(L, 2, LUA_TTABLE);
    unsigned flags = l_options(L, 2, walk_opts);
    tt_walk_opts o = {.max_depth = -1};
    unsigned what = 0;
    l_walker *lw = lua_newuserdatauv(L, sizeof *lw, 2);
    memset(lw, 0, sizeof *lw);
    luaL_setmetatable(L, WALKER_META);
    int ud = lua_gettop(L);
    if (opts) {
        o.follow = (flags & 1) != 0;
        o.xdev = (flags & 2) != 0;
        lua_getfield(L, opts, "max_depth");
        o.max_depth = lua_isnil(L, -1) ? -1 : (int)luaL_checkinteger(L, -1);
        lua_pop(L, 1);
        o.types = type_bits(L, opts);
        if (flags & 4) what |= TT_SCAN_CLASSIFY;
        if (flags & 8) what |= TT_SCAN_STAT;
        if (lua_getfield(L, opts, "progress") != LUA_TNIL) {
            luaL_checktype(L, -1, LUA_TFUNCTION);
            lua_setiuservalue(L, ud, 1);
        } else {
            lua_pop(L, 1);
        }
    }
    set_roots(L, lw, root, opts);
    tt_err e;
    tt_walk_tuning tune = tt_walk_tuning_from_env();
    o.target_cache = tune.target_cache;
    lw->s = tt_scan_open(root, &o, &lw->set, what, tune.threaded, &e);
    if (!lw->s) {
        l_fail(L, &e);
        lua_pop(L, 2);
        return lua_error(L); /* like io.lines: a for loop cannot take nil */
    }
    lua_pushvalue(L, ud);
    lua_pushcclosure(L, walker_next, 1);
    lua_pushnil(L);
    lua_pushnil(L);
    lua_pushvalue(L, ud); /* the closing value of the generic for */
    return 4;
}

static int walker_stats(lua_State *L)
{
    l_walker *lw = luaL_checkudata(L, 1, WALKER_META);
    tt_walk_stats now_st;
    if (lw->s) tt_scan_progress(lw->s, &now_st, NULL, 0);
    push_stats(L, lw->s ? &now_st : &lw->final);
    return 1;
}

static const luaL_Reg walker_methods[] = {
    {"close", walker_close},
    {"stats", walker_stats},
    {NULL, NULL},
};

const luaL_Reg l_walk_funcs[] = {
    {"walk", l_walk},
    {NULL, NULL},
};

void l_open_walk(lua_State *L)
{
    l_newclass(L, WALKER_META, walker_close, walker_methods);
    if (luaL_newmetatable(L, ENTRY_META)) {
        lua_pushcfunction(L, entry_index);
        lua_setfield(L, -2, "__index");
    }
    lua_pop(L, 1);
}
