/* Reaching a directory by an absolute path while trusting only some links on the way:
 * the walk core/at does once per root, before anything is resolved from handles. */
#ifndef TETHER_CORE_CHASE_H
#define TETHER_CORE_CHASE_H

#include "platform/platform.h"

#include <stdint.h>

/* Opens the directory at path (absolute), following links as the kernel would, but only
 * links that belong to the caller or to root (the rule of the kernel's protected_symlinks
 * and systemd's CHASE_SAFE, on every component): a link another user made could lead
 * anywhere the moment after it was looked at. Such a link gives EPERM, with *bad
 * (malloc'd) the path of the link and *owner its owner. *real (malloc'd) is the path
 * reached, its links resolved. On Windows, links are followed as the system does
 * (creating one takes a privilege or developer mode: docs/windows.md). Returns 0 or an
 * errno value. */
int tt_chase_owned(const char *path, pf_dir **out, char **real, char **bad, uint32_t *owner);

#endif
