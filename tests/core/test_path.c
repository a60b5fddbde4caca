/* cmocka tests of core/path: lexical helpers and the canonical-parent resolution. */
#include "../testutil.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/path.h"

static void check(char *got, const char *want)
{
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void test_dirname_basename(void **state)
{
    (void)state;
    check(tt_path_dirname("a/b"), "a");
    check(tt_path_dirname("b"), ".");
    check(tt_path_dirname("/b"), "/");
    check(tt_path_dirname("/"), "/");
    check(tt_path_dirname("a//b//"), "a");
    check(tt_path_basename("a/b/"), "b");
    check(tt_path_basename("/"), ""); /* the root has no last component */
    check(tt_path_basename("name with space"), "name with space");
}

static void test_join_normalize(void **state)
{
    (void)state;
    check(tt_path_join("a/", "b"), "a/b");
    check(tt_path_join("a", "/abs"), "/abs");
    check(tt_path_join("/", "x"), "/x");
    check(tt_path_normalize("/a//b/./c/../d/"), "/a/b/d");
    check(tt_path_normalize("../a/../../b"), "../../b");
    check(tt_path_normalize("/.."), "/");
    check(tt_path_normalize("a/.."), ".");
    check(tt_path_normalize(""), ".");
}

static void test_relative(void **state)
{
    (void)state;
    check(tt_path_relative("/a/b", "/a/b/c"), "c");
    check(tt_path_relative("/a/b", "/a/x/y"), "../x/y");
    check(tt_path_relative("/a/b", "/a/b"), ".");
    check(tt_path_relative("/", "/etc"), "etc");
    check(tt_path_relative("/a/b/c", "/"), "../../..");
    check(tt_path_relative("/ab", "/a"), "../a"); /* components, not string prefixes */
}

static void test_canonical_parent(void **state)
{
    (void)state;
    char *d = tu_tmpdir(), *real = NULL, *out = NULL;
    tt_err e;
    assert_int_equal(mkdir(tu_p(d, "real"), 0755), 0);
    assert_int_equal(symlink("real", tu_p(d, "via")), 0);
    assert_int_equal(symlink("elsewhere", tu_p(d, "real/last")), 0);
    real = realpath(d, NULL);
    assert_int_equal(tt_path_canonical_parent(tu_p(d, "via/last"), &out, &e), 0);
    char want[PATH_MAX * 2];
    snprintf(want, sizeof want, "%s/real/last", real); /* the last link is not followed */
    check(out, want);
    assert_int_equal(tt_path_canonical_parent(tu_p(d, "via/new/../x"), &out, &e), 0);
    snprintf(want, sizeof want, "%s/real/x", real);
    check(out, want);
    tu_write(tu_p(d, "file"), "x");
    assert_int_equal(tt_path_canonical_parent(tu_p(d, "file/x"), &out, &e), -1);
    assert_int_equal(e.code, ENOTDIR);
    free(real);
    tu_rmtree(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dirname_basename),
        cmocka_unit_test(test_join_normalize),
        cmocka_unit_test(test_relative),
        cmocka_unit_test(test_canonical_parent),
    };
    return cmocka_run_group_tests_name("core/path", tests, NULL, NULL);
}
