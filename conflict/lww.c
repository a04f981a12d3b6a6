/*
 * lww.c — last-writer-wins for ordinary fields (DESIGN.md §6).
 *
 * Invariant: the surviving value of a field is the write with the greatest
 * (hlc, node) among all writes to it.  crm_conflict_lww is the pairwise step
 * of that max, so applying writes in any order, any number of times, ends at
 * the same winner.
 */
#include "conflict.h"

#include <string.h>

const crm_stamp crm_stamp_genesis = {0, "00000000000000000000000000000000"};

int crm_stamp_cmp(const crm_stamp *a, const crm_stamp *b)
{
	if (a->hlc != b->hlc)
		return a->hlc < b->hlc ? -1 : 1;
	return strcmp(a->node, b->node);
}

crm_pick crm_conflict_lww(const crm_stamp *cur, const crm_stamp *incoming)
{
	if (!cur)
		return CRM_PICK_TAKE;
	int c = crm_stamp_cmp(incoming, cur);
	if (c == 0)
		return CRM_PICK_SAME;
	return c > 0 ? CRM_PICK_TAKE : CRM_PICK_KEEP;
}

int crm_conflict_concurrent(uint64_t winner_prev_hlc, const crm_stamp *loser)
{
	return winner_prev_hlc < loser->hlc;
}
