/* cmocka tests of core/walk, core/classify and core/scan on hand-built trees. */
#include "../testutil.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "core/classify.h"
#include "core/scan.h"
#include "core/walk.h"

static int count_fds(void)
{
    return tu_count_entries("/proc/self/fd");
}

/* Walks d and returns how many entries were seen; fills names (joined by '|'). */
static int walk_all(const char *d, const tt_walk_opts *o, char *names, size_t len)
{
    tt_err e;
    tt_walk *w = tt_walk_open(d, o, &e);
    assert_non_null(w);
    tt_entry *en;
    int n = 0;
    if (names) names[0] = '\0';
    while (tt_walk_next(w, &en, &e) == 1) {
        n++;
        if (names && en->depth > 0) {
            strncat(names, en->path + strlen(d) + 1, len - strlen(names) - 1);
            strncat(names, en->err ? "!|" : "|", len - strlen(names) - 1);
        }
    }
    tt_walk_close(w);
    return n;
}

static void test_walk_preorder_no_follow(void **state)
{
    const char *d = *state;
    mkdir(tu_p(d, "a"), 0755);
    tu_write(tu_p(d, "a/f"), "x");
    mkdir(tu_p(d, "real"), 0755);
    tu_write(tu_p(d, "real/inside"), "x");
    symlink("real", tu_p(d, "a/dirlink"));
    tt_walk_opts o = {.follow = 0, .max_depth = -1, .types = 0};
    char names[1024];
    int n = walk_all(d, &o, names, sizeof names);
    assert_int_equal(n, 6);                       /* root, a, a/f, a/dirlink, real, real/inside */
    assert_null(strstr(names, "dirlink/inside")); /* the link was not followed */
    /* Pre-order: a directory comes before what it contains. */
    char *a = strstr(names, "a|"), *af = strstr(names, "a/f|");
    assert_non_null(a);
    assert_non_null(af);
    assert_true(a < af);
}

static void test_walk_depth_and_types(void **state)
{
    const char *d = *state;
    mkdir(tu_p(d, "a"), 0755);
    mkdir(tu_p(d, "a/b"), 0755);
    tu_write(tu_p(d, "a/b/deep"), "x");
    symlink("x", tu_p(d, "a/l"));
    tt_walk_opts o = {.follow = 0, .max_depth = 1, .types = 0};
    assert_int_equal(walk_all(d, &o, NULL, 0), 2); /* root and a */
    o.max_depth = -1;
    o.types = 1u << TT_SYMLINK;
    char names[256];
    assert_int_equal(walk_all(d, &o, names, sizeof names), 1);
    assert_string_equal(names, "a/l|");
}

static void test_walk_50_levels(void **state)
{
    const char *d = *state;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s", d);
    for (int i = 0; i < 50; i++) {
        strcat(path, "/level");
        assert_int_equal(mkdir(path, 0755), 0);
    }
    strcat(path, "/bottom-link");
    assert_int_equal(symlink("../../nowhere", path), 0);
    tt_walk_opts o = {.follow = 0, .max_depth = -1, .types = 1u << TT_SYMLINK};
    tt_err e;
    tt_walk *w = tt_walk_open(d, &o, &e);
    tt_entry *en;
    assert_int_equal(tt_walk_next(w, &en, &e), 1);
    assert_int_equal(en->depth, 51);
    assert_string_equal(en->name, "bottom-link");
    tt_roots roots = {NULL, 0};
    char *target = NULL;
    size_t cap = 0;
    tt_class c;
    tt_dirchain *chain = tt_dirchain_open(d, 0, TT_TARGET_CACHE, &e);
    assert_non_null(chain);
    assert_int_equal(tt_classify_walked(chain, en->path, (size_t)(en->name - en->path), en->depth,
                                        en->type, &roots, &target, &cap, &c, &e),
                     0);
    tt_dirchain_close(chain);
    assert_string_equal(target, "../../nowhere");
    assert_int_equal(c.status, TT_ST_BROKEN);
    assert_int_equal(tt_walk_next(w, &en, &e), 0);
    free(target);
    tt_walk_close(w);
}

static void test_walk_cycle_when_following(void **state)
{
    const char *d = *state;
    mkdir(tu_p(d, "a"), 0755);
    mkdir(tu_p(d, "a/b"), 0755);
    symlink("../..", tu_p(d, "a/b/up")); /* leads back to the root */
    tt_walk_opts o = {.follow = 1, .max_depth = -1, .types = 0};
    char names[1024];
    int n = walk_all(d, &o, names, sizeof names);
    assert_int_equal(n, 4);
    assert_non_null(strstr(names, "a/b/up!|")); /* reported as a cycle, not descended */
}

static void test_walk_unreadable_dir(void **state)
{
    const char *d = *state;
    assert_int_equal(chmod(d, 0755), 0);
    mkdir(tu_p(d, "locked"), 0700);
    tu_write(tu_p(d, "locked/secret"), "x");
    mkdir(tu_p(d, "open"), 0755);
    tu_write(tu_p(d, "open/f"), "x");
    int root = geteuid() == 0;
    pid_t pid = fork();
    if (pid == 0) {
        if (root && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(77);
        if (!root && chmod(tu_p(d, "locked"), 0) != 0) _exit(2);
        tt_walk_opts o = {.follow = 0, .max_depth = -1, .types = 0};
        char names[1024];
        int n = walk_all(d, &o, names, sizeof names);
        /* The walk goes on past the directory it cannot read, and says so. */
        _exit(n == 4 && strstr(names, "locked!|") && strstr(names, "open/f|") ? 0 : 3);
    }
    int status;
    waitpid(pid, &status, 0);
    chmod(tu_p(d, "locked"), 0700);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
        print_message("skipped: cannot switch to an unprivileged user here\n");
        skip();
    }
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_walk_missing_root(void **state)
{
    tt_err e;
    tt_walk_opts o = {.follow = 0, .max_depth = -1, .types = 0};
    assert_null(tt_walk_open(tu_p(*state, "missing"), &o, &e));
    assert_int_equal(e.code, ENOENT);
}

/* Classifies every link under d; returns the class of the one named `name`. */
static tt_class class_of(const char *d, const char *name, const tt_roots *roots)
{
    tt_err e;
    tt_walk_opts o = {.follow = 0, .max_depth = -1, .types = 1u << TT_SYMLINK};
    tt_walk *w = tt_walk_open(d, &o, &e);
    tt_entry *en;
    tt_class c, found;
    memset(&found, 0xff, sizeof found);
    char *target = NULL;
    size_t cap = 0;
    tt_dirchain *chain = tt_dirchain_open(d, 0, TT_TARGET_CACHE, &e);
    assert_non_null(chain);
    while (tt_walk_next(w, &en, &e) == 1) {
        assert_int_equal(tt_classify_walked(chain, en->path, (size_t)(en->name - en->path),
                                            en->depth, en->type, roots, &target, &cap, &c, &e),
                         0);
        if (strcmp(en->name, name) == 0) found = c;
    }
    free(target);
    tt_dirchain_close(chain);
    tt_walk_close(w);
    return found;
}

static void test_classify_statuses_and_flags(void **state)
{
    const char *d = *state;
    char *real = realpath(d, NULL);
    const char *root_list[] = {real};
    tt_roots roots = {root_list, 1};
    mkdir(tu_p(d, "sub"), 0755);
    tu_write(tu_p(d, "file"), "x");
    symlink("../file", tu_p(d, "sub/ok"));
    symlink("gone", tu_p(d, "sub/broken"));
    symlink("../file/below", tu_p(d, "sub/notdir"));
    symlink("loop2", tu_p(d, "sub/loop1"));
    symlink("loop1", tu_p(d, "sub/loop2"));
    symlink("/etc", tu_p(d, "sub/outside"));
    symlink("..//file", tu_p(d, "sub/messy"));
    symlink("../sub/../file", tu_p(d, "sub/messy2"));
    symlink(tu_p(d, "file"), tu_p(d, "sub/abs-in"));
    char longname[300];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    symlink(longname, tu_p(d, "sub/toolong"));

    tt_class c = class_of(d, "ok", &roots);
    assert_int_equal(c.status, TT_ST_OK);
    assert_int_equal(c.target_type, TT_FILE);
    assert_false(c.absolute || c.escapes || c.messy || c.cross_fs);
    assert_int_equal(class_of(d, "broken", &roots).status, TT_ST_BROKEN);
    assert_int_equal(class_of(d, "notdir", &roots).status, TT_ST_BROKEN);
    assert_int_equal(class_of(d, "loop1", &roots).status, TT_ST_LOOP);
    assert_int_equal(class_of(d, "toolong", &roots).status, TT_ST_ERROR);
    c = class_of(d, "outside", &roots);
    assert_true(c.absolute && c.escapes);
    assert_true(class_of(d, "messy", &roots).messy);
    c = class_of(d, "messy2", &roots);
    assert_true(c.messy && !c.escapes && c.status == TT_ST_OK);
    c = class_of(d, "abs-in", &roots);
    assert_true(c.absolute && !c.escapes && c.status == TT_ST_OK);
    free(real);
}

static void test_classify_cross_fs(void **state)
{
    struct stat a, b;
    if (stat("/dev/shm", &b) != 0 || stat(*state, &a) != 0 || a.st_dev == b.st_dev) {
        skip();
        return;
    }
    symlink("/dev/shm", tu_p(*state, "shm"));
    tt_class c = class_of(*state, "shm", NULL);
    assert_int_equal(c.status, TT_ST_OK);
    assert_true(c.cross_fs);
}

/* A directory the walk went through is swapped for a link before its links are
 * classified: the classifier's own way down stops at the link (O_NOFOLLOW), and the link
 * is classified by its path as the filesystem is now, instead of failing. */
static void test_classify_after_a_directory_was_swapped(void **state)
{
    const char *d = *state;
    mkdir(tu_p(d, "real"), 0755);
    mkdir(tu_p(d, "real/sub"), 0755);
    symlink("../../real", tu_p(d, "real/sub/l"));
    mkdir(tu_p(d, "other"), 0755);
    mkdir(tu_p(d, "other/sub"), 0755);
    symlink("missing", tu_p(d, "other/sub/l"));
    tt_walk_opts o = {.follow = 0, .max_depth = -1, .types = 1u << TT_SYMLINK};
    tt_err e;
    tt_walk *w = tt_walk_open(d, &o, &e);
    tt_entry *en;
    assert_int_equal(tt_walk_next(w, &en, &e), 1);
    if (strstr(en->path, "other")) assert_int_equal(tt_walk_next(w, &en, &e), 1);
    assert_non_null(strstr(en->path, "real/sub/l"));
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s", en->path);
    size_t name_off = (size_t)(en->name - en->path);
    int depth = en->depth;
    tt_walk_close(w);
    assert_int_equal(rename(tu_p(d, "real"), tu_p(d, "moved")), 0);
    assert_int_equal(symlink("other", tu_p(d, "real")), 0);
    tt_dirchain *chain = tt_dirchain_open(d, 0, TT_TARGET_CACHE, &e);
    char *target = NULL;
    size_t cap = 0;
    tt_class c;
    assert_int_equal(
        tt_classify_walked(chain, path, name_off, depth, TT_SYMLINK, NULL, &target, &cap, &c, &e),
        0);
    assert_string_equal(target, "missing");
    assert_int_equal(c.status, TT_ST_BROKEN);
    free(target);
    tt_dirchain_close(chain);
}

static void test_scan_matches_walk_and_closes_early(void **state)
{
    const char *d = *state;
    char name[64];
    for (int i = 0; i < 40; i++) {
        snprintf(name, sizeof name, "dir%d", i);
        mkdir(tu_p(d, name), 0755);
        for (int j = 0; j < 30; j++) {
            snprintf(name, sizeof name, "dir%d/l%d", i, j);
            symlink(j % 3 ? "../dir0" : "missing", tu_p(d, name));
        }
    }
    int before = count_fds();
    tt_walk_opts o = {.follow = 0, .max_depth = -1, .types = 1u << TT_SYMLINK};
    tt_err e;
    tt_scan *s = tt_scan_open(d, &o, NULL, TT_SCAN_CLASSIFY, 1, &e);
    assert_non_null(s);
    const tt_scan_item *it;
    int n = 0, broken = 0;
    while (tt_scan_next(s, &it, &e) == 1) {
        n++;
        assert_true(it->classified);
        broken += it->c.status == TT_ST_BROKEN;
    }
    tt_scan_close(s);
    assert_int_equal(n, 1200);
    assert_int_equal(broken, 400);
    /* Stopping after three entries leaves no descriptor behind. */
    s = tt_scan_open(d, &o, NULL, TT_SCAN_CLASSIFY, 1, &e);
    for (int i = 0; i < 3; i++)
        assert_int_equal(tt_scan_next(s, &it, &e), 1);
    tt_scan_close(s);
    assert_int_equal(count_fds(), before);
    /* The same walk without the worker thread gives the same answer. */
    s = tt_scan_open(d, &o, NULL, TT_SCAN_CLASSIFY, 0, &e);
    n = broken = 0;
    while (tt_scan_next(s, &it, &e) == 1)
        n++, broken += it->c.status == TT_ST_BROKEN;
    tt_scan_close(s);
    assert_int_equal(n, 1200);
    assert_int_equal(broken, 400);
    assert_int_equal(count_fds(), before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, tu_setup_dir, tu_teardown_dir)
        T(test_walk_preorder_no_follow),
        T(test_walk_depth_and_types),
        T(test_walk_50_levels),
        T(test_walk_cycle_when_following),
        T(test_walk_unreadable_dir),
        T(test_walk_missing_root),
        T(test_classify_statuses_and_flags),
        T(test_classify_cross_fs),
        T(test_classify_after_a_directory_was_swapped),
        T(test_scan_matches_walk_and_closes_early),
    };
    return cmocka_run_group_tests_name("core/walk", tests, NULL, NULL);
}
