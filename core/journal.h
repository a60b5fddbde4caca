/* The write-ahead journal of a run: one JSON-lines file, each line on stable storage
 * before the step it describes is taken, so a run killed at any instant can be resumed
 * or rolled back. core/ only makes lines durable; what they say is up to the caller. */
#ifndef TETHER_CORE_JOURNAL_H
#define TETHER_CORE_JOURNAL_H

#include "error.h"

#include <stddef.h>

typedef struct tt_journal tt_journal;

/* create: a new file (it must not exist; its directory is synced so the name survives
 * a crash); otherwise an existing journal, appended to. */
tt_journal *tt_journal_open(const char *path, int create, tt_err *e);
/* Appends one line (a newline is added) and, with sync, waits until it is on disk. */
int tt_journal_append(tt_journal *j, const char *line, size_t len, int sync, tt_err *e);
/* Waits until every line appended so far is on disk. */
int tt_journal_sync(tt_journal *j, tt_err *e);
void tt_journal_close(tt_journal *j);

#endif
