/*
 * bench_util.c — clock, RNG, scratch directories and statistics for the
 * benchmarks (see bench_util.h).
 */
#define _XOPEN_SOURCE 700   /* nftw */

#include "bench_util.h"
#include "error.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

uint64_t bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void bench_rng_seed(bench_rng *r, uint64_t seed) { r->s = seed; }

uint64_t bench_rng_next(bench_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

uint64_t bench_rng_below(bench_rng *r, uint64_t n)
{
	/* Rejection keeps it exactly uniform; the loop almost never repeats. */
	uint64_t limit = UINT64_MAX - UINT64_MAX % n;
	uint64_t x;
	do
		x = bench_rng_next(r);
	while (x >= limit);
	return x % n;
}

void bench_rng_for(bench_rng *r, uint64_t seed, uint64_t index)
{
	bench_rng mix = {seed ^ (index * 0xd1342543de82ef95u)};
	r->s = bench_rng_next(&mix) ^ index;
}

int bench_tmpdir(char *out, size_t cap, const char *what)
{
	const char *base = getenv("BENCH_TMPDIR");
	if (!base || !*base)
		base = getenv("TMPDIR");
	if (!base || !*base)
		base = "/tmp";
	int n = snprintf(out, cap, "%s/crm-bench-%s-XXXXXX", base, what);
	if (n < 0 || (size_t)n >= cap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return mkdtemp(out) ? 0 : -1;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void bench_rmtree(const char *path)
{
	if (path && *path)
		nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void bench_path(char *out, size_t cap, const char *dir, const char *name)
{
	snprintf(out, cap, "%s/%s", dir, name);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

void bench_sort(double *v, size_t n) { qsort(v, n, sizeof(*v), cmp_double); }

double bench_pct(const double *sorted, size_t n, double p)
{
	if (n == 0)
		return 0;
	double r = p / 100.0 * (double)n;
	size_t rank = (size_t)r;
	if ((double)rank < r)
		rank++;   /* ceil: the smallest value with at least p % at or below it */
	if (rank < 1)
		rank = 1;
	return sorted[(rank > n ? n : rank) - 1];
}

double bench_median(const double *v, size_t n)
{
	double tmp[64];
	if (n == 0 || n > 64)
		return 0;
	memcpy(tmp, v, n * sizeof(*v));
	bench_sort(tmp, n);
	return n % 2 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
}

uint64_t bench_arg_u64(const char *what, const char *s)
{
	char *end;
	errno = 0;
	unsigned long long v = s ? strtoull(s, &end, 10) : 0;
	if (!s || !*s || *end || errno || v == 0 || *s == '-') {
		fprintf(stderr, "bench: %s must be a positive whole number, not '%s'\n", what, s ? s : "");
		exit(2);
	}
	return (uint64_t)v;
}

void bench_die(const char *msg)
{
	fprintf(stderr, "bench: %s: %s\n", msg, crm_error_last());
	exit(1);
}

int bench_check(int err, const char *msg)
{
	if (err < 0)
		bench_die(msg);
	return err;
}
