/* cmocka tests of core/link and core/info: every primitive, on real files under a
 * private temporary directory. */
#include "../testutil.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "core/info.h"
#include "core/link.h"
#include "core/platform/platform.h"

static char *readlink_str(const char *path)
{
    char *out = NULL;
    tt_err e;
    assert_int_equal(tt_readlink_alloc(path, &out, &e), 0);
    return out;
}

static void assert_link_to(const char *path, const char *target)
{
    char *got = readlink_str(path);
    assert_string_equal(got, target);
    free(got);
}

static void test_symlink_absolute_and_relative(void **state)
{
    const char *d = *state;
    char *file = tu_path(d, "file"), *abs = tu_path(d, "abs"), *rel = tu_path(d, "rel");
    tu_write(file, "data");
    tt_err e;
    assert_int_equal(tt_symlink(NULL, file, abs, 0, NULL, &e), 0);
    assert_int_equal(tt_symlink(NULL, "file", rel, 0, NULL, &e), 0);
    assert_link_to(abs, file);
    assert_link_to(rel, "file");
    assert_true(tu_read_equals(rel, "data"));
    free(file), free(abs), free(rel);
}

static void test_symlink_existing_refused(void **state)
{
    const char *d = *state;
    char *l = tu_path(d, "l");
    tt_err e;
    assert_int_equal(tt_symlink(NULL, "a", l, 0, NULL, &e), 0);
    assert_int_equal(tt_symlink(NULL, "b", l, 0, NULL, &e), -1);
    assert_int_equal(e.code, EEXIST);
    assert_string_equal(e.path, l);
    assert_link_to(l, "a");
    free(l);
}

static void test_symlink_missing_parent(void **state)
{
    tt_err e;
    char *l = tu_path(*state, "no/such/dir/l");
    assert_int_equal(tt_symlink(NULL, "a", l, 0, NULL, &e), -1);
    assert_int_equal(e.code, ENOENT);
    assert_string_equal(e.msg, "the parent directory does not exist");
    free(l);
}

static void test_symlink_to_itself_refused(void **state)
{
    tt_err e;
    char *l = tu_path(*state, "self");
    assert_int_equal(tt_symlink(NULL, "./self", l, 0, NULL, &e), -1);
    assert_int_equal(e.code, EINVAL);
    assert_int_equal(tt_symlink(NULL, l, l, TT_LINK_RELATIVE, NULL, &e), -1);
    assert_int_equal(e.code, EINVAL);
    assert_int_equal(tu_count_entries(*state), 0);
    free(l);
}

/* The link's parent is reached through a symlink that points deeper into the tree, so
 * computing the target from the names typed would give a wrong answer. */
static void test_relative_through_linked_parent(void **state)
{
    const char *d = *state;
    char *deep = tu_path(d, "a/b/c"), *via = tu_path(d, "via"), *t = tu_path(d, "t");
    assert_int_equal(mkdir(tu_p(d, "a"), 0755), 0);
    assert_int_equal(mkdir(tu_p(d, "a/b"), 0755), 0);
    assert_int_equal(mkdir(deep, 0755), 0);
    assert_int_equal(symlink(deep, via), 0);
    tu_write(t, "target");
    char *l = tu_path(d, "via/link");
    tt_err e;
    assert_int_equal(tt_symlink(NULL, t, l, TT_LINK_RELATIVE, NULL, &e), 0);
    assert_link_to(l, "../../../t");
    assert_true(tu_read_equals(l, "target"));
    /* A relative TARGET is taken from the current directory, as ln -r does. */
    char cwd[PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(d), 0);
    assert_int_equal(tt_symlink(NULL, "t", "via/link2", TT_LINK_RELATIVE, NULL, &e), 0);
    assert_int_equal(chdir(cwd), 0);
    assert_link_to(tu_p(d, "a/b/c/link2"), "../../../t");
    free(deep), free(via), free(t), free(l);
}

static void test_relative_to_missing_target(void **state)
{
    const char *d = *state;
    tt_err e;
    char *l = tu_path(d, "l");
    assert_int_equal(tt_symlink(NULL, tu_p(d, "later/x/../y"), l, TT_LINK_RELATIVE, NULL, &e), 0);
    assert_link_to(l, "later/y");
    free(l);
}

static void test_readlink_long_target(void **state)
{
    /* Linux stores at most 4095 bytes; read the longest possible back exactly. */
    char target[4096];
    for (int i = 0; i < 4095; i++)
        target[i] = i % 2 ? '/' : 'a' + i % 26;
    target[4095] = '\0';
    char *l = tu_path(*state, "long");
    tt_err e;
    assert_int_equal(tt_symlink(NULL, target, l, 0, NULL, &e), 0);
    assert_link_to(l, target);
    free(l);
}

static void test_readlink_not_a_link(void **state)
{
    char *f = tu_path(*state, "f"), *out = NULL;
    tu_write(f, "x");
    tt_err e;
    assert_int_equal(tt_readlink_alloc(f, &out, &e), -1);
    assert_int_equal(e.code, TT_ENOTLINK);
    assert_string_equal(tt_errname(e.code), "ENOTLINK");
    free(f);
}

static void test_replace_link_atomically(void **state)
{
    const char *d = *state;
    char *l = tu_path(d, "l");
    tt_err e;
    assert_int_equal(tt_symlink(NULL, "old", l, 0, NULL, &e), 0);
    assert_int_equal(tt_replace(NULL, "new", l, NULL, NULL, 0, NULL, &e), 0);
    assert_link_to(l, "new");
    assert_int_equal(tt_symlink(NULL, "newer", l, TT_LINK_REPLACE, NULL, &e), 0);
    assert_link_to(l, "newer");
    assert_int_equal(tu_count_entries(d), 1); /* no temporary names left behind */
    /* Root rewriting another user's link keeps that user its owner. */
    if (geteuid() == 0) {
        assert_int_equal(lchown(l, 65534, 65534), 0);
        assert_int_equal(tt_replace(NULL, "newest", l, NULL, NULL, 0, NULL, &e), 0);
        assert_link_to(l, "newest");
        struct stat st;
        assert_int_equal(lstat(l, &st), 0);
        assert_int_equal(st.st_uid, 65534);
        assert_int_equal(st.st_gid, 65534);
    }
    free(l);
}

static void test_replace_refuses_file_and_dir(void **state)
{
    const char *d = *state;
    char *f = tu_path(d, "f"), *sub = tu_path(d, "sub");
    tu_write(f, "precious");
    assert_int_equal(mkdir(sub, 0755), 0);
    tu_write(tu_p(sub, "inside"), "kept");
    tt_err e;
    assert_int_equal(tt_replace(NULL, "x", f, NULL, NULL, 0, NULL, &e), -1);
    assert_int_equal(e.code, TT_ENOTLINK);
    assert_int_equal(tt_symlink(NULL, "x", sub, TT_LINK_REPLACE, NULL, &e), -1);
    assert_int_equal(e.code, TT_ENOTLINK);
    assert_string_equal(e.path, sub);
    struct stat st;
    assert_int_equal(lstat(f, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_true(tu_read_equals(f, "precious"));
    assert_int_equal(lstat(sub, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_true(tu_read_equals(tu_p(sub, "inside"), "kept"));
    assert_int_equal(tu_count_entries(d), 2);
    free(f), free(sub);
}

static void test_replace_missing(void **state)
{
    char *l = tu_path(*state, "none");
    tt_err e;
    assert_int_equal(tt_replace(NULL, "x", l, NULL, NULL, 0, NULL, &e), -1);
    assert_int_equal(e.code, ENOENT);
    assert_int_equal(tu_count_entries(*state), 0);
    free(l);
}

static void test_unlink_dir_symlink_keeps_target(void **state)
{
    const char *d = *state;
    char *dir = tu_path(d, "dir"), *l = tu_path(d, "l");
    assert_int_equal(mkdir(dir, 0755), 0);
    tu_write(tu_p(dir, "one"), "1");
    tu_write(tu_p(dir, "two"), "2");
    tt_err e;
    assert_int_equal(tt_symlink(NULL, dir, l, TT_LINK_DIR, NULL, &e), 0);
    /* A trailing slash still means the link, not the directory behind it. */
    char *slashed = tu_path(d, "l/");
    assert_int_equal(tt_unlink(NULL, slashed, NULL, NULL, 0, &e), 0);
    struct stat st;
    assert_int_equal(lstat(l, &st), -1);
    assert_int_equal(tu_count_entries(dir), 2);
    assert_true(tu_read_equals(tu_p(dir, "one"), "1"));
    assert_true(tu_read_equals(tu_p(dir, "two"), "2"));
    free(dir), free(l), free(slashed);
}

static void test_unlink_refuses_real_things(void **state)
{
    const char *d = *state;
    char *f = tu_path(d, "f"), *dir = tu_path(d, "dir"), *h = tu_path(d, "h");
    tu_write(f, "x");
    assert_int_equal(mkdir(dir, 0755), 0);
    tt_err e;
    assert_int_equal(tt_unlink(NULL, f, NULL, NULL, 0, &e), -1);
    assert_int_equal(e.code, TT_ENOTLINK);
    assert_int_equal(tt_unlink(NULL, dir, NULL, NULL, 0, &e), -1);
    assert_int_equal(e.code, TT_ENOTLINK);
    assert_int_equal(tt_unlink(NULL, tu_p(d, "missing"), NULL, NULL, 0, &e), -1);
    assert_int_equal(e.code, ENOENT);
    /* A name of a multiply-linked file goes only when asked, and never the last one. */
    assert_int_equal(link(f, h), 0);
    assert_int_equal(tt_unlink(NULL, h, NULL, NULL, 0, &e), -1);
    assert_int_equal(tt_unlink(NULL, h, NULL, NULL, TT_LINK_HARD, &e), 0);
    assert_int_equal(tt_unlink(NULL, f, NULL, NULL, TT_LINK_HARD, &e), -1);
    assert_true(tu_read_equals(f, "x"));
    assert_int_equal(tu_count_entries(d), 2);
    free(f), free(dir), free(h);
}

static void test_hardlink(void **state)
{
    const char *d = *state;
    char *f = tu_path(d, "f"), *h = tu_path(d, "h"), *dir = tu_path(d, "dir");
    tu_write(f, "shared");
    tt_err e;
    assert_int_equal(tt_hardlink(NULL, f, h, NULL, 0, NULL, &e), 0);
    struct stat a, b;
    assert_int_equal(stat(f, &a), 0);
    assert_int_equal(stat(h, &b), 0);
    assert_int_equal(a.st_ino, b.st_ino);
    assert_int_equal(a.st_nlink, 2);
    assert_int_equal(tt_hardlink(NULL, f, h, NULL, 0, NULL, &e),
                     0); /* already that link: nothing to do */
    assert_int_equal(mkdir(dir, 0755), 0);
    assert_int_equal(tt_hardlink(NULL, dir, tu_p(d, "dl"), NULL, 0, NULL, &e), -1);
    assert_int_equal(e.code, EPERM);
    assert_int_equal(tt_hardlink(NULL, f, f, NULL, 0, NULL, &e), -1);
    assert_int_equal(e.code, EINVAL);
    free(f), free(h), free(dir);
}

static void test_hardlink_cross_device(void **state)
{
    struct stat a, b;
    if (stat("/dev/shm", &b) != 0 || stat(*state, &a) != 0 || a.st_dev == b.st_dev) {
        skip();
        return;
    }
    char *f = tu_path(*state, "f");
    tu_write(f, "x");
    char shm[] = "/dev/shm/tether-test-XXXXXX";
    assert_non_null(mkdtemp(shm));
    char *h = tu_path(shm, "h");
    tt_err e;
    assert_int_equal(tt_hardlink(NULL, f, h, NULL, 0, NULL, &e), -1);
    assert_int_equal(e.code, EXDEV);
    assert_int_equal(tt_hardlink(NULL, f, h, NULL, TT_LINK_DRY, NULL, &e), -1);
    assert_int_equal(e.code, EXDEV);
    assert_int_equal(tu_count_entries(shm), 0);
    tu_rmtree(strdup(shm));
    free(f), free(h);
}

static void test_junction_not_supported(void **state)
{
    tt_err e;
    char *j = tu_path(*state, "j");
    assert_int_equal(tt_junction(NULL, *state, j, 0, NULL, &e), -1);
    assert_int_equal(e.code, ENOTSUP);
    assert_non_null(strstr(e.msg, "NTFS"));
    assert_int_equal(tu_count_entries(*state), 0);
    free(j);
}

static void test_dry_run_changes_nothing(void **state)
{
    const char *d = *state;
    char *l = tu_path(d, "l"), *f = tu_path(d, "f");
    tu_write(f, "x");
    tt_err e;
    assert_int_equal(tt_symlink(NULL, "t", l, TT_LINK_DRY, NULL, &e), 0);
    assert_int_equal(tt_hardlink(NULL, f, tu_p(d, "h"), NULL, TT_LINK_DRY, NULL, &e), 0);
    assert_int_equal(tt_symlink(NULL, "t", tu_p(d, "no/l"), TT_LINK_DRY, NULL, &e), -1);
    assert_int_equal(e.code, ENOENT);
    assert_int_equal(tt_symlink(NULL, "t", f, TT_LINK_DRY | TT_LINK_REPLACE, NULL, &e), -1);
    assert_int_equal(tu_count_entries(d), 1);
    assert_int_equal(symlink("t", l), 0);
    assert_int_equal(tt_replace(NULL, "u", l, NULL, NULL, TT_LINK_DRY, NULL, &e), 0);
    assert_int_equal(tt_unlink(NULL, l, NULL, NULL, TT_LINK_DRY, &e), 0);
    assert_link_to(l, "t");
    free(l), free(f);
}

/* The identity a plan recorded, of the object at path now. */
static tt_expect identity_of(const char *path)
{
    tt_expect x = {TT_X_ID, {0}};
    assert_int_equal(pf_lstat(path, &x.st), 0);
    return x;
}

/* Each change refuses when the link it is about is no longer the one planned: made
 * again (another inode), or pointing elsewhere; and nothing changes. */
static void test_changed_links_are_left_alone(void **state)
{
    const char *d = *state;
    char *l = tu_path(d, "l");
    assert_int_equal(symlink("a", l), 0);
    tt_expect planned = identity_of(l);
    char *l2 = tu_path(d, "l2"); /* made before the old one goes: its inode cannot be reused */
    assert_int_equal(symlink("a", l2), 0);
    assert_int_equal(rename(l2, l), 0); /* the same target, another link */
    free(l2);
    tt_err e;
    assert_int_equal(tt_unlink(NULL, l, "a", &planned, 0, &e), -1);
    assert_int_equal(e.code, TT_ECHANGED);
    assert_non_null(strstr(e.msg, "changed since it was planned"));
    assert_int_equal(tt_replace(NULL, "b", l, "a", &planned, 0, NULL, &e), -1);
    assert_int_equal(e.code, TT_ECHANGED);
    assert_link_to(l, "a");
    /* Pointing elsewhere than planned. */
    tt_expect now = identity_of(l);
    assert_int_equal(tt_unlink(NULL, l, "elsewhere", &now, 0, &e), -1);
    assert_int_equal(e.code, TT_ECHANGED);
    assert_int_equal(tt_replace(NULL, "b", l, "elsewhere", NULL, 0, NULL, &e), -1);
    assert_int_equal(e.code, TT_ECHANGED);
    assert_link_to(l, "a");
    /* As planned, it goes. */
    assert_int_equal(tt_replace(NULL, "b", l, "a", &now, 0, NULL, &e), 0);
    assert_link_to(l, "b");
    assert_int_equal(tu_count_entries(d), 1);
    free(l);
}

/* A replace whose link vanished makes nothing in its place. */
static void test_replace_never_makes_a_vanished_link(void **state)
{
    const char *d = *state;
    char *l = tu_path(d, "l");
    tt_err e;
    assert_int_equal(tt_replace(NULL, "b", l, "a", NULL, 0, NULL, &e), -1);
    assert_int_equal(e.code, TT_ECHANGED);
    assert_int_equal(tu_count_entries(d), 0);
    free(l);
}

/* A hard link is made only to the file planned; made to another, it is taken back. */
static void test_hardlink_to_a_changed_file_refused(void **state)
{
    const char *d = *state;
    char *f = tu_path(d, "f"), *h = tu_path(d, "h");
    tu_write(f, "one");
    tt_expect planned = identity_of(f);
    char *f2 = tu_path(d, "f2");
    tu_write(f2, "two");
    assert_int_equal(rename(f2, f), 0);
    free(f2);
    tt_err e;
    assert_int_equal(tt_hardlink(NULL, f, h, &planned, 0, NULL, &e), -1);
    assert_int_equal(e.code, TT_ECHANGED);
    assert_int_equal(tu_count_entries(d), 1);
    tt_stat made;
    tt_expect now = identity_of(f);
    assert_int_equal(tt_hardlink(NULL, f, h, &now, 0, &made, &e), 0);
    assert_int_equal(made.ino, now.st.ino);
    free(f), free(h);
}

static void test_info_statuses(void **state)
{
    const char *d = *state;
    char *ok = tu_path(d, "ok"), *broken = tu_path(d, "broken"), *notdir = tu_path(d, "notdir");
    char *la = tu_path(d, "la"), *lb = tu_path(d, "lb"), *f = tu_path(d, "f");
    tu_write(f, "x");
    assert_int_equal(symlink("f", ok), 0);
    assert_int_equal(symlink("gone", broken), 0);
    assert_int_equal(symlink("f/below", notdir), 0);
    assert_int_equal(symlink("lb", la), 0);
    assert_int_equal(symlink("la", lb), 0);
    tt_info in;
    tt_err e;
    assert_int_equal(tt_info_get(ok, &in, &e), 0);
    assert_int_equal(in.st.type, TT_SYMLINK);
    assert_int_equal(in.status, TT_ST_OK);
    assert_int_equal(in.target.type, TT_FILE);
    assert_int_equal(tt_info_get(broken, &in, &e), 0);
    assert_int_equal(in.status, TT_ST_BROKEN);
    assert_int_equal(tt_info_get(notdir, &in, &e), 0);
    assert_int_equal(in.status, TT_ST_BROKEN);
    assert_int_equal(tt_info_get(la, &in, &e), 0);
    assert_int_equal(in.status, TT_ST_LOOP);
    assert_string_equal(tt_status_name(in.status), "loop");
    assert_int_equal(tt_info_get(f, &in, &e), 0);
    assert_int_equal(in.st.type, TT_FILE);
    assert_int_equal(in.status, TT_ST_NONE);
    assert_int_equal(in.st.size, 1);
    assert_int_equal(tt_info_get(tu_p(d, "missing"), &in, &e), -1);
    assert_int_equal(e.code, ENOENT);
    free(ok), free(broken), free(notdir), free(la), free(lb), free(f);
}

/* A link into a directory the caller cannot search is "denied", never "broken". Needs
 * a user without root's override: as root the check runs in a child as nobody. */
static void test_info_denied(void **state)
{
    const char *d = *state;
    char *locked = tu_path(d, "locked"), *l = tu_path(d, "l");
    assert_int_equal(chmod(d, 0755), 0);
    assert_int_equal(mkdir(locked, 0700), 0);
    tu_write(tu_p(locked, "secret"), "x");
    assert_int_equal(symlink("locked/secret", l), 0);
    if (geteuid() != 0) {
        assert_int_equal(chmod(locked, 0), 0);
    }
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(77);
        tt_info in;
        tt_err e;
        if (tt_info_get(l, &in, &e) != 0) _exit(2);
        _exit(in.status == TT_ST_DENIED ? 0 : 3);
    }
    int status;
    waitpid(pid, &status, 0);
    chmod(locked, 0700);
    free(locked), free(l);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
        print_message("skipped: cannot switch to an unprivileged user here\n");
        skip();
    }
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_error_format(void **state)
{
    (void)state;
    tt_err e;
    char buf[256];
    tt_fail(&e, ENOENT, "/x y", NULL, NULL);
    tt_errformat(&e, buf, sizeof buf);
    assert_string_equal(buf, "/x y: no such file or directory (ENOENT)");
    tt_fail(&e, EEXIST, "l", "already exists", "pass --replace");
    tt_errformat(&e, buf, sizeof buf);
    assert_string_equal(buf, "l: already exists (EEXIST); pass --replace");
    char long_path[3000];
    memset(long_path, 'a', sizeof long_path - 1);
    long_path[sizeof long_path - 1] = '\0';
    tt_fail(&e, ENAMETOOLONG, long_path, NULL, NULL);
    assert_int_equal(strncmp(e.path, "...", 3), 0);
    assert_int_equal(strlen(e.path), TT_ERR_PATH_MAX - 1);
    assert_string_equal(tt_errname(12345), "EUNKNOWN");
#ifdef ENOTCONN
    /* A FUSE mount whose server died: named, not EUNKNOWN. */
    assert_string_equal(tt_errname(ENOTCONN), "ENOTCONN");
#endif
}

/* A link's owner is changed only on the very link checked: the same object (device and
 * inode), still a link, still storing the target made; anything else there now is left as
 * it is (TT_ECHANGED). */
static void test_chown_link_only_the_link_checked(void **state)
{
    const char *d = *state;
    char *l = tu_path(d, "l");
    pf_dir *dir;
    assert_int_equal(pf_dir_open(NULL, d, 0, &dir), 0);
    tt_stat st, now;
    uint32_t to = getuid() == 0 ? 65534 : getuid();
    assert_int_equal(symlink("a", l), 0);
    assert_int_equal(pf_dir_stat(dir, "l", 0, &st), 0);
    assert_int_equal(pf_dir_chown_link(dir, "l", to, to, &st, "zzz"), TT_ECHANGED);
    assert_int_equal(pf_dir_chown_link(dir, "l", to, to, &st, "a"), 0);
    assert_int_equal(pf_dir_stat(dir, "l", 0, &now), 0);
    assert_int_equal(now.uid, to);
    /* Swapped for a file, a directory or another link: none changes owner. */
    unlink(l);
    tu_write(l, "x");
    assert_int_equal(pf_dir_chown_link(dir, "l", to, to, &st, NULL), TT_ECHANGED);
    unlink(l);
    assert_int_equal(mkdir(l, 0700), 0);
    assert_int_equal(pf_dir_chown_link(dir, "l", to, to, &st, NULL), TT_ECHANGED);
    rmdir(l);
    assert_int_equal(symlink("b", l), 0);
    assert_int_equal(pf_dir_stat(dir, "l", 0, &now), 0);
    if (now.ino != st.ino)
        assert_int_equal(pf_dir_chown_link(dir, "l", to, to, &st, NULL), TT_ECHANGED);
    assert_int_equal(pf_dir_chown_link(dir, "l", to, to, &now, "a"), TT_ECHANGED);
    assert_int_equal(pf_dir_chown_link(dir, "gone", to, to, &now, "a"), ENOENT);
    pf_dir_close(dir);
    free(l);
}

/* symlink's owner: root gives the link made that owner; anyone else's links are their
 * own (no chown asked); a dry run makes nothing. */
static void test_symlink_owned(void **state)
{
    const char *d = *state;
    char *l = tu_path(d, "l"), *m = tu_path(d, "m");
    tt_err e;
    tt_stat made;
    tt_owner o = {65534, 65534};
    assert_int_equal(tt_symlink_owned(NULL, "x", l, TT_LINK_DRY, &o, &made, &e), 0);
    assert_int_equal(access(l, F_OK) == 0 || errno != ENOENT, 0);
    assert_int_equal(tt_symlink_owned(NULL, "x", l, 0, &o, &made, &e), 0);
    struct stat s;
    assert_int_equal(lstat(l, &s), 0);
    assert_int_equal(made.ino, (uint64_t)s.st_ino);
    assert_int_equal(made.uid, s.st_uid);
    assert_int_equal(s.st_uid, getuid() == 0 ? 65534 : getuid());
    assert_link_to(l, "x");
    assert_int_equal(tt_symlink_owned(NULL, "y", m, 0, NULL, NULL, &e), 0);
    assert_int_equal(lstat(m, &s), 0);
    assert_int_equal(s.st_uid, getuid());
    free(l), free(m);
}

/* pf_dir_symlink_as: the link is the user's from its creation where the user may write
 * the directory; refused (nothing made) where the user may not, or by a caller who may
 * not take the user's ids; the thread's ids are its own again after either. */
static void test_symlink_as(void **state)
{
#ifdef __linux__
    const char *d = *state;
    char *u = tu_path(d, "u"), *r = tu_path(d, "r"), *ul = tu_path(u, "l"), *rl = tu_path(r, "l"),
         *after = tu_path(r, "after");
    assert_int_equal(mkdir(u, 0755), 0);
    assert_int_equal(mkdir(r, 0755), 0);
    pf_dir *ud, *rd;
    struct stat s;
    if (geteuid() != 0) {
        assert_int_equal(pf_dir_open(NULL, u, 0, &ud), 0);
        uint32_t other = getuid() == 65534 ? 65533 : 65534;
        assert_int_equal(pf_dir_symlink_as(ud, "l", "t", 0, other, other), EPERM);
        assert_int_equal(lstat(ul, &s) == 0 || errno != ENOENT, 0);
        assert_int_equal(symlink("z", ul), 0); /* its own ids again */
        pf_dir_close(ud);
    } else {
        assert_int_equal(chown(u, 65534, 65534), 0);
        assert_int_equal(pf_dir_open(NULL, u, 0, &ud), 0);
        assert_int_equal(pf_dir_open(NULL, r, 0, &rd), 0);
        assert_int_equal(pf_dir_symlink_as(ud, "l", "t", 0, 65534, 65534), 0);
        assert_int_equal(lstat(ul, &s), 0);
        assert_int_equal(s.st_uid, 65534);
        assert_int_equal(s.st_gid, 65534);
        assert_link_to(ul, "t");
        assert_int_equal(pf_dir_symlink_as(rd, "l", "t", 0, 65534, 65534), EACCES);
        assert_int_equal(lstat(rl, &s) == 0 || errno != ENOENT, 0);
        /* Root again: it writes its own directory and what it makes is its own. */
        assert_int_equal(symlink("z", after), 0);
        assert_int_equal(lstat(after, &s), 0);
        assert_int_equal(s.st_uid, 0);
        assert_int_equal(s.st_gid, getegid());
        pf_dir_close(ud), pf_dir_close(rd);
    }
    free(u), free(r), free(ul), free(rl), free(after);
#else
    (void)state;
    skip();
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, tu_setup_dir, tu_teardown_dir)
        T(test_symlink_absolute_and_relative),
        T(test_symlink_existing_refused),
        T(test_symlink_missing_parent),
        T(test_symlink_to_itself_refused),
        T(test_relative_through_linked_parent),
        T(test_relative_to_missing_target),
        T(test_readlink_long_target),
        T(test_readlink_not_a_link),
        T(test_replace_link_atomically),
        T(test_replace_refuses_file_and_dir),
        T(test_replace_missing),
        T(test_unlink_dir_symlink_keeps_target),
        T(test_unlink_refuses_real_things),
        T(test_hardlink),
        T(test_hardlink_cross_device),
        T(test_junction_not_supported),
        T(test_dry_run_changes_nothing),
        T(test_changed_links_are_left_alone),
        T(test_replace_never_makes_a_vanished_link),
        T(test_hardlink_to_a_changed_file_refused),
        T(test_info_statuses),
        T(test_info_denied),
        T(test_error_format),
        T(test_chown_link_only_the_link_checked),
        T(test_symlink_owned),
        T(test_symlink_as),
    };
    return cmocka_run_group_tests_name("core/link", tests, NULL, NULL);
}
