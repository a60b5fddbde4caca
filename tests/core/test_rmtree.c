/* cmocka tests of core/rmtree: a tree goes, links in it go as links (never what they
 * lead to), a link given as the tree is refused, a directory that is not the one planned
 * is left alone, the caller's own read-only directories are made writable first, and
 * another filesystem mounted inside is never entered. */
#include "../testutil.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "core/tree.h"

/* d/t/{a/b/f, l -> ../outside, dl -> ../outside (a directory link)}; d/outside/kept */
static void make_tree(const char *d)
{
    char t[1024];
    snprintf(t, sizeof t, "%s/t", d);
    mkdir(t, 0755);
    mkdir(tu_p(t, "a"), 0755);
    mkdir(tu_p(t, "a/b"), 0755);
    tu_write(tu_p(t, "a/b/f"), "f");
    mkdir(tu_p(d, "outside"), 0755);
    tu_write(tu_p(d, "outside/kept"), "kept");
    symlink("../outside/kept", tu_p(t, "l"));
    symlink("../outside", tu_p(t, "dl"));
}

static void test_removes_a_tree_never_through_a_link(void **state)
{
    const char *d = *state;
    make_tree(d);
    tt_err e;
    assert_int_equal(tt_rmtree(NULL, tu_p(d, "t"), NULL, &e), 0);
    assert_int_equal(access(tu_p(d, "t"), F_OK), -1);
    assert_true(tu_read_equals(tu_p(d, "outside/kept"), "kept"));
    /* A link given as the tree: refused, and nothing behind it touched. */
    assert_int_equal(symlink("outside", tu_p(d, "t2")), 0);
    assert_int_equal(tt_rmtree(NULL, tu_p(d, "t2"), NULL, &e), -1);
    assert_int_equal(e.code, ENOTDIR);
    assert_true(tu_read_equals(tu_p(d, "outside/kept"), "kept"));
    /* trailing slash: still the link */
    assert_int_equal(tt_rmtree(NULL, tu_p(d, "t2/"), NULL, &e), -1);
    assert_true(tu_read_equals(tu_p(d, "outside/kept"), "kept"));
}

static void test_not_the_planned_directory(void **state)
{
    const char *d = *state;
    make_tree(d);
    tt_stat st;
    assert_int_equal(pf_lstat(tu_p(d, "outside"), &st), 0);
    tt_expect x = {TT_X_ID, st};
    tt_rm_opts o = {.expect = &x};
    tt_err e;
    assert_int_equal(tt_rmtree(NULL, tu_p(d, "t"), &o, &e), -1);
    assert_int_equal(e.code, TT_ECHANGED);
    assert_true(tu_read_equals(tu_p(d, "t/a/b/f"), "f"));
}

/* As an unprivileged owner: a read-only directory of one's own is made writable (chmod
 * option), else the removal stops there naming it. Root needs neither, so the check
 * runs in a child as nobody. */
static void test_own_read_only_directories(void **state)
{
    const char *d = *state;
    make_tree(d);
    chmod(d, 0755);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (geteuid() == 0) {
            if (chown(d, 65534, 65534) || setgid(65534) || setuid(65534)) _exit(77);
        }
        char t[1024];
        snprintf(t, sizeof t, "%s/mine", d);
        mkdir(t, 0755);
        mkdir(tu_p(t, "ro"), 0755);
        tu_write(tu_p(t, "ro/f"), "x");
        chmod(tu_p(t, "ro"), 0555);
        tt_err e;
        if (tt_rmtree(NULL, t, NULL, &e) != -1 || (e.code != EACCES && e.code != EPERM)) _exit(2);
        if (access(tu_p(t, "ro/f"), F_OK) != 0) _exit(3); /* nothing behind it went */
        tt_rm_opts o = {.chmod = 1};
        if (tt_rmtree(NULL, t, &o, &e) != 0) _exit(4);
        _exit(access(t, F_OK) == -1 ? 0 : 5);
    }
    int status;
    waitpid(pid, &status, 0);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
        skip();
        return;
    }
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* A filesystem mounted inside the tree: its contents are never touched (EBUSY names the
 * mount point). Needs root and mounting; skipped otherwise. */
static void test_a_mount_inside_is_never_emptied(void **state)
{
    const char *d = *state;
    make_tree(d);
    char *mnt = tu_path(d, "t/a"); /* its own copy: tu_p's buffer is reused below */
    if (geteuid() != 0 || mount("tmpfs", mnt, "tmpfs", 0, "size=1m") != 0) {
        free(mnt);
        print_message("skipped: mounting a tmpfs is not permitted here\n");
        skip();
        return;
    }
    tu_write(tu_p(d, "t/a/on-the-mount"), "precious");
    tt_err e;
    int rc = tt_rmtree(NULL, tu_p(d, "t"), NULL, &e);
    int saved = e.code;
    int intact = tu_read_equals(tu_p(d, "t/a/on-the-mount"), "precious");
    int unmounted = umount(mnt) == 0;
    free(mnt);
    assert_true(unmounted); /* the test leaves no mount behind */
    assert_int_equal(rc, -1);
    assert_int_equal(saved, EBUSY);
    assert_true(intact);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, tu_setup_dir, tu_teardown_dir)
        T(test_removes_a_tree_never_through_a_link),
        T(test_not_the_planned_directory),
        T(test_own_read_only_directories),
        T(test_a_mount_inside_is_never_emptied),
    };
    return cmocka_run_group_tests_name("core/rmtree", tests, NULL, NULL);
}
