/* cmocka tests of core/chase: every shape of path (plain, ".", "..", repeated slashes,
 * relative and absolute links, a link whose target needs more than one read, a loop,
 * a file on the way, another user's link) reaches the directory the kernel would reach,
 * names it with its links resolved, or fails with the errno the kernel would give. */
#include "../testutil.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/chase.h"
#include "core/error.h"

/* The directory tree every test starts from, under the test's own (real) directory:
 * a/b/c/, file, up -> a/b/.., abs -> <dir>/a/b, loop1 <-> loop2. */
static int setup(void **state)
{
    char *t = tu_tmpdir(), *d = realpath(t, NULL);
    free(t);
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/a", d), mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/a/b", d), mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/a/b/c", d), mkdir(p, 0755);
    tu_write(tu_p(d, "file"), "x");
    symlink("a/b/..", tu_p(d, "up"));
    snprintf(p, sizeof p, "%s/a/b", d);
    symlink(p, tu_p(d, "abs"));
    symlink("loop2", tu_p(d, "loop1"));
    symlink("loop1", tu_p(d, "loop2"));
    *state = d;
    return 0;
}

/* Chases dir + rel and checks the handle is the directory realpath(3) reaches, named
 * as realpath names it. */
static void reaches(const char *dir, const char *rel)
{
    char path[PATH_MAX * 2], *want = NULL, *real = NULL, *bad = NULL;
    snprintf(path, sizeof path, "%s%s", dir, rel);
    want = realpath(path, NULL);
    assert_non_null(want);
    pf_dir *d = NULL;
    uint32_t owner = 0;
    assert_int_equal(tt_chase_owned(path, &d, &real, &bad, &owner), 0);
    assert_string_equal(real, want);
    assert_null(bad);
    tt_stat got;
    struct stat st;
    assert_int_equal(pf_dir_self(d, 0, &got), 0);
    assert_int_equal(stat(want, &st), 0);
    assert_true(got.dev == st.st_dev && got.ino == st.st_ino);
    pf_dir_close(d);
    free(real);
    free(want);
}

static int fails(const char *dir, const char *rel)
{
    char path[PATH_MAX * 2], *real = NULL, *bad = NULL;
    snprintf(path, sizeof path, "%s%s", dir, rel);
    pf_dir *d = NULL;
    uint32_t owner = 0;
    int err = tt_chase_owned(path, &d, &real, &bad, &owner);
    assert_null(d);
    assert_null(real);
    free(bad);
    return err;
}

static void test_every_shape_reaches_what_the_kernel_reaches(void **state)
{
    const char *d = *state;
    const char *shapes[] = {"",          "/",          "/a",          "//a///b/",    "/./a/./b/.",
                            "/a/b/c/..", "/a/b/../..", "/up",         "/up/b/c",     "/abs",
                            "/abs/c",    "/abs/../b",  "/up/../a/b/", "/abs/c/../.."};
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
        reaches(d, shapes[i]);
    reaches("/", "");
}

/* A target longer than one read's buffer: "./" repeated, then "a/b". */
static void test_long_target_is_read_whole(void **state)
{
    const char *d = *state;
    char target[3000] = "";
    while (strlen(target) < 2500)
        strcat(target, "./");
    strcat(target, "a/b");
    assert_int_equal(symlink(target, tu_p(d, "long")), 0);
    reaches(d, "/long/c");
}

static void test_kernel_errors(void **state)
{
    const char *d = *state;
    assert_int_equal(fails(d, "/missing"), ENOENT);
    assert_int_equal(fails(d, "/a/missing/b"), ENOENT);
    assert_int_equal(fails(d, "/file"), ENOTDIR);
    assert_int_equal(fails(d, "/file/a"), ENOTDIR);
    assert_int_equal(fails(d, "/loop1"), ELOOP);
    assert_int_equal(fails(d, "/loop1/a"), ELOOP);
    char name[NAME_MAX + 3] = "/";
    memset(name + 1, 'n', NAME_MAX + 1);
    name[NAME_MAX + 2] = '\0';
    assert_int_equal(fails(d, name), ENAMETOOLONG);
    assert_int_equal(fails("", "relative/path"), EINVAL);
}

/* Another user's link is not followed: EPERM, naming the link and its owner. */
static void test_another_users_link_is_refused(void **state)
{
    const char *d = *state;
    if (geteuid() != 0) skip(); /* only root can give a link away */
    assert_int_equal(symlink("a", tu_p(d, "theirs")), 0);
    assert_int_equal(lchown(tu_p(d, "theirs"), 65534, 65534), 0);
    char path[PATH_MAX * 2], *real = NULL, *bad = NULL, *want = tu_path(d, "theirs");
    snprintf(path, sizeof path, "%s/abs/../../theirs/b", d);
    pf_dir *h = NULL;
    uint32_t owner = 0;
    assert_int_equal(tt_chase_owned(path, &h, &real, &bad, &owner), EPERM);
    assert_null(h);
    assert_string_equal(bad, want);
    assert_int_equal(owner, 65534);
    free(bad);
    free(want);
}

/* The trust rule as docs and README state it: the caller's own link, or root's in a
 * directory whose owner is the caller or root and that no group or other may write. */
static int model_trusted(uint32_t link_uid, uint32_t dir_uid, uint32_t dir_mode, uint32_t euid)
{
    if (link_uid == euid && link_uid != 0) return 1;
    if (link_uid != 0) return 0;
    return (dir_uid == euid || dir_uid == 0) && !(dir_mode & (S_IWGRP | S_IWOTH));
}

static const uint32_t modes[] = {0700, 0755, 0775, 0757, 0777, 01777, 0570, 0720, 0702};

/* tt_link_trust against the model for every owner of link and directory, every mode,
 * root and another caller, and with no directory yet (the run's own). */
static void test_trust_rule(void **state)
{
    (void)state;
    const uint32_t uids[] = {0, 1000, 65534}, euids[] = {0, 1000};
    for (size_t e = 0; e < 2; e++)
        for (size_t l = 0; l < 3; l++) {
            uint32_t euid = euids[e], luid = uids[l];
            int none = tt_link_trust(luid, NULL, euid);
            assert_int_equal(none, luid == euid || luid == 0 ? TT_TRUSTED : TT_TRUST_NOT_OWNERS);
            for (size_t d = 0; d < 3; d++)
                for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
                    tt_stat dir = {.type = TT_DIR, .uid = uids[d], .mode = modes[m]};
                    int why = tt_link_trust(luid, &dir, euid);
                    assert_int_equal(why == TT_TRUSTED,
                                     model_trusted(luid, uids[d], modes[m], euid));
                    if (why != TT_TRUSTED)
                        assert_int_equal(why, luid == euid || luid == 0 ? TT_TRUST_OTHERS_DIR
                                                                        : TT_TRUST_NOT_OWNERS);
                }
        }
}

/* tt_chase_owned keeps the rule on real directories: a link of root's and one of another
 * user's, in a directory of each owner and mode, followed exactly when the rule says. */
static void test_chase_keeps_the_rule(void **state)
{
    const char *d = *state;
    if (geteuid() != 0) skip(); /* only root can give links and directories away */
    const uint32_t owners[] = {0, 65534};
    for (size_t o = 0; o < 2; o++)
        for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++)
            for (size_t l = 0; l < 2; l++) {
                char dir[PATH_MAX], link[PATH_MAX + 8], path[PATH_MAX + 16], target[PATH_MAX];
                snprintf(dir, sizeof dir, "%s/x%zu-%zu-%zu", d, o, m, l);
                snprintf(link, sizeof link, "%s/l", dir);
                snprintf(target, sizeof target, "%s/a", d);
                snprintf(path, sizeof path, "%s/b", link);
                assert_int_equal(mkdir(dir, 0700), 0);
                assert_int_equal(symlink(target, link), 0);
                assert_int_equal(lchown(link, owners[l], owners[l]), 0);
                assert_int_equal(chown(dir, owners[o], owners[o]), 0);
                assert_int_equal(chmod(dir, modes[m]), 0);
                pf_dir *h = NULL;
                char *real = NULL, *bad = NULL;
                uint32_t owner = 0;
                int err = tt_chase_owned(path, &h, &real, &bad, &owner);
                if (model_trusted(owners[l], owners[o], modes[m], 0)) {
                    assert_int_equal(err, 0);
                    pf_dir_close(h);
                    free(real);
                } else {
                    assert_int_equal(err, EPERM);
                    assert_string_equal(bad, link);
                    assert_int_equal(owner, owners[l]);
                    free(bad);
                }
            }
}

static int teardown(void **state)
{
    tu_rmtree(*state);
    return 0;
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_every_shape_reaches_what_the_kernel_reaches),
        T(test_long_target_is_read_whole),
        T(test_kernel_errors),
        T(test_another_users_link_is_refused),
        T(test_chase_keeps_the_rule),
        cmocka_unit_test(test_trust_rule),
    };
    return cmocka_run_group_tests_name("core/chase", tests, NULL, NULL);
}
