/* cmocka tests of core/lock: a lock in the state directory keeps a second process out
 * and names its holder, goes with its file when released, is left stale (not held) by a
 * process that died, and is taken over then; whatever else is planted at a lock's name
 * (a FIFO, a link, a directory, a hard link, another user's file) is refused at once,
 * never waited on, followed or written; a query makes nothing; and a directory's own
 * lock keeps a second process out while writing nothing anywhere. */
#include "../testutil.h"

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "core/lock.h"

#define KEY "/some/where/folder"

/* Runs fn in another process; returns its exit status (0: it passed its own checks). */
static int in_child(int (*fn)(const char *), const char *arg)
{
    pid_t pid = fork();
    if (pid == 0) _exit(fn(arg));
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 99;
}

static int refused_naming_a(const char *dir)
{
    tt_lock *other;
    tt_err e;
    int rc = tt_lock_take(dir, KEY, "pid 2", &other, &e);
    return rc == -1 && e.code == EBUSY && strstr(e.msg, "run A") ? 0 : 1;
}

static int dies_holding_b(const char *dir)
{
    tt_lock *dead;
    tt_err e;
    return tt_lock_take(dir, KEY, "pid 3, run B", &dead, &e) == 0 ? 0 : 1; /* not released */
}

/* The name of the only entry of dir (the lock file), into name. */
static void only_entry(const char *dir, char *name, size_t n)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    name[0] = '\0';
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) snprintf(name, n, "%s", e->d_name);
    closedir(d);
}

static void test_state_dir_lock(void **state)
{
    const char *d = *state;
    tt_err e;
    tt_lock *l;
    char holder[256];
    assert_int_equal(tt_lock_query(d, KEY, holder, sizeof holder, &e), TT_LOCK_NONE);
    assert_int_equal(tt_lock_take(d, KEY, "pid 1, run A", &l, &e), 0);
    assert_int_equal(tu_count_entries(d), 1);
    assert_int_equal(tt_lock_query(d, KEY, holder, sizeof holder, &e), TT_LOCK_HELD);
    assert_string_equal(holder, "pid 1, run A");
    assert_int_equal(in_child(refused_naming_a, d), 0);
    tt_lock *other; /* another key: another lock */
    assert_int_equal(tt_lock_take(d, "/another/folder", "pid 1", &other, &e), 0);
    assert_int_equal(tu_count_entries(d), 2);
    tt_lock_release(other);
    tt_lock_release(l);
    assert_int_equal(tu_count_entries(d), 0); /* the files went with the locks */
    assert_int_equal(tt_lock_query(d, KEY, holder, sizeof holder, &e), TT_LOCK_NONE);
    /* A process that dies holding it leaves the file, not the lock: taken over. */
    assert_int_equal(in_child(dies_holding_b, d), 0);
    assert_int_equal(tt_lock_query(d, KEY, holder, sizeof holder, &e), TT_LOCK_STALE);
    assert_non_null(strstr(holder, "run B"));
    assert_int_equal(tt_lock_take(d, KEY, "pid 4", &l, &e), 0);
    assert_int_equal(tt_lock_say(l, "pid 4, run C", &e), 0);
    assert_int_equal(tt_lock_query(d, KEY, holder, sizeof holder, &e), TT_LOCK_HELD);
    assert_string_equal(holder, "pid 4, run C");
    tt_lock_release(l);
}

/* What is planted at a lock's name: refused by take and by query, at once. */
static void planted(const char *d, const char *name)
{
    tt_err e;
    tt_lock *l = NULL;
    char holder[64];
    alarm(5); /* a FIFO opened for reading without O_NONBLOCK would wait here forever */
    assert_int_equal(tt_lock_take(d, KEY, "pid 5", &l, &e), -1);
    assert_null(l);
    assert_int_equal(tt_lock_query(d, KEY, holder, sizeof holder, &e), -1);
    alarm(0);
    assert_true(e.code == EINVAL || e.code == ELOOP || e.code == EISDIR || e.code == EPERM);
    struct stat st;
    assert_int_equal(lstat(tu_p(d, name), &st), 0); /* left alone */
}

static void test_planted_names_refused(void **state)
{
    const char *d = *state;
    char *dir = tu_path(d, "state"), *elsewhere = tu_path(d, "precious");
    mkdir(dir, 0700);
    tu_write(elsewhere, "keep me");
    tt_err e;
    tt_lock *l;
    char name[300], holder[64];
    assert_int_equal(tt_lock_take(dir, KEY, "pid 1", &l, &e), 0);
    only_entry(dir, name, sizeof name);
    tt_lock_release(l);
    char *at = tu_path(dir, name);

    assert_int_equal(mkfifo(at, 0600), 0);
    planted(dir, name);
    unlink(at);
    assert_int_equal(symlink(elsewhere, at), 0);
    planted(dir, name);
    unlink(at);
    assert_int_equal(mkdir(at, 0700), 0);
    planted(dir, name);
    rmdir(at);
    assert_int_equal(link(elsewhere, at), 0); /* a hard link: it would be truncated */
    planted(dir, name);
    unlink(at);
    assert_true(tu_read_equals(elsewhere, "keep me"));
    tu_write(at, "");
    chmod(at, 0666);
    planted(dir, name);
    if (geteuid() == 0) {
        chmod(at, 0600);
        assert_int_equal(chown(at, 65534, 65534), 0);
        planted(dir, name);
    }
    unlink(at);
    /* A state directory others may write is no place for locks. */
    chmod(dir, 0777);
    assert_int_equal(tt_lock_take(dir, KEY, "pid 1", &l, &e), -1);
    assert_int_equal(e.code, EPERM);
    assert_int_equal(tt_lock_query(dir, KEY, holder, sizeof holder, &e), -1);
    chmod(dir, 0700);
    /* A query of a state directory not made yet makes nothing. */
    char *missing = tu_path(d, "not-yet");
    assert_int_equal(tt_lock_query(missing, KEY, holder, sizeof holder, &e), TT_LOCK_NONE);
    assert_int_equal(access(missing, F_OK), -1);
    free(dir), free(elsewhere), free(at), free(missing);
}

static int dir_refused(const char *path)
{
    tt_lock *l;
    tt_err e;
    return tt_lock_dir(NULL, path, &l, &e) == -1 && e.code == EBUSY ? 0 : 1;
}

static int dir_taken(const char *path)
{
    tt_lock *l;
    tt_err e;
    if (tt_lock_dir(NULL, path, &l, &e) != 0) return 1;
    tt_lock_release(l);
    return 0;
}

static void test_directory_lock(void **state)
{
    const char *d = *state;
    char *folder = tu_path(d, "folder"), *ln = tu_path(d, "link");
    mkdir(folder, 0755);
    assert_int_equal(symlink("folder", ln), 0);
    struct stat before, after;
    assert_int_equal(stat(d, &before), 0);
    tt_err e;
    tt_lock *l;
    assert_int_equal(tt_lock_dir(NULL, folder, &l, &e), 0);
    assert_int_equal(in_child(dir_refused, folder), 0);
    assert_int_equal(tt_lock_say(l, "pid 1, run A", &e), 0); /* nothing to write */
    tt_lock_release(l);
    assert_int_equal(in_child(dir_taken, folder), 0);
    assert_int_equal(tt_lock_dir(NULL, ln, &l, &e), -1); /* never through a link */
    assert_int_equal(tu_count_entries(folder), 0);
    assert_int_equal(tu_count_entries(d), 2);
    assert_int_equal(stat(d, &after), 0);
    assert_int_equal(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
    free(folder), free(ln);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, tu_setup_dir, tu_teardown_dir)
        T(test_state_dir_lock),
        T(test_planted_names_refused),
        T(test_directory_lock),
    };
    return cmocka_run_group_tests_name("core/lock", tests, NULL, NULL);
}
