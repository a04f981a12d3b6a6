/*
 * fuzz_api.c — libFuzzer target: the web UI's JSON API (node/web/), from
 * the request onwards — query string, body, path, routing, validation and
 * the writes behind them — on a real replica with a few records.
 *
 * Input: byte 0 picks the method (GET POST PATCH DELETE), then the path
 * after "/api/" with an optional "?query" up to the first newline, then the
 * body.  Every answer must be a JSON document with an HTTP status, and an
 * answer of 400 or more must leave the replica's state-hash unchanged.
 * (The Host/Origin checks before this point are tested in cli_serve.sh.)
 */
#include "entity.h"
#include "fuzz_scratch.h"
#include "error.h"
#include "hash.h"
#include "store.h"
#include "web_int.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static crm_store *st;
static crm_web web;

static void cleanup(void)
{
	crm_store_free(st);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *root = fuzz_scratch_dir();
	atexit(cleanup);   /* runs first: stores close before the directory goes */
	char dir[300], company[CRM_ID_LEN + 1], contact[CRM_ID_LEN + 1], deal[CRM_ID_LEN + 1];
	snprintf(dir, sizeof(dir), "%s/node", root);
	crm_init_opts o = {.name = "fuzz", .branch = "MSK"};
	if (crm_store_create(&st, dir, &o) < 0)
		fuzz_die("create");
	crm_kv co[] = {{"name", "Acme Trading"}, {"tax_id", "7701234567"}, {"phone", "+7 495 123-45-67"}};
	crm_kv ct[] = {{"first", "Ivan"}, {"last", "Petrov"}, {"email", "ivan@acme.example"}};
	if (crm_entity_add(st, "company", co, 3, company) < 0 || crm_entity_add(st, "contact", ct, 3, contact) < 0)
		fuzz_die("records");
	crm_kv de[] = {{"title", "Acme pilot"}, {"company", company}, {"contact", contact}, {"amount", "1500.50"}};
	if (crm_entity_add(st, "deal", de, 4, deal) < 0)
		fuzz_die("deal");
	web.st = st;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static const enum evhttp_cmd_type methods[] = {EVHTTP_REQ_GET, EVHTTP_REQ_POST, EVHTTP_REQ_PATCH,
						       EVHTTP_REQ_DELETE};
	if (len < 1)
		return 0;
	enum evhttp_cmd_type m = methods[data[0] % 4];
	const char *text = (const char *)data + 1;
	size_t rest = len - 1, line = 0;
	while (line < rest && text[line] != '\n')
		line++;
	if (line > 1000)
		return 0;
	char path[1100], query[1100] = "";
	snprintf(path, sizeof(path), "/api/%.*s", (int)line, text);
	if (memchr(path, '\0', strlen(path) + 1) != path + strlen(path) || strlen(path) != 5 + line)
		return 0;   /* a NUL in the line: not something a URL can carry */
	char *q = strchr(path, '?');
	if (q) {
		snprintf(query, sizeof(query), "%s", q + 1);
		*q = '\0';
	}
	const char *body = line < rest ? text + line + 1 : "";
	size_t body_len = line < rest ? rest - line - 1 : 0;

	char before[65], after[65];
	if (crm_state_hash(st, before) < 0)
		fuzz_die("state-hash");
	json_t *out = NULL;
	int status = web_dispatch(&web, m, path, query, body, body_len, &out);
	if (status < 200 || status > 599 || !out) {
		fprintf(stderr, "fuzz_api: status %d, answer %p\n", status, (void *)out);
		abort();
	}
	json_decref(out);
	if (crm_state_hash(st, after) < 0)
		fuzz_die("state-hash");
	if (status >= 400 && strcmp(before, after) != 0) {
		fprintf(stderr, "fuzz_api: a refused request (%d) changed the replica\n", status);
		abort();
	}
	return 0;
}
