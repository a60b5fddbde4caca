/* cmocka tests of core/journal: lines on disk, and journals refused when another user
 * could have written them. (core/lock: test_lock.c.) */
#include "../testutil.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/journal.h"

static void test_append_and_read(void **state)
{
    const char *d = *state;
    char *dir = tu_path(d, "j"), *file = tu_path(d, "j/run.jsonl");
    tt_err e;
    assert_int_equal(tt_journal_dir(dir, 1, &e), 0);
    struct stat st;
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    tt_journal *j = tt_journal_open(file, 1, &e);
    assert_non_null(j);
    assert_int_equal(tt_journal_append(j, "{\"a\":1}", 7, 1, &e), 0);
    assert_int_equal(tt_journal_append(j, "two\nlines", 9, 1, &e), -1);
    assert_int_equal(e.code, EINVAL);
    tt_journal_close(j);
    assert_null(tt_journal_open(file, 1, &e)); /* create: must be new */
    assert_int_equal(e.code, EEXIST);
    char *text;
    size_t n;
    assert_int_equal(tt_journal_read(file, &text, &n, &e), 0);
    assert_string_equal(text, "{\"a\":1}\n");
    free(text);
    free(dir), free(file);
}

/* Opened again after a crash tore its last write, a journal loses the torn line (it
 * announced nothing) and the next record starts a line of its own; a journal that
 * ends well is left as it is. */
static void test_reopen_cuts_a_torn_line(void **state)
{
    char *file = tu_path(*state, "run.jsonl");
    tt_err e;
    tu_write(file, "{\"a\":1}\n{\"b\":2}\n{\"torn");
    chmod(file, 0600);
    tt_journal *j = tt_journal_open(file, 0, &e);
    assert_non_null(j);
    assert_int_equal(tt_journal_append(j, "{\"c\":3}", 7, 1, &e), 0);
    tt_journal_close(j);
    assert_true(tu_read_equals(file, "{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n"));

    j = tt_journal_open(file, 0, &e); /* whole: nothing cut */
    assert_non_null(j);
    tt_journal_close(j);
    assert_true(tu_read_equals(file, "{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n"));

    char big[10000]; /* a torn line longer than one read of the tail */
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    tu_write(file, "{\"a\":1}\n");
    FILE *f = fopen(file, "a");
    fputs(big, f);
    fclose(f);
    j = tt_journal_open(file, 0, &e);
    assert_non_null(j);
    tt_journal_close(j);
    assert_true(tu_read_equals(file, "{\"a\":1}\n"));

    tu_write(file, "{\"only a torn header"); /* no line at all: nothing stays */
    j = tt_journal_open(file, 0, &e);
    assert_non_null(j);
    tt_journal_close(j);
    assert_true(tu_read_equals(file, ""));
    free(file);
}

/* What another user could have written is not believed. */
static void test_untrusted_journals_refused(void **state)
{
    const char *d = *state;
    char *dir = tu_path(d, "j"), *file = tu_path(d, "j/run.jsonl"), *ln = tu_path(d, "j/l.jsonl");
    tt_err e;
    assert_int_equal(tt_journal_dir(dir, 1, &e), 0);
    tt_journal *j = tt_journal_open(file, 1, &e);
    tt_journal_close(j);
    chmod(file, 0620);
    char *text;
    size_t n;
    assert_int_equal(tt_journal_read(file, &text, &n, &e), -1);
    assert_int_equal(e.code, EPERM);
    assert_non_null(strstr(e.msg, "written by other users"));
    assert_null(tt_journal_open(file, 0, &e));
    chmod(file, 0600);
    assert_int_equal(symlink("run.jsonl", ln), 0);
    assert_int_equal(tt_journal_read(ln, &text, &n, &e), -1);
    chmod(dir, 0777);
    assert_int_equal(tt_journal_dir(dir, 0, &e), -1);
    assert_int_equal(e.code, EPERM);
    chmod(dir, 0700);
    if (geteuid() == 0) { /* as root: a journal of another user's */
        assert_int_equal(chown(file, 65534, 65534), 0);
        assert_int_equal(tt_journal_read(file, &text, &n, &e), -1);
        assert_non_null(strstr(e.msg, "another user"));
    }
    free(dir), free(file), free(ln);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, tu_setup_dir, tu_teardown_dir)
        T(test_append_and_read),
        T(test_reopen_cuts_a_torn_line),
        T(test_untrusted_journals_refused),
    };
    return cmocka_run_group_tests_name("core/journal", tests, NULL, NULL);
}
