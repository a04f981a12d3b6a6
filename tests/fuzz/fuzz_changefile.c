/*
 * fuzz_changefile.c — libFuzzer target: a change file (what `crm
 * import-changes` reads and what a sync response carries) applied to a real
 * replica.  Whatever the bytes, the import either applies verified batches
 * or is refused with the replica's state-hash unchanged.
 *
 * At start it creates, in a temp directory, an author replica A with a few
 * records and a receiver B that trusts A, and writes A's change file to
 * $CRM_FUZZ_SEED_DIR (if set) so the fuzzer starts from a valid, signed file
 * it can mutate.
 */
#include "entity.h"
#include "fuzz_scratch.h"
#include "error.h"
#include "exchange.h"
#include "hash.h"
#include "sign.h"
#include "store.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static crm_store *author, *receiver;

static void cleanup(void)
{
	crm_store_free(receiver);
	crm_store_free(author);
}

static void make_author_data(void)
{
	char id[CRM_ID_LEN + 1], contact[CRM_ID_LEN + 1], deal_id[CRM_ID_LEN + 1];
	crm_kv company[] = {{"name", "Fuzz Trading"}, {"tax_id", "7701234567"}};
	crm_kv person[] = {{"first", "Anna"}, {"last", "Petrova"},
			   {"email", "anna@example.org"}, {"phone", "+7 916 555-12-34"}};
	if (crm_entity_add(author, "company", company, 2, id) < 0 ||
	    crm_entity_add(author, "contact", person, 4, contact) < 0)
		fuzz_die("author writes");
	crm_kv deal[] = {{"title", "Fuzz deal"}, {"company", id}, {"amount", "1500.50"}};
	if (crm_entity_add(author, "deal", deal, 3, deal_id) < 0 ||
	    crm_deal_move(author, deal_id, "Won", NULL) < 0)
		fuzz_die("author deal");
}

static void write_seed(void)
{
	const char *dir = getenv("CRM_FUZZ_SEED_DIR");
	uint8_t *buf = NULL;
	size_t len = 0, batches = 0;
	uint64_t cursor = 0;
	int more = 0;
	if (crm_export_buffer(author, 0, 0, NULL, 1u << 20, &buf, &len, &cursor, &batches, &more) < 0)
		fuzz_die("export");
	if (dir && *dir) {
		char path[512];
		snprintf(path, sizeof(path), "%s/seed_valid.crm", dir);
		FILE *f = fopen(path, "wb");
		if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0)
			fuzz_die("write seed");
	}
	free(buf);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *root = fuzz_scratch_dir();
	atexit(cleanup);   /* runs first: stores close before the directory goes */
	char dir[300];
	crm_init_opts a = {.name = "author", .branch = "MSK"}, b = {.name = "receiver", .branch = "SPB"};
	snprintf(dir, sizeof(dir), "%s/a", root);
	if (crm_store_create(&author, dir, &a) < 0)
		fuzz_die("create author");
	snprintf(dir, sizeof(dir), "%s/b", root);
	if (crm_store_create(&receiver, dir, &b) < 0)
		fuzz_die("create receiver");
	uint8_t pub[CRM_PUBKEY_LEN];
	char *line = NULL, node[CRM_NODE_ID_HEX + 1];
	crm_key_public(crm_store_key(author), pub);
	if (crm_pubkey_to_openssh(&line, pub, "author") < 0 ||
	    crm_trust_add(receiver, line, "author", "fuzz", node) < 0)
		fuzz_die("trust");
	free(line);
	make_author_data();
	write_seed();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char before[65], after[65];
	if (crm_state_hash(receiver, before) < 0)
		fuzz_die("state-hash");
	crm_apply_report rep;
	memset(&rep, 0, sizeof(rep));
	int rc = crm_import_buffer(receiver, data, len, NULL, &rep, NULL);
	if (crm_state_hash(receiver, after) < 0)
		fuzz_die("state-hash");
	if (rc < 0 && strcmp(before, after) != 0) {
		fprintf(stderr, "refused import (%s) changed the state\n", crm_error_last());
		abort();
	}
	return 0;
}
