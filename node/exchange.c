/*
 * exchange.c — export-changes / import-changes files (see exchange.h and
 * docs/PROTOCOL.md, "Exchange file").
 */
#include "exchange.h"
#include "codec.h"
#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct oids {
	char **v;
	size_t count, cap;
} oids;

static int oids_push(oids *o, const char *s)
{
	if (o->count == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 64;
		char **n = realloc(o->v, cap * sizeof(*n));
		if (!n)
			return CRM_ERR(CRM_ENOMEM, "out of memory");
		o->v = n;
		o->cap = cap;
	}
	if (!(o->v[o->count] = strdup(s)))
		return CRM_ERR(CRM_ENOMEM, "out of memory");
	o->count++;
	return 0;
}

static void oids_free(oids *o)
{
	for (size_t i = 0; i < o->count; i++)
		free(o->v[i]);
	free(o->v);
}

/* What to put in a change file. */
typedef struct selection {
	uint64_t since;
	int own;                  /* only this replica's own batches, by seq */
	const char *exclude;      /* leave out this node's batches ("" = none) */
	size_t max_bytes;         /* payload budget (0 = all) */
	int more;                 /* out: batches were left out */
} selection;

static int add_head(crm_envelope *env, const char *node, uint64_t seq, const char *oid)
{
	size_t h = 0;
	while (h < env->head_count && strcmp(env->heads[h].node, node) != 0)
		h++;
	if (h == env->head_count) {
		crm_env_head *n = realloc(env->heads, (h + 1) * sizeof(*n));
		if (!n)
			return CRM_ERR(CRM_ENOMEM, "out of memory");
		env->heads = n;
		env->head_count++;
		snprintf(n[h].node, sizeof(n[h].node), "%s", node);
		n[h].seq = 0;
	}
	if (seq > env->heads[h].seq) {
		env->heads[h].seq = seq;
		snprintf(env->heads[h].oid, sizeof(env->heads[h].oid), "%s", oid);
	}
	return 0;
}

/* Batches of the selection, the newest head of each node among them. */
static int collect(crm_store *st, selection *sel, oids *all, crm_envelope *env, uint64_t *cursor)
{
	sqlite3_stmt *q;
	crm_db *db = crm_store_db(st);
	int err = crm_db_prepare(db, &q, sel->own
		? "SELECT oid, node, seq, seq, size FROM crm_applied WHERE node = ?2 AND seq > ?1 AND held ORDER BY seq"
		: "SELECT oid, node, seq, lseq, size FROM crm_applied WHERE lseq > ?1 AND node <> ?2 AND held "
		  "ORDER BY lseq");
	if (err < 0)
		return err;
	sqlite3_bind_int64(q, 1, (int64_t)sel->since);
	sqlite3_bind_text(q, 2, sel->own ? crm_store_node_id(st) : sel->exclude ? sel->exclude : "", -1, SQLITE_STATIC);
	*cursor = sel->since;
	size_t bytes = 0;
	while (err == 0 && (err = crm_db_step(db, q)) == 1) {
		if (sel->max_bytes && all->count > 0 && bytes + (size_t)sqlite3_column_int64(q, 4) > sel->max_bytes) {
			sel->more = 1;
			break;
		}
		bytes += (size_t)sqlite3_column_int64(q, 4);
		*cursor = (uint64_t)sqlite3_column_int64(q, 3);
		err = oids_push(all, (const char *)sqlite3_column_text(q, 0));
		if (err == 0)
			err = add_head(env, (const char *)sqlite3_column_text(q, 1), (uint64_t)sqlite3_column_int64(q, 2),
				       (const char *)sqlite3_column_text(q, 0));
	}
	sqlite3_reset(q);
	return err < 0 ? err : 0;
}

/* The public keys of the heads' authors (for the receiver's information; it
 * only trusts keys it was given). */
static int collect_keys(crm_store *st, crm_envelope *env)
{
	if (env->head_count && !(env->keys = calloc(env->head_count, sizeof(*env->keys))))
		return CRM_ERR(CRM_ENOMEM, "out of memory");
	for (size_t i = 0; i < env->head_count; i++) {
		char *line = NULL, *name = NULL;
		crm_db_get_text(crm_store_db(st), &line, "SELECT pubkey FROM crm_keys WHERE node = ?1", env->heads[i].node);
		crm_db_get_text(crm_store_db(st), &name, "SELECT name FROM crm_keys WHERE node = ?1", env->heads[i].node);
		if (!line) {
			free(name);
			continue;
		}
		crm_env_key *k = &env->keys[env->key_count++];
		snprintf(k->node, sizeof(k->node), "%s", env->heads[i].node);
		k->pubkey = line;
		k->name = name ? name : strdup("");
	}
	crm_error_clear();
	return 0;
}

static int write_atomic(const char *path, const uint8_t *data, size_t len)
{
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return CRM_ERR(CRM_EIO, "cannot write %s: %s", path, strerror(errno));
	size_t off = 0;
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	int ok = off == len && fsync(fd) == 0;
	ok = close(fd) == 0 && ok;
	if (!ok || rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return CRM_ERR(CRM_EIO, "cannot write %s: %s", path, strerror(e));
	}
	return 0;
}

static void envelope_dispose(crm_envelope *env)
{
	for (size_t i = 0; i < env->key_count; i++) {
		free(env->keys[i].pubkey);
		free(env->keys[i].name);
	}
	free(env->keys);
	free(env->heads);
}

/* Build a change file in memory for the selection. */
static int build(crm_store *st, selection *sel, uint8_t **file, size_t *file_len, uint64_t *cursor, size_t *batches,
		 size_t *nodes)
{
	crm_envelope env = {0};
	oids all = {0};
	uint8_t *pack = NULL;
	size_t pack_len = 0;
	crm_log *log;
	int err = crm_store_log(st, &log);
	if (err == 0)
		err = collect(st, sel, &all, &env, cursor);
	if (err == 0)
		err = crm_log_pack(log, &pack, &pack_len, all.v, all.count);
	if (err == 0)
		err = collect_keys(st, &env);
	if (err == 0) {
		snprintf(env.from, sizeof(env.from), "%s", crm_store_node_id(st));
		env.cursor = *cursor;
		env.pack = pack;
		env.pack_len = pack_len;
		err = crm_envelope_encode(file, file_len, &env);
	}
	*batches = all.count;
	*nodes = env.head_count;
	free(pack);
	envelope_dispose(&env);
	oids_free(&all);
	return err;
}

int crm_export_changes(crm_store *st, const char *path, uint64_t since, crm_export_report *rep)
{
	selection sel = {.since = since};
	uint8_t *file = NULL;
	size_t file_len = 0;
	memset(rep, 0, sizeof(*rep));
	int err = crm_seal(st, NULL);
	if (err == 0)
		err = build(st, &sel, &file, &file_len, &rep->cursor, &rep->batches, &rep->nodes);
	if (err == 0)
		err = write_atomic(path, file, file_len);
	if (err == 0)
		rep->bytes = file_len;
	free(file);
	return err;
}

int crm_export_buffer(crm_store *st, uint64_t since, int own, const char *exclude_node, size_t max_bytes,
		      uint8_t **out, size_t *len, uint64_t *cursor_out, size_t *batches, int *more)
{
	selection sel = {.since = since, .own = own, .exclude = exclude_node, .max_bytes = max_bytes};
	size_t nodes;
	*out = NULL;
	int err = build(st, &sel, out, len, cursor_out, batches, &nodes);
	*more = sel.more;
	return err;
}

static int read_file(const char *path, uint8_t **out, size_t *len)
{
	struct stat sb;
	*out = NULL;
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return CRM_ERR(errno == ENOENT ? CRM_ENOTFOUND : CRM_EIO, "cannot read %s: %s", path, strerror(errno));
	int err = 0;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode))
		err = CRM_ERR(CRM_EINVAL, "%s is not a regular file", path);
	else if ((uint64_t)sb.st_size > CRM_EXCHANGE_MAX_FILE)
		err = CRM_ERR(CRM_ELIMIT, "%s is too large (%lld bytes)", path, (long long)sb.st_size);
	else if (!(*out = malloc((size_t)sb.st_size + 1)))
		err = CRM_ERR(CRM_ENOMEM, "out of memory");
	size_t off = 0;
	while (err == 0 && off < (size_t)sb.st_size) {
		ssize_t n = read(fd, *out + off, (size_t)sb.st_size - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			err = CRM_ERR(CRM_EIO, "cannot read %s: %s", path, n < 0 ? strerror(errno) : "file shrank");
		else
			off += (size_t)n;
	}
	close(fd);
	if (err < 0) {
		free(*out);
		*out = NULL;
	}
	*len = off;
	return err;
}

int crm_import_buffer(crm_store *st, const uint8_t *data, size_t len, const crm_apply_opts *opts,
		      crm_apply_report *rep, uint64_t *cursor_out)
{
	crm_envelope *env = NULL;
	crm_log *log;
	char **heads = NULL;
	memset(rep, 0, sizeof(*rep));
	int err = crm_envelope_decode(&env, data, len);
	if (err < 0)
		return err;
	if (cursor_out)
		*cursor_out = env->cursor;
	err = crm_store_log(st, &log);
	if (err == 0 && env->head_count > 0)
		err = crm_log_import_pack(log, env->pack, env->pack_len);
	if (err == 0 && env->head_count > 0 && !(heads = calloc(env->head_count, sizeof(char *))))
		err = CRM_ERR(CRM_ENOMEM, "out of memory");
	for (size_t i = 0; err == 0 && i < env->head_count; i++)
		heads[i] = env->heads[i].oid;
	if (err == 0)
		err = crm_apply_heads_opts(st, heads, env->head_count, opts, rep);
	free(heads);
	crm_envelope_free(env);
	return err;
}

int crm_import_changes(crm_store *st, const char *path, crm_apply_report *rep)
{
	uint8_t *data = NULL;
	size_t len = 0;
	memset(rep, 0, sizeof(*rep));
	int err = read_file(path, &data, &len);
	if (err == 0 && (err = crm_import_buffer(st, data, len, NULL, rep, NULL)) < 0) {
		if (err == CRM_ECORRUPT)
			err = CRM_ERR(err, "%s is not a complete Branchline change file (%s)", path, crm_error_last());
		else
			err = CRM_ERR(err, "%s: %s", path, crm_error_last());
	}
	free(data);
	return err;
}
