/*
 * stage.c — the deal stage as a multi-value register (DESIGN.md §6).
 *
 * Invariants
 *  1. The stage of a deal is a function of the set of its stage writes only.
 *  2. A close (won/lost) that was concurrent with a non-terminal move wins:
 *     a deal closed on one branch is not silently reopened by a colleague who
 *     had not yet seen the close.
 *  3. A reopen made after seeing the close names the close as its prev, so the
 *     close is no longer a head and the reopen wins normally.
 */
#include "conflict.h"

int crm_conflict_stage_is_head(const crm_stage_write *w, size_t n, size_t i)
{
	for (size_t j = 0; j < n; j++)
		if (j != i && w[j].prev_hlc == w[i].stamp.hlc && crm_stamp_cmp(&w[j].stamp, &w[i].stamp) > 0)
			return 0;
	return 1;
}

/* a beats b among heads: terminal first, then the greater stamp. */
static int beats(const crm_stage_write *a, const crm_stage_write *b)
{
	if (a->terminal != b->terminal)
		return a->terminal > b->terminal;
	return crm_stamp_cmp(&a->stamp, &b->stamp) > 0;
}

size_t crm_conflict_stage_pick(const crm_stage_write *w, size_t n)
{
	size_t best = n;
	for (size_t i = 0; i < n; i++) {
		if (!crm_conflict_stage_is_head(w, n, i))
			continue;
		if (best == n || beats(&w[i], &w[best]))
			best = i;
	}
	/* Some write is always a head (the greatest stamp is named by no later
	 * write); the fallback only guards against a malformed set. */
	if (best == n)
		for (size_t i = 0; i < n; i++)
			if (best == n || crm_stamp_cmp(&w[i].stamp, &w[best].stamp) > 0)
				best = i;
	return best;
}
