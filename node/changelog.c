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
#include <openssl/evp.h>
#include <zlib.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PAYLOAD_NAME "changes.msgpack"

/* One commit's objects (commit, tree, blobs) as ready pack entries. */
typedef struct pack_entry {
	git_oid commit;
	size_t nobj;
	git_oid *oids;
	size_t *end;          /* end offset in data of object i's entry */
	uint8_t *data;
	size_t bytes;
	unsigned gen;         /* the crm_log_pack call that last used it */
} pack_entry;

#define PACK_CACHE_SLOTS 4096            /* direct-mapped by commit id */
#define PACK_CACHE_MAX_BYTES (32u << 20) /* cleared when it would grow past this */

struct crm_log {
	pack_entry *cache[PACK_CACHE_SLOTS];
	size_t cache_bytes;
	unsigned gen;
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

/* Open the repository and its object database, with the in-memory writer. */
static int open_repo(crm_log *log, const char *path, int create)
{
	git_refdb *refdb = NULL;
	/* Refs only mirror SQLite (crm_heads, crm_forks): crm_log_repair_refs
	 * puts a lost or stale node ref back after a crash, so the ref store
	 * is made without fsync (libgit2 fixes it when the store is created),
	 * two fewer per received batch; packs are still synced. */
	git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 0);
	int rc = create ? git_repository_init(&log->repo, path, 1) : git_repository_open_bare(&log->repo, path);
	if (rc == 0)
		rc = git_repository_refdb(&refdb, log->repo);
	git_refdb_free(refdb);
	git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 1);
	if (rc < 0)
		return git_fail(create ? "create repository" : "open repository");
	if (git_repository_odb(&log->odb, log->repo) < 0)
		return git_fail("open object database");
	if (git_mempack_new(&log->mempack) < 0 || git_odb_add_backend(log->odb, log->mempack, 999) < 0)
		return git_fail("set up in-memory object writer");
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
	err = open_repo(log, path, create);
	if (err < 0) {
		crm_log_free(log);
		return err;
	}
	*out = log;
	return 0;
}

static void entry_free(pack_entry *e)
{
	if (e) {
		free(e->oids);
		free(e->end);
		free(e->data);
		free(e);
	}
}

static void cache_clear(crm_log *log)
{
	for (size_t i = 0; i < PACK_CACHE_SLOTS; i++) {
		entry_free(log->cache[i]);
		log->cache[i] = NULL;
	}
	log->cache_bytes = 0;
}

void crm_log_free(crm_log *log)
{
	if (!log)
		return;
	cache_clear(log);
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

/* Append object id to e as a pack entry: type/size header, zlib data. */
static int entry_add(pack_entry *e, git_odb *odb, const git_oid *id, size_t *cap)
{
	git_odb_object *o = NULL;
	if (git_odb_read(&o, odb, id) < 0)
		return git_fail("read object to pack");
	size_t size = git_odb_object_size(o);
	uLongf zlen = compressBound((uLong)size);
	size_t need = e->bytes + 16 + zlen;
	int err = 0;
	if (need > *cap) {
		uint8_t *d = realloc(e->data, need * 2);
		if (d) {
			e->data = d;
			*cap = need * 2;
		}
	}
	git_oid *oids = realloc(e->oids, (e->nobj + 1) * sizeof(*oids));
	e->oids = oids ? oids : e->oids;
	size_t *end = realloc(e->end, (e->nobj + 1) * sizeof(*end));
	e->end = end ? end : e->end;
	if (need > *cap || !oids || !end)
		err = CRM_ERR(CRM_ENOMEM, "out of memory");
	if (err == 0) {
		uint8_t *p = e->data + e->bytes;
		size_t n = size;
		*p = (uint8_t)((git_odb_object_type(o) << 4) | (n & 0x0f));
		for (n >>= 4; n; n >>= 7) {
			*p++ |= 0x80;
			*p = n & 0x7f;
		}
		p++;
		if (compress2(p, &zlen, git_odb_object_data(o), (uLong)size, Z_DEFAULT_COMPRESSION) != Z_OK)
			err = CRM_ERR(CRM_ENOMEM, "cannot compress an object to pack");
		e->bytes = (size_t)(p - e->data) + zlen;
		git_oid_cpy(&e->oids[e->nobj], id);
		e->end[e->nobj++] = e->bytes;
	}
	git_odb_object_free(o);
	return err;
}

static size_t slot_of(const git_oid *id)
{
	return ((size_t)id->id[0] << 8 | id->id[1]) % PACK_CACHE_SLOTS;
}

/* The pack entries of commit id and its tree, from the cache or built and
 * kept.  An entry used by the pack being built (gen) is never evicted; one
 * that cannot be kept is freed by the caller (not in its slot). */
static int commit_entries(crm_log *log, const git_oid *id, pack_entry **out)
{
	size_t slot = slot_of(id), cap = 0;
	pack_entry *old = log->cache[slot];
	if (old && git_oid_equal(&old->commit, id)) {
		old->gen = log->gen;
		*out = old;
		return 0;
	}
	git_commit *c = NULL;
	git_tree *t = NULL;
	pack_entry *e = calloc(1, sizeof(*e));
	int err = e ? 0 : CRM_ERR(CRM_ENOMEM, "out of memory");
	if (err == 0 && (git_commit_lookup(&c, log->repo, id) < 0 || git_commit_tree(&t, c) < 0))
		err = git_fail("read commit to pack");
	if (err == 0) {
		git_oid_cpy(&e->commit, id);
		err = entry_add(e, log->odb, id, &cap);
	}
	if (err == 0)
		err = entry_add(e, log->odb, git_tree_id(t), &cap);
	for (size_t i = 0; err == 0 && i < git_tree_entrycount(t); i++) {
		const git_tree_entry *te = git_tree_entry_byindex(t, i);
		if (git_tree_entry_type(te) != GIT_OBJECT_BLOB)
			err = CRM_ERR(CRM_ECORRUPT, "batch %s holds a subtree", git_oid_tostr_s(id));
		else
			err = entry_add(e, log->odb, git_tree_entry_id(te), &cap);
	}
	git_tree_free(t);
	git_commit_free(c);
	if (err < 0) {
		entry_free(e);
		return err;
	}
	e->gen = log->gen;
	if ((!old || old->gen != log->gen) && log->cache_bytes - (old ? old->bytes : 0) + e->bytes <= PACK_CACHE_MAX_BYTES) {
		if (old) {
			log->cache_bytes -= old->bytes;
			entry_free(old);
		}
		log->cache[slot] = e;
		log->cache_bytes += e->bytes;
	}
	*out = e;
	return 0;
}

/* A pack of the commits and their trees and blobs, each object once, not
 * deltified: entries are deflated once and kept (a hub serves the same new
 * batches to every node), and the pack is their concatenation. */
int crm_log_pack(crm_log *log, uint8_t **out, size_t *len, char *const *oids, size_t count)
{
	pack_entry **es = calloc(count ? count : 1, sizeof(*es));
	git_oid *seen = NULL;
	size_t nseen = 0, total = 12 + 20, nobj = 0;
	int err = es ? 0 : CRM_ERR(CRM_ENOMEM, "out of memory");
	*out = NULL;
	log->gen++;
	if (log->cache_bytes > PACK_CACHE_MAX_BYTES / 4 * 3)
		cache_clear(log);   /* room for this pack's batches */
	for (size_t i = 0; err == 0 && i < count; i++) {
		git_oid id;
		if ((err = oid_parse(&id, oids[i])) == 0)
			err = commit_entries(log, &id, &es[i]);
		if (err == 0)
			total += es[i]->bytes;
		nobj += err == 0 ? es[i]->nobj : 0;
	}
	uint8_t *buf = err == 0 ? malloc(total) : NULL;
	if (err == 0 && (!buf || !(seen = malloc((nobj ? nobj : 1) * sizeof(*seen)))))
		err = CRM_ERR(CRM_ENOMEM, "out of memory");
	size_t at = 12, written = 0;
	for (size_t i = 0; err == 0 && i < count; i++) {
		pack_entry *e = es[i];
		for (size_t k = 0; k < e->nobj; k++) {
			size_t from = k ? e->end[k - 1] : 0, j = 0;
			while (j < nseen && !git_oid_equal(&seen[j], &e->oids[k]))
				j++;
			if (j < nseen)
				continue;   /* an object two batches share (same payload or attachment) */
			git_oid_cpy(&seen[nseen++], &e->oids[k]);
			memcpy(buf + at, e->data + from, e->end[k] - from);
			at += e->end[k] - from;
			written++;
		}
	}
	for (size_t i = 0; i < count && es; i++)   /* entries not kept */
		if (es[i] && log->cache[slot_of(&es[i]->commit)] != es[i])
			entry_free(es[i]);
	if (err == 0) {
		memcpy(buf, "PACK\0\0\0\2", 8);
		for (int b = 0; b < 4; b++)
			buf[8 + b] = (uint8_t)(written >> (24 - 8 * b));
		unsigned int dlen = 0;
		if (EVP_Digest(buf, at, buf + at, &dlen, EVP_sha1(), NULL) != 1)
			err = CRM_ERR(CRM_ECRYPTO, "cannot hash the pack");
		*len = at + 20;
	}
	free(seen);
	free(es);
	if (err < 0) {
		free(buf);
		return err;
	}
	*out = buf;
	return 0;
}

/* Smallest object in a pack: a one-byte type/size header and the shortest
 * zlib stream (8 bytes). */
#define PACK_MIN_OBJECT 9

int crm_log_import_pack(crm_log *log, const uint8_t *pack, size_t len)
{
	if (len < 32 || memcmp(pack, "PACK", 4) != 0)
		return CRM_ERR(CRM_ECORRUPT, "the change data is not a git packfile");
	uint32_t version = (uint32_t)pack[4] << 24 | (uint32_t)pack[5] << 16 | (uint32_t)pack[6] << 8 | pack[7];
	uint32_t objects = (uint32_t)pack[8] << 24 | (uint32_t)pack[9] << 16 | (uint32_t)pack[10] << 8 | pack[11];
	if (version != 2 && version != 3)
		return CRM_ERR(CRM_ECORRUPT, "the change data is damaged: git pack version %u", version);
	/* libgit2's indexer sizes its tables from the claimed count: a few bytes
	 * claiming millions of objects must not reach it. */
	if (objects > (len - 32) / PACK_MIN_OBJECT)
		return CRM_ERR(CRM_ECORRUPT, "the change data is damaged: its pack claims %u objects in %zu bytes",
			       objects, len);
	int err = write_pack(log, pack, len);
	return err < 0 ? CRM_ERR(CRM_ECORRUPT, "the change data is damaged: %s", crm_error_last()) : 0;
}

/* The object ids listed in a pack index (v2: magic, version, fan-out of
 * 256 counts, then the sorted ids), appended to *ids. */
static int idx_ids(const char *path, git_oid **ids, size_t *count)
{
	FILE *f = fopen(path, "rb");
	uint8_t head[8 + 256 * 4];
	int err = f && fread(head, 1, sizeof(head), f) == sizeof(head) && memcmp(head, "\377tOc\0\0\0\2", 8) == 0
		? 0 : CRM_ERR(CRM_ECORRUPT, "change log: cannot read pack index %s", path);
	const uint8_t *c = head + 8 + 255 * 4;
	size_t n = err == 0 ? (size_t)c[0] << 24 | (size_t)c[1] << 16 | (size_t)c[2] << 8 | c[3] : 0;
	git_oid *v = err == 0 ? realloc(*ids, (*count + n + 1) * sizeof(*v)) : NULL;
	if (err == 0 && !v)
		err = CRM_ERR(CRM_ENOMEM, "out of memory");
	for (size_t i = 0; err == 0 && i < n; i++) {
		uint8_t raw[20];
		if (fread(raw, 1, 20, f) != 20)
			err = CRM_ERR(CRM_ECORRUPT, "change log: pack index %s is short", path);
		else
			git_oid_fromraw(&v[*count + i], raw);
	}
	if (v)
		*ids = v;
	if (err == 0)
		*count += n;
	if (f)
		fclose(f);
	return err;
}

int crm_log_compact(crm_log *log, size_t max_small)
{
	char dir[4096], path[4400];
	char (*names)[64] = NULL;
	size_t n = 0, cap = 0, nids = 0;
	git_oid *ids = NULL;
	if (log->dirty)
		return 0;   /* unflushed objects: next time */
	snprintf(dir, sizeof(dir), "%sobjects/pack", git_repository_path(log->repo));
	DIR *d = opendir(dir);
	struct dirent *de;
	int err = d ? 0 : CRM_ERR(CRM_EIO, "change log: cannot list %s", dir);
	while (err == 0 && (de = readdir(d))) {
		size_t len = strlen(de->d_name);
		struct stat sb;
		if (len < 10 || len >= 60 || strncmp(de->d_name, "pack-", 5) || strcmp(de->d_name + len - 5, ".pack"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &sb) < 0 || sb.st_size >= (1 << 20))
			continue;
		if (n == cap) {
			char (*m)[64] = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof(*m));
			if (!m) {
				err = CRM_ERR(CRM_ENOMEM, "out of memory");
				break;
			}
			names = m;
		}
		snprintf(names[n++], 64, "%.*s", (int)(len - 5), de->d_name);
	}
	if (d)
		closedir(d);
	if (err < 0 || n <= max_small) {
		free(names);
		return err;
	}
	for (size_t i = 0; err == 0 && i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s.idx", dir, names[i]);
		err = idx_ids(path, &ids, &nids);
	}
	git_packbuilder *pb = NULL;
	git_buf pack = {0};
	if (err == 0 && git_packbuilder_new(&pb, log->repo) < 0)
		err = git_fail("pack builder");
	for (size_t i = 0; err == 0 && i < nids; i++)
		if (git_packbuilder_insert(pb, &ids[i], NULL) < 0)
			err = git_fail("pack objects to merge");
	if (err == 0 && git_packbuilder_write_buf(&pack, pb) < 0)
		err = git_fail("merge packs");
	if (err == 0)
		err = write_pack(log, pack.ptr, pack.size);   /* synced before the old ones go */
	git_buf_dispose(&pack);
	git_packbuilder_free(pb);
	free(ids);
	for (size_t i = 0; err == 0 && i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s.pack", dir, names[i]);
		unlink(path);
		snprintf(path, sizeof(path), "%s/%s.idx", dir, names[i]);
		unlink(path);
	}
	free(names);
	if (err < 0)
		return err;
	/* libgit2 keeps the deleted packs open: start afresh on the new one. */
	snprintf(path, sizeof(path), "%s", git_repository_path(log->repo));
	git_odb_free(log->odb);
	git_repository_free(log->repo);
	log->odb = NULL;
	log->repo = NULL;
	err = open_repo(log, path, 0);
	return err < 0 ? err : (int)n;
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
