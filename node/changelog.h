/*
 * changelog.h — the libgit2 adapter: the change log as a bare git repository
 * (log.git beside crm.db).  Every git_* call of libcrm lives in changelog.c.
 *
 * One commit = one sealed batch of changes: its tree holds the msgpack payload
 * ("changes.msgpack") and any attachment blobs of the batch; its message is a
 * readable summary with trailers (Node, Batch, Schema, Payload-SHA256); its
 * "gpgsig" header is an SSHSIG signature by the author's node key, so stock
 * `git verify-commit` (gpg.format=ssh) verifies it.  Each node's commits form
 * one chain, refs/nodes/<node-id>.
 *
 * New objects are written to an in-memory object database and land in the
 * repository as one packfile per crm_log_flush, never as loose objects.
 */
#ifndef CRM_CHANGELOG_H
#define CRM_CHANGELOG_H

#include <stddef.h>
#include <stdint.h>

#include "sign.h"

#define CRM_OID_HEX 40

typedef struct crm_log crm_log;

/* Open (creating a bare repository if `create`) the log at path. */
int crm_log_open(crm_log **out, const char *path, int create);
void crm_log_free(crm_log *log);   /* NULL-safe; unflushed objects are dropped */

/* Store a blob (buffered until flush). */
int crm_log_write_blob(crm_log *log, char oid[CRM_OID_HEX + 1], const void *data, size_t len);

typedef struct crm_commit_spec {
	const char *parent;          /* hex oid of the previous batch, or NULL for the first */
	const uint8_t *payload;      /* msgpack batch */
	size_t payload_len;
	const char *message;         /* full message including trailers */
	const char *author_name;     /* node name */
	const char *author_email;    /* "<node-id>@branchline" */
	int64_t time;                /* seconds since the epoch (from the batch clock) */
	const char *const *blobs;    /* attachment blob oids to carry in the tree */
	size_t blob_count;
} crm_commit_spec;

/* Create a commit signed by `key` (buffered until flush). Deterministic: the
 * same spec and key give the same oid. */
int crm_log_commit(crm_log *log, char oid[CRM_OID_HEX + 1], const crm_key *key,
		   const crm_commit_spec *spec);

/* Write buffered objects as one packfile (with index) into the repository. */
int crm_log_flush(crm_log *log);

/* refs/nodes/<node>: set (force) or read (CRM_ENOTFOUND if absent). */
int crm_log_set_ref(crm_log *log, const char *node, const char *oid);
int crm_log_get_ref(crm_log *log, const char *node, char oid[CRM_OID_HEX + 1]);
/* refs/forks/<node>/<oid>: keep a forked commit reachable (nothing discarded). */
int crm_log_keep_fork(crm_log *log, const char *node, const char *oid);

/* A commit as read back for verification. */
typedef struct crm_log_entry {
	char oid[CRM_OID_HEX + 1];
	char parent[CRM_OID_HEX + 1];   /* "" if none */
	int parent_count;
	char *message;
	uint8_t *payload;               /* "changes.msgpack" blob */
	size_t payload_len;
	char *signature;                /* armored SSHSIG from the gpgsig header, or NULL */
	char *signed_data;              /* the commit without its signature header */
	size_t signed_len;
	char **blobs;                   /* other blob oids in the tree (attachments) */
	size_t blob_count;
} crm_log_entry;

/* Read a commit; CRM_ENOTFOUND if absent, CRM_ECORRUPT if it is not a batch
 * commit (no changes.msgpack, payload over the codec limit, odd tree). */
int crm_log_read(crm_log *log, crm_log_entry *out, const char *oid);
void crm_log_entry_dispose(crm_log_entry *e);

/* The value of trailer `key` ("Node") in a commit message into out; CRM_ENOTFOUND. */
int crm_log_trailer(const char *message, const char *key, char *out, size_t cap);

/* A packfile holding the given commits with their trees and blobs. Caller frees *out. */
int crm_log_pack(crm_log *log, uint8_t **out, size_t *len, char *const *oids, size_t count);
/* Index a received packfile into the repository (checks its checksum). */
int crm_log_import_pack(crm_log *log, const uint8_t *pack, size_t len);

/* Every received chunk and every flush adds a packfile; a long-running hub
 * gathers thousands, and each object lookup and each new file gets slower.
 * When more than `max_small` packs under 1 MiB exist, put their objects into
 * one new pack (written and synced first), delete them and reopen the
 * repository.  Returns the number of packs merged (0: nothing to do). */
int crm_log_compact(crm_log *log, size_t max_small);

int crm_log_has(crm_log *log, const char *oid);
/* Size in bytes of an object, 0 if absent. */
size_t crm_log_object_size(crm_log *log, const char *oid);
int crm_log_read_blob(crm_log *log, const char *oid, uint8_t **out, size_t *len);

#endif
