/* The background scan, in two stages on core/workq's threads: the walk (one job, the
 * whole walk: it owns the walker and so every directory descriptor) and, when asked, the
 * classification of each walked batch (a queue of one thread, so batches stay in walk
 * order). Items are copied into per-batch arenas, so nothing the caller sees points into
 * the walker's buffers. Offsets, not pointers, are stored while an arena may still grow. */
#include "scan.h"

#include "workq.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define BATCH_ITEMS 256
#define BATCH_BYTES (32 * 1024)
#define MAX_BATCHES 8

typedef struct batch {
    tt_scan_item items[BATCH_ITEMS];
    size_t path_off[BATCH_ITEMS], name_off[BATCH_ITEMS], target_off[BATCH_ITEMS];
    size_t n;
    char *arena;
    size_t used, cap;
    int last; /* the walk's last batch (maybe empty) */
    struct batch *next;
} batch;

struct tt_scan {
    tt_walk *w;
    unsigned what; /* TT_SCAN_* */
    tt_roots roots;
    char **root_copies;
    tt_dirchain *chain; /* the classifier's own way to the links' directories */
    char *target;
    size_t target_cap;

    tt_workq *walker;     /* the walk on a thread of its own (NULL: in tt_scan_next) */
    tt_workq *classifier; /* classifies walked batches (NULL: nothing to classify) */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    batch *ready, *ready_tail, *spare;
    size_t batches; /* allocated so far */
    int done, failed;
    _Atomic int stop; /* read by the stages between entries */
    tt_err err;
    tt_walk_stats stats;
    tt_cache_stats cache; /* the classifier's, copied under mu */
    char *dir;
    size_t dir_cap;

    batch *cur; /* the consumer's batch */
    size_t cur_i;
};

/* Appends bytes plus a NUL to the batch arena; returns the offset or (size_t)-1. */
static size_t arena_add(batch *b, const char *s, size_t n)
{
    if (b->used + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : BATCH_BYTES;
        while (cap < b->used + n + 1)
            cap *= 2;
        char *p = realloc(b->arena, cap);
        if (!p) return (size_t)-1;
        b->arena = p;
        b->cap = cap;
    }
    size_t off = b->used;
    memcpy(b->arena + off, s, n);
    b->arena[off + n] = '\0';
    b->used += n + 1;
    return off;
}

/* A batch to fill: a spare one, a new one while under the limit, or wait for one. */
static batch *take_batch(tt_scan *s)
{
    pthread_mutex_lock(&s->mu);
    while (!s->spare && s->batches >= MAX_BATCHES && !s->stop)
        pthread_cond_wait(&s->cv, &s->mu);
    batch *b = s->spare;
    if (b) s->spare = b->next;
    int make = !b && !s->stop;
    if (make) s->batches++;
    pthread_mutex_unlock(&s->mu);
    if (make) b = calloc(1, sizeof *b);
    if (b) b->n = b->used = 0, b->last = 0, b->next = NULL;
    return b;
}

static void enqueue(batch **head, batch **tail, batch *b)
{
    if (*tail)
        (*tail)->next = b;
    else
        *head = b;
    *tail = b;
}

/* Classifies the links of a walked batch; their targets go into its arena. */
static int classify_batch(tt_scan *s, batch *b, tt_err *e)
{
    for (size_t i = 0; i < b->n; i++) {
        tt_scan_item *it = &b->items[i];
        if (it->type != TT_SYMLINK && it->type != TT_JUNCTION) continue;
        tt_err ce;
        /* The arena may move when a target is added: the path is found anew each time. */
        const char *path = b->arena + b->path_off[i];
        if (tt_classify_walked(s->chain, path, b->name_off[i] - b->path_off[i], it->depth, it->type,
                               &s->roots, &s->target, &s->target_cap, &it->c, &ce) != 0) {
            it->class_err = ce.code;
            continue;
        }
        it->classified = 1;
        b->target_off[i] = arena_add(b, s->target, strlen(s->target));
        if (b->target_off[i] == (size_t)-1)
            return tt_fail(e, ENOMEM, b->arena + b->path_off[i], NULL, NULL);
    }
    return 0;
}

static void fail(tt_scan *s, const tt_err *e)
{
    pthread_mutex_lock(&s->mu);
    if (!s->failed) s->failed = 1, s->err = *e;
    pthread_mutex_unlock(&s->mu);
}

/* The last stage: the batch goes to the consumer (an empty one back to the spares);
 * NULL, or the walk's last batch, says the scan is over. */
static void deliver(tt_scan *s, batch *b)
{
    pthread_mutex_lock(&s->mu);
    if (s->classifier) s->cache = *tt_dirchain_stats(s->chain);
    if (b && b->n > 0) {
        enqueue(&s->ready, &s->ready_tail, b);
    } else if (b) {
        b->next = s->spare;
        s->spare = b;
    }
    if (!b || b->last) s->done = 1;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* The classifier's job: one walked batch, in walk order (NULL: the end, as for deliver). */
static int classify_job(void *ctx, void *arg, tt_err *e)
{
    (void)e;
    tt_scan *s = ctx;
    batch *b = arg;
    tt_err ce;
    if (b && !s->stop && classify_batch(s, b, &ce) != 0) fail(s, &ce);
    deliver(s, b);
    return 0;
}

/* Hands a filled batch on (NULL: none could be had, and the walk is over): to the
 * classifier when there is one, else to the consumer, with the walk's counts and place
 * as of this batch. `last`: the walk is over. */
static void publish(tt_scan *s, batch *b, int last)
{
    pthread_mutex_lock(&s->mu);
    s->stats = *tt_walk_stats_of(s->w);
    const char *d = tt_walk_current_dir(s->w);
    size_t n = strlen(d);
    if (n + 1 > s->dir_cap) {
        char *p = realloc(s->dir, n + 1);
        if (p) s->dir = p, s->dir_cap = n + 1;
    }
    if (n + 1 <= s->dir_cap) memcpy(s->dir, d, n + 1);
    pthread_mutex_unlock(&s->mu);
    if (b) b->last = last;
    tt_err e;
    if (!s->classifier)
        deliver(s, b);
    else if (tt_workq_add(s->classifier, b, &e) != 0) /* cannot be: its jobs never fail */
        fail(s, &e), deliver(s, b);
}

static int add_item(tt_scan *s, batch *b, const tt_entry *en)
{
    size_t i = b->n;
    tt_scan_item *it = &b->items[i];
    memset(it, 0, sizeof *it);
    b->path_off[i] = arena_add(b, en->path, en->path_len);
    if (b->path_off[i] == (size_t)-1) return ENOMEM;
    b->name_off[i] = b->path_off[i] + (size_t)(en->name - en->path);
    b->target_off[i] = (size_t)-1;
    it->path_len = en->path_len;
    it->type = en->type;
    it->depth = en->depth;
    it->err = en->err;
    if (s->what & TT_SCAN_STAT)
        it->has_stat = (en->parent ? pf_dir_stat(en->parent, en->name, 0, &it->st)
                                   : pf_lstat(en->path, &it->st)) == 0;
    b->n++;
    return 0;
}

/* Walks until one batch is full or the walk is over, and hands the batch over.
 * Returns 1 when the walk is over. */
static int fill_batch(tt_scan *s)
{
    batch *b = take_batch(s);
    tt_entry *en;
    tt_err e;
    int rc = 0;
    while (b && !s->stop && (rc = tt_walk_next(s->w, &en, &e)) == 1) {
        int err = add_item(s, b, en);
        if (err) {
            rc = -1;
            tt_fail(&e, err, en->path, NULL, NULL);
            break;
        }
        if (b->n == BATCH_ITEMS || b->used >= BATCH_BYTES) {
            publish(s, b, 0);
            return 0;
        }
    }
    if (!b && !s->stop) rc = -1, tt_fail(&e, ENOMEM, "", "out of memory while walking", NULL);
    if (rc < 0) fail(s, &e);
    publish(s, b, 1);
    return 1;
}

/* The walker's one job: the whole walk. */
static int walk_job(void *ctx, void *arg, tt_err *e)
{
    (void)arg, (void)e;
    tt_scan *s = ctx;
    while (!fill_batch(s)) {
    }
    return 0;
}

tt_scan *tt_scan_open(const char *root, const tt_walk_opts *o, const tt_roots *roots, unsigned what,
                      int threaded, tt_err *e)
{
    tt_scan *s = calloc(1, sizeof *s);
    if (!s) return tt_fail(e, ENOMEM, root, NULL, NULL), NULL;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    s->what = what;
    size_t n = roots ? roots->n : 0;
    s->root_copies = calloc(n + 1, sizeof *s->root_copies);
    for (size_t i = 0; s->root_copies && i < n; i++) {
        s->root_copies[i] = strdup(roots->paths[i]);
        if (!s->root_copies[i]) break;
        s->roots.n++;
    }
    s->roots.paths = (const char *const *)s->root_copies;
    if (!s->root_copies || s->roots.n != n) {
        tt_fail(e, ENOMEM, root, NULL, NULL);
        tt_scan_close(s);
        return NULL;
    }
    s->w = tt_walk_open(root, o, e);
    if (s->w && (what & TT_SCAN_CLASSIFY))
        s->chain = tt_dirchain_open(root, o->follow, o->target_cache, e);
    if (!s->w || ((what & TT_SCAN_CLASSIFY) && !s->chain)) {
        tt_scan_close(s);
        return NULL;
    }
    if (threaded) { /* the walk on a thread; without one, in tt_scan_next after all */
        s->walker = tt_workq_start(1, 1, 0, walk_job, NULL, s);
        tt_err ignored;
        if (s->walker && tt_workq_threads(s->walker) == 0)
            tt_workq_finish(s->walker, &ignored), s->walker = NULL;
    }
    /* Reading links' targets and resolving them costs about what the walk costs, so
     * classification runs on a thread of its own, a stage behind the walker, or (no
     * walker thread) right after each batch is filled. */
    if (s->chain && !(s->classifier = tt_workq_start(s->walker ? 1 : 0, MAX_BATCHES, 0,
                                                     classify_job, NULL, s))) {
        tt_fail(e, ENOMEM, root, NULL, NULL);
        tt_scan_close(s);
        return NULL;
    }
    tt_err we;
    if (s->walker) tt_workq_add(s->walker, NULL, &we); /* the walk starts */
    return s;
}

static void give_back(tt_scan *s, batch *b)
{
    pthread_mutex_lock(&s->mu);
    b->next = s->spare;
    s->spare = b;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

int tt_scan_next(tt_scan *s, const tt_scan_item **out, tt_err *e)
{
    if (s->cur && s->cur_i >= s->cur->n) {
        give_back(s, s->cur);
        s->cur = NULL;
    }
    if (!s->cur) {
        while (!s->walker && !s->ready && !s->done)
            fill_batch(s);
        pthread_mutex_lock(&s->mu);
        while (!s->ready && !s->done)
            pthread_cond_wait(&s->cv, &s->mu);
        batch *b = s->ready;
        if (b) {
            s->ready = b->next;
            if (!s->ready) s->ready_tail = NULL;
            b->next = NULL;
        }
        int failed = s->failed;
        if (!b && failed && e) *e = s->err;
        pthread_mutex_unlock(&s->mu);
        if (!b) return failed ? -1 : 0;
        s->cur = b;
        s->cur_i = 0;
    }
    batch *b = s->cur;
    size_t i = s->cur_i++;
    tt_scan_item *it = &b->items[i];
    it->path = b->arena + b->path_off[i];
    it->name = b->arena + b->name_off[i];
    it->target = b->target_off[i] == (size_t)-1 ? NULL : b->arena + b->target_off[i];
    *out = it;
    return 1;
}

void tt_scan_progress(tt_scan *s, tt_walk_stats *stats, char *dir, size_t dirlen)
{
    pthread_mutex_lock(&s->mu);
    *stats = s->stats;
    stats->cache = s->cache;
    if (dirlen > 0) {
        size_t n = s->dir ? strlen(s->dir) : 0;
        if (n >= dirlen) n = dirlen - 1;
        if (n) memcpy(dir, s->dir, n);
        dir[n] = '\0';
    }
    pthread_mutex_unlock(&s->mu);
}

static void free_list(batch *b)
{
    while (b) {
        batch *next = b->next;
        free(b->arena);
        free(b);
        b = next;
    }
}

void tt_scan_close(tt_scan *s)
{
    if (!s) return;
    pthread_mutex_lock(&s->mu);
    s->stop = 1;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    tt_err ignored;
    if (s->walker) tt_workq_finish(s->walker, &ignored); /* first: it feeds the classifier */
    if (s->classifier) tt_workq_finish(s->classifier, &ignored);
    free_list(s->ready);
    free_list(s->spare);
    if (s->cur) free_list(s->cur);
    tt_walk_close(s->w);
    tt_dirchain_close(s->chain);
    for (size_t i = 0; s->root_copies && s->root_copies[i]; i++)
        free(s->root_copies[i]);
    free(s->root_copies);
    free(s->target);
    free(s->dir);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
}
