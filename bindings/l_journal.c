/* tether.journal(path [, {create=true}]): a handle whose :append(line) returns only once
 * the line is on disk (:append(line, {nosync=true}) and :sync() group several). Made before the
 * file is opened, so no descriptor can leak. */
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

static int journal_append(lua_State *L)
{
    l_journal *h = luaL_checkudata(L, 1, JOURNAL_META);
    size_t len;
    const char *line = luaL_checklstring(L, 2, &len);
    luaL_argcheck(L, h->j != NULL, 1, "journal is closed");
    int sync = 1;
    if (!lua_isnoneornil(L, 3)) {
        luaL_checktype(L, 3, LUA_TTABLE);
        lua_getfield(L, 3, "nosync");
        sync = !lua_toboolean(L, -1);
        lua_pop(L, 1);
    }
    tt_err e;
    if (tt_journal_append(h->j, line, len, sync, &e) != 0) return l_fail(L, &e);
    lua_pushboolean(L, 1);
    return 1;
}

static int journal_sync(lua_State *L)
{
    l_journal *h = luaL_checkudata(L, 1, JOURNAL_META);
    luaL_argcheck(L, h->j != NULL, 1, "journal is closed");
    tt_err e;
    if (tt_journal_sync(h->j, &e) != 0) return l_fail(L, &e);
    lua_pushboolean(L, 1);
    return 1;
}

static int l_journal_open(lua_State *L)
{
    const char *path = l_checkpath(L, 1);
    int create = 0;
    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        lua_getfield(L, 2, "create");
        create = lua_toboolean(L, -1);
        lua_pop(L, 1);
    }
    l_journal *h = lua_newuserdatauv(L, sizeof *h, 0);
    h->j = NULL;
    luaL_setmetatable(L, JOURNAL_META);
    tt_err e;
    if (!(h->j = tt_journal_open(path, create, &e))) return l_fail(L, &e);
    return 1;
}

static const luaL_Reg methods[] = {
    {"append", journal_append},
    {"sync", journal_sync},
    {"close", journal_close},
    {NULL, NULL},
};

static const luaL_Reg funcs[] = {
    {"journal", l_journal_open},
    {NULL, NULL},
};

void l_open_journal(lua_State *L)
{
    l_newclass(L, JOURNAL_META, journal_close, methods);
    luaL_setfuncs(L, funcs, 0);
}
