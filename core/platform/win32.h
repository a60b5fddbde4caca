/* Helpers shared by the win32 platform files (win32.c, win32_copy.c) and their tests:
 * UTF-8 <-> UTF-16, error mapping, and the reparse-point encoding of links. */
#ifndef TETHER_PLATFORM_WIN32_H
#define TETHER_PLATFORM_WIN32_H

#include "platform.h"

#include <windows.h>
#include <fcntl.h>
#include <io.h>

/* A Windows error code as the errno value the POSIX layer would give. */
int pf_win_errno(unsigned long code);
/* UTF-8 -> UTF-16 (malloc'd; NULL when s is not valid UTF-8) and back (n characters). */
wchar_t *pf_win_wide(const char *s);
char *pf_win_utf8(const wchar_t *w, size_t n);
FILETIME pf_win_filetime(int64_t sec, int32_t nsec);
/* dir "\" name, malloc'd. */
char *pf_win_join(const char *dir, const char *name);
/* What GetFileInformationByHandle says of an open file, as a tt_stat. */
int pf_win_fill(HANDLE h, tt_stat *st);
/* The path an open pf_dir was opened with. */
const char *pf_win_dir_path(pf_dir *d);
/* The reparse data of a junction to the absolute path `full` (substitute name
 * "\??\full", print name "full"); returns its size, or 0 when cap is too small. */
size_t pf_win_junction_data(const wchar_t *full, void *out, size_t cap);
/* The target stored in reparse data of n bytes (a symlink or a junction), with the
 * "\??\" and "\??\UNC\" prefixes mapped back to "C:\..." and "\\server\...". */
int pf_win_reparse_target(const void *data, size_t n, char **out, tt_type *type);

#endif
