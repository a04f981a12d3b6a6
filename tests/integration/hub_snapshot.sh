#!/usr/bin/env bash
# hub_snapshot.sh — issue 5, "New nodes can start from a hub snapshot instead
# of replaying all history" (docs/PROTOCOL.md §6):
#   (a) a hub with history from two branches (several batches each, deal
#       moves, a revoked key); a new laptop joins with --snapshot: its state
#       hash equals the hub's, it holds none of the history's commits (known,
#       not held) and its first pull brought nothing old;
#   (b) more edits on every node, syncs in both directions: all converge,
#       nothing doubled;
#   (c) a tampered snapshot file (a byte of the database; the signed cursor),
#       a truncated one, and a download cut by the link emulator are refused
#       with one clear line, and the new replica stays empty; a retry with
#       `crm sync --snapshot` then works.
. "$(dirname "$0")/lib_hub.sh"

hub_start hub || finish

# --- (a) history: two branches, three rounds of edits and syncs
node_join msk MSK branch anna
node_join spb SPB branch boris
node_join gone SPB laptop gleb; ID_GONE=$NODE_ID
add company --name "Old laptop's company"
expect_ok crm sync
expect_ok syncd revoke "$ID_GONE"
for round in 1 2 3; do
	use_replica msk
	add company --name "Acme $round" --tax-id "770123456$round"; CO_MSK=$NEW
	add contact --first "Ivan$round" --last Petrov --company "$CO_MSK" --email "ivan$round@acme.example"
	add deal --title "Acme pilot $round" --company "$CO_MSK" --amount "$round"000; DEAL_MSK=$NEW
	expect_ok crm deal move "$DEAL_MSK" --stage Proposal
	expect_ok crm sync
	use_replica spb
	add company --name "Nevsky $round"; CO_SPB=$NEW
	add deal --title "Nevsky fleet $round" --company "$CO_SPB" --amount 99000 --stage Qualified; DEAL_SPB=$NEW
	expect_ok crm deal move "$DEAL_SPB" --stage Negotiation
	expect_ok crm sync
	expect_ok crm company set "$CO_MSK" industry="Retail $round"   # shared customer base
done
for r in spb msk; do
	use_replica "$r"
	expect_ok crm sync
done

TOKEN_LAP=$(hub_token MSK laptop lena)
use_replica lap
expect_ok crm init --join "$TOKEN_LAP" --snapshot --country KZ --currency KZT
assert_eq "KZ|KZT" "$(node_sql lap "SELECT (SELECT value FROM crm_meta WHERE key = 'country') || '|' ||
	(SELECT value FROM crm_meta WHERE key = 'currency')")" "init --join keeps --country and --currency"
HUB_BATCHES=$(sqlite3 -batch "$HUB_DIR/crm.db" "SELECT count(*) FROM crm_applied")
[ "$HUB_BATCHES" -ge 8 ] && pass || fail "the hub holds only $HUB_BATCHES batches of history"
assert_eq "$(hub_hash)" "$(crm state-hash 2>/dev/null)" "state hash of the laptop started from a snapshot equals the hub's"
assert_eq "$HUB_BATCHES" "$(node_sql lap "SELECT count(*) FROM crm_applied WHERE held = 0")" \
	"every batch of the hub is known to the laptop"
assert_eq 0 "$(node_sql lap "SELECT count(*) FROM crm_applied WHERE held = 1")" "the laptop holds no old commit"
assert_eq "$(sqlite3 -batch "$HUB_DIR/crm.db" "SELECT max(lseq) FROM crm_applied")" \
	"$(node_sql lap "SELECT value FROM crm_meta WHERE key = 'hub_cursor'")" "pull cursor set to the snapshot's"
LAP_ID=$(node_id lap)
assert_contains "$(cat "$TEST_DIR/hub.log")" "GET /v1/snapshot node=$LAP_ID status=200" "snapshot served"
assert_eq 1 "$(node_sql lap "SELECT revoked FROM crm_keys WHERE node = '$ID_GONE'")" "revoked key stays revoked"
expect_ok crm deal list --json
assert_json "$OUT" 'map(select(.title == "Acme pilot 3")) | length == 1' "MSK's deal on the laptop"
assert_json "$OUT" 'map(select(.title == "Acme pilot 3" and .stage == "Proposal")) | length == 1' "its stage"

# --- (b) edits everywhere after the snapshot: both directions converge
use_replica lap
add contact --first Lena --last Orlova --company "$CO_MSK" --email lena@acme.example
expect_ok crm deal move "$DEAL_MSK" --stage Won
expect_ok crm company set "$CO_SPB" industry="Logistics"
use_replica msk
expect_ok crm company set "$CO_MSK" phone="+7 495 000-00-00"
use_replica spb
add contact --first Olga --last Smirnova --company "$CO_SPB"
for pass in 1 2; do
	for r in lap msk spb; do
		use_replica "$r"
		expect_ok crm sync
	done
done
H=$(hub_hash)
for r in msk spb lap; do
	use_replica "$r"
	assert_eq "$H" "$(crm state-hash 2>/dev/null)" "$r converged with the hub after the snapshot"
done
assert_eq "$(node_sql msk "SELECT count(*) FROM contacts")" "$(node_sql lap "SELECT count(*) FROM contacts")" \
	"same contacts, none doubled"
use_replica msk
expect_ok crm deal show "$DEAL_MSK" --json
assert_json "$OUT" '.stage == "Won"' "the laptop's move reached MSK"

# --- (c) refused snapshots leave the new replica empty
SNAP="$TEST_DIR/hub.snap"
expect_ok syncd snapshot "$SNAP"
SIZE=$(stat -c %s "$SNAP")
# the database inside: inflate what precedes the 320-byte trailer
head -c $((SIZE - 320)) "$SNAP" | perl -MCompress::Zlib -e 'local $/; print uncompress(<STDIN>)' >"$TEST_DIR/snap.db"
assert_eq "ok" "$(sqlite3 -batch "$TEST_DIR/snap.db" "PRAGMA quick_check")" "the snapshot holds a sound database"
assert_eq "0 0 0 0" "$(sqlite3 -batch "$TEST_DIR/snap.db" "SELECT (SELECT count(*) FROM crm_hub_tokens),
	(SELECT count(*) FROM crm_hub_nonces), (SELECT count(*) FROM crm_hub_nodes), (SELECT count(*) FROM crm_meta)" |
	tr '|' ' ')" "no token secret, nonce, enrolled node or hub setting in the snapshot"

# empty_replica NAME — nothing but the enrollment in replica NAME.
empty_replica()
{
	assert_eq "0 0 0" "$(node_sql "$1" "SELECT (SELECT count(*) FROM companies), (SELECT count(*) FROM crm_applied),
		(SELECT count(*) FROM crm_clock)" | tr '|' ' ')" "$1 is left empty: $2"
}

cp "$SNAP" "$TEST_DIR/bad1.snap"
printf 'X' | dd of="$TEST_DIR/bad1.snap" bs=1 seek=$((SIZE / 2)) conv=notrunc status=none
use_replica bad1
expect_fail 1 "altered" crm init --join "$(hub_token MSK laptop bad1)" --snapshot-file "$TEST_DIR/bad1.snap"
empty_replica bad1 "a byte of the database changed"

head -c $((SIZE - 320)) "$SNAP" >"$TEST_DIR/bad2.snap"
tail -c 320 "$SNAP" | sed 's/^CRMSNAP1 \([0-9]\)/CRMSNAP1 9\1/' | head -c 320 >>"$TEST_DIR/bad2.snap"
use_replica bad2
expect_fail 1 "signature is not the hub's" crm init --join "$(hub_token MSK laptop bad2)" \
	--snapshot-file "$TEST_DIR/bad2.snap"
empty_replica bad2 "the signed cursor changed"

head -c $((SIZE / 3)) "$SNAP" >"$TEST_DIR/bad3.snap"
use_replica bad3
expect_fail 1 "truncated" crm init --join "$(hub_token MSK laptop bad3)" --snapshot-file "$TEST_DIR/bad3.snap"
empty_replica bad3 "truncated file"

# a download cut by the link: 32 kbit/s and a drop about every second
emu_start cut --rate 32 --drop-every 1 --drop-jitter 0.2 --seed 3 || finish
use_replica bad4
expect_ok crm init --join "$(hub_token MSK laptop bad4)"
expect_fail 1 "cannot reach the hub" crm sync --snapshot --once --hub "$EMU_URL"
empty_replica bad4 "download cut"
emu_stop
# the same node retries straight to the hub: it works and converges
expect_ok crm sync --snapshot
assert_eq "$(hub_hash)" "$(crm state-hash 2>/dev/null)" "retried snapshot: state hash equals the hub's"
expect_fail 1 "holds changes already" crm sync --snapshot
assert_eq "$(hub_hash)" "$(crm state-hash 2>/dev/null)" "a second snapshot is refused and changes nothing"

finish
