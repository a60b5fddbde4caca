/* cmocka tests of what core reads from the environment, each in the one place that reads
 * it: the directory for temporary files (pf_temp_dir, through tt_mkdtemp's default) and
 * the walk's knobs (tt_walk_tuning_from_env), set, empty and unset. */
#include "../testutil.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/classify.h"
#include "core/fs.h"
#include "core/walk.h"

/* Makes tt_mkdtemp's default directory and checks it is a new private directory named
 * tether-XXXXXX right under `under`; removes it. */
static void assert_made_under(const char *under)
{
    char *made = NULL;
    tt_err e;
    assert_int_equal(tt_mkdtemp(NULL, &made, &e), 0);
    size_t n = strlen(under);
    assert_memory_equal(made, under, n);
    assert_memory_equal(made + n, "/tether-", strlen("/tether-"));
    assert_int_equal(strlen(made), n + strlen("/tether-") + 6);
    struct stat st;
    assert_int_equal(lstat(made, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0700);
    assert_int_equal(rmdir(made), 0);
    free(made);
}

static void test_temp_dir(void **state)
{
    const char *d = *state;
    char *saved = getenv("TMPDIR") ? strdup(getenv("TMPDIR")) : NULL;
    setenv("TMPDIR", d, 1);
    assert_made_under(d);
    setenv("TMPDIR", "", 1); /* empty: as if unset */
    assert_made_under("/tmp");
    unsetenv("TMPDIR");
    assert_made_under("/tmp");
    /* A TMPDIR that is not there: the error names where it tried and why. */
    char *gone = tu_path(d, "gone");
    setenv("TMPDIR", gone, 1);
    char *made = NULL;
    tt_err e;
    assert_int_equal(tt_mkdtemp(NULL, &made, &e), -1);
    assert_int_equal(e.code, ENOENT);
    char msg[TT_ERR_PATH_MAX + 256];
    tt_errformat(&e, msg, sizeof msg);
    assert_non_null(strstr(msg, "gone/tether-: cannot create a temporary directory"));
    assert_null(made);
    /* A prefix given is used as it is, TMPDIR or not. */
    assert_int_equal(tt_mkdtemp(tu_p(d, "mine-"), &made, &e), 0);
    assert_memory_equal(made, tu_p(d, "mine-"), strlen(tu_p(d, "mine-")));
    assert_int_equal(rmdir(made), 0);
    free(made);
    free(gone);
    if (saved)
        setenv("TMPDIR", saved, 1);
    else
        unsetenv("TMPDIR");
    free(saved);
}

static void test_walk_tuning(void **state)
{
    (void)state;
    struct {
        const char *threads, *cache; /* NULL: unset */
        int threaded, target_cache;
    } cases[] = {
        {NULL, NULL, 1, TT_TARGET_CACHE},
        {"", "", 1, TT_TARGET_CACHE},
        {"0", "0", 0, 0},
        {"1", "5", 1, 5},
        {"2", NULL, 1, TT_TARGET_CACHE},
        {NULL, "100", 1, 100},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (cases[i].threads)
            setenv("TETHER_THREADS", cases[i].threads, 1);
        else
            unsetenv("TETHER_THREADS");
        if (cases[i].cache)
            setenv("TETHER_TARGET_CACHE", cases[i].cache, 1);
        else
            unsetenv("TETHER_TARGET_CACHE");
        tt_walk_tuning t = tt_walk_tuning_from_env();
        assert_int_equal(t.threaded, cases[i].threaded);
        assert_int_equal(t.target_cache, cases[i].target_cache);
    }
    unsetenv("TETHER_THREADS");
    unsetenv("TETHER_TARGET_CACHE");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_temp_dir, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test(test_walk_tuning),
    };
    return cmocka_run_group_tests_name("env", tests, NULL, NULL);
}
