/*
 * main.c — the crm-syncd executable: parse, call hub.c / server.c, print.
 */
#include "cli.h"
#include "error.h"
#include "hash.h"
#include "hub.h"
#include "report.h"
#include "server.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile sig_atomic_t stop_flag;
static void on_signal(int sig) { (void)sig; stop_flag = 1; }

static int fail(int err)
{
	fprintf(stderr, "crm-syncd: %s\n", *crm_error_last() ? crm_error_last() : crm_error_name(err));
	return 1;
}

static int usage(FILE *to, int code)
{
	fprintf(to, "usage: crm-syncd --data DIR COMMAND\n"
		"  init [--listen HOST:PORT]                  create the hub replica, keys, TLS certificate\n"
		"  run [--dashboard 127.0.0.1:PORT]           serve until SIGTERM; logs to stderr; --dashboard\n"
		"                                             also serves the read-only HQ web UI there\n"
		"  token --branch CODE [--role laptop|branch|hq] [--name NAME]   print a join token\n"
		"  nodes [--json]                             enrolled nodes, last sync, state\n"
		"  revoke NODE_ID                             refuse a node from its next request on\n"
		"  allowed-signers                            git allowed-signers lines for every node key\n"
		"  state-hash                                 digest of the consolidated replica\n"
		"  snapshot FILE                              write a signed snapshot for new nodes\n"
		"                                             (crm init --join TOKEN --snapshot-file FILE)\n"
		"  report NAME [--branch CODE] [--from D] [--to D] [--no-by-branch] [--json]\n"
		"                                             HQ reports over all branches (NAME: %s)\n",
		crm_report_names());
	return code;
}

/* --name VALUE among argv[from..]; NULL if absent. */
static const char *opt(int argc, char **argv, int from, const char *name)
{
	for (int i = from; i + 1 < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return argv[i + 1];
	return NULL;
}

static int with_store(const char *dir, crm_store **st)
{
	int err = crm_store_open(st, dir);
	return err < 0 ? fail(err) : 0;
}

static int cmd_run(const char *dir, const char *dashboard)
{
	struct sigaction sa = {0};
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	int err = crm_server_run(dir, dashboard, &stop_flag);
	return err < 0 ? fail(err) : 0;
}

static int cmd_print(const char *dir, const char *what, int json, const char *arg)
{
	crm_store *st;
	if (with_store(dir, &st))
		return 1;
	char *text = NULL, hex[65];
	json_t *doc = NULL;
	int err;
	if (strcmp(what, "nodes") == 0)
		err = crm_hub_nodes(st, &doc);
	else if (strcmp(what, "allowed-signers") == 0)
		err = crm_hub_allowed_signers(st, &text);
	else if (strcmp(what, "revoke") == 0)
		err = crm_hub_revoke(st, arg);
	else
		err = crm_state_hash(st, hex);
	crm_store_free(st);
	if (err < 0)
		return fail(err);
	if (doc) {
		size_t i;
		json_t *n;
		if (json) {
			char *s = json_dumps(doc, JSON_COMPACT);
			puts(s ? s : "[]");
			free(s);
		} else {
			json_array_foreach(doc, i, n)
				printf("%s  %-12s %-8s %-7s %-8s batches=%lld last_sync=%s%s%s\n",
				       json_string_value(json_object_get(n, "id")), json_string_value(json_object_get(n, "name")),
				       json_string_value(json_object_get(n, "branch")), json_string_value(json_object_get(n, "role")),
				       json_string_value(json_object_get(n, "state")),
				       (long long)json_integer_value(json_object_get(n, "batches")),
				       json_string_value(json_object_get(n, "last_sync")) ? json_string_value(json_object_get(n, "last_sync")) : "never",
				       json_string_value(json_object_get(n, "reason")) ? " reason=" : "",
				       json_string_value(json_object_get(n, "reason")) ? json_string_value(json_object_get(n, "reason")) : "");
		}
		json_decref(doc);
	} else if (text) {
		fputs(text, stdout);
		free(text);
	} else if (strcmp(what, "state-hash") == 0) {
		puts(hex);
	}
	return 0;
}

static int cmd_snapshot(const char *dir, const char *path)
{
	crm_store *st;
	uint64_t cursor, bytes;
	if (with_store(dir, &st))
		return 1;
	int err = crm_hub_snapshot(st, NULL, path, &cursor, &bytes);
	crm_store_free(st);
	if (err < 0)
		return fail(err);
	printf("%s: %llu bytes, up to position %llu\n", path, (unsigned long long)bytes, (unsigned long long)cursor);
	return 0;
}

static int cmd_token(const char *dir, int argc, char **argv)
{
	const char *branch = opt(argc, argv, 0, "--branch");
	const char *role = opt(argc, argv, 0, "--role");
	if (!branch)
		return usage(stderr, 2);
	crm_store *st;
	if (with_store(dir, &st))
		return 1;
	char *token = NULL;
	int err = crm_hub_token(st, branch, role ? role : "branch", opt(argc, argv, 0, "--name"), &token);
	crm_store_free(st);
	if (err < 0)
		return fail(err);
	puts(token);
	free(token);
	return 0;
}

int main(int argc, char **argv)
{
	const char *dir = NULL;
	int i = 1;
	if (i + 1 < argc && strcmp(argv[i], "--data") == 0) {
		dir = argv[i + 1];
		i += 2;
	}
	if (i < argc && (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0))
		return usage(stdout, 0);
	if (!dir || i >= argc)
		return usage(stderr, 2);
	const char *cmd = argv[i++];
	if (strcmp(cmd, "report") == 0) {
		cli c = {.data = dir, .argc = argc - i, .argv = argv + i};
		cli_prog = "crm-syncd";
		return cli_report(&c, 1);
	}
	int json = i < argc && strcmp(argv[argc - 1], "--json") == 0;
	if (i < argc && strcmp(argv[i], "--help") == 0)
		return usage(stdout, 0);
	if (strcmp(cmd, "init") == 0) {
		int err = crm_hub_init(dir, opt(argc, argv, i, "--listen"));
		return err < 0 ? fail(err) : 0;
	}
	if (strcmp(cmd, "run") == 0)
		return cmd_run(dir, opt(argc, argv, i, "--dashboard"));
	if (strcmp(cmd, "token") == 0)
		return cmd_token(dir, argc - i, argv + i);
	if (strcmp(cmd, "snapshot") == 0 && i < argc)
		return cmd_snapshot(dir, argv[i]);
	if (strcmp(cmd, "revoke") == 0 && i < argc)
		return cmd_print(dir, cmd, 0, argv[i]);
	if (!strcmp(cmd, "nodes") || !strcmp(cmd, "allowed-signers") || !strcmp(cmd, "state-hash"))
		return cmd_print(dir, cmd, json, NULL);
	fprintf(stderr, "crm-syncd: unknown command '%s'; see 'crm-syncd --help'\n", cmd);
	return 2;
}
