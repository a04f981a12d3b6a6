/*
 * seal.h — pending changes become signed commits of the change log, and
 * received commits are verified and applied.  See docs/PROTOCOL.md.
 */
#ifndef CRM_SEAL_H
#define CRM_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "changelog.h"
#include "store.h"

#define CRM_SEAL_MAX_PAYLOAD (256u * 1024u)   /* one batch's payload bound */
#define CRM_SCHEMA_VERSION 4

/* Seal every pending change into batches (commits on refs/nodes/<me>),
 * at most CRM_SEAL_MAX_PAYLOAD bytes of payload each.  Crash-safe: the pack
 * is written before the SQLite transaction that forgets the pending rows, and
 * re-sealing the same rows after a crash gives the same commits.
 * *batches (may be NULL) gets the number of commits made. */
int crm_seal(crm_store *st, size_t *batches);

/* Make the refs/nodes/ refs agree with crm_heads (after a crash between the SQLite
 * commit and the ref update). */
int crm_log_repair_refs(crm_store *st);

typedef struct crm_apply_report {
	size_t applied;       /* batches applied now */
	size_t known;         /* batches already applied before (no-op) */
	size_t changes;       /* field changes applied (won or lost) */
	size_t won;           /* of which became the current value */
	size_t forks;         /* nodes found forked (quarantined) */
	size_t skipped;       /* batches of quarantined nodes, kept but not applied */
} crm_apply_report;

/* Verify and apply the chains ending at the given heads (objects must already
 * be in the log).  Everything is verified before anything is applied; the
 * apply is one SQLite transaction.  Errors: CRM_EVERIFY (signature, hash,
 * chain), CRM_ENOTFOUND (a missing earlier batch), CRM_EDENIED (unknown or
 * revoked key) — each with a message naming the node and batch. */
int crm_apply_heads(crm_store *st, char *const *heads, size_t count, crm_apply_report *rep);

struct crm_batch;
typedef struct crm_apply_opts {
	/* Called for every verified batch before anything is applied; a negative
	 * return (with a message) refuses the whole apply. */
	int (*authorize)(void *ctx, crm_store *st, const char *author, const struct crm_batch *b);
	void *ctx;
	/* Set in crm_meta in the same transaction as the apply (a sync cursor). */
	const char *cursor_key;
	const char *cursor_value;
} crm_apply_opts;

/* crm_apply_heads with options (opts may be NULL). */
int crm_apply_heads_opts(crm_store *st, char *const *heads, size_t count, const crm_apply_opts *opts,
			 crm_apply_report *rep);

/* Trust: keys whose batches this replica accepts. */
int crm_trust_add(crm_store *st, const char *openssh_line, const char *name, const char *source,
		  char node_out[33]);

#endif
