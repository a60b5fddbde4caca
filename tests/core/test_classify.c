/* cmocka tests of core/classify's target-directory cache: each rule that sends a link to
 * the full lookup, the bound on open directories, and answers equal to the full lookup's
 * (the same tree classified with the cache off); and the cases tests/fuzz/fuzz_classify
 * found, reduced: the kernel's limit of 40 links per lookup, "escapes" from outside the
 * roots and through followed links. */
#include "../testutil.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "core/classify.h"
#include "core/walk.h"

/* Classifies every link under d with a cache of `cap` directories; writes
 * "name=status/errno|..." in walk order into out and returns the cache's counts. */
static tt_cache_stats classify_all(const char *d, int cap, char *out, size_t len)
{
    tt_err e;
    tt_walk_opts o = {.follow = 0, .max_depth = -1, .types = 1u << TT_SYMLINK};
    tt_walk *w = tt_walk_open(d, &o, &e);
    assert_non_null(w);
    tt_dirchain *chain = tt_dirchain_open(d, 0, cap, &e);
    assert_non_null(chain);
    tt_roots roots = {NULL, 0};
    char *target = NULL;
    size_t tcap = 0;
    tt_entry *en;
    out[0] = '\0';
    while (tt_walk_next(w, &en, &e) == 1) {
        if (en->err) continue; /* a directory it could not read */
        tt_class c;
        assert_int_equal(tt_classify_walked(chain, en->path, (size_t)(en->name - en->path),
                                            en->depth, en->type, &roots, &target, &tcap, &c, &e),
                         0);
        char one[512];
        snprintf(one, sizeof one, "%s=%s/%d|", en->name, tt_status_name(c.status), c.status_err);
        strncat(out, one, len - strlen(out) - 1);
    }
    tt_cache_stats st = *tt_dirchain_stats(chain);
    tt_dirchain_close(chain);
    tt_walk_close(w);
    free(target);
    return st;
}

/* The cache's answers for every link under d equal the full lookup's; returns the
 * counts with a cache of `cap`. */
static tt_cache_stats same_as_full_lookup(const char *d, int cap, char *got, size_t len)
{
    char full[4096];
    tt_cache_stats off = classify_all(d, 0, full, sizeof full);
    assert_int_equal(off.hits + off.misses + off.fallbacks, 0); /* off is off */
    tt_cache_stats on = classify_all(d, cap, got, len);
    assert_string_equal(got, full);
    return on;
}

static void test_cache_hits_in_one_directory(void **state)
{
    const char *d = *state;
    mkdir(tu_p(d, "t"), 0755);
    mkdir(tu_p(d, "l"), 0755);
    tu_write(tu_p(d, "t/a"), "a");
    tu_write(tu_p(d, "t/b"), "b");
    symlink("../t/a", tu_p(d, "l/1"));
    symlink("../t/b", tu_p(d, "l/2"));
    symlink("../t/c", tu_p(d, "l/3"));       /* broken: ENOENT from the cached directory */
    symlink(tu_p(d, "t/a"), tu_p(d, "l/4")); /* absolute: the same key */
    char got[4096];
    tt_cache_stats st = same_as_full_lookup(d, 16, got, sizeof got);
    assert_non_null(strstr(got, "3=broken/2|"));
    assert_int_equal(st.misses, 1);
    assert_int_equal(st.hits, 3);
    assert_int_equal(st.fallbacks, 0);
}

/* Rule: ".." after a name (after a link, it leads elsewhere than by name). */
static void test_cache_dotdot_after_a_link_falls_back(void **state)
{
    const char *d = *state;
    mkdir(tu_p(d, "real"), 0755);
    mkdir(tu_p(d, "real/deep"), 0755);
    tu_write(tu_p(d, "real/x"), "x");
    symlink("real/deep", tu_p(d, "sl"));
    /* By name sl/../x is ./x (absent); the kernel goes to real/deep/.. and finds real/x. */
    symlink("sl/../x", tu_p(d, "m"));
    char got[4096];
    tt_cache_stats st = same_as_full_lookup(d, 16, got, sizeof got);
    assert_non_null(strstr(got, "m=ok/0|"));
    assert_int_equal(st.fallbacks, 1);
}

/* Rule: a trailing '/' (the target must be a directory). */
static void test_cache_trailing_slash_falls_back(void **state)
{
    const char *d = *state;
    tu_write(tu_p(d, "file"), "x");
    mkdir(tu_p(d, "dir"), 0755);
    symlink("file/", tu_p(d, "f"));
    symlink("dir/", tu_p(d, "g"));
    symlink("..", tu_p(d, "up")); /* a last name of "..": the same */
    char got[4096];
    tt_cache_stats st = same_as_full_lookup(d, 16, got, sizeof got);
    assert_non_null(strstr(got, "f=broken/20|")); /* ENOTDIR */
    assert_non_null(strstr(got, "g=ok/0|"));
    assert_int_equal(st.fallbacks, 3);
    assert_int_equal(st.hits + st.misses, 0);
}

/* Rule: a directory that cannot be opened (missing, a file, a loop) is remembered as
 * such and its links take the full lookup, which tells ENOENT, ENOTDIR and ELOOP apart. */
static void test_cache_unopenable_directory_falls_back(void **state)
{
    const char *d = *state;
    tu_write(tu_p(d, "file"), "x");
    symlink("loop2", tu_p(d, "loop1"));
    symlink("loop1", tu_p(d, "loop2"));
    symlink("missing/x", tu_p(d, "n1"));
    symlink("missing/y", tu_p(d, "n2"));
    symlink("file/x", tu_p(d, "nd"));
    symlink("loop1/x", tu_p(d, "lp"));
    char got[4096];
    tt_cache_stats st = same_as_full_lookup(d, 16, got, sizeof got);
    assert_non_null(strstr(got, "n1=broken/2|"));
    assert_non_null(strstr(got, "n2=broken/2|"));
    assert_non_null(strstr(got, "nd=broken/20|"));
    assert_non_null(strstr(got, "lp=loop/40|"));
    assert_non_null(strstr(got, "loop1=loop/40|"));
    assert_int_equal(st.fallbacks, 6); /* and loop1, loop2: their last names are links */
}

/* Rule: a last name that is itself a link takes the full lookup (one count of links for
 * the whole way); through a link to a directory, any other last name is answered. */
static void test_cache_last_link_through_links_falls_back(void **state)
{
    const char *d = *state;
    mkdir(tu_p(d, "real"), 0755);
    tu_write(tu_p(d, "real/b"), "b");
    symlink("b", tu_p(d, "real/a"));
    symlink("real", tu_p(d, "lib"));
    mkdir(tu_p(d, "u"), 0755);
    symlink("../lib/a", tu_p(d, "u/chain"));
    symlink("../lib/b", tu_p(d, "u/plain"));
    symlink("../lib/c", tu_p(d, "u/gone"));
    char got[4096];
    tt_cache_stats st = same_as_full_lookup(d, 16, got, sizeof got);
    assert_non_null(strstr(got, "chain=ok/0|"));
    assert_non_null(strstr(got, "plain=ok/0|"));
    assert_non_null(strstr(got, "gone=broken/2|"));
    assert_int_equal(st.fallbacks, 1); /* chain */
}

/* A directory the caller may not search gives EACCES either way: opened as a path
 * (O_PATH needs no search right on it), looking a name up in it is refused. */
static void test_cache_denied_is_told_apart(void **state)
{
    const char *d = *state;
    if (geteuid() != 0) skip(); /* needs root to switch to an unprivileged user */
    assert_int_equal(chmod(d, 0755), 0);
    mkdir(tu_p(d, "locked"), 0700);
    tu_write(tu_p(d, "locked/secret"), "x");
    mkdir(tu_p(d, "open"), 0755);
    symlink("../locked/secret", tu_p(d, "open/denied"));
    symlink("../locked/secret", tu_p(d, "open/denied2"));
    pid_t pid = fork();
    if (pid == 0) {
        if (setgid(65534) != 0 || setuid(65534) != 0) _exit(77);
        char full[4096], got[4096];
        classify_all(d, 0, full, sizeof full);
        tt_cache_stats st = classify_all(d, 16, got, sizeof got);
        _exit(strcmp(full, got) == 0 && strstr(got, "denied=denied/13|") && st.misses == 1 &&
                      st.hits == 1
                  ? 0
                  : 3);
    }
    int status;
    waitpid(pid, &status, 0);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 77) skip();
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* The bound: with room for 2, links into 6 directories in turn keep at most 2 open. */
static void test_cache_is_bounded(void **state)
{
    const char *d = *state;
    char name[64], target[64];
    for (int i = 0; i < 6; i++) {
        snprintf(name, sizeof name, "t%d", i);
        mkdir(tu_p(d, name), 0755);
        snprintf(name, sizeof name, "t%d/f", i);
        tu_write(tu_p(d, name), "x");
    }
    mkdir(tu_p(d, "l"), 0755);
    for (int i = 0; i < 30; i++) {
        snprintf(name, sizeof name, "l/%02d", i);
        snprintf(target, sizeof target, "../t%d/f", i % 6);
        symlink(target, tu_p(d, name));
    }
    int before = tu_count_entries("/proc/self/fd");
    char got[8192];
    tt_err e;
    tt_walk_opts o = {.follow = 0, .max_depth = -1, .types = 1u << TT_SYMLINK};
    tt_walk *w = tt_walk_open(d, &o, &e);
    tt_dirchain *chain = tt_dirchain_open(d, 0, 2, &e);
    char *t = NULL;
    size_t tcap = 0;
    tt_entry *en;
    int most = 0;
    tt_roots roots = {NULL, 0};
    while (tt_walk_next(w, &en, &e) == 1) {
        tt_class c;
        tt_classify_walked(chain, en->path, (size_t)(en->name - en->path), en->depth, en->type,
                           &roots, &t, &tcap, &c, &e);
        assert_int_equal(c.status, TT_ST_OK);
        int now = tu_count_entries("/proc/self/fd") - before;
        if (now > most) most = now;
    }
    /* The walk's own (root, l) and the chain's (root, l), plus the cache's 2. */
    assert_true(most <= 6);
    tt_cache_stats st = *tt_dirchain_stats(chain);
    assert_int_equal(st.hits + st.misses, 30);
    assert_true(st.misses > 6); /* with room for all six, only the first link to each */
    tt_dirchain_close(chain);
    tt_walk_close(w);
    free(t);
    assert_int_equal(tu_count_entries("/proc/self/fd"), before);
    same_as_full_lookup(d, 2, got, sizeof got);
}

/* No cache when the walk follows links: the walked names are not real directories. */
static void test_cache_off_when_following(void **state)
{
    const char *d = *state;
    tu_write(tu_p(d, "f"), "x");
    symlink("f", tu_p(d, "l"));
    tt_err e;
    tt_dirchain *chain = tt_dirchain_open(d, 1, 16, &e);
    tt_roots roots = {NULL, 0};
    char *t = NULL;
    size_t tcap = 0;
    tt_class c;
    char *path = tu_path(d, "l");
    assert_int_equal(
        tt_classify_walked(chain, path, strlen(d) + 1, 1, TT_SYMLINK, &roots, &t, &tcap, &c, &e),
        0);
    assert_int_equal(c.status, TT_ST_OK);
    const tt_cache_stats *st = tt_dirchain_stats(chain);
    assert_int_equal(st->hits + st->misses + st->fallbacks, 0);
    tt_dirchain_close(chain);
    free(path);
    free(t);
}

/* Classifies every link under root (following links or not) with a cache of `cap`,
 * checks each status against the kernel's (stat() through the link) and writes
 * "path below root=status/errno/escapes|" into out. */
static void classify_as_kernel(const char *root, int follow, int cap, const tt_roots *roots,
                               char *out, size_t len)
{
    tt_err e;
    tt_walk_opts o = {.follow = follow, .max_depth = -1, .types = 1u << TT_SYMLINK};
    tt_walk *w = tt_walk_open(root, &o, &e);
    assert_non_null(w);
    tt_dirchain *chain = tt_dirchain_open(root, follow, cap, &e);
    assert_non_null(chain);
    char *target = NULL;
    size_t tcap = 0;
    tt_entry *en;
    out[0] = '\0';
    while (tt_walk_next(w, &en, &e) == 1) {
        if (en->err) continue;
        tt_class c;
        assert_int_equal(tt_classify_walked(chain, en->path, (size_t)(en->name - en->path),
                                            en->depth, en->type, roots, &target, &tcap, &c, &e),
                         0);
        struct stat st;
        int kernel = stat(en->path, &st) == 0 ? 0 : errno;
        if (c.status_err != kernel)
            fail_msg("%s -> %s: %s/%d, the kernel says errno %d", en->path, target,
                     tt_status_name(c.status), c.status_err, kernel);
        char one[512];
        snprintf(one, sizeof one, "%s=%s/%d/%d|", en->path + strlen(root), tt_status_name(c.status),
                 c.status_err, c.escapes);
        strncat(out, one, len - strlen(out) - 1);
    }
    tt_dirchain_close(chain);
    tt_walk_close(w);
    free(target);
}

/* The same answers with the cache off, at 2 and at 16 directories; returns them. */
static void classify_every_way(const char *root, int follow, const tt_roots *roots, char *out,
                               size_t len)
{
    char other[8192];
    classify_as_kernel(root, follow, 0, roots, out, len);
    classify_as_kernel(root, follow, 2, roots, other, sizeof other);
    assert_string_equal(other, out);
    classify_as_kernel(root, follow, 16, roots, other, sizeof other);
    assert_string_equal(other, out);
}

/* Links d/<prefix>1 .. <prefix>n, each to the one before, the first to `end`. */
static void chain(const char *d, const char *prefix, int n, const char *end)
{
    char name[64], target[64];
    const char *base = strrchr(prefix, '/') ? strrchr(prefix, '/') + 1 : prefix;
    for (int i = 1; i <= n; i++) {
        snprintf(name, sizeof name, "%s%d", prefix, i);
        snprintf(target, sizeof target, "%s%d", base, i - 1);
        symlink(i == 1 ? end : target, tu_p(d, name));
    }
}

/* The kernel follows at most 40 links in one lookup, counting the link being classified:
 * through it, a chain of 40 more is a loop, though the chain alone resolves. Both
 * shortcuts (the open ancestor, the target cache) start past the link itself. */
static void test_links_limit_counts_the_link_itself(void **state)
{
    const char *d = *state;
    char target[PATH_MAX];
    mkdir(tu_p(d, "t"), 0755);
    mkdir(tu_p(d, "l"), 0755);
    tu_write(tu_p(d, "t/f"), "f");
    chain(d, "t/c", 40, "f");              /* t/c<i>: i links to t/f */
    symlink("../t/c39", tu_p(d, "l/r39")); /* 40 links: ok */
    symlink("../t/c40", tu_p(d, "l/r40")); /* 41: a loop */
    symlink("c40", tu_p(d, "t/x40"));      /* the same from the ancestor shortcut */
    snprintf(target, sizeof target, "%s/t/c40", d);
    symlink(target, tu_p(d, "l/a40"));
    char got[8192];
    classify_every_way(d, 0, NULL, got, sizeof got);
    assert_non_null(strstr(got, "/l/r39=ok/0/"));
    assert_non_null(strstr(got, "/l/r40=loop/40/"));
    assert_non_null(strstr(got, "/t/x40=loop/40/"));
    assert_non_null(strstr(got, "/l/a40=loop/40/"));
    assert_non_null(strstr(got, "/t/c40=ok/0/"));
}

/* A directory the cache reaches through links: each link on the way counts. Through a
 * link to "." k times (one link each), and through a link whose own target is a chain
 * (the cache cannot count that one: the full lookup does). */
static void test_links_limit_on_the_way_to_the_directory(void **state)
{
    const char *d = *state;
    char name[64], target[PATH_MAX];
    mkdir(tu_p(d, "l"), 0755);
    mkdir(tu_p(d, "dir"), 0755);
    tu_write(tu_p(d, "f"), "f");
    tu_write(tu_p(d, "dir/g"), "g");
    symlink(".", tu_p(d, "s"));
    for (int k = 39; k <= 40; k++) { /* l/s<k> -> ../s/s/.../s/f: k + 1 links */
        strcpy(target, "..");
        for (int i = 0; i < k; i++)
            strcat(target, "/s");
        strcat(target, "/f");
        snprintf(name, sizeof name, "l/s%d", k);
        symlink(target, tu_p(d, name));
    }
    chain(d, "q", 39, "dir");               /* q<i>: i links to dir */
    symlink("q39", tu_p(d, "p"));           /* 40 links to dir */
    symlink("../q39/g", tu_p(d, "l/viaq")); /* 1 + 39: ok */
    symlink("../p/g", tu_p(d, "l/viap"));   /* 1 + 40: a loop */
    char got[8192];
    classify_every_way(d, 0, NULL, got, sizeof got);
    assert_non_null(strstr(got, "/l/s39=ok/0/"));
    assert_non_null(strstr(got, "/l/s40=loop/40/"));
    assert_non_null(strstr(got, "/l/viaq=ok/0/"));
    assert_non_null(strstr(got, "/l/viap=loop/40/"));
}

/* A relative target without ".." stays below its link's directory, which is inside the
 * roots only when the link is: not so for a root that is a link, nor for any link when
 * the roots are elsewhere. */
static void test_escapes_from_a_directory_outside_the_roots(void **state)
{
    const char *d = *state;
    mkdir(tu_p(d, "other"), 0755);
    symlink("x/y", tu_p(d, "r"));
    char *real = realpath(tu_p(d, "other"), NULL);
    const char *paths[] = {real};
    tt_roots roots = {paths, 1};
    char *target = NULL;
    size_t tcap = 0;
    tt_class c;
    tt_err e;
    assert_int_equal(tt_classify_path(tu_p(d, "r"), &roots, &target, &tcap, &c, &e), 0);
    assert_int_equal(c.escapes, 1);
    /* The same link as a walk's root (it dangles: only "other" is a root). */
    char got[8192];
    classify_every_way(tu_p(d, "r"), 0, &roots, got, sizeof got);
    assert_string_equal(got, "=broken/2/1|");
    free(target);
    free(real);
}

/* A walk that follows links reaches a link through them: its directory is where they
 * lead, and "escapes" is judged from there, not from the names walked. */
static void test_escapes_when_the_walk_follows_links(void **state)
{
    const char *d = *state;
    mkdir(tu_p(d, "w"), 0755);
    mkdir(tu_p(d, "sub"), 0755);
    tu_write(tu_p(d, "z"), "z");
    symlink("..", tu_p(d, "w/up"));
    symlink("../z", tu_p(d, "sub/c")); /* walked as w/up/sub/c: d/z, outside w */
    symlink("z", tu_p(d, "sub/in"));   /* d/sub/z: outside w too */
    char *real = realpath(tu_p(d, "w"), NULL);
    const char *paths[] = {real};
    tt_roots roots = {paths, 1};
    char got[8192];
    classify_as_kernel(tu_p(d, "w"), 1, 0, &roots, got, sizeof got);
    assert_non_null(strstr(got, "/up/sub/c=ok/0/1|"));
    assert_non_null(strstr(got, "/up/sub/in=broken/2/1|"));
    free(real);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, tu_setup_dir, tu_teardown_dir)
        T(test_cache_hits_in_one_directory),
        T(test_cache_dotdot_after_a_link_falls_back),
        T(test_cache_trailing_slash_falls_back),
        T(test_cache_unopenable_directory_falls_back),
        T(test_cache_last_link_through_links_falls_back),
        T(test_cache_denied_is_told_apart),
        T(test_cache_is_bounded),
        T(test_cache_off_when_following),
        T(test_links_limit_counts_the_link_itself),
        T(test_links_limit_on_the_way_to_the_directory),
        T(test_escapes_from_a_directory_outside_the_roots),
        T(test_escapes_when_the_walk_follows_links),
    };
    return cmocka_run_group_tests_name("core/classify", tests, NULL, NULL);
}
