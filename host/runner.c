/* The script runner behind `tether run`, `tether -e`, recipes and the REPL. */
#include "runner.h"

#include "embed.h"
#include "../core/cancel.h"
#include "../bindings/l_tether.h"

#include <lualib.h>
#include <lauxlib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The command line's options, for how errors are reported. */
static const tt_options *options;

static void set_options(lua_State *L, const tt_options *o)
{
    lua_createtable(L, 0, 6);
    lua_pushboolean(L, o->dry_run);
    lua_setfield(L, -2, "dry_run");
    lua_pushboolean(L, o->json);
    lua_setfield(L, -2, "json");
    lua_pushboolean(L, o->quiet);
    lua_setfield(L, -2, "quiet");
    lua_pushboolean(L, o->verbose);
    lua_setfield(L, -2, "verbose");
    lua_pushboolean(L, o->progress);
    lua_setfield(L, -2, "progress");
    if (o->journal_dir) {
        lua_pushstring(L, o->journal_dir);
        lua_setfield(L, -2, "journal_dir");
    }
    lua_setfield(L, -2, "options");
}

/* The state's setup and the body, in protected mode (pmain in lua.c): an error outside
 * the chunks that tt_docall runs (out of memory) is reported, never a panic. */
typedef struct pmain_args {
    const tt_options *o;
    int (*body)(lua_State *L, void *ud);
    void *ud;
} pmain_args;

static int pmain(lua_State *L)
{
    const pmain_args *a = lua_touserdata(L, 1);
    lua_pop(L, 1);
    luaL_openlibs(L);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    lua_pushcfunction(L, luaopen_tether_core);
    lua_setfield(L, -2, "tether.core");
    lua_pop(L, 1);
    tt_embed_preload(L); /* tether itself is stdlib/tether/init.lua */
    /* `tether` is a global in scripts, -e chunks and the REPL, as lua -l would make it. */
    lua_getglobal(L, "require");
    lua_pushliteral(L, "tether");
    lua_call(L, 1, 1);
    lua_pushvalue(L, -1);
    lua_setglobal(L, "tether");
    l_seed_random(L);
    set_options(L, a->o); /* tether.options */
    lua_getfield(L, -1, "dryrun");
    lua_pushboolean(L, a->o->dry_run);
    lua_call(L, 1, 0);
    lua_pop(L, 1);
    lua_pushinteger(L, a->body(L, a->ud));
    return 1;
}

int tt_main(const tt_options *o, int (*body)(lua_State *L, void *ud), void *ud)
{
    options = o;
    lua_State *L = luaL_newstate();
    if (!L) {
        fprintf(stderr, "tether: cannot create the Lua state (out of memory)\n");
        return TT_EXIT_FAILED;
    }
    pmain_args a = {o, body, ud};
    lua_pushcfunction(L, pmain);
    lua_pushlightuserdata(L, &a);
    int code;
    if (lua_pcall(L, 1, 1, 0) == LUA_OK) {
        code = (int)lua_tointeger(L, -1);
    } else {
        fprintf(stderr, "tether: %s\n", lua_tostring(L, -1) ? lua_tostring(L, -1) : "(error)");
        code = TT_EXIT_FAILED;
    }
    lua_close(L);
    return code;
}

int tt_push_args(lua_State *L, int argc, char **argv, int script)
{
    lua_createtable(L, argc - script, script + 1);
    for (int i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i - script);
    }
    lua_setglobal(L, "arg");
    int n = argc - script - 1;
    luaL_checkstack(L, n, "too many arguments to script");
    for (int i = script + 1; i < argc; i++)
        lua_pushstring(L, argv[i]);
    return n;
}

/* Signals that ask a run to stop. A migration stops at its next safe point and says how
 * it ended; other code is stopped where it is by a hook that raises "interrupted!" (the
 * one Lua call safe in a signal handler is lua_sethook). The handler is installed only
 * around lua_pcall, and the first signal restores the default, so a second one ends a
 * process that does not stop (lua.c's laction). */
static const int stop_signals[] = {
    SIGINT,
    SIGTERM,
#ifdef SIGHUP
    SIGHUP,
#endif
};
#define N_STOP (sizeof stop_signals / sizeof stop_signals[0])
static lua_State *active;

static void stop_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    lua_sethook(L, NULL, 0, 0);
    luaL_error(L, "interrupted!");
}

static void on_signal(int sig)
{
    tt_cancel = sig;
    signal(sig, SIG_DFL);
    if (!tt_cancel_deferred && active)
        lua_sethook(active, stop_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

#ifdef SIGWINCH
static void on_winch(int sig)
{
    (void)sig;
    tt_resized = 1;
}
#endif

static void arm(lua_State *L)
{
    active = L;
    tt_cancel = 0;
    tt_cancel_deferred = 0;
#ifdef SIGWINCH
    struct sigaction wa;
    memset(&wa, 0, sizeof wa);
    wa.sa_handler = on_winch;
    sigemptyset(&wa.sa_mask);
    wa.sa_flags = SA_RESTART;
    sigaction(SIGWINCH, &wa, NULL);
#endif
    for (size_t i = 0; i < N_STOP; i++) {
#ifdef _WIN32
        signal(stop_signals[i], on_signal);
#else
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(stop_signals[i], &sa, NULL);
#endif
    }
}

static void disarm(void)
{
    for (size_t i = 0; i < N_STOP; i++)
        signal(stop_signals[i], SIG_DFL);
    active = NULL;
}

/* An exit request of tether.cli (a table with an integer `exit`) passes as it is; any
 * other error gets a traceback, and an object that is no string says what it is (as
 * lua.c does: "(error object is a table value)"). */
static int msghandler(lua_State *L)
{
    if (lua_type(L, 1) == LUA_TTABLE) {
        lua_getfield(L, 1, "exit");
        int is_exit = lua_isinteger(L, -1);
        lua_pop(L, 1);
        if (is_exit) return 1;
    }
    const char *msg = lua_tostring(L, 1);
    if (!msg) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
            msg = lua_tostring(L, -1);
        else
            msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

int tt_docall(lua_State *L, int nargs, int nresults)
{
    int base = lua_gettop(L) - nargs;
    lua_pushcfunction(L, msghandler);
    lua_insert(L, base);
    arm(L);
    int st = lua_pcall(L, nargs, nresults, base);
    disarm();
    l_tether_idle();
    lua_remove(L, base);
    return st;
}

/* Keeps the message and the frames that name real files: "[C]: in ?" lines and the
 * host's own frames say nothing to a script author. */
static void print_traceback(const char *tb)
{
    const char *nl = strchr(tb, '\n');
    fprintf(stderr, "tether: %.*s\n", nl ? (int)(nl - tb) : (int)strlen(tb), tb);
    if (!nl) return;
    for (const char *line = nl + 1; *line;) {
        const char *end = strchr(line, '\n');
        int n = end ? (int)(end - line) : (int)strlen(line);
        const char *t = line + strspn(line, " \t");
        if (strncmp(t, "[C]: in ?", 9) != 0) fprintf(stderr, "%.*s\n", n, line);
        if (!end) break;
        line = end + 1;
    }
}

static int exit_request(lua_State *L)
{
    lua_getfield(L, -1, "message");
    const char *msg = lua_tostring(L, -1);
    if (msg && *msg) fprintf(stderr, "tether: %s\n", msg);
    lua_getfield(L, -2, "exit");
    int code = lua_isinteger(L, -1) ? (int)lua_tointeger(L, -1) : TT_EXIT_PROBLEMS;
    lua_pop(L, 3);
    return code;
}

static const char *signal_name(int sig)
{
    switch (sig) {
    case SIGINT:
        return "SIGINT";
    case SIGTERM:
        return "SIGTERM";
#ifdef SIGHUP
    case SIGHUP:
        return "SIGHUP";
#endif
    default:
        return "a signal";
    }
}

/* A user's script that applied plans reports them as a bundled recipe reports its own
 * (tether.run.report_script): --json's object, -n's plan, the run's id; returns the exit
 * code, which a plan that stopped part-way makes 4. */
static int report_script(lua_State *L, int code)
{
    lua_getglobal(L, "require");
    lua_pushliteral(L, "tether.run");
    if (tt_docall(L, 1, 1) != LUA_OK) {
        lua_pop(L, 1);
        return code;
    }
    lua_getfield(L, -1, "report_script");
    lua_pushinteger(L, code);
    if (tt_docall(L, 1, 1) == LUA_OK && lua_isinteger(L, -1)) code = (int)lua_tointeger(L, -1);
    lua_pop(L, 2);
    return code;
}

int tt_call(lua_State *L, int nargs, const char *recipe)
{
    int st = tt_docall(L, nargs, 1);
    if (st == LUA_OK) {
        int code = lua_isinteger(L, -1) ? (int)lua_tointeger(L, -1) : TT_EXIT_OK;
        lua_pop(L, 1);
        return recipe ? code : report_script(L, code);
    }
    if (lua_type(L, -1) == LUA_TTABLE) return exit_request(L);
    const char *tb = lua_tostring(L, -1) ? lua_tostring(L, -1) : "(error)";
    int sig = tt_cancel;
    if (sig && strstr(tb, "interrupted!")) {
        fprintf(stderr, "tether: interrupted (%s)\n", signal_name(sig));
        lua_pop(L, 1);
        return 128 + sig;
    }
    const char *nl = strchr(tb, '\n');
    int line = nl ? (int)(nl - tb) : (int)strlen(tb);
    if (options && options->verbose) {
        if (recipe) fprintf(stderr, "tether: internal error in %s:\n", recipe);
        print_traceback(tb);
    } else if (recipe) {
        /* A bundled recipe raising is a bug in tether, not the user's doing. */
        fprintf(stderr, "tether: internal error in %s: %.*s (run with -v for the traceback)\n",
                recipe, line, tb);
    } else {
        fprintf(stderr, "tether: %.*s\n", line, tb); /* file:line says where; -v says how */
    }
    lua_pop(L, 1);
    return TT_EXIT_PROBLEMS;
}

int tt_report_load_error(lua_State *L)
{
    fprintf(stderr, "tether: %s\n", lua_tostring(L, -1));
    lua_pop(L, 1);
    return TT_EXIT_PROBLEMS;
}
