/* Journals. tether.journal(path [, {create=true}]) is a handle whose :append(line)
 * returns only once the line is on disk (:append(line, {nosync=true}) and :sync() group
 * several); tether.journal_dir and tether.journal_read refuse what another user could
 * have written. Handles are made before the file is opened, so nothing leaks. */
#include "l_tether.h"

#include "../core/journal.h"

#define JOURNAL_META "tether.journal"

typedef struct l_journal {
    tt_journal *j;
} l_journal;

static int journal_close(lua_State *L)
{
    l_journal *h = luaL_checkudata(L, 1, JOURNAL_META);
    tt_journal_close(h->j);
    h->j = NULL;
    return 0;
}

static const l_opt append_opts[] = {{"nosync", LUA_TBOOLEAN, 1}, {NULL, 0, 0}};

static int journal_append(lua_State *L)
{
    l_journal *h = luaL_checkudata(L, 1, JOURNAL_META);
    size_t len;
    const char *line = luaL_checklstring(L, 2, &len);
    int sync = !l_options(L, 3, append_opts);
    luaL_argcheck(L, h->j != NULL, 1, "journal is closed");
    tt_err e;
    if (tt_journal_append(h->j, line, len, sync, &e) != 0) return l_fail(L, &e);
    return l_done(L, NULL);
}

static int journal_sync(lua_State *L)
{
    l_journal *h = luaL_checkudata(L, 1, JOURNAL_META);
    luaL_argcheck(L, h->j != NULL, 1, "journal is closed");
    tt_err e;
    if (tt_journal_sync(h->j, &e) != 0) return l_fail(L, &e);
    return l_done(L, NULL);
}

static const l_opt create_opts[] = {{"create", LUA_TBOOLEAN, 1}, {NULL, 0, 0}};

static int l_journal_open(lua_State *L)
{
    const char *path = l_checkpath(L, 1);
    int create = (int)l_options(L, 2, create_opts);
    l_journal *h = lua_newuserdatauv(L, sizeof *h, 0);
    h->j = NULL;
    luaL_setmetatable(L, JOURNAL_META);
    tt_err e;
    if (!(h->j = tt_journal_open(path, create, &e))) return l_fail(L, &e);
    return 1;
}

/* journal_dir(dir [, {create}]) -> true when dir is the caller's alone (made first,
 * mode 0700, with create). */
static int l_journal_dir(lua_State *L)
{
    const char *dir = l_checkpath(L, 1);
    int create = (int)l_options(L, 2, create_opts);
    tt_err e;
    if (tt_journal_dir(dir, create, &e) != 0) return l_fail(L, &e);
    return l_done(L, NULL);
}

/* journal_remove(dir, name) -> true: the journal file name removed from the journal
 * directory dir (both the caller's). */
static int l_journal_remove(lua_State *L)
{
    const char *dir = l_checkpath(L, 1), *name = l_checkpath(L, 2);
    tt_err e;
    if (tt_journal_remove(dir, name, &e) != 0) return l_fail(L, &e);
    return l_done(L, NULL);
}

/* journal_read(path) -> the journal's text, when only the caller can have written it. */
static int l_journal_read(lua_State *L)
{
    const char *path = l_checkpath(L, 1);
    char **box = l_newbox(L);
    size_t len;
    tt_err e;
    if (tt_journal_read(path, box, &len, &e) != 0) return l_fail(L, &e);
    lua_pushlstring(L, *box, len);
    return 1;
}

static const luaL_Reg methods[] = {
    {"append", journal_append},
    {"sync", journal_sync},
    {"close", journal_close},
    {NULL, NULL},
};

const luaL_Reg l_journal_funcs[] = {
    {"journal", l_journal_open},
    {"journal_dir", l_journal_dir},
    {"journal_read", l_journal_read},
    {"journal_remove", l_journal_remove},
    {NULL, NULL},
};

void l_open_journal(lua_State *L)
{
    l_newclass(L, JOURNAL_META, journal_close, methods);
}
