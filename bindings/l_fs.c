/* tether.mkdir, rmdir, rename, mkdtemp, statfs, the files a report is written to, and
 * the process helpers: the directory and file primitives scripts need beside links
 * (Lua's os library has no mkdir, its os.remove would remove a file put where a
 * directory was, and io.open follows a link where another user may have put one). */
#include "l_tether.h"

#include "../core/fs.h"
#include "../core/link.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static const l_opt mkdir_opts[] = {
    {"parents", LUA_TBOOLEAN, TT_FS_PARENTS},
    {"private", LUA_TBOOLEAN, TT_FS_PRIVATE},
    {"dry", LUA_TBOOLEAN, 0},
    {NULL, 0, 0},
};

/* mkdir(path [, {parents, private, dry}]) -> the new directory's identity (a table of
 * tether.info's numbers), or true in a dry run. */
static int l_mkdir(lua_State *L)
{
    const char *path = l_checkpath(L, 1);
    unsigned flags = l_options(L, 2, mkdir_opts);
    int dry = l_isdry(L, 2);
    tt_stat made;
    tt_err e;
    if (tt_mkdir(l_confine(L), path, flags | (dry ? TT_FS_DRY : 0), &made, &e) != 0)
        return l_fail(L, &e);
    if (dry) l_record(L, "mkdir", path, NULL);
    return l_done(L, dry ? NULL : &made);
}

static const l_opt rmdir_opts[] = {
    {"dry", LUA_TBOOLEAN, 0}, {"expect", LUA_TTABLE, 0}, {NULL, 0, 0}};

/* rmdir(path [, {dry, expect}]): an empty directory, never a link or a file. */
static int l_rmdir(lua_State *L)
{
    const char *path = l_checkpath(L, 1);
    unsigned flags = l_options(L, 2, rmdir_opts);
    int dry = l_isdry(L, 2);
    tt_expect x;
    tt_err e;
    if (tt_rmdir(l_confine(L), path, l_expect(L, 2, "expect", &x), flags | (dry ? TT_FS_DRY : 0),
                 &e) != 0)
        return l_fail(L, &e);
    if (dry) l_record(L, "rmdir", path, NULL);
    return l_done(L, NULL);
}

static const l_opt remove_opts[] = {
    {"dry", LUA_TBOOLEAN, 0}, {"expect", LUA_TTABLE, 0}, {NULL, 0, 0}};

/* remove_file(path, {expect [, dry]}): a regular file, never a link or a directory, that
 * is still the one expected (its identity is required). */
static int l_remove_file(lua_State *L)
{
    const char *path = l_checkpath(L, 1);
    unsigned flags = l_options(L, 2, remove_opts);
    int dry = l_isdry(L, 2);
    tt_expect x;
    tt_err e;
    if (tt_remove_file(l_confine(L), path, l_expect(L, 2, "expect", &x),
                       flags | (dry ? TT_FS_DRY : 0), &e) != 0)
        return l_fail(L, &e);
    if (dry) l_record(L, "remove", path, NULL);
    return l_done(L, NULL);
}

/* mkdtemp([prefix]) -> path of a new private directory (default under $TMPDIR, on
 * Windows %TEMP%, else /tmp). */
static int l_mkdtemp(lua_State *L)
{
    const char *prefix = luaL_optstring(L, 1, NULL);
    char **box = l_newbox(L);
    tt_err e;
    if (tt_mkdtemp(prefix, box, &e) != 0) return l_fail(L, &e);
    lua_pushstring(L, *box);
    return 1;
}

static const l_opt rename_opts[] = {
    {"dry", LUA_TBOOLEAN, 0},
    {"noreplace", LUA_TBOOLEAN, TT_FS_NOREPLACE},
    {"exchange", LUA_TBOOLEAN, TT_FS_EXCHANGE},
    {"expect", LUA_TTABLE, 0},
    {"expect_to", LUA_TTABLE, 0},
    {NULL, 0, 0},
};

/* rename(from, to [, {dry, noreplace, exchange, expect, expect_to}]) */
static int l_rename(lua_State *L)
{
    const char *from = l_checkpath(L, 1), *to = l_checkpath(L, 2);
    unsigned flags = l_options(L, 3, rename_opts);
    int dry = l_isdry(L, 3);
    tt_expect x, xto;
    tt_err e;
    tt_stat moved;
    if (tt_rename(l_confine(L), from, to, l_expect(L, 3, "expect", &x),
                  l_expect(L, 3, "expect_to", &xto), flags | (dry ? TT_FS_DRY : 0),
                  dry ? NULL : &moved, &e) != 0)
        return l_fail(L, &e);
    if (dry) l_record(L, "rename", to, from);
    return l_done(L, dry ? NULL : &moved);
}

/* statfs(path) -> {avail=, total=, link_max=} in bytes. */
static int l_statfs(lua_State *L)
{
    const char *path = l_checkpath(L, 1);
    uint64_t avail, total;
    tt_err e;
    if (tt_statfs(path, &avail, &total, &e) != 0) return l_fail(L, &e);
    lua_createtable(L, 0, 3);
    l_setint(L, "avail", (lua_Integer)avail);
    l_setint(L, "total", (lua_Integer)total);
    l_setint(L, "link_max", (lua_Integer)tt_link_max(path));
    return 1;
}

/* xattr_probe(path) -> true when path's filesystem keeps extended attributes (one is set
 * on the file and removed again, reached from its directory's handle, never through a
 * link). */
static int l_xattr_probe(lua_State *L)
{
    const char *path = l_checkpath(L, 1);
    tt_at at;
    tt_err e;
    if (tt_at_open(l_confine(L), path, &at, &e) != 0) return l_fail(L, &e);
    int err = pf_dir_xattr_probe(at.dir, at.name);
    tt_at_close(&at);
    if (err) {
        tt_fail(&e, err, path, "extended attributes are not kept here", NULL);
        return l_fail(L, &e);
    }
    return l_done(L, NULL);
}

/* The files below are Lua's own file objects (the io library's userdata), so :write,
 * :flush and :close behave as for io.open. Their close reports a write that failed
 * earlier too (a full disk may only show when the buffer is flushed), and a file made to
 * be renamed into place is flushed to the disk first. */
static int stream_finish(lua_State *L, int sync)
{
    luaL_Stream *p = luaL_checkudata(L, 1, LUA_FILEHANDLE);
    errno = 0;
    int err = fflush(p->f) != 0 || ferror(p->f) ? (errno ? errno : EIO) : 0;
    if (!err && sync) err = pf_append_sync(fileno(p->f));
    if (fclose(p->f) != 0 && !err) err = errno ? errno : EIO;
    errno = err;
    return luaL_fileresult(L, err == 0, NULL);
}

static int stream_close(lua_State *L)
{
    return stream_finish(L, 0);
}

static int stream_close_synced(lua_State *L)
{
    return stream_finish(L, 1);
}

/* An io library file, closed, to be given its descriptor (the handle before the
 * resource: an error from here on cannot leak the descriptor). */
static luaL_Stream *new_stream(lua_State *L)
{
    luaL_Stream *p = lua_newuserdatauv(L, sizeof *p, 0);
    p->f = NULL;
    p->closef = NULL; /* closed, for the io library, until the file is there */
    if (luaL_getmetatable(L, LUA_FILEHANDLE) != LUA_TTABLE)
        luaL_error(L, "the io library is not loaded");
    lua_setmetatable(L, -2);
    return p;
}

/* Gives fd to p (on failure closes it and pushes the failure); then the file and what
 * st says of it. */
static int give_fd(lua_State *L, luaL_Stream *p, int fd, lua_CFunction closef, const char *path,
                   const tt_stat *st)
{
    if (!(p->f = fdopen(fd, "wb"))) {
        tt_err e;
        tt_fail(&e, errno, path, NULL, NULL);
        pf_append_close(fd);
        return l_fail(L, &e);
    }
    p->closef = closef;
    lua_createtable(L, 0, 12);
    l_setstat(L, st);
    return 2;
}

static const l_opt create_opts[] = {{"dry", LUA_TBOOLEAN, 0},
                                    {"mode", LUA_TNUMBER, 0},
                                    {"uid", LUA_TNUMBER, 0},
                                    {"gid", LUA_TNUMBER, 0},
                                    {NULL, 0, 0}};

/* create(path [, {dry, mode, uid, gid}]) -> a new regular file open for writing, and its
 * identity; in a dry run true. Never an existing name, never through a link. mode: its
 * permission bits (else 0666 less the umask); uid and gid (both): whom it is given to
 * first, so that it may keep mode's set-user-ID and set-group-ID bits, which a file of
 * the caller's own never gets. */
static int l_create(lua_State *L)
{
    const char *path = l_checkpath(L, 1);
    l_options(L, 2, create_opts);
    if (l_isdry(L, 2)) {
        l_record(L, "create", path, NULL);
        return l_done(L, NULL);
    }
    luaL_Stream *p = new_stream(L);
    int fd;
    tt_stat made;
    tt_err e;
    int mode = -1;
    if (lua_istable(L, 2) && lua_getfield(L, 2, "mode") != LUA_TNIL) {
        mode = (int)luaL_checkinteger(L, -1) & 07777;
        lua_pop(L, 1);
    } else if (lua_istable(L, 2)) {
        lua_pop(L, 1);
    }
    uint32_t owner[2];
    int owned = lua_istable(L, 2) && lua_getfield(L, 2, "uid") != LUA_TNIL;
    if (owned) {
        owner[0] = (uint32_t)luaL_checkinteger(L, -1);
        if (lua_getfield(L, 2, "gid") == LUA_TNIL) luaL_error(L, "create: uid needs gid too");
        owner[1] = (uint32_t)luaL_checkinteger(L, -1);
        lua_pop(L, 2);
    } else if (lua_istable(L, 2)) {
        lua_pop(L, 1);
    }
    if (tt_create_file(l_confine(L), path, mode, owned ? owner : NULL, &fd, &made, &e) != 0)
        return l_fail(L, &e);
    return give_fd(L, p, fd, stream_close_synced, path, &made);
}

static const l_opt read_opts[] = {{"expect", LUA_TTABLE, 0}, {"max", LUA_TNUMBER, 0}, {NULL, 0, 0}};

/* Reads the rest of f into *buf (its length in *len), failing with EFBIG past max bytes
 * (max < 0: no limit). */
static int read_all(pf_file *f, lua_Integer max, char **buf, size_t *len)
{
    size_t cap = 0;
    *len = 0;
    for (;;) {
        char *more = realloc(*buf, cap + 65536);
        if (!more) return ENOMEM;
        *buf = more, cap += 65536;
        size_t want = cap - *len, got;
        int err = pf_file_read(f, *buf + *len, want, &got);
        if (err) return err;
        *len += got;
        if (max >= 0 && *len > (size_t)max) return EFBIG;
        if (got < want) return 0; /* the end of the file */
    }
}

/* read(path [, {expect, max}]) -> the content of a regular file, and what was read (its
 * identity): opened from its directory's handle, never through a link and never waiting
 * on a FIFO; ECHANGED when it is not a regular file (or not as expect says), EFBIG when it
 * holds more than max bytes. */
static int l_read(lua_State *L)
{
    const char *path = l_checkpath(L, 1);
    l_options(L, 2, read_opts);
    tt_expect x;
    const tt_expect *xp = l_expect(L, 2, "expect", &x);
    lua_Integer max = -1;
    if (lua_istable(L, 2) && lua_getfield(L, 2, "max") != LUA_TNIL) max = luaL_checkinteger(L, -1);
    if (lua_istable(L, 2)) lua_pop(L, 1);
    char **box = l_newbox(L);
    pf_file *f;
    tt_stat st;
    tt_err e;
    if (tt_file_open(l_confine(L), path, xp, &f, &e) != 0) return l_fail(L, &e);
    size_t len = 0;
    int err = pf_file_stat(f, &st);
    if (!err) err = read_all(f, max, box, &len);
    pf_file_close(f);
    if (err) {
        tt_fail(&e, err, path, err == EFBIG ? "holds more than it may" : "cannot be read", NULL);
        return l_fail(L, &e);
    }
    lua_pushlstring(L, *box ? *box : "", len);
    lua_createtable(L, 0, 12);
    l_setstat(L, &st);
    return 2;
}

/* open_in_place(path) -> a character device, FIFO or terminal (or an owned link to one)
 * open for writing, and what was opened. */
static int l_open_in_place(lua_State *L)
{
    const char *path = l_checkpath(L, 1);
    luaL_Stream *p = new_stream(L);
    int fd;
    tt_stat st;
    tt_err e;
    if (tt_open_in_place(l_confine(L), path, &fd, &st, &e) != 0) return l_fail(L, &e);
    return give_fd(L, p, fd, stream_close, path, &st);
}

/* temp_name() -> a free temporary name ".tether-PID-N.tmp" as core/ makes them. */
static int l_temp_name(lua_State *L)
{
    char name[64];
    tt_temp_name(name, sizeof name);
    lua_pushstring(L, name);
    return 1;
}

static int l_pid(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)tt_pid());
    return 1;
}

/* hostname() -> this machine's name, for declarations that depend on it. */
static int l_hostname(lua_State *L)
{
    char name[256];
    int err = pf_hostname(name, sizeof name);
    if (err) {
        tt_err e;
        tt_fail(&e, err, "hostname", "cannot read this machine's name", NULL);
        return l_fail(L, &e);
    }
    lua_pushstring(L, name);
    return 1;
}

/* pid_alive(pid) -> whether that process is running. A number no process can have is
 * not one (kill(2) would take a negative one for a process group). */
static int l_pid_alive(lua_State *L)
{
    lua_Integer pid = luaL_checkinteger(L, 1);
    lua_pushboolean(L, pid > 0 && pid <= INT32_MAX && pf_pid_alive((unsigned long)pid));
    return 1;
}

/* fs_now() -> sec, nsec: now, in the clock file times are stamped with (a file whose
 * ctime is at or after it changed after this call). */
static int l_fs_now(lua_State *L)
{
    int64_t sec;
    int32_t nsec;
    pf_fs_now(&sec, &nsec);
    lua_pushinteger(L, (lua_Integer)sec);
    lua_pushinteger(L, nsec);
    return 2;
}

/* absolute(path) -> path made absolute (the current directory in front) and lexically
 * normal; no link is resolved. */
static int l_absolute(lua_State *L)
{
    const char *path = l_checkpath(L, 1);
    char **box = l_newbox(L);
    if (!(*box = tt_absolute(path))) {
        tt_err e;
        tt_fail(&e, ENOMEM, path, "cannot make the path absolute", NULL);
        return l_fail(L, &e);
    }
    lua_pushstring(L, *box);
    return 1;
}

/* euid() -> the effective user id (0 on Windows). */
static int l_euid(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)pf_euid());
    return 1;
}

const luaL_Reg l_fs_funcs[] = {
    {"pid", l_pid},
    {"hostname", l_hostname},
    {"pid_alive", l_pid_alive},
    {"fs_now", l_fs_now},
    {"euid", l_euid},
    {"rename", l_rename},
    {"statfs", l_statfs},
    {"xattr_probe", l_xattr_probe},
    {"absolute", l_absolute},
    {"mkdir", l_mkdir},
    {"rmdir", l_rmdir},
    {"mkdtemp", l_mkdtemp},
    {"create", l_create},
    {"read", l_read},
    {"remove_file", l_remove_file},
    {"open_in_place", l_open_in_place},
    {"temp_name", l_temp_name},
    {NULL, NULL},
};
