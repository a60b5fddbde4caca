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
    };
    return cmocka_run_group_tests_name("core/chase", tests, NULL, NULL);
}
