/* cmocka tests of bindings/: the Lua-facing conventions of the tether module, checked
 * from Lua chunks run in a fresh state per test with `dir` set to a temporary directory. */
#include "../testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <lauxlib.h>
#include <lualib.h>

#include "bindings/l_tether.h"

typedef struct fixture {
    lua_State *L;
    char *dir;
} fixture;

static int setup(void **state)
{
    fixture *f = malloc(sizeof *f);
    f->dir = tu_tmpdir();
    f->L = luaL_newstate();
    luaL_openlibs(f->L);
    luaL_requiref(f->L, "tether", luaopen_tether_core, 1);
    lua_pop(f->L, 1);
    lua_pushstring(f->L, f->dir);
    lua_setglobal(f->L, "dir");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    lua_close(f->L);
    tu_rmtree(f->dir);
    free(f);
    return 0;
}

/* Runs a chunk; its own assert()s carry the checks, so any error fails the test. */
static void run(void **state, const char *code)
{
    fixture *f = *state;
    if (luaL_dostring(f->L, code) != LUA_OK) fail_msg("%s", lua_tostring(f->L, -1));
}

/* A change returns true, or (when it made something) the identity of what it made, for
 * a journal to keep. */
static void test_success_returns_true(void **state)
{
    run(state, "local p = dir .. '/l'\n"
               "local made = assert(tether.symlink('target', p))\n"
               "assert(made.type == 'symlink' and made.ino == tether.info(p).ino)\n"
               "assert(tether.readlink(p) == 'target')\n"
               "assert(tether.islink(p) == true)\n"
               "local gone = assert(tether.unlink(p))\n"
               "assert(gone.ino == made.ino and gone.uid and gone.gid, 'what it removed')\n"
               "assert(tether.exists(p) == false)\n");
}

static void test_failure_returns_nil_message_code(void **state)
{
    run(state, "local p = dir .. '/l'\n"
               "assert(tether.symlink('a', p))\n"
               "local ok, msg, code = tether.symlink('b', p)\n"
               "assert(ok == nil, 'fail value')\n"
               "assert(code == 'EEXIST', code)\n"
               "assert(msg == p .. ': already exists (EEXIST); the option replace = true swaps a "
               "link there (never a real file)', msg)\n"
               "assert(not msg:find('--', 1, true), 'the Lua API gives no command-line advice')\n"
               "local ok2, msg2, code2 = tether.readlink(dir .. '/nothing')\n"
               "assert(ok2 == nil and code2 == 'ENOENT' and msg2:find('nothing', 1, true))\n"
               "local _, m3 = pcall(assert, tether.unlink(dir))\n"
               "assert(m3:find('not a link', 1, true), m3)\n");
}

static void test_misuse_raises(void **state)
{
    run(state, "assert(not pcall(tether.symlink, 1))\n"
               "assert(not pcall(tether.symlink, 'a'))\n"
               "local ok, err = pcall(tether.symlink, 'a', dir .. '/x', {relativ = true})\n"
               "assert(not ok and err:find(\"unknown option 'relativ'\"), err)\n"
               "ok, err = pcall(tether.symlink, 'a', dir .. '/x\\0y')\n"
               "assert(not ok and err:find('NUL byte'), err)\n"
               "ok, err = pcall(tether.unlink, dir, 'not a table')\n"
               "assert(not ok)\n"
               "assert(not tether.exists(dir .. '/x'))\n");
}

static void test_options_table(void **state)
{
    run(state, "assert(tether.mkdir(dir .. '/real/sub', {parents = true}))\n"
               "assert(tether.symlink(dir .. '/real/sub', dir .. '/rel', {relative = true}))\n"
               "assert(tether.readlink(dir .. '/rel') == 'real/sub')\n"
               "assert(tether.symlink('x', dir .. '/rel', {replace = true}))\n"
               "assert(tether.readlink(dir .. '/rel') == 'x')\n"
               "assert(tether.replace('y', dir .. '/rel'))\n"
               "assert(tether.readlink(dir .. '/rel') == 'y')\n");
}

static void test_dry_run_records_and_changes_nothing(void **state)
{
    /* The C part knows only the explicit option; tether.run's mode is tested in Lua. */
    run(state, "assert(tether.symlink('t', dir .. '/l', {dry = true}))\n"
               "assert(tether.mkdir(dir .. '/d', {dry = true}))\n"
               "assert(not tether.exists(dir .. '/l') and not tether.exists(dir .. '/d'))\n"
               "local log = tether.drylog()\n"
               "assert(#log == 2 and log[1].op == 'symlink' and log[1].target == 't')\n"
               "assert(log[2].op == 'mkdir' and log[2].path == dir .. '/d')\n"
               "assert(#tether.drylog() == 0)\n"
               "local ok, _, code = tether.symlink('t', dir, {dry = true})\n"
               "assert(not ok and code == 'EEXIST')\n"
               "assert(tether.symlink('t', dir .. '/l'))\n"
               "assert(tether.exists(dir .. '/l'))\n");
}

static void test_info_fields(void **state)
{
    run(state, "local f = assert(io.open(dir .. '/f', 'w')); f:write('12345'); f:close()\n"
               "assert(tether.symlink('f', dir .. '/ok'))\n"
               "assert(tether.symlink('gone', dir .. '/broken'))\n"
               "local i = assert(tether.info(dir .. '/ok'))\n"
               "assert(i.type == 'symlink' and i.target == 'f' and i.status == 'ok')\n"
               "assert(i.target_type == 'file')\n"
               "i = assert(tether.lstat(dir .. '/broken'))\n"
               "assert(i.status == 'broken' and i.status_error == 'ENOENT')\n"
               "i = assert(tether.info(dir .. '/f'))\n"
               "assert(i.type == 'file' and i.size == 5 and i.nlink == 1 and not i.status)\n"
               "assert(math.type(i.mtime) == 'integer' and i.mode > 0 and i.ino > 0)\n"
               "assert(tether.exists(dir .. '/broken') == true)\n"
               "assert(tether.exists(dir .. '/broken', {follow = true}) == false)\n"
               "assert(tether.realpath(dir .. '/ok') == tether.realpath(dir) .. '/f')\n"
               "local ok, _, code = tether.realpath(dir .. '/broken')\n"
               "assert(ok == nil and code == 'ENOENT')\n");
}

static void test_hardlink_and_junction(void **state)
{
    run(state, "local f = assert(io.open(dir .. '/f', 'w')); f:close()\n"
               "assert(tether.hardlink(dir .. '/f', dir .. '/h'))\n"
               "assert(tether.info(dir .. '/h').nlink == 2)\n"
               "local ok, msg, code = tether.junction(dir, dir .. '/j')\n"
               "if tether.platform == 'posix' then\n"
               "  assert(not ok and code == 'ENOTSUP' and msg:find('NTFS'), msg)\n"
               "end\n"
               "assert(tether.unlink(dir .. '/h', {hard = true}))\n");
}

static void test_mkdtemp(void **state)
{
    run(state,
        "local d = assert(tether.mkdtemp(dir .. '/tmp-'))\n"
        "assert(d:find(dir .. '/tmp-', 1, true) == 1 and #d == #dir + 11)\n"
        "assert(tether.info(d).type == 'dir' and tether.info(d).mode == tonumber('700', 8))\n"
        "assert(os.remove(d))\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(test_success_returns_true),
        T(test_failure_returns_nil_message_code),
        T(test_misuse_raises),
        T(test_options_table),
        T(test_dry_run_records_and_changes_nothing),
        T(test_info_fields),
        T(test_hardlink_and_junction),
        T(test_mkdtemp),
    };
    return cmocka_run_group_tests_name("bindings", tests, NULL, NULL);
}
