/* cmocka tests of core/scan: the walk and the classification on core/workq's threads
 * give exactly what the same scan on the caller's thread gives (same entries, same
 * order, same classes and targets, same counts), and a scan closed at any point stops
 * its threads and frees everything (ASan and a timeout would say otherwise). */
#include "../testutil.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/scan.h"

/* Enough entries for many batches (256 each): dirs of files, links to files, dirs,
 * nothing, and out of the tree. */
static int setup(void **state)
{
    char *t = tu_tmpdir(), *d = realpath(t, NULL);
    free(t);
    char p[PATH_MAX], q[PATH_MAX + 32];
    for (int i = 0; i < 40; i++) {
        snprintf(p, sizeof p, "%s/d%d", d, i);
        mkdir(p, 0755);
        for (int j = 0; j < 60; j++) {
            snprintf(q, sizeof q, "%s/f%d", p, j);
            if (j % 4) {
                tu_write(q, "x");
                continue;
            }
            const char *targets[] = {"f1", "../d0", "missing", "/"};
            snprintf(q, sizeof q, "%s/l%d", p, j);
            symlink(targets[(i + j / 4) % 4], q);
        }
    }
    *state = d;
    return 0;
}

static int teardown(void **state)
{
    tu_rmtree(*state);
    return 0;
}

typedef struct seen {
    char *text; /* one line per item: path, type, class and target */
    size_t len;
    tt_walk_stats stats;
} seen;

static void note(seen *s, const tt_scan_item *it)
{
    char line[PATH_MAX * 2];
    int n = snprintf(line, sizeof line, "%s %d %d %d %d %d %d %s %d\n", it->path, it->type,
                     it->classified, it->classified ? (int)it->c.status : -1,
                     it->classified ? it->c.escapes : -1, it->class_err, it->has_stat,
                     it->target ? it->target : "-", it->has_stat ? (int)it->st.size : -1);
    s->text = realloc(s->text, s->len + (size_t)n + 1);
    memcpy(s->text + s->len, line, (size_t)n + 1);
    s->len += (size_t)n;
}

/* Scans root; stops after `stop_after` items (negative: reads to the end). */
static void scan(const char *root, unsigned what, int threaded, int stop_after, seen *out)
{
    tt_walk_opts o = {.max_depth = -1, .target_cache = 16};
    const char *paths[] = {root};
    tt_roots roots = {paths, 1};
    tt_err e;
    tt_scan *s = tt_scan_open(root, &o, &roots, what, threaded, &e);
    assert_non_null(s);
    const tt_scan_item *it;
    int rc, n = 0;
    while ((stop_after < 0 || n < stop_after) && (rc = tt_scan_next(s, &it, &e)) == 1) {
        note(out, it);
        n++;
    }
    if (stop_after < 0) {
        assert_int_equal(rc, 0);
        char dir[16];
        tt_scan_progress(s, &out->stats, dir, sizeof dir);
    }
    tt_scan_close(s);
}

static void test_threads_change_nothing(void **state)
{
    const char *d = *state;
    const unsigned whats[] = {0, TT_SCAN_STAT, TT_SCAN_CLASSIFY, TT_SCAN_CLASSIFY | TT_SCAN_STAT};
    for (size_t i = 0; i < sizeof whats / sizeof *whats; i++) {
        seen a = {0}, b = {0};
        scan(d, whats[i], 0, -1, &a);
        scan(d, whats[i], 1, -1, &b);
        assert_non_null(a.text);
        assert_string_equal(a.text, b.text);
        assert_true(a.stats.entries == b.stats.entries && a.stats.entries == 40 * 61 + 1);
        assert_true(a.stats.links == b.stats.links && a.stats.links == 40 * 15);
        /* Targets come with the classification only. */
        assert_int_equal(strstr(a.text, " missing ") != NULL, (whats[i] & TT_SCAN_CLASSIFY) != 0);
        free(a.text);
        free(b.text);
    }
}

static void test_close_at_any_point(void **state)
{
    const char *d = *state;
    const int stops[] = {0, 1, 255, 256, 257, 1000, 2000};
    for (size_t i = 0; i < sizeof stops / sizeof *stops; i++) {
        for (int threaded = 0; threaded <= 1; threaded++) {
            seen a = {0};
            scan(d, TT_SCAN_CLASSIFY | TT_SCAN_STAT, threaded, stops[i], &a);
            free(a.text);
        }
    }
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_threads_change_nothing),
        T(test_close_at_any_point),
    };
    return cmocka_run_group_tests_name("core/scan", tests, NULL, NULL);
}
