/* The tether command line: global options, then a command (run, -e, repl, recipes,
 * help) or a bundled recipe. Everything past parsing happens in Lua. */
#include "embed.h"
#include "repl.h"
#include "runner.h"
#include "../bindings/l_tether.h"
#include "../core/error.h"
#include "../core/platform/platform.h"

#include <errno.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef _WIN32
#include <windows.h>
#include <shellapi.h>

/* Windows hands main() its arguments in the ANSI code page; tether works in UTF-8, so
 * they are taken again from the UTF-16 command line (kept for the whole run). */
static char **utf8_argv(int *argc)
{
    wchar_t **w = CommandLineToArgvW(GetCommandLineW(), argc);
    char **out = w ? calloc((size_t)*argc + 1, sizeof *out) : NULL;
    for (int i = 0; out && i < *argc; i++) {
        int n = WideCharToMultiByte(CP_UTF8, 0, w[i], -1, NULL, 0, NULL, NULL);
        out[i] = malloc((size_t)n);
        if (!out[i]) return NULL;
        WideCharToMultiByte(CP_UTF8, 0, w[i], -1, out[i], n, NULL, NULL);
    }
    LocalFree(w);
    return out;
}
#endif

static const char usage[] =
    "usage: tether [OPTIONS] COMMAND [ARGS...]\n"
    "\n"
    "Move folders anywhere and leave a link behind; script every link in Lua.\n"
    "\n"
    "Commands:\n"
    "  run SCRIPT [ARGS...]   run a Lua script (`arg` and `...` as in lua(1)); SCRIPT - reads "
    "stdin\n"
    "  -e CODE [ARGS...]      run a chunk of Lua\n"
    "  repl                   interactive Lua prompt with the tether module loaded\n"
    "                         (the default when stdin is a terminal and no command is given;\n"
    "                         otherwise a script is read from stdin)\n"
    "  recipes                list the bundled recipes\n"
    "  help [RECIPE]          this text, or how to use one recipe\n"
    "  RECIPE [ARGS...]       run a bundled recipe, e.g. tether link TARGET PATH\n"
    "\n"
    "Options:\n"
    "  -n, --dry-run          check and print what would change, change nothing\n"
    "      --json             machine-readable output\n"
    "  -q, --quiet            print only errors\n"
    "  -v, --verbose          print more detail\n"
    "      --no-progress      no progress display even on a terminal\n"
    "      --journal-dir DIR  where journals of changes are kept\n"
    "  -h, --help             this text\n"
    "  -V, --version          print the version\n"
    "\n"
    "Exit codes: 0 success; 1 problems found or left (or a script error); 2 usage error;\n"
    "3 an operation failed and nothing was changed; 4 failed part-way, see the journal.\n"
    "Lua API and recipes: see README.md. TETHER_LUA_PATH=SRC loads stdlib/ and scripts/\n"
    "from a source tree instead of the embedded copies.\n";

/* Help for the commands that are not recipes (tether help run, tether run --help). */
static const struct {
    const char *name, *text;
} command_help[] = {
    {"run", "usage: tether [OPTIONS] run SCRIPT [ARGS...]\n"
            "\n"
            "Run a Lua script with the tether module and its stdlib loaded. The script sees its\n"
            "arguments as `arg` and `...`, as with lua(1); SCRIPT - reads the script from stdin.\n"
            "The global options (-n, --json, -q, -v, --journal-dir) go before `run` and are seen\n"
            "by the script in tether.options; -n makes every changing call a dry run.\n"
            "An error ends the script with exit 1 and \"tether: FILE:LINE: message\"; -v adds the\n"
            "traceback. A script ends with another exit code by returning it.\n"},
    {"-e", "usage: tether [OPTIONS] -e CODE [ARGS...]\n"
           "\n"
           "Run CODE, a chunk of Lua, with the tether module loaded (as `tether`) and ARGS as\n"
           "`...`. Example: tether -e 'for e in tether.walk(...) do print(e.path) end' /srv\n"},
    {"repl", "usage: tether [OPTIONS] [repl]\n"
             "\n"
             "An interactive Lua prompt with the tether module loaded as `tether`, line editing\n"
             "and history (libedit). An expression's values are printed; Ctrl-C stops what runs\n"
             "and returns to the prompt; Ctrl-D leaves. help() lists the module's functions,\n"
             "help \"NAME\", help(tether.NAME) or ?NAME explains one, with an example; Tab\n"
             "completes names, and option names inside a call's {...}. The default when stdin\n"
             "is a terminal and no command is given; with stdin not a terminal, a script is\n"
             "read from it instead.\n"},
    {"recipes", "usage: tether recipes\n"
                "\n"
                "List the bundled recipes with one line each; tether help RECIPE tells more.\n"},
    {"help", "usage: tether help [COMMAND|RECIPE]\n"
             "\n"
             "Without an argument, the overview; with one, how to use that command or recipe.\n"},
};

/* Prints the help of a command that is not a recipe; 0 when name is none of them. */
static int print_command_help(const char *name)
{
    for (size_t i = 0; i < sizeof command_help / sizeof command_help[0]; i++)
        if (!strcmp(name, command_help[i].name)) return fputs(command_help[i].text, stdout), 1;
    return 0;
}

static int is_help(const char *a)
{
    return !strcmp(a, "-h") || !strcmp(a, "--help");
}

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "tether: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "; see tether --help\n");
    return TT_EXIT_USAGE;
}

/* Parses leading global options; returns the index of the first non-option or -1 on a
 * usage error (already reported), -2 when the program should exit 0 (help/version), or
 * -3 for an unknown option (its index in *code_at). */
static int parse_options(int argc, char **argv, tt_options *o, int *code_at)
{
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || strcmp(a, "-") == 0) break;
        if (strcmp(a, "--") == 0) return i + 1;
        /* Short flags bundle, as getopt's do: -nq is -n -q. */
        if (a[1] != '-' && a[2] && strspn(a + 1, "nqv") == strlen(a + 1)) {
            o->dry_run |= strchr(a, 'n') != NULL;
            o->quiet |= strchr(a, 'q') != NULL;
            o->verbose |= strchr(a, 'v') != NULL;
        } else if (!strcmp(a, "-n") || !strcmp(a, "--dry-run"))
            o->dry_run = 1;
        else if (!strcmp(a, "--json"))
            o->json = 1;
        else if (!strcmp(a, "-q") || !strcmp(a, "--quiet"))
            o->quiet = 1;
        else if (!strcmp(a, "-v") || !strcmp(a, "--verbose"))
            o->verbose = 1;
        else if (!strcmp(a, "--no-progress"))
            o->progress = 0;
        else if (!strcmp(a, "--journal-dir")) {
            if (i + 1 >= argc) return usage_error("%s needs a directory", a), -1;
            o->journal_dir = argv[++i];
        } else if (!strncmp(a, "--journal-dir=", 14))
            o->journal_dir = a + 14;
        else if (!strcmp(a, "-h") || !strcmp(a, "--help"))
            return fputs(usage, stdout), -2;
        else if (!strcmp(a, "-V") || !strcmp(a, "--version"))
            return printf("tether %s (%s)\n", TETHER_VERSION, LUA_VERSION), -2;
        else if (!strcmp(a, "-e")) {
            if (i + 1 >= argc) return usage_error("%s needs a chunk of Lua", a), -1;
            if (is_help(argv[i + 1])) return print_command_help(a), -2;
            *code_at = i + 1;
            return i + 2;
        } else
            return *code_at = i, -3; /* reported with a suggestion, once Lua is there */
    }
    return i;
}

static void print_recipe(const char *name, const char *summary, void *ud)
{
    (void)ud;
    printf("  %-12s %s\n", name, summary);
}

typedef struct name_list {
    lua_State *L;
    int at; /* the list's index on the stack */
} name_list;

static void add_name(const char *name, const char *summary, void *ud)
{
    (void)summary;
    name_list *l = ud;
    lua_pushstring(l->L, name);
    lua_rawseti(l->L, l->at, (lua_Integer)lua_rawlen(l->L, l->at) + 1);
}

/* " (did you mean X?)" for a mistyped command or recipe name (options: NULL), or global
 * option (options: their long names), from tether.cli.closest; "" when none is near.
 * The text stays on the Lua stack. */
static const char *nearest(lua_State *L, const char *word, const char *const *options)
{
    lua_newtable(L);
    int names = lua_gettop(L);
    name_list list = {L, names};
    if (options) {
        for (size_t i = 0; options[i]; i++)
            add_name(options[i], NULL, &list);
    } else {
        static const char *const commands[] = {"run", "repl", "recipes", "help", NULL};
        for (size_t i = 0; commands[i]; i++)
            add_name(commands[i], NULL, &list);
        tt_embed_recipes(L, add_name, &list);
    }
    const char *found = NULL;
    if (lua_getglobal(L, "require") == LUA_TFUNCTION) {
        lua_pushliteral(L, "tether.cli");
        if (tt_docall(L, 1, 1) == LUA_OK && lua_getfield(L, -1, "closest") == LUA_TFUNCTION) {
            lua_pushstring(L, word);
            lua_pushvalue(L, names);
            if (tt_docall(L, 2, 1) == LUA_OK) found = lua_tostring(L, -1);
        }
    }
    const char *text = found
                           ? lua_pushfstring(L, " (did you mean %s%s?)", options ? "--" : "", found)
                           : lua_pushliteral(L, "");
    lua_replace(L, names);
    lua_settop(L, names);
    return text;
}

static int run_recipe(lua_State *L, const char *name, int argc, char **argv, int at)
{
    if (strchr(name, '/') || strchr(name, '\\') || name[0] == '.')
        return usage_error("'%s' is not a command or recipe name", name);
    lua_pushfstring(L, "scripts/%s.lua", name);
    int st = tt_embed_load(L, lua_tostring(L, -1));
    lua_remove(L, st == -1 ? -1 : -2);
    if (st == -1) {
        fprintf(stderr, "tether: unknown command or recipe '%s'%s; see tether recipes\n", name,
                nearest(L, name, NULL));
        return TT_EXIT_USAGE;
    }
    if (st != LUA_OK) return tt_report_load_error(L);
    return tt_call(L, tt_push_args(L, argc, argv, at), name);
}

/* A script that cannot be opened (missing, unreadable, a directory) is reported as every
 * other refusal is, "PATH: reason (ENAME)", not in Lua's words. */
static int script_unreadable(const char *file)
{
    FILE *f = fopen(file, "r");
    int err = f ? 0 : errno;
    struct stat st;
    if (f && fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) err = EISDIR;
    if (f) fclose(f);
    if (!err) return 0;
    tt_err e;
    char text[TT_ERR_PATH_MAX + 256];
    tt_fail(&e, err, file, NULL, NULL);
    tt_errformat(&e, text, sizeof text);
    fprintf(stderr, "tether: %s\n", text);
    return 1;
}

static int run_file(lua_State *L, int argc, char **argv, int at)
{
    const char *file = strcmp(argv[at], "-") == 0 ? NULL : argv[at];
    if (file && script_unreadable(file)) return TT_EXIT_PROBLEMS;
    if (luaL_loadfilex(L, file, "t") != LUA_OK) return tt_report_load_error(L);
    return tt_call(L, tt_push_args(L, argc, argv, at), NULL);
}

static int dispatch(lua_State *L, int argc, char **argv, int at, int code_at)
{
    if (code_at) {
        if (luaL_loadbufferx(L, argv[code_at], strlen(argv[code_at]), "=(command line)", "t"))
            return tt_report_load_error(L);
        return tt_call(L, tt_push_args(L, argc, argv, code_at), NULL);
    }
    const char *cmd = at < argc ? argv[at] : "repl";
    if (at + 1 < argc && is_help(argv[at + 1]) && print_command_help(cmd)) return TT_EXIT_OK;
    if (!strcmp(cmd, "repl")) {
        if (isatty(STDIN_FILENO)) return tt_repl(L);
        /* Not a terminal: the whole script comes from stdin, as with `lua -`. */
        if (luaL_loadfilex(L, NULL, "t") != LUA_OK) return tt_report_load_error(L);
        return tt_call(L, tt_push_args(L, argc, argv, at < argc ? at : at - 1), NULL);
    }
    if (!strcmp(cmd, "run")) {
        if (at + 1 >= argc) return usage_error("%s needs a script (or - for stdin)", cmd);
        return run_file(L, argc, argv, at + 1);
    }
    if (!strcmp(cmd, "recipes")) {
        printf("Bundled recipes (tether help RECIPE for details):\n");
        tt_embed_recipes(L, print_recipe, NULL);
        return TT_EXIT_OK;
    }
    if (!strcmp(cmd, "help")) {
        if (at + 1 >= argc) return fputs(usage, stdout), TT_EXIT_OK;
        if (print_command_help(argv[at + 1])) return TT_EXIT_OK;
        char *hargv[] = {argv[0], argv[at + 1], "--help", NULL};
        return run_recipe(L, argv[at + 1], 3, hargv, 1);
    }
    return run_recipe(L, cmd, argc, argv, at);
}

/* The command to run, for run_command inside tt_main's protected call. */
typedef struct command {
    int argc;
    char **argv;
    int at, code_at;
} command;

static const char *const global_options[] = {
    "dry-run", "json", "quiet", "verbose", "no-progress", "journal-dir", "help", "version", NULL};

static int run_command(lua_State *L, void *ud)
{
    const command *c = ud;
    if (c->at == -3) { /* an unknown global option */
        const char *a = c->argv[c->code_at];
        char name[64]; /* --name=value: the name */
        snprintf(name, sizeof name, "%.*s", (int)strcspn(a + 2, "="), a + 2);
        const char *hint = a[1] == '-' ? nearest(L, name, global_options) : "";
        fprintf(stderr, "tether: unknown option '%s'%s; see tether --help\n", a, hint);
        return TT_EXIT_USAGE;
    }
    return dispatch(L, c->argc, c->argv, c->at, c->code_at);
}

/* The soft limit on open files raised toward the hard one (as Go and systemd do): the
 * audit's target cache keeps directories open, up to half of what the limit allows. */
static void raise_open_files(void)
{
    pf_files_raise(65536);
}

int main(int argc, char **argv)
{
    raise_open_files();
#ifdef _WIN32
    char **wargv = utf8_argv(&argc);
    if (!wargv) {
        fprintf(stderr, "tether: cannot read the command line\n");
        return TT_EXIT_FAILED;
    }
    argv = wargv;
    SetConsoleOutputCP(CP_UTF8); /* names print as UTF-8 on a console */
#endif
    tt_options o = {0};
    o.progress = isatty(STDERR_FILENO);
    int code_at = 0;
    int at = parse_options(argc, argv, &o, &code_at);
    if (at == -2) return TT_EXIT_OK;
    if (at == -1) return TT_EXIT_USAGE;
    if (o.quiet) o.progress = 0;
    command c = {argc, argv, at, code_at};
    int code = tt_main(&o, run_command, &c);
    fflush(stdout);
    return code;
}
