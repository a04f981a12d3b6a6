/*
 * changelog.c — the change log in libgit2 (see changelog.h).
 *
 * Design notes
 *  1. Writes go to a mempack backend added above the repository's own; a
 *     flush packs the commits and lone blobs written since the last flush
 *     (packbuilder), streams the pack through the ODB's pack writer (which
 *     indexes it) and resets the mempack.  So sealing a thousand batches makes
 *     one pack, never thousands of loose objects.
 *  2. Commit content is deterministic: author and committer are the node with
 *     the batch's clock time, the tree is fixed by the payload, and Ed25519
 *     signatures are deterministic — re-sealing the same batch after a crash
 *     yields the same oid.
 *  3. This file trusts nothing it reads: the verifier (apply.c) checks the
 *     signature, trailers, payload hash and chain of everything returned here.
 */
#include "changelog.h"
#include "codec.h"
#include "error.h"

#include <git2.h>
#include <git2/sys/mempack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PAYLOAD_NAME "changes.msgpack"

struct crm_log {
	git_repository *repo;
	git_odb *odb;
	git_odb_backend *mempack;
	int dirty;
	git_oid *roots;       /* commits and lone blobs written since the last flush */
	int *root_is_commit;
	size_t root_count, root_cap;
};

/* Remember an object to pack at flush.  git_mempack_dump packs only commits
 * (with their trees and blobs), so lone blobs — attachments written before
 * the batch that carries them — are tracked here and packed explicitly. */
static int track(crm_log *log, const git_oid *id, int is_commit)
{
	if (log->root_count == log->root_cap) {
		size_t cap = log->root_cap ? log->root_cap * 2 : 16;
		git_oid *r = realloc(log->roots, cap * sizeof(*r));
		int *c = r ? realloc(log->root_is_commit, cap * sizeof(*c)) : NULL;
		if (r)
			log->roots = r;
		if (!c)
			return CRM_ERR(CRM_ENOMEM, "out of memory");
		log->root_is_commit = c;
		log->root_cap = cap;
	}
	git_oid_cpy(&log->roots[log->root_count], id);
	log->root_is_commit[log->root_count++] = is_commit;
	log->dirty = 1;
	return 0;
}

static int git_fail(const char *what)
{
	const git_error *e = git_error_last();
	return CRM_ERR(CRM_EGIT, "change log: %s: %s", what, e && e->message ? e->message : "unknown error");
}

static int lib_init(void)
{
	static int done;
	if (!done) {
		if (git_libgit2_init() < 0)
			return git_fail("init");
		/* Packs and refs must survive a power cut, not only a killed process. */
		git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 1);
		done = 1;
	}
	return 0;
}

int crm_log_open(crm_log **out, const char *path, int create)
{
	*out = NULL;
	int err = lib_init();
	if (err < 0)
		return err;
	crm_log *log = calloc(1, sizeof(*log));
	if (!log)
		return CRM_ERR(CRM_ENOMEM, "out of memory");
	int rc = create ? git_repository_init(&log->repo, path, 1)
			: git_repository_open_bare(&log->repo, path);
	if (rc < 0)
		err = git_fail(create ? "create repository" : "open repository");
	else if (git_repository_odb(&log->odb, log->repo) < 0)
		err = git_fail("open object database");
	else if (git_mempack_new(&log->mempack) < 0 || git_odb_add_backend(log->odb, log->mempack, 999) < 0)
		err = git_fail("set up in-memory object writer");
	if (err < 0) {
		crm_log_free(log);
		return err;
	}
	*out = log;
	return 0;
}

void crm_log_free(crm_log *log)
{
	if (!log)
		return;
	git_odb_free(log->odb);
	git_repository_free(log->repo);
	free(log->roots);
	free(log->root_is_commit);
	free(log);
}

static void hex_of(char out[CRM_OID_HEX + 1], const git_oid *oid)
{
	git_oid_tostr(out, CRM_OID_HEX + 1, oid);
}

static int oid_parse(git_oid *out, const char *hex)
{
	if (!hex || strlen(hex) != CRM_OID_HEX || git_oid_fromstr(out, hex) < 0)
		return CRM_ERR(CRM_ECORRUPT, "'%s' is not a git object id", hex ? hex : "(null)");
	return 0;
}

int crm_log_write_blob(crm_log *log, char oid[CRM_OID_HEX + 1], const void *data, size_t len)
{
	git_oid id;
	if (git_blob_create_from_buffer(&id, log->repo, data, len) < 0)
		return git_fail("write blob");
	hex_of(oid, &id);
	return track(log, &id, 0);
}

/* Tree: changes.msgpack + attachment blobs named by their oid. */
static int build_tree(crm_log *log, git_oid *tree_id, const git_oid *payload, const crm_commit_spec *s)
{
	git_treebuilder *tb = NULL;
	int err = 0;
	if (git_treebuilder_new(&tb, log->repo, NULL) < 0)
		return git_fail("tree builder");
	if (git_treebuilder_insert(NULL, tb, PAYLOAD_NAME, payload, GIT_FILEMODE_BLOB) < 0)
		err = git_fail("tree insert");
	for (size_t i = 0; err == 0 && i < s->blob_count; i++) {
		git_oid b;
		if ((err = oid_parse(&b, s->blobs[i])) == 0 &&
		    git_treebuilder_insert(NULL, tb, s->blobs[i], &b, GIT_FILEMODE_BLOB) < 0)
			err = git_fail("tree insert attachment");
	}
	if (err == 0 && git_treebuilder_write(tree_id, tb) < 0)
		err = git_fail("write tree");
	git_treebuilder_free(tb);
	return err;
}

/* The unsigned commit text for spec. */
static int commit_buffer(crm_log *log, git_buf *buf, const git_oid *tree_id, const crm_commit_spec *s)
{
	git_signature *who = NULL;
	git_tree *tree = NULL;
	git_commit *parent = NULL;
	git_oid pid;
	int err = 0;
	if (git_signature_new(&who, s->author_name, s->author_email, (git_time_t)s->time, 0) < 0)
		return git_fail("author");
	if (git_tree_lookup(&tree, log->repo, tree_id) < 0)
		err = git_fail("tree lookup");
	if (err == 0 && s->parent && (err = oid_parse(&pid, s->parent)) == 0 &&
	    git_commit_lookup(&parent, log->repo, &pid) < 0)
		err = git_fail("parent commit lookup");
	const git_commit *parents[1] = {parent};
	if (err == 0 && git_commit_create_buffer(buf, log->repo, who, who, NULL, s->message, tree,
						 parent ? 1 : 0, parents) < 0)
		err = git_fail("build commit");
	git_commit_free(parent);
	git_tree_free(tree);
	git_signature_free(who);
	return err;
}

int crm_log_commit(crm_log *log, char oid[CRM_OID_HEX + 1], const crm_key *key,
		   const crm_commit_spec *s)
{
	git_oid payload, tree_id, commit_id;
	git_buf buf = {0};
	char *sig = NULL;
	int err = 0;
	if (git_blob_create_from_buffer(&payload, log->repo, s->payload, s->payload_len) < 0)
		return git_fail("write payload");
	err = build_tree(log, &tree_id, &payload, s);
	if (err == 0)
		err = commit_buffer(log, &buf, &tree_id, s);
	if (err == 0)
		err = crm_sshsig_sign(&sig, key, "git", buf.ptr, buf.size);
	if (err == 0 && git_commit_create_with_signature(&commit_id, log->repo, buf.ptr, sig, "gpgsig") < 0)
		err = git_fail("write signed commit");
	if (err == 0)
		err = track(log, &commit_id, 1);
	if (err == 0)
		hex_of(oid, &commit_id);
	free(sig);
	git_buf_dispose(&buf);
	return err;
}

/* Stream a packfile into the repository's pack store (indexes it). */
static int write_pack(crm_log *log, const void *data, size_t len)
{
	git_odb_writepack *wp = NULL;
	git_indexer_progress stats = {0};
	int err = 0;
	if (git_odb_write_pack(&wp, log->odb, NULL, NULL) < 0)
		return git_fail("open pack writer");
	if (wp->append(wp, data, len, &stats) < 0 || wp->commit(wp, &stats) < 0)
		err = git_fail("write pack");
	wp->free(wp);
	return err;
}

int crm_log_flush(crm_log *log)
{
	if (!log->dirty)
		return 0;
	git_packbuilder *pb = NULL;
	git_buf pack = {0};
	int err = 0;
	if (git_packbuilder_new(&pb, log->repo) < 0)
		return git_fail("pack builder");
	for (size_t i = 0; err == 0 && i < log->root_count; i++) {
		int rc = log->root_is_commit[i] ? git_packbuilder_insert_commit(pb, &log->roots[i])
						: git_packbuilder_insert(pb, &log->roots[i], NULL);
		if (rc < 0)
			err = git_fail("pack new objects");
	}
	if (err == 0 && git_packbuilder_write_buf(&pack, pb) < 0)
		err = git_fail("write new objects");
	if (err == 0)
		err = write_pack(log, pack.ptr, pack.size);
	git_buf_dispose(&pack);
	git_packbuilder_free(pb);
	if (err == 0) {
		git_mempack_reset(log->mempack);
		log->dirty = 0;
		log->root_count = 0;
	}
	return err;
}

/* Callers hold the replica's SQLite write lock (every ref update happens
 * inside a write transaction), so no other crm process is updating a ref: a
 * ref's ".lock" file found now was left by a killed process and is removed. */
static int set_ref_name(crm_log *log, const char *name, const char *oid, const char *why)
{
	git_oid id;
	git_reference *ref = NULL;
	int err = oid_parse(&id, oid);
	if (err < 0)
		return err;
	int rc = git_reference_create(&ref, log->repo, name, &id, 1, why);
	if (rc == GIT_ELOCKED || rc == GIT_ERROR) {
		char lock[4096];
		snprintf(lock, sizeof(lock), "%s%s.lock", git_repository_path(log->repo), name);
		if (unlink(lock) == 0)
			rc = git_reference_create(&ref, log->repo, name, &id, 1, why);
	}
	if (rc < 0)
		err = git_fail("update ref");
	git_reference_free(ref);
	return err;
}

int crm_log_set_ref(crm_log *log, const char *node, const char *oid)
{
	char name[128];
	snprintf(name, sizeof(name), "refs/nodes/%s", node);
	return set_ref_name(log, name, oid, "batch");
}

int crm_log_keep_fork(crm_log *log, const char *node, const char *oid)
{
	char name[160];
	snprintf(name, sizeof(name), "refs/forks/%s/%s", node, oid);
	return set_ref_name(log, name, oid, "fork kept");
}

int crm_log_get_ref(crm_log *log, const char *node, char oid[CRM_OID_HEX + 1])
{
	char name[128];
	git_oid id;
	snprintf(name, sizeof(name), "refs/nodes/%s", node);
	int rc = git_reference_name_to_id(&id, log->repo, name);
	if (rc == GIT_ENOTFOUND)
		return CRM_ENOTFOUND;
	if (rc < 0)
		return git_fail("read ref");
	hex_of(oid, &id);
	return 0;
}

static char *dup_n(const char *s, size_t n)
{
	char *p = malloc(n + 1);
	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

/* Fill payload and attachment blob list from the commit's tree. */
static int read_tree(crm_log *log, crm_log_entry *e, git_commit *c)
{
	git_tree *tree = NULL;
	git_blob *blob = NULL;
	int err = 0;
	if (git_commit_tree(&tree, c) < 0)
		return git_fail("read tree");
	size_t n = git_tree_entrycount(tree);
	const git_tree_entry *pe = git_tree_entry_byname(tree, PAYLOAD_NAME);
	if (!pe || git_tree_entry_type(pe) != GIT_OBJECT_BLOB || n > 1001)
		err = CRM_ERR(CRM_ECORRUPT, "commit %s is not a change batch (no %s)", e->oid, PAYLOAD_NAME);
	if (err == 0 && git_blob_lookup(&blob, log->repo, git_tree_entry_id(pe)) < 0)
		err = git_fail("read payload");
	if (err == 0 && (size_t)git_blob_rawsize(blob) > CRM_BATCH_MAX_BYTES)
		err = CRM_ERR(CRM_ELIMIT, "commit %s: payload over %u bytes", e->oid, CRM_BATCH_MAX_BYTES);
	if (err == 0) {
		e->payload_len = (size_t)git_blob_rawsize(blob);
		e->payload = malloc(e->payload_len ? e->payload_len : 1);
		if (!e->payload)
			err = CRM_ERR(CRM_ENOMEM, "out of memory");
		else
			memcpy(e->payload, git_blob_rawcontent(blob), e->payload_len);
	}
	if (err == 0 && n > 1 && !(e->blobs = calloc(n - 1, sizeof(char *))))
		err = CRM_ERR(CRM_ENOMEM, "out of memory");
	for (size_t i = 0; err == 0 && i < n; i++) {
		const git_tree_entry *te = git_tree_entry_byindex(tree, i);
		if (te == pe)
			continue;
		if (git_tree_entry_type(te) != GIT_OBJECT_BLOB)
			err = CRM_ERR(CRM_ECORRUPT, "commit %s: unexpected tree entry", e->oid);
		else if (!(e->blobs[e->blob_count] = malloc(CRM_OID_HEX + 1)))
			err = CRM_ERR(CRM_ENOMEM, "out of memory");
		else
			hex_of(e->blobs[e->blob_count++], git_tree_entry_id(te));
	}
	git_blob_free(blob);
	git_tree_free(tree);
	return err;
}

static int read_signature(crm_log *log, crm_log_entry *e, git_oid *id)
{
	git_buf sig = {0}, data = {0};
	int rc = git_commit_extract_signature(&sig, &data, log->repo, id, "gpgsig");
	int err = 0;
	if (rc == GIT_ENOTFOUND)
		err = 0;    /* unsigned: the verifier refuses it with a clear message */
	else if (rc < 0)
		err = git_fail("read signature");
	else if (!(e->signature = dup_n(sig.ptr, sig.size)) || !(e->signed_data = dup_n(data.ptr, data.size)))
		err = CRM_ERR(CRM_ENOMEM, "out of memory");
	else
		e->signed_len = data.size;
	git_buf_dispose(&sig);
	git_buf_dispose(&data);
	return err;
}

int crm_log_read(crm_log *log, crm_log_entry *e, const char *oid)
{
	git_oid id;
	git_commit *c = NULL;
	memset(e, 0, sizeof(*e));
	int err = oid_parse(&id, oid);
	if (err < 0)
		return err;
	snprintf(e->oid, sizeof(e->oid), "%s", oid);
	int rc = git_commit_lookup(&c, log->repo, &id);
	if (rc == GIT_ENOTFOUND)
		return CRM_ERR(CRM_ENOTFOUND, "commit %s is not in the change log", oid);
	if (rc < 0)
		return git_fail("read commit");
	e->parent_count = (int)git_commit_parentcount(c);
	if (e->parent_count == 1)
		hex_of(e->parent, git_commit_parent_id(c, 0));
	if (!(e->message = strdup(git_commit_message_raw(c))))
		err = CRM_ERR(CRM_ENOMEM, "out of memory");
	if (err == 0)
		err = read_tree(log, e, c);
	if (err == 0)
		err = read_signature(log, e, &id);
	git_commit_free(c);
	if (err < 0)
		crm_log_entry_dispose(e);
	return err;
}

void crm_log_entry_dispose(crm_log_entry *e)
{
	free(e->message);
	free(e->payload);
	free(e->signature);
	free(e->signed_data);
	for (size_t i = 0; i < e->blob_count; i++)
		free(e->blobs[i]);
	free(e->blobs);
	memset(e, 0, sizeof(*e));
}

int crm_log_trailer(const char *message, const char *key, char *out, size_t cap)
{
	git_message_trailer_array arr = {0};
	if (git_message_trailers(&arr, message) < 0)
		return git_fail("parse trailers");
	int err = CRM_ENOTFOUND;
	for (size_t i = 0; i < arr.count; i++) {
		if (strcmp(arr.trailers[i].key, key) == 0) {
			snprintf(out, cap, "%s", arr.trailers[i].value);
			err = 0;
		}
	}
	git_message_trailer_array_free(&arr);
	return err;
}

int crm_log_pack(crm_log *log, uint8_t **out, size_t *len, char *const *oids, size_t count)
{
	git_packbuilder *pb = NULL;
	git_buf buf = {0};
	int err = 0;
	*out = NULL;
	if (git_packbuilder_new(&pb, log->repo) < 0)
		return git_fail("pack builder");
	for (size_t i = 0; err == 0 && i < count; i++) {
		git_oid id;
		if ((err = oid_parse(&id, oids[i])) == 0 && git_packbuilder_insert_commit(pb, &id) < 0)
			err = git_fail("pack commit");
	}
	if (err == 0 && git_packbuilder_write_buf(&buf, pb) < 0)
		err = git_fail("write pack");
	if (err == 0 && !(*out = malloc(buf.size)))
		err = CRM_ERR(CRM_ENOMEM, "out of memory");
	if (err == 0) {
		memcpy(*out, buf.ptr, buf.size);
		*len = buf.size;
	}
	git_buf_dispose(&buf);
	git_packbuilder_free(pb);
	return err;
}

int crm_log_import_pack(crm_log *log, const uint8_t *pack, size_t len)
{
	if (len < 32 || memcmp(pack, "PACK", 4) != 0)
		return CRM_ERR(CRM_ECORRUPT, "the change data is not a git packfile");
	int err = write_pack(log, pack, len);
	return err < 0 ? CRM_ERR(CRM_ECORRUPT, "the change data is damaged: %s", crm_error_last()) : 0;
}

int crm_log_has(crm_log *log, const char *oid)
{
	git_oid id;
	return oid_parse(&id, oid) == 0 && git_odb_exists(log->odb, &id);
}

size_t crm_log_object_size(crm_log *log, const char *oid)
{
	git_oid id;
	size_t len = 0;
	git_object_t type;
	if (oid_parse(&id, oid) < 0 || git_odb_read_header(&len, &type, log->odb, &id) < 0) {
		crm_error_clear();
		return 0;
	}
	return len;
}

int crm_log_read_blob(crm_log *log, const char *oid, uint8_t **out, size_t *len)
{
	git_oid id;
	git_blob *b = NULL;
	int err = oid_parse(&id, oid);
	*out = NULL;
	if (err < 0)
		return err;
	if (git_blob_lookup(&b, log->repo, &id) < 0)
		return CRM_ERR(CRM_ENOTFOUND, "no file %s in the change log", oid);
	*len = (size_t)git_blob_rawsize(b);
	if (!(*out = malloc(*len ? *len : 1)))
		err = CRM_ERR(CRM_ENOMEM, "out of memory");
	else
		memcpy(*out, git_blob_rawcontent(b), *len);
	git_blob_free(b);
	return err;
}
