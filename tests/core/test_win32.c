/* cmocka tests of the win32 platform layer, run under Wine by the README's test command:
 * the pure parts (error mapping, UTF-8 <-> UTF-16, Windows paths, the reparse data of
 * links) exactly, and the filesystem parts as far as the system can show them. Wine
 * 8.0 reports success from CreateSymbolicLinkW without making a link and refuses
 * FSCTL_SET_REPARSE_POINT; real Windows may make both. Either way tether must end with
 * a verified link or a clear error and nothing left behind. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/tree.h"
#include "core/fs.h"
#include "core/info.h"
#include "core/link.h"
#include "core/path.h"
#include "core/platform/win32.h"

static void test_error_names(void **state)
{
    (void)state;
    static const struct {
        unsigned long win;
        const char *name;
    } map[] = {
        {ERROR_FILE_NOT_FOUND, "ENOENT"},      {ERROR_PATH_NOT_FOUND, "ENOENT"},
        {ERROR_ACCESS_DENIED, "EACCES"},       {ERROR_PRIVILEGE_NOT_HELD, "EPERM"},
        {ERROR_ALREADY_EXISTS, "EEXIST"},      {ERROR_NOT_SAME_DEVICE, "EXDEV"},
        {ERROR_TOO_MANY_LINKS, "EMLINK"},      {ERROR_DIR_NOT_EMPTY, "ENOTEMPTY"},
        {ERROR_NOT_SUPPORTED, "ENOTSUP"},      {ERROR_DISK_FULL, "ENOSPC"},
        {ERROR_NOT_A_REPARSE_POINT, "EINVAL"}, {ERROR_CANT_RESOLVE_FILENAME, "ELOOP"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        assert_string_equal(tt_errname(pf_win_errno(map[i].win)), map[i].name);
    /* Messages for the codes the C runtime has no text for. */
    tt_err e;
    char buf[256];
    tt_fail(&e, ENOTSUP, "x", NULL, NULL);
    tt_errformat(&e, buf, sizeof buf);
    assert_string_equal(buf, "x: operation not supported (ENOTSUP)");
}

static void test_utf16(void **state)
{
    (void)state;
    const char *name = "caf\xc3\xa9-\xe6\x97\xa5\xe6\x9c\xac-\xf0\x9f\x98\x80";
    wchar_t *w = pf_win_wide(name);
    assert_non_null(w);
    assert_int_equal(wcslen(w), 10); /* the emoji is a surrogate pair */
    char *back = pf_win_utf8(w, wcslen(w));
    assert_string_equal(back, name);
    free(back);
    free(w);
    assert_null(pf_win_wide("bad \xff byte")); /* not UTF-8: refused, never mangled */
}

static void check_path(char *got, const char *want)
{
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void test_paths(void **state)
{
    (void)state;
    assert_true(tt_path_is_abs("C:\\x"));
    assert_true(tt_path_is_abs("c:/x"));
    assert_true(tt_path_is_abs("\\\\server\\share\\x"));
    assert_false(tt_path_is_abs("C:x"));
    assert_false(tt_path_is_abs("x\\y"));
    assert_int_equal(tt_path_root("\\\\server\\share\\x"), 15);
    assert_int_equal(tt_path_root("\\\\?\\C:\\x"), 7);
    assert_int_equal(tt_path_root("\\\\?\\UNC\\srv\\sh\\x"), 15);
    check_path(tt_path_normalize("C:\\a\\.\\b\\..\\c\\"), "C:\\a\\c");
    check_path(tt_path_normalize("C:/a//b"), "C:\\a\\b");
    check_path(tt_path_normalize("C:\\.."), "C:\\");
    check_path(tt_path_normalize("\\\\srv\\sh\\a\\..\\b"), "\\\\srv\\sh\\b");
    check_path(tt_path_normalize("C:a\\..\\b"), "C:b");
    check_path(tt_path_dirname("C:\\x"), "C:\\");
    check_path(tt_path_dirname("C:\\"), "C:\\");
    check_path(tt_path_dirname("C:\\a\\b"), "C:\\a");
    check_path(tt_path_basename("C:\\a\\b\\"), "b");
    check_path(tt_path_join("C:\\a", "b"), "C:\\a\\b");
    check_path(tt_path_join("C:\\a", "D:\\b"), "D:\\b");
    check_path(tt_path_relative("C:\\a\\b", "C:\\a\\c\\d"), "..\\c\\d");
    check_path(tt_path_relative("C:\\a", "D:\\b"), "D:\\b"); /* no relative way across drives */
}

static void test_junction_data(void **state)
{
    (void)state;
    unsigned char buf[16 * 1024];
    size_t n = pf_win_junction_data(L"C:\\Data\\Games", buf, sizeof buf);
    assert_true(n > 0);
    uint32_t tag;
    memcpy(&tag, buf, 4);
    assert_int_equal(tag, 0xA0000003u);
    /* substitute name "\??\C:\Data\Games", then the print name "C:\Data\Games" */
    const wchar_t *sub = (const wchar_t *)(buf + 16);
    assert_int_equal(wcsncmp(sub, L"\\??\\C:\\Data\\Games", 17), 0);
    assert_int_equal(sub[17], 0);
    assert_int_equal(wcscmp(sub + 18, L"C:\\Data\\Games"), 0);
    char *target = NULL;
    tt_type type;
    assert_int_equal(pf_win_reparse_target(buf, n, &target, &type), 0);
    assert_int_equal(type, TT_JUNCTION);
    assert_string_equal(target, "C:\\Data\\Games");
    free(target);
    assert_int_equal(pf_win_junction_data(L"C:\\x", buf, 20), 0); /* too small: refused */
}

/* Reparse data of a symlink as Windows stores it. */
static size_t symlink_data(unsigned char *buf, const wchar_t *sub, uint32_t flags)
{
    size_t sl = wcslen(sub) * 2;
    memset(buf, 0, 20 + sl + 2);
    uint32_t tag = 0xA000000Cu;
    uint16_t f[6] = {(uint16_t)(12 + sl + 2), 0, 0, (uint16_t)sl, 0, 0};
    memcpy(buf, &tag, 4);
    memcpy(buf + 4, f, 12);
    memcpy(buf + 16, &flags, 4);
    memcpy(buf + 20, sub, sl);
    return 20 + sl + 2;
}

static void test_symlink_data(void **state)
{
    (void)state;
    unsigned char buf[1024];
    char *t = NULL;
    tt_type type;
    static const struct {
        const wchar_t *stored;
        uint32_t flags;
        const char *want;
    } cases[] = {
        {L"\\??\\C:\\Users\\me", 0, "C:\\Users\\me"},
        {L"\\??\\UNC\\server\\share\\dir", 0, "\\\\server\\share\\dir"},
        {L"..\\lib\\\\??\\odd", 1, "..\\lib\\\\??\\odd"}, /* relative: exactly as stored */
        {L"\\??\\Volume{1234}\\x", 0, "\\\\?\\Volume{1234}\\x"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = symlink_data(buf, cases[i].stored, cases[i].flags);
        assert_int_equal(pf_win_reparse_target(buf, n, &t, &type), 0);
        assert_int_equal(type, TT_SYMLINK);
        assert_string_equal(t, cases[i].want);
        free(t);
    }
    size_t n = symlink_data(buf, L"\\??\\C:\\x", 0);
    assert_int_equal(pf_win_reparse_target(buf, n - 6, &t, &type), EINVAL); /* cut short */
    uint32_t other = 0x80000017u;                                           /* a WOF file */
    memcpy(buf, &other, 4);
    assert_int_equal(pf_win_reparse_target(buf, n, &t, &type), EINVAL);
}

/* A fresh directory under the system's temp directory for one test. */
static int setup(void **state)
{
    char base[MAX_PATH];
    DWORD n = GetTempPathA(sizeof base, base);
    assert_true(n > 0 && n < sizeof base);
    char prefix[MAX_PATH + 32];
    snprintf(prefix, sizeof prefix, "%stether-test-", base);
    char *dir = NULL;
    tt_err e;
    assert_int_equal(tt_mkdtemp(prefix, &dir, &e), 0);
    *state = dir;
    return 0;
}

static int teardown(void **state)
{
    tt_err e;
    tt_rmtree(NULL, *state, NULL, &e);
    free(*state);
    return 0;
}

static char *in(void **state, const char *name)
{
    return tt_path_join(*state, name);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_hardlink(void **state)
{
    char *a = in(state, "caf\xc3\xa9.txt"), *b = in(state, "\xe6\x97\xa5\xe6\x9c\xac.txt");
    wchar_t *wa = pf_win_wide(a);
    HANDLE h = CreateFileW(wa, GENERIC_WRITE, 0, NULL, CREATE_NEW, 0, NULL);
    assert_true(h != INVALID_HANDLE_VALUE);
    DWORD w;
    WriteFile(h, "data", 4, &w, NULL);
    CloseHandle(h);
    free(wa);
    tt_err e;
    assert_int_equal(tt_hardlink(NULL, a, b, NULL, 0, NULL, &e), 0);
    tt_info ia, ib;
    assert_int_equal(tt_info_get(a, &ia, &e), 0);
    assert_int_equal(tt_info_get(b, &ib, &e), 0);
    assert_int_equal(ib.st.type, TT_FILE);
    assert_int_equal(ib.st.nlink, 2);
    assert_true(ia.st.ino == ib.st.ino && ia.st.dev == ib.st.dev);
    assert_int_equal(ib.st.size, 4);
    /* Linking again is a no-op; a link onto another existing file is refused... */
    assert_int_equal(tt_hardlink(NULL, a, b, NULL, 0, NULL, &e), 0);
    char *c = in(state, "other");
    write_file(c, "other");
    assert_int_equal(tt_hardlink(NULL, a, c, NULL, 0, NULL, &e), -1);
    assert_int_equal(e.code, EEXIST);
    free(c);
    assert_int_equal(tt_unlink(NULL, b, NULL, NULL, 0, &e), -1);
    assert_int_equal(e.code, TT_ENOTLINK);
    /* ...unless asked to remove one name of a multiply-linked file. */
    assert_int_equal(tt_unlink(NULL, b, NULL, NULL, TT_LINK_HARD, &e), 0);
    assert_int_equal(tt_info_get(a, &ia, &e), 0);
    assert_int_equal(ia.st.nlink, 1);
    free(a);
    free(b);
}

/* Safety rule 4: a symlink the system claims to have made but did not is an error
 * (EVERIFY, suggesting a junction) and leaves nothing; one it made reads back right. */
static void test_symlink_verified(void **state)
{
    char *t = in(state, "target.txt"), *l = in(state, "link.txt");
    write_file(t, "x");
    tt_err e;
    int rc = tt_symlink(NULL, t, l, 0, NULL, &e);
    tt_stat st;
    if (rc == 0) {
        char *got = NULL;
        assert_int_equal(tt_readlink_alloc(l, &got, &e), 0);
        assert_string_equal(got, t);
        free(got);
        assert_int_equal(tt_unlink(NULL, l, NULL, NULL, 0, &e), 0);
    } else {
        assert_true(e.code == TT_EVERIFY || e.code == EPERM);
        assert_non_null(e.hint);
        assert_non_null(strstr(e.hint, e.code == EPERM ? "Developer Mode" : "junction"));
        print_message("symlink here: %s (%s)\n", e.msg ? e.msg : "", tt_errname(e.code));
    }
    assert_int_equal(pf_lstat(l, &st), ENOENT); /* nothing left behind either way */
    assert_int_equal(pf_lstat(t, &st), 0);
    free(t);
    free(l);
}

static void test_junction(void **state)
{
    char *target = in(state, "data"), *j = in(state, "junction");
    tt_err e;
    assert_int_equal(tt_mkdir(NULL, target, 0, NULL, &e), 0);
    int rc = tt_junction(NULL, target, j, 0, NULL, &e);
    tt_stat st;
    if (rc == 0) {
        tt_info i;
        assert_int_equal(tt_info_get(j, &i, &e), 0);
        assert_int_equal(i.st.type, TT_JUNCTION);
        assert_int_equal(tt_unlink(NULL, j, NULL, NULL, 0, &e), 0);
    } else {
        assert_int_equal(e.code, ENOTSUP);
        assert_non_null(strstr(e.msg, "junctions"));
        print_message("junction here: %s (%s)\n", e.msg, tt_errname(e.code));
    }
    assert_int_equal(pf_lstat(j, &st), ENOENT); /* the half-made directory is gone */
    assert_int_equal(pf_lstat(target, &st), 0);
    /* Relative targets and network paths are refused before anything is made. */
    assert_int_equal(tt_junction(NULL, "data", j, 0, NULL, &e), -1);
    assert_int_equal(e.code, EINVAL);
    assert_int_equal(tt_junction(NULL, "\\\\server\\share\\x", j, 0, NULL, &e), -1);
    assert_int_equal(e.code, EINVAL);
    assert_int_equal(pf_lstat(j, &st), ENOENT);
    free(target);
    free(j);
}

static void test_readlink_of_a_file(void **state)
{
    char *f = in(state, "plain");
    write_file(f, "x");
    char *got = NULL;
    tt_err e;
    assert_int_equal(tt_readlink_alloc(f, &got, &e), -1);
    assert_int_equal(e.code, TT_ENOTLINK); /* as on POSIX */
    free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_names),
        cmocka_unit_test(test_utf16),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_junction_data),
        cmocka_unit_test(test_symlink_data),
        cmocka_unit_test_setup_teardown(test_hardlink, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symlink_verified, setup, teardown),
        cmocka_unit_test_setup_teardown(test_junction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_readlink_of_a_file, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
