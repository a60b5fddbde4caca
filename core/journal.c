/* Journal files: append, then fdatasync, before the caller acts; and the trust checks
 * every journal passes before it is written to or read. */
#include "journal.h"

#include "at.h"
#include "fs.h"
#include "path.h"
#include "platform/platform.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tt_journal {
    int fd;
    char *path;
};

/* Whether st (a journal or its directory) is the caller's alone. */
static int private_to_caller(const tt_stat *st, int is_dir, const char *path, tt_err *e)
{
    if (is_dir && st->type != TT_DIR)
        return tt_fail(e, ENOTDIR, path, "the journal directory is not a directory (or is a link)",
                       NULL);
    if (!is_dir && st->type != TT_FILE)
        return tt_fail(e, EINVAL, path, "is not a regular file; not a journal", NULL);
#ifndef _WIN32
    if (st->uid != pf_euid())
        return tt_fail(e, EPERM, path,
                       is_dir ? "the journal directory belongs to another user; refused"
                              : "the journal belongs to another user; refused",
                       "journals are evidence of your own runs: use your own --journal-dir");
    if (st->mode & 022)
        return tt_fail(e, EPERM, path,
                       is_dir ? "the journal directory can be written by other users; refused"
                              : "the journal can be written by other users; refused",
                       is_dir ? "chmod go-w it, or use another --journal-dir" : "chmod go-w it");
#endif
    return 0;
}

#ifndef _WIN32
/* Whether every name on the way to p (p itself not included) is the caller's or root's,
 * and each directory among them can be written by no one else (a sticky one, as /tmp,
 * keeps others from renaming what is not theirs): otherwise another user could put
 * journals of their own in the place of these between a check and a read. */
static int way_is_private(const char *p, tt_err *e)
{
    char *buf = strdup(p);
    if (!buf) return tt_fail(e, ENOMEM, p, NULL, NULL);
    int rc = 0;
    for (size_t i = 1; buf[i] && rc == 0; i++) {
        if (buf[i] != '/') continue;
        buf[i] = '\0';
        tt_stat st;
        int err = pf_lstat(buf, &st);
        if (err == ENOENT) break; /* the rest is made here, private (TT_FS_PRIVATE) */
        if (err)
            rc = tt_fail(e, err, buf, "cannot be looked at on the way to the journal directory",
                         NULL);
        else if (st.uid != pf_euid() && st.uid != 0)
            rc = tt_fail(e, EPERM, buf,
                         "on the way to the journal directory, belongs to another user, who could "
                         "put other journals there; refused",
                         "use a --journal-dir only you and root can change");
        else if (st.type == TT_DIR && (st.mode & 022) && !(st.mode & 01000))
            rc = tt_fail(e, EPERM, buf,
                         "on the way to the journal directory, can be written by other users, who "
                         "could put other journals there; refused",
                         "use a --journal-dir only you and root can change");
        buf[i] = '/';
    }
    free(buf);
    return rc;
}

/* way_is_private for dir as given and for its real path (where its links lead). */
static int dir_is_private(const char *dir, tt_err *e)
{
    char *abs = tt_absolute(dir), *real = NULL;
    if (!abs) return tt_fail(e, ENOMEM, dir, NULL, NULL);
    int rc = way_is_private(abs, e);
    if (rc == 0 && pf_realpath(abs, &real) == 0 && strcmp(real, abs) != 0)
        rc = way_is_private(real, e);
    free(abs);
    free(real);
    return rc;
}
#endif

int tt_journal_dir(const char *dir, int create, tt_err *e)
{
    tt_stat st;
#ifndef _WIN32
    if (dir_is_private(dir, e) != 0) return -1; /* before anything is made on the way */
#endif
    int err = pf_lstat(dir, &st);
    if (err == ENOENT && create) {
        if (tt_mkdir(NULL, dir, TT_FS_PARENTS | TT_FS_PRIVATE, NULL, e) != 0) {
            e->msg = "the journal cannot be kept there";
            e->hint = "use --journal-dir";
            return -1;
        }
        err = pf_lstat(dir, &st);
#ifndef _WIN32
        /* What was made, and where its links lead, seen whole now. */
        if (!err && dir_is_private(dir, e) != 0) return -1;
#endif
    }
    if (err) return tt_fail(e, err, dir, "the journal cannot be kept there", "use --journal-dir");
    return private_to_caller(&st, 1, dir, e);
}

int tt_journal_remove(const char *dir, const char *name, tt_err *e)
{
    if (!*name || strchr(name, '/') || strchr(name, '\\') || !strcmp(name, ".") ||
        !strcmp(name, ".."))
        return tt_fail(e, EINVAL, name, "not a journal's name", NULL);
    if (tt_journal_dir(dir, 0, e) != 0) return -1;
    pf_dir *d;
    int err = pf_dir_open(NULL, dir, 0, &d);
    if (err) return tt_fail(e, err, dir, NULL, NULL);
    tt_stat st;
    err = pf_dir_stat(d, name, 0, &st);
    if (!err && private_to_caller(&st, 0, name, e) != 0) {
        pf_dir_close(d);
        return -1;
    }
    if (!err) err = pf_dir_unlink_id(d, name, 0, &st);
    pf_dir_close(d);
    return err ? tt_fail(e, err, name, "cannot remove this journal", NULL) : 0;
}

tt_journal *tt_journal_open(const char *path, int create, tt_err *e)
{
    tt_journal *j = calloc(1, sizeof *j);
    if (!j || !(j->path = strdup(path))) {
        free(j);
        return tt_fail(e, ENOMEM, path, NULL, NULL), NULL;
    }
    tt_stat st;
    int err = pf_append_open(path, create, &j->fd);
    if (err) {
        tt_fail(e, err, path, create ? "cannot create the journal" : "cannot open the journal",
                err == ENOSPC ? "the disk that holds journals is full; nothing was changed" : NULL);
    } else if ((err = pf_append_stat(j->fd, &st)) != 0 || private_to_caller(&st, 0, path, e) != 0) {
        if (err) tt_fail(e, err, path, NULL, NULL);
        pf_append_close(j->fd);
        err = err ? err : EPERM;
    } else if (!create && (err = pf_append_trim(j->fd)) != 0) {
        tt_fail(e, err, path, "cannot open the journal", NULL);
        pf_append_close(j->fd);
    } else if (create) {
        char *dir = tt_path_dirname(path);
        err = dir ? pf_sync_dir(dir) : ENOMEM;
        free(dir);
        if (err) {
            tt_fail(e, err, path, "cannot create the journal", NULL);
            pf_append_close(j->fd);
        }
    }
    if (err) {
        free(j->path);
        free(j);
        return NULL;
    }
    return j;
}

int tt_journal_append(tt_journal *j, const char *line, size_t len, int sync, tt_err *e)
{
    if (memchr(line, '\n', len))
        return tt_fail(e, EINVAL, j->path, "a journal record must be one line", NULL);
    char *buf = malloc(len + 1);
    if (!buf) return tt_fail(e, ENOMEM, j->path, NULL, NULL);
    memcpy(buf, line, len);
    buf[len] = '\n';
    int err = pf_append_write(j->fd, buf, len + 1, sync); /* one write: whole or absent */
    free(buf);
    return err ? tt_fail(e, err, j->path, "cannot write the journal",
                         err == ENOSPC ? "the disk that holds journals is full" : NULL)
               : 0;
}

int tt_journal_sync(tt_journal *j, tt_err *e)
{
    int err = pf_append_sync(j->fd);
    return err ? tt_fail(e, err, j->path, "cannot write the journal", NULL) : 0;
}

void tt_journal_close(tt_journal *j)
{
    if (!j) return;
    pf_append_close(j->fd);
    free(j->path);
    free(j);
}

int tt_journal_read(const char *path, char **data, size_t *len, tt_err *e)
{
    pf_file *f;
    int err = pf_file_open(NULL, path, &f);
    if (err) return tt_fail(e, err, path, err == ELOOP ? "is a link; not a journal" : NULL, NULL);
    tt_stat st;
    if ((err = pf_file_stat(f, &st)) != 0 || private_to_caller(&st, 0, path, e) != 0) {
        pf_file_close(f);
        return err ? tt_fail(e, err, path, NULL, NULL) : -1;
    }
    size_t cap = st.size + 1, n = 0, got;
    char *buf = malloc(cap);
    while (buf && (err = pf_file_read(f, buf + n, cap - 1 - n, &got)) == 0 && got == cap - 1 - n) {
        char *more = realloc(buf, cap * 2); /* it grew since the stat */
        if (!more) break;
        n += got, buf = more, cap *= 2;
    }
    pf_file_close(f);
    if (!buf || err) {
        free(buf);
        return tt_fail(e, err ? err : ENOMEM, path, NULL, NULL);
    }
    n += got;
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return 0;
}
