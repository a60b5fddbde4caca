/* Finding the Lua sources of tether: a developer's tree named by TETHER_LUA_PATH
 * (a list of source roots) wins over the copies embedded at build time. Chunk names are
 * file names, so tracebacks point at stdlib/tether/path.lua or scripts/link.lua. */
#include "embed.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#define LIST_SEP ';'
#else
#define LIST_SEP ':'
#endif

/* Pushes "ROOT/rel" for the first TETHER_LUA_PATH root that has the file. */
static int find_on_disk(lua_State *L, const char *rel)
{
    const char *roots = getenv("TETHER_LUA_PATH");
    while (roots && *roots) {
        const char *end = strchr(roots, LIST_SEP);
        size_t n = end ? (size_t)(end - roots) : strlen(roots);
        if (n > 0) {
            lua_pushfstring(L, "%s/%s", lua_pushlstring(L, roots, n), rel);
            lua_remove(L, -2);
            FILE *f = fopen(lua_tostring(L, -1), "rb");
            if (f) {
                fclose(f);
                return 1;
            }
            lua_pop(L, 1);
        }
        roots = end ? end + 1 : NULL;
    }
    return 0;
}

static const tt_embedded *find_embedded(const char *rel)
{
    for (const tt_embedded *f = tt_embedded_files; f->name; f++)
        if (strcmp(f->name, rel) == 0) return f;
    return NULL;
}

int tt_embed_load(lua_State *L, const char *rel)
{
    if (find_on_disk(L, rel)) {
        int st = luaL_loadfilex(L, lua_tostring(L, -1), "t");
        lua_remove(L, -2);
        return st;
    }
    const tt_embedded *f = find_embedded(rel);
    if (!f) return -1;
    lua_pushfstring(L, "@%s", rel);
    int st = luaL_loadbufferx(L, f->data, f->len, lua_tostring(L, -1), "t");
    lua_remove(L, -2);
    return st;
}

/* package.preload loader: upvalue 1 is the file name, argument 1 the module name. */
static int load_module(lua_State *L)
{
    const char *rel = lua_tostring(L, lua_upvalueindex(1));
    if (tt_embed_load(L, rel) != LUA_OK) return lua_error(L);
    lua_pushvalue(L, 1);
    lua_pushstring(L, rel);
    lua_call(L, 2, 1);
    return 1;
}

void tt_embed_preload(lua_State *L)
{
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    for (const tt_embedded *f = tt_embedded_files; f->name; f++) {
        const char *mod = f->name + strlen("stdlib/");
        if (strncmp(f->name, "stdlib/", 7) != 0) continue;
        /* "stdlib/tether/path.lua" -> "tether.path"; "stdlib/tether/init.lua" -> "tether"
         * (as Lua's own searcher finds ?/init.lua) */
        luaL_Buffer b;
        luaL_buffinit(L, &b);
        for (const char *p = mod; *p && strcmp(p, ".lua") != 0 && strcmp(p, "/init.lua") != 0; p++)
            luaL_addchar(&b, *p == '/' ? '.' : *p);
        luaL_pushresult(&b);
        lua_pushstring(L, f->name);
        lua_pushcclosure(L, load_module, 1);
        lua_settable(L, -3);
    }
    lua_pop(L, 1);
}

/* The recipe's one-line summary: its first line, a comment "-- ...". */
static void summary_of(lua_State *L, const char *rel)
{
    char line[256] = "";
    const char *data = NULL;
    size_t len = 0;
    if (find_on_disk(L, rel)) {
        FILE *f = fopen(lua_tostring(L, -1), "rb");
        lua_pop(L, 1);
        if (f && fgets(line, sizeof line, f)) data = line, len = strlen(line);
        if (f) fclose(f);
    } else {
        const tt_embedded *e = find_embedded(rel);
        if (e) data = e->data, len = e->len;
    }
    size_t n = 0;
    while (data && n < len && data[n] != '\n')
        n++;
    if (n >= 3 && strncmp(data, "-- ", 3) == 0)
        lua_pushlstring(L, data + 3, n - 3);
    else
        lua_pushliteral(L, "");
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void tt_embed_recipes(lua_State *L, void (*fn)(const char *name, const char *summary, void *ud),
                      void *ud)
{
    size_t n = 0;
    for (const tt_embedded *f = tt_embedded_files; f->name; f++)
        n++;
    const char **names = lua_newuserdatauv(L, (n + 1) * sizeof *names, 0);
    size_t k = 0;
    for (const tt_embedded *f = tt_embedded_files; f->name; f++)
        if (strncmp(f->name, "scripts/", 8) == 0) names[k++] = f->name;
    qsort(names, k, sizeof *names, cmp);
    for (size_t i = 0; i < k; i++) {
        summary_of(L, names[i]);
        const char *base = names[i] + 8;
        lua_pushlstring(L, base, strlen(base) - 4);
        fn(lua_tostring(L, -1), lua_tostring(L, -2), ud);
        lua_pop(L, 2);
    }
    lua_pop(L, 1);
}
