/* Locks. A lock file lives in the caller's own state directory, named by a hash of its
 * key; it is opened without following a link and without waiting, and used only when it
 * is a regular file of the caller's with no other name (it is truncated and written:
 * a hard link planted there must not be). After flock succeeds, the name must still lead
 * to the locked file: a holder that was letting go may have removed it in between, and a
 * lock on a removed file keeps nobody out. */
#include "lock.h"

#include "platform/platform.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

struct tt_lock {
    pf_dir *dir;   /* the state directory, or the locked directory itself */
    char name[32]; /* the lock file's name in dir ("" for a directory's own lock) */
    int fd;
    char *path; /* what is locked, for messages */
    char *file; /* the lock file's path, for messages */
};

static void lock_name(const char *key, char *name, size_t n)
{
    snprintf(name, n, "%016llx.lock", (unsigned long long)XXH3_64bits(key, strlen(key)));
}

/* dir/name, malloc'd. */
static char *file_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static int busy(const char *path, const char *holder, tt_err *e)
{
    static char msg[512];
    snprintf(msg, sizeof msg, "another tether run is working on it (%s)", holder);
    return tt_fail(e, EBUSY, path, msg, "wait for it to end, or see tether migrate --status");
}

/* Opens the state directory dir, which only the caller may write into (*d stays NULL
 * otherwise). */
static int open_state_dir(const char *dir, pf_dir **d, tt_err *e)
{
    int err = pf_dir_open(NULL, dir, 0, d);
    if (err) return *d = NULL, tt_fail(e, err, dir, "locks cannot be kept there", NULL);
    tt_stat st;
    if ((err = pf_dir_self(*d, 0, &st)) == 0) {
#ifndef _WIN32
        if (st.uid != pf_euid() || (st.mode & 022)) err = EPERM;
#endif
        if (!err) return 0;
    }
    pf_dir_close(*d);
    *d = NULL;
    if (err == EPERM)
        return tt_fail(e, EPERM, dir, "another user could write there; no lock is kept there",
                       "chmod go-w it, or use another --journal-dir");
    return tt_fail(e, err, dir, "locks cannot be kept there", NULL);
}

/* Whether the open file fd (where: its path) is a lock file this process may trust and
 * write. */
static int check_file(int fd, const char *where, tt_err *e)
{
    tt_stat st;
    int err = pf_append_stat(fd, &st);
    if (err) return tt_fail(e, err, where, NULL, NULL);
    if (st.type != TT_FILE)
        return tt_fail(e, EINVAL, where, "is not a regular file, so not a lock; left alone",
                       "remove it, then run the command again");
#ifndef _WIN32
    if (st.uid != pf_euid() || (st.mode & 022))
        return tt_fail(e, EPERM, where, "is not a lock file of this user's alone; left alone",
                       "remove it, then run the command again");
#endif
    if (st.nlink > 1)
        return tt_fail(e, EPERM, where, "has other names (a hard link), so not a lock; left alone",
                       "remove it, then run the command again");
    return 0;
}

/* Whether d/name is still the file open on fd. */
static int still_named(pf_dir *d, const char *name, int fd)
{
    tt_stat held, named;
    return pf_append_stat(fd, &held) == 0 && pf_dir_stat(d, name, 0, &named) == 0 &&
           held.dev == named.dev && held.ino == named.ino;
}

/* A failure to open the lock file where: what is there instead, or why it cannot be made. */
static int open_failed(int err, const char *where, tt_err *e)
{
    if (err == ELOOP) return tt_fail(e, err, where, "is a link, so not a lock; left alone", NULL);
    if (err == EISDIR)
        return tt_fail(e, err, where, "is a directory, so not a lock; left alone", NULL);
    return tt_fail(e, err, where, "cannot make this lock file",
                   err == ENOSPC ? "the disk that holds journals is full" : NULL);
}

static int lock_file(tt_lock *l, const char *holder, tt_err *e)
{
    for (int tries = 0;; tries++) {
        int err = pf_lock_open(l->dir, l->name, PF_LOCK_MAKE, &l->fd);
        if (err) return open_failed(err, l->file, e);
        if (check_file(l->fd, l->file, e) != 0) break;
        if ((err = pf_lock_try(l->fd, 0)) == EAGAIN) {
            /* The holder writes who it is right after it locks: a moment to say so. */
            char who[256];
            pf_lock_read(l->fd, who, sizeof who);
            for (int naps = 0; !who[0] && naps < 50; naps++) {
                pf_nap(2);
                pf_lock_read(l->fd, who, sizeof who);
            }
            busy(l->path, who[0] ? who : "it has not said who yet", e);
            break;
        }
        if (err) {
            tt_fail(e, err, l->file, "cannot lock this lock file", NULL);
            break;
        }
        if (still_named(l->dir, l->name, l->fd)) {
            if ((err = pf_lock_write(l->fd, holder, strlen(holder))) == 0) return 0;
            tt_fail(e, err, l->file, "cannot write this lock file",
                    err == ENOSPC ? "the disk that holds journals is full" : NULL);
            pf_dir_unlink(l->dir, l->name, 0);
            break;
        }
        pf_lock_close(l->fd); /* the file went while we locked it: again */
        if (tries == 10) return tt_fail(e, EAGAIN, l->file, "this lock file keeps changing", NULL);
    }
    pf_lock_close(l->fd);
    return -1;
}

static tt_lock *new_lock(const char *path, tt_err *e)
{
    tt_lock *l = calloc(1, sizeof *l);
    if (l) l->path = strdup(path);
    if (!l || !l->path) {
        free(l);
        tt_fail(e, ENOMEM, path, NULL, NULL);
        return NULL;
    }
    l->fd = -1;
    return l;
}

static void free_lock(tt_lock *l)
{
    pf_dir_close(l->dir);
    free(l->path);
    free(l->file);
    free(l);
}

int tt_lock_take(const char *dir, const char *key, const char *holder, tt_lock **out, tt_err *e)
{
    tt_lock *l = new_lock(key, e);
    if (!l) return -1;
    lock_name(key, l->name, sizeof l->name);
    if (!(l->file = file_path(dir, l->name))) {
        free_lock(l);
        return tt_fail(e, ENOMEM, dir, NULL, NULL);
    }
    if (open_state_dir(dir, &l->dir, e) != 0 || lock_file(l, holder, e) != 0) {
        free_lock(l);
        return -1;
    }
    *out = l;
    return 0;
}

int tt_lock_dir(tt_confine *c, const char *path, tt_lock **out, tt_err *e)
{
    tt_lock *l = new_lock(path, e);
    if (!l) return -1;
    tt_at at;
    int rc = tt_at_open(c, path, &at, e);
    if (rc == 0) {
        rc = tt_at_opendir(&at, 0, &l->dir, e);
        tt_at_close(&at);
    }
    int err = rc == 0 ? pf_dir_lock(l->dir) : 0;
    if (err == EAGAIN)
        rc = tt_fail(e, EBUSY, path,
                     "another process holds a lock on it (a tether run of another user, or with "
                     "another journal directory)",
                     "wait for it to end");
    else if (err)
        rc = tt_fail(e, err, path, "this directory cannot be locked", NULL);
    if (rc != 0) {
        free_lock(l);
        return -1;
    }
    *out = l;
    return 0;
}

int tt_lock_say(tt_lock *l, const char *holder, tt_err *e)
{
    int err = l->name[0] ? pf_lock_write(l->fd, holder, strlen(holder)) : 0;
    return err ? tt_fail(e, err, l->path, "cannot write its lock file", NULL) : 0;
}

void tt_lock_release(tt_lock *l)
{
    if (!l) return;
    if (l->name[0]) {
        pf_dir_unlink(l->dir, l->name, 0); /* while still held: no one else has it */
        pf_lock_close(l->fd);
    }
    free_lock(l);
}

int tt_lock_query(const char *dir, const char *key, char *holder, size_t n, tt_err *e)
{
    holder[0] = '\0';
    char name[32];
    lock_name(key, name, sizeof name);
    pf_dir *d;
    tt_stat st;
    if (pf_lstat(dir, &st) == ENOENT) return TT_LOCK_NONE; /* nothing made yet */
    char *where = file_path(dir, name);
    if (!where) return tt_fail(e, ENOMEM, dir, NULL, NULL);
    int fd, state = -1, err = 0;
    if (open_state_dir(dir, &d, e) == 0 && (err = pf_lock_open(d, name, 0, &fd)) == ENOENT) {
        state = TT_LOCK_NONE;
    } else if (d && err) {
        open_failed(err, where, e);
    } else if (d) {
        if (check_file(fd, where, e) == 0) {
            err = pf_lock_try(fd, PF_LOCK_SHARED); /* only looks: the file stays */
            if (err && err != EAGAIN)
                tt_fail(e, err, where, "cannot look at this lock file", NULL);
            else
                state = err == EAGAIN ? TT_LOCK_HELD : TT_LOCK_STALE;
            pf_lock_read(fd, holder, n);
        }
        pf_lock_close(fd);
    }
    pf_dir_close(d);
    free(where);
    return state;
}
