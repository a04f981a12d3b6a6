/*
 * conflict.h — the merge rules of DESIGN.md §6 as pure functions.
 *
 * Values in, decision out: nothing here does I/O, reads a clock, draws a
 * random number or knows about SQLite or OpenSSL.  The store (node/) reads
 * the current state of a value, asks these functions, and writes what they
 * decide.  Because each rule is a deterministic function of the set of
 * writes to a value, replicas that saw the same writes hold the same state,
 * whatever the order, duplication or batching of delivery.
 */
#ifndef CRM_CONFLICT_H
#define CRM_CONFLICT_H

#include <stdint.h>

#define CRM_NODE_HEX 32

/* The identity of one write: hybrid logical clock, then author node id
 * (32 lower-case hex digits).  Totally ordered. */
typedef struct crm_stamp {
	uint64_t hlc;
	char node[CRM_NODE_HEX + 1];
} crm_stamp;

/* The genesis stamp (hlc 0, node "000…0"): values every replica starts with. */
extern const crm_stamp crm_stamp_genesis;

/* <0, 0, >0 as a orders before, equal to, after b. */
int crm_stamp_cmp(const crm_stamp *a, const crm_stamp *b);

typedef enum crm_pick {
	CRM_PICK_KEEP = 0,   /* the stored value stays; the incoming one is older */
	CRM_PICK_TAKE = 1,   /* the incoming value replaces the stored one */
	CRM_PICK_SAME = 2,   /* the very same write again: a no-op */
} crm_pick;

/* Last writer wins for an ordinary field.  `cur` is NULL when the field has
 * never been written (any write takes it). */
crm_pick crm_conflict_lww(const crm_stamp *cur, const crm_stamp *incoming);

/* Whether a write displaced by LWW was concurrent with the winner, i.e. the
 * winner's author did not know it: the winner's prev clock is older than the
 * loser's clock.  Only such losses are conflicts a person should see;
 * a plain overwrite of a value the writer had seen is an ordinary edit. */
int crm_conflict_concurrent(uint64_t winner_prev_hlc, const crm_stamp *loser);

#endif
