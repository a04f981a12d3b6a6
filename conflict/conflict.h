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

#include <stddef.h>
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

/* ---- deal stage: a multi-value register (DESIGN.md §6) ------------------ */

typedef struct crm_stage_write {
	crm_stamp stamp;       /* identity of the write */
	uint64_t prev_hlc;     /* clock of the stage value its writer replaced (0: none) */
	int terminal;          /* the stage written is won or lost */
} crm_stage_write;

/* Decide the current stage of a deal from every stage write it received.
 * Heads are writes that no other write names as its prev (prev_hlc equal to
 * the head's hlc, from a later write).  Among heads a terminal stage beats a
 * non-terminal one, then the greatest stamp wins.  Returns the index of the
 * winner (n must be > 0).  Pure: the same set in any order gives the same
 * winner (ties in stamp cannot happen: stamps are unique per write). */
size_t crm_conflict_stage_pick(const crm_stage_write *w, size_t n);
/* 1 if write i is a head among w[0..n). */
int crm_conflict_stage_is_head(const crm_stage_write *w, size_t n, size_t i);

/* ---- duplicate groups: union-find over merge records ---------------------- */

/* ids: n record ids (any order, distinct); edges: m pairs of indexes into ids
 * that belong to one group.  Writes to root[i] the index of the smallest id
 * (strcmp) of i's group.  `scratch` holds n entries.  Pure and order-free:
 * the groups are the connected components, the survivor the lowest id. */
void crm_conflict_groups(const char *const *ids, size_t n, const size_t (*edges)[2], size_t m,
			 size_t *scratch, size_t *root);

/* ---- clocks of nodes whose wall clock is wrong (docs/CONFLICTS.md) ------- */

#define CRM_MAX_SKEW_MS (5u * 60u * 1000u)           /* tolerated disagreement */
#define CRM_MAX_FUTURE_MS (24u * 3600u * 1000u)      /* a received clock we adopt */

/* The wall clock corrected by the skew a node measured against a trusted
 * time (the hub's): skews within CRM_MAX_SKEW_MS are ignored. */
uint64_t crm_conflict_corrected_now(uint64_t wall_ms, int64_t skew_ms);
/* The skew to remember after observing trusted time `trusted_ms` when the
 * wall clock read `wall_ms`: wall - trusted, or 0 if within tolerance. */
int64_t crm_conflict_skew(uint64_t wall_ms, uint64_t trusted_ms);
/* Whether a received clock may advance the local clock: not more than
 * CRM_MAX_FUTURE_MS ahead of the (corrected) local time.  A write stamped
 * further ahead is still stored and merged; it just does not drag this
 * node's clock (and so every later write here) into the future. */
int crm_conflict_clock_adoptable(uint64_t remote_hlc, uint64_t now_ms);

#endif
