/* Running Lua for the command line: one state with the tether module and the stdlib
 * preloaded, scripts run with `arg` and `...` as in lua(1), and errors reported as
 * "tether: file:line: message" with a short traceback. */
#ifndef TETHER_HOST_RUNNER_H
#define TETHER_HOST_RUNNER_H

#include <lua.h>

/* Exit codes of the product brief. */
enum {
    TT_EXIT_OK = 0,
    TT_EXIT_PROBLEMS = 1,
    TT_EXIT_USAGE = 2,
    TT_EXIT_FAILED = 3,
    TT_EXIT_PARTIAL = 4
};

typedef struct tt_options {
    int dry_run, json, quiet, verbose, progress;
    const char *journal_dir;
} tt_options;

lua_State *tt_state_new(const tt_options *o);

/* Builds the global `arg` (script at argv[script], its arguments after it) and pushes
 * the arguments for `...`; returns how many it pushed. */
int tt_push_args(lua_State *L, int argc, char **argv, int script);

/* Calls the chunk below its nargs arguments and turns the outcome into an exit code:
 * an integer the chunk returns, 1 for a Lua error, or what a tether.cli error asks. */
int tt_call(lua_State *L, int nargs);

/* Reports a load/compile failure (the message on top of the stack); returns 1. */
int tt_report_load_error(lua_State *L);

/* Installs SIGINT handling around a call so Ctrl-C raises "interrupted!" in Lua. */
void tt_interrupt_arm(lua_State *L);
void tt_interrupt_disarm(void);

#endif
