// ThreadSanitizer does not intercept C11 threads (GCC 12's libtsan, LLVM 14), and Debian's
// librdkafka creates its threads with thrd_create and locks with mtx_lock: TSan then crashes in
// the first allocation of a thread it never saw start. Preloaded into a -fsanitize=thread test,
// this maps the C11 calls librdkafka makes onto the pthread calls TSan does intercept (glibc's
// own C11 threads are these pthread objects underneath). Test tooling only: tests/README.md.
//
//   cc -shared -fPIC -O1 -o build-tsan/c11threads.so tests/tsan/c11threads.c
//   LD_PRELOAD=$PWD/build-tsan/c11threads.so build-tsan/tests/test_monitor "[threads]"
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <threads.h>

static int result(int e)
{
    return e == 0 ? thrd_success : e == ETIMEDOUT ? thrd_timedout : e == EBUSY ? thrd_busy
                                                   : e == ENOMEM ? thrd_nomem : thrd_error;
}

struct start
{
    thrd_start_t func;
    void *arg;
};

static void *trampoline(void *p)
{
    struct start s = *(struct start *)p;
    free(p);
    return (void *)(intptr_t)s.func(s.arg);
}

int thrd_create(thrd_t *thr, thrd_start_t func, void *arg)
{
    struct start *s = malloc(sizeof *s);
    if (!s)
        return thrd_nomem;
    s->func = func;
    s->arg = arg;
    const int e = pthread_create((pthread_t *)thr, NULL, trampoline, s);
    if (e)
        free(s);
    return result(e);
}

int thrd_join(thrd_t thr, int *res)
{
    void *value = NULL;
    const int e = pthread_join((pthread_t)thr, &value);
    if (e == 0 && res)
        *res = (int)(intptr_t)value;
    return result(e);
}

int thrd_detach(thrd_t thr)
{
    return result(pthread_detach((pthread_t)thr));
}

int mtx_init(mtx_t *m, int type)
{
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    if (type & mtx_recursive)
        pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    const int e = pthread_mutex_init((pthread_mutex_t *)m, &attr);
    pthread_mutexattr_destroy(&attr);
    return result(e);
}

int mtx_lock(mtx_t *m)
{
    return result(pthread_mutex_lock((pthread_mutex_t *)m));
}

int mtx_trylock(mtx_t *m)
{
    return result(pthread_mutex_trylock((pthread_mutex_t *)m));
}

int mtx_timedlock(mtx_t *restrict m, const struct timespec *restrict at)
{
    return result(pthread_mutex_timedlock((pthread_mutex_t *)m, at));
}

int mtx_unlock(mtx_t *m)
{
    return result(pthread_mutex_unlock((pthread_mutex_t *)m));
}

void mtx_destroy(mtx_t *m)
{
    pthread_mutex_destroy((pthread_mutex_t *)m);
}

int cnd_init(cnd_t *c)
{
    return result(pthread_cond_init((pthread_cond_t *)c, NULL));
}

int cnd_signal(cnd_t *c)
{
    return result(pthread_cond_signal((pthread_cond_t *)c));
}

int cnd_broadcast(cnd_t *c)
{
    return result(pthread_cond_broadcast((pthread_cond_t *)c));
}

int cnd_wait(cnd_t *c, mtx_t *m)
{
    return result(pthread_cond_wait((pthread_cond_t *)c, (pthread_mutex_t *)m));
}

int cnd_timedwait(cnd_t *restrict c, mtx_t *restrict m, const struct timespec *restrict at)
{
    return result(pthread_cond_timedwait((pthread_cond_t *)c, (pthread_mutex_t *)m, at));
}

void cnd_destroy(cnd_t *c)
{
    pthread_cond_destroy((pthread_cond_t *)c);
}
