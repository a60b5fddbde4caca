/* cmocka tests of core/verify: every difference a copy can have is found (type, size,
 * mode, modification time, link target, hard-link group, content with hashing), a tree
 * deeper than PATH_MAX is verified (handles, not paths), and names_only asks only that
 * every entry is there. */
#include "../testutil.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/tree.h"

typedef struct fx {
    char *d;
    char src[1024], dst[1024];
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->d = tu_tmpdir();
    snprintf(f->src, sizeof f->src, "%s/src", f->d);
    snprintf(f->dst, sizeof f->dst, "%s/dst", f->d);
    mkdir(f->src, 0755);
    tu_write(tu_p(f->src, "f"), "12345");
    tu_write(tu_p(f->src, "g"), "g");
    link(tu_p(f->src, "f"), tu_p(f->src, "h"));
    symlink("f", tu_p(f->src, "l"));
    tt_copy_opts o = {.no_sync = 1};
    tt_tree_stats st;
    tt_err e;
    assert_int_equal(tt_copytree(NULL, f->src, f->dst, &o, &st, &e), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    tu_rmtree(f->d);
    free(f);
    return 0;
}

static const char *verify(fx *f, int hash)
{
    static char msg[512];
    tt_copy_opts o = {.hash = hash};
    tt_err e;
    if (tt_verifytree(NULL, f->src, f->dst, &o, &e) == 0) return NULL;
    tt_errformat(&e, msg, sizeof msg);
    return msg;
}

static void keep_time(const char *from, const char *to)
{
    struct stat s;
    stat(from, &s);
    struct timespec ts[2] = {s.st_atim, s.st_mtim};
    utimensat(AT_FDCWD, to, ts, AT_SYMLINK_NOFOLLOW);
}

static void test_a_good_copy_passes(void **state)
{
    fx *f = *state;
    assert_null(verify(f, 0));
    assert_null(verify(f, 1));
}

static void test_each_difference_is_found(void **state)
{
    fx *f = *state;
    chmod(tu_p(f->dst, "g"), 0600);
    assert_non_null(strstr(verify(f, 0), "another mode"));
    chmod(tu_p(f->dst, "g"), 0644);
    chmod(tu_p(f->src, "g"), 0644);
    keep_time(tu_p(f->src, "g"), tu_p(f->dst, "g"));
    struct timespec ts[2] = {{5, 0}, {5, 0}};
    utimensat(AT_FDCWD, tu_p(f->dst, "g"), ts, 0);
    assert_non_null(strstr(verify(f, 0), "modification time"));
    keep_time(tu_p(f->src, "g"), tu_p(f->dst, "g"));
    tu_write(tu_p(f->dst, "g"), "G"); /* same size, same time once put back */
    keep_time(tu_p(f->src, "g"), tu_p(f->dst, "g"));
    assert_null(verify(f, 0));
    assert_non_null(strstr(verify(f, 1), "content differs"));
    tu_write(tu_p(f->dst, "g"), "longer");
    keep_time(tu_p(f->src, "g"), tu_p(f->dst, "g"));
    assert_non_null(strstr(verify(f, 0), "another size"));
}

static void test_links_groups_and_missing_entries(void **state)
{
    fx *f = *state;
    unlink(tu_p(f->dst, "l"));
    symlink("g", tu_p(f->dst, "l"));
    assert_non_null(strstr(verify(f, 0), "points elsewhere"));
    unlink(tu_p(f->dst, "l"));
    symlink("f", tu_p(f->dst, "l"));
    unlink(tu_p(f->dst, "h")); /* h becomes its own file: the group is broken */
    tu_write(tu_p(f->dst, "h"), "12345");
    keep_time(tu_p(f->src, "h"), tu_p(f->dst, "h"));
    chmod(tu_p(f->dst, "h"), 0644);
    chmod(tu_p(f->src, "h"), 0644);
    assert_non_null(strstr(verify(f, 0), "hard-linked"));
    unlink(tu_p(f->dst, "h"));
    link(tu_p(f->dst, "f"), tu_p(f->dst, "h"));
    unlink(tu_p(f->dst, "g"));
    assert_non_null(strstr(verify(f, 0), "missing in the copy"));
    mkdir(tu_p(f->dst, "g"), 0755);
    assert_non_null(strstr(verify(f, 0), "another type"));
}

static void test_names_only(void **state)
{
    fx *f = *state;
    tu_write(tu_p(f->dst, "g"), "a different size");
    tt_copy_opts o = {.names_only = 1};
    tt_err e;
    assert_int_equal(tt_verifytree(NULL, f->src, f->dst, &o, &e), 0);
    /* The other way: an entry only the copy has is found. */
    tu_write(tu_p(f->dst, "extra"), "x");
    assert_int_equal(tt_verifytree(NULL, f->dst, f->src, &o, &e), -1);
    assert_non_null(strstr(e.path, "extra"));
}

/* 30 levels of 200-byte names: 6000 bytes, more than PATH_MAX. */
static void test_deeper_than_path_max(void **state)
{
    fx *f = *state;
    char name[201];
    memset(name, 'd', 200);
    name[200] = '\0';
    int fd = open(f->src, O_RDONLY | O_DIRECTORY);
    for (int i = 0; i < 30; i++) {
        assert_int_equal(mkdirat(fd, name, 0755), 0);
        int next = openat(fd, name, O_RDONLY | O_DIRECTORY);
        close(fd);
        fd = next;
    }
    int file = openat(fd, "deep", O_WRONLY | O_CREAT, 0644);
    assert_true(write(file, "x", 1) == 1);
    close(file);
    close(fd);
    char copy[1100];
    snprintf(copy, sizeof copy, "%s/deepcopy", f->d);
    tt_copy_opts o = {.no_sync = 1, .hash = 1};
    tt_tree_stats st;
    tt_err e;
    assert_int_equal(tt_copytree(NULL, f->src, copy, &o, &st, &e), 0);
    assert_int_equal(tt_verifytree(NULL, f->src, copy, &o, &e), 0);
    assert_int_equal(tt_rmtree(NULL, copy, NULL, &e), 0);
    assert_int_equal(tt_rmtree(NULL, tu_p(f->src, name), NULL, &e), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(test_a_good_copy_passes),
        T(test_each_difference_is_found),
        T(test_links_groups_and_missing_entries),
        T(test_names_only),
        T(test_deeper_than_path_max),
    };
    return cmocka_run_group_tests_name("core/verify", tests, NULL, NULL);
}
