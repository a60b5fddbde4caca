/* The interactive prompt: libedit line editing with persistent history, expressions
 * printed, multi-line chunks, Tab completion of globals and fields, Ctrl-C to stop. */
#ifndef TETHER_HOST_REPL_H
#define TETHER_HOST_REPL_H

#include <lua.h>

int tt_repl(lua_State *L);

#endif
