/* JSON text, both ways, for journals and reports (bindings/l_json.c turns Lua values into
 * it and back). File names are bytes, not always UTF-8: a byte that is not part of valid
 * UTF-8 is written as "\udcXX" (a lone low surrogate, as Python's surrogateescape does),
 * and read back as that byte. Documents nested deeper than TT_JSON_MAX_DEPTH are refused
 * both ways: the stacks that hold them are finite. */
#ifndef TETHER_CORE_JSON_H
#define TETHER_CORE_JSON_H

#include <stddef.h>
#include <stdint.h>

#define TT_JSON_MAX_DEPTH 1000

/* The writer appends to *buf (malloc'd, grown as needed; the caller owns and frees it,
 * so an error of its own while writing cannot leak it). After a failed allocation,
 * nothing more is written and oom is set. indent NULL: compact. */
typedef struct tt_json_out {
    char **buf;
    size_t len, cap;
    const char *indent;
    size_t indent_len;
    int oom;
} tt_json_out;

void tt_json_put(tt_json_out *o, const char *s, size_t n);
/* s (n bytes) as a JSON string, quotes included. */
void tt_json_put_string(tt_json_out *o, const char *s, size_t n);
void tt_json_put_integer(tt_json_out *o, long long v);
/* Shortest exact form ("%.17g"); null for NaN and the infinities. */
void tt_json_put_number(tt_json_out *o, double v);
/* With an indent: a new line indented `depth` times (nothing when compact). */
void tt_json_newline(tt_json_out *o, int depth);

/* An object's key, and where the caller keeps its value (slot). */
typedef struct tt_json_key {
    const char *s;
    size_t n;
    size_t slot;
} tt_json_key;
/* Sorts keys as Lua compares strings in the C locale: byte by byte, shorter first. */
void tt_json_sort_keys(tt_json_key *keys, size_t n);

/* The reader: a document read token by token, in order; a container's tokens come
 * between its TT_JSON_OBJECT or TT_JSON_ARRAY and its TT_JSON_END, an object's as a
 * TT_JSON_KEY before each value. */
typedef enum tt_json_token {
    TT_JSON_ERROR,  /* s: the message (n bytes) */
    TT_JSON_DONE,   /* the whole text is read */
    TT_JSON_OBJECT, /* an object begins */
    TT_JSON_ARRAY,  /* an array begins */
    TT_JSON_END,    /* the innermost container ends */
    TT_JSON_KEY,    /* s: the key (n bytes, decoded) */
    TT_JSON_STRING, /* s: the string (n bytes, decoded) */
    TT_JSON_NUMBER, /* s: the number as written (n bytes, at most 63) */
    TT_JSON_TRUE,
    TT_JSON_FALSE,
    TT_JSON_NULL,
} tt_json_token;

typedef struct tt_json_tok {
    tt_json_token type;
    /* KEY and STRING: the text between the quotes, as written (escaped: it holds escapes,
     * for tt_json_unescape); NUMBER: as written (at most 63 bytes). Points into the text. */
    const char *s;
    size_t n;
    int escaped;
    size_t at; /* where the token starts in the text (a byte offset) */
} tt_json_tok;

/* The place of each open container: an array's element being read (from 1), an
 * object's key being read (where it starts in the text, + 1; 0: between keys). */
typedef struct tt_json_frame {
    int64_t index;
    size_t key;
    int object;
} tt_json_frame;

typedef struct tt_json_in {
    const char *s, *p, *end;
    size_t key; /* the key just read, until its ':' */
    int state, depth;
    const char *what; /* the failure, at byte offset `at` */
    size_t at;
    char what_buf[32];
    tt_json_frame frames[TT_JSON_MAX_DEPTH];
} tt_json_in;

/* Starts reading text (n bytes), which must stay as it is while it is read. */
void tt_json_in_init(tt_json_in *in, const char *text, size_t n);
/* The next token. After TT_JSON_ERROR (and after tt_json_fail) the reader is stopped and
 * tt_json_message says what went wrong. */
tt_json_token tt_json_next(tt_json_in *in, tt_json_tok *t);
/* A string token's bytes (s, n as the token gives them) decoded into out, which has
 * room for n bytes (decoded is never longer); the decoded length. */
size_t tt_json_unescape(const char *s, size_t n, char *out);
/* The container the next value goes into: 0 none (the top level), 1 an array (*index:
 * the element's, from 1), 2 an object. */
int tt_json_container(const tt_json_in *in, int64_t *index);
/* A failure the caller found (a duplicate key, a number it cannot hold) at byte offset
 * `at`; what must stay valid until tt_json_message. The reader stops. */
void tt_json_fail(tt_json_in *in, const char *what, size_t at);
/* "json: WHAT in PLACE at byte N" (PLACE, as links[2].path, left out at the top level)
 * into *buf (malloc'd, grown as needed: the caller frees it), *n bytes; 0 or ENOMEM. */
int tt_json_message(const tt_json_in *in, char **buf, size_t *n);

#endif
