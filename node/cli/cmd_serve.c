/*
 * cmd_serve.c — crm serve: the local web UI and JSON API (node/web/).
 */
#include "cli.h"
#include "error.h"
#include "web.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t stop_flag;
static void on_signal(int sig) { (void)sig; stop_flag = 1; }

static void print_url(void *ctx, const char *url)
{
	(void)ctx;
	printf("%s\n", url);
	fflush(stdout);
}

static void log_line(void *ctx, const char *line)
{
	int *quiet = ctx;
	if (*quiet)
		return;
	char ts[32];
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(stderr, "%s crm serve: %s\n", ts, line);
}

int cmd_serve(cli *c)
{
	if (cli_wants_help(c->argc, c->argv)) {
		puts("usage: crm serve [--listen 127.0.0.1:PORT] [--allow-remote] [--read-only] [--quiet]\n"
		     "Serve the web UI and its JSON API (docs/API.md) from this replica until\n"
		     "SIGTERM or Ctrl-C.  Prints the address (http://127.0.0.1:PORT/) on stdout.\n"
		     "PORT 0 (the default) picks a free port.  The UI has no login yet, so a\n"
		     "non-loopback address is refused unless --allow-remote is given.\n"
		     "Logs one line per request on stderr (--quiet: none).");
		return EXIT_OK;
	}
	int miss = 0, quiet;
	crm_web_opts o = {0};
	o.listen = cli_take_opt(c, "listen", &miss);
	o.allow_remote = cli_take_flag(c, "allow-remote");
	o.read_only = cli_take_flag(c, "read-only");
	quiet = cli_take_flag(c, "quiet");
	o.log = log_line;
	o.ctx = &quiet;
	if (miss)
		return cli_usage("serve", "--listen needs HOST:PORT");
	if (c->argc > 0)
		return cli_usage("serve", "unexpected argument '%s'", c->argv[0]);
	int status = EXIT_OK;
	crm_store *st = cli_open(c, &status);
	if (!st)
		return status;
	struct sigaction sa = {0};
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	int err = crm_web_serve(st, &o, &stop_flag, print_url, NULL);
	crm_store_free(st);
	return err < 0 ? cli_fail(err) : EXIT_OK;
}
