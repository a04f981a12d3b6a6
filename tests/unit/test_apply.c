/*
 * test_apply.c — unit tests of node/apply.c through the library API
 * (seal.h, exchange.h), in process, on real stores in temp directories:
 *
 *  - fields of tables and columns this version does not know, written by a
 *    "newer" node, are kept in crm_extra, counted by the state hash and
 *    passed on when another replica relays the author's commits
 *    (DESIGN.md §5: "stored and passed on, never dropped");
 *  - the same file imported twice is a no-op; an export --since the cursor
 *    it returned holds nothing;
 *  - a commit whose payload was altered after signing, or that was signed by
 *    another key, is refused with nothing applied (a correctly re-made commit
 *    through the same path is accepted: the harness itself is checked).
 *
 * A newer node's write path is simulated by inserting straight into its
 * crm_pending table; crm_seal does not look at the catalog.
 *
 * Every test runs in its own mkdtemp directory, removed afterwards.
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700   /* nftw, mkdtemp */
#endif
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "changelog.h"
#include "codec.h"
#include "error.h"
#include "exchange.h"
#include "hash.h"
#include "seal.h"
#include "store.h"
#include "uuid.h"
#include "write.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- fixture ------------------------------------------------------------ */

typedef struct world {
	char dir[64];
	crm_store *st[4];      /* A, B, C, D by index; NULL until made */
} world;

enum { A, B, C, D };

static int setup_dir(void **state)
{
	world *w = calloc(1, sizeof(*w));
	if (!w)
		return -1;
	snprintf(w->dir, sizeof(w->dir), "/tmp/crm_test_apply_XXXXXX");
	if (!mkdtemp(w->dir)) {
		free(w);
		return -1;
	}
	*state = w;
	return 0;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown_dir(void **state)
{
	world *w = *state;
	for (int i = 0; i < 4; i++)
		crm_store_free(w->st[i]);
	nftw(w->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(w);
	return 0;
}

/* Fail with the library's message if rc is not 0. */
#define CHECK(rc)                                                                        \
	do {                                                                             \
		int rc_ = (rc);                                                          \
		if (rc_ != 0)                                                            \
			fail_msg("%s = %d: %s (%s)", #rc, rc_, crm_error_last(), crm_error_where()); \
	} while (0)

static void path_in(char out[256], const world *w, const char *name)
{
	snprintf(out, 256, "%s/%s", w->dir, name);
}

static crm_store *make_store(world *w, int i, const char *name)
{
	char dir[256];
	crm_init_opts o = {.name = name, .branch = "MSK"};
	path_in(dir, w, name);
	CHECK(crm_store_create(&w->st[i], dir, &o));
	return w->st[i];
}

/* dst accepts src's batches. */
static void trust(crm_store *dst, crm_store *src)
{
	uint8_t pub[CRM_PUBKEY_LEN];
	char *line = NULL, node[33];
	crm_key_public(crm_store_key(src), pub);
	CHECK(crm_pubkey_to_openssh(&line, pub, "peer"));
	CHECK(crm_trust_add(dst, line, "peer", "trust", node));
	assert_string_equal(node, crm_store_node_id(src));
	free(line);
}

static void state_hash(crm_store *st, char out[65])
{
	CHECK(crm_state_hash(st, out));
	assert_int_equal(strlen(out), 64);
}

static int64_t count_of(crm_store *st, const char *sql, const char *arg)
{
	int64_t n = -1;
	CHECK(crm_db_get_int(crm_store_db(st), &n, sql, arg));
	return n;
}

static void export_to(world *w, crm_store *st, const char *name, uint64_t since, crm_export_report *rep)
{
	char path[256];
	path_in(path, w, name);
	CHECK(crm_export_changes(st, path, since, rep));
}

static void import_from(world *w, crm_store *st, const char *name, crm_apply_report *rep)
{
	char path[256];
	path_in(path, w, name);
	CHECK(crm_import_changes(st, path, rep));
}

/* A local edit through the one write path: a contact with a first name. */
static void add_contact(crm_store *st, char id[CRM_ID_LEN + 1], const char *first)
{
	crm_field f[] = {{"first_name", CRM_TEXT(first)}, {"last_name", CRM_TEXT("Petrov")}};
	CHECK(crm_uuid7(id, crm_store_now_ms(st)));
	CHECK(crm_write(st, "contacts", id, f, 2));
}

/* What a newer node's write path would leave: one pending change of a field
 * this version does not know.  Returns its clock. */
static uint64_t pending_raw(crm_store *st, const char *tbl, const char *row, const char *col, crm_value v)
{
	uint64_t hlc;
	sqlite3_stmt *q;
	sqlite3 *db = crm_db_handle(crm_store_db(st));
	CHECK(crm_store_hlc_next(st, &hlc));
	assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO crm_pending(tbl, row_id, col, value, hlc, prev_hlc) "
					    "VALUES (?1, ?2, ?3, ?4, ?5, 0)", -1, &q, NULL), SQLITE_OK);
	sqlite3_bind_text(q, 1, tbl, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, row, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, col, -1, SQLITE_STATIC);
	if (v.type == CRM_V_INT)
		sqlite3_bind_int64(q, 4, v.i);
	else
		sqlite3_bind_text(q, 4, v.s, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 5, (int64_t)hlc);
	assert_int_equal(sqlite3_step(q), SQLITE_DONE);
	sqlite3_finalize(q);
	return hlc;
}

/* The kept unknown field (tbl, row, col): checks value (text, or integer when
 * text is NULL), author node and clock. */
static void assert_extra(crm_store *st, const char *tbl, const char *row, const char *col,
			 const char *text, int64_t i, const char *node, uint64_t hlc)
{
	sqlite3_stmt *q;
	sqlite3 *db = crm_db_handle(crm_store_db(st));
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT value, node, hlc, typeof(value) FROM crm_extra "
					    "WHERE tbl = ?1 AND row_id = ?2 AND col = ?3", -1, &q, NULL), SQLITE_OK);
	sqlite3_bind_text(q, 1, tbl, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, row, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, col, -1, SQLITE_STATIC);
	if (sqlite3_step(q) != SQLITE_ROW)
		fail_msg("%s.%s of %s is not in crm_extra on %s", tbl, col, row, crm_store_node_id(st));
	if (text) {
		assert_string_equal((const char *)sqlite3_column_text(q, 3), "text");
		assert_string_equal((const char *)sqlite3_column_text(q, 0), text);
	} else {
		assert_string_equal((const char *)sqlite3_column_text(q, 3), "integer");
		assert_int_equal(sqlite3_column_int64(q, 0), i);
	}
	assert_string_equal((const char *)sqlite3_column_text(q, 1), node);
	assert_int_equal((uint64_t)sqlite3_column_int64(q, 2), hlc);
	sqlite3_finalize(q);
}

/* ---- unknown tables and columns ---------------------------------------- */

static void test_apply__unknown_fields_are_kept_hashed_and_relayed(void **state)
{
	world *w = *state;
	crm_store *a = make_store(w, A, "a"), *b = make_store(w, B, "b"), *c = make_store(w, C, "c");
	const char *id_a = crm_store_node_id(a);
	crm_export_report er;
	crm_apply_report ar;
	char cid[CRM_ID_LEN + 1], fid[CRM_ID_LEN + 1], h1[65], h2[65], hb[65], hc[65];
	trust(b, a);
	trust(b, c);
	trust(c, a);
	trust(c, b);

	/* Known data first, so the next batch holds unknown fields only. */
	add_contact(a, cid, "Ivan");
	export_to(w, a, "a1.bcf", 0, &er);
	uint64_t cursor = er.cursor;
	import_from(w, b, "a1.bcf", &ar);
	assert_true(ar.applied >= 1);
	state_hash(b, h1);

	/* A "newer" node writes a table and a column this version lacks. */
	CHECK(crm_uuid7(fid, crm_store_now_ms(a)));
	uint64_t t_colour = pending_raw(a, "future_things", fid, "colour", CRM_TEXT("teal"));
	uint64_t t_size = pending_raw(a, "future_things", fid, "size", CRM_INT(42));
	uint64_t t_nick = pending_raw(a, "contacts", cid, "nickname", CRM_TEXT("Vanya"));
	size_t sealed = 0;
	CHECK(crm_seal(a, &sealed));
	assert_int_equal(sealed, 1);
	export_to(w, a, "a2.bcf", cursor, &er);
	assert_int_equal(er.batches, 1);
	cursor = er.cursor;

	import_from(w, b, "a2.bcf", &ar);
	assert_int_equal(ar.applied, 1);
	assert_int_equal(ar.changes, 3);
	assert_int_equal(ar.won, 3);
	assert_int_equal(count_of(b, "SELECT count(*) FROM crm_extra", NULL), 3);
	assert_extra(b, "future_things", fid, "colour", "teal", 0, id_a, t_colour);
	assert_extra(b, "future_things", fid, "size", NULL, 42, id_a, t_size);
	assert_extra(b, "contacts", cid, "nickname", "Vanya", 0, id_a, t_nick);
	assert_int_equal(count_of(b, "SELECT count(*) FROM contacts WHERE id = ?1 AND first_name = 'Ivan'", cid), 1);
	state_hash(b, h2);
	assert_string_not_equal(h1, h2);   /* the batch held nothing but unknown fields */

	/* C gets A's commits relayed by B (with B's and its own genesis batches
	 * exchanged too, so both hold the same writes). */
	export_to(w, c, "c1.bcf", 0, &er);
	import_from(w, b, "c1.bcf", &ar);
	assert_true(ar.applied >= 1);
	export_to(w, b, "b1.bcf", 0, &er);
	assert_int_equal(er.nodes, 3);
	import_from(w, c, "b1.bcf", &ar);
	assert_true(ar.applied >= 3);
	assert_int_equal(count_of(c, "SELECT count(*) FROM crm_extra", NULL), 3);
	assert_extra(c, "future_things", fid, "colour", "teal", 0, id_a, t_colour);
	assert_extra(c, "future_things", fid, "size", NULL, 42, id_a, t_size);
	assert_extra(c, "contacts", cid, "nickname", "Vanya", 0, id_a, t_nick);
	state_hash(b, hb);
	state_hash(c, hc);
	assert_string_equal(hb, hc);

	/* Kept fields follow last-writer-wins like known ones. */
	uint64_t t_navy = pending_raw(a, "future_things", fid, "colour", CRM_TEXT("navy"));
	export_to(w, a, "a3.bcf", cursor, &er);
	assert_int_equal(er.batches, 1);
	import_from(w, b, "a3.bcf", &ar);
	assert_int_equal(ar.won, 1);
	assert_extra(b, "future_things", fid, "colour", "navy", 0, id_a, t_navy);
	assert_int_equal(count_of(b, "SELECT count(*) FROM crm_extra", NULL), 3);
	state_hash(b, h1);
	assert_string_not_equal(h1, hb);
}

/* ---- idempotence and cursors ------------------------------------------- */

static void test_apply__same_file_twice_is_a_noop(void **state)
{
	world *w = *state;
	crm_store *a = make_store(w, A, "a"), *b = make_store(w, B, "b");
	crm_export_report er;
	crm_apply_report ar;
	char cid[CRM_ID_LEN + 1], h1[65], h2[65];
	trust(b, a);
	add_contact(a, cid, "Ivan");
	add_contact(a, cid, "Olga");
	export_to(w, a, "a.bcf", 0, &er);
	assert_true(er.batches >= 1);

	import_from(w, b, "a.bcf", &ar);
	assert_int_equal(ar.applied, er.batches);
	assert_true(ar.changes > 0);
	assert_int_equal(ar.known, 0);
	int64_t held = count_of(b, "SELECT count(*) FROM crm_applied", NULL);
	state_hash(b, h1);

	import_from(w, b, "a.bcf", &ar);
	assert_int_equal(ar.applied, 0);
	assert_int_equal(ar.changes, 0);
	assert_true(ar.known > 0);
	assert_int_equal(ar.forks, 0);
	assert_int_equal(count_of(b, "SELECT count(*) FROM crm_applied", NULL), held);
	state_hash(b, h2);
	assert_string_equal(h1, h2);
}

static void test_apply__export_since_cursor_holds_nothing_new(void **state)
{
	world *w = *state;
	crm_store *a = make_store(w, A, "a"), *b = make_store(w, B, "b");
	crm_export_report er, er2;
	crm_apply_report ar;
	char cid[CRM_ID_LEN + 1], h1[65], h2[65];
	trust(b, a);
	add_contact(a, cid, "Ivan");
	export_to(w, a, "a1.bcf", 0, &er);
	assert_true(er.batches >= 1);
	assert_true(er.cursor >= er.batches);

	export_to(w, a, "empty.bcf", er.cursor, &er2);
	assert_int_equal(er2.batches, 0);
	assert_int_equal(er2.nodes, 0);
	assert_int_equal(er2.cursor, er.cursor);

	import_from(w, b, "a1.bcf", &ar);
	state_hash(b, h1);
	import_from(w, b, "empty.bcf", &ar);
	assert_int_equal(ar.applied, 0);
	assert_int_equal(ar.changes, 0);
	state_hash(b, h2);
	assert_string_equal(h1, h2);

	/* One more edit: exactly one new batch after the cursor. */
	add_contact(a, cid, "Olga");
	export_to(w, a, "a2.bcf", er.cursor, &er2);
	assert_int_equal(er2.batches, 1);
	assert_true(er2.cursor > er.cursor);
	import_from(w, b, "a2.bcf", &ar);
	assert_int_equal(ar.applied, 1);
	assert_int_equal(count_of(b, "SELECT count(*) FROM contacts WHERE id = ?1 AND first_name = 'Olga'", cid), 1);
}

/* ---- refs/nodes/ after an import --------------------------------------- */

/* After an import, refs/nodes/<author> names the author's newest batch
 * whichever way the node ids sort: crm_heads is ordered by node, and the
 * receiver's own head (already right) may come first. */
static void test_apply__import_sets_the_ref_of_every_node(void **state)
{
	world *w = *state;
	for (int author_sorts_after = 0; author_sorts_after < 2; author_sorts_after++) {
		char dir[256], name[32], cid[CRM_ID_LEN + 1], want[CRM_OID_HEX + 1], got[CRM_OID_HEX + 1];
		crm_init_opts o = {.name = "node", .branch = "SPB"};
		crm_store *x = NULL, *y = NULL, *a, *b;
		crm_log *lb, *la;
		crm_export_report er;
		crm_apply_report ar;
		size_t sealed = 0;
		snprintf(name, sizeof(name), "x%d", author_sorts_after);
		path_in(dir, w, name);
		CHECK(crm_store_create(&x, dir, &o));
		snprintf(name, sizeof(name), "y%d", author_sorts_after);
		path_in(dir, w, name);
		CHECK(crm_store_create(&y, dir, &o));
		int x_after = strcmp(crm_store_node_id(x), crm_store_node_id(y)) > 0;
		a = x_after == author_sorts_after ? x : y;   /* the author */
		b = a == x ? y : x;                          /* the receiver */
		CHECK(crm_seal(b, &sealed));   /* the receiver holds a head of its own */
		assert_int_equal(sealed, 1);

		trust(b, a);
		add_contact(a, cid, "Ivan");
		snprintf(name, sizeof(name), "author%d.bcf", author_sorts_after);
		export_to(w, a, name, 0, &er);
		import_from(w, b, name, &ar);
		assert_int_equal(ar.applied, er.batches);
		CHECK(crm_store_log(a, &la));
		CHECK(crm_store_log(b, &lb));
		CHECK(crm_log_get_ref(la, crm_store_node_id(a), want));
		int rc = crm_log_get_ref(lb, crm_store_node_id(a), got);
		if (rc != 0 || strcmp(got, want) != 0)
			fail_msg("receiver %s: refs/nodes/%s is %s, want %s (author's id sorts %s)", crm_store_node_id(b),
				 crm_store_node_id(a), rc == 0 ? got : "missing", want,
				 author_sorts_after ? "after" : "before");
		crm_store_free(x);
		crm_store_free(y);
	}
}

/* ---- tampering ---------------------------------------------------------- */

typedef enum remake { REMAKE_SAME, REMAKE_FLIP_PAYLOAD, REMAKE_OTHER_SIGNER } remake;

/* Re-make A's batch 1 as a new commit in a scratch log (as an attacker with
 * the commit in hand would), altered as `how` says, and write an exchange file
 * holding it.  The signer is A's key except for REMAKE_OTHER_SIGNER. */
static void remake_batch1(world *w, crm_store *a, crm_store *other, remake how, const char *file)
{
	crm_log *la, *scratch;
	crm_log_entry e;
	char head[CRM_OID_HEX + 1], oid[CRM_OID_HEX + 1], path[256], email[64];
	const char *id_a = crm_store_node_id(a);
	CHECK(crm_store_log(a, &la));
	CHECK(crm_log_get_ref(la, id_a, head));
	CHECK(crm_log_read(la, &e, head));
	assert_int_equal(e.parent_count, 0);   /* batch 1 */
	assert_true(e.payload_len > 16);

	uint8_t *payload = malloc(e.payload_len);
	assert_non_null(payload);
	memcpy(payload, e.payload, e.payload_len);
	if (how == REMAKE_FLIP_PAYLOAD)
		payload[e.payload_len / 2] ^= 0x01;

	snprintf(path, sizeof(path), "%s/scratch-%s.git", w->dir, file);
	snprintf(email, sizeof(email), "%s@branchline", id_a);
	CHECK(crm_log_open(&scratch, path, 1));
	crm_commit_spec spec = {
		.parent = NULL, .payload = payload, .payload_len = e.payload_len, .message = e.message,
		.author_name = "a", .author_email = email, .time = 1790000000,
	};
	CHECK(crm_log_commit(scratch, oid, crm_store_key(how == REMAKE_OTHER_SIGNER ? other : a), &spec));
	CHECK(crm_log_flush(scratch));

	uint8_t *pack = NULL, *file_data = NULL;
	size_t pack_len = 0, file_len = 0;
	char *oids[1] = {oid};
	CHECK(crm_log_pack(scratch, &pack, &pack_len, oids, 1));
	crm_env_head h = {.seq = 1};
	snprintf(h.node, sizeof(h.node), "%s", id_a);
	snprintf(h.oid, sizeof(h.oid), "%s", oid);
	crm_envelope env = {.cursor = 1, .heads = &h, .head_count = 1, .pack = pack, .pack_len = pack_len};
	snprintf(env.from, sizeof(env.from), "%s", id_a);
	CHECK(crm_envelope_encode(&file_data, &file_len, &env));
	path_in(path, w, file);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(file_data, 1, file_len, f), file_len);
	assert_int_equal(fclose(f), 0);

	free(file_data);
	free(pack);
	free(payload);
	crm_log_free(scratch);
	crm_log_entry_dispose(&e);
}

static void test_apply__altered_or_foreign_commits_are_refused(void **state)
{
	world *w = *state;
	crm_store *a = make_store(w, A, "a"), *b = make_store(w, B, "b"), *d = make_store(w, D, "d");
	crm_apply_report ar;
	char cid[CRM_ID_LEN + 1], h0[65], h1[65], path[256];
	size_t sealed = 0;
	trust(b, a);
	add_contact(a, cid, "Ivan");
	CHECK(crm_seal(a, &sealed));
	assert_int_equal(sealed, 1);

	remake_batch1(w, a, d, REMAKE_FLIP_PAYLOAD, "flip.bcf");
	remake_batch1(w, a, d, REMAKE_OTHER_SIGNER, "foreign.bcf");
	remake_batch1(w, a, d, REMAKE_SAME, "same.bcf");
	state_hash(b, h0);
	int64_t held = count_of(b, "SELECT count(*) FROM crm_applied", NULL);

	path_in(path, w, "flip.bcf");
	assert_int_equal(crm_import_changes(b, path, &ar), CRM_EVERIFY);
	assert_non_null(strstr(crm_error_last(), "SHA-256"));
	path_in(path, w, "foreign.bcf");
	assert_int_equal(crm_import_changes(b, path, &ar), CRM_EVERIFY);
	assert_non_null(strstr(crm_error_last(), "signature"));
	assert_int_equal(count_of(b, "SELECT count(*) FROM crm_applied", NULL), held);
	assert_int_equal(count_of(b, "SELECT count(*) FROM contacts WHERE id = ?1", cid), 0);
	state_hash(b, h1);
	assert_string_equal(h0, h1);

	/* The same path with nothing altered is accepted: the refusals above are
	 * the tampering's doing, not the harness's. */
	import_from(w, b, "same.bcf", &ar);
	assert_int_equal(ar.applied, 1);
	assert_int_equal(count_of(b, "SELECT count(*) FROM contacts WHERE id = ?1 AND first_name = 'Ivan'", cid), 1);
}

/* A pack header may claim any number of objects; libgit2's indexer sizes its
 * tables from that claim, so a 1.5 KiB file claiming 704 million objects made
 * it allocate gigabytes (found by fuzz_changefile).  The claim is checked
 * against the bytes first: refused as damaged, nothing applied. */
static void test_apply__pack_claiming_more_objects_than_bytes_is_refused(void **state)
{
	world *w = *state;
	crm_store *a = make_store(w, A, "a"), *b = make_store(w, B, "b");
	crm_apply_report ar;
	char cid[CRM_ID_LEN + 1], h0[65], h1[65];
	trust(b, a);
	add_contact(a, cid, "Ivan");
	size_t sealed = 0;
	CHECK(crm_seal(a, &sealed));
	assert_int_equal(sealed, 1);
	uint8_t *buf = NULL;
	size_t len = 0, batches = 0;
	uint64_t cursor = 0;
	int more = 0;
	CHECK(crm_export_buffer(a, 0, 0, NULL, 1u << 20, &buf, &len, &cursor, &batches, &more));
	uint8_t *pack = NULL;
	for (size_t i = 0; !pack && i + 12 <= len; i++)
		if (memcmp(buf + i, "PACK", 4) == 0)
			pack = buf + i;
	assert_non_null(pack);
	pack[8] = 0x2a, pack[9] = 0x00, pack[10] = 0x00, pack[11] = 0x03;   /* 704,643,075 objects */
	state_hash(b, h0);
	assert_int_equal(crm_import_buffer(b, buf, len, NULL, &ar, NULL), CRM_ECORRUPT);
	assert_non_null(strstr(crm_error_last(), "objects"));
	state_hash(b, h1);
	assert_string_equal(h0, h1);
	free(buf);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup_dir, teardown_dir)
	const struct CMUnitTest tests[] = {
		T(test_apply__unknown_fields_are_kept_hashed_and_relayed),
		T(test_apply__same_file_twice_is_a_noop),
		T(test_apply__export_since_cursor_holds_nothing_new),
		T(test_apply__import_sets_the_ref_of_every_node),
		T(test_apply__altered_or_foreign_commits_are_refused),
		T(test_apply__pack_claiming_more_objects_than_bytes_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
