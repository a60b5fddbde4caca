/* Journal files: append, then fdatasync, before the caller acts. */
#include "journal.h"

#include "path.h"
#include "platform/platform.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct tt_journal {
    int fd;
    char *path;
};

tt_journal *tt_journal_open(const char *path, int create, tt_err *e)
{
    tt_journal *j = calloc(1, sizeof *j);
    if (!j || !(j->path = strdup(path))) {
        free(j);
        return tt_fail(e, ENOMEM, path, NULL, NULL), NULL;
    }
    int err = pf_append_open(path, create, &j->fd);
    if (!err && create) {
        char *dir = tt_path_dirname(path);
        err = dir ? pf_sync_dir(dir) : ENOMEM;
        free(dir);
        if (err) pf_append_close(j->fd);
    }
    if (err) {
        tt_fail(e, err, path, create ? "cannot create the journal" : "cannot open the journal",
                NULL);
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
    return err ? tt_fail(e, err, j->path, "cannot write the journal", NULL) : 0;
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
