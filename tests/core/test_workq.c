/* cmocka tests of core/workq: every job runs (on the threads, or on the caller's when
 * none can start), and the first failure wins: later jobs are dropped, not run. */
#include "../testutil.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/workq.h"

typedef struct counts {
    pthread_mutex_t mu;
    int ran, dropped, fail_at;
} counts;

typedef struct job {
    counts *c;
    int n;
} job;

static int run(void *ctx, void *arg, tt_err *e)
{
    counts *c = ctx;
    job *j = arg;
    pthread_mutex_lock(&c->mu);
    c->ran++;
    pthread_mutex_unlock(&c->mu);
    if (j->n == c->fail_at) return tt_fail(e, EIO, "job", "failed on purpose", NULL);
    return 0;
}

static void drop(void *arg)
{
    job *j = arg;
    pthread_mutex_lock(&j->c->mu);
    j->c->dropped++;
    pthread_mutex_unlock(&j->c->mu);
    free(j);
}

static void run_jobs(int threads, int fail_at, int *ran, int *dropped, int *rc)
{
    counts c = {PTHREAD_MUTEX_INITIALIZER, 0, 0, fail_at};
    tt_workq *q = tt_workq_start(threads, 4, run, drop, &c);
    assert_non_null(q);
    tt_err e;
    int refused = 0;
    for (int i = 0; i < 1000; i++) {
        job *j = malloc(sizeof *j);
        j->c = &c, j->n = i;
        if (tt_workq_add(q, j, &e) != 0) refused++;
    }
    *rc = tt_workq_finish(q, &e);
    if (*rc) assert_int_equal(e.code, EIO);
    *ran = c.ran;
    *dropped = c.dropped; /* every job is released exactly once */
    assert_int_equal(c.dropped, 1000);
    (void)refused;
}

static void test_every_job_runs(void **state)
{
    (void)state;
    int ran, dropped, rc;
    run_jobs(4, -1, &ran, &dropped, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(ran, 1000);
    run_jobs(0, -1, &ran, &dropped, &rc); /* no threads: on the caller's */
    assert_int_equal(ran, 1000);
}

static void test_first_failure_wins(void **state)
{
    (void)state;
    int ran, dropped, rc;
    run_jobs(2, 10, &ran, &dropped, &rc);
    assert_int_equal(rc, -1);
    assert_true(ran < 1000); /* the rest were dropped, not run */
    run_jobs(0, 10, &ran, &dropped, &rc);
    assert_int_equal(rc, -1);
    assert_int_equal(ran, 11);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_job_runs),
        cmocka_unit_test(test_first_failure_wins),
    };
    return cmocka_run_group_tests_name("core/workq", tests, NULL, NULL);
}
