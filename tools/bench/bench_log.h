/*
 * bench_log.h — what the two halves of bench_log share: bench_log.c (the
 * realistic sets: seal, export, import, merge alone; and main) and
 * bench_log_merge.c (the synthetic merge against plain SQLite).
 *
 * Benchmark support only; every helper exits the process on failure.
 */
#ifndef CRM_BENCH_LOG_H
#define CRM_BENCH_LOG_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define BL_COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define BL_MAX_ROUNDS 15

/* calloc that never returns NULL (n may be 0). */
void *bl_xcalloc(size_t n, size_t size);

/* Wall and process CPU time of one timed span, in seconds. */
typedef struct bl_timing {
	uint64_t wall0, cpu0;
	double wall, cpu;
} bl_timing;

void bl_start(bl_timing *t);
void bl_stop(bl_timing *t);
/* count / seconds, 0 if seconds is not positive. */
double bl_per_s(double count, double seconds);

/* A scratch replica: crm_store_create in a fresh directory under
 * $BENCH_TMPDIR named after `what`; drop frees it and removes the directory. */
typedef struct bl_replica {
	char dir[PATH_MAX];
	crm_store *st;
} bl_replica;

void bl_replica_create(bl_replica *r, const char *what);
void bl_replica_drop(bl_replica *r);

/* The synthetic merge (bench_log_merge.c). */
typedef struct bl_merge_opts {
	size_t rows;        /* rows; 10 field changes each on average */
	size_t rounds;      /* 1..BL_MAX_ROUNDS */
	uint64_t seed;
	int cache_kib;      /* PRAGMA cache_size = -cache_kib on every connection; 0: SQLite's default */
	int profile;        /* one more traced mixed pass: PROFILE / PROFSTMT lines */
} bl_merge_opts;

/* Build the changes, run every round, print SAMPLE / RESULT / RATIO lines and
 * a readable table. */
void bl_merge_run(const bl_merge_opts *o);

#endif
