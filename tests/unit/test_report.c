/*
 * test_report.c — node/report.c on a real store whose clock the test sets
 * (crm_store_set_clock), so the figures that depend on time are exact:
 *
 *  - board cards: days in stage, over the stage's max days, stale (no
 *    activity for 14 days), newest activity first, and an activity making a
 *    deal fresh again;
 *  - overdue deals by the stage's max days as time passes;
 *  - time in stage (stages report) of deals that left a stage and of deals
 *    still in it, counted up to now;
 *  - an unknown report name or pipeline is CRM_EINVAL with a message.
 *
 * The CLI tests (tests/cli/cli_report.sh) check every report's figures on
 * data typed by hand; here only what the CLI cannot control: the clock.
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700   /* nftw, mkdtemp */
#endif
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "entity.h"
#include "error.h"
#include "report.h"
#include "store.h"

#include <ftw.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS 86400000ULL
#define T0 1768046400000ULL   /* 2026-01-10T12:00:00Z */

typedef struct world {
	char dir[64];
	crm_store *st;
	uint64_t now;
} world;

static uint64_t test_clock(void *ctx)
{
	return ((world *)ctx)->now;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	world *w = calloc(1, sizeof(*w));
	if (!w)
		return -1;
	snprintf(w->dir, sizeof(w->dir), "/tmp/crm_test_report_XXXXXX");
	if (!mkdtemp(w->dir))
		return -1;
	char path[128];
	snprintf(path, sizeof(path), "%s/r", w->dir);
	crm_init_opts o = {.name = "anna", .branch = "MSK"};
	if (crm_store_create(&w->st, path, &o) < 0)
		return -1;
	w->now = T0;
	crm_store_set_clock(w->st, test_clock, w);
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	world *w = *state;
	crm_store_free(w->st);
	nftw(w->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(w);
	return 0;
}

static void add_deal(world *w, const char *title, char id[CRM_ID_LEN + 1])
{
	crm_kv kv[] = {{"title", title}, {"amount", "10"}, {"currency", "EUR"}};
	assert_int_equal(crm_entity_add(w->st, "deal", kv, 3, id), 0);
}

/* The card of deal id on the board, or fail. */
static json_t *card(json_t *board, const char *id, size_t *column, size_t *rank)
{
	size_t i, j;
	json_t *col, *d;
	json_array_foreach(json_object_get(board, "columns"), i, col)
		json_array_foreach(json_object_get(col, "deals"), j, d)
			if (strcmp(json_string_value(json_object_get(d, "id")), id) == 0) {
				*column = i;
				*rank = j;
				return d;
			}
	fail_msg("deal %s is not on the board", id);
	return NULL;
}

static json_int_t ival(json_t *o, const char *key)
{
	assert_true(json_is_integer(json_object_get(o, key)));
	return json_integer_value(json_object_get(o, key));
}

static void test_board_flags_follow_the_clock(void **state)
{
	world *w = *state;
	char a[CRM_ID_LEN + 1], b[CRM_ID_LEN + 1], c[CRM_ID_LEN + 1], act[CRM_ID_LEN + 1];
	json_t *board;
	size_t col, rank;
	add_deal(w, "A", a);
	add_deal(w, "B", b);
	assert_int_equal(crm_deal_move(w->st, b, "Proposal", NULL), 0);

	w->now = T0 + 8 * DAY_MS;   /* New allows 7 days, Proposal 14 */
	assert_int_equal(crm_board(&board, w->st, NULL, NULL, 10), 0);
	json_t *ca = card(board, a, &col, &rank);
	assert_int_equal(col, 0);
	assert_int_equal(ival(ca, "days_in_stage"), 8);
	assert_int_equal(ival(ca, "over_max_days"), 1);
	assert_int_equal(ival(ca, "stale"), 0);
	json_t *cb = card(board, b, &col, &rank);
	assert_int_equal(col, 2);
	assert_int_equal(ival(cb, "over_max_days"), 0);
	assert_int_equal(ival(json_array_get(json_object_get(board, "columns"), 0), "count"), 1);
	json_decref(board);

	w->now = T0 + 20 * DAY_MS;
	add_deal(w, "C", c);
	assert_int_equal(crm_board(&board, w->st, NULL, NULL, 10), 0);
	assert_int_equal(ival(card(board, a, &col, &rank), "stale"), 1);
	assert_int_equal(rank, 1);   /* C, fresh, comes first in New */
	assert_int_equal(ival(card(board, c, &col, &rank), "stale"), 0);
	assert_int_equal(rank, 0);
	cb = card(board, b, &col, &rank);
	assert_int_equal(ival(cb, "over_max_days"), 1);
	assert_int_equal(ival(cb, "stale"), 1);
	json_decref(board);

	/* A call on B today: no longer stale, still too long in its stage. */
	crm_kv kv[] = {{"kind", "call"}, {"subject", "hello"}, {"deal_id", b}};
	assert_int_equal(crm_entity_add(w->st, "activity", kv, 3, act), 0);
	assert_int_equal(crm_board(&board, w->st, NULL, NULL, 10), 0);
	cb = card(board, b, &col, &rank);
	assert_int_equal(ival(cb, "stale"), 0);
	assert_int_equal(ival(cb, "over_max_days"), 1);
	assert_string_equal(json_string_value(json_object_get(cb, "last_activity")), "2026-01-30T12:00:00Z");
	json_decref(board);

	/* Its tombstone takes the activity back. */
	assert_int_equal(crm_entity_delete(w->st, "activity", act), 0);
	assert_int_equal(crm_board(&board, w->st, NULL, NULL, 10), 0);
	assert_int_equal(ival(card(board, b, &col, &rank), "stale"), 1);
	json_decref(board);
}

static void test_overdue_and_time_in_stage(void **state)
{
	world *w = *state;
	char a[CRM_ID_LEN + 1], b[CRM_ID_LEN + 1];
	json_t *r;
	add_deal(w, "A", a);
	add_deal(w, "B", b);
	w->now = T0 + 3 * DAY_MS;
	assert_int_equal(crm_deal_move(w->st, b, "Qualified", NULL), 0);
	w->now = T0 + 10 * DAY_MS;

	assert_int_equal(crm_report(&r, w->st, "overdue", NULL), 0);
	assert_int_equal(ival(r, "deals_count"), 1);   /* A: 10 days in New (7); B: 7 in Qualified (14) */
	json_t *d = json_array_get(json_object_get(r, "deals"), 0);
	assert_string_equal(json_string_value(json_object_get(d, "id")), a);
	assert_int_equal(ival(d, "days_in_stage"), 10);
	json_decref(r);

	assert_int_equal(crm_report(&r, w->st, "stages", NULL), 0);
	json_t *s0 = json_array_get(json_object_get(r, "stages"), 0), *s1 = json_array_get(json_object_get(r, "stages"), 1);
	assert_string_equal(json_string_value(json_object_get(s0, "stage")), "New");
	assert_int_equal(ival(s0, "visits"), 2);
	assert_true(json_real_value(json_object_get(s0, "avg_days")) == 6.5);   /* A 10 days, B 3 */
	assert_true(json_real_value(json_object_get(s0, "max_days")) == 10.0);
	assert_string_equal(json_string_value(json_object_get(s0, "longest_deal_id")), a);
	assert_int_equal(ival(s1, "visits"), 1);
	assert_true(json_real_value(json_object_get(s1, "max_days")) == 7.0);
	json_decref(r);
}

static void test_bad_names(void **state)
{
	world *w = *state;
	json_t *r = NULL;
	assert_int_equal(crm_report(&r, w->st, "nope", NULL), CRM_EINVAL);
	assert_null(r);
	assert_non_null(strstr(crm_error_last(), "unknown report 'nope'"));
	crm_report_opts o = {.pipeline = "Nope"};
	assert_int_equal(crm_report(&r, w->st, "funnel", &o), CRM_EINVAL);
	assert_non_null(strstr(crm_error_last(), "no pipeline 'Nope'"));
	assert_int_equal(crm_board(&r, w->st, NULL, "XX", 5), CRM_EINVAL);
	assert_null(r);
	assert_int_equal(crm_board(&r, w->st, NULL, NULL, 1001), CRM_EINVAL);
	assert_non_null(strstr(crm_error_last(), "at most 1000 deals per column"));
	assert_non_null(strstr(crm_report_names(), "forecast"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_board_flags_follow_the_clock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overdue_and_time_in_stage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_names, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
