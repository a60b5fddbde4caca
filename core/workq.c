/* The bounded work queue: a ring of jobs under one mutex, threads waiting on "has job",
 * the producer on "has room". Jobs are coarse (a file to hash or remove, a list of files
 * to compare), so one lock is not contended. */
#include "workq.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

#define MAX_THREADS 8

struct tt_workq {
    pthread_mutex_t mu;
    pthread_cond_t has_job, has_room;
    void **ring;
    size_t cap, head, count;
    int closing, started;
    int failed; /* 1: stopped by a failure; -1: one kept (TT_WORKQ_KEEP_GOING) */
    unsigned flags;
    tt_err err;
    tt_job_fn run;
    tt_drop_fn drop;
    void *ctx;
    pthread_t threads[MAX_THREADS];
};

static void drop(tt_workq *q, void *job)
{
    if (q->drop) q->drop(job);
}

static void fail(tt_workq *q, const tt_err *e)
{
    if (q->failed) return;
    q->err = *e;
    if (q->flags & TT_WORKQ_KEEP_GOING) { /* kept to report; nothing stops */
        q->failed = -1;
        return;
    }
    q->failed = 1;
    /* Jobs still waiting will not run: drop them now. */
    for (; q->count; q->count--, q->head = (q->head + 1) % q->cap)
        drop(q, q->ring[q->head]);
    pthread_cond_broadcast(&q->has_room);
}

static void *worker(void *arg)
{
    tt_workq *q = arg;
    pthread_mutex_lock(&q->mu);
    for (;;) {
        while (!q->count && !q->closing)
            pthread_cond_wait(&q->has_job, &q->mu);
        if (!q->count) break;
        void *job = q->ring[q->head];
        q->head = (q->head + 1) % q->cap;
        q->count--;
        pthread_cond_signal(&q->has_room);
        pthread_mutex_unlock(&q->mu);
        tt_err e;
        int rc = q->run(q->ctx, job, &e);
        drop(q, job);
        pthread_mutex_lock(&q->mu);
        if (rc) fail(q, &e);
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

/* Starts the threads with every signal blocked (they inherit the mask), so that no
 * signal is ever delivered to one of them. */
static void start_threads(tt_workq *q, int threads)
{
#ifndef _WIN32 /* Windows delivers Ctrl-C on a thread of its own */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
#endif
    if (threads > MAX_THREADS) threads = MAX_THREADS;
    while (q->started < threads && pthread_create(&q->threads[q->started], NULL, worker, q) == 0)
        q->started++;
#ifndef _WIN32
    pthread_sigmask(SIG_SETMASK, &old, NULL);
#endif
}

tt_workq *tt_workq_start(int threads, size_t cap, unsigned flags, tt_job_fn run, tt_drop_fn drop,
                         void *ctx)
{
    tt_workq *q = calloc(1, sizeof *q);
    if (!q) return NULL;
    q->ring = malloc((cap ? cap : 1) * sizeof *q->ring);
    if (!q->ring) {
        free(q);
        return NULL;
    }
    q->cap = cap ? cap : 1;
    q->flags = flags;
    q->run = run, q->drop = drop, q->ctx = ctx;
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->has_job, NULL);
    pthread_cond_init(&q->has_room, NULL);
    start_threads(q, threads);
    return q;
}

int tt_workq_threads(tt_workq *q)
{
    return q->started;
}

int tt_workq_add(tt_workq *q, void *job, tt_err *e)
{
    if (!q->started) { /* no thread: the job runs here, and a failure is kept the same way */
        int rc = q->failed > 0 ? -1 : q->run(q->ctx, job, e);
        drop(q, job);
        if (rc) fail(q, e);
        if (q->failed > 0) *e = q->err;
        return q->failed > 0 ? -1 : 0;
    }
    pthread_mutex_lock(&q->mu);
    while (q->count == q->cap && q->failed <= 0)
        pthread_cond_wait(&q->has_room, &q->mu);
    int failed = q->failed > 0;
    if (!failed) {
        q->ring[(q->head + q->count) % q->cap] = job;
        q->count++;
        pthread_cond_signal(&q->has_job);
    } else {
        *e = q->err;
    }
    pthread_mutex_unlock(&q->mu);
    if (failed) drop(q, job);
    return failed ? -1 : 0;
}

int tt_workq_failed(tt_workq *q)
{
    pthread_mutex_lock(&q->mu);
    int failed = q->failed != 0;
    pthread_mutex_unlock(&q->mu);
    return failed;
}

int tt_workq_finish(tt_workq *q, tt_err *e)
{
    pthread_mutex_lock(&q->mu);
    q->closing = 1;
    pthread_cond_broadcast(&q->has_job);
    pthread_mutex_unlock(&q->mu);
    for (int i = 0; i < q->started; i++) /* they empty the queue first */
        pthread_join(q->threads[i], NULL);
    int failed = q->failed != 0;
    if (failed) *e = q->err;
    pthread_cond_destroy(&q->has_job);
    pthread_cond_destroy(&q->has_room);
    pthread_mutex_destroy(&q->mu);
    free(q->ring);
    free(q);
    return failed ? -1 : 0;
}
