/*
 * clock: virtual time = start + (monotonic elapsed) + advanced offset.
 * The three numbers are atomics, so readers on request threads never
 * take a lock.
 */
#include "clock.h"

#include <stdatomic.h>
#include <time.h>

static _Atomic int64_t start_epoch_ms;
static _Atomic int64_t start_mono_ms;
static _Atomic int64_t offset_ms;

int64_t
clock_mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
clock_mono_ms(void)
{
    return clock_mono_us() / 1000;
}

static int64_t
real_epoch_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
clock_reset(int64_t epoch_ms)
{
    atomic_store(&start_mono_ms, clock_mono_ms());
    atomic_store(&offset_ms, 0);
    atomic_store(&start_epoch_ms, epoch_ms > 0 ? epoch_ms : real_epoch_ms());
}

int64_t
clock_now_ms(void)
{
    int64_t start = atomic_load(&start_epoch_ms);

    if (start == 0) {
        /* First use before any reset: start now. */
        int64_t expected = 0;

        atomic_store(&start_mono_ms, clock_mono_ms());
        atomic_compare_exchange_strong(&start_epoch_ms, &expected,
                                       real_epoch_ms());
        start = atomic_load(&start_epoch_ms);
    }
    return start + (clock_mono_ms() - atomic_load(&start_mono_ms)) +
           atomic_load(&offset_ms);
}

int64_t
clock_now(void)
{
    return clock_now_ms() / 1000;
}

void
clock_advance_ms(int64_t ms)
{
    if (ms > 0)
        atomic_fetch_add(&offset_ms, ms);
}

int64_t
clock_offset_ms(void)
{
    return atomic_load(&offset_ms);
}
