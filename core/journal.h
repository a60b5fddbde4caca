/* The write-ahead journal of a run: one JSON-lines file, each line on stable storage
 * before the step it describes is taken, so a run killed at any instant can be resumed
 * or rolled back. core/ only makes lines durable and decides whether a journal may be
 * believed at all; what the lines say is up to the caller.
 *
 * A journal is evidence, not a command: one that another user could have written (its
 * directory or file not the caller's, or writable by group or others, or a link) is
 * refused before a line of it is read. */
#ifndef TETHER_CORE_JOURNAL_H
#define TETHER_CORE_JOURNAL_H

#include "error.h"

#include <stddef.h>

typedef struct tt_journal tt_journal;

/* Makes the journal directory (and its parents) if needed, mode 0700, and checks it is
 * one the caller alone can write. */
int tt_journal_dir(const char *dir, int create, tt_err *e);
/* Removes journal `name` (a regular file of the caller's) from the journal directory dir
 * (checked as tt_journal_dir does), through the directory's handle. */
int tt_journal_remove(const char *dir, const char *name, tt_err *e);
/* create: a new file (it must not exist; its directory is synced so the name survives
 * a crash); otherwise an existing journal, appended to. Either way it must be the
 * caller's alone. */
tt_journal *tt_journal_open(const char *path, int create, tt_err *e);
/* Appends one line (a newline is added) and, with sync, waits until it is on disk. */
int tt_journal_append(tt_journal *j, const char *line, size_t len, int sync, tt_err *e);
/* Waits until every line appended so far is on disk. */
int tt_journal_sync(tt_journal *j, tt_err *e);
void tt_journal_close(tt_journal *j);
/* The whole content of a journal the caller alone can write (malloc'd, NUL-terminated). */
int tt_journal_read(const char *path, char **data, size_t *len, tt_err *e);

#endif
