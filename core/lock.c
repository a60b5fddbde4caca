/* Lock files. After flock succeeds, the name must still lead to the locked file: a
 * holder that was letting go may have removed it in between, and a lock on a removed
 * file keeps nobody out. */
#include "lock.h"

#include "path.h"
#include "platform/platform.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tt_lock {
    tt_at at; /* the directory the lock file is in, and its name */
    int fd;
    char *path; /* of what is locked, for messages */
};

/* at: the directory of path and ".tether-lock-NAME" in it. */
static int lock_at(tt_confine *c, const char *path, tt_at *at, tt_err *e)
{
    if (tt_at_open(c, path, at, e) != 0) return -1;
    size_t n = strlen(at->name) + sizeof ".tether-lock-";
    char *name = malloc(n);
    if (!name) {
        tt_at_close(at);
        return tt_fail(e, ENOMEM, path, NULL, NULL);
    }
    snprintf(name, n, ".tether-lock-%s", at->name);
    free(at->buf);
    at->buf = name;
    at->name = name;
    return 0;
}

static int busy(const char *path, const char *holder, tt_err *e)
{
    static char msg[512];
    snprintf(msg, sizeof msg, "another tether run is working on it (%s)", holder);
    return tt_fail(e, EBUSY, path, msg, "wait for it to end, or see tether migrate --status");
}

int tt_lock_take(tt_confine *c, const char *path, const char *holder, tt_lock **out, tt_err *e)
{
    tt_lock *l = calloc(1, sizeof *l);
    if (l) l->path = strdup(path);
    if (!l || !l->path) {
        free(l);
        return tt_fail(e, ENOMEM, path, NULL, NULL);
    }
    if (lock_at(c, l->path, &l->at, e) != 0) {
        free(l->path);
        free(l);
        return -1;
    }
    for (int tries = 0;; tries++) {
        int err = pf_lock_open(l->at.dir, l->at.name, 1, &l->fd);
        if (err == EAGAIN) {
            char who[256] = "";
            pf_lock_read(l->at.dir, l->at.name, who, sizeof who);
            busy(path, who[0] ? who : "it has not said who yet", e);
            break;
        }
        if (err) {
            tt_fail(e, err, path, "cannot make its lock file", NULL);
            break;
        }
        tt_stat held, named;
        if (pf_append_stat(l->fd, &held) == 0 &&
            pf_dir_stat(l->at.dir, l->at.name, 0, &named) == 0 && held.dev == named.dev &&
            held.ino == named.ino) {
            if ((err = pf_lock_write(l->fd, holder, strlen(holder))) == 0) {
                *out = l;
                return 0;
            }
            tt_fail(e, err, path, "cannot write its lock file", NULL);
            pf_lock_close(l->fd);
            pf_dir_unlink(l->at.dir, l->at.name, 0);
            break;
        }
        pf_lock_close(l->fd); /* the file went while we locked it: again */
        if (tries == 10) {
            tt_fail(e, EAGAIN, path, "its lock file keeps changing", NULL);
            break;
        }
    }
    tt_at_close(&l->at);
    free(l->path);
    free(l);
    return -1;
}

int tt_lock_say(tt_lock *l, const char *holder, tt_err *e)
{
    int err = pf_lock_write(l->fd, holder, strlen(holder));
    return err ? tt_fail(e, err, l->at.path, "cannot write its lock file", NULL) : 0;
}

void tt_lock_release(tt_lock *l)
{
    if (!l) return;
    pf_dir_unlink(l->at.dir, l->at.name, 0); /* while still held: no one else has it */
    pf_lock_close(l->fd);
    tt_at_close(&l->at);
    free(l->path);
    free(l);
}

int tt_lock_query(tt_confine *c, const char *path, char *holder, size_t n, tt_err *e)
{
    tt_at at;
    if (lock_at(c, path, &at, e) != 0) return -1;
    holder[0] = '\0';
    tt_stat st;
    int state = TT_LOCK_NONE, fd;
    if (pf_dir_stat(at.dir, at.name, 0, &st) == 0) {
        pf_lock_read(at.dir, at.name, holder, n);
        int err = pf_lock_open(at.dir, at.name, 0, &fd);
        if (err == EAGAIN) {
            state = TT_LOCK_HELD;
        } else {
            state = err == ENOENT ? TT_LOCK_NONE : TT_LOCK_STALE;
            if (!err) pf_lock_close(fd); /* only looked: the file stays for its owner to see */
        }
    }
    tt_at_close(&at);
    return state;
}
