/*
 * crmt.h — the harness of the property tests (tests/prop/).
 *
 * A world is a few in-process replicas (real stores in one temp directory)
 * that trust each other's keys, read simulated clocks, and exchange their
 * change logs through files.  The harness gives:
 *
 *  - a seeded generator (splitmix64) that also feeds every random byte
 *    OpenSSL hands out (node keys, the random bits of UUIDv7 ids), so a seed
 *    replays a world exactly;
 *  - a trace of every step (trace.txt in the world's directory);
 *  - export, import, heal (full mesh until nothing new applies);
 *  - the convergence checks: equal state hashes (with a row-level diff when
 *    they differ), equal lists on the read side, merged strong-key duplicates.
 *
 * Test code only: it prints, and it reads a replica's SQLite file directly
 * where the library has no API for what a check needs.  Failures are
 * recorded in the world (crmt_fail) and stop its scenario; nothing exits.
 */
#ifndef CRMT_H
#define CRMT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "store.h"
#include "uuid.h"

#define CRMT_MAX_REPLICAS 4
#define CRMT_MAX_RECORDS 512
#define CRMT_MAX_FILES 64
#define CRMT_PATH_CAP 256

/* ---- seeded generator ---------------------------------------------------- */

typedef struct crmt_rng {
	uint64_t s;
} crmt_rng;

uint64_t crmt_next(crmt_rng *g);
/* Uniform in [0, n); 0 when n is 0. */
size_t crmt_below(crmt_rng *g, size_t n);
/* 1 with probability pct %. */
int crmt_chance(crmt_rng *g, unsigned pct);
/* Make OpenSSL draw its random bytes from the generator of the newest world
 * (crmt_world_new reseeds it).  Call once, before any world.  0 or -1. */
int crmt_rand_install(void);

/* ---- worlds ----------------------------------------------------------------- */

enum crmt_kind { CRMT_COMPANY, CRMT_CONTACT, CRMT_DEAL, CRMT_NOTE, CRMT_KINDS };
/* Entity names of the kinds ("company", ...), as entity.h spells them. */
extern const char *const crmt_kind_name[CRMT_KINDS];

typedef struct crmt_record {
	char id[CRM_ID_LEN + 1];
	enum crmt_kind kind;
} crmt_record;

struct crmt_world;

typedef struct crmt_replica {
	crm_store *st;
	struct crmt_world *w;
	int64_t clock_error_ms;   /* this replica's wall clock minus true time */
} crmt_replica;

typedef struct crmt_xfile {
	char path[CRMT_PATH_CAP];
	int src;                  /* the replica that exported it */
} crmt_xfile;

typedef struct crmt_world {
	crmt_rng g;
	char root[CRMT_PATH_CAP];
	int n;
	crmt_replica r[CRMT_MAX_REPLICAS];
	uint64_t now_ms;                          /* simulated true time */
	crmt_record rec[CRMT_MAX_RECORDS];        /* every record created anywhere */
	size_t rec_count;
	crmt_xfile files[CRMT_MAX_FILES];         /* exports kept for replays */
	size_t file_count;
	unsigned file_seq;
	unsigned char blocked[CRMT_MAX_REPLICAS][CRMT_MAX_REPLICAS];   /* [src][dst] */
	unsigned step;
	FILE *trace;
	int failed;
	unsigned long ops, refused, exchanges, applied;
} crmt_world;

/* A world of n replicas r0..r(n-1) in a new directory under CRM_PROP_TMPDIR,
 * /dev/shm (when writable: the stores fsync a lot, tmpfs makes that free),
 * TMPDIR or /tmp.  Every replica trusts the others and reads the simulated
 * clock now_ms + its clock_error_ms.  NULL if out of memory or no directory;
 * a failure to create a replica is recorded in w->failed.  Free with
 * crmt_world_free. */
crmt_world *crmt_world_new(uint64_t seed, int n);
/* Close the stores, remove the directory unless keep, free w. NULL-safe. */
void crmt_world_free(crmt_world *w, int keep);

/* One line in trace.txt, prefixed by the step number. */
void crmt_trace(crmt_world *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Record a failure: printed, traced, and w->failed set. */
void crmt_fail(crmt_world *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Trace a user action's result.  Returns rc.  0 and the legitimate refusals
 * (CRM_EINVAL, CRM_ENOTFOUND, CRM_EEXISTS, counted in w->refused) are fine;
 * any other result is a failure. */
int crmt_acted(crmt_world *w, int ri, int rc, const char *what, const char *detail);
/* Remember a created record (ignored past CRMT_MAX_RECORDS). */
void crmt_add_record(crmt_world *w, const char *id, enum crmt_kind k);

/* ---- exchanges -------------------------------------------------------------- */

/* Export everything replica src holds to a new file in the world's
 * directory; its path goes to path.  0 or the library's error (recorded). */
int crmt_export(crmt_world *w, int src, char path[CRMT_PATH_CAP]);
/* Import path into dst; *applied (may be NULL) gets the batches applied now.
 * An error, a fork or skipped batches are failures. */
int crmt_import(crmt_world *w, int dst, const char *path, size_t *applied);
/* Lift every partition, then full-mesh exports and imports until a whole
 * round applies nothing (at most 8 rounds).  0 or -1 (recorded). */
int crmt_heal(crmt_world *w);

/* ---- checks (after heal) ---------------------------------------------------- */

/* crm_state_hash is equal on every replica; if not, print the hashes and
 * the rows that differ. */
void crmt_check_hashes(crmt_world *w);
/* crm_query_list of companies, contacts and deals is the same JSON on every
 * replica (the duplicate groups behind it are derived locally). */
void crmt_check_lists(crmt_world *w);
/* On replica ri, no two listed records of entity ("company" or "contact")
 * share a strong key (tax id; e-mail) unless a person kept them apart. */
void crmt_check_strong_keys(crmt_world *w, int ri, const char *entity);

/* Fail unless replica ri's local derived data is exact: every full-text index
 * matches its table (FTS5 integrity-check) and crm_deal_board and
 * crm_deal_counts equal a rebuild from the deals. */
void crmt_check_derived(crmt_world *w, int ri);

#endif
