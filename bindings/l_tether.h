/* tether.core, the C part of the module `tether`: shared helpers for the binding files
 * and the entry point. Bindings only translate between Lua values and core/; they decide
 * nothing. A function that changes something takes an explicit {dry = true} (it then
 * checks everything and changes nothing) and knows no other dry-run state: the module
 * tether (stdlib/tether/init.lua) and tether.run decide when a run is dry. */
#ifndef TETHER_BINDINGS_H
#define TETHER_BINDINGS_H

#include "../core/at.h"
#include "../core/error.h"
#include "../core/platform/platform.h"

#include <lua.h>
#include <lauxlib.h>

#define TETHER_VERSION "0.1.0"
#define LOG_KEY        "tether.drylog"

int luaopen_tether_core(lua_State *L);
/* Between chunks (the host calls it when a script, -e chunk or REPL line is over): lets
 * go of what the module kept open for speed, such as the parent directories of the last
 * paths acted on, so that nothing stays busy after the call that used it. */
void l_tether_idle(void);
/* Seeds Lua's math.random from the clock and the process id (the host, at start). */
void l_seed_random(lua_State *L);

/* Pushes fail, "PATH: message (ENAME); hint", "ENAME" and returns 3. */
int l_fail(lua_State *L, const tt_err *e);
int l_fail_lua(lua_State *L);
/* A path argument: a string without embedded NUL bytes. */
const char *l_checkpath(lua_State *L, int idx);

/* One option of an options table: its name, its Lua type, and for a boolean the bit it
 * sets when true. */
typedef struct l_opt {
    const char *name;
    int type; /* LUA_TBOOLEAN, LUA_TSTRING, LUA_TNUMBER, LUA_TTABLE, LUA_TFUNCTION */
    unsigned bit;
} l_opt;
/* The one option checker: the table at idx (or none) may hold only the names in spec
 * (ended by a NULL name), each with its type; anything else raises, so a typo is never
 * silently ignored. Returns the bits of the booleans that are true. */
unsigned l_options(lua_State *L, int idx, const l_opt *spec);
/* Dry run is on for this call: opts.dry (the table at opts, when there is one). */
int l_isdry(lua_State *L, int opts);
/* In dry-run mode, records an action {op=, path=, target=} in tether.drylog(). */
void l_record(lua_State *L, const char *op, const char *path, const char *target);

/* What opts[field] (a table such as tether.info returns) says an object must still be:
 * each of type, dev+ino, size, mtime(+mtime_ns), ctime(+ctime_ns), mode, uid+gid that is
 * present is checked. Returns x, or NULL when the field is absent. */
const tt_expect *l_expect(lua_State *L, int opts, const char *field, tt_expect *x);
/* A table of tether.info's numbers (as l_setstat writes them) at idx, into st. */
void l_tostat(lua_State *L, int idx, tt_stat *st);

/* The run's roots set by tether.confine (NULL: paths act as typed). */
tt_confine *l_confine(lua_State *L);

/* t[k] = v for the table on top of the stack. */
void l_setstr(lua_State *L, const char *k, const char *v);
void l_setint(lua_State *L, const char *k, lua_Integer v);
void l_setbool(lua_State *L, const char *k, int v);
/* The numbers of tether.info (type, nlink, dev, ino, size, mode, uid, gid, m/ctime[_ns]). */
void l_setstat(lua_State *L, const tt_stat *st);
/* Pushes true, or the identity of st when it is not NULL: {type, dev, ino, mode, uid,
 * ctime, ctime_ns}. */
int l_done(lua_State *L, const tt_stat *st);

/* Creates metatable `name` once: gc as __gc and __close, methods (may be NULL) as __index. */
void l_newclass(lua_State *L, const char *name, lua_CFunction gc, const luaL_Reg *methods);

/* A slot owning malloc'd memory until Lua collects it: make the box before the
 * resource, so a Lua error can never leak what core/ allocated. */
char **l_newbox(lua_State *L);

/* Each binding file's functions, registered into tether.core; the l_open_* functions
 * make their metatables. */
void l_open_util(lua_State *L);
extern const luaL_Reg l_link_funcs[], l_info_funcs[], l_fs_funcs[], l_walk_funcs[], l_tree_funcs[],
    l_dedupe_funcs[], l_journal_funcs[], l_lock_funcs[], l_json_funcs[], l_at_funcs[],
    l_regex_funcs[];
void l_open_walk(lua_State *L);
void l_open_journal(lua_State *L);
void l_open_lock(lua_State *L);
void l_open_regex(lua_State *L);
void l_open_at(lua_State *L);

#endif
