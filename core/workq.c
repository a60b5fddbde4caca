/* The bounded work queue: a ring of jobs under one mutex, threads waiting on "has job",
 * the producer on "has room". Jobs are coarse (a file to hash or remove, a list of files
 * to compare), so one lock is not contended. */
#include "workq.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#define MAX_THREADS 8

struct tt_workq {
    pthread_mutex_t mu;
    pthread_cond_t has_job, has_room;
    void **ring;
    size_t cap, head, count;
    int closing, failed, started;
    tt_err err;
    tt_job_fn run;
    tt_drop_fn drop;
    void *ctx;
    pthread_t threads[MAX_THREADS];
};

static void fail(tt_workq *q, const tt_err *e)
{
    if (q->failed) return;
    q->failed = 1;
    q->err = *e;
    /* Jobs still waiting will not run: drop them now. */
    for (; q->count; q->count--, q->head = (q->head + 1) % q->cap)
        q->drop(q->ring[q->head]);
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
        q->drop(job);
        pthread_mutex_lock(&q->mu);
        if (rc) fail(q, &e);
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

tt_workq *tt_workq_start(int threads, size_t cap, tt_job_fn run, tt_drop_fn drop, void *ctx)
{
    tt_workq *q = calloc(1, sizeof *q);
    if (!q) return NULL;
    q->ring = malloc((cap ? cap : 1) * sizeof *q->ring);
    if (!q->ring) {
        free(q);
        return NULL;
    }
    q->cap = cap ? cap : 1;
    q->run = run, q->drop = drop, q->ctx = ctx;
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->has_job, NULL);
    pthread_cond_init(&q->has_room, NULL);
    if (threads > MAX_THREADS) threads = MAX_THREADS;
    while (q->started < threads && pthread_create(&q->threads[q->started], NULL, worker, q) == 0)
        q->started++;
    return q;
}

int tt_workq_add(tt_workq *q, void *job, tt_err *e)
{
    if (!q->started) { /* no thread: the job runs here, and a failure is kept the same way */
        int rc = q->failed ? -1 : q->run(q->ctx, job, e);
        q->drop(job);
        if (rc && !q->failed) q->failed = 1, q->err = *e;
        if (q->failed) *e = q->err;
        return q->failed ? -1 : 0;
    }
    pthread_mutex_lock(&q->mu);
    while (q->count == q->cap && !q->failed)
        pthread_cond_wait(&q->has_room, &q->mu);
    int failed = q->failed;
    if (!failed) {
        q->ring[(q->head + q->count) % q->cap] = job;
        q->count++;
        pthread_cond_signal(&q->has_job);
    } else {
        *e = q->err;
    }
    pthread_mutex_unlock(&q->mu);
    if (failed) q->drop(job);
    return failed ? -1 : 0;
}

int tt_workq_failed(tt_workq *q)
{
    pthread_mutex_lock(&q->mu);
    int failed = q->failed;
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
    int failed = q->failed;
    if (failed) *e = q->err;
    pthread_cond_destroy(&q->has_job);
    pthread_cond_destroy(&q->has_room);
    pthread_mutex_destroy(&q->mu);
    free(q->ring);
    free(q);
    return failed ? -1 : 0;
}
