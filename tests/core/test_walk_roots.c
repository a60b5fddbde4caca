/* cmocka tests of core/walk's roots, as tests/fuzz/fuzz_classify found them: --xdev
 * stays on the filesystem a root that is a link leads to. */
#include "../testutil.h"

#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "core/walk.h"

/* A mount namespace of this process's own (as root, or as root of a user namespace). */
static int own_mount_namespace(void)
{
    if (getuid() != 0) {
        uid_t uid = getuid();
        if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) return -1;
        char map[64];
        snprintf(map, sizeof map, "0 %u 1", (unsigned)uid);
        int fd = open("/proc/self/uid_map", O_WRONLY);
        if (fd < 0 || write(fd, map, strlen(map)) < 0) return -1;
        close(fd);
    } else if (unshare(CLONE_NEWNS) != 0) {
        return -1;
    }
    return mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
}

/* The walk's paths below root, joined by '|'. */
static void walk_names(const char *root, char *out, size_t len)
{
    tt_err e;
    tt_walk_opts o = {.xdev = 1, .max_depth = -1};
    tt_walk *w = tt_walk_open(root, &o, &e);
    tt_entry *en;
    out[0] = '\0';
    while (w && tt_walk_next(w, &en, &e) == 1) {
        strncat(out, en->path + strlen(root), len - strlen(out) - 1);
        strncat(out, "|", len - strlen(out) - 1);
    }
    tt_walk_close(w);
}

/* m is a tmpfs; m/r a link to real, on the test directory's filesystem, where another
 * tmpfs is mounted at real/other. Walked from m/r with xdev, the walk enters real's
 * directories (the filesystem the root leads to), not real/other. */
static void test_xdev_from_a_link_root_onto_another_filesystem(void **state)
{
    const char *d = *state;
    mkdir(tu_p(d, "m"), 0755);
    mkdir(tu_p(d, "real"), 0755);
    mkdir(tu_p(d, "real/sub"), 0755);
    mkdir(tu_p(d, "real/other"), 0755);
    tu_write(tu_p(d, "real/sub/f"), "x");
    pid_t pid = fork();
    if (pid == 0) {
        if (own_mount_namespace() != 0 || mount("t", tu_p(d, "m"), "tmpfs", 0, NULL) != 0 ||
            mount("t", tu_p(d, "real/other"), "tmpfs", 0, NULL) != 0)
            _exit(77);
        tu_write(tu_p(d, "real/other/hidden"), "x");
        symlink(tu_p(d, "real"), tu_p(d, "m/r"));
        char names[1024];
        walk_names(tu_p(d, "m/r"), names, sizeof names);
        _exit(strstr(names, "|/sub/f|") && strstr(names, "|/other|") && !strstr(names, "hidden")
                  ? 0
                  : (fprintf(stderr, "walked: %s\n", names), 3));
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 77) skip(); /* no mount namespace */
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, tu_setup_dir, tu_teardown_dir)
        T(test_xdev_from_a_link_root_onto_another_filesystem),
    };
    return cmocka_run_group_tests_name("core/walk roots", tests, NULL, NULL);
}
