/*
 * test_conflict.c — unit tests of conflict/: the pure merge rules of
 * DESIGN.md §6 (values in, decision out; no store, no I/O).
 *
 *  - crm_conflict_lww: take / keep / same, a tie on hlc broken by node id;
 *  - crm_conflict_concurrent: whether the winner's writer had seen the loser;
 *  - crm_conflict_stage_pick: a close beats a concurrent move whatever the
 *    stamps, a deliberate reopen beats the close, concurrent moves go to the
 *    greatest stamp, and for random sets every permutation picks the same
 *    write — which is also the write a plain reading of the rule picks;
 *  - crm_conflict_groups: connected components with the lowest id as
 *    survivor, independent of edge order and id order; self edges, duplicate
 *    edges and out-of-range edges are harmless;
 *  - the clock rules: crm_conflict_skew, crm_conflict_corrected_now,
 *    crm_conflict_clock_adoptable.
 *
 * The random cases use a fixed seed, or CRM_TEST_SEED when set; the seed is
 * printed so a failure can be replayed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conflict.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define NODE_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define NODE_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define NODE_C "cccccccccccccccccccccccccccccccc"

/* ---- a small seeded generator (splitmix64) ------------------------------ */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static size_t below(size_t n) { return n ? (size_t)(rnd() % n) : 0; }

static int setup_seed(void **state)
{
	(void)state;
	const char *env = getenv("CRM_TEST_SEED");
	uint64_t seed = env && *env ? strtoull(env, NULL, 10) : 20240601u;
	printf("CRM_TEST_SEED=%" PRIu64 "\n", seed);
	rng_state = seed;
	return 0;
}

static crm_stamp stamp(uint64_t hlc, const char *node)
{
	crm_stamp s = {.hlc = hlc};
	snprintf(s.node, sizeof(s.node), "%s", node);
	return s;
}

/* ---- last writer wins ---------------------------------------------------- */

static void test_lww_take_keep_same(void **state)
{
	(void)state;
	crm_stamp cur = stamp(1000, NODE_B);
	crm_stamp newer = stamp(1001, NODE_A), older = stamp(999, NODE_C), same = stamp(1000, NODE_B);
	assert_int_equal(crm_conflict_lww(NULL, &older), CRM_PICK_TAKE);   /* never written */
	assert_int_equal(crm_conflict_lww(&cur, &newer), CRM_PICK_TAKE);
	assert_int_equal(crm_conflict_lww(&cur, &older), CRM_PICK_KEEP);
	assert_int_equal(crm_conflict_lww(&cur, &same), CRM_PICK_SAME);
	/* Any write beats the genesis values every replica starts with. */
	crm_stamp first = stamp(1, NODE_A);
	assert_int_equal(crm_conflict_lww(&crm_stamp_genesis, &first), CRM_PICK_TAKE);
	assert_int_equal(crm_conflict_lww(&first, &crm_stamp_genesis), CRM_PICK_KEEP);
	assert_int_equal(crm_conflict_lww(&crm_stamp_genesis, &crm_stamp_genesis), CRM_PICK_SAME);
}

static void test_lww_tie_on_hlc_broken_by_node(void **state)
{
	(void)state;
	crm_stamp a = stamp(5000, NODE_A), b = stamp(5000, NODE_B);
	assert_true(crm_stamp_cmp(&a, &b) < 0);
	assert_true(crm_stamp_cmp(&b, &a) > 0);
	assert_int_equal(crm_conflict_lww(&a, &b), CRM_PICK_TAKE);
	assert_int_equal(crm_conflict_lww(&b, &a), CRM_PICK_KEEP);
	/* The clock comes first: a smaller node id with a greater hlc wins. */
	crm_stamp a2 = stamp(5001, NODE_A);
	assert_int_equal(crm_conflict_lww(&b, &a2), CRM_PICK_TAKE);
	/* Full 64-bit clocks compare as unsigned numbers. */
	crm_stamp hi = stamp(UINT64_MAX, NODE_A), lo = stamp((uint64_t)1 << 63, NODE_C);
	assert_int_equal(crm_conflict_lww(&lo, &hi), CRM_PICK_TAKE);
}

/* Whatever the order writes arrive in, pairwise LWW ends at the greatest. */
static void test_lww_any_order_ends_at_max(void **state)
{
	(void)state;
	static const char *const nodes[] = {NODE_A, NODE_B, NODE_C};
	for (int round = 0; round < 500; round++) {
		crm_stamp w[8], cur = {0}, best;
		size_t n = 1 + below(8);
		for (size_t i = 0; i < n; i++)
			w[i] = stamp(100 + below(4), nodes[below(3)]);
		best = w[0];
		for (size_t i = 1; i < n; i++)
			if (crm_stamp_cmp(&w[i], &best) > 0)
				best = w[i];
		for (size_t k = 0; k < 2 * n; k++) {   /* random order, with repeats */
			const crm_stamp *in = &w[below(n)];
			if (k == 0 || crm_conflict_lww(&cur, in) == CRM_PICK_TAKE)
				cur = *in;
		}
		for (size_t i = 0; i < n; i++)   /* then every write once more */
			if (crm_conflict_lww(&cur, &w[i]) == CRM_PICK_TAKE)
				cur = w[i];
		assert_int_equal(crm_stamp_cmp(&cur, &best), 0);
	}
}

static void test_concurrent(void **state)
{
	(void)state;
	crm_stamp loser = stamp(2000, NODE_B);
	/* The winner replaced a value older than the loser: it never saw it. */
	assert_true(crm_conflict_concurrent(0, &loser));
	assert_true(crm_conflict_concurrent(1999, &loser));
	/* The winner replaced the loser itself, or something newer: an edit. */
	assert_false(crm_conflict_concurrent(2000, &loser));
	assert_false(crm_conflict_concurrent(2001, &loser));
}

/* ---- deal stage register ---------------------------------------------------- */

static crm_stage_write sw(uint64_t hlc, const char *node, uint64_t prev, int terminal)
{
	crm_stage_write w = {.stamp = stamp(hlc, node), .prev_hlc = prev, .terminal = terminal};
	return w;
}

/* Heap's algorithm: call check(perm) for every permutation of w[0..n). */
typedef void (*perm_fn)(const crm_stage_write *w, size_t n, const crm_stamp *want);

static void each_permutation(crm_stage_write *w, size_t n, perm_fn fn, const crm_stamp *want)
{
	size_t c[8] = {0}, i = 1;
	assert_true(n <= 8);
	fn(w, n, want);
	while (i < n) {
		if (c[i] < i) {
			size_t j = i % 2 == 0 ? 0 : c[i];
			crm_stage_write t = w[j];
			w[j] = w[i];
			w[i] = t;
			fn(w, n, want);
			c[i]++;
			i = 1;
		} else {
			c[i++] = 0;
		}
	}
}

static void check_pick(const crm_stage_write *w, size_t n, const crm_stamp *want)
{
	size_t got = crm_conflict_stage_pick(w, n);
	assert_true(got < n);
	if (crm_stamp_cmp(&w[got].stamp, want) != 0)
		fail_msg("stage pick chose (%" PRIu64 ", %.4s) instead of (%" PRIu64 ", %.4s)", w[got].stamp.hlc,
			 w[got].stamp.node, want->hlc, want->node);
}

/* Every order of the writes picks `want`. */
static void assert_winner(crm_stage_write *w, size_t n, const crm_stage_write *want)
{
	each_permutation(w, n, check_pick, &want->stamp);
}

/* (a) Won on A and Negotiation on B, both made knowing the same earlier
 * write: the close wins whatever the stamps. */
static void test_stage_close_beats_concurrent_move(void **state)
{
	(void)state;
	const uint64_t later[] = {150, 200, 201, 1000, (uint64_t)1 << 60};
	const char *const nodes[] = {NODE_A, NODE_C};   /* below and above NODE_B */
	for (size_t i = 0; i < ARRAY_LEN(later); i++) {
		for (size_t k = 0; k < ARRAY_LEN(nodes); k++) {
			crm_stage_write base = sw(100, NODE_A, 0, 0);
			crm_stage_write won = sw(200, NODE_B, 100, 1);
			crm_stage_write nego = sw(later[i], nodes[k], 100, 0);
			crm_stage_write w[] = {base, won, nego};
			assert_winner(w, 3, &won);
		}
	}
	/* Lost closes the same way. */
	crm_stage_write lost = sw(120, NODE_A, 100, 1);
	crm_stage_write w[] = {sw(100, NODE_A, 0, 0), sw(900, NODE_B, 100, 0), lost};
	assert_winner(w, 3, &lost);
}

/* (b) A reopen made after seeing the close names it as prev and wins. */
static void test_stage_reopen_beats_close(void **state)
{
	(void)state;
	crm_stage_write base = sw(100, NODE_A, 0, 0);
	crm_stage_write won = sw(200, NODE_B, 100, 1);
	crm_stage_write reopen = sw(300, NODE_A, 200, 0);
	crm_stage_write w[] = {base, won, reopen};
	assert_winner(w, 3, &reopen);
	assert_false(crm_conflict_stage_is_head(w, 3, 1));
	/* Same clock millisecond, other node: still a reopen. */
	crm_stage_write reopen2 = sw(201, NODE_A, 200, 0);
	crm_stage_write w2[] = {base, won, reopen2};
	assert_winner(w2, 3, &reopen2);
	/* A later close after the reopen wins again. */
	crm_stage_write lost = sw(400, NODE_C, 300, 1);
	crm_stage_write w3[] = {base, won, reopen, lost};
	assert_winner(w3, 4, &lost);
}

/* (c) Two concurrent non-terminal moves: the greatest stamp wins. */
static void test_stage_concurrent_moves_greatest_stamp(void **state)
{
	(void)state;
	crm_stage_write base = sw(100, NODE_A, 0, 0);
	crm_stage_write m1 = sw(300, NODE_A, 100, 0), m2 = sw(250, NODE_C, 100, 0);
	crm_stage_write w[] = {base, m1, m2};
	assert_winner(w, 3, &m1);
	/* Same clock: the greater node id. */
	crm_stage_write t1 = sw(300, NODE_B, 100, 0), t2 = sw(300, NODE_A, 100, 0);
	crm_stage_write w2[] = {base, t1, t2};
	assert_winner(w2, 3, &t1);
	/* Two concurrent closes: also the greatest stamp. */
	crm_stage_write c1 = sw(300, NODE_B, 100, 1), c2 = sw(310, NODE_A, 100, 1);
	crm_stage_write w3[] = {base, c1, c2};
	assert_winner(w3, 3, &c2);
	/* One write alone is its own winner. */
	assert_int_equal(crm_conflict_stage_pick(&base, 1), 0);
}

/* The rule read plainly from DESIGN.md §6, as an oracle: heads are writes no
 * later write names as prev; a terminal head beats a non-terminal one, then
 * the greatest stamp.  Returns the winner's stamp. */
static crm_stamp oracle_pick(const crm_stage_write *w, size_t n)
{
	const crm_stage_write *best = NULL;
	for (size_t i = 0; i < n; i++) {
		int head = 1;
		for (size_t j = 0; j < n; j++)
			if (crm_stamp_cmp(&w[j].stamp, &w[i].stamp) > 0 && w[j].prev_hlc == w[i].stamp.hlc)
				head = 0;
		if (!head)
			continue;
		if (!best || w[i].terminal > best->terminal ||
		    (w[i].terminal == best->terminal && crm_stamp_cmp(&w[i].stamp, &best->stamp) > 0))
			best = &w[i];
	}
	assert_non_null(best);
	return best->stamp;
}

/* n random writes with distinct stamps in ascending order; each names as
 * prev 0 or the clock of an earlier write. */
static void random_stage_set(crm_stage_write *w, size_t n)
{
	static const char *const nodes[] = {NODE_A, NODE_B, NODE_C};
	uint64_t hlc = 100;
	size_t node = below(3);
	for (size_t i = 0; i < n; i++) {
		size_t step = below(3);   /* 0: same clock, a greater node id (when one is left) */
		if (step == 0 && node < 2)
			node += 1 + below(2 - node);
		else
			hlc += 1 + step, node = below(3);
		w[i] = sw(hlc, nodes[node], 0, below(3) == 0);
		if (i > 0 && below(4) != 0)
			w[i].prev_hlc = w[below(i)].stamp.hlc;
	}
}

/* (d) Random sets of up to 8 writes: every permutation, same winner. */
static void test_stage_random_sets_order_free(void **state)
{
	(void)state;
	for (int round = 0; round < 150; round++) {
		crm_stage_write w[8];
		size_t n = 1 + below(round < 20 ? 8 : 6);   /* a few full 8! sweeps, many smaller */
		random_stage_set(w, n);
		for (size_t i = 0; i < n; i++)   /* start from a random order */
			for (size_t j = i + 1; j < n; j++)
				if (below(2)) {
					crm_stage_write t = w[i];
					w[i] = w[j];
					w[j] = t;
				}
		crm_stamp want = oracle_pick(w, n);
		each_permutation(w, n, check_pick, &want);
	}
}

/* ---- duplicate groups -------------------------------------------------------- */

static void test_groups_components_lowest_id(void **state)
{
	(void)state;
	const char *ids[] = {"c", "a", "d", "b", "e", "f"};
	const size_t edges[][2] = {{0, 1}, {2, 3}, {4, 4}, {3, 2}, {0, 1}};
	size_t scratch[6], root[6];
	crm_conflict_groups(ids, 6, edges, ARRAY_LEN(edges), scratch, root);
	assert_string_equal(ids[root[0]], "a");   /* c -> a */
	assert_string_equal(ids[root[1]], "a");
	assert_string_equal(ids[root[2]], "b");   /* d -> b */
	assert_string_equal(ids[root[3]], "b");
	assert_int_equal(root[4], 4);             /* a self edge joins nothing */
	assert_int_equal(root[5], 5);             /* no edge: its own survivor */
	/* A chain joined from both ends: one group, lowest id. */
	const size_t chain[][2] = {{0, 2}, {5, 4}, {2, 5}, {4, 1}};
	crm_conflict_groups(ids, 6, chain, ARRAY_LEN(chain), scratch, root);
	for (size_t i = 0; i < 6; i++)
		assert_string_equal(ids[root[i]], i == 3 ? "b" : "a");
	/* Edges naming ids that are not there are ignored. */
	const size_t bad[][2] = {{0, 6}, {99, 1}};
	crm_conflict_groups(ids, 6, bad, ARRAY_LEN(bad), scratch, root);
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(root[i], i);
	crm_conflict_groups(ids, 0, NULL, 0, scratch, root);   /* nothing at all */
}

/* Reference: survivor of i = lowest id reachable from i (closure by sweeps). */
static void oracle_groups(const char *const *ids, size_t n, const size_t (*e)[2], size_t m, const char **out)
{
	for (size_t i = 0; i < n; i++)
		out[i] = ids[i];
	for (int changed = 1; changed;) {
		changed = 0;
		for (size_t k = 0; k < m; k++) {
			size_t a = e[k][0], b = e[k][1];
			const char *lo = strcmp(out[a], out[b]) < 0 ? out[a] : out[b];
			if (out[a] != lo || out[b] != lo)
				changed = 1, out[a] = out[b] = lo;
		}
	}
}

static void shuffle_idx(size_t *v, size_t n)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = below(i), t = v[i - 1];
		v[i - 1] = v[j];
		v[j] = t;
	}
}

/* One random graph, run with ids and edges permuted: same survivors. */
static void groups_round(void)
{
	static const char *const pool[] = {"0190-a", "0190-b", "0190-c", "0191-a", "0191-b", "0192-z",
					   "0192-y", "0193-m", "0193-n", "0194-q", "0195-r", "0196-s"};
	size_t n = 1 + below(ARRAY_LEN(pool)), m = below(2 * n + 1);
	const char *ids[12], *want[12], *pids[12];
	size_t e[40][2], pe[40][2], perm[12], order[40], scratch[12], root[12], pos[12];
	for (size_t i = 0; i < n; i++)
		ids[i] = pool[i], perm[i] = i;
	for (size_t k = 0; k < m; k++)   /* self edges and duplicates happen */
		e[k][0] = below(n), e[k][1] = below(n), order[k] = k;
	oracle_groups(ids, n, (const size_t (*)[2])e, m, want);
	for (int t = 0; t < 6; t++) {
		shuffle_idx(perm, n);    /* pids[j] = ids[perm[j]] */
		shuffle_idx(order, m);
		for (size_t j = 0; j < n; j++)
			pids[j] = ids[perm[j]], pos[perm[j]] = j;
		for (size_t k = 0; k < m; k++) {
			int flip = (int)below(2);
			pe[k][0] = pos[e[order[k]][flip]];
			pe[k][1] = pos[e[order[k]][!flip]];
		}
		crm_conflict_groups(pids, n, (const size_t (*)[2])pe, m, scratch, root);
		for (size_t j = 0; j < n; j++)
			if (strcmp(pids[root[j]], want[perm[j]]) != 0)
				fail_msg("%s: survivor %s, expected %s", pids[j], pids[root[j]], want[perm[j]]);
	}
}

static void test_groups_order_free(void **state)
{
	(void)state;
	for (int round = 0; round < 2000; round++)
		groups_round();
}

/* ---- clocks ---------------------------------------------------------------------- */

static void test_clock_skew(void **state)
{
	(void)state;
	const uint64_t t = 1767225600000u;   /* 2026-01-01T00:00:00Z */
	assert_int_equal(crm_conflict_skew(t, t), 0);
	assert_int_equal(crm_conflict_skew(t + CRM_MAX_SKEW_MS, t), 0);   /* within tolerance */
	assert_int_equal(crm_conflict_skew(t - CRM_MAX_SKEW_MS, t), 0);
	assert_int_equal(crm_conflict_skew(t + CRM_MAX_SKEW_MS + 1, t), (int64_t)CRM_MAX_SKEW_MS + 1);
	assert_int_equal(crm_conflict_skew(t - CRM_MAX_SKEW_MS - 1, t), -(int64_t)CRM_MAX_SKEW_MS - 1);
	const int64_t year = 365LL * 24 * 3600 * 1000;
	assert_int_equal(crm_conflict_skew(t + (uint64_t)year, t), year);
	assert_int_equal(crm_conflict_skew(t - (uint64_t)year, t), -year);
}

static void test_clock_corrected_now(void **state)
{
	(void)state;
	const uint64_t t = 1767225600000u;
	assert_int_equal(crm_conflict_corrected_now(t, 0), t);
	assert_int_equal(crm_conflict_corrected_now(t, 3600000), t - 3600000);
	assert_int_equal(crm_conflict_corrected_now(t, -3600000), t + 3600000);
	assert_int_equal(crm_conflict_corrected_now(1000, 5000), 0);   /* never below zero */
	/* Observing trusted time and correcting by the measured skew gives it back. */
	const int64_t offs[] = {-400000000, -(int64_t)CRM_MAX_SKEW_MS - 1, (int64_t)CRM_MAX_SKEW_MS + 1, 86400000, 31536000000};
	for (size_t i = 0; i < ARRAY_LEN(offs); i++) {
		uint64_t wall = t + (uint64_t)offs[i];
		assert_int_equal(crm_conflict_corrected_now(wall, crm_conflict_skew(wall, t)), t);
	}
	/* Within tolerance nothing is corrected. */
	assert_int_equal(crm_conflict_corrected_now(t + 1000, crm_conflict_skew(t + 1000, t)), t + 1000);
}

static void test_clock_adoptable(void **state)
{
	(void)state;
	const uint64_t now = 1767225600000u;
	assert_true(crm_conflict_clock_adoptable(0, now));
	assert_true(crm_conflict_clock_adoptable(now << 16, now));
	assert_true(crm_conflict_clock_adoptable((now - 86400000u) << 16, now));
	uint64_t edge = now + CRM_MAX_FUTURE_MS;
	assert_true(crm_conflict_clock_adoptable(edge << 16 | 0xffff, now));   /* counter bits do not count */
	assert_false(crm_conflict_clock_adoptable((edge + 1) << 16, now));
	assert_false(crm_conflict_clock_adoptable(UINT64_MAX, now));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lww_take_keep_same),
		cmocka_unit_test(test_lww_tie_on_hlc_broken_by_node),
		cmocka_unit_test(test_lww_any_order_ends_at_max),
		cmocka_unit_test(test_concurrent),
		cmocka_unit_test(test_stage_close_beats_concurrent_move),
		cmocka_unit_test(test_stage_reopen_beats_close),
		cmocka_unit_test(test_stage_concurrent_moves_greatest_stamp),
		cmocka_unit_test(test_stage_random_sets_order_free),
		cmocka_unit_test(test_groups_components_lowest_id),
		cmocka_unit_test(test_groups_order_free),
		cmocka_unit_test(test_clock_skew),
		cmocka_unit_test(test_clock_corrected_now),
		cmocka_unit_test(test_clock_adoptable),
	};
	return cmocka_run_group_tests(tests, setup_seed, NULL);
}
