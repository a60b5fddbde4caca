/* Reaching the object a change is about from a directory handle (the brief's rule 8).
 *
 * A run names its roots. Each is resolved once, following links in the spelling the user
 * gave (that prefix is the user's to choose), and held open. Every path below a root is
 * then reached from that handle one name at a time, never following a link and never
 * leaving the root, so another user who swaps a directory for a link during the run
 * cannot redirect the change. Without roots (one path from a script or the command
 * line), the path's parent is resolved as typed and the check and the change both go
 * through that one handle. Right before acting, the object is compared with what was
 * planned (tt_expect), and a different object is left alone (TT_ECHANGED). */
#ifndef TETHER_CORE_AT_H
#define TETHER_CORE_AT_H

#include "error.h"
#include "platform/platform.h"

#include <stddef.h>

/* What an object must still be for a planned change to go ahead: the fields whose bit
 * is set in `have` are compared with a fresh lstat. */
enum {
    TT_X_TYPE = 1 << 0,
    TT_X_ID = 1 << 1, /* device and inode */
    TT_X_SIZE = 1 << 2,
    TT_X_MTIME = 1 << 3,
    TT_X_CTIME = 1 << 4,
    TT_X_MODE = 1 << 5, /* permission bits */
    TT_X_OWNER = 1 << 6,
};
typedef struct tt_expect {
    unsigned have;
    tt_stat st;
} tt_expect;

/* NULL when st is as x expects (or x is NULL), else what differs ("a different file",
 * "its content changed", ...), for a message. */
const char *tt_expect_differs(const tt_expect *x, const tt_stat *st);
/* tt_fail(TT_ECHANGED) naming path and what differs, or 0 when it matches. */
int tt_expect_check(const tt_expect *x, const tt_stat *st, const char *path, tt_err *e);

typedef struct tt_confine tt_confine;

tt_confine *tt_confine_new(tt_err *e);
/* Adds a root: path resolved (links in it followed, as the user wrote it) and opened.
 * A root that is not a directory can still be acted on itself (a dangling link given
 * as a root of prune). With expect, the root must still be that directory (a journal's
 * record of it), else TT_ECHANGED and nothing is added. */
int tt_confine_add(tt_confine *c, const char *path, const tt_expect *expect, tt_err *e);
size_t tt_confine_size(const tt_confine *c);
/* Forgets the directories resolved so far (after a change that removed or renamed one,
 * a path may lead elsewhere). */
void tt_confine_forget(tt_confine *c);
/* The i-th root's absolute spelling and identity (what a journal records). */
const char *tt_confine_root(const tt_confine *c, size_t i, tt_stat *st);
/* Whether root i is a directory the run may act in (a directory, or a link to one that
 * was followed), not only an object to act on itself. */
int tt_confine_root_is_dir(const tt_confine *c, size_t i);
void tt_confine_free(tt_confine *c);

/* Where a change happens: the directory that holds the object, and its name there. */
typedef struct tt_at {
    pf_dir *dir;
    const char *name; /* inside buf */
    const char *path; /* as the caller gave it, for messages */
    char *buf;
    int owned;        /* dir is closed by tt_at_close (otherwise it belongs to the confinement) */
    pf_dir *root_dir; /* the object is a root: its directory, as resolved (borrowed) */
    tt_confine *conf; /* dir is the confinement's cached one, in slot `slot`, held until */
    int slot;         /* tt_at_close */
    struct tt_typed_slot *typed; /* dir is a parent kept without a confinement (at.c) */
} tt_at;

/* Resolves path to the directory that holds it and its last name. Under confinement the
 * path must lie in one of the roots (TT_EOUTSIDE otherwise) and the directories below
 * the root are opened without following a link (ELOOP names the one that is a link);
 * the root itself is acted on through its parent, as resolved when it was added. c NULL:
 * the parent is resolved as typed. A trailing '/' is ignored (the object is the name
 * itself, never what a link there points to); ".", ".." and "/" are not names to act on
 * (EINVAL). */
int tt_at_open(tt_confine *c, const char *path, tt_at *at, tt_err *e);
void tt_at_close(tt_at *at);
/* Lets go of the parent directories kept open for paths acted on without a confinement
 * (those no tt_at holds): at the end of each chunk a script or the REPL runs, so that a
 * directory (a mount) is not held busy after the call that used it. */
void tt_at_release(void);
/* lstat of the object through its handle (0 or the errno value). */
int tt_at_stat(const tt_at *at, tt_stat *st);
/* Whether the caller may make or remove names in the object's directory (a dry run's
 * answer to "would the change be permitted"); 0, or -1 with *e (EACCES, EROFS, ...). */
int tt_at_writable(const tt_at *at, tt_err *e);
/* Opens the directory the object names (never following a link there): for walking or
 * filling it. The root itself is opened as it was resolved. */
int tt_at_opendir(const tt_at *at, int how, pf_dir **out, tt_err *e);

/* The absolute, lexically normal form of p (the current directory joined in front of a
 * relative path), malloc'd; NULL when out of memory or the cwd cannot be read. */
char *tt_absolute(const char *p);

#endif
