/* Plain filesystem helpers the recipes and tests need beside links: making
 * directories (optionally with parents) and private temporary directories. */
#ifndef TETHER_CORE_FS_H
#define TETHER_CORE_FS_H

#include "error.h"

#include <stdint.h>

enum { TT_MKDIR_PARENTS = 1, TT_MKDIR_DRY = 2 };

int tt_mkdir(const char *path, unsigned flags, tt_err *e);
/* Creates a new directory named prefix + random suffix, mode 0700; *out is malloc'd. */
int tt_mkdtemp(const char *prefix, char **out, tt_err *e);

int tt_rename(const char *from, const char *to, tt_err *e);
int tt_statfs(const char *path, uint64_t *avail, uint64_t *total, tt_err *e);
unsigned long tt_pid(void);
uint64_t tt_link_max(const char *path);

#endif
