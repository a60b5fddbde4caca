/* The script runner behind `tether run`, `tether -e`, recipes and the REPL. */
#include "runner.h"

#include "embed.h"
#include "../bindings/l_tether.h"

#include <lualib.h>
#include <lauxlib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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

lua_State *tt_state_new(const tt_options *o)
{
    lua_State *L = luaL_newstate();
    if (!L) return NULL;
    luaL_openlibs(L);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    lua_pushcfunction(L, luaopen_tether);
    lua_setfield(L, -2, "tether");
    lua_pop(L, 1);
    tt_embed_preload(L);
    /* `tether` is a global in scripts, -e chunks and the REPL, as lua -l would make it. */
    luaL_requiref(L, "tether", luaopen_tether, 1);
    set_options(L, o);
    lua_getfield(L, -1, "dryrun");
    lua_pushboolean(L, o->dry_run);
    lua_call(L, 1, 0);
    lua_pop(L, 1);
    return L;
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

static volatile sig_atomic_t interrupted;
static lua_State *active;

static void stop_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    lua_sethook(L, NULL, 0, 0);
    luaL_error(L, "interrupted!");
}

static void on_sigint(int sig)
{
    (void)sig;
#ifdef _WIN32
    signal(SIGINT, on_sigint); /* Windows resets the handler on each delivery */
#endif
    interrupted = 1;
    /* Setting a hook is the one Lua call that is safe from a signal handler. */
    if (active) lua_sethook(active, stop_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

void tt_interrupt_arm(lua_State *L)
{
    active = L;
    interrupted = 0;
#ifdef _WIN32
    signal(SIGINT, on_sigint);
#else
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
#endif
}

void tt_interrupt_disarm(void)
{
    signal(SIGINT, SIG_DFL);
    active = NULL;
}

static int msghandler(lua_State *L)
{
    if (lua_type(L, 1) == LUA_TTABLE) return 1; /* a tether.cli exit request */
    const char *msg = lua_tostring(L, 1);
    if (!msg) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) return 1;
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
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

int tt_call(lua_State *L, int nargs)
{
    int base = lua_gettop(L) - nargs;
    lua_pushcfunction(L, msghandler);
    lua_insert(L, base);
    int st = lua_pcall(L, nargs, 1, base);
    lua_remove(L, base);
    if (st == LUA_OK) {
        int code = lua_isinteger(L, -1) ? (int)lua_tointeger(L, -1) : TT_EXIT_OK;
        lua_pop(L, 1);
        return code;
    }
    if (lua_type(L, -1) == LUA_TTABLE) return exit_request(L);
    print_traceback(lua_tostring(L, -1) ? lua_tostring(L, -1) : "(error)");
    lua_pop(L, 1);
    return TT_EXIT_PROBLEMS;
}

int tt_report_load_error(lua_State *L)
{
    fprintf(stderr, "tether: %s\n", lua_tostring(L, -1));
    lua_pop(L, 1);
    return TT_EXIT_PROBLEMS;
}
