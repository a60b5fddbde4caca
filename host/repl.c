/* The REPL follows lua.c: try `return <line>` first, read continuation lines while the
 * chunk is incomplete (the "<eof>" syntax error), and stop running code on Ctrl-C with
 * a hook. Values are shown by tether.show so tables are readable. */
#include "repl.h"

#include "runner.h"
#include "../bindings/l_tether.h"

#include <errno.h>
#include <lauxlib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifdef _WIN32
/* No libedit on Windows: the console's own line editing and history (arrows, F7) serve,
 * without Tab completion. */
static char *readline(const char *prompt)
{
    fputs(prompt, stdout);
    fflush(stdout);
    size_t cap = 256, len = 0;
    char *line = malloc(cap);
    while (line && fgets(line + len, (int)(cap - len), stdin)) {
        len += strlen(line + len);
        if (len > 0 && line[len - 1] == '\n') {
            line[--len] = '\0';
            if (len > 0 && line[len - 1] == '\r') line[--len] = '\0';
            return line;
        }
        char *more = realloc(line, cap * 2);
        if (!more) break;
        line = more, cap *= 2;
    }
    if (line && len > 0) return line; /* a last line without a newline */
    free(line);
    return NULL;
}
#else
#include <editline/readline.h>
#endif

#define PROMPT  "tether> "
#define PROMPT2 "   ...> "
#define EOFMARK "<eof>"

static lua_State *completing;
static volatile sig_atomic_t cancelled;

static void on_prompt_sigint(int sig)
{
    (void)sig;
    cancelled = 1;
}

/* readline() with Ctrl-C cancelling the line instead of ending the REPL: the handler
 * is installed without SA_RESTART so the read returns and readline gives up. */
static char *read_line(const char *prompt, int *interrupted)
{
#ifdef _WIN32
    void (*old)(int) = signal(SIGINT, on_prompt_sigint);
    cancelled = 0;
    char *line = readline(prompt);
    signal(SIGINT, old);
#else
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_prompt_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old);
    cancelled = 0;
    char *line = readline(prompt);
    sigaction(SIGINT, &old, NULL);
#endif
    *interrupted = cancelled;
    if (cancelled && line) {
        free(line);
        line = NULL;
    }
    return line;
}

#ifndef _WIN32
/* $XDG_STATE_HOME/tether/history, creating the directories; NULL without a home. */
static char *history_path(void)
{
    const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
    char dir[4096];
    if (state && *state)
        snprintf(dir, sizeof dir, "%s/tether", state);
    else if (home && *home)
        snprintf(dir, sizeof dir, "%s/.local/state/tether", home);
    else
        return NULL;
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        mkdir(dir, 0700);
        *p = '/';
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) return NULL;
    size_t n = strlen(dir) + sizeof "/history";
    char *path = malloc(n);
    if (path) snprintf(path, n, "%s/history", dir);
    return path;
}

/* Walks "a.b.c" from the globals; leaves the table on the stack or returns 0. */
static int resolve_prefix(lua_State *L, const char *expr, size_t len)
{
    lua_pushglobaltable(L);
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && expr[i] != '.' && expr[i] != ':') continue;
        if (i == start) break;
        lua_pushlstring(L, expr + start, i - start);
        lua_gettable(L, -2);
        lua_remove(L, -2);
        if (!lua_istable(L, -1)) {
            lua_pop(L, 1);
            return 0;
        }
        start = i + 1;
    }
    return 1;
}

static char *next_match(const char *text, int state)
{
    static int idx;
    lua_State *L = completing;
    if (state == 0) idx = 0;
    const char *dot = strrchr(text, '.'), *colon = strrchr(text, ':');
    const char *sep = colon > dot ? colon : dot;
    size_t plen = sep ? (size_t)(sep - text) : 0;
    const char *part = sep ? sep + 1 : text;
    int top = lua_gettop(L);
    if (sep ? !resolve_prefix(L, text, plen) : (lua_pushglobaltable(L), 0)) return NULL;
    int n = 0;
    char *found = NULL;
    lua_pushnil(L);
    while (!found && lua_next(L, -2)) {
        if (lua_type(L, -2) == LUA_TSTRING) {
            const char *k = lua_tostring(L, -2);
            if (strncmp(k, part, strlen(part)) == 0 && n++ == idx) {
                size_t klen = strlen(k);
                found = malloc(plen + 1 + klen + 1);
                if (found) {
                    memcpy(found, text, sep ? plen + 1 : 0);
                    memcpy(found + (sep ? plen + 1 : 0), k, klen + 1);
                }
            }
        }
        lua_pop(L, 1);
    }
    idx++;
    lua_settop(L, top);
    return found;
}

/* Candidates tether.help gives for the word at `start` (option names inside a call's
 * options table, function names after help " or ?), as a generator for readline. */
static char **help_matches;
static size_t help_count, help_next;

static char *next_help_match(const char *text, int state)
{
    (void)text;
    if (state == 0) help_next = 0;
    return help_next < help_count ? strdup(help_matches[help_next++]) : NULL;
}

static void forget_help_matches(void)
{
    for (size_t i = 0; i < help_count; i++)
        free(help_matches[i]);
    free(help_matches);
    help_matches = NULL;
    help_count = 0;
}

/* Asks tether.help.complete(before, word); 1 when it answered (its list kept in
 * help_matches), 0 when the names of tables should be completed instead. */
static int ask_help(lua_State *L, const char *before, size_t blen, const char *word)
{
    int top = lua_gettop(L), answered = 0;
    forget_help_matches();
    if (lua_getglobal(L, "require") == LUA_TFUNCTION) {
        lua_pushliteral(L, "tether.help");
        if (tt_docall(L, 1, 1) == LUA_OK && lua_getfield(L, -1, "complete") == LUA_TFUNCTION) {
            lua_pushlstring(L, before, blen);
            lua_pushstring(L, word);
            if (tt_docall(L, 2, 1) == LUA_OK && lua_istable(L, -1)) {
                size_t n = lua_rawlen(L, -1);
                help_matches = calloc(n ? n : 1, sizeof *help_matches);
                for (size_t i = 1; help_matches && i <= n; i++) {
                    lua_rawgeti(L, -1, (lua_Integer)i);
                    const char *m = lua_tostring(L, -1);
                    if (m && (help_matches[help_count] = strdup(m))) help_count++;
                    lua_pop(L, 1);
                }
                answered = 1;
            }
        }
    }
    lua_settop(L, top);
    return answered;
}

static char **complete(const char *text, int start, int end)
{
    (void)end;
    rl_attempted_completion_over = 1;
    if (ask_help(completing, rl_line_buffer, (size_t)start, text))
        return help_count ? rl_completion_matches(text, next_help_match) : NULL;
    return rl_completion_matches(text, next_match);
}

#endif

static int incomplete(lua_State *L, int status)
{
    if (status != LUA_ERRSYNTAX) return 0;
    size_t lmsg;
    const char *msg = lua_tolstring(L, -1, &lmsg);
    if (lmsg >= sizeof EOFMARK - 1 && strcmp(msg + lmsg - (sizeof EOFMARK - 1), EOFMARK) == 0) {
        lua_pop(L, 1);
        return 1;
    }
    return 0;
}

/* Compiles the chunk typed so far; returns -1 to ask for another line. As an expression
 * first ("return " before it), then as statements; either one cut short at the end of
 * the text ("1 +", "for i = 1, 3 do") asks for more, as a statement does in lua.c. */
static int compile(lua_State *L, const char *src)
{
    const char *ret = lua_pushfstring(L, "return %s", src);
    int st = luaL_loadbuffer(L, ret, strlen(ret), "=stdin");
    lua_remove(L, -2);
    if (st == LUA_OK) return st;
    int more = incomplete(L, st);
    if (!more) lua_pop(L, 1);
    st = luaL_loadbuffer(L, src, strlen(src), "=stdin");
    if (st == LUA_OK) return st;
    if (incomplete(L, st)) return -1; /* it took its message off the stack */
    if (!more) return st;
    lua_pop(L, 1);
    return -1;
}

static void show_results(lua_State *L, int base)
{
    int n = lua_gettop(L) - base;
    if (n == 0) return;
    if (lua_getglobal(L, "require") != LUA_TFUNCTION) return;
    lua_pushliteral(L, "tether.show");
    if (tt_docall(L, 1, 1) != LUA_OK) {
        fprintf(stderr, "%s\n", lua_tostring(L, -1));
        lua_settop(L, base);
        return;
    }
    for (int i = 1; i <= n; i++) {
        lua_pushvalue(L, -1);
        lua_pushvalue(L, base + i);
        if (tt_docall(L, 1, 1) == LUA_OK) printf("%s%s", i > 1 ? "\t" : "", lua_tostring(L, -1));
        lua_pop(L, 1);
    }
    printf("\n");
    lua_settop(L, base);
}

static void run(lua_State *L)
{
    int base = lua_gettop(L) - 1;
    int st = tt_docall(L, 0, LUA_MULTRET);
    if (st == LUA_OK) {
        show_results(L, base);
    } else if (lua_type(L, -1) == LUA_TTABLE) { /* tether.cli.exit in the REPL */
        lua_getfield(L, -1, "message");
        if (lua_isstring(L, -1)) fprintf(stderr, "tether: %s\n", lua_tostring(L, -1));
        lua_settop(L, base);
    } else {
        fprintf(stderr, "%s\n", lua_tostring(L, -1) ? lua_tostring(L, -1) : "(error)");
        lua_settop(L, base);
    }
    fflush(stdout);
}

/* The global `help` (tether.help.help): help(), help "info", help(tether.info). */
static void define_help(lua_State *L)
{
    int top = lua_gettop(L);
    if (lua_getglobal(L, "require") == LUA_TFUNCTION) {
        lua_pushliteral(L, "tether.help");
        if (tt_docall(L, 1, 1) == LUA_OK && lua_getfield(L, -1, "help") == LUA_TFUNCTION)
            lua_setglobal(L, "help");
    }
    lua_settop(L, top);
}

/* "?NAME": help "NAME"; "?" alone: help(). Kept in the history like any line. */
static void ask(lua_State *L, const char *line)
{
#ifndef _WIN32
    add_history(line);
#endif
    const char *name = line + strspn(line, " \t") + 1;
    name += strspn(name, " \t");
    size_t n = strlen(name);
    while (n > 0 && (name[n - 1] == ' ' || name[n - 1] == '\t'))
        n--;
    if (lua_getglobal(L, "help") != LUA_TFUNCTION) {
        lua_pop(L, 1);
        fprintf(stderr, "tether: help is not available (the global `help` was changed)\n");
        return;
    }
    if (n > 0) lua_pushlstring(L, name, n);
    if (tt_docall(L, n > 0, 0) != LUA_OK) {
        fprintf(stderr, "%s\n", lua_tostring(L, -1) ? lua_tostring(L, -1) : "(error)");
        lua_pop(L, 1);
    }
    fflush(stdout);
}

int tt_repl(lua_State *L)
{
    completing = L;
#ifdef _WIN32
    char *hist = NULL; /* the console keeps the history of a session */
#else
    rl_readline_name = "tether";
    rl_attempted_completion_function = complete;
    rl_completer_word_break_characters = " \t\n\"'`<>=;+-*/%^~#&|,(){}[]";
    rl_completion_append_character = '\0';
    using_history();
    char *hist = history_path();
    if (hist) read_history(hist);
#endif
    define_help(L);
    printf("tether %s — Lua %s; the `tether` module is loaded. help() lists its functions,\n"
           "?NAME explains one (help \"symlink\"); Tab completes; Ctrl-D exits.\n",
           TETHER_VERSION, LUA_VERSION_MAJOR "." LUA_VERSION_MINOR);
    for (;;) {
        int intr;
        char *line = read_line(PROMPT, &intr);
        if (intr) {
            printf("\n");
            continue;
        }
        if (!line) break;
        if (!*line) {
            free(line);
            continue;
        }
        if (line[strspn(line, " \t")] == '?') {
            ask(L, line);
            free(line);
            continue;
        }
        luaL_Buffer b;
        luaL_buffinit(L, &b);
        luaL_addstring(&b, line);
        free(line);
        luaL_pushresult(&b);
        int st;
        while ((st = compile(L, lua_tostring(L, -1))) == -1) {
            char *more = read_line(PROMPT2, &intr);
            if (!more) break;
            lua_pushfstring(L, "%s\n%s", lua_tostring(L, -1), more);
            lua_remove(L, -2);
            free(more);
        }
        if (st == -1) { /* Ctrl-C or Ctrl-D in the middle of a chunk */
            lua_pop(L, 1);
            printf("\n");
            if (intr) continue;
            break;
        }
#ifndef _WIN32
        add_history(lua_tostring(L, -2));
        if (hist) write_history(hist);
#endif
        lua_remove(L, -2); /* the source text */
        if (st == LUA_OK) {
            run(L);
        } else {
            fprintf(stderr, "%s\n", lua_tostring(L, -1));
            lua_pop(L, 1);
        }
    }
    free(hist);
    printf("\n");
    return TT_EXIT_OK;
}
