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

/* Makes the state (the tether module and the stdlib preloaded, `tether` a global) and
 * runs body(L, ud) in protected mode, as lua.c's pmain; returns body's exit code, or 3
 * when the state cannot be made (out of memory), reported on stderr. */
int tt_main(const tt_options *o, int (*body)(lua_State *L, void *ud), void *ud);

/* Builds the global `arg` (script at argv[script], its arguments after it) and pushes
 * the arguments for `...`; returns how many it pushed. */
int tt_push_args(lua_State *L, int argc, char **argv, int script);

/* The one docall: calls the function below its nargs arguments in protected mode with
 * the message handler, and with SIGINT, SIGTERM and SIGHUP asking it to stop (see
 * runner.c) only while it runs. Returns the lua_pcall status. */
int tt_docall(lua_State *L, int nargs, int nresults);

/* Calls the chunk below its nargs arguments and turns the outcome into an exit code:
 * an integer the chunk returns, 1 for a Lua error, 128 + the signal when stopped by one,
 * or what a tether.cli error asks. recipe: the bundled recipe's name (an error raised by
 * one is an internal error), or NULL for a script; either way the message says
 * file:line, and the traceback shows only with -v. */
int tt_call(lua_State *L, int nargs, const char *recipe);

/* Reports a load/compile failure (the message on top of the stack); returns 1. */
int tt_report_load_error(lua_State *L);

#endif
