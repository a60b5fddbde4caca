/* Link classification. Only the status needs the filesystem beyond the link itself;
 * form, messy and escapes are read from the stored target, so a broken link is still
 * classified completely. */
#include "classify.h"

#include "link.h"
#include "path.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The most links one lookup may follow, the link being classified included: Linux's
 * MAXSYMLINKS (glibc's <sys/param.h> still says 20). Elsewhere a lower bound: a
 * shortcut taken only below it answers as the full lookup. */
#ifdef __linux__
#define TT_MAX_LINKS 40
#else
#define TT_MAX_LINKS 32
#endif

const char *tt_form_name(int absolute)
{
    return absolute ? "absolute" : "relative";
}

/* A target is messy when it is not spelled the short way: an empty component ("//"),
 * a "." component, or ".." after a named component (or after the root). A leading run
 * of ".." is the normal form of a relative target; a trailing '/' is meaningful. */
static int is_messy(const char *t)
{
    int named = 0;
    if (strcmp(t, ".") == 0) return 0;
    const char *p = t;
    if (tt_is_sep(*p)) named = 1, p++;
    while (*p) {
        const char *s = p;
        while (*p && !tt_is_sep(*p))
            p++;
        size_t n = (size_t)(p - s);
        if (*p) p++;
        if (n == 0) return 1;
        if (n == 1 && s[0] == '.') return 1;
        if (n == 2 && s[0] == '.' && s[1] == '.') {
            if (named) return 1;
        } else {
            named = 1;
        }
    }
    return 0;
}

/* Whether a relative target climbs with ".." at all; without it, the target stays
 * inside the link's own directory and cannot escape. */
static int climbs(const char *t)
{
    for (const char *p = t; (p = strstr(p, "..")) != NULL; p += 2)
        if ((p == t || tt_is_sep(p[-1])) && (p[2] == '\0' || tt_is_sep(p[2]))) return 1;
    return 0;
}

int tt_inside_roots(const char *p, const tt_roots *roots)
{
    for (size_t i = 0; roots && i < roots->n; i++) {
        const char *r = roots->paths[i];
        size_t n = strlen(r);
        if (n == 1 && tt_is_sep(r[0])) return 1;
        if (strncmp(p, r, n) == 0 && (p[n] == '\0' || tt_is_sep(p[n]))) return 1;
    }
    return 0;
}

/* Reads a target of any length into the reusable buffer. */
static int read_target(pf_dir *dir, const char *name, char **buf, size_t *cap, tt_err *e)
{
    int err = tt_readlink_at(dir, name, buf, cap);
    return err ? tt_fail(e, err, name, NULL, NULL) : 0;
}

/* Form and messy from the stored target. */
static void classify_form(const char *target, tt_class *out)
{
    out->absolute = tt_path_is_abs(target);
    out->messy = is_messy(target);
}

/* Whether the target leaves the scanned roots, given the link's absolute directory. */
static void classify_escapes(const char *target, const char *link_dir, const tt_roots *roots,
                             tt_class *out)
{
    out->escapes = 0;
    if (!roots || roots->n == 0) return;
    /* Below its own directory: inside the roots when that directory is (a root that is
     * a link has its directory outside itself). */
    if (!out->absolute && !climbs(target) && link_dir && tt_inside_roots(link_dir, roots)) return;
    if (out->absolute && !out->messy) { /* already in normal form: no copy needed */
        out->escapes = !tt_inside_roots(target, roots);
        return;
    }
    char *joined = out->absolute || !link_dir ? NULL : tt_path_join(link_dir, target);
    char *norm = tt_path_normalize(joined ? joined : target);
    if (norm) out->escapes = (out->absolute || link_dir) && !tt_inside_roots(norm, roots);
    free(joined);
    free(norm);
}

/* The number of leading ".." of a relative target; *rest is what follows them. */
static int leading_ups(const char *target, const char **rest)
{
    int up = 0;
    const char *r = target;
    while (r[0] == '.' && r[1] == '.' && (r[2] == '\0' || tt_is_sep(r[2]))) {
        up++;
        r += r[2] ? 3 : 2;
    }
    *rest = r;
    return up;
}

static void set_status(tt_class *out, int err, const tt_stat *target, uint64_t link_dev)
{
    out->status_err = err;
    out->status = tt_status_of(err);
    out->target_type = err ? TT_NONE : target->type;
    out->cross_fs = !err && target->dev != link_dev;
}

/* The target-directory cache: open directories by absolute, lexically normal path, in
 * a hash table and a list from the most to the least recently used. */
typedef struct tdir tdir;
struct tdir {
    tdir *next_in_bucket, *newer, *older;
    uint64_t hash;
    pf_dir *dir; /* NULL: it could not be opened, its links take the full lookup */
    int links;   /* links the kernel follows on the way from "/"; -1: not known */
    size_t len;
    char key[];
};

typedef struct tcache {
    tdir **buckets;
    size_t mask; /* buckets - 1, a power of two less one */
    tdir *newest, *oldest;
    size_t n, cap;
    char *key; /* the key being looked up */
    size_t key_cap;
    char *sub; /* one name of key, to open */
    size_t sub_cap;
    char *link; /* the target of a name that is a link */
    size_t link_cap;
    tt_cache_stats stats;
} tcache;

static uint64_t key_hash(const char *k, size_t n)
{
    uint64_t h = 1469598103934665603u; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)k[i]) * 1099511628211u;
    return h;
}

/* At most `want` directories, and at most half of the open files the process may have
 * left to it (the walk and the chain need some too). */
static void tcache_init(tcache *t, int want)
{
    memset(t, 0, sizeof *t);
#ifdef _WIN32
    want = 0; /* directories are reached by path there: nothing to save */
#else
    unsigned long limit = pf_files_limit();
    if (want > 0 && limit > 0 && limit / 2 < (unsigned long)want + 64)
        want = limit / 2 > 64 ? (int)(limit / 2 - 64) : 0;
#endif
    if (want <= 0) return;
    if (want < 2) want = 2; /* see tcache_reach */
    size_t nb = 16;
    while (nb < (size_t)want * 2)
        nb *= 2;
    t->buckets = calloc(nb, sizeof *t->buckets);
    if (!t->buckets) return; /* no cache: every link takes the full lookup */
    t->mask = nb - 1;
    t->cap = (size_t)want;
}

static void tcache_unlink(tcache *t, tdir *d)
{
    if (d->newer)
        d->newer->older = d->older;
    else
        t->newest = d->older;
    if (d->older)
        d->older->newer = d->newer;
    else
        t->oldest = d->newer;
    d->newer = d->older = NULL;
}

static void tcache_push(tcache *t, tdir *d)
{
    d->older = t->newest;
    d->newer = NULL;
    if (t->newest) t->newest->newer = d;
    t->newest = d;
    if (!t->oldest) t->oldest = d;
}

static void tcache_drop(tcache *t, tdir *d)
{
    tdir **p = &t->buckets[d->hash & t->mask];
    while (*p != d)
        p = &(*p)->next_in_bucket;
    *p = d->next_in_bucket;
    tcache_unlink(t, d);
    if (d->dir) pf_dir_close(d->dir);
    free(d);
    t->n--;
}

static void tcache_free(tcache *t)
{
    while (t->oldest)
        tcache_drop(t, t->oldest);
    free(t->buckets);
    free(t->key);
    free(t->sub);
    free(t->link);
}

/* The entry for t->key[0..n), made the most recent; NULL when it is not there. */
static tdir *tcache_find(tcache *t, size_t n, uint64_t h)
{
    for (tdir *d = t->buckets[h & t->mask]; d; d = d->next_in_bucket) {
        if (d->hash == h && d->len == n && memcmp(d->key, t->key, n) == 0) {
            tcache_unlink(t, d);
            tcache_push(t, d);
            return d;
        }
    }
    return NULL;
}

/* Keeps `dir` (or the fact that it could not be opened) under t->key[0..n). */
static tdir *tcache_add(tcache *t, size_t n, uint64_t h, pf_dir *dir, int links)
{
    tdir *d = malloc(sizeof *d + n + 1);
    if (!d) return NULL;
    if (t->n >= t->cap) tcache_drop(t, t->oldest);
    d->hash = h;
    d->dir = dir;
    d->links = links;
    d->len = n;
    memcpy(d->key, t->key, n);
    d->key[n] = '\0';
    d->next_in_bucket = t->buckets[h & t->mask];
    t->buckets[h & t->mask] = d;
    tcache_push(t, d);
    t->n++;
    return d;
}

struct tt_dirchain {
    char *root;      /* the walk's root, spelled as the walk spells it */
    size_t root_len; /* without trailing separators (but "/" stays "/") */
    char *real_root; /* canonical, for resolving absolute targets; NULL if unknown */
    size_t real_len;
    int follow;    /* the walk follows directory links: ancestors are not shortcuts */
    pf_dir **dirs; /* dirs[i]: the open directory at level i (0: the root) */
    size_t *ends;  /* ends[i]: length of level i's path, a prefix of the links' paths */
    uint64_t *devs;
    unsigned char *have_dev;
    size_t n, cap;
    char *path; /* the deepest open level's path */
    size_t path_cap;
    tcache cache;
};

tt_dirchain *tt_dirchain_open(const char *root, int follow, int cache, tt_err *e)
{
    tt_dirchain *c = calloc(1, sizeof *c);
    size_t n = strlen(root);
    while (n > 1 && tt_is_sep(root[n - 1]))
        n--;
    if (c) c->root = malloc(n + 1);
    if (!c || !c->root) {
        tt_dirchain_close(c);
        return tt_fail(e, ENOMEM, root, NULL, NULL), NULL;
    }
    memcpy(c->root, root, n);
    c->root[n] = '\0';
    c->root_len = n;
    c->follow = follow;
    if (pf_realpath(c->root, &c->real_root) != 0) c->real_root = NULL;
    c->real_len = c->real_root ? strlen(c->real_root) : 0;
    /* Keys are built from the real root and the walked names: real directories only when
     * the walk follows no links. */
    tcache_init(&c->cache, follow || !c->real_root ? 0 : cache);
    return c;
}

const tt_cache_stats *tt_dirchain_stats(const tt_dirchain *c)
{
    return &c->cache.stats;
}

static void chain_pop(tt_dirchain *c, size_t keep)
{
    while (c->n > keep)
        pf_dir_close(c->dirs[--c->n]);
}

void tt_dirchain_close(tt_dirchain *c)
{
    if (!c) return;
    chain_pop(c, 0);
    tcache_free(&c->cache);
    free(c->dirs);
    free(c->ends);
    free(c->devs);
    free(c->have_dev);
    free(c->path);
    free(c->real_root);
    free(c->root);
    free(c);
}

static int chain_push(tt_dirchain *c, pf_dir *parent, const char *name, size_t end)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 32;
        pf_dir **d = realloc(c->dirs, cap * sizeof *d);
        if (d) c->dirs = d;
        size_t *en = realloc(c->ends, cap * sizeof *en);
        if (en) c->ends = en;
        uint64_t *dv = realloc(c->devs, cap * sizeof *dv);
        if (dv) c->devs = dv;
        unsigned char *hd = realloc(c->have_dev, cap);
        if (hd) c->have_dev = hd;
        if (!d || !en || !dv || !hd) return ENOMEM;
        c->cap = cap;
    }
    /* Names below the root are not followed (unless the walk follows links), so a
     * directory swapped for a link since the walk read it is not entered. */
    int how = PF_DIR_BASE | (!parent || c->follow ? PF_DIR_FOLLOW : 0);
    int err = pf_dir_open(parent, name, how, &c->dirs[c->n]);
    if (err) return err;
    c->ends[c->n] = end;
    c->have_dev[c->n] = 0;
    c->n++;
    return 0;
}

/* Opens the directories from the root down to `dir` (the first dl bytes of a path the
 * walk produced; level 0 is the root), keeping the open levels that lead there. Links
 * come in the walk's order, so each directory is opened once. */
static int chain_reach(tt_dirchain *c, const char *dir, size_t dl, int level)
{
    size_t same = 0; /* bytes shared with the deepest open level's path */
    while (c->n > 0 && same < dl && c->path[same] == dir[same])
        same++;
    size_t keep = c->n > 0 ? 1 : 0;
    while (keep < c->n && keep <= (size_t)level && c->ends[keep] <= same &&
           (c->ends[keep] == dl || tt_is_sep(dir[c->ends[keep]])))
        keep++;
    chain_pop(c, keep);
    if (c->path_cap < dl + 1) {
        char *p = realloc(c->path, dl + 1);
        if (!p) return ENOMEM;
        c->path = p;
        c->path_cap = dl + 1;
    }
    memcpy(c->path, dir, dl);
    c->path[dl] = '\0';
    int err = c->n == 0 ? chain_push(c, NULL, c->root, c->root_len) : 0;
    while (!err && c->n <= (size_t)level) {
        size_t at = c->ends[c->n - 1], end;
        while (at < dl && tt_is_sep(c->path[at]))
            at++;
        for (end = at; end < dl && !tt_is_sep(c->path[end]); end++) {
        }
        if (end == at) return ENOENT; /* fewer names than levels: not a walked path */
        char saved = c->path[end];
        c->path[end] = '\0';
        err = chain_push(c, c->dirs[c->n - 1], c->path + at, end);
        c->path[end] = saved;
    }
    return err;
}

/* The deepest open ancestor a target in normal form names: its level in the chain, with
 * *rest the part of the target below it; -1 when there is none. The chain holds those
 * directories open and they are the real directories the names lead to (the walk
 * follows no links), so resolving from there is the kernel's own answer. `path` is the
 * link's, its name at name_off. */
static int find_ancestor(tt_dirchain *c, const char *path, size_t name_off, int depth,
                         const char *target, int absolute, const char **rest_out)
{
    if (c->follow) return -1; /* the walked names may be links: not the real parents */
    int level;
    const char *rest;
    if (!absolute) {
        level = depth - 1 - leading_ups(target, &rest);
    } else {
        const char *real = c->real_root;
        size_t rl = c->real_len;
        /* The target is the real root or below it ("/" is the prefix of every path). */
        if (!real || strncmp(target, real, rl) != 0 ||
            (target[rl] && !tt_is_sep(target[rl]) && !tt_is_sep(real[rl - 1])))
            return -1;
        /* Match the target's names under the root against the walked names of the
         * link's directory. */
        const char *t = target + rl, *p = path + c->root_len;
        const char *end = path + name_off;
        level = 0;
        for (;;) {
            while (tt_is_sep(*t))
                t++;
            while (p < end && tt_is_sep(*p))
                p++;
            if (p >= end || level >= depth - 1) break;
            size_t n = 0;
            while (p + n < end && !tt_is_sep(p[n]))
                n++;
            if (strncmp(t, p, n) != 0 || (t[n] && !tt_is_sep(t[n]))) break;
            t += n;
            p += n;
            level++;
        }
        rest = t;
    }
    if (level < 0 || (size_t)level >= c->n) return -1;
    *rest_out = rest;
    return level;
}

/* The stat of `last` (one name) in a directory the kernel reaches through `links` links,
 * as the stat through a link to it would be: -1 when that could differ, because the
 * kernel counts every link of one lookup, the link itself included, against its limit
 * (40 on Linux), and a lookup from `dir` cannot count those before it. So the answer is
 * given only for a last name that is no link (its stat is its lstat) and a way short
 * enough; otherwise the full lookup is taken. */
static int stat_last(pf_dir *dir, int links, const char *last, tt_stat *st)
{
    if (links < 0 || links + 1 > TT_MAX_LINKS) return -1;
    int err = pf_dir_stat(dir, last, 0, st);
    return err || st->type != TT_SYMLINK ? err : -1;
}

/* Resolves a target in normal form from the deepest open ancestor it names, instead of
 * from "/" or through a run of "..", with a fraction of the lookups. Returns -1 when no
 * shortcut applies, else 0 or the errno of the stat. The way down from the ancestor
 * must be one name (see stat_last): a longer one may hold links. */
static int stat_from_ancestor(tt_dirchain *c, const char *path, size_t name_off, int depth,
                              const char *target, int absolute, tt_stat *st)
{
    const char *rest;
    int level = find_ancestor(c, path, name_off, depth, target, absolute, &rest);
    if (level < 0) return -1;
    pf_dir *dir = c->dirs[level];
    if (!*rest) return pf_dir_self(dir, 0, st);
    for (const char *r = rest; *r; r++)
        if (tt_is_sep(*r)) return -1;
    return stat_last(dir, 0, rest, st);
}

/* The link's directory as an absolute, lexically normal path, into *buf: the real root,
 * then the names the walk went through (real directories, as the walk follows no links
 * when this is asked), each after one separator. The walk spells the names after its
 * root with a separator first, or not, when the root ends in one ("/"): both give the
 * same path. `extra` more bytes are reserved. Returns the length, or -1 (no memory). */
static long link_dir_path(const tt_dirchain *c, const char *path, size_t dl, char **buf,
                          size_t *cap, size_t extra)
{
    size_t rl = c->real_len;
    if (tt_path_reserve(buf, cap, rl + (dl - c->root_len) + extra + 2)) return -1;
    char *k = *buf;
    memcpy(k, c->real_root, rl);
    size_t n = rl;
    for (size_t at = c->root_len; at < dl;) {
        while (at < dl && tt_is_sep(path[at]))
            at++;
        size_t end = at;
        while (end < dl && !tt_is_sep(path[end]))
            end++;
        if (end == at) break;
        if (n == 0 || !tt_is_sep(k[n - 1])) k[n++] = TT_SEP;
        memcpy(k + n, path + at, end - at);
        n += end - at;
        at = end;
    }
    k[n] = '\0';
    return (long)n;
}

/* The link's directory as a canonical path (NULL: not known), for "escapes": the real
 * root plus the walked names, unless the walk follows links (then some of those names
 * may be links, and the kernel tells where they lead). */
static char *link_dir_real(const tt_dirchain *c, const char *path, size_t dl)
{
    char *out = NULL;
    size_t cap = 0;
    if (c->follow) {
        char *dir = malloc(dl + 1);
        if (dir) {
            memcpy(dir, path, dl);
            dir[dl] = '\0';
            if (pf_realpath(dir, &out) != 0) out = NULL;
        }
        free(dir);
        return out;
    }
    if (c->real_root && link_dir_path(c, path, dl, &out, &cap, 0) >= 0) return out;
    free(out);
    return NULL;
}

/* The absolute, lexically normal path of the directory a target in normal form names,
 * into cache.key (its length returned), and the target's last name; -1 when the cache
 * cannot answer for this target. The link's directory is the real root plus the walked
 * names, real directories all, so a leading ".." climbs to the name before it. */
static long target_dir(tt_dirchain *c, const char *path, size_t dl, const char *target,
                       int absolute, const char **last)
{
    tcache *t = &c->cache;
    size_t tl = strlen(target);
    if (tl == 0 || tt_is_sep(target[tl - 1])) return -1; /* "dir/": the full lookup's rule */
    const char *sep = target + tl;
    while (sep > target && !tt_is_sep(sep[-1]))
        sep--;
    if (strcmp(sep, ".") == 0 || strcmp(sep, "..") == 0) return -1;
    *last = sep;
    if (absolute) {
        size_t n = sep - 1 == target ? 1 : (size_t)(sep - 1 - target);
        if (tt_path_reserve(&t->key, &t->key_cap, n + 1)) return -1;
        memcpy(t->key, target, n);
        return (long)n;
    }
    const char *rest;
    int ups = leading_ups(target, &rest);
    long kl = link_dir_path(c, path, dl, &t->key, &t->key_cap, tl);
    if (kl < 1 || !tt_is_sep(t->key[0])) return -1; /* not an absolute path: no key */
    size_t n = (size_t)kl;
    for (; ups > 0; ups--) {
        if (n <= 1) return -1; /* above "/": left to the kernel */
        while (n > 1 && !tt_is_sep(t->key[n - 1]))
            n--;
        if (n > 1) n--;
    }
    if (sep > rest) { /* the names between the ".." and the last one */
        size_t m = (size_t)(sep - 1 - rest);
        if (n > 1) t->key[n++] = TT_SEP;
        memcpy(t->key + n, rest, m);
        n += m;
    }
    return (long)n;
}

/* Opens `name` (one name) in base (NULL: name is "/"), and counts the links the kernel
 * follows for it into *links: 0, or 1 for a link whose target has none on its way (a
 * merged /usr's /lib), else -1 (not known: the full lookup counts them). */
static int open_dir(tcache *t, pf_dir *base, const char *name, pf_dir **out, int *links)
{
    *links = 0;
    int err = pf_dir_open(base, name, PF_DIR_BASE, out); /* a link: ENOTDIR or ELOOP */
    if (!err || (err != ENOTDIR && err != ELOOP) || !base ||
        tt_readlink_at(base, name, &t->link, &t->link_cap) != 0) /* not a link: that error */
        return err;
    *links = 1;
    if (pf_dir_open(base, t->link, PF_DIR_BASE | PF_DIR_NOLINKS, out) == 0) return 0;
    *links = -1;
    return pf_dir_open(base, name, PF_DIR_BASE | PF_DIR_FOLLOW, out);
}

/* The entry for the directory cache.key[0..n) (hash h): found, or opened from its parent
 * by one name, the parent found or opened the same way, up to the deepest directory on
 * the way that is open already (or "/"). Those directories are kept too: targets share
 * their ancestors, so each directory is looked up by one name, once. An entry that could
 * not be opened is kept as such. NULL only when out of memory. *hit: it was open. */
static tdir *tcache_reach(tcache *t, size_t n, uint64_t h, int *hit)
{
    tdir *d = tcache_find(t, n, h);
    *hit = d != NULL;
    if (d) return d;
    size_t m = n;
    while (!d && m > 1) { /* up to the deepest one open */
        while (m > 0 && !tt_is_sep(t->key[m - 1]))
            m--;
        m = m > 1 ? m - 1 : 1;
        d = tcache_find(t, m, key_hash(t->key, m));
    }
    pf_dir *dir = NULL;
    int links = 0;
    if (!d) { /* "/" itself */
        if (open_dir(t, NULL, TT_SEP_STR, &dir, &links) != 0) dir = NULL;
        if (!(d = tcache_add(t, 1, key_hash(t->key, 1), dir, 0))) return pf_dir_close(dir), NULL;
    }
    while (m < n && d->dir) { /* and down, one name at a time */
        size_t at = m == 1 ? 1 : m + 1, end = at;
        while (end < n && !tt_is_sep(t->key[end]))
            end++;
        if (tt_path_reserve(&t->sub, &t->sub_cap, end - at + 1)) return NULL;
        memcpy(t->sub, t->key + at, end - at);
        t->sub[end - at] = '\0';
        int err = open_dir(t, d->dir, t->sub, &dir, &links);
        if (err) break;
        /* The parent is the newest entry: with room for two, adding evicts another one. */
        links = links < 0 || d->links < 0 ? -1 : links + d->links;
        tdir *child = tcache_add(t, end, end == n ? h : key_hash(t->key, end), dir, links);
        if (!child) return pf_dir_close(dir), NULL;
        d = child;
        m = end;
    }
    if (m < n || !d->dir) d = tcache_add(t, n, h, NULL, 0); /* cannot be opened */
    return d;
}

/* The target's status from the cache: 0 or the errno of the stat when it could answer,
 * -1 when the full lookup must (see tt_dirchain_open). *hit: the directory was open. */
static int cached_stat(tt_dirchain *c, const char *path, size_t dl, const char *target,
                       int absolute, tt_stat *st, int *hit)
{
    tcache *t = &c->cache;
    const char *last;
    long n = target_dir(c, path, dl, target, absolute, &last);
    if (n < 0) return -1;
    tdir *d = tcache_reach(t, (size_t)n, key_hash(t->key, (size_t)n), hit);
    return d && d->dir ? stat_last(d->dir, d->links, last, st) : -1;
}

/* The device of the walk's directory at level lv, asked once. */
static int level_dev(tt_dirchain *c, size_t lv, const char *path, tt_err *e)
{
    if (c->have_dev[lv]) return 0;
    tt_stat st;
    int err = pf_dir_self(c->dirs[lv], 0, &st);
    if (err) return tt_fail(e, err, path, NULL, NULL);
    c->devs[lv] = st.dev;
    c->have_dev[lv] = 1;
    return 0;
}

/* What the link at path (its name in dir, its directory's path dl bytes long) leads to,
 * into *tst: from the target cache, else from a directory on the way, else by following
 * the link itself. 0 or the errno value that reaching it gave. */
static int stat_target(tt_dirchain *c, pf_dir *dir, const char *path, size_t name_off, size_t dl,
                       int depth, const char *target, const tt_class *out, tt_stat *tst)
{
    int err = -1, hit = 0;
    if (!out->messy && c->cache.cap > 0)
        err = cached_stat(c, path, dl, target, out->absolute, tst, &hit);
    if (c->cache.cap > 0) {
        tt_cache_stats *cs = &c->cache.stats;
        if (err < 0)
            cs->fallbacks++;
        else if (hit)
            cs->hits++;
        else
            cs->misses++;
    }
    if (err < 0 && !out->messy)
        err = stat_from_ancestor(c, path, name_off, depth, target, out->absolute, tst);
    if (err < 0) err = pf_dir_stat(dir, path + name_off, PF_STAT_FOLLOW, tst);
    return err;
}

/* Whether the link (its directory's path dl bytes long) escapes the roots. */
static void walked_escapes(tt_dirchain *c, const char *path, size_t dl, int depth,
                           const char *target, const tt_roots *roots, tt_class *out)
{
    /* A relative target in normal form that climbs no higher than the walk's root stays
     * under that root (when the walk followed no link on the way): no path to build. */
    const char *real = c->real_root, *rest;
    if (real && !c->follow && !out->absolute && !out->messy && roots && roots->n > 0 &&
        leading_ups(target, &rest) <= depth - 1 && tt_inside_roots(real, roots)) {
        out->escapes = 0;
        return;
    }
    char *dirpath = link_dir_real(c, path, dl);
    classify_escapes(target, dirpath, roots, out);
    free(dirpath);
}

int tt_classify_walked(tt_dirchain *c, const char *path, size_t name_off, int depth, tt_type kind,
                       const tt_roots *roots, char **target, size_t *cap, tt_class *out, tt_err *e)
{
    size_t dl = name_off;
    while (dl > c->root_len && tt_is_sep(path[dl - 1]))
        dl--;
    /* The root itself, or a directory on the way that is gone or changed since the walk
     * read it: resolve by path, as the filesystem is now. */
    if (depth < 1 || chain_reach(c, path, dl, depth - 1) != 0)
        return tt_classify_path(path, roots, target, cap, out, e);
    memset(out, 0, sizeof *out);
    out->kind = kind;
    size_t lv = (size_t)depth - 1;
    pf_dir *dir = c->dirs[lv];
    if (read_target(dir, path + name_off, target, cap, e) != 0)
        return tt_fail(e, e->code, path, NULL, NULL);
    if (level_dev(c, lv, path, e) != 0) return -1;
    classify_form(*target, out);
    tt_stat tst;
    int err = stat_target(c, dir, path, name_off, dl, depth, *target, out, &tst);
    set_status(out, err, &tst, c->devs[lv]);
    walked_escapes(c, path, dl, depth, *target, roots, out);
    return 0;
}

int tt_classify_path(const char *path, const tt_roots *roots, char **target, size_t *cap,
                     tt_class *out, tt_err *e)
{
    memset(out, 0, sizeof *out);
    tt_stat lst, tst;
    int err = pf_lstat(path, &lst);
    if (err) return tt_fail(e, err, path, NULL, NULL);
    if (lst.type != TT_SYMLINK && lst.type != TT_JUNCTION)
        return tt_fail(e, TT_ENOTLINK, path, "not a link", NULL);
    out->kind = lst.type;
    if (read_target(NULL, path, target, cap, e) != 0) return -1;
    err = pf_stat(path, &tst);
    set_status(out, err, &tst, lst.dev);
    char *canon = NULL, *dir = NULL;
    if (tt_path_canonical_parent(path, &canon, e) == 0) dir = tt_path_dirname(canon);
    classify_form(*target, out);
    classify_escapes(*target, dir, roots, out);
    free(canon);
    free(dir);
    return 0;
}
