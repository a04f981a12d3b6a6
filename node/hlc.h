/*
 * hlc.h — hybrid logical clock (DESIGN.md §4): 48 bits of Unix milliseconds,
 * 16 bits of counter.  Pure: the wall clock is an argument.
 *
 * A write's identity is (hlc, node id), totally ordered.  The store persists
 * the last value it issued or received, so a clock never goes back across
 * restarts.
 */
#ifndef CRM_HLC_H
#define CRM_HLC_H

#include <stdint.h>

#define CRM_HLC_MS(h) ((h) >> 16)
#define CRM_HLC_FROM_MS(ms) ((uint64_t)(ms) << 16)

/* The clock for a new local event: strictly greater than `last`, and at least
 * the wall clock `now_ms`. */
uint64_t crm_hlc_next(uint64_t last, uint64_t now_ms);
/* The clock after receiving a remote clock: max(last, remote). */
uint64_t crm_hlc_recv(uint64_t last, uint64_t remote);
/* Format as "2026-11-23T13:05:00.123Z+5" (UTC time, counter) for people. */
void crm_hlc_format(char out[64], uint64_t hlc);

#endif
