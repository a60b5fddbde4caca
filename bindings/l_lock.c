/* Locks, and whether a link can be made: what a run holds and asks before it changes
 * anything, writing nothing into the user's folders. tether.lock(dir, key, holder) keeps
 * a second run off what key names until it is closed (a file in dir, tether's state
 * directory); tether.lock_dir(path) locks the directory itself; tether.link_support(dir)
 * answers without making a link. Handles are made before what they hold, so nothing
 * leaks. */
#include "l_tether.h"

#include "../core/canlink.h"
#include "../core/lock.h"

#define LOCK_META "tether.lock"

typedef struct l_lock {
    tt_lock *l;
} l_lock;

static int lock_close(lua_State *L)
{
    l_lock *h = luaL_checkudata(L, 1, LOCK_META);
    tt_lock_release(h->l);
    h->l = NULL;
    return 0;
}

static l_lock *new_handle(lua_State *L)
{
    l_lock *h = lua_newuserdatauv(L, sizeof *h, 0);
    h->l = NULL;
    luaL_setmetatable(L, LOCK_META);
    return h;
}

/* lock(dir, key, holder) -> a lock handle (closed: the lock goes), or fail with EBUSY
 * naming the live process that holds it. A file left by a dead run is taken over. */
static int l_lock_take(lua_State *L)
{
    const char *dir = l_checkpath(L, 1), *key = luaL_checkstring(L, 2);
    const char *holder = luaL_checkstring(L, 3);
    l_lock *h = new_handle(L);
    tt_err e;
    if (tt_lock_take(dir, key, holder, &h->l, &e) != 0) return l_fail(L, &e);
    return 1;
}

/* lock_dir(path) -> a handle holding a lock on the directory path itself, or fail
 * (EBUSY: another process holds it; ENOTSUP: directories cannot be locked here). */
static int l_lock_dir(lua_State *L)
{
    const char *path = l_checkpath(L, 1);
    l_lock *h = new_handle(L);
    tt_err e;
    if (tt_lock_dir(l_confine(L), path, &h->l, &e) != 0) return l_fail(L, &e);
    return 1;
}

/* lock_state(dir, key) -> "none" | "held" | "stale", and what the lock file says. */
static int l_lock_state(lua_State *L)
{
    const char *dir = l_checkpath(L, 1), *key = luaL_checkstring(L, 2);
    char holder[512];
    tt_err e;
    int st = tt_lock_query(dir, key, holder, sizeof holder, &e);
    if (st < 0) return l_fail(L, &e);
    static const char *const names[] = {"none", "held", "stale"};
    lua_pushstring(L, names[st]);
    lua_pushstring(L, holder);
    return 2;
}

/* l:say(holder): what the lock file says about who holds it (the run id, once known). */
static int lock_say(lua_State *L)
{
    l_lock *h = luaL_checkudata(L, 1, LOCK_META);
    const char *holder = luaL_checkstring(L, 2);
    luaL_argcheck(L, h->l != NULL, 1, "lock is released");
    tt_err e;
    if (tt_lock_say(h->l, holder, &e) != 0) return l_fail(L, &e);
    return l_done(L, NULL);
}

/* link_support(dir) -> true (a link can be made there) or false (only trying one would
 * tell), and the filesystem's type; fail when none can be made there. */
static int l_link_support(lua_State *L)
{
    const char *dir = l_checkpath(L, 1);
    char fs[64];
    tt_err e;
    int rc = tt_can_link(dir, fs, sizeof fs, &e);
    if (rc < 0) return l_fail(L, &e);
    lua_pushboolean(L, rc == TT_CANLINK_YES);
    lua_pushstring(L, fs);
    return 2;
}

static const luaL_Reg lock_methods[] = {{"close", lock_close}, {"say", lock_say}, {NULL, NULL}};

const luaL_Reg l_lock_funcs[] = {
    {"lock", l_lock_take},
    {"lock_dir", l_lock_dir},
    {"lock_state", l_lock_state},
    {"link_support", l_link_support},
    {NULL, NULL},
};

void l_open_lock(lua_State *L)
{
    l_newclass(L, LOCK_META, lock_close, lock_methods);
}
