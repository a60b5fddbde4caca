/* The Lua module `tether`: shared helpers for the binding files and the entry point.
 * Bindings only translate between Lua values and core/; they decide nothing. */
#ifndef TETHER_BINDINGS_H
#define TETHER_BINDINGS_H

#include "../core/error.h"
#include "../core/platform/platform.h"

#include <lua.h>
#include <lauxlib.h>

#define TETHER_VERSION "0.1.0"
#define DRY_KEY        "tether.dryrun"
#define LOG_KEY        "tether.drylog"

int luaopen_tether(lua_State *L);

/* Pushes fail, "PATH: message (ENAME); hint", "ENAME" and returns 3. */
int l_fail(lua_State *L, const tt_err *e);
/* A path argument: a string without embedded NUL bytes. */
const char *l_checkpath(lua_State *L, int idx);

/* Options from the trailing table at idx: each name in `names` that is true sets the
 * matching bit; an unknown name raises, so typos are not silently ignored. */
unsigned l_flags(lua_State *L, int idx, const char *const names[], const unsigned bits[]);
/* Dry run is on for this call: the opts table says dry=true, or tether.dryrun(true). */
int l_isdry(lua_State *L, int opts);
/* In dry-run mode, records an action {op=, path=, target=} in tether.drylog(). */
void l_record(lua_State *L, const char *op, const char *path, const char *target);

/* t[k] = v for the table on top of the stack. */
void l_setstr(lua_State *L, const char *k, const char *v);
void l_setint(lua_State *L, const char *k, lua_Integer v);
void l_setbool(lua_State *L, const char *k, int v);
/* The numbers of tether.info (nlink, dev, ino, size, mode, uid, gid, m/ctime[_ns]). */
void l_setstat(lua_State *L, const tt_stat *st);

/* Creates metatable `name` once: gc as __gc and __close, methods (may be NULL) as __index. */
void l_newclass(lua_State *L, const char *name, lua_CFunction gc, const luaL_Reg *methods);

/* A slot owning malloc'd memory until Lua collects it: make the box before the
 * resource, so a Lua error can never leak what core/ allocated. */
char **l_newbox(lua_State *L);

void l_open_util(lua_State *L);
void l_open_link(lua_State *L);
void l_open_info(lua_State *L);
void l_open_fs(lua_State *L);
void l_open_walk(lua_State *L);
void l_open_copy(lua_State *L);
void l_open_journal(lua_State *L);
void l_open_json(lua_State *L);

#endif
