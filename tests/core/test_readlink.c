/* Reading link targets of any length. Linux caps a stored target at 4095 bytes, but
 * Windows reparse points hold up to 16 KiB and other systems differ, so readlink() is
 * wrapped here (ld --wrap of readlinkat, which every read goes through) to serve a
 * 5000-byte target and prove no fixed buffer and no trust in st_size is involved. */
#include "../testutil.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/link.h"

#define FAKE     "/tether-test/fake-long-link"
#define FAKE_LEN 5000

ssize_t __real_readlinkat(int dirfd, const char *path, char *buf, size_t size);
static int calls;

static char fake_byte(size_t i)
{
    return i % 7 == 6 ? '/' : (char)('a' + i % 26);
}

ssize_t __wrap_readlinkat(int dirfd, const char *path, char *buf, size_t size)
{
    if (strcmp(path, FAKE) != 0) return __real_readlinkat(dirfd, path, buf, size);
    calls++;
    size_t n = size < FAKE_LEN ? size : FAKE_LEN;
    for (size_t i = 0; i < n; i++)
        buf[i] = fake_byte(i);
    return (ssize_t)n; /* like readlink(2): silently truncated to the buffer */
}

static void test_5000_byte_target_read_exactly(void **state)
{
    (void)state;
    char *out = NULL;
    tt_err e;
    calls = 0;
    assert_int_equal(tt_readlink_alloc(FAKE, &out, &e), 0);
    assert_int_equal(strlen(out), FAKE_LEN);
    for (size_t i = 0; i < FAKE_LEN; i++)
        assert_int_equal(out[i], fake_byte(i));
    assert_true(calls > 1); /* it had to grow its buffer */
    free(out);
}

static void test_short_buffer_reports_truncation(void **state)
{
    (void)state;
    char buf[100];
    size_t len = 0;
    assert_int_equal(pf_dir_readlink(NULL, FAKE, buf, sizeof buf, &len), 0);
    assert_int_equal(len, sizeof buf); /* == cap: the caller must retry larger */
}

static void test_real_links_unaffected(void **state)
{
    (void)state;
    char *d = tu_tmpdir(), *out = NULL;
    assert_int_equal(symlink("plain", tu_p(d, "l")), 0);
    tt_err e;
    assert_int_equal(tt_readlink_alloc(tu_p(d, "l"), &out, &e), 0);
    assert_string_equal(out, "plain");
    free(out);
    tu_rmtree(d);
}

/* With the link's own stat: a 3000-byte target (more than one read) read whole, with
 * the link's type and owner; a name that is not a link says what it is. */
static void test_stat_of_the_link_read(void **state)
{
    (void)state;
    char *d = tu_tmpdir(), *buf = NULL, target[3001];
    for (size_t i = 0; i < 3000; i++)
        target[i] = fake_byte(i);
    target[3000] = '\0';
    assert_int_equal(symlink(target, tu_p(d, "l")), 0);
    tu_write(tu_p(d, "f"), "x");
    size_t cap = 0;
    tt_stat st;
    assert_int_equal(tt_readlink_stat(NULL, tu_p(d, "l"), &buf, &cap, &st), 0);
    assert_string_equal(buf, target);
    assert_int_equal(st.type, TT_SYMLINK);
    assert_int_equal(st.uid, geteuid());
    assert_int_equal(tt_readlink_stat(NULL, tu_p(d, "f"), &buf, &cap, &st), TT_ENOTLINK);
    assert_int_equal(st.type, TT_FILE);
    assert_int_equal(tt_readlink_stat(NULL, d, &buf, &cap, &st), TT_ENOTLINK);
    assert_int_equal(st.type, TT_DIR);
    assert_int_equal(tt_readlink_stat(NULL, tu_p(d, "none"), &buf, &cap, &st), ENOENT);
    free(buf);
    tu_rmtree(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_5000_byte_target_read_exactly),
        cmocka_unit_test(test_short_buffer_reports_truncation),
        cmocka_unit_test(test_real_links_unaffected),
        cmocka_unit_test(test_stat_of_the_link_read),
    };
    return cmocka_run_group_tests_name("core/readlink", tests, NULL, NULL);
}
