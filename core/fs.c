/* Directory creation for core/: mkdir -p semantics without following a final link. */
#include "fs.h"

#include "path.h"
#include "platform/platform.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int tt_mkdir(const char *path, unsigned flags, tt_err *e)
{
    if (!*path) return tt_fail(e, EINVAL, path, "empty path", NULL);
    tt_stat st;
    int err = pf_stat(path, &st);
    if (err == 0) {
        if (st.type != TT_DIR)
            return tt_fail(e, EEXIST, path, "exists and is not a directory", NULL);
        if (flags & TT_MKDIR_PARENTS) return 0;
        return tt_fail(e, EEXIST, path, "already exists", NULL);
    }
    if (err != ENOENT) return tt_fail(e, err, path, NULL, NULL);
    if (flags & TT_MKDIR_PARENTS) {
        char *parent = tt_path_dirname(path);
        if (!parent) return tt_fail(e, ENOMEM, path, NULL, NULL);
        int rc = strcmp(parent, path) == 0 ? 0 : tt_mkdir(parent, flags, e);
        free(parent);
        if (rc) return rc;
    }
    if (flags & TT_MKDIR_DRY) return 0;
    err = pf_mkdir(path);
    if (err == EEXIST && (flags & TT_MKDIR_PARENTS) && pf_stat(path, &st) == 0 && st.type == TT_DIR)
        return 0; /* made by someone else meanwhile: fine for mkdir -p */
    if (err == ENOENT) return tt_fail(e, err, path, "the parent directory does not exist", NULL);
    if (err) return tt_fail(e, err, path, NULL, NULL);
    return 0;
}

int tt_mkdtemp(const char *prefix, char **out, tt_err *e)
{
    size_t n = strlen(prefix);
    char *tmpl = malloc(n + 7);
    if (!tmpl) return tt_fail(e, ENOMEM, prefix, NULL, NULL);
    memcpy(tmpl, prefix, n);
    memcpy(tmpl + n, "XXXXXX", 7);
    int err = pf_mkdtemp(tmpl);
    if (err) {
        free(tmpl);
        return tt_fail(e, err, prefix, "cannot create a temporary directory", NULL);
    }
    *out = tmpl;
    return 0;
}

int tt_rename(const char *from, const char *to, tt_err *e)
{
    int err = pf_rename(from, to);
    if (err == ENOENT)
        return tt_fail(e, err, from,
                       "cannot rename: it (or the new name's directory) does not exist", NULL);
    if (err == EXDEV) return tt_fail(e, err, to, "cannot rename across filesystems", NULL);
    if (err == ENOTEMPTY || err == EEXIST)
        return tt_fail(e, err, to, "already exists and is not empty", NULL);
    return err ? tt_fail(e, err, from, NULL, NULL) : 0;
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
