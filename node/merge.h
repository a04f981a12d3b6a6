/*
 * merge.h — the merge engine's stateful half: it reads what conflict/ needs
 * from the store, asks the pure rules, writes what they decide, and keeps
 * the conflicts inbox and duplicate groups.  See docs/CONFLICTS.md.
 */
#ifndef CRM_MERGE_H
#define CRM_MERGE_H

#include <jansson.h>

#include "conflict.h"
#include "write.h"

/* A write to deals.stage_id (local or received): add it to the deal's
 * multi-value register and set the stage to the register's winner.
 * Returns 1 if the write is now the current stage, 0 if not. */
int crm_merge_stage(crm_store *st, const char *deal_id, const crm_stamp *in, uint64_t prev,
		    const crm_value *v);

/* Record in the conflicts inbox that LWW set a concurrent value aside:
 * incoming_won = 1 when c replaced the stored value (cur), 0 when c lost. */
int crm_merge_note_lww(crm_store *st, const crm_change *c, const crm_stamp *in,
		       const crm_stamp *cur, int incoming_won);
/* Record edits that were concurrent with a delete of their row (the values
 * stay in the deleted row; a restore brings them back). */
int crm_merge_note_deleted_edit(crm_store *st, const crm_change *c, const crm_stamp *in);

/* The conflicts inbox: array of records (unresolved first, newest first). */
int crm_conflicts_list(json_t **out, crm_store *st, int include_resolved);
/* Mark one resolved, or write its set-aside value back as a new local edit. */
int crm_conflict_resolve(crm_store *st, int64_t id);
int crm_conflict_reapply(crm_store *st, int64_t id);

/* ---- duplicates (DESIGN.md §6) ---- */

/* Recompute the duplicate groups (crm_alias) from merge records and strong
 * keys: companies with the same tax id, contacts sharing an e-mail address.
 * Reports new automatic merges in the conflicts inbox. */
int crm_merge_refresh(crm_store *st);
/* A bulk edit (an import): crm_merge_refresh calls between hold and release
 * only mark a refresh as due; the outermost release runs it once if `run`
 * (pass 0 when the edit is being rolled back).  The groups are a function of
 * the stored keys, so one refresh at the end gives what one per edit gave. */
void crm_merge_hold(crm_store *st);
int crm_merge_release(crm_store *st, int run);
/* A person's decision: merge two records (undo = 0) or keep them apart
 * (undo = 1; also undoes an earlier merge). Replicated, idempotent. */
int crm_merge_decide(crm_store *st, const char *a, const char *b, int undo);
/* The survivor id of a record's group (itself if not merged). Caller frees. */
int crm_merge_survivor(crm_store *st, const char *id, char **out);
/* Suggested duplicates awaiting a decision (same phone, similar names). */
int crm_duplicates_list(json_t **out, crm_store *st);

#endif
