/* cmocka tests of tt_file_open (core/fs), the one way a file is opened for reading from
 * its directory's handle: a regular file as expected opens; a link, a directory, a FIFO,
 * a file changed since it was seen and a name not there are refused, each with its
 * reason and the path, and leave nothing open. */
#include "../testutil.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/fs.h"

/* tt_file_open(path, x) refused with code, its message holding `says`. */
static void assert_refused(const char *path, const tt_expect *x, int code, const char *says)
{
    pf_file *f = NULL;
    tt_err e;
    assert_int_equal(tt_file_open(NULL, path, x, &f, &e), -1);
    assert_int_equal(e.code, code);
    assert_null(f); /* nothing left open */
    char msg[TT_ERR_PATH_MAX + 256];
    tt_errformat(&e, msg, sizeof msg);
    assert_non_null(strstr(msg, path));
    if (says) assert_non_null(strstr(msg, says));
}

static void test_file_open(void **state)
{
    const char *d = *state;
    char *file = tu_path(d, "file"), *link = tu_path(d, "link"), *dir = tu_path(d, "dir"),
         *fifo = tu_path(d, "fifo"), *gone = tu_path(d, "gone");
    tu_write(file, "bytes");
    assert_int_equal(symlink("file", link), 0);
    assert_int_equal(mkdir(dir, 0700), 0);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    tt_expect x = {TT_X_TYPE | TT_X_ID | TT_X_SIZE, {0}};
    assert_int_equal(pf_lstat(file, &x.st), 0);

    pf_file *f = NULL;
    tt_err e;
    assert_int_equal(tt_file_open(NULL, file, &x, &f, &e), 0);
    char buf[16];
    size_t got;
    assert_int_equal(pf_file_read(f, buf, sizeof buf, &got), 0);
    assert_int_equal(got, 5);
    assert_memory_equal(buf, "bytes", 5);
    pf_file_close(f);
    assert_int_equal(tt_file_open(NULL, file, NULL, &f, &e), 0); /* nothing to check */
    pf_file_close(f);

    assert_refused(link, NULL, TT_ECHANGED, NULL);
    assert_refused(dir, NULL, TT_ECHANGED, "is not a regular file now");
    assert_refused(fifo, NULL, TT_ECHANGED, "is not a regular file now");
    assert_refused(gone, NULL, ENOENT, NULL);
    tu_write(file, "other bytes"); /* the size seen no longer holds */
    assert_refused(file, &x, TT_ECHANGED, NULL);
    free(file), free(link), free(dir), free(fifo), free(gone);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_file_open, tu_setup_dir, tu_teardown_dir),
    };
    return cmocka_run_group_tests_name("fs_open", tests, NULL, NULL);
}
