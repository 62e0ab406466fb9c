/*
 * clock: the mock's virtual time.
 *
 * Every expiry, rate-limit window and webhook schedule reads this clock,
 * never the system's, so a test can move time forward instead of
 * sleeping. Virtual time runs at the speed of real time from a start
 * point (now, or a scenario's chosen instant) plus whatever has been added
 * by clock_advance(). It never runs backwards. All calls are thread-safe.
 */
#ifndef CYBRID_CLOCK_H
#define CYBRID_CLOCK_H

#include <stdint.h>

/* Starts virtual time at epoch_ms (0: the current real time). */
void clock_reset(int64_t epoch_ms);

/* Virtual time in milliseconds since the Unix epoch. */
int64_t clock_now_ms(void);

/* Virtual time in whole seconds since the Unix epoch. */
int64_t clock_now(void);

/* Moves virtual time forward; negative amounts are ignored. */
void clock_advance_ms(int64_t ms);

/* Milliseconds added by clock_advance_ms() since the last reset. */
int64_t clock_offset_ms(void);

/* Real monotonic milliseconds, for durations that must not jump. */
int64_t clock_mono_ms(void);

/* Real monotonic microseconds, for request durations. */
int64_t clock_mono_us(void);

#endif
