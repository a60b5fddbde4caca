/* Directories, files and renames, reached through core/at like every other change:
 * making directories (optionally with parents), removing an empty one, renaming, files
 * made, opened for reading or written in place, and private temporary directories. */
#ifndef TETHER_CORE_FS_H
#define TETHER_CORE_FS_H

#include "at.h"
#include "error.h"

#include <stdint.h>

enum {
    TT_FS_PARENTS = 1,   /* tt_mkdir: make missing parents too (mkdir -p) */
    TT_FS_DRY = 2,       /* check everything, change nothing */
    TT_FS_NOREPLACE = 4, /* tt_rename: fail with EEXIST when `to` exists */
    TT_FS_EXCHANGE = 8,  /* tt_rename: swap the two names atomically */
    TT_FS_PRIVATE = 16,  /* tt_mkdir: the new directory gets mode 0700 */
};

/* A new directory (mode 0777 less the umask, or `mode`); *made (when not NULL) gets its
 * identity. With TT_FS_PARENTS an existing directory is fine. */
int tt_mkdir(tt_confine *c, const char *path, unsigned flags, tt_stat *made, tt_err *e);
/* Removes the empty directory at path (never a link to one), which must still be as x
 * says when given. */
int tt_rmdir(tt_confine *c, const char *path, const tt_expect *x, unsigned flags, tt_err *e);
/* Removes the regular file at path (never a link or a directory), which must still be
 * the one x says (its identity at least: x is required). Not stopped by a stop request:
 * it is one name, and what a run removes on its way out. */
int tt_remove_file(tt_confine *c, const char *path, const tt_expect *x, unsigned flags, tt_err *e);
/* rename(2) of from (which must still be as x says, when given) to `to` (which, when
 * it exists and xto is given, must still be as xto says); *moved (when not NULL) gets
 * what is at `to` afterwards. */
int tt_rename(tt_confine *c, const char *from, const char *to, const tt_expect *x,
              const tt_expect *xto, unsigned flags, tt_stat *moved, tt_err *e);
/* A new regular file at path (mode 0666 less the umask, or `mode`'s permission bits)
 * opened for writing in *fd: made by name in the directory core/at resolves, never over
 * an existing name and never through a link (EEXIST); *made gets its identity. owner
 * (uid, gid; NULL: the caller) is whom it is given to, through the open file, before
 * its mode is set: only then does it keep mode's set-user-ID and set-group-ID bits. */
int tt_create_file(tt_confine *c, const char *path, int mode, const uint32_t *owner, int *fd,
                   tt_stat *made, tt_err *e);
/* Opens the regular file at path for reading from its directory's handle (no link
 * followed), checking it is still as x says (when given); TT_ECHANGED otherwise. */
int tt_file_open(tt_confine *c, const char *path, const tt_expect *x, pf_file **out, tt_err *e);
/* Opens path for writing in place (*fd) when it is a character device (a terminal,
 * /dev/null) or a FIFO, or a link to one that belongs to the caller or to root
 * (/dev/stdout): another user's link could point anywhere. Nothing is made, truncated or
 * replaced. Anything else is refused (a regular file, even through a link, is for
 * replacing whole), a FIFO no process reads is ENXIO, and an object that changed while
 * it was opened is TT_ECHANGED. *st: what was opened. */
int tt_open_in_place(tt_confine *c, const char *path, int *fd, tt_stat *st, tt_err *e);
/* Creates a new directory named prefix + random suffix, mode 0700; *out is malloc'd.
 * prefix NULL: "tether-" in the system's directory for temporary files (pf_temp_dir). */
int tt_mkdtemp(const char *prefix, char **out, tt_err *e);
int tt_statfs(const char *path, uint64_t *avail, uint64_t *total, tt_err *e);
unsigned long tt_pid(void);
uint64_t tt_link_max(const char *path);

#endif
