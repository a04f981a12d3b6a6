/*
 * bench_prof.h — where the time goes inside SQLite: per-statement time
 * summed by SQL text, from SQLite's own timer (sqlite3_trace_v2,
 * SQLITE_TRACE_STMT and SQLITE_TRACE_PROFILE) on one connection.
 *
 * A statement's time includes its triggers and the statements SQLite runs
 * inside it (FTS5 shadow tables, flushed at COMMIT); those are kept apart,
 * marked nested, so top-level times add up without counting anything twice.
 * Time outside every top-level statement is the caller's C code.
 */
#ifndef CRM_BENCH_PROF_H
#define CRM_BENCH_PROF_H

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>

typedef struct bench_prof_stmt {
	char *sql;
	uint64_t ns;        /* total time over all calls */
	uint64_t calls;
	int nested;         /* ran inside another statement */
} bench_prof_stmt;

typedef struct bench_prof bench_prof;

/* Start tracing db into a new profile; exits the process if out of memory. */
bench_prof *bench_prof_start(sqlite3 *db);
/* Stop tracing db. The profile keeps its figures. */
void bench_prof_stop(bench_prof *p, sqlite3 *db);
/* The statements, by total time, largest first.  Borrowed until free. */
const bench_prof_stmt *bench_prof_sorted(bench_prof *p, size_t *count);
/* Total time of top-level statements, in ns. */
uint64_t bench_prof_top_ns(const bench_prof *p);
void bench_prof_free(bench_prof *p);   /* NULL-safe */

/* Print sql on one line (newlines, tabs and runs of spaces squeezed). */
void bench_print_sql(FILE *f, const char *sql);

#endif
