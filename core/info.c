/* Inspecting paths: lstat plus, for links, a resolution whose failure is classified. */
#include "info.h"

#include "at.h"
#include "link.h"
#include "path.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

tt_status tt_status_of(int err)
{
    switch (err) {
    case 0:
        return TT_ST_OK;
    case ENOENT:
    case ENOTDIR:
        return TT_ST_BROKEN;
    case ELOOP:
        return TT_ST_LOOP;
    case EACCES:
    case EPERM:
        return TT_ST_DENIED;
    default:
        return TT_ST_ERROR;
    }
}

const char *tt_type_name(tt_type t)
{
    static const char *const names[] = {"none", "file", "dir", "symlink", "junction", "other"};
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "other";
}

const char *tt_status_name(tt_status s)
{
    static const char *const names[] = {"none", "ok", "broken", "loop", "denied", "error"};
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "error";
}

int tt_info_get(const char *path, tt_info *out, tt_err *e)
{
    memset(out, 0, sizeof *out);
    if (!*path) return tt_fail(e, EINVAL, path, "empty path", NULL);
    char *owned;
    const char *p = tt_path_untrail(path, &owned); /* "link/" would make lstat follow it */
    int err = pf_lstat(p, &out->st);
    if (!err && (out->st.type == TT_SYMLINK || out->st.type == TT_JUNCTION)) {
        out->status_err = pf_stat(p, &out->target);
        out->status = tt_status_of(out->status_err);
    }
    free(owned);
    if (err == ENOTDIR)
        return tt_fail(e, err, path, "a parent of this path is not a directory", NULL);
    if (err) return tt_fail(e, err, path, NULL, NULL);
    return 0;
}

int tt_info_in(tt_confine *c, const char *path, tt_info *out, char **target, tt_err *e)
{
    if (target) *target = NULL;
    tt_at at;
    int rc = c ? tt_at_open(c, path, &at, e) : -1;
    if (rc != 0 && (!c || e->code == TT_EOUTSIDE || e->code == EINVAL)) {
        if (tt_info_get(path, out, e) != 0) return -1;
        if (target && (out->st.type == TT_SYMLINK || out->st.type == TT_JUNCTION) &&
            tt_readlink_alloc(path, target, e) != 0)
            *target = NULL; /* it vanished in between: no target then */
        return 0;
    }
    if (rc != 0) return -1;
    memset(out, 0, sizeof *out);
    int err = tt_at_stat(&at, &out->st);
    if (!err && (out->st.type == TT_SYMLINK || out->st.type == TT_JUNCTION)) {
        out->status_err = pf_dir_stat(at.dir, at.name, PF_STAT_FOLLOW, &out->target);
        out->status = tt_status_of(out->status_err);
        size_t cap = 0;
        if (target && tt_readlink_at(at.dir, at.name, target, &cap) != 0) {
            free(*target);
            *target = NULL;
        }
    }
    tt_at_close(&at);
    return err ? tt_fail(e, err, path, NULL, NULL) : 0;
}

int tt_stat_path(const char *path, int follow, tt_stat *st)
{
    return follow ? pf_stat(path, st) : pf_lstat(path, st);
}

int tt_realpath(const char *path, char **out, tt_err *e)
{
    if (!*path) return tt_fail(e, EINVAL, path, "empty path", NULL);
    int err = pf_realpath(path, out);
    if (err == ENOENT)
        return tt_fail(e, err, path, "does not exist (or a link on the way is broken)", NULL);
    if (err) return tt_fail(e, err, path, NULL, NULL);
    return 0;
}
