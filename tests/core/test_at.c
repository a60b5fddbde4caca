/* cmocka tests of core/at: a run's roots, paths below them reached without following a
 * link, and every change primitive refusing to be redirected by a directory swapped for
 * a link (to a "victim" directory outside the roots, which must come out unchanged). */
#include "../testutil.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/at.h"
#include "core/dedupe.h"
#include "core/fs.h"
#include "core/link.h"
#include "core/tree.h"

typedef struct fx {
    char *dir; /* the test's own directory */
    char root[1024], victim[1024];
    tt_confine *c; /* confined to root */
} fx;

/* root/sub/{file, link -> file, inner/}; victim/{file, link -> file, inner/}: the same
 * names, so a redirected change would find what it looks for. */
static void populate(const char *d)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/sub", d);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/sub/inner", d);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/sub/file", d);
    tu_write(p, "data");
    snprintf(p, sizeof p, "%s/sub/link", d);
    symlink("file", p);
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->dir = tu_tmpdir();
    snprintf(f->root, sizeof f->root, "%s/root", f->dir);
    snprintf(f->victim, sizeof f->victim, "%s/victim", f->dir);
    mkdir(f->root, 0755);
    mkdir(f->victim, 0755);
    populate(f->root);
    populate(f->victim);
    tt_err e;
    f->c = tt_confine_new(&e);
    assert_int_equal(tt_confine_add(f->c, f->root, NULL, &e), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    tt_confine_free(f->c);
    tu_rmtree(f->dir);
    free(f);
    return 0;
}

/* The attacker's move: root/sub becomes a link to the victim's sub. */
static void swap_sub(fx *f)
{
    char sub[2048], moved[2048], target[2048];
    snprintf(sub, sizeof sub, "%s/sub", f->root);
    snprintf(moved, sizeof moved, "%s/sub.real", f->root);
    snprintf(target, sizeof target, "%s/sub", f->victim);
    assert_int_equal(rename(sub, moved), 0);
    assert_int_equal(symlink(target, sub), 0);
}

/* Every entry of the victim, as it was. */
static char *listing(const char *d)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && find . -printf '%%p|%%y|%%l|%%s|%%i|%%T@\\n' | LC_ALL=C sort", d);
    FILE *p = popen(cmd, "r");
    static char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, p);
    buf[n] = '\0';
    pclose(p);
    return strdup(buf);
}

static const char *in(fx *f, const char *rel)
{
    return tu_p(f->root, rel);
}

/* A change below the swapped directory fails with ELOOP (the link is not followed) and
 * the victim stays as it was. */
static void assert_refused(fx *f, int rc, const tt_err *e, const char *before)
{
    assert_int_equal(rc, -1);
    assert_true(e->code == ELOOP || e->code == ENOTDIR);
    char *after = listing(f->victim);
    assert_string_equal(after, before);
    free(after);
}

static void test_paths_below_a_root_resolve(void **state)
{
    fx *f = *state;
    tt_at at;
    tt_err e;
    assert_int_equal(tt_at_open(f->c, in(f, "sub/file"), &at, &e), 0);
    assert_string_equal(at.name, "file");
    tt_stat st;
    assert_int_equal(tt_at_stat(&at, &st), 0);
    assert_int_equal(st.type, TT_FILE);
    tt_at_close(&at);
    /* A trailing '/' names the link itself; "." and ".." are not names to change. */
    assert_int_equal(tt_at_open(f->c, in(f, "sub/link/"), &at, &e), 0);
    assert_string_equal(at.name, "link");
    tt_at_close(&at);
    assert_int_equal(tt_at_open(f->c, in(f, "sub/."), &at, &e), -1);
    assert_int_equal(e.code, EINVAL);
    /* ".." is folded by name, never followed out of the root. */
    assert_int_equal(tt_at_open(f->c, in(f, "sub/../../victim/sub/file"), &at, &e), -1);
    assert_int_equal(e.code, TT_EOUTSIDE);
}

/* Directories resolved are kept in a small cache: one still held by an open tt_at is
 * never closed or reused under it, however many others are resolved meanwhile (and
 * after tt_confine_forget it is closed by its last user). */
static void test_held_directories_stay_open(void **state)
{
    fx *f = *state;
    tt_err e;
    char rel[64];
    for (int i = 0; i < 12; i++) {
        snprintf(rel, sizeof rel, "d%d", i);
        assert_int_equal(mkdir(in(f, rel), 0755), 0);
        snprintf(rel, sizeof rel, "d%d/f", i);
        tu_write(in(f, rel), "x");
    }
    tt_at held[10];
    for (int i = 0; i < 10; i++) { /* more than the cache holds, all held at once */
        snprintf(rel, sizeof rel, "d%d/f", i);
        assert_int_equal(tt_at_open(f->c, in(f, rel), &held[i], &e), 0);
    }
    tt_at more;
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 12; i++) { /* churn the cache */
            snprintf(rel, sizeof rel, "d%d/f", (i * 7 + round) % 12);
            assert_int_equal(tt_at_open(f->c, in(f, rel), &more, &e), 0);
            tt_at_close(&more);
        }
        if (round == 1) tt_confine_forget(f->c);
    }
    for (int i = 0; i < 10; i++) {
        tt_stat st;
        assert_int_equal(tt_at_stat(&held[i], &st), 0);
        assert_int_equal(st.type, TT_FILE);
        tt_at_close(&held[i]);
    }
}

static void test_outside_the_roots_is_refused(void **state)
{
    fx *f = *state;
    char *before = listing(f->victim);
    tt_err e;
    assert_int_equal(tt_unlink(f->c, tu_p(f->victim, "sub/link"), NULL, NULL, 0, &e), -1);
    assert_int_equal(e.code, TT_EOUTSIDE);
    assert_string_equal(tt_errname(e.code), "EOUTSIDE");
    char *after = listing(f->victim);
    assert_string_equal(after, before);
    free(before), free(after);
}

static void test_every_change_refuses_a_swapped_directory(void **state)
{
    fx *f = *state;
    char *before = listing(f->victim);
    swap_sub(f);
    tt_err e;
    tt_stat made;
    assert_refused(f, tt_unlink(f->c, in(f, "sub/link"), NULL, NULL, 0, &e), &e, before);
    assert_refused(f, tt_symlink(f->c, "x", in(f, "sub/new"), 0, &made, &e), &e, before);
    assert_refused(f, tt_replace(f->c, "x", in(f, "sub/link"), NULL, NULL, 0, &made, &e), &e,
                   before);
    assert_refused(f, tt_hardlink(f->c, in(f, "sub/file"), in(f, "h"), NULL, 0, &made, &e), &e,
                   before);
    assert_refused(f, tt_hardlink(f->c, in(f, "sub.real/file"), in(f, "sub/h"), NULL, 0, &made, &e),
                   &e, before);
    assert_refused(f, tt_mkdir(f->c, in(f, "sub/d"), 0, &made, &e), &e, before);
    assert_refused(f, tt_rmdir(f->c, in(f, "sub/inner"), NULL, 0, &e), &e, before);
    assert_refused(f, tt_rename(f->c, in(f, "sub/file"), in(f, "moved"), NULL, NULL, 0, &made, &e),
                   &e, before);
    assert_refused(
        f, tt_rename(f->c, in(f, "sub.real/file"), in(f, "sub/f2"), NULL, NULL, 0, &made, &e), &e,
        before);
    assert_refused(f, tt_rmtree(f->c, in(f, "sub/inner"), NULL, &e), &e, before);
    tt_expect any = {0};
    assert_refused(
        f, tt_link_over(f->c, in(f, "sub.real/file"), in(f, "sub/file"), NULL, &any, 0, NULL, &e),
        &e, before);
    tt_stat meta = {0};
    assert_refused(f, tt_unshare(f->c, in(f, "sub/file"), NULL, &meta, &e), &e, before);
    tt_tree_stats ts;
    tt_copy_opts co = {0};
    assert_refused(f, tt_copytree(f->c, in(f, "sub/inner"), in(f, "copy"), &co, &ts, &e), &e,
                   before);
    /* The directory itself is a link now: it is not entered, not removed, not copied. */
    assert_int_equal(tt_rmtree(f->c, in(f, "sub"), NULL, &e), -1);
    assert_int_equal(e.code, ENOTDIR);
    assert_int_equal(tt_copytree(f->c, in(f, "sub"), in(f, "copy"), &co, &ts, &e), -1);
    char *after = listing(f->victim);
    assert_string_equal(after, before);
    free(before), free(after);
}

/* Without roots, the parent is resolved as typed (the user's own prefix), and the check
 * and the change go through that one handle. */
static void test_as_typed_acts_through_the_parent(void **state)
{
    fx *f = *state;
    tt_err e;
    assert_int_equal(tt_unlink(NULL, in(f, "sub/link"), "file", NULL, 0, &e), 0);
    tt_stat st;
    assert_int_equal(pf_lstat(in(f, "sub/link"), &st), ENOENT);
    assert_int_equal(tt_unlink(NULL, in(f, "nowhere/link"), NULL, NULL, 0, &e), -1);
    assert_int_equal(e.code, ENOENT);
    assert_string_equal(e.msg, "the parent directory does not exist");
}

/* A root given through a link is the directory the link leads to (the user named it). */
static void test_root_through_a_link(void **state)
{
    fx *f = *state;
    char via[2048];
    snprintf(via, sizeof via, "%s/via", f->dir);
    assert_int_equal(symlink(f->root, via), 0);
    tt_err e;
    tt_confine *c = tt_confine_new(&e);
    assert_int_equal(tt_confine_add(c, via, NULL, &e), 0);
    assert_int_equal(tt_unlink(c, tu_p(via, "sub/link"), NULL, NULL, 0, &e), 0);
    tt_stat st;
    assert_int_equal(pf_lstat(in(f, "sub/link"), &st), ENOENT);
    tt_confine_free(c);
}

/* A link of another user on the way to a root (or to the parent of a path acted on as
 * typed) is not followed: that user could point it anywhere the moment after. The
 * caller's own links and root's are followed. (As root only: lchown.) */
static void test_another_users_link_not_followed(void **state)
{
    fx *f = *state;
    if (geteuid() != 0) {
        skip();
        return;
    }
    char via[2048];
    snprintf(via, sizeof via, "%s/via", f->dir);
    assert_int_equal(symlink(f->root, via), 0);
    assert_int_equal(lchown(via, 65534, 65534), 0);
    char *before = listing(f->root);
    tt_err e;
    tt_confine *c = tt_confine_new(&e);
    assert_int_equal(tt_confine_add(c, tu_p(via, "sub"), NULL, &e), -1);
    assert_int_equal(e.code, EPERM);
    assert_string_equal(e.path, via);
    assert_int_equal(tt_confine_size(c), 0);
    assert_int_equal(tt_unlink(NULL, tu_p(via, "sub/link"), NULL, NULL, 0, &e), -1);
    assert_int_equal(e.code, EPERM);
    assert_string_equal(e.path, via);
    char *after = listing(f->root);
    assert_string_equal(after, before);
    /* The root given is that link itself: it is the one thing acted on, never entered. */
    assert_int_equal(tt_confine_add(c, via, NULL, &e), 0);
    assert_int_equal(tt_unlink(c, tu_p(via, "sub/link"), NULL, NULL, 0, &e), -1);
    assert_int_equal(e.code, ENOTDIR);
    /* Made root's: followed. */
    assert_int_equal(lchown(via, 0, 0), 0);
    tt_confine *c2 = tt_confine_new(&e);
    assert_int_equal(tt_confine_add(c2, tu_p(via, "sub"), NULL, &e), 0);
    tt_confine_free(c2);
    tt_confine_free(c);
    free(before), free(after);
}

/* A journal's record of a root: the same directory, or nothing is done. */
static void test_root_identity_checked(void **state)
{
    fx *f = *state;
    tt_err e;
    tt_stat st;
    tt_confine_root(f->c, 0, &st);
    tt_expect x = {TT_X_ID, st};
    tt_confine *c = tt_confine_new(&e);
    assert_int_equal(tt_confine_add(c, f->root, &x, &e), 0);
    tt_confine_free(c);
    char moved[2048];
    snprintf(moved, sizeof moved, "%s.old", f->root);
    assert_int_equal(rename(f->root, moved), 0);
    assert_int_equal(mkdir(f->root, 0755), 0);
    c = tt_confine_new(&e);
    assert_int_equal(tt_confine_add(c, f->root, &x, &e), -1);
    assert_int_equal(e.code, TT_ECHANGED);
    assert_int_equal(tt_confine_size(c), 0);
    tt_confine_free(c);
}

/* After a run removes a directory it resolved, a path through that name leads to the
 * new one, not to the removed one still held open. */
static void test_removed_directories_are_forgotten(void **state)
{
    fx *f = *state;
    tt_err e;
    tt_stat made;
    assert_int_equal(tt_symlink(f->c, "x", in(f, "sub/inner/l"), 0, &made, &e), 0);
    assert_int_equal(tt_unlink(f->c, in(f, "sub/inner/l"), "x", NULL, 0, &e), 0);
    assert_int_equal(tt_rmdir(f->c, in(f, "sub/inner"), NULL, 0, &e), 0);
    assert_int_equal(tt_mkdir(f->c, in(f, "sub/inner"), 0, &made, &e), 0);
    assert_int_equal(tt_symlink(f->c, "y", in(f, "sub/inner/l"), 0, &made, &e), 0);
    char *t = NULL;
    assert_int_equal(tt_readlink_alloc(in(f, "sub/inner/l"), &t, &e), 0);
    assert_string_equal(t, "y");
    free(t);
}

static void test_expect_says_what_changed(void **state)
{
    (void)state;
    tt_stat a = {.type = TT_FILE, .dev = 1, .ino = 2, .size = 3, .mode = 0644};
    tt_expect x = {TT_X_TYPE | TT_X_ID | TT_X_SIZE | TT_X_MODE, a};
    assert_null(tt_expect_differs(&x, &a));
    assert_null(tt_expect_differs(NULL, &a));
    tt_stat b = a;
    b.ino = 9;
    assert_non_null(strstr(tt_expect_differs(&x, &b), "another object"));
    b = a;
    b.size = 4;
    assert_non_null(strstr(tt_expect_differs(&x, &b), "size"));
    b = a;
    b.mode = 0600;
    assert_non_null(strstr(tt_expect_differs(&x, &b), "mode"));
    x.have = TT_X_ID; /* only what was asked is compared */
    assert_null(tt_expect_differs(&x, &b));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(test_paths_below_a_root_resolve),        T(test_held_directories_stay_open),
        T(test_outside_the_roots_is_refused),      T(test_every_change_refuses_a_swapped_directory),
        T(test_as_typed_acts_through_the_parent),  T(test_root_through_a_link),
        T(test_another_users_link_not_followed),   T(test_root_identity_checked),
        T(test_removed_directories_are_forgotten), T(test_expect_says_what_changed),
    };
    return cmocka_run_group_tests_name("core/at", tests, NULL, NULL);
}
