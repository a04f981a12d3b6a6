/*
 * bench_util.h — what the benchmarks share: a monotonic clock, a seeded
 * pseudo-random generator, scratch directories, order statistics and
 * command-line number parsing.
 *
 * Benchmark support only: nothing here is linked into libcrm, and nothing
 * here measures — callers time their own loops.
 */
#ifndef CRM_BENCH_UTIL_H
#define CRM_BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Monotonic time in nanoseconds. */
uint64_t bench_now_ns(void);

/* splitmix64: small, fast, and the same sequence on every machine for a seed. */
typedef struct bench_rng {
	uint64_t s;
} bench_rng;

void bench_rng_seed(bench_rng *r, uint64_t seed);
uint64_t bench_rng_next(bench_rng *r);
/* Uniform in [0, n); n > 0. */
uint64_t bench_rng_below(bench_rng *r, uint64_t n);
/* A generator for item `index` of a stream: the same (seed, index) gives the
 * same sequence whatever was drawn before, so item i can be rebuilt later. */
void bench_rng_for(bench_rng *r, uint64_t seed, uint64_t index);

/* Create a fresh scratch directory under $BENCH_TMPDIR (or $TMPDIR, or /tmp)
 * named "crm-bench-<what>-XXXXXX"; the path is written to out (cap bytes).
 * Returns 0 or -1 with errno set. */
int bench_tmpdir(char *out, size_t cap, const char *what);
/* Remove a directory tree (best effort); NULL-safe. */
void bench_rmtree(const char *path);
/* A path inside dir: dir + "/" + name, into out (cap bytes). */
void bench_path(char *out, size_t cap, const char *dir, const char *name);

/* Sort v[0..n) ascending in place. */
void bench_sort(double *v, size_t n);
/* Nearest-rank percentile (0 < p <= 100) of sorted v[0..n); 0 if n == 0. */
double bench_pct(const double *sorted, size_t n, double p);
/* Median of v[0..n) (does not modify v; n <= 64). */
double bench_median(const double *v, size_t n);

/* Parse a positive integer argument ("20000", "1e6" not accepted, "1000000"
 * is); exits with a message naming `what` if it is not one. */
uint64_t bench_arg_u64(const char *what, const char *s);
/* Stop the benchmark: print "bench: <msg>: <crm_error_last()>" and exit(1). */
void bench_die(const char *msg);
/* bench_die(msg) if err < 0; returns err otherwise. */
int bench_check(int err, const char *msg);

#endif
