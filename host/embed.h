/* The Lua sources compiled into the binary (stdlib/ modules and scripts/ recipes) and
 * how they are found: embedded copies, or the tree named by TETHER_LUA_PATH. */
#ifndef TETHER_HOST_EMBED_H
#define TETHER_HOST_EMBED_H

#include <lua.h>
#include <stddef.h>

typedef struct tt_embedded {
    const char *name; /* path in the source tree, e.g. "stdlib/tether/path.lua" */
    const char *data;
    size_t len;
} tt_embedded;

extern const tt_embedded tt_embedded_files[];

/* Registers a package.preload loader for every stdlib module ("tether.path", ...). */
void tt_embed_preload(lua_State *L);

/* Loads the file `rel` (e.g. "scripts/link.lua") as a chunk onto the stack: from a
 * TETHER_LUA_PATH tree when it has one, else the embedded copy. Returns a lua_load
 * status, or -1 when there is no such file. */
int tt_embed_load(lua_State *L, const char *rel);

/* Calls fn(name, ud) for every embedded or TETHER_LUA_PATH recipe, sorted, once each. */
void tt_embed_recipes(lua_State *L, void (*fn)(const char *name, const char *summary, void *ud),
                      void *ud);

#endif
