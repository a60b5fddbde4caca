/* cmocka tests of core/dedupe: byte-for-byte groups, files checked to be the ones the
 * walk saw before they are read, the swap of a copy for a link refused when either file
 * changed, the removal of old copies in the background, and unshare (undo) refusing a
 * file whose content or mode changed since. */
#include "../testutil.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/dedupe.h"

static tt_expect whole(const char *path)
{
    tt_expect x = {
        TT_X_TYPE | TT_X_ID | TT_X_SIZE | TT_X_MTIME | TT_X_CTIME | TT_X_MODE | TT_X_OWNER, {0}};
    assert_int_equal(pf_lstat(path, &x.st), 0);
    return x;
}

static void test_groups(void **state)
{
    const char *d = *state;
    char *a = tu_path(d, "a"), *b = tu_path(d, "b"), *c = tu_path(d, "c"), *m = tu_path(d, "m");
    tu_write(a, "same bytes");
    tu_write(b, "same bytes");
    tu_write(c, "other byte");
    const char *paths[4] = {a, b, c, m};
    int group[4], errs[4];
    tt_err e;
    assert_int_equal(tt_same_groups(NULL, paths, NULL, 4, group, errs, &e), 0);
    assert_int_equal(group[0], 0);
    assert_int_equal(group[1], 0);
    assert_int_equal(group[2], TT_SAME_NONE);
    assert_int_equal(group[3], TT_SAME_UNREADABLE);
    assert_int_equal(errs[3], ENOENT);
    /* A file that is not the one walked is left out, as if unreadable. */
    tt_expect xs[4] = {whole(a), whole(c), {0}, {0}}; /* b's expectation is c's */
    assert_int_equal(tt_same_groups(NULL, paths, xs, 2, group, errs, &e), 0);
    assert_int_equal(group[1], TT_SAME_UNREADABLE);
    assert_int_equal(errs[1], TT_ECHANGED);
    int same;
    assert_int_equal(tt_same_content(NULL, a, b, &same, &e), 0);
    assert_true(same);
    free(a), free(b), free(c), free(m);
}

static void test_link_over_and_unshare(void **state)
{
    const char *d = *state;
    char *keep = tu_path(d, "keep"), *copy = tu_path(d, "copy");
    tu_write(keep, "identical");
    tu_write(copy, "identical");
    tt_expect xk = whole(keep), xc = whole(copy);
    xk.have &= ~TT_X_CTIME; /* the kept file's ctime changes with every link made to it */
    tt_err e;
    assert_int_equal(tt_link_over(NULL, keep, copy, &xk, &xc, 0, NULL, &e), 0);
    struct stat a, b;
    assert_int_equal(stat(keep, &a), 0);
    assert_int_equal(stat(copy, &b), 0);
    assert_int_equal(a.st_ino, b.st_ino);
    assert_int_equal(tu_count_entries(d), 2); /* the old copy is gone, no temporary left */
    /* undo: it gets its own copy back, when it is still as the run left it */
    tt_expect shared = whole(copy);
    shared.have = TT_X_ID | TT_X_SIZE | TT_X_MTIME | TT_X_MODE;
    chmod(copy, 0600);
    assert_int_equal(tt_unshare(NULL, copy, &shared, &xc.st, &e), -1);
    assert_int_equal(e.code, TT_ECHANGED);
    assert_int_equal(stat(copy, &b), 0);
    assert_int_equal(a.st_ino, b.st_ino); /* still one file: nothing was done */
    chmod(copy, xc.st.mode & 07777);
    assert_int_equal(tt_unshare(NULL, copy, &shared, &xc.st, &e), 0);
    assert_int_equal(stat(copy, &b), 0);
    assert_true(a.st_ino != b.st_ino);
    assert_true(tu_read_equals(copy, "identical"));
    free(keep), free(copy);
}

/* Either file changed since it was planned: nothing is linked, nothing is lost. */
static void test_link_over_refuses_changed_files(void **state)
{
    const char *d = *state;
    char *keep = tu_path(d, "keep"), *copy = tu_path(d, "copy"), *other = tu_path(d, "other");
    tu_write(keep, "identical");
    tu_write(copy, "identical");
    tt_expect xk = whole(keep), xc = whole(copy);
    xk.have &= ~TT_X_CTIME;
    tu_write(other, "identical");
    assert_int_equal(rename(other, keep), 0); /* the kept file swapped for another */
    tt_err e;
    assert_int_equal(tt_link_over(NULL, keep, copy, &xk, &xc, 0, NULL, &e), -1);
    assert_int_equal(e.code, TT_ECHANGED);
    xk = whole(keep);
    xk.have &= ~TT_X_CTIME;
    tu_write(copy, "IDENTICAL"); /* the copy edited since it was compared */
    assert_int_equal(tt_link_over(NULL, keep, copy, &xk, &xc, 0, NULL, &e), -1);
    assert_int_equal(e.code, TT_ECHANGED);
    assert_true(tu_read_equals(copy, "IDENTICAL"));
    assert_int_equal(tu_count_entries(d), 2);
    free(keep), free(copy), free(other);
}

static void test_background_removal_is_drained(void **state)
{
    const char *d = *state;
    char *keep = tu_path(d, "keep");
    tu_write(keep, "identical");
    tt_expect xk = whole(keep);
    xk.have &= ~TT_X_CTIME;
    tt_err e;
    tt_workq *reaper = tt_reaper_start();
    assert_non_null(reaper);
    for (int i = 0; i < 20; i++) {
        char name[32];
        snprintf(name, sizeof name, "copy%d", i);
        char *copy = tu_path(d, name);
        tu_write(copy, "identical");
        tt_expect xc = whole(copy);
        assert_int_equal(tt_link_over(NULL, keep, copy, &xk, &xc, 0, reaper, &e), 0);
        free(copy);
    }
    assert_int_equal(tt_workq_finish(reaper, &e), 0);
    assert_int_equal(tu_count_entries(d), 21); /* no .tether-*.tmp left */
    struct stat a;
    assert_int_equal(stat(keep, &a), 0);
    assert_int_equal(a.st_nlink, 21);
    free(keep);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, tu_setup_dir, tu_teardown_dir)
        T(test_groups),
        T(test_link_over_and_unshare),
        T(test_link_over_refuses_changed_files),
        T(test_background_removal_is_drained),
    };
    return cmocka_run_group_tests_name("core/dedupe", tests, NULL, NULL);
}
