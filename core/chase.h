/* Reaching a directory by an absolute path while trusting only some links on the way:
 * the walk core/at does once per root, before anything is resolved from handles. */
#ifndef TETHER_CORE_CHASE_H
#define TETHER_CORE_CHASE_H

#include "platform/platform.h"

#include <stdint.h>

/* The trust rule for a link on the way, the one place it is written (the confinement's
 * walk below and apply's resolver, stdlib/tether/declare.lua, through
 * tether.link_trusted): a link is followed only when it is the caller's (euid), as the
 * kernel's protected_symlinks takes it (another user cannot make one of those), or
 * root's in a directory no other user can write (owned by the caller or root, no group
 * or other write bit): anyone who can write there could have moved one of root's links
 * in (rename keeps its owner; root's own undo makes links in users' directories). dir:
 * the directory the link is in; NULL when it is not there yet (one a run makes is its
 * own). Returns TT_TRUSTED, or why not. */
enum { TT_TRUSTED = 0, TT_TRUST_NOT_OWNERS = 1, TT_TRUST_OTHERS_DIR = 2 };
int tt_link_trust(uint32_t link_uid, const tt_stat *dir, uint32_t euid);

/* Opens the directory at path (absolute), following links as the kernel would, but only
 * links tt_link_trust trusts (on every component, as systemd's CHASE_SAFE): a link
 * another user made could lead anywhere the moment after it was looked at. Such a link
 * gives EPERM, with *bad (malloc'd) the path of the link and *owner its owner. *real (malloc'd) is
 * the path reached, its links resolved. On Windows, links are followed as the system does (creating
 * one takes a privilege or developer mode: docs/windows.md). Returns 0 or an errno value. */
int tt_chase_owned(const char *path, pf_dir **out, char **real, char **bad, uint32_t *owner);

#endif
