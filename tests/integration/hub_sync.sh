#!/usr/bin/env bash
# hub_sync.sh — issue 5, "Done when" 1: a hub, two branches and a laptop
# enroll, edit offline, sync, and every state hash (hub included) is equal.
# Also: the hub lists the nodes with their last sync; every commit of the
# hub's log.git passes `git verify-commit` with the hub's allowed-signers
# file and the repository passes `git fsck --strict`; a used or garbage join
# token is refused with one clear line.
. "$(dirname "$0")/lib_hub.sh"


hub_start hub || finish
assert_match '^https://127\.0\.0\.1:[0-9]+$' "$HUB_URL" "hub URL"
assert_contains "$(cat "$TEST_DIR/hub.log")" "listening on $HUB_URL" "hub logs where it listens"

# --- enrollment: two branches and a laptop of MSK
node_join msk MSK branch anna; ID_MSK=$NODE_ID; TOKEN_MSK=$TOKEN
node_join spb SPB branch boris; ID_SPB=$NODE_ID
node_join lap MSK laptop olga; ID_LAP=$NODE_ID
for id in "$ID_MSK" "$ID_SPB" "$ID_LAP"; do
	assert_match '^[0-9a-f]{32}$' "$id" "node id"
done
use_replica lap
expect_ok crm whoami --json
assert_json "$OUT" '.branch == "MSK"' "the laptop belongs to MSK"

# --- offline edits everywhere (no sync yet)
use_replica msk
add company --name "Acme LLC" --tax-id 7701234567 --phone "+7 495 123-45-67"; CO_MSK=$NEW
add contact --first Ivan --last Petrov --company "$CO_MSK" --email ivan@acme.example; PE_MSK=$NEW
add deal --title "Acme pilot" --company "$CO_MSK" --contact "$PE_MSK" --amount 1500.50; DEAL_MSK=$NEW
expect_ok crm deal move "$DEAL_MSK" --stage Proposal
add activity --kind call --subject "Pilot call" --deal "$DEAL_MSK" --contact "$PE_MSK" --done
add task --title "Send the contract" --deal "$DEAL_MSK" --due 2026-12-01T10:00:00Z

use_replica spb
add company --name "Nevsky Trading" --email office@nevsky.example; CO_SPB=$NEW
add contact --first Olga --last Smirnova --phone "8 812 555 0000" --company "$CO_SPB"; PE_SPB=$NEW
add deal --title "Nevsky fleet" --company "$CO_SPB" --amount 99000 --stage Qualified; DEAL_SPB=$NEW
expect_ok crm deal move "$DEAL_SPB" --stage Negotiation
add activity --kind meeting --subject "Fleet demo" --deal "$DEAL_SPB" --at 2026-03-02T10:00:00Z
add task --title "Call back Olga" --contact "$PE_SPB" --due 2026-12-02T09:00:00Z

use_replica lap
add company --name "Roadside Cafe"; CO_LAP=$NEW
add contact --first Pavel --last Orlov --company "$CO_LAP" --email pavel@cafe.example; PE_LAP=$NEW
add deal --title "Cafe coffee machines" --company "$CO_LAP" --contact "$PE_LAP" --amount 3200; DEAL_LAP=$NEW
expect_ok crm deal move "$DEAL_LAP" --stage Won
add activity --kind meeting --subject "Met at the cafe" --deal "$DEAL_LAP" --done
add task --title "Deliver machines" --deal "$DEAL_LAP" --due 2026-12-03T12:00:00Z

# sync_all [PUSH] — every node syncs once, in a fixed order; each must
# succeed.  PUSH=1: each has something of its own to push.
sync_all()
{
	local r
	for r in msk spb lap; do
		use_replica "$r"
		expect_ok crm sync --json || continue
		assert_json "$OUT" '.attempts == 1 and .requests >= 1 and .bytes_down > 0' "sync report of $r"
		if [ "${1:-0}" = 1 ]; then
			assert_json "$OUT" '.pushed >= 1 and .requests >= 2 and .bytes_up > 0' "$r pushed its batch"
		fi
	done
}

# --- two rounds: after them everyone has everything
sync_all 1
sync_all

HASH_HUB=$(hub_hash)
assert_match '^[0-9a-f]{64}$' "$HASH_HUB" "hub state hash"
for r in msk spb lap; do
	use_replica "$r"
	run crm state-hash
	assert_eq "$HASH_HUB" "$OUT" "state hash of $r equals the hub's"
done

# --- what each typed is everywhere
for r in msk spb lap; do
	use_replica "$r"
	run crm deal list --json
	for d in "$DEAL_MSK" "$DEAL_SPB" "$DEAL_LAP"; do
		assert_eq 1 "$(json_get "$OUT" "[.[] | select(.id == \"$d\")] | length")" "deal $d on $r"
	done
	run crm deal show "$DEAL_SPB" --json
	assert_eq "Negotiation" "$(json_get "$OUT" .stage)" "SPB's deal stage on $r"
	run crm deal show "$DEAL_LAP" --json
	assert_eq "Won" "$(json_get "$OUT" .stage)" "laptop's deal stage on $r"
	run crm search "88125550000" --json
	assert_eq "$PE_SPB" "$(json_get "$OUT" '[.[] | select(.id == "'"$PE_SPB"'")][0].id')" "phone search on $r"
	run crm task list --json
	assert_eq 3 "$(json_get "$OUT" length)" "three tasks on $r"
	run crm activity list --json
	assert_eq 3 "$(json_get "$OUT" length)" "three activities on $r"
done

# --- a second day: the laptop edits the shared customer base (SPB's company),
# SPB moves its deal, MSK edits a contact; one more round converges again.
use_replica lap
expect_ok crm company set "$CO_SPB" industry=Logistics
use_replica spb
expect_ok crm deal move "$DEAL_SPB" --stage Won
use_replica msk
expect_ok crm contact set "$PE_MSK" title=CEO
sync_all 1
sync_all
HASH_HUB=$(hub_hash)
for r in msk spb lap; do
	use_replica "$r"
	run crm state-hash
	assert_eq "$HASH_HUB" "$OUT" "day 2: state hash of $r equals the hub's"
	run crm company show "$CO_SPB" --json
	assert_eq "Logistics" "$(json_get "$OUT" .industry)" "day 2: laptop's edit of SPB's company on $r"
done

# --- more than one chunk: one `crm sync` must push and pull until caught up
# (DESIGN.md §8, CLI.md "push and pull until caught up").  400 imported
# contacts are ~5,000 field changes, two batches, >200 KiB of payload: more
# than the first 64 KiB chunk in each direction.
use_replica msk
{
	echo "first,last,email,phone"
	for ((i = 1; i <= 400; i++)); do
		printf 'Bulk%d,Import%d,bulk%d@import.example,+7 495 %03d %04d\n' "$i" "$i" "$i" $((i % 1000)) "$i"
	done
} >"$TEST_DIR/bulk.csv"
expect_ok crm import "$TEST_DIR/bulk.csv"
expect_ok crm seal --json
SEALED=$(json_get "$OUT" .batches)
note "bulk import sealed into $SEALED batches; payload sizes of msk's batches: $(node_sql msk "SELECT group_concat(size) FROM crm_applied WHERE node = '$ID_MSK' ORDER BY seq")"
expect_ok crm sync --json
note "msk multi-chunk sync: $OUT"
assert_json "$OUT" ".pushed == $SEALED" "one sync pushes all $SEALED bulk batches"
assert_eq "$(node_sql msk "SELECT max(seq) FROM crm_applied WHERE node = '$ID_MSK'")" \
	"$(node_sql msk "SELECT value FROM crm_meta WHERE key = 'hub_pushed'")" "the hub's receipt covers every msk batch"
use_replica spb
expect_ok crm sync --json
note "spb multi-chunk pull: $OUT"
run crm contact list --search Import --json
assert_eq 400 "$(json_get "$OUT" length)" "one sync pulls all 400 bulk contacts to spb"
run crm state-hash
assert_eq "$(hub_hash)" "$OUT" "spb equals the hub after one sync"
sync_all
sync_all
HASH_HUB=$(hub_hash)
for r in msk spb lap; do
	use_replica "$r"
	run crm state-hash
	assert_eq "$HASH_HUB" "$OUT" "after the bulk import: state hash of $r equals the hub's"
done

# --- the administrator's view
run syncd nodes --json
assert_eq 0 "$RC" "crm-syncd nodes --json ($ERR)"
NODES=$OUT
assert_json "$NODES" 'type == "array" and length == 3' "three nodes enrolled"
for pair in "$ID_MSK:MSK:branch:anna" "$ID_SPB:SPB:branch:boris" "$ID_LAP:MSK:laptop:olga"; do
	IFS=: read -r id br role name <<<"$pair"
	assert_json "$NODES" ".[] | select(.id == \"$id\") | .branch == \"$br\" and .role == \"$role\"
		and .name == \"$name\" and .state == \"active\" and (.last_sync | type) == \"string\"
		and (.last_sync | test(\"^[0-9]{4}-[0-9]{2}-[0-9]{2}T\")) and .batches >= 2 and .reason == null" \
		"nodes --json entry of $name"
done
run syncd nodes
assert_eq 3 "$(printf '%s\n' "$OUT" | grep -c 'last_sync=20')" "nodes (text) shows last_sync of each"

# --- standard git tools on the hub's log
GIT_DIR="$HUB_DIR/log.git"
run syncd allowed-signers
assert_eq 0 "$RC" "crm-syncd allowed-signers ($ERR)"
printf '%s\n' "$OUT" >"$TEST_DIR/allowed_signers"
for id in "$ID_MSK" "$ID_SPB" "$ID_LAP"; do
	assert_eq 1 "$(grep -c "^$id namespaces=\"git\" ssh-ed25519 AAAA" "$TEST_DIR/allowed_signers")" \
		"allowed-signers has one line for $id"
done
run git --git-dir "$GIT_DIR" fsck --strict
assert_eq 0 "$RC" "git fsck --strict on the hub's log.git ($ERR)"
run git --git-dir "$GIT_DIR" for-each-ref --format='%(refname)' refs/nodes/
for id in "$ID_MSK" "$ID_SPB" "$ID_LAP"; do
	assert_contains "$OUT" "refs/nodes/$id" "hub has the chain of $id"
done
n=0
bad=0
for c in $(git --git-dir "$GIT_DIR" rev-list --all); do
	run git --git-dir "$GIT_DIR" -c gpg.format=ssh -c gpg.ssh.allowedSignersFile="$TEST_DIR/allowed_signers" \
		verify-commit "$c"
	if [ "$RC" -ne 0 ]; then
		bad=$((bad + 1))
		fail "git verify-commit $c on the hub" "$ERR"
	fi
	n=$((n + 1))
done
assert_eq 0 "$bad" "every commit of the hub's log verifies"
# At least: 2 rounds of batches from each node and the hub's own.
if [ "$n" -ge 6 ]; then pass; else fail "only $n commits in the hub's log"; fi
run crm --data "$HUB_DIR" log --json
assert_eq "$n" "$(json_get "$OUT" length)" "crm log on the hub lists every commit git sees"

# --- join tokens: one use only; garbage refused
expect_fail 1 "used already" "$CRM_BIN" --data "$TEST_DIR/again" init --join "$TOKEN_MSK"
assert_eq "no" "$([ -e "$TEST_DIR/again/crm.db" ] && echo yes || echo no)" "no replica left by a refused join"
use_replica msk
run crm init --join "$TOKEN_MSK"
assert_eq 1 "$RC" "an enrolled node running init --join again"
assert_eq 1 "$_ERR_LINES" "one line on stderr for init --join on an existing replica ($ERR)"
run crm whoami --json
assert_eq "$ID_MSK" "$(json_get "$OUT" .id)" "the existing node is unchanged"
expect_fail 1 "token" "$CRM_BIN" --data "$TEST_DIR/junk" init --join "BLT1:this-is-not-a-token"
expect_fail 1 "token" "$CRM_BIN" --data "$TEST_DIR/junk2" init --join "garbage"
TOK=$(hub_token MSK laptop forged)
# Same format, forged secret: the hub does not know it.
FORGED=$(printf '%s' "${TOK#BLT1:}" | base64 -d 2>/dev/null | jq -c '.secret = "00112233445566778899aabbccddeeff"' \
	| base64 -w0)
expect_fail 1 "unknown join token" "$CRM_BIN" --data "$TEST_DIR/forged" init --join "BLT1:$FORGED"
run syncd nodes --json
assert_json "$OUT" 'length == 3' "refused joins enrolled nobody"
assert_eq "$HASH_HUB" "$(hub_hash)" "refused joins changed nothing on the hub"

# --- a late node joins and catches up from the hub
node_join late MSK branch anna2
expect_ok crm sync --json
assert_json "$OUT" '.pulled >= 6' "a new node pulls the history"
run crm state-hash
assert_eq "$(hub_hash)" "$OUT" "the late node converges with the hub after one sync (history > one chunk)"

# --- an enrolled node running init --join again with a *fresh* token must be
# refused before anything reaches the hub: no ghost node (whose private key
# was never stored) on the hub, and the token is not used up.
FRESH=$(hub_token MSK branch ghost)
use_replica msk
expect_fail 1 "already holds a replica" crm init --join "$FRESH"
run crm whoami --json
assert_eq "$ID_MSK" "$(json_get "$OUT" .id)" "the existing node is unchanged"
run syncd nodes --json
assert_json "$OUT" 'length == 4 and all(.[]; .name != "ghost")' \
	"init --join on an existing replica enrolled no ghost node on the hub"
expect_ok "$CRM_BIN" --data "$TEST_DIR/after" init --join "$FRESH"   # the token is still good
hub_alive && pass || fail "the hub died"

finish
