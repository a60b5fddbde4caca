/* tt_chase_owned: one name at a time from "/", each opened without following a link;
 * a name that is a link is read (with its owner, from the link itself) and its target
 * put in front of what is left of the path, as the kernel's path walk does. */
#include "chase.h"

#include "link.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tt_link_trust(uint32_t link_uid, const tt_stat *dir, uint32_t euid)
{
    if (link_uid != euid && link_uid != 0) return TT_TRUST_NOT_OWNERS;
    if (link_uid != 0 || !dir) return TT_TRUSTED; /* the caller's own */
    int others_write = (dir->uid != euid && dir->uid != 0) || (dir->mode & 022) != 0;
    return others_write ? TT_TRUST_OTHERS_DIR : TT_TRUSTED;
}

#ifdef _WIN32

int tt_chase_owned(const char *path, pf_dir **out, char **real, char **bad, uint32_t *owner)
{
    (void)owner;
    *bad = NULL;
    *real = NULL;
    int err = pf_dir_open(NULL, path, PF_DIR_FOLLOW | PF_DIR_BASE, out);
    if (err) return err;
    if (pf_realpath(path, real) != 0 && !(*real = strdup(path))) {
        pf_dir_close(*out);
        *out = NULL;
        return ENOMEM;
    }
    return 0;
}

#else

#define MAX_LINKS   40 /* as Linux's path walk */
#define MAX_RETRIES 8  /* a name swapped between a link and a directory this often: ELOOP */

typedef struct chase {
    pf_dir *d;  /* the directory reached so far */
    char *real; /* its path, links resolved ("" for "/") */
    char *todo; /* what is left to walk, from the last link followed on */
    int links, retries;
} chase;

/* The next name at *p, "." and empty names skipped: *start and its length (0 at the
 * end); *p moves past it. */
static size_t next_name(char **p, char **start)
{
    for (;;) {
        while (**p == '/')
            (*p)++;
        *start = *p;
        while (**p && **p != '/')
            (*p)++;
        size_t n = (size_t)(*p - *start);
        if (n != 1 || **start != '.') return n;
    }
}

/* real += "/" + name (n bytes), or real cut back to its parent for "..". */
static int real_step(char **real, const char *name, size_t n)
{
    size_t len = strlen(*real);
    if (n == 2 && name[0] == '.' && name[1] == '.') {
        char *slash = strrchr(*real, '/');
        if (slash) *slash = '\0';
        return 0;
    }
    char *more = realloc(*real, len + n + 2);
    if (!more) return ENOMEM;
    more[len] = '/';
    memcpy(more + len + 1, name, n);
    more[len + n + 1] = '\0';
    *real = more;
    return 0;
}

/* Goes back to "/" (at the start, and for a link whose target is absolute). */
static int at_root(chase *c)
{
    pf_dir *root;
    int err = pf_dir_open(NULL, "/", PF_DIR_BASE, &root);
    if (err) return err;
    pf_dir_close(c->d);
    c->d = root;
    c->real[0] = '\0';
    return 0;
}

/* The target of the link `name` in the directory reached, and the link's owner, both
 * read from the link itself. EAGAIN: a directory is there now; ENOTDIR: something else. */
static int read_link(chase *c, const char *name, char **target, uint32_t *owner)
{
    tt_stat st;
    size_t cap = 0;
    *target = NULL;
    int err = tt_readlink_stat(c->d, name, target, &cap, &st);
    if (err == TT_ENOTLINK) err = st.type == TT_DIR ? EAGAIN : ENOTDIR;
    if (!err) {
        *owner = st.uid;
        return 0;
    }
    free(*target);
    *target = NULL;
    return err;
}

/* Follows the link `name` (n bytes) when tt_link_trust trusts it in the directory
 * reached: what is left to walk becomes its target followed by rest. Otherwise EPERM,
 * *bad and *owner say which (the link's owner). */
static int follow(chase *c, const char *name, size_t n, const char *rest, char **bad,
                  uint32_t *owner)
{
    char *target;
    uint32_t uid;
    tt_stat ds;
    int err = read_link(c, name, &target, &uid);
    if (!err && (err = pf_dir_self(c->d, 0, &ds)) != 0) free(target);
    if (err) return err;
    if (tt_link_trust(uid, &ds, pf_euid()) != TT_TRUSTED) {
        free(target);
        *owner = uid;
        if (real_step(&c->real, name, n) == 0) *bad = strdup(*c->real ? c->real : "/");
        return EPERM;
    }
    char *todo = malloc(strlen(target) + strlen(rest) + 2);
    err = !todo ? ENOMEM : ++c->links > MAX_LINKS ? ELOOP : 0;
    if (!err) sprintf(todo, "%s/%s", target, rest);
    if (!err && target[0] == '/') err = at_root(c);
    free(target);
    if (err) {
        free(todo);
        return err;
    }
    free(c->todo);
    c->todo = todo;
    return 0;
}

/* Walks the next name at *p: a directory is entered, a link followed. */
static int step(chase *c, char **p, char **bad, uint32_t *owner)
{
    char *s;
    size_t n = next_name(p, &s);
    if (n == 0) return 0;
    if (n > NAME_MAX) return ENAMETOOLONG;
    char name[NAME_MAX + 1];
    memcpy(name, s, n);
    name[n] = '\0';
    pf_dir *next;
    int err = pf_dir_open(c->d, name, PF_DIR_BASE, &next);
    if (!err) {
        pf_dir_close(c->d);
        c->d = next;
        return real_step(&c->real, name, n);
    }
    if (err != ELOOP && err != ENOTDIR) return err;
    err = follow(c, name, n, *p, bad, owner);
    if (err == EAGAIN && ++c->retries < MAX_RETRIES) { /* it changed under us: look again */
        *p = s;
        return 0;
    }
    if (!err) *p = c->todo;
    return err == EAGAIN ? ELOOP : err;
}

int tt_chase_owned(const char *path, pf_dir **out, char **real, char **bad, uint32_t *owner)
{
    *out = NULL, *real = NULL, *bad = NULL;
    if (path[0] != '/') return EINVAL;
    chase c = {.todo = strdup(path), .real = strdup("")};
    int err = c.todo && c.real ? at_root(&c) : ENOMEM;
    for (char *p = c.todo; !err && *p;)
        err = step(&c, &p, bad, owner);
    free(c.todo);
    if (!err && !*c.real) { /* "/" itself */
        free(c.real);
        if (!(c.real = strdup("/"))) err = ENOMEM;
    }
    if (err) {
        pf_dir_close(c.d);
        free(c.real);
        return err;
    }
    *out = c.d;
    *real = c.real;
    return 0;
}

#endif
