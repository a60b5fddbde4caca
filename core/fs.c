/* Directories and renames for core/: every change goes through the directory handle
 * core/at resolved, so it lands where it was checked. */
#include "fs.h"

#include "path.h"
#include "platform/platform.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* mkdir of at's name; EEXIST is fine for an existing directory with TT_FS_PARENTS. */
static int mkdir_at(const tt_at *at, int follow, unsigned flags, tt_stat *made, tt_err *e)
{
    tt_stat st;
    int err = pf_dir_stat(at->dir, at->name, follow ? PF_STAT_FOLLOW : 0, &st);
    if (err == 0) {
        if (st.type != TT_DIR)
            return tt_fail(e, EEXIST, at->path, "exists and is not a directory", NULL);
        if (!(flags & TT_FS_PARENTS)) return tt_fail(e, EEXIST, at->path, "already exists", NULL);
        if (made) *made = st;
        return 0;
    }
    if (err != ENOENT) return tt_fail(e, err, at->path, NULL, NULL);
    if (flags & TT_FS_DRY) return tt_at_writable(at, e);
    err = pf_dir_mkdir(at->dir, at->name, flags & TT_FS_PRIVATE ? 0700 : 0777);
    if (err == EEXIST && (flags & TT_FS_PARENTS) &&
        pf_dir_stat(at->dir, at->name, follow ? PF_STAT_FOLLOW : 0, &st) == 0 && st.type == TT_DIR)
        err = 0; /* made by someone else meanwhile: fine for mkdir -p */
    if (err) return tt_fail(e, err, at->path, NULL, NULL);
    /* Its identity, read through the same handle, for a journal to hold on to. */
    if (made && (err = pf_dir_stat(at->dir, at->name, 0, made)) != 0)
        return tt_fail(e, err, at->path, NULL, NULL);
    return 0;
}

int tt_mkdir(tt_confine *c, const char *path, unsigned flags, tt_stat *made, tt_err *e)
{
    if (!*path) return tt_fail(e, EINVAL, path, "empty path", NULL);
    tt_at at;
    int rc = tt_at_open(c, path, &at, e);
    if (rc && e->code == ENOENT && (flags & TT_FS_PARENTS)) {
        char *owned, *parent = NULL;
        const char *p = tt_path_untrail(path, &owned);
        parent = tt_path_dirname(p);
        rc = !parent                  ? tt_fail(e, ENOMEM, path, NULL, NULL)
             : strcmp(parent, p) == 0 ? -1
                                      : tt_mkdir(c, parent, flags & ~TT_FS_PRIVATE, NULL, e);
        free(parent);
        free(owned);
        if (rc == 0 && (flags & TT_FS_DRY)) return 0; /* made with its parents */
        if (rc == 0) rc = tt_at_open(c, path, &at, e);
    }
    if (rc) {
        if (e->code == ENOENT) e->msg = "the parent directory does not exist";
        return -1;
    }
    /* As typed, an existing name is judged as mkdir -p judges it (following a link);
     * under a run's roots, never. */
    rc = mkdir_at(&at, tt_confine_size(c) == 0, flags, made, e);
    tt_at_close(&at);
    return rc;
}

/* Removes the name path, never following a link: when it is of type want (a directory
 * must be empty) and still as x says. */
static int remove_name(tt_confine *c, const char *path, const tt_expect *x, unsigned flags,
                       tt_type want, tt_err *e)
{
    tt_at at;
    if (tt_at_open(c, path, &at, e) != 0) return -1;
    tt_stat st;
    int dir = want == TT_DIR, err = tt_at_stat(&at, &st), rc = 0;
    if (err)
        rc = tt_fail(e, err, path, NULL, NULL);
    else if (st.type != want && dir)
        rc = tt_fail(e, ENOTDIR, path, "is not a directory (a link is never followed here)", NULL);
    else if (st.type != want)
        rc = tt_fail(e, EINVAL, path,
                     "is not a regular file (a link or a directory is never removed here)", NULL);
    else if (tt_expect_check(x, &st, path, e))
        rc = -1;
    else if ((flags & TT_FS_DRY) && tt_at_writable(&at, e))
        rc = -1;
    else if (!(flags & TT_FS_DRY) && (err = pf_dir_unlink_id(at.dir, at.name, dir, &st)) != 0)
        rc = tt_fail(e, err, path,
                     dir && (err == ENOTEMPTY || err == EEXIST) ? "is not empty"
                     : err == TT_ECHANGED
                         ? "changed since it was planned: another object is there now"
                         : NULL,
                     NULL);
    tt_at_close(&at);
    if (!rc && dir && !(flags & TT_FS_DRY)) tt_confine_forget(c);
    return rc;
}

int tt_rmdir(tt_confine *c, const char *path, const tt_expect *x, unsigned flags, tt_err *e)
{
    return remove_name(c, path, x, flags, TT_DIR, e);
}

int tt_remove_file(tt_confine *c, const char *path, const tt_expect *x, unsigned flags, tt_err *e)
{
    if (!x || !(x->have & TT_X_ID))
        return tt_fail(e, EINVAL, path, "is not removed without the identity it must have", NULL);
    return remove_name(c, path, x, flags, TT_FILE, e);
}

int tt_rename(tt_confine *c, const char *from, const char *to, const tt_expect *x,
              const tt_expect *xto, unsigned flags, tt_stat *moved, tt_err *e)
{
    tt_at a, b;
    if (tt_at_open(c, from, &a, e) != 0) return -1;
    if (tt_at_open(c, to, &b, e) != 0) {
        tt_at_close(&a);
        return -1;
    }
    tt_stat st, tst;
    int rc = 0, err = tt_at_stat(&a, &st);
    int terr = tt_at_stat(&b, &tst);
    if (err == ENOENT)
        rc = tt_fail(e, err, from, "cannot rename: it does not exist", NULL);
    else if (err)
        rc = tt_fail(e, err, from, NULL, NULL);
    else if (tt_expect_check(x, &st, from, e))
        rc = -1;
    else if (terr && terr != ENOENT)
        rc = tt_fail(e, terr, to, NULL, NULL);
    else if (!terr && (flags & TT_FS_NOREPLACE))
        rc = tt_fail(e, EEXIST, to, "already exists", NULL);
    else if (terr && (flags & TT_FS_EXCHANGE))
        rc = tt_fail(e, terr, to, "cannot exchange with it: it does not exist", NULL);
    else if (!terr && tt_expect_check(xto, &tst, to, e))
        rc = -1;
    else if ((flags & TT_FS_DRY) && (tt_at_writable(&a, e) || tt_at_writable(&b, e)))
        rc = -1;
    if (!rc && !(flags & TT_FS_DRY)) {
        unsigned how = flags & TT_FS_EXCHANGE    ? PF_RENAME_EXCHANGE
                       : flags & TT_FS_NOREPLACE ? PF_RENAME_NOREPLACE
                                                 : 0;
        err = pf_dir_rename(a.dir, a.name, b.dir, b.name, how, x ? &st : NULL);
        /* No renameat2 here: the check above is the best there is (not atomic). */
        if ((err == ENOSYS || err == EINVAL || err == ENOTSUP) && how == PF_RENAME_NOREPLACE)
            err = pf_dir_stat(b.dir, b.name, 0, &tst) == 0
                      ? EEXIST
                      : pf_dir_rename(a.dir, a.name, b.dir, b.name, 0, x ? &st : NULL);
        if (err == TT_ECHANGED)
            rc = tt_fail(e, err, from, "changed since it was planned: another object is there now",
                         "left alone");
        else if (err == EXDEV)
            rc = tt_fail(e, err, to, "cannot rename across filesystems", NULL);
        else if (err == ENOTEMPTY || err == EEXIST)
            rc = tt_fail(e, err, to, "already exists and is not empty", NULL);
        else if (err)
            rc = tt_fail(e, err, from, NULL, NULL);
        else if (moved && (err = tt_at_stat(&b, moved)) != 0)
            rc = tt_fail(e, err, to, "renamed, but cannot be looked at", NULL);
    }
    tt_at_close(&a);
    tt_at_close(&b);
    if (!rc && !(flags & TT_FS_DRY)) tt_confine_forget(c);
    return rc;
}

int tt_create_file(tt_confine *c, const char *path, int mode, const uint32_t *owner, int *fd,
                   tt_stat *made, tt_err *e)
{
    tt_at at;
    if (tt_at_open(c, path, &at, e) != 0) return -1;
    int err = pf_dir_create(at.dir, at.name, mode < 0 ? 0666 : (unsigned)mode & 0700, fd);
    /* Set-user-ID, set-group-ID and sticky bits only on a file given to its owner first
     * (fchown clears the first two): root never makes a setuid file of its own. */
    if (!err && owner && (err = pf_fd_chown(*fd, owner[0], owner[1])) != 0) pf_append_close(*fd);
    unsigned bits = owner ? (unsigned)mode & 07777 : (unsigned)mode & 0777;
    if (!err && mode >= 0 && (err = pf_fd_chmod(*fd, bits)) != 0) pf_append_close(*fd);
    if (!err && (err = pf_append_stat(*fd, made)) != 0) pf_append_close(*fd);
    tt_at_close(&at);
    return err ? tt_fail(e, err, path, err == EEXIST ? "already exists" : NULL, NULL) : 0;
}

/* tt_stat.mode keeps the traditional type bits (platform.h), the same on every system. */
#define MODE_TYPE 0170000
#define MODE_CHR  0020000
#define MODE_FIFO 0010000
#define MODE_BLK  0060000
#define MODE_SOCK 0140000

/* Why st may not be written in place (*code its errno), or NULL when it may: a character
 * device or a FIFO. via_link: st is what a link leads to. */
static const char *not_in_place(const tt_stat *st, int via_link, int *code)
{
    unsigned t = st->mode & MODE_TYPE;
    if (st->type == TT_OTHER && (t == MODE_CHR || t == MODE_FIFO)) return NULL;
    *code = st->type == TT_DIR ? EISDIR : EINVAL;
    if (st->type == TT_DIR) return via_link ? "leads to a directory" : "is a directory";
    if (st->type == TT_FILE)
        return via_link ? "leads to a regular file, which is replaced whole, never written "
                          "through a link; name that file itself"
                        : "is a regular file, which is replaced whole, never written in place";
    if (t == MODE_BLK)
        return via_link ? "leads to a block device (a disk), never written in place"
                        : "is a block device (a disk), never written in place";
    if (t == MODE_SOCK)
        return via_link ? "leads to a socket, which cannot be written as a file"
                        : "is a socket, which cannot be written as a file";
    return via_link ? "leads to something that is neither a character device nor a FIFO"
                    : "is neither a regular file, a character device nor a FIFO";
}

/* After the open: what was opened must be what was checked. Without a link, the same
 * object; through one, the link must still be there unchanged (the same inode and
 * status change time: a link swapped out and back is a new one, or has a new ctime). */
static int opened_as_checked(const tt_at *at, const tt_stat *seen, int link, const tt_stat *st,
                             const char *path, tt_err *e)
{
    int code;
    const char *why = not_in_place(st, link, &code);
    if (why) return tt_fail(e, code, path, why, NULL);
    tt_expect x = {.have = TT_X_ID | (link ? TT_X_CTIME : 0), .st = *seen};
    tt_stat now;
    if (!link) return tt_expect_check(&x, st, path, e);
    int err = tt_at_stat(at, &now);
    return err ? tt_fail(e, err, path, "changed while it was opened", NULL)
               : tt_expect_check(&x, &now, path, e);
}

int tt_file_open(tt_confine *c, const char *path, const tt_expect *x, pf_file **out, tt_err *e)
{
    tt_at at;
    if (tt_at_open(c, path, &at, e) != 0) return -1;
    int err = pf_file_open(at.dir, at.name, out);
    tt_at_close(&at);
    if (err == ELOOP) err = TT_ECHANGED; /* a link now: not the file planned */
    if (err) return tt_fail(e, err, path, NULL, NULL);
    tt_stat st;
    if ((err = pf_file_stat(*out, &st)) == 0 && st.type != TT_FILE) err = TT_ECHANGED;
    if (!err && tt_expect_check(x, &st, path, e))
        err = TT_ECHANGED;
    else if (err)
        tt_fail(e, err, path, err == TT_ECHANGED ? "is not a regular file now" : NULL, NULL);
    if (err) {
        pf_file_close(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

int tt_open_in_place(tt_confine *c, const char *path, int *fd, tt_stat *st, tt_err *e)
{
    tt_at at;
    if (tt_at_open(c, path, &at, e) != 0) return -1;
    tt_stat seen;
    int code, rc = 0, err = tt_at_stat(&at, &seen);
    int link = !err && (seen.type == TT_SYMLINK || seen.type == TT_JUNCTION);
    const char *why = NULL;
    if (err)
        rc = tt_fail(e, err, path, NULL, NULL);
    else if (link && seen.uid != pf_euid() && seen.uid != 0)
        rc = tt_fail(e, EPERM, path,
                     "is a link that belongs to another user, who could point it anywhere; "
                     "not followed",
                     NULL);
    else if (!link && (why = not_in_place(&seen, 0, &code)) != NULL)
        rc = tt_fail(e, code, path, why, NULL);
    else if ((err = pf_dir_open_write(at.dir, at.name, link, fd, st)) != 0)
        rc = tt_fail(e, err, path,
                     err == ENXIO    ? "is a FIFO no process is reading (start its reader "
                                       "first), a socket, or a device that is not there"
                     : err == ELOOP  ? "changed while it was opened; not followed"
                     : err == EISDIR ? "leads to a directory"
                     : err == ENOENT ? "is a link that leads nowhere"
                                     : NULL,
                     NULL);
    else if ((rc = opened_as_checked(&at, &seen, link, st, path, e)) != 0)
        pf_append_close(*fd);
    tt_at_close(&at);
    return rc;
}

int tt_mkdtemp(const char *prefix, char **out, tt_err *e)
{
    const char *dir = prefix ? "" : pf_temp_dir(), *sep = prefix ? "" : TT_SEP_STR;
    if (!prefix) prefix = "tether-";
    size_t n = strlen(dir) + strlen(sep) + strlen(prefix);
    char *tmpl = malloc(n + 7);
    if (!tmpl) return tt_fail(e, ENOMEM, prefix, NULL, NULL);
    snprintf(tmpl, n + 7, "%s%s%sXXXXXX", dir, sep, prefix);
    int err = pf_mkdtemp(tmpl);
    if (err) {
        tmpl[n] = '\0';
        tt_fail(e, err, tmpl, "cannot create a temporary directory", NULL);
        free(tmpl);
        return -1;
    }
    *out = tmpl;
    return 0;
}

uint64_t tt_link_max(const char *path)
{
    return pf_link_max(path);
}

int tt_statfs(const char *path, uint64_t *avail, uint64_t *total, tt_err *e)
{
    int err = pf_statfs(path, avail, total);
    return err ? tt_fail(e, err, path, NULL, NULL) : 0;
}

unsigned long tt_pid(void)
{
    return pf_pid();
}
