/*
 * bench_prof.c — per-statement SQLite time (see bench_prof.h).
 *
 * SQLite reports a statement's start with SQLITE_TRACE_STMT ("-- TRIGGER x"
 * for a trigger, "-- <sql>" for a statement started inside another one, and
 * the outer statement's own pointer for a trigger's steps) and its end with
 * SQLITE_TRACE_PROFILE and its time.  A stack of running statements tells
 * top-level from nested; a start for a statement already on the stack is a
 * trigger step, not a new statement.
 */
#include "bench_prof.h"

#include <stdlib.h>
#include <string.h>

#define PROF_MAX 128
#define PROF_STACK 16

struct bench_prof {
	bench_prof_stmt e[PROF_MAX];
	size_t count;
	void *stack[PROF_STACK];   /* statements running now, outermost first */
	int depth;
};

static bench_prof_stmt *entry_for(bench_prof *pr, const char *sql, int nested)
{
	size_t i = 0;
	while (i < pr->count && (pr->e[i].nested != nested || strcmp(pr->e[i].sql, sql) != 0))
		i++;
	if (i == pr->count) {
		if (pr->count == PROF_MAX || !(pr->e[i].sql = strdup(sql)))
			return NULL;   /* statements past the cap go unrecorded */
		pr->e[i].nested = nested;
		pr->count++;
	}
	return &pr->e[i];
}

static int on_trace(unsigned type, void *ctx, void *p, void *x)
{
	bench_prof *pr = ctx;
	int at = -1;
	for (int i = 0; i < pr->depth; i++)
		if (pr->stack[i] == p)
			at = i;
	if (type == SQLITE_TRACE_STMT) {
		if (at < 0 && pr->depth < PROF_STACK && strncmp((const char *)x, "-- TRIGGER ", 11) != 0)
			pr->stack[pr->depth++] = p;
		return 0;
	}
	int nested = at > 0 || (at < 0 && pr->depth > 0);
	if (at >= 0)
		pr->depth = at;
	const char *sql = sqlite3_sql((sqlite3_stmt *)p);
	bench_prof_stmt *e = sql ? entry_for(pr, sql, nested) : NULL;
	if (e) {
		e->ns += (uint64_t)*(sqlite3_int64 *)x;
		e->calls++;
	}
	return 0;
}

bench_prof *bench_prof_start(sqlite3 *db)
{
	bench_prof *pr = calloc(1, sizeof(*pr));
	if (!pr) {
		fprintf(stderr, "bench: out of memory\n");
		exit(1);
	}
	sqlite3_trace_v2(db, SQLITE_TRACE_STMT | SQLITE_TRACE_PROFILE, on_trace, pr);
	return pr;
}

void bench_prof_stop(bench_prof *p, sqlite3 *db)
{
	(void)p;
	sqlite3_trace_v2(db, 0, NULL, NULL);
}

static int by_time(const void *a, const void *b)
{
	const bench_prof_stmt *x = a, *y = b;
	return x->ns < y->ns ? 1 : x->ns > y->ns ? -1 : 0;
}

const bench_prof_stmt *bench_prof_sorted(bench_prof *p, size_t *count)
{
	qsort(p->e, p->count, sizeof(p->e[0]), by_time);
	*count = p->count;
	return p->e;
}

uint64_t bench_prof_top_ns(const bench_prof *p)
{
	uint64_t ns = 0;
	for (size_t i = 0; i < p->count; i++)
		ns += p->e[i].nested ? 0 : p->e[i].ns;
	return ns;
}

void bench_prof_free(bench_prof *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->count; i++)
		free(p->e[i].sql);
	free(p);
}

void bench_print_sql(FILE *f, const char *sql)
{
	int space = 0, started = 0;
	for (const char *c = sql; *c; c++) {
		if (*c == ' ' || *c == '\n' || *c == '\t' || *c == '\r') {
			space = started;
			continue;
		}
		if (space)
			fputc(' ', f);
		started = 1;
		space = 0;
		fputc(*c, f);
	}
}
