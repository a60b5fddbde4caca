/* Helpers for the cmocka tests: a private temporary directory per test, removed
 * afterwards without ever following a link, and small file utilities. */
#ifndef TETHER_TESTUTIL_H
#define TETHER_TESTUTIL_H

#define _GNU_SOURCE
#include <fcntl.h>
#include <dirent.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static inline char *tu_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char *t = malloc(PATH_MAX);
    snprintf(t, PATH_MAX, "%s/tether-test-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(t)) {
        perror("mkdtemp");
        abort();
    }
    return t;
}

static int tu_rm_one(const char *p, const struct stat *s, int flag, struct FTW *f)
{
    (void)s;
    (void)f;
    if (flag == FTW_DP || flag == FTW_D) chmod(p, 0700);
    return remove(p);
}

/* FTW_PHYS: links are removed as links, their targets are never visited. */
static inline void tu_rmtree(char *dir)
{
    chmod(dir, 0700);
    nftw(dir, tu_rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(dir);
}

/* The cmocka setup and teardown of a test that works in a fresh directory (*state). */
static inline int tu_setup_dir(void **state)
{
    *state = tu_tmpdir();
    return 0;
}

static inline int tu_teardown_dir(void **state)
{
    tu_rmtree(*state);
    return 0;
}

/* Returns a static buffer holding dir/name (one of two, so two can be live at once). */
static inline const char *tu_p(const char *dir, const char *name)
{
    static char buf[2][PATH_MAX * 2];
    static int which;
    which ^= 1;
    snprintf(buf[which], sizeof buf[which], "%s/%s", dir, name);
    return buf[which];
}

static inline char *tu_path(const char *dir, const char *name)
{
    return strdup(tu_p(dir, name));
}

static inline void tu_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        abort();
    }
    fputs(text, f);
    fclose(f);
}

static inline int tu_read_equals(const char *path, const char *text)
{
    char buf[4096] = "";
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strcmp(buf, text) == 0;
}

static inline int tu_count_entries(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    if (d) closedir(d);
    return n;
}

#endif
