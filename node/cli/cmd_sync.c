/*
 * cmd_sync.c — crm sync: push and pull with the hub until caught up.
 */
#include "cli.h"
#include "error.h"
#include "sync.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void show_progress(void *ctx, const char *line)
{
	(void)ctx;
	fprintf(stderr, "\r\033[Ksync: %s", line);
	fflush(stderr);
}

int cmd_sync(cli *c)
{
	if (cli_wants_help(c->argc, c->argv)) {
		puts("usage: crm sync [--hub URL] [--once] [--proxy URL] [--snapshot] [--json]\n"
		     "Push this node's changes to its hub and pull everyone else's, until caught\n"
		     "up. A failing link is retried with backoff (--once: a single attempt).\n"
		     "--snapshot: a new, still empty replica first installs the hub's snapshot.");
		return EXIT_OK;
	}
	int miss1, miss2;
	crm_sync_opts o = {0};
	o.hub = cli_take_opt(c, "hub", &miss1);
	o.proxy = cli_take_opt(c, "proxy", &miss2);
	o.once = cli_take_flag(c, "once");
	o.snapshot = cli_take_flag(c, "snapshot");
	cli_take_json(c);
	if (miss1 || miss2)
		return cli_usage("sync", "--hub and --proxy need a value");
	if (c->argc > 0)
		return cli_usage("sync", "unexpected argument '%s'", c->argv[0]);
	int tty = isatty(STDERR_FILENO);
	if (tty && !c->json)
		o.progress = show_progress;
	int status = EXIT_OK;
	crm_store *st = cli_open(c, &status);
	if (!st)
		return status;
	crm_sync_report r;
	int err = crm_sync(st, &o, &r);
	crm_store_free(st);
	if (o.progress)
		fprintf(stderr, "\r\033[K");
	if (err < 0)
		return cli_fail(err);
	if (r.forks)
		fprintf(stderr, "crm: warning: %zu node(s) forked; their changes are kept but not applied "
			"(see 'crm forks' and docs/OPERATOR.md)\n", r.forks);
	if (c->json) {
		json_t *j = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "pushed", (json_int_t)r.pushed,
				      "pulled", (json_int_t)r.pulled, "changes", (json_int_t)r.changes, "attempts",
				      (json_int_t)r.attempts, "requests", (json_int_t)r.requests, "bytes_up",
				      (json_int_t)r.bytes_up, "bytes_down", (json_int_t)r.bytes_down, "clock_skew_ms",
				      (json_int_t)r.skew_ms);
		cli_print_json(j);
		json_decref(j);
	} else {
		printf("synced: pushed %zu batches, pulled %zu (%zu changes), %zu attempt(s)\n", r.pushed, r.pulled,
		       r.changes, r.attempts);
		if (r.skew_ms)
			fprintf(stderr, "crm: warning: this computer's clock is %lld s off the hub's; stamps are corrected\n",
				(long long)(r.skew_ms / 1000));
	}
	return EXIT_OK;
}
