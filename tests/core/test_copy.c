/* cmocka tests of core/copy: what a copy keeps (content, modes, times, links, hard-link
 * groups, fifos, sockets), inner absolute links rewritten, copying into the empty
 * directory a caller made, and refusing a source that is not what was walked. */
#include "../testutil.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <cmocka.h>

#include "core/at.h"
#include "core/tree.h"

/* src/{f (0640, old mtime), h (a hard link to f), sub/g, abs -> src/f (absolute), rel ->
 * sub/g, fifo, sock}. */
static void make_source(const char *d)
{
    char src[1024];
    snprintf(src, sizeof src, "%s/src", d);
    mkdir(src, 0750);
    mkdir(tu_p(src, "sub"), 0700);
    tu_write(tu_p(src, "f"), "content of f");
    chmod(tu_p(src, "f"), 0640);
    struct timespec ts[2] = {{1000000000, 123456789}, {1000000000, 123456789}};
    utimensat(AT_FDCWD, tu_p(src, "f"), ts, 0);
    link(tu_p(src, "f"), tu_p(src, "h"));
    tu_write(tu_p(src, "sub/g"), "g");
    symlink(tu_p(src, "f"), tu_p(src, "abs"));
    symlink("sub/g", tu_p(src, "rel"));
    mkfifo(tu_p(src, "fifo"), 0600);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s", tu_p(src, "sock"));
    if (strlen(tu_p(src, "sock")) < sizeof a.sun_path) bind(s, (struct sockaddr *)&a, sizeof a);
    close(s);
}

static void test_copy_keeps_what_cp_a_keeps(void **state)
{
    const char *d = *state;
    make_source(d);
    char src[1024], dst[1024];
    snprintf(src, sizeof src, "%s/src", d);
    snprintf(dst, sizeof dst, "%s/dst", d);
    tt_copy_opts o = {.final_dst = "/final/place", .no_sync = 1};
    tt_tree_stats st;
    tt_err e;
    assert_int_equal(tt_copytree(NULL, src, dst, &o, &st, &e), 0);
    assert_int_equal(st.files, 2);
    assert_int_equal(st.hardlinks, 1);
    assert_int_equal(st.links, 2);
    assert_int_equal(st.rewritten, 1);
    assert_true(tu_read_equals(tu_p(dst, "f"), "content of f"));
    struct stat a, b;
    assert_int_equal(lstat(tu_p(dst, "f"), &a), 0);
    assert_int_equal(a.st_mode & 07777, 0640);
    assert_int_equal(a.st_mtim.tv_sec, 1000000000);
    assert_int_equal(a.st_mtim.tv_nsec, 123456789);
    assert_int_equal(lstat(tu_p(dst, "h"), &b), 0);
    assert_int_equal(a.st_ino, b.st_ino); /* one file, two names, as in the source */
    assert_int_equal(lstat(dst, &a), 0);
    assert_int_equal(a.st_mode & 07777, 0750);
    char t[256] = "";
    assert_true(readlink(tu_p(dst, "abs"), t, sizeof t) > 0);
    assert_string_equal(t, "/final/place/f"); /* inner absolute link: into the copy */
    memset(t, 0, sizeof t);
    assert_true(readlink(tu_p(dst, "rel"), t, sizeof t) > 0);
    assert_string_equal(t, "sub/g");
    assert_int_equal(lstat(tu_p(dst, "fifo"), &a), 0);
    assert_true(S_ISFIFO(a.st_mode));
    if (lstat(tu_p(src, "sock"), &b) == 0) {
        assert_int_equal(lstat(tu_p(dst, "sock"), &a), 0);
        assert_true(S_ISSOCK(a.st_mode)); /* a socket node, as cp -a makes it */
    }
    /* The copy passes verification, with hashes too. */
    tt_copy_opts v = {.final_dst = "/final/place", .hash = 1};
    assert_int_equal(tt_verifytree(NULL, src, dst, &v, &e), 0);
}

static void test_copy_into_the_directory_the_caller_made(void **state)
{
    const char *d = *state;
    make_source(d);
    char src[1024], dst[1024];
    snprintf(src, sizeof src, "%s/src", d);
    snprintf(dst, sizeof dst, "%s/dst", d);
    assert_int_equal(mkdir(dst, 0700), 0);
    tt_stat made;
    assert_int_equal(pf_lstat(dst, &made), 0);
    tt_expect x = {TT_X_ID, made};
    tt_copy_opts o = {.into = 1, .expect_dst = &x, .no_sync = 1};
    tt_tree_stats st;
    tt_err e;
    assert_int_equal(tt_copytree(NULL, src, dst, &o, &st, &e), 0);
    assert_true(tu_read_equals(tu_p(dst, "sub/g"), "g"));
    /* Into a directory that is not the one made, or not empty: refused. */
    char other[1024];
    snprintf(other, sizeof other, "%s/other", d);
    assert_int_equal(mkdir(other, 0700), 0);
    tt_copy_opts o2 = {.into = 1, .expect_dst = &x, .no_sync = 1};
    assert_int_equal(tt_copytree(NULL, src, other, &o2, &st, &e), -1);
    assert_int_equal(e.code, TT_ECHANGED);
    tt_copy_opts o3 = {.into = 1, .no_sync = 1};
    assert_int_equal(tt_copytree(NULL, src, dst, &o3, &st, &e), -1);
    assert_int_equal(e.code, ENOTEMPTY);
    assert_int_equal(tu_count_entries(other), 0);
}

/* A source that is not the directory planned, or a file that is not the one walked
 * (swapped between the walk and the open), is not copied. */
static void test_copy_refuses_what_was_not_walked(void **state)
{
    const char *d = *state;
    make_source(d);
    char src[1024], dst[1024];
    snprintf(src, sizeof src, "%s/src", d);
    snprintf(dst, sizeof dst, "%s/dst", d);
    tt_stat st;
    assert_int_equal(pf_lstat(tu_p(src, "sub"), &st), 0);
    tt_expect wrong = {TT_X_ID, st};
    tt_copy_opts o = {.expect_src = &wrong, .no_sync = 1};
    tt_tree_stats ts;
    tt_err e;
    assert_int_equal(tt_copytree(NULL, src, dst, &o, &ts, &e), -1);
    assert_int_equal(e.code, TT_ECHANGED);
    assert_int_equal(access(dst, F_OK), -1);
    /* The file level: pf_copy_file with a stat of another file. */
    pf_dir *sd, *dd;
    assert_int_equal(pf_dir_open(NULL, src, 0, &sd), 0);
    assert_int_equal(mkdir(dst, 0700), 0);
    assert_int_equal(pf_dir_open(NULL, dst, 0, &dd), 0);
    tt_stat g;
    assert_int_equal(pf_lstat(tu_p(src, "sub/g"), &g), 0);
    unsigned how = 0;
    uint64_t h;
    assert_int_equal(pf_copy_file(sd, "f", dd, "f", &g, &how, NULL, NULL, &h), TT_ECHANGED);
    assert_int_equal(pf_copy_file(sd, "abs", dd, "abs", &g, &how, NULL, NULL, &h), TT_ECHANGED);
    assert_int_equal(tu_count_entries(dst), 0);
    pf_dir_close(sd);
    pf_dir_close(dd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, tu_setup_dir, tu_teardown_dir)
        T(test_copy_keeps_what_cp_a_keeps),
        T(test_copy_into_the_directory_the_caller_made),
        T(test_copy_refuses_what_was_not_walked),
    };
    return cmocka_run_group_tests_name("core/copy", tests, NULL, NULL);
}
