/*
 * snapshot.c — make and install hub snapshots (see snapshot.h).
 *
 * Design notes
 *  1. Make: VACUUM INTO copies the replica in one read transaction, so the
 *     copy is consistent and its newest crm_applied position is the cursor.
 *     The hub's local tables are then emptied with secure_delete and the
 *     copy vacuumed again, so no token secret survives in a free page.
 *  2. Install: the trailer is checked first (hash of the compressed bytes,
 *     signature by the pinned hub key), then they are inflated (bounded)
 *     beside the replica, and the database must pass quick_check and carry
 *     this build's schema version.
 *     Everything is copied in one transaction of the replica; any failure
 *     rolls it back and the replica stays as empty as it was.
 *  3. Trust: the node cannot verify the per-commit signatures of history it
 *     never receives; it trusts the hub (its pinned key) for the state up to
 *     the cursor, and verifies every batch after it end to end as before.
 *     The batches inside are recorded in crm_applied with held = 0: known
 *     (so chains continue and forks are seen) but not held, so they are
 *     never exported, and their refs are not set.
 */
#include "snapshot.h"
#include "codec.h"
#include "error.h"
#include "seal.h"
#include "sign.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* Bookkeeping tables a snapshot carries besides the replicated ones. */
static const char *const carried[] = {"crm_clock", "crm_extra", "crm_stage_writes", "crm_alias", "crm_heads",
				      "crm_forks"};
/* Local tables of the source that a snapshot never carries. */
static const char *const local[] = {"crm_meta", "crm_pending", "crm_conflicts", "crm_hub_tokens", "crm_hub_nodes",
				    "crm_hub_nonces", "crm_hub_moves"};

static int sql_fail(sqlite3 *db, const char *what)
{
	return CRM_ERR(CRM_EDB, "snapshot: %s: %s", what, sqlite3_errmsg(db));
}

static void message(char *out, size_t cap, const char *hub, uint64_t cursor, const char *sha, uint64_t size)
{
	snprintf(out, cap, "BRANCHLINE-SNAPSHOT-1\n%s\n%" PRIu64 "\n%s\n%" PRIu64, hub, cursor, sha, size);
}

/* SHA-256 (hex) of the first len bytes of the open file fd. */
static int hash_fd(int fd, uint64_t len, char hex[65])
{
	crm_sha256_ctx *h;
	uint8_t buf[65536], d[CRM_SHA256_LEN];
	int err = crm_sha256_new(&h);
	uint64_t off = 0;
	while (err == 0 && off < len) {
		size_t want = len - off < sizeof(buf) ? (size_t)(len - off) : sizeof(buf);
		ssize_t n = pread(fd, buf, want, (off_t)off);
		if (n <= 0)
			err = CRM_ERR(CRM_ECORRUPT, "snapshot is shorter than it says");
		else {
			crm_sha256_update(h, buf, (size_t)n);
			off += (uint64_t)n;
		}
	}
	crm_sha256_final(h, d);
	if (err == 0)
		crm_hex(hex, d, sizeof(d));
	return err;
}

/* Deflate (compress = 1) or inflate in_len bytes of in_fd into out_fd;
 * inflating stops with CRM_ELIMIT past max_out bytes (a decompression bomb)
 * and with CRM_ECORRUPT on damaged or short data. */
static int zcopy(int in_fd, uint64_t in_len, int out_fd, int compress, uint64_t max_out)
{
	static uint8_t in[65536], out[65536];   /* not reentrant: one snapshot at a time */
	z_stream z;
	memset(&z, 0, sizeof(z));
	if ((compress ? deflateInit(&z, 6) : inflateInit(&z)) != Z_OK)
		return CRM_ERR(CRM_ENOMEM, "cannot start zlib");
	uint64_t off = 0, produced = 0;
	int err = 0, rc = Z_OK;
	while (err == 0 && rc != Z_STREAM_END) {
		if (z.avail_in == 0 && off < in_len) {
			size_t want = in_len - off < sizeof(in) ? (size_t)(in_len - off) : sizeof(in);
			ssize_t n = pread(in_fd, in, want, (off_t)off);
			if (n <= 0) {
				err = CRM_ERR(CRM_EIO, "cannot read the snapshot");
				break;
			}
			off += (uint64_t)n;
			z.next_in = in;
			z.avail_in = (uInt)n;
		}
		int last = off == in_len && z.avail_in == 0;
		if (!compress && last && rc == Z_BUF_ERROR) {
			err = CRM_ERR(CRM_ECORRUPT, "the snapshot is truncated (its compressed data ends early)");
			break;
		}
		z.next_out = out;
		z.avail_out = sizeof(out);
		rc = compress ? deflate(&z, last ? Z_FINISH : Z_NO_FLUSH) : inflate(&z, Z_NO_FLUSH);
		if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
			err = CRM_ERR(CRM_ECORRUPT, "the snapshot's compressed data is damaged");
		size_t got = sizeof(out) - z.avail_out;
		produced += got;
		if (err == 0 && !compress && produced > max_out)
			err = CRM_ERR(CRM_ELIMIT, "the snapshot expands past %llu bytes", (unsigned long long)max_out);
		if (err == 0 && got && write(out_fd, out, got) != (ssize_t)got)
			err = CRM_ERR(CRM_EIO, "cannot write the snapshot: %s", strerror(errno));
		if (err == 0 && !compress && last && rc == Z_BUF_ERROR && got == 0)
			err = CRM_ERR(CRM_ECORRUPT, "the snapshot is truncated (its compressed data ends early)");
	}
	if (err == 0 && !compress && (off < in_len || z.avail_in))
		err = CRM_ERR(CRM_ECORRUPT, "the snapshot has data after its compressed database");
	if (compress)
		deflateEnd(&z);
	else
		inflateEnd(&z);
	return err;
}

/* Empty the source's local tables, describe the copy, vacuum. */
static int strip_copy(const char *path, uint64_t *cursor)
{
	sqlite3 *db = NULL;
	char sql[256];
	int err = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK ? 0 : sql_fail(db, "open copy");
	if (err == 0 && sqlite3_exec(db, "PRAGMA journal_mode=DELETE; PRAGMA secure_delete=ON; BEGIN", NULL, NULL,
				     NULL) != SQLITE_OK)
		err = sql_fail(db, "prepare copy");
	for (size_t i = 0; err == 0 && i < sizeof(local) / sizeof(local[0]); i++) {
		snprintf(sql, sizeof(sql), "DELETE FROM \"%s\"", local[i]);
		if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
			err = sql_fail(db, "strip local tables");
	}
	sqlite3_stmt *q = NULL;
	if (err == 0 && sqlite3_prepare_v2(db, "SELECT coalesce(max(lseq), 0) FROM crm_applied", -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW)
		*cursor = (uint64_t)sqlite3_column_int64(q, 0);
	else if (err == 0)
		err = sql_fail(db, "read cursor");
	sqlite3_finalize(q);
	if (err == 0 && sqlite3_exec(db, "COMMIT; VACUUM", NULL, NULL, NULL) != SQLITE_OK)
		err = sql_fail(db, "vacuum copy");
	sqlite3_close(db);
	return err;
}

int crm_snapshot_make(crm_store *st, const char *path, uint64_t *cursor, uint64_t *bytes)
{
	sqlite3 *h = crm_db_handle(crm_store_db(st));
	sqlite3_stmt *q = NULL;
	struct stat sb;
	*cursor = 0;
	*bytes = 0;
	if (stat(path, &sb) == 0)
		return CRM_ERR(CRM_EEXISTS, "%s exists already", path);
	char raw[4200];
	snprintf(raw, sizeof(raw), "%s.db", path);
	unlink(raw);
	int err = crm_seal(st, NULL);   /* the hub's own writes belong in it */
	if (err == 0 && (sqlite3_prepare_v2(h, "VACUUM INTO ?1", -1, &q, NULL) != SQLITE_OK ||
			 sqlite3_bind_text(q, 1, raw, -1, SQLITE_STATIC) != SQLITE_OK || sqlite3_step(q) != SQLITE_DONE))
		err = sql_fail(h, "copy the replica");
	sqlite3_finalize(q);
	if (err == 0)
		err = strip_copy(raw, cursor);
	int in = err == 0 ? open(raw, O_RDONLY) : -1;
	if (err == 0 && (in < 0 || fstat(in, &sb) < 0))
		err = CRM_ERR(CRM_EIO, "cannot reopen %s: %s", raw, strerror(errno));
	if (err == 0 && (uint64_t)sb.st_size > CRM_SNAPSHOT_MAX)
		err = CRM_ERR(CRM_ELIMIT, "the snapshot would be %lld bytes, over the limit of %llu; new nodes "
			      "replay the history instead", (long long)sb.st_size, (unsigned long long)CRM_SNAPSHOT_MAX);
	int fd = err == 0 ? open(path, O_RDWR | O_CREAT | O_EXCL | O_APPEND, 0600) : -1;
	if (err == 0 && fd < 0)
		err = CRM_ERR(CRM_EIO, "cannot create %s: %s", path, strerror(errno));
	if (err == 0)
		err = zcopy(in, (uint64_t)sb.st_size, fd, 1, 0);
	if (in >= 0)
		close(in);
	unlink(raw);
	if (err == 0 && fstat(fd, &sb) < 0)
		err = CRM_ERR(CRM_EIO, "cannot read %s: %s", path, strerror(errno));
	if (err == 0 && (uint64_t)sb.st_size + CRM_SNAPSHOT_TRAILER > CRM_SNAPSHOT_MAX)
		err = CRM_ERR(CRM_ELIMIT, "the snapshot would be %lld bytes, over the limit of %llu; new nodes "
			      "replay the history instead", (long long)sb.st_size, (unsigned long long)CRM_SNAPSHOT_MAX);
	char sha[65], msg[256], trailer[CRM_SNAPSHOT_TRAILER + 1], sighex[2 * CRM_SIG_LEN + 1];
	uint8_t sig[CRM_SIG_LEN];
	if (err == 0)
		err = hash_fd(fd, (uint64_t)sb.st_size, sha);
	if (err == 0) {
		message(msg, sizeof(msg), crm_store_node_id(st), *cursor, sha, (uint64_t)sb.st_size);
		err = crm_sign_raw(sig, crm_store_key(st), msg, strlen(msg));
	}
	if (err == 0) {
		crm_hex(sighex, sig, sizeof(sig));
		int n = snprintf(trailer, sizeof(trailer), "CRMSNAP1 %" PRIu64 " %s %s %s\n", *cursor, sha,
				 crm_store_node_id(st), sighex);
		memset(trailer + n, ' ', CRM_SNAPSHOT_TRAILER - (size_t)n);
		if (write(fd, trailer, CRM_SNAPSHOT_TRAILER) != CRM_SNAPSHOT_TRAILER || fsync(fd) < 0)
			err = CRM_ERR(CRM_EIO, "cannot write %s: %s", path, strerror(errno));
		*bytes = (uint64_t)sb.st_size + CRM_SNAPSHOT_TRAILER;
	}
	if (fd >= 0)
		close(fd);
	if (err < 0)
		unlink(path);
	return err;
}

/* Check the trailer: hash and signature by node hub's trusted key. */
static int check_trailer(crm_store *st, const char *path, const char *hub, uint64_t *cursor, uint64_t *dbsize)
{
	struct stat sb;
	char t[CRM_SNAPSHOT_TRAILER + 1], sha[65], node[33], sighex[2 * CRM_SIG_LEN + 1], real[65], msg[256];
	int fd = open(path, O_RDONLY);
	int err = fd >= 0 && fstat(fd, &sb) == 0 ? 0 : CRM_ERR(CRM_EIO, "cannot read %s: %s", path, strerror(errno));
	if (err == 0 && ((uint64_t)sb.st_size < 16 + CRM_SNAPSHOT_TRAILER || (uint64_t)sb.st_size > CRM_SNAPSHOT_MAX))
		err = CRM_ERR(CRM_ECORRUPT, "the snapshot is truncated or not a snapshot (%lld bytes)", (long long)sb.st_size);
	*dbsize = err == 0 ? (uint64_t)sb.st_size - CRM_SNAPSHOT_TRAILER : 0;
	if (err == 0 && pread(fd, t, CRM_SNAPSHOT_TRAILER, (off_t)*dbsize) != CRM_SNAPSHOT_TRAILER)
		err = CRM_ERR(CRM_ECORRUPT, "the snapshot is truncated");
	t[CRM_SNAPSHOT_TRAILER] = '\0';
	if (err == 0 && (sscanf(t, "CRMSNAP1 %" SCNu64 " %64s %32s %128s", cursor, sha, node, sighex) != 4 ||
			 strlen(sha) != 64 || strlen(sighex) != 2 * CRM_SIG_LEN))
		err = CRM_ERR(CRM_ECORRUPT, "the snapshot is truncated or damaged (no valid trailer)");
	if (err == 0 && strcmp(node, hub) != 0)
		err = CRM_ERR(CRM_EVERIFY, "the snapshot was made by node %s, not by this node's hub %s", node, hub);
	if (err == 0)
		err = hash_fd(fd, *dbsize, real);
	if (err == 0 && strcmp(real, sha) != 0)
		err = CRM_ERR(CRM_EVERIFY, "the snapshot is damaged or was altered (its content does not match the "
			      "hub's signed digest)");
	char *line = NULL;
	uint8_t pub[CRM_PUBKEY_LEN], sig[CRM_SIG_LEN];
	crm_key *k = NULL;
	if (err == 0 && crm_db_get_text(crm_store_db(st), &line, "SELECT pubkey FROM crm_keys WHERE node = ?1 AND "
					"revoked = 0", hub) < 0)
		err = CRM_ERR(CRM_EVERIFY, "this node does not trust the key of hub %s", hub);
	if (err == 0)
		err = crm_pubkey_from_openssh(pub, line);
	for (size_t i = 0; err == 0 && i < CRM_SIG_LEN; i++) {
		unsigned v;
		if (sscanf(sighex + 2 * i, "%2x", &v) != 1)
			err = CRM_ERR(CRM_ECORRUPT, "the snapshot's signature is malformed");
		sig[i] = (uint8_t)v;
	}
	if (err == 0)
		err = crm_key_from_public(&k, pub);
	message(msg, sizeof(msg), hub, *cursor, sha, *dbsize);
	if (err == 0 && crm_verify_raw(k, sig, msg, strlen(msg)) < 0)
		err = CRM_ERR(CRM_EVERIFY, "the snapshot's signature is not the hub's");
	crm_key_free(k);
	free(line);
	if (fd >= 0)
		close(fd);
	return err;
}

/* The database part must be a sound SQLite file of this schema version. */
static int check_database(crm_store *st, const char *uri)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	int64_t mine = 0;
	int err = sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL) == SQLITE_OK ? 0
		  : CRM_ERR(CRM_ECORRUPT, "the snapshot is not a database: %s", sqlite3_errmsg(db));
	if (err == 0 && (sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &q, NULL) != SQLITE_OK ||
			 sqlite3_step(q) != SQLITE_ROW || strcmp((const char *)sqlite3_column_text(q, 0), "ok") != 0))
		err = CRM_ERR(CRM_ECORRUPT, "the snapshot's database is damaged: %s", sqlite3_errmsg(db));
	sqlite3_finalize(q);
	q = NULL;
	if (err == 0)
		err = crm_db_get_int(crm_store_db(st), &mine, "PRAGMA user_version", NULL);
	if (err == 0 && (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL) != SQLITE_OK ||
			 sqlite3_step(q) != SQLITE_ROW || sqlite3_column_int64(q, 0) != mine))
		err = CRM_ERR(CRM_EINVAL, "the snapshot has schema version %lld, this crm has %lld; update the older "
			      "side first", q ? (long long)sqlite3_column_int64(q, 0) : -1LL, (long long)mine);
	sqlite3_finalize(q);
	sqlite3_close(db);
	return err;
}

static int exec_fmt(crm_db *db, const char *fmt, const char *table)
{
	char sql[512];
	snprintf(sql, sizeof(sql), fmt, table, table, table);
	return crm_db_exec(db, sql);
}

/* Copy everything in the caller's transaction. */
static int copy_all(crm_store *st, uint64_t cursor)
{
	crm_db *db = crm_store_db(st);
	size_t count;
	int64_t n = 0, hlc = 0;
	const crm_table *tables = crm_catalog_tables(st, &count);
	int err = crm_db_get_int(db, &n, "SELECT (SELECT count(*) FROM main.crm_applied) + "
				 "(SELECT count(*) FROM main.crm_pending)", NULL);
	if (err == 0 && n > 0)
		err = CRM_ERR(CRM_EEXISTS, "this replica holds changes already; a snapshot only starts a new "
			      "replica (crm init --join TOKEN --snapshot)");
	for (size_t i = 0; err == 0 && i < count; i++)
		err = exec_fmt(db, "DELETE FROM main.\"%s\"; INSERT INTO main.\"%s\" SELECT * FROM snap.\"%s\"",
			       tables[i].name);
	for (size_t i = 0; err == 0 && i < sizeof(carried) / sizeof(carried[0]); i++)
		err = exec_fmt(db, "DELETE FROM main.\"%s\"; INSERT INTO main.\"%s\" SELECT * FROM snap.\"%s\"",
			       carried[i]);
	if (err == 0)
		err = crm_db_exec(db, "INSERT INTO main.crm_applied(oid, node, seq, size, held) "
				  "SELECT oid, node, seq, size, 0 FROM snap.crm_applied ORDER BY lseq; "
				  "INSERT OR IGNORE INTO main.crm_keys(node, pubkey, name, source, added_at, revoked) "
				  "SELECT node, pubkey, name, 'snapshot', added_at, revoked FROM snap.crm_keys; "
				  "UPDATE main.crm_keys SET revoked = 1 WHERE node IN "
				  "(SELECT node FROM snap.crm_keys WHERE revoked = 1)");
	if (err == 0)
		err = crm_db_get_int(db, &hlc, "SELECT coalesce(max(hlc), 0) FROM main.crm_clock", NULL);
	if (err == 0)
		err = crm_store_hlc_recv(st, (uint64_t)hlc);   /* our next stamps come after all of it */
	char buf[24];
	snprintf(buf, sizeof(buf), "%" PRIu64, cursor);
	if (err == 0)
		err = crm_meta_set(st, "hub_cursor", buf);
	return err;
}

/* The verified, compressed database part of path → a file raw. */
static int expand(const char *path, uint64_t zlen, const char *raw)
{
	int in = open(path, O_RDONLY);
	int out = open(raw, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	int err = in >= 0 && out >= 0 ? zcopy(in, zlen, out, 0, CRM_SNAPSHOT_MAX)
				      : CRM_ERR(CRM_EIO, "cannot expand the snapshot into %s: %s", raw, strerror(errno));
	if (in >= 0)
		close(in);
	if (out >= 0 && close(out) < 0 && err == 0)
		err = CRM_ERR(CRM_EIO, "cannot write %s: %s", raw, strerror(errno));
	return err;
}

int crm_snapshot_install(crm_store *st, const char *path, const char *hub, uint64_t *cursor)
{
	uint64_t zlen = 0;
	char uri[4400], raw[4200];
	crm_db *db = crm_store_db(st);
	snprintf(raw, sizeof(raw), "%s/snapshot.db", crm_store_dir(st));
	int err = check_trailer(st, path, hub, cursor, &zlen);
	if (err == 0)
		err = expand(path, zlen, raw);
	snprintf(uri, sizeof(uri), "file:%s?mode=ro&immutable=1", raw);
	if (err == 0)
		err = check_database(st, uri);
	sqlite3_stmt *q = NULL;
	if (err == 0 && (sqlite3_prepare_v2(crm_db_handle(db), "ATTACH ?1 AS snap", -1, &q, NULL) != SQLITE_OK ||
			 sqlite3_bind_text(q, 1, uri, -1, SQLITE_STATIC) != SQLITE_OK || sqlite3_step(q) != SQLITE_DONE))
		err = sql_fail(crm_db_handle(db), "attach");
	sqlite3_finalize(q);
	if (err < 0) {
		unlink(raw);
		return err;
	}
	if ((err = crm_db_begin(db)) == 0) {
		err = copy_all(st, *cursor);
		if (err < 0)
			crm_db_rollback(db);
		else
			err = crm_db_commit(db);
	}
	int e2 = crm_db_exec(db, "DETACH snap");
	if (e2 < 0)
		crm_error_clear();
	unlink(raw);
	return err;
}
