/*
 * clock.c — the rule for nodes whose wall clock is wrong (DESIGN.md §4).
 *
 * Rule (docs/CONFLICTS.md, "Wrong clocks"):
 *  1. A node that learns trusted time (the hub's, on every sync) remembers
 *     its skew when it exceeds CRM_MAX_SKEW_MS and stamps later writes with
 *     the corrected time, so a clock set a year ahead does not win every
 *     conflict, and one set a year behind does not lose every one.
 *  2. A received clock advances the local clock only if it is at most
 *     CRM_MAX_FUTURE_MS ahead of local time; a far-future stamp is still
 *     stored and merged but is not spread to everybody's later writes.
 */
#include "conflict.h"

uint64_t crm_conflict_corrected_now(uint64_t wall_ms, int64_t skew_ms)
{
	if (skew_ms > 0)
		return wall_ms > (uint64_t)skew_ms ? wall_ms - (uint64_t)skew_ms : 0;
	return wall_ms + (uint64_t)(-skew_ms);
}

int64_t crm_conflict_skew(uint64_t wall_ms, uint64_t trusted_ms)
{
	int64_t d = (int64_t)(wall_ms - trusted_ms);
	if (d <= (int64_t)CRM_MAX_SKEW_MS && d >= -(int64_t)CRM_MAX_SKEW_MS)
		return 0;
	return d;
}

int crm_conflict_clock_adoptable(uint64_t remote_hlc, uint64_t now_ms)
{
	return (remote_hlc >> 16) <= now_ms + CRM_MAX_FUTURE_MS;
}
