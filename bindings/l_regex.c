/* tether.regex: Perl-compatible regular expressions (PCRE2), for what users write as
 * Perl regexes: stow's ignore lists, --ignore, --defer and --override. Names are bytes,
 * so patterns match bytes (no UTF mode), as stow's Perl does. */
#include "l_tether.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <string.h>

#define REGEX_META "tether.regex"

typedef struct regex {
    pcre2_code *code;
    pcre2_match_data *md;
} regex;

static int regex_gc(lua_State *L)
{
    regex *r = luaL_checkudata(L, 1, REGEX_META);
    if (r->md) pcre2_match_data_free(r->md);
    if (r->code) pcre2_code_free(r->code);
    r->md = NULL;
    r->code = NULL;
    return 0;
}

/* tether.regex(pattern) -> a compiled regex, or nil, "PATTERN: what is wrong at offset N
 * (EINVAL)", "EINVAL", error. */
static int l_regex_new(lua_State *L)
{
    size_t len;
    const char *pattern = luaL_checklstring(L, 1, &len);
    regex *r = lua_newuserdatauv(L, sizeof *r, 0);
    memset(r, 0, sizeof *r);
    luaL_setmetatable(L, REGEX_META);
    int code;
    PCRE2_SIZE at;
    r->code = pcre2_compile((PCRE2_SPTR)pattern, len, 0, &code, &at, NULL);
    if (!r->code) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(code, msg, sizeof msg);
        char reason[320];
        snprintf(reason, sizeof reason, "not a Perl-compatible regular expression: %s at offset %d",
                 (const char *)msg, (int)at);
        lua_settop(L, 0);
        lua_pushstring(L, "EINVAL");
        lua_pushlstring(L, pattern, len);
        lua_pushstring(L, reason);
        return l_fail_lua(L);
    }
    r->md = pcre2_match_data_create_from_pattern(r->code, NULL);
    if (!r->md) return luaL_error(L, "out of memory");
    return 1;
}

/* re:find(s [, init]) -> start, end (1-based, inclusive) of the first match, or nil. */
static int regex_find(lua_State *L)
{
    regex *r = luaL_checkudata(L, 1, REGEX_META);
    size_t len;
    const char *s = luaL_checklstring(L, 2, &len);
    lua_Integer init = luaL_optinteger(L, 3, 1);
    if (init < 1 || (size_t)init > len + 1) return luaL_argerror(L, 3, "out of range");
    if (!r->code) return luaL_error(L, "regex already freed");
    int rc = pcre2_match(r->code, (PCRE2_SPTR)s, len, (PCRE2_SIZE)(init - 1), 0, r->md, NULL);
    if (rc == PCRE2_ERROR_NOMATCH) return luaL_pushfail(L), 1;
    if (rc < 0) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(rc, msg, sizeof msg);
        return luaL_error(L, "regex: %s", (const char *)msg);
    }
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(r->md);
    lua_pushinteger(L, (lua_Integer)ov[0] + 1);
    lua_pushinteger(L, (lua_Integer)ov[1]);
    return 2;
}

static const luaL_Reg methods[] = {{"find", regex_find}, {NULL, NULL}};

const luaL_Reg l_regex_funcs[] = {{"regex", l_regex_new}, {NULL, NULL}};

void l_open_regex(lua_State *L)
{
    l_newclass(L, REGEX_META, regex_gc, methods);
}
