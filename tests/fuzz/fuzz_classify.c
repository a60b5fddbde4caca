/* A differential fuzzer of the walk and the link classifier, called as the bindings call
 * them (core/scan: walk, then classify every link, on threads or not). It builds random
 * trees of links (absolute and relative targets, runs of "..", ".", "//", chains and
 * self-links near the kernel's limit of 40 links per lookup, loops, directories others
 * may not search, tmpfs and bind mounts), walks them from roots of every shape ("/", "//",
 * ".", "..", "./x/", relative, a link, a trailing '/', a one-letter top-level directory),
 * in place, in a chroot where the tree is "/", and as the unprivileged user 65534, and
 * compares:
 *   - every link's classification with the kernel's own answer: stat() through the link
 *     name from the link's directory (status, errno, target type, cross_fs), readlink()
 *     (the target, absolute), and reference spellings of messy and escapes;
 *   - the whole walk (classification included) with the target cache on, off, and at 2;
 *   - the walk's entries (path, type, depth, error) with a traversal of its own.
 *
 * Environment: TETHER_FUZZ_SECONDS (default 20) and TETHER_FUZZ_SEED (default 1) fix the
 * budget and the sequence; TETHER_FUZZ_TREE=SEED replays one tree. On a mismatch it
 * prints both seeds, the tree reduced to the operations that still show it (as shell
 * commands), and exits 1. */
#define _GNU_SOURCE
#include "core/scan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define P 1024 /* every path and target the generator makes fits */
/* Paths are formatted into buffers of P: the generator keeps them far shorter. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

static uint64_t tree_seed; /* the tree being built, to replay it */

static void die(const char *what)
{
    int err = errno;
    fprintf(stderr, "fuzz_classify: tree %#llx: ", (unsigned long long)tree_seed);
    errno = err;
    perror(what);
    exit(2);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) die("malloc");
    return p;
}

static char *xstrdup(const char *s)
{
    return strcpy(xmalloc(strlen(s) + 1), s);
}

/* ---- random numbers (splitmix64: one seed, one sequence, on every machine) ---- */

static uint64_t rng;

static uint64_t rnd(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static unsigned below(unsigned n)
{
    return n ? (unsigned)(rnd() % n) : 0;
}

static int chance(unsigned percent)
{
    return below(100) < percent;
}

/* ---- the tree: a list of operations, replayed in a fresh directory ---- */

enum op_kind { OP_DIR, OP_FILE, OP_LINK, OP_TMPFS, OP_BIND, OP_MODE };

typedef struct op {
    enum op_kind kind;
    char path[P]; /* below the tree's top */
    char arg[P];  /* OP_LINK: the target; OP_BIND: the directory mounted there */
    int mode;     /* OP_MODE */
} op;

#define MAX_OPS 160

typedef struct tree {
    op ops[MAX_OPS];
    size_t n;
    /* What the generator made, for targets and roots: indexes into ops (-1: the top). */
    int dirs[MAX_OPS + 1], links[MAX_OPS], files[MAX_OPS];
    size_t ndirs, nlinks, nfiles;
    int mounts, binds, mode_ops;
} tree;

/* What this run may do: mount (a mount namespace of its own), chroot, become 65534. */
static int can_mount, can_chroot, can_setuid;
static char top[P]; /* the tree's top, absolute: base/t */

static const char *entry_path(const tree *t, int i)
{
    return i < 0 ? "" : t->ops[i].path;
}

static size_t depth_of(const char *p)
{
    size_t d = *p ? 1 : 0;
    for (; *p; p++)
        d += *p == '/';
    return d;
}

static const char *const names[] = {"a", "b", "c", "x", "y", "sub", "dir", "l", "m", "s p"};

/* A name not yet used in directory `dir`. */
static void new_name(const tree *t, const char *dir, char *out)
{
    for (int tries = 0;; tries++) {
        const char *n = names[below(sizeof names / sizeof *names)];
        if (tries > 8)
            snprintf(out, P, "%s%s%s%u", dir, *dir ? "/" : "", n, tries);
        else
            snprintf(out, P, "%s%s%s", dir, *dir ? "/" : "", n);
        int used = 0;
        for (size_t i = 0; i < t->n && !used; i++)
            used = strcmp(t->ops[i].path, out) == 0;
        if (!used) return;
    }
}

static op *add_op(tree *t, enum op_kind k, const char *path, const char *arg)
{
    op *o = &t->ops[t->n];
    o->kind = k;
    snprintf(o->path, P, "%s", path);
    snprintf(o->arg, P, "%s", arg ? arg : "");
    o->mode = 0;
    int i = (int)t->n++;
    if (k == OP_DIR || k == OP_TMPFS || k == OP_BIND) t->dirs[t->ndirs++] = i;
    if (k == OP_LINK) t->links[t->nlinks++] = i;
    if (k == OP_FILE) t->files[t->nfiles++] = i;
    return o;
}

static const char *random_dir(const tree *t)
{
    return entry_path(t, t->dirs[below((unsigned)t->ndirs)]);
}

/* Any entry, or a name that is not there. */
static const char *random_entry(const tree *t, char *buf)
{
    unsigned r = below(10);
    if (r < 4) return random_dir(t);
    if (r < 6 && t->nfiles) return t->ops[t->files[below((unsigned)t->nfiles)]].path;
    if (r < 8 && t->nlinks) return t->ops[t->links[below((unsigned)t->nlinks)]].path;
    const char *d = random_dir(t);
    snprintf(buf, P, "%s%snothere", d, *d ? "/" : "");
    return buf;
}

/* `to` (below the top) spelled from directory `from`: up to their common part, then
 * down. "." when they are the same. */
static void relative(const char *from, const char *to, char *out)
{
    size_t common = 0; /* the length of their common leading components */
    for (size_t i = 0;; i++) {
        if ((!from[i] || from[i] == '/') && (!to[i] || to[i] == '/')) common = i;
        if (!from[i] || !to[i] || from[i] != to[i]) break;
    }
    const char *up = from + common, *rest = to + common;
    while (*up == '/')
        up++;
    while (*rest == '/')
        rest++;
    out[0] = '\0';
    for (size_t k = depth_of(up); k > 0; k--)
        strcat(out, *out ? "/.." : "..");
    if (*rest) snprintf(out + strlen(out), P - strlen(out), "%s%s", *out ? "/" : "", rest);
    if (!*out) strcpy(out, ".");
}

/* Spellings the classifier must take exactly as the kernel does. */
static void mutate(char *t)
{
    char buf[P];
    unsigned r = below(9);
    size_t n = strlen(t);
    if (n + 8 >= P) return;
    if (r == 0) { /* "//" at one separator */
        char *s = strchr(t, '/');
        if (!s) return;
        snprintf(buf, P, "%.*s/%s", (int)(s - t), t, s);
    } else if (r == 1) { /* "/./" at one separator */
        char *s = strrchr(t, '/');
        if (!s) return;
        snprintf(buf, P, "%.*s/.%s", (int)(s - t), t, s);
    } else if (r == 2) {
        snprintf(buf, P, "%s/", t);
    } else if (r == 3) {
        snprintf(buf, P, "%s/.", t);
    } else if (r == 4) {
        snprintf(buf, P, "%s/..", t);
    } else if (r == 5) {
        snprintf(buf, P, "./%s", t);
    } else if (r == 6) { /* a detour by name: x/../ */
        snprintf(buf, P, "%s/../%s", names[below(3)], t);
    } else if (r == 7 && t[0] != '/') { /* more ".." than there are directories */
        snprintf(buf, P, "../../../../../../%s", t);
    } else {
        return;
    }
    strcpy(t, buf);
}

/* `k` times "s/" (s a link to "."), then `last`: k + 1 links for the kernel to follow. */
static void through_self_links(const char *s, unsigned k, const char *last, char *out)
{
    out[0] = '\0';
    for (unsigned i = 0; i < k && strlen(out) + strlen(s) + 2 < P / 2; i++) {
        strcat(out, s);
        strcat(out, "/");
    }
    strcat(out, last);
}

/* A number of links around the kernel's limit of 40 per lookup, or a few. */
static unsigned link_count(void)
{
    return chance(50) ? 36 + below(7) : 1 + below(4);
}

/* A target for a link in directory `dir`. */
static void random_target(const tree *t, const char *dir, char *out)
{
    char buf[P], rel[P];
    const char *e = random_entry(t, buf);
    unsigned r = below(20);
    if (r < 7) { /* relative to something in the tree */
        relative(dir, e, out);
    } else if (r < 10) { /* absolute, meaning the tree once chrooted into */
        snprintf(out, P, "/%s", e);
    } else if (r < 12) { /* absolute, meaning the tree where it is */
        snprintf(out, P, "%s%s%s", top, *e ? "/" : "", e);
    } else if (r < 14) { /* a run of ".." (often above "/"), then names */
        unsigned ups = below(12);
        out[0] = '\0';
        for (unsigned i = 0; i < ups; i++)
            strcat(out, i ? "/.." : "..");
        for (unsigned i = below(3); i > 0; i--)
            snprintf(out + strlen(out), P - strlen(out), "%s%s", *out ? "/" : "", names[below(4)]);
        if (!*out) strcpy(out, "..");
    } else if (r < 16 && t->nlinks) { /* through a link, then on */
        const char *l = t->ops[t->links[below((unsigned)t->nlinks)]].path;
        relative(dir, l, rel);
        snprintf(out, P, "%s/%s", rel, chance(30) ? ".." : names[below(4)]);
    } else if (chance(90)) {
        static const char *const odd[] = {".",   "..",   "/",  "//",  "./",   "../..",
                                          "/..", "///a", "a/", "/a/", "a//b", "..."};
        snprintf(out, P, "%s", odd[below(sizeof odd / sizeof *odd)]);
    } else { /* a name longer than NAME_MAX: ENAMETOOLONG, status "error" */
        memset(out, 'n', 300);
        out[300] = '\0';
    }
    if (chance(25)) mutate(out);
}

static void gen_link(tree *t, const char *dir)
{
    char path[P], target[P];
    new_name(t, dir, path);
    random_target(t, dir, target);
    add_op(t, OP_LINK, path, target);
}

/* A chain of links in `dir`, each to the next, the last to anything. */
static void gen_chain(tree *t, const char *dir)
{
    unsigned k = link_count();
    char first[P], path[P], target[P];
    new_name(t, dir, first);
    for (unsigned i = 0; i < k && t->n < MAX_OPS - 2; i++) {
        snprintf(path, P, "%s.%u", first, i);
        if (i + 1 < k) {
            const char *slash = strrchr(first, '/');
            snprintf(target, P, "%s.%u", slash ? slash + 1 : first, i + 1);
        } else {
            random_target(t, dir, target);
        }
        add_op(t, OP_LINK, path, target);
    }
}

/* A link to "." and links through it k times: a directory reached through many links. */
static void gen_self_links(tree *t, const char *dir)
{
    char self[P], path[P], target[P], buf[P];
    new_name(t, dir, self);
    add_op(t, OP_LINK, self, chance(70) ? "." : "..");
    const char *s = strrchr(self, '/') ? strrchr(self, '/') + 1 : self;
    for (unsigned n = 1 + below(3); n > 0 && t->n < MAX_OPS - 1; n--) {
        const char *e = random_entry(t, buf);
        const char *slash = strrchr(e, '/');
        new_name(t, dir, path);
        through_self_links(s, link_count(), chance(60) && slash ? slash + 1 : names[below(4)],
                           target);
        if (chance(20)) snprintf(target + strlen(target), P - strlen(target), "/");
        add_op(t, OP_LINK, path, target);
    }
}

static void gen_loop(tree *t, const char *dir)
{
    char a[P], b[P];
    new_name(t, dir, a);
    const char *an = strrchr(a, '/') ? strrchr(a, '/') + 1 : a;
    if (chance(40)) { /* a link to itself */
        add_op(t, OP_LINK, a, an);
        return;
    }
    snprintf(b, P, "%s2", a);
    const char *bn = strrchr(b, '/') ? strrchr(b, '/') + 1 : b;
    add_op(t, OP_LINK, a, bn);
    add_op(t, OP_LINK, b, an);
}

static void gen_tree(tree *t)
{
    memset(t, 0, sizeof *t);
    t->dirs[t->ndirs++] = -1;
    /* One-letter top-level directories: "/a" is a root shape of its own. */
    add_op(t, OP_DIR, "a", NULL);
    if (chance(70)) add_op(t, OP_DIR, "x", NULL);
    unsigned n = 10 + below(50);
    while (t->n < n && t->n < MAX_OPS - 48) {
        const char *dir = random_dir(t);
        char path[P];
        unsigned r = below(100);
        if (depth_of(dir) >= 6) continue;
        if (r < 22) {
            new_name(t, dir, path);
            add_op(t, OP_DIR, path, NULL);
        } else if (r < 32) {
            new_name(t, dir, path);
            add_op(t, OP_FILE, path, NULL);
        } else if (r < 74) {
            gen_link(t, dir);
        } else if (r < 80) {
            gen_chain(t, dir);
        } else if (r < 86) {
            gen_self_links(t, dir);
        } else if (r < 91) {
            gen_loop(t, dir);
        } else if (r < 94 && can_mount && t->mounts < 2) { /* another filesystem */
            new_name(t, dir, path);
            add_op(t, OP_TMPFS, path, NULL);
            t->mounts++;
        } else if (r < 96 && can_mount && t->binds < 1 && t->ndirs > 1) { /* same fs, a mount */
            const char *src = random_dir(t);
            new_name(t, dir, path);
            if (*src && strncmp(path, src, strlen(src)) != 0) add_op(t, OP_BIND, path, src);
            t->binds++;
        } else if (can_setuid && t->ndirs > 1 && t->mode_ops < 4) {
            /* Modes that bite user 65534 (the tree belongs to root): no search, search
             * only, read only, nothing. */
            static const int modes[] = {0700, 0711, 0744, 0000, 0555};
            const char *d = random_dir(t);
            if (!*d) continue;
            add_op(t, OP_MODE, d, NULL)->mode = modes[below(5)];
            t->mode_ops++;
        }
    }
}

/* ---- building and removing a tree ---- */

static char mounted[8][P];
static int nmounted;

static void rm_rf_at(int dfd, const char *name)
{
    struct stat st;
    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return;
    if (S_ISDIR(st.st_mode)) {
        fchmodat(dfd, name, 0700, 0);
        int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        if (!d && fd >= 0) close(fd);
        for (struct dirent *de; d && (de = readdir(d));)
            if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) rm_rf_at(dirfd(d), de->d_name);
        if (d) closedir(d);
        unlinkat(dfd, name, AT_REMOVEDIR);
    } else {
        unlinkat(dfd, name, 0);
    }
}

static void unbuild(void)
{
    while (nmounted > 0)
        umount2(mounted[--nmounted], MNT_DETACH);
    rm_rf_at(AT_FDCWD, top);
}

/* The parent of `path` (below the top), opened without following a link, and its last
 * name in *name; -1 when there is a link on the way: an operation through it would
 * land elsewhere than the generator thinks (a bind mount shows another directory's
 * links under a second name). */
static int open_parent(const char *path, const char **name)
{
    int fd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    char one[P];
    for (const char *p = path; fd >= 0;) {
        const char *s = strchr(p, '/');
        if (!s) {
            *name = p;
            return fd;
        }
        snprintf(one, P, "%.*s", (int)(s - p), p);
        int next = openat(fd, one, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        close(fd);
        fd = next;
        p = s + 1;
    }
    return -1;
}

/* Whether `path` (below the top) is a directory reached through no link. */
static int real_dir(const char *path)
{
    const char *name;
    struct stat st;
    int fd = open_parent(path, &name);
    int ok = fd >= 0 && fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
    if (fd >= 0) close(fd);
    return ok;
}

static void apply(const op *o)
{
    char p[2 * P], src[2 * P];
    const char *name;
    int fd = open_parent(o->path, &name);
    if (fd < 0) return;
    snprintf(p, sizeof p, "%s/%s", top, o->path);
    snprintf(src, sizeof src, "%s/%s", top, o->arg);
    if (o->kind == OP_DIR) {
        mkdirat(fd, name, 0755);
    } else if (o->kind == OP_FILE) {
        int f = openat(fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (f >= 0) close(f);
    } else if (o->kind == OP_LINK) {
        symlinkat(o->arg, fd, name);
    } else if (o->kind == OP_MODE) {
        if (real_dir(o->path)) fchmodat(fd, name, (mode_t)o->mode, 0);
    } else if (mkdirat(fd, name, 0755) == 0 && nmounted < 8 &&
               (o->kind == OP_TMPFS
                    ? mount("tether-fuzz", p, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=755")
                : !real_dir(o->arg) ? -1
                                    : mount(src, p, NULL, MS_BIND, NULL)) == 0) {
        snprintf(mounted[nmounted++], P, "%s", p);
    }
    close(fd);
}

/* Replays the operations not skipped (one whose parent is not there is left out), modes
 * last, so the tree can be built first. */
static void build(const tree *t, const unsigned char *skip)
{
    unbuild();
    if (mkdir(top, 0755) != 0) die(top);
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < t->n; i++)
            if (!(skip && skip[i]) && (pass == 1) == (t->ops[i].kind == OP_MODE)) apply(&t->ops[i]);
}

/* The tree as shell commands, to rebuild it by hand (and to write a regression test). */
static void print_tree(const tree *t, const unsigned char *skip)
{
    fprintf(stderr, "T=%s; mkdir \"$T\"\n", top);
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < t->n; i++) {
            const op *o = &t->ops[i];
            if ((skip && skip[i]) || (pass == 1) != (o->kind == OP_MODE)) continue;
            if (o->kind == OP_DIR) fprintf(stderr, "mkdir \"$T/%s\"\n", o->path);
            if (o->kind == OP_FILE) fprintf(stderr, "touch \"$T/%s\"\n", o->path);
            if (o->kind == OP_LINK) fprintf(stderr, "ln -s '%s' \"$T/%s\"\n", o->arg, o->path);
            if (o->kind == OP_TMPFS)
                fprintf(stderr, "mkdir \"$T/%s\"; mount -t tmpfs tmpfs \"$T/%s\"\n", o->path,
                        o->path);
            if (o->kind == OP_BIND)
                fprintf(stderr, "mkdir \"$T/%s\"; mount --bind \"$T/%s\" \"$T/%s\"\n", o->path,
                        o->arg, o->path);
            if (o->kind == OP_MODE) fprintf(stderr, "chmod %o \"$T/%s\"\n", o->mode, o->path);
        }
    }
}

/* ---- views: where the tree is seen from, and as whom ---- */

enum view { VIEW_HERE, VIEW_CHROOT, VIEW_USER, VIEW_CHROOT_USER, NVIEWS };
static const char *const view_names[] = {"in place", "chroot into the tree",
                                         "in place as uid 65534", "chroot as uid 65534"};

static int view_available(enum view v)
{
    return v == VIEW_HERE || (v == VIEW_CHROOT && can_chroot) || (v == VIEW_USER && can_setuid) ||
           (v == VIEW_CHROOT_USER && can_chroot && can_setuid);
}

static int view_chroot(enum view v)
{
    return v == VIEW_CHROOT || v == VIEW_CHROOT_USER;
}

/* The tree's entry `e` (below the top) as an absolute path in view v. */
static void view_path(enum view v, const char *e, char *out)
{
    if (view_chroot(v))
        snprintf(out, P, "/%s", e);
    else
        snprintf(out, P, "%s%s%s", top, *e ? "/" : "", e);
}

/* One walk to check: the root as typed, from `cwd`, with the walk's options. */
typedef struct trial {
    char root[P], cwd[P];
    char extra_root[P]; /* a second scan root for "escapes", or "" */
    int follow, xdev, threaded;
} trial;

static void double_separators(char *s)
{
    char buf[P];
    size_t w = 0;
    for (const char *p = s; *p && w + 3 < P; p++) {
        buf[w++] = *p;
        if (*p == '/' && chance(50)) buf[w++] = '/';
    }
    buf[w] = '\0';
    strcpy(s, buf);
}

/* A directory below `e`, or NULL. */
static const char *child_dir(const tree *t, const char *e)
{
    size_t n = strlen(e);
    for (unsigned tries = 0; tries < 20; tries++) {
        const char *d = random_dir(t);
        if (*d && (!*e || (strncmp(d, e, n) == 0 && d[n] == '/')) &&
            !strchr(d + (*e ? n + 1 : 0), '/'))
            return d;
    }
    return NULL;
}

static void gen_trial(const tree *t, enum view v, trial *tr)
{
    memset(tr, 0, sizeof *tr);
    const char *e = chance(80) || !t->nlinks ? random_dir(t)
                                             : t->ops[t->links[below((unsigned)t->nlinks)]].path;
    const char *cwd = random_dir(t);
    char abs[P], rel[P];
    view_path(v, e, abs);
    unsigned shape = below(10);
    if (shape == 8 && !view_chroot(v)) shape = 0; /* "/" in place: the whole machine */
    switch (shape) {
    case 0:
        snprintf(tr->root, P, "%s", abs);
        break;
    case 1: /* a trailing '/' */
        snprintf(tr->root, P, "%s%s", abs, chance(50) ? "/" : "//");
        break;
    case 2:
        snprintf(tr->root, P, "%s", abs);
        double_separators(tr->root);
        break;
    case 3: { /* "/./" somewhere */
        char *s = strrchr(abs, '/');
        snprintf(tr->root, P, "%.*s/.%s", (int)(s - abs), abs, s);
        break;
    }
    case 4: /* relative to the working directory */
        relative(cwd, e, tr->root);
        break;
    case 5: /* "./x/" */
        relative(cwd, e, rel);
        snprintf(tr->root, P, "%s%s/", strcmp(rel, ".") ? "./" : "", rel);
        break;
    case 6: /* "." */
        cwd = e;
        snprintf(tr->root, P, "%s", chance(70) ? "." : "./");
        break;
    case 7: { /* ".." */
        const char *c = child_dir(t, e);
        if (c) cwd = c;
        if (c)
            snprintf(tr->root, P, "%s", chance(70) ? ".." : "../");
        else
            relative(cwd, e, tr->root);
        break;
    }
    case 8: /* the chroot's "/" */
        snprintf(tr->root, P, "%s", chance(50) ? "/" : "//");
        break;
    default: /* the top-level one-letter directory */
        view_path(v, "a", tr->root);
        if (chance(30)) strcat(tr->root, "/");
        break;
    }
    view_path(v, cwd, tr->cwd);
    if (chance(20)) view_path(v, random_dir(t), tr->extra_root);
    tr->follow = view_chroot(v) && chance(10); /* in place, "/" would be the machine's */
    tr->xdev = chance(15);
    tr->threaded = chance(50);
}

/* ---- a walk, as the bindings run it ---- */

typedef struct rec {
    char *path;
    size_t name_off;
    int type, depth, err;
    int classified, class_err;
    tt_class c;
    char *target;
} rec;

typedef struct recs {
    rec *v;
    size_t n, cap;
    int open_err; /* the walk could not start: its errno */
    int too_big;  /* stopped at MAX_ENTRIES */
} recs;

/* Following links, a few links to directories make many ways down: such a walk is left. */
#define MAX_ENTRIES 20000

static rec *push(recs *r)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 64;
        rec *v = realloc(r->v, r->cap * sizeof *v);
        if (!v) die("realloc");
        r->v = v;
    }
    rec *x = &r->v[r->n++];
    memset(x, 0, sizeof *x);
    return x;
}

static void recs_free(recs *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->v[i].path);
        free(r->v[i].target);
    }
    free(r->v);
    memset(r, 0, sizeof *r);
}

static void scan(const trial *tr, const tt_roots *roots, int cache, int threaded, recs *out)
{
    tt_walk_opts o = {
        .follow = tr->follow, .xdev = tr->xdev, .max_depth = -1, .target_cache = cache};
    tt_err e;
    memset(out, 0, sizeof *out);
    tt_scan *s = tt_scan_open(tr->root, &o, roots, TT_SCAN_CLASSIFY, threaded, &e);
    if (!s) {
        out->open_err = e.code ? e.code : -1;
        return;
    }
    const tt_scan_item *it;
    int rc;
    while ((rc = tt_scan_next(s, &it, &e)) == 1) {
        if (out->n == MAX_ENTRIES) {
            out->too_big = 1;
            break;
        }
        rec *x = push(out);
        x->path = xstrdup(it->path);
        x->name_off = (size_t)(it->name - it->path);
        x->type = it->type;
        x->depth = it->depth;
        x->err = it->err;
        x->classified = it->classified;
        x->class_err = it->class_err;
        if (it->classified) {
            x->c = it->c;
            x->target = xstrdup(it->target);
        }
    }
    if (rc < 0) out->open_err = e.code ? e.code : -1;
    tt_scan_close(s);
}

/* ---- the references ---- */

static int type_of_mode(mode_t m)
{
    return S_ISREG(m) ? TT_FILE : S_ISDIR(m) ? TT_DIR : S_ISLNK(m) ? TT_SYMLINK : TT_OTHER;
}

static int type_of_dirent(unsigned char t)
{
    return t == DT_REG ? TT_FILE : t == DT_DIR ? TT_DIR : t == DT_LNK ? TT_SYMLINK : TT_OTHER;
}

/* The walk's spelling of a child: no separator added after one already there ("/"). */
static void join(const char *dir, const char *name, char *out, size_t cap)
{
    size_t n = strlen(dir);
    snprintf(out, cap, "%s%s%s", dir, n && dir[n - 1] == '/' ? "" : "/", name);
}

typedef struct ancestors {
    dev_t dev[256];
    ino_t ino[256];
    int n;
} ancestors;

/* Every entry below the open directory fd, as find(1) would list them (-H: the root is
 * followed; -L when following: a directory link is entered unless it leads back to a
 * directory on the way down; -xdev: not into another filesystem). */
static void ref_walk_dir(int fd, const char *path, int depth, const trial *tr, dev_t root_dev,
                         ancestors *up, recs *out)
{
    DIR *d = fdopendir(dup(fd));
    char child[2 * P];
    for (struct dirent *de; d && (de = readdir(d)) && out->n < MAX_ENTRIES;) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        join(path, de->d_name, child, sizeof child);
        struct stat st, fst;
        rec *x = push(out);
        x->path = xstrdup(child);
        x->depth = depth;
        x->type = fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0
                      ? type_of_mode(st.st_mode)
                      : type_of_dirent(de->d_type);
        int is_link = x->type == TT_SYMLINK;
        if (x->type != TT_DIR && !(is_link && tr->follow && fstatat(fd, de->d_name, &fst, 0) == 0 &&
                                   S_ISDIR(fst.st_mode)))
            continue;
        int sub =
            openat(fd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (is_link ? 0 : O_NOFOLLOW));
        if (sub < 0) {
            x->err = errno;
            continue;
        }
        struct stat ss;
        int cycle = 0;
        fstat(sub, &ss);
        if (tr->xdev && ss.st_dev != root_dev) {
            close(sub);
            continue;
        }
        for (int i = 0; tr->follow && i < up->n; i++)
            cycle |= up->dev[i] == ss.st_dev && up->ino[i] == ss.st_ino;
        if (cycle || up->n == 256) {
            x->err = ELOOP;
            close(sub);
            continue;
        }
        up->dev[up->n] = ss.st_dev;
        up->ino[up->n++] = ss.st_ino;
        char *mine = xstrdup(child); /* out->v moves as it grows */
        ref_walk_dir(sub, mine, depth + 1, tr, root_dev, up, out);
        free(mine);
        up->n--;
        close(sub);
    }
    if (d) closedir(d);
}

/* The root is spelled without its trailing separators and names the entry itself, as
 * everywhere in tether ("l/" is the link l, as tether.info takes it); a root that is a
 * link to a directory is walked (find -H). */
static void ref_walk(const trial *tr, recs *out)
{
    struct stat lst, st;
    char spelled[P];
    memset(out, 0, sizeof *out);
    snprintf(spelled, P, "%s", tr->root);
    for (size_t n = strlen(spelled); n > 1 && spelled[n - 1] == '/'; n--)
        spelled[n - 1] = '\0';
    if (lstat(spelled, &lst) != 0) {
        out->open_err = errno;
        return;
    }
    rec *x = push(out);
    x->path = xstrdup(spelled);
    x->type = type_of_mode(lst.st_mode);
    if (stat(spelled, &st) != 0 || !S_ISDIR(st.st_mode)) return;
    int fd = open(spelled, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        x->err = errno;
        return;
    }
    ancestors up = {.n = 1};
    fstat(fd, &st);
    up.dev[0] = st.st_dev;
    up.ino[0] = st.st_ino;
    ref_walk_dir(fd, spelled, 1, tr, st.st_dev, &up, out);
    close(fd);
}

/* A path's short spelling: no empty or "." component, ".." only in a leading run (at "/"
 * it stays there), a trailing '/' kept; "." for nothing. */
static void short_form(const char *t, char *out)
{
    size_t w = 0, floor = 0;
    int abs = t[0] == '/';
    if (abs) out[w++] = '/', floor = 1;
    for (const char *p = t; *p;) {
        while (*p == '/')
            p++;
        const char *s = p;
        while (*p && *p != '/')
            p++;
        size_t n = (size_t)(p - s);
        if (n == 0 || (n == 1 && s[0] == '.')) continue;
        if (n == 2 && s[0] == '.' && s[1] == '.' && (w > floor || abs)) {
            while (w > floor && out[w - 1] != '/')
                w--;
            if (w > floor) w--;
            continue;
        }
        if (w > 0 && out[w - 1] != '/') out[w++] = '/';
        memcpy(out + w, s, n);
        w += n;
        if (n == 2 && s[0] == '.' && s[1] == '.') floor = w;
    }
    size_t tl = strlen(t);
    if (tl > 1 && t[tl - 1] == '/' && w > 0 && out[w - 1] != '/') out[w++] = '/';
    out[w] = '\0';
    if (w == 0) strcpy(out, ".");
}

/* Messy: spelled otherwise than the short way. */
static int ref_messy(const char *t)
{
    char out[P];
    short_form(t, out);
    return strcmp(out, t) != 0;
}

/* An absolute path with "." and ".." taken by name. */
static void lexical(const char *p, char *out)
{
    short_form(p, out);
    size_t n = strlen(out);
    if (n > 1 && out[n - 1] == '/') out[n - 1] = '\0';
}

static int inside(const char *p, const char *root)
{
    size_t n = strlen(root);
    return strcmp(root, "/") == 0 || (strncmp(p, root, n) == 0 && (p[n] == '\0' || p[n] == '/'));
}

static const char *const statuses[] = {"ok", "broken", "loop", "denied", "error"};

static int status_index(int err)
{
    if (err == 0) return 0;
    if (err == ENOENT || err == ENOTDIR) return 1;
    if (err == ELOOP) return 2;
    if (err == EACCES || err == EPERM) return 3;
    return 4;
}

static const char *status_of(int err)
{
    return statuses[status_index(err)];
}

/* ---- comparing ---- */

/* Counts shared with the views that run in child processes. */
typedef struct counts {
    uint64_t trees, walks, entries, links, skipped, passing_eloops;
    uint64_t by_status[5]; /* the kernel's answers for the links compared */
    int current;           /* the trial a view is running */
} counts;
static counts *cnt;

static int quiet;              /* while reducing a tree: no report */
static int only_eloop;         /* every mismatch of this trial has ELOOP on one side */
static char view_top[P] = "/"; /* the tree's top in the view (in place: its path) */
static int problem;            /* this trial showed a mismatch */

/* Records a mismatch; `eloop`: ELOOP is on one side of it. */
static void report(const trial *tr, int eloop, const char *what, ...)
{
    problem = 1;
    only_eloop &= eloop;
    if (quiet) return;
    va_list ap;
    fprintf(stderr,
            "MISMATCH (root '%s', cwd '%s', follow %d, xdev %d, threaded %d%s%s): ", tr->root,
            tr->cwd, tr->follow, tr->xdev, tr->threaded, *tr->extra_root ? ", also root " : "",
            tr->extra_root);
    va_start(ap, what);
    vfprintf(stderr, what, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static int same_rec(const rec *a, const rec *b)
{
    return strcmp(a->path, b->path) == 0 && a->type == b->type && a->depth == b->depth &&
           a->err == b->err && a->classified == b->classified && a->class_err == b->class_err &&
           (!a->classified || (strcmp(a->target, b->target) == 0 && a->c.kind == b->c.kind &&
                               a->c.status == b->c.status && a->c.status_err == b->c.status_err &&
                               a->c.target_type == b->c.target_type &&
                               a->c.absolute == b->c.absolute && a->c.cross_fs == b->c.cross_fs &&
                               a->c.escapes == b->c.escapes && a->c.messy == b->c.messy));
}

static void describe(const rec *r, char *out, size_t cap)
{
    if (!r->classified)
        snprintf(out, cap, "%s type %d depth %d err %d class_err %d", r->path, r->type, r->depth,
                 r->err, r->class_err);
    else
        snprintf(out, cap,
                 "%s -> '%s': %s/%d type %d abs %d cross %d escapes %d messy %d (depth %d, "
                 "entering it: error %d)",
                 r->path, r->target, tt_status_name(r->c.status), r->c.status_err, r->c.target_type,
                 r->c.absolute, r->c.cross_fs, r->c.escapes, r->c.messy, r->depth, r->err);
}

/* Whether a walk met ELOOP entering a directory (through links, when following them). */
static int any_eloop(const recs *r)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->v[i].err == ELOOP) return 1;
    return 0;
}

/* The same walk with another cache: every entry and every field the same, in order. */
static void compare_runs(const trial *tr, const char *name, const recs *a, const recs *b)
{
    char da[2 * P], db[2 * P];
    if (a->open_err != b->open_err || a->n != b->n) {
        report(tr, any_eloop(a) || any_eloop(b),
               "cache %s: %zu entries (error %d) against %zu (error %d)", name, b->n, b->open_err,
               a->n, a->open_err);
        return;
    }
    for (size_t i = 0; i < a->n; i++) {
        if (same_rec(&a->v[i], &b->v[i])) continue;
        describe(&a->v[i], da, sizeof da);
        describe(&b->v[i], db, sizeof db);
        const rec *x = &a->v[i], *y = &b->v[i];
        report(tr,
               x->c.status_err == ELOOP || y->c.status_err == ELOOP || x->err == ELOOP ||
                   y->err == ELOOP,
               "cache %s: %s, with the default cache: %s", name, db, da);
        return;
    }
}

static int by_entry(const void *x, const void *y)
{
    const rec *a = x, *b = y;
    int c = strcmp(a->path, b->path);
    return c ? c : a->depth != b->depth ? a->depth - b->depth : a->type - b->type;
}

/* The walk's entries against the reference traversal's, as sets. */
static void compare_walk(const trial *tr, recs *got, recs *want)
{
    if (got->open_err || want->open_err) {
        if (got->open_err != want->open_err)
            report(tr, 0, "the walk could not start (%d) where lstat says %d", got->open_err,
                   want->open_err);
        return;
    }
    rec *g = xmalloc(got->n * sizeof *g);
    memcpy(g, got->v, got->n * sizeof *g);
    qsort(g, got->n, sizeof *g, by_entry);
    qsort(want->v, want->n, sizeof *want->v, by_entry);
    size_t i = 0, j = 0;
    int el = any_eloop(got) || any_eloop(want);
    while (!problem && (i < got->n || j < want->n)) {
        int c = i == got->n ? 1 : j == want->n ? -1 : by_entry(&g[i], &want->v[j]);
        if (c < 0)
            report(tr, el, "the walk yields %s (type %d, depth %d), find would not", g[i].path,
                   g[i].type, g[i].depth);
        else if (c > 0)
            report(tr, el, "the walk misses %s (type %d, depth %d)", want->v[j].path,
                   want->v[j].type, want->v[j].depth);
        else if (g[i].err != want->v[j].err)
            report(tr, g[i].err == ELOOP || want->v[j].err == ELOOP,
                   "%s: the walk says error %d, opening it gives %d", g[i].path, g[i].err,
                   want->v[j].err);
        i += c <= 0;
        j += c >= 0;
    }
    free(g);
}

/* A directory opened one name at a time, following links, as the walk reached it: a
 * walk that follows links may go down through more of them than one lookup may take. */
static int open_by_names(const char *dir)
{
    int fd = open(dir[0] == '/' ? "/" : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    char one[P];
    for (const char *p = dir; fd >= 0 && *p;) {
        while (*p == '/')
            p++;
        const char *s = p;
        while (*p && *p != '/')
            p++;
        if (p == s) break;
        snprintf(one, P, "%.*s", (int)(p - s), s);
        int next = openat(fd, one, O_PATH | O_DIRECTORY | O_CLOEXEC);
        int err = errno;
        close(fd);
        fd = next;
        errno = err;
    }
    return fd;
}

/* One link's classification against the kernel's answers. */
static void compare_link(const trial *tr, const rec *r, const tt_roots *roots)
{
    char dir[P], target[P], real[PATH_MAX], joined[3 * P], norm[3 * P], d[2 * P];
    size_t dl = r->name_off;
    while (dl > 1 && r->path[dl - 1] == '/')
        dl--;
    snprintf(dir, P, "%.*s", (int)dl, r->path);
    if (dl == 0) strcpy(dir, ".");
    /* The root itself is what stat(2) makes of the path as typed (the links on its way
     * count); a link the walk found, what it makes of the name from the directory the walk
     * reached. */
    int typed = r->depth == 0;
    const char *name = typed ? r->path : r->path + r->name_off;
    int dfd = typed ? AT_FDCWD : open_by_names(dir);
    if (dfd < 0 && !typed) {
        report(tr, errno == ELOOP, "%s: its directory %s cannot be opened (%d)", r->path, dir,
               errno);
        return;
    }
    describe(r, d, sizeof d);
    ssize_t n = readlinkat(dfd, name, target, sizeof target - 1);
    if (n < 0) {
        if (r->classified || r->class_err != errno)
            report(tr, 0, "%s: readlink gives error %d", d, errno);
        if (!typed) close(dfd);
        return;
    }
    target[n] = '\0';
    struct stat st, dst;
    int err = fstatat(dfd, name, &st, 0) == 0 ? 0 : errno;
    cnt->by_status[status_index(err)]++;
    if (typed) {
        lstat(name, &dst);
    } else {
        fstat(dfd, &dst);
        close(dfd);
    }
    const tt_class *c = &r->c;
    int el = c->status_err == ELOOP || err == ELOOP;
    if (!r->classified) {
        report(tr, 0, "%s: not classified, the kernel reads and stats it (%s)", d, status_of(err));
        return;
    }
    if (strcmp(r->target, target) != 0) report(tr, 0, "%s: readlink gives '%s'", d, target);
    if (c->status_err != err || strcmp(tt_status_name(c->status), status_of(err)) != 0)
        report(tr, el, "%s: the kernel says %s (errno %d)", d, status_of(err), err);
    if (!err && (int)c->target_type != type_of_mode(st.st_mode))
        report(tr, el, "%s: the target's type is %d", d, type_of_mode(st.st_mode));
    if (c->cross_fs != (!err && st.st_dev != dst.st_dev))
        report(tr, el, "%s: cross_fs should be %d", d, !err && st.st_dev != dst.st_dev);
    if (c->absolute != (target[0] == '/')) report(tr, 0, "%s: absolute is wrong", d);
    if (c->messy != ref_messy(target))
        report(tr, 0, "%s: messy should be %d", d, ref_messy(target));
    /* Escapes: the target taken by name from the link's real directory, outside every root. */
    int escapes = 0;
    if (roots->n > 0 && realpath(dir, real)) {
        snprintf(joined, sizeof joined, "%s/%s", target[0] == '/' ? "" : real, target);
        lexical(joined, norm);
        escapes = 1;
        for (size_t i = 0; i < roots->n; i++)
            escapes &= !inside(norm, roots->paths[i]);
    } else if (roots->n > 0) {
        return; /* the reference cannot tell */
    }
    if (c->escapes != escapes) report(tr, 0, "%s: escapes should be %d (%s)", d, escapes, norm);
}

/* Runs one trial in the current view, from its working directory; sets `problem`. */
static void run_once(const trial *tr)
{
    char real[2][PATH_MAX];
    const char *paths[2];
    tt_roots roots = {paths, 0};
    if (realpath(tr->root, real[0])) paths[roots.n++] = real[0];
    if (*tr->extra_root && realpath(tr->extra_root, real[1])) paths[roots.n++] = real[1];
    if (roots.n > 0 && !inside(real[0], view_top)) { /* a link out of the tree: /tmp, ... */
        cnt->skipped++;
        return;
    }
    recs on, off, two, ref;
    scan(tr, &roots, TT_TARGET_CACHE, tr->threaded, &on);
    if (on.too_big) {
        recs_free(&on);
        cnt->skipped++;
        return;
    }
    scan(tr, &roots, 0, !tr->threaded, &off);
    scan(tr, &roots, 2, tr->threaded, &two);
    compare_runs(tr, "off", &on, &off);
    compare_runs(tr, "2", &on, &two);
    ref_walk(tr, &ref);
    compare_walk(tr, &on, &ref);
    for (size_t i = 0; i < on.n; i++) {
        if (on.v[i].type != TT_SYMLINK) continue;
        compare_link(tr, &on.v[i], &roots);
        cnt->links++;
    }
    cnt->walks++;
    cnt->entries += on.n;
    recs_free(&on);
    recs_free(&off);
    recs_free(&two);
    recs_free(&ref);
}

/* Runs one trial; returns 1 on a mismatch. One where ELOOP stands against another answer
 * (a status, or a directory the walk could not enter) is run again, up to twice: the
 * kernel itself gives a passing ELOOP to a lookup through a chain of links that it had to
 * restart out of RCU mode, because it counts the links of both attempts (fs/namei.c sets
 * total_link_count once per lookup), which a long chain under load meets now and then.
 * A mismatch that does not come back is counted, not failed. */
static int run_trial(const trial *tr)
{
    if (chdir(tr->cwd) != 0) { /* not a place this user may be */
        cnt->skipped++;
        return 0;
    }
    int q = quiet, attempt;
    for (attempt = 0; attempt < 3; attempt++) {
        problem = 0;
        only_eloop = 1;
        run_once(tr);
        quiet = 1; /* again: quietly */
        if (!problem || !only_eloop) break;
    }
    quiet = q;
    if (!problem && attempt > 0) {
        cnt->passing_eloops++;
        if (!quiet) fprintf(stderr, "(that ELOOP did not come back: not counted)\n");
    }
    return problem;
}

/* Enters view v, in the child process that runs it. */
static void enter_view(enum view v)
{
    snprintf(view_top, P, "%s", view_chroot(v) ? "/" : top);
    if (v == VIEW_HERE) return;
    if (view_chroot(v) && (chroot(top) != 0 || chdir("/") != 0)) die("chroot");
    if ((v == VIEW_USER || v == VIEW_CHROOT_USER) &&
        (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0))
        die("setuid 65534");
}

/* Runs the trials in view v, in a child process (a crash is a finding too, and a chroot
 * or another user is for that child alone); returns the index of the trial that failed
 * or crashed, or -1. */
static int run_view(enum view v, const trial *trials, int n)
{
    fflush(stdout);
    fflush(stderr);
    cnt->current = -1;
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
        enter_view(v);
        for (int i = 0; i < n; i++) {
            cnt->current = i;
            if (run_trial(&trials[i])) _exit(1);
        }
        if (v == VIEW_HERE) exit(0); /* with LeakSanitizer's check, where /proc is ours */
        _exit(0);
    }
    int status;
    if (waitpid(pid, &status, 0) != pid) die("waitpid");
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return -1;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 1)
        fprintf(stderr, "the %s view died (status %#x)\n", view_names[v], status);
    return cnt->current >= 0 ? cnt->current : 0;
}

/* Drops every operation the mismatch does not need, one at a time, newest first. */
static void reduce(const tree *t, enum view v, const trial *tr)
{
    unsigned char skip[MAX_OPS] = {0};
    quiet = 1;
    for (size_t i = t->n; i-- > 0;) {
        skip[i] = 1;
        build(t, skip);
        if (run_view(v, tr, 1) < 0) skip[i] = 0;
    }
    quiet = 0;
    fprintf(stderr, "\nthe tree, reduced to what the mismatch needs (%s):\n", view_names[v]);
    print_tree(t, skip);
    fprintf(stderr, "cd '%s' && walk '%s'\n", tr->cwd, tr->root);
    build(t, skip);
    run_view(v, tr, 1);
}

#define TRIALS_PER_VIEW 3

/* Builds the tree of `seed`, runs every view on it; 1 on a mismatch. */
static int fuzz_one(uint64_t seed, uint64_t base_seed)
{
    static tree t; /* large: not on the stack */
    rng = tree_seed = seed;
    gen_tree(&t);
    build(&t, NULL);
    trial trials[NVIEWS][TRIALS_PER_VIEW];
    for (int v = 0; v < NVIEWS; v++)
        for (int i = 0; i < TRIALS_PER_VIEW; i++)
            gen_trial(&t, (enum view)v, &trials[v][i]);
    int failed = 0;
    for (int v = 0; v < NVIEWS && !failed; v++) {
        if (!view_available((enum view)v)) continue;
        int i = run_view((enum view)v, trials[v], TRIALS_PER_VIEW);
        if (i < 0) continue;
        failed = 1;
        fprintf(stderr,
                "\nfuzz_classify: mismatch in tree %#" PRIx64 " (TETHER_FUZZ_SEED=%" PRIu64
                ", replay: TETHER_FUZZ_TREE=%#" PRIx64 "), %s\n",
                seed, base_seed, seed, view_names[v]);
        reduce(&t, (enum view)v, &trials[v][i]);
    }
    unbuild();
    cnt->trees++;
    return failed;
}

/* A mount namespace of our own (tmpfs and bind mounts vanish with it), as root or, for
 * another user, inside a user namespace where that user is root (no uid 65534 then). */
static void set_up_namespaces(void)
{
    uid_t uid = getuid();
    gid_t gid = getgid();
    if (uid == 0) {
        can_setuid = 1;
        can_mount =
            unshare(CLONE_NEWNS) == 0 && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0;
    } else if (unshare(CLONE_NEWUSER | CLONE_NEWNS) == 0) {
        char map[64];
        int fd = open("/proc/self/setgroups", O_WRONLY);
        if (fd >= 0) (void)!write(fd, "deny", 4), close(fd);
        snprintf(map, sizeof map, "0 %u 1", (unsigned)uid);
        fd = open("/proc/self/uid_map", O_WRONLY);
        int ok = fd >= 0 && write(fd, map, strlen(map)) > 0;
        if (fd >= 0) close(fd);
        snprintf(map, sizeof map, "0 %u 1", (unsigned)gid);
        fd = open("/proc/self/gid_map", O_WRONLY);
        ok = ok && fd >= 0 && write(fd, map, strlen(map)) > 0;
        if (fd >= 0) close(fd);
        can_mount = ok && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0;
    }
    /* chroot: tried once, in a child. */
    pid_t pid = fork();
    if (pid == 0) _exit(chroot("/") == 0 ? 0 : 1);
    int status;
    can_chroot =
        pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static uint64_t env_u64(const char *name, uint64_t fallback)
{
    const char *s = getenv(name);
    return s && *s ? strtoull(s, NULL, 0) : fallback;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(void)
{
    set_up_namespaces();
    cnt = mmap(NULL, sizeof *cnt, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (cnt == MAP_FAILED) die("mmap");
    memset(cnt, 0, sizeof *cnt);
    const char *tmp = getenv("TMPDIR");
    char base[P];
    snprintf(base, P, "%s/tether-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(base) || chmod(base, 0755) != 0) die("mkdtemp");
    snprintf(top, P, "%s/t", base);
    umask(022);

    uint64_t seed = env_u64("TETHER_FUZZ_SEED", 1), one = env_u64("TETHER_FUZZ_TREE", 0);
    double seconds = (double)env_u64("TETHER_FUZZ_SECONDS", 20);
    printf("fuzz_classify: seed %" PRIu64 ", %s%s%s; views:", seed,
           can_mount ? "tmpfs and bind mounts" : "no mounts (no mount namespace)",
           can_setuid ? ", denied directories (uid 65534)" : ", no denied directories (not root)",
           "");
    for (int v = 0; v < NVIEWS; v++)
        if (view_available((enum view)v)) printf(" %s;", view_names[v]);
    printf("\n");
    fflush(stdout);

    int failed = 0;
    double start = now();
    if (one) {
        failed = fuzz_one(one, seed);
    } else {
        for (uint64_t i = 0; !failed && now() - start < seconds; i++) {
            rng = seed ^ (i * 0xd1342543de82ef95u);
            failed = fuzz_one(rnd(), seed);
        }
    }
    rm_rf_at(AT_FDCWD, base);
    const uint64_t *k = cnt->by_status;
    printf("fuzz_classify: %.0f s: %" PRIu64 " trees, %" PRIu64 " walks (each with the target "
           "cache on, off and at 2, and a traversal of its own), %" PRIu64 " entries, %" PRIu64
           " links compared with the kernel (ok %" PRIu64 ", broken %" PRIu64 ", loop %" PRIu64
           ", denied %" PRIu64 ", error %" PRIu64 "); %" PRIu64 " walks skipped (a working "
           "directory uid 65534 may not enter, a root out of the tree, or too many ways down "
           "through links); %" PRIu64 " passing ELOOPs; %s\n",
           now() - start, cnt->trees, cnt->walks, cnt->entries, cnt->links, k[0], k[1], k[2], k[3],
           k[4], cnt->skipped, cnt->passing_eloops,
           failed ? "MISMATCH (see above)" : "no mismatch");
    if (failed) printf("fuzz_classify: to replay, TETHER_FUZZ_SEED=%" PRIu64 "\n", seed);
    munmap(cnt, sizeof *cnt);
    return failed;
}
