#!/usr/bin/env bash
# hub_refusals.sh — issue 5, "Done when" 3: refused with a clear message and
# nothing applied (the hub's state hash does not move):
#   (a) a revoked node;
#   (b) a laptop writing another branch's deal — refused locally by the CLI,
#       and, from a modified node that puts the change straight into its
#       pending log, by the hub: the whole chunk (a legitimate edit sealed in
#       the same batch is not applied either), the reason in `nodes`;
#   (c) tampered commits (message changed; payload changed) in a node's log;
#   (d) a forked chain (a node restored from a backup): quarantined, and the
#       original node is refused from then on too;
#   (e) an oversized request (a 9 MiB attachment; the hub takes 8 MiB);
#   (f) a key the hub never enrolled.
# Each scenario uses its own node so that one refusal cannot mask another.
. "$(dirname "$0")/lib_hub.sh"

hub_start hub || finish

# hub_unchanged BEFORE WHAT — the hub's state hash is still BEFORE.
hub_unchanged()
{
	assert_eq "$1" "$(hub_hash)" "hub state unchanged: $2"
}

# node_field NODE_ID FIELD — FIELD of NODE_ID in `crm-syncd nodes --json`.
node_field()
{
	syncd nodes --json | jq -r ".[] | select(.id == \"$1\") | .$2"
}

# last_push_status NODE_ID — HTTP status of the node's last push in the hub log.
last_push_status()
{
	grep "POST /v1/push node=$1 " "$TEST_DIR/hub.log" | tail -n 1 | sed -n 's/.* status=\([0-9]*\) .*/\1/p'
}

# --- the cast: MSK and SPB branch nodes, an MSK laptop
node_join msk MSK branch anna; ID_MSK=$NODE_ID
run crm company add --name "Acme LLC" --tax-id 7701234567; CO=$OUT
expect_ok crm sync
node_join spb SPB branch boris; ID_SPB=$NODE_ID
run crm deal add --title "Nevsky fleet" --amount 99000; DEAL_SPB=$OUT
expect_ok crm sync
node_join lap MSK laptop olga; ID_LAP=$NODE_ID
expect_ok crm sync
run crm deal show "$DEAL_SPB" --json
assert_eq "Nevsky fleet" "$(json_get "$OUT" .title)" "the laptop sees SPB's deal"

# ============================================================ (a) revoked
node_join rev MSK laptop rita; ID_REV=$NODE_ID
expect_ok crm sync
run crm company add --name "Revoked Corp"
BEFORE=$(hub_hash)
run syncd revoke "$ID_REV"
assert_eq 0 "$RC" "crm-syncd revoke ($ERR)"
use_replica rev
expect_fail 1 "revoked" crm sync
note "(a) revoked: $ERR"
expect_fail 1 "revoked" crm sync --once --json
hub_unchanged "$BEFORE" "(a) revoked node's push"
assert_eq "revoked" "$(node_field "$ID_REV" state)" "(a) nodes shows the node revoked"
run syncd allowed-signers
assert_contains "$OUT" "$ID_REV" "(a) allowed-signers keeps a revoked key (old commits still verify)"
expect_fail 1 "no enrolled node" syncd revoke 0123456789abcdef0123456789abcdef
run crm --data "$HUB_DIR" company list --search Revoked --json
assert_eq 0 "$(json_get "$OUT" length)" "(a) nothing of the revoked node on the hub"

# ================================================ (b) another branch's deal
use_replica lap
run crm deal show "$DEAL_SPB" --json
TITLE_BEFORE=$(json_get "$OUT" .title)
expect_fail 1 "own branch" crm deal set "$DEAL_SPB" title=x
expect_fail 1 "own branch" crm deal move "$DEAL_SPB" --stage Won
run crm deal show "$DEAL_SPB" --json
assert_eq "$TITLE_BEFORE" "$(json_get "$OUT" .title)" "(b) the local refusal changed nothing"
expect_ok crm status --json
assert_eq 0 "$(json_get "$OUT" .pending_changes)" "(b) the local refusal left nothing pending"

# A modified node: a legitimate edit, then a forged change to SPB's deal put
# straight into the pending log, so both are sealed into the same batch.
expect_ok crm company set "$CO" industry=Hacked-Together
HLC=$(node_sql lap "SELECT value FROM crm_meta WHERE key = 'hlc'")
assert_match '^[0-9]+$' "$HLC" "(b) the laptop's clock"
FORGED_HLC=$((HLC + 65536 * 5))
node_sql lap "INSERT INTO crm_pending(tbl, row_id, col, value, hlc, prev_hlc)
              VALUES ('deals', '$DEAL_SPB', 'title', 'hacked', $FORGED_HLC, 0);
              UPDATE crm_meta SET value = '$FORGED_HLC' WHERE key = 'hlc';"
BEFORE=$(hub_hash)
expect_ok crm seal
PUSHED=$(node_sql lap "SELECT coalesce((SELECT value FROM crm_meta WHERE key = 'hub_pushed'), 0)")
assert_eq 1 "$(node_sql lap "SELECT count(*) FROM crm_applied WHERE node = '$ID_LAP' AND seq > $PUSHED")" \
	"(b) the forged change and the legitimate edit are sealed into one batch"
expect_fail 1 "another branch" crm sync
note "(b) forged deal: $ERR"
assert_contains "$ERR" "deals" "(b) the refusal names the table"
# Issue 5: "the node says how an operator gets it unstuck" — the refused batch
# is signed into the node's chain, so every later sync is refused too.
assert_match 'operator|OPERATOR|re-enroll|docs/' "$ERR" "(b) the refusal says how an operator gets the node unstuck"
assert_eq 403 "$(last_push_status "$ID_LAP")" "(b) the hub answered the push with 403"
hub_unchanged "$BEFORE" "(b) forged deal title"
run crm --data "$HUB_DIR" deal show "$DEAL_SPB" --json
assert_eq "$TITLE_BEFORE" "$(json_get "$OUT" .title)" "(b) SPB's deal title on the hub"
run crm --data "$HUB_DIR" company show "$CO" --json
assert_ne "Hacked-Together" "$(json_get "$OUT" .industry)" \
	"(b) the whole chunk is refused: the legitimate company edit of the same batch is not applied"
REASON=$(node_field "$ID_LAP" reason)
assert_contains "$REASON" "another branch" "(b) nodes --json shows the reason"
assert_eq "active" "$(node_field "$ID_LAP" state)" "(b) a refused chunk does not quarantine the node"
# The node stays refused (the batch is signed into its chain) and says so again.
expect_fail 1 "another branch" crm sync --once
hub_unchanged "$BEFORE" "(b) second attempt"
use_replica spb
expect_ok crm sync
run crm deal show "$DEAL_SPB" --json
assert_eq "$TITLE_BEFORE" "$(json_get "$OUT" .title)" "(b) SPB never sees the forged title"

# Two batches in one chunk: a legitimate batch sealed first, the forged one
# after it.  The hub applies a chunk in one transaction, so neither lands.
node_join lap2 MSK laptop lena; ID_LAP2=$NODE_ID
expect_ok crm sync
expect_ok crm company set "$CO" phone="+7 495 000-00-01"
expect_ok crm seal
HLC=$(node_sql lap2 "SELECT value FROM crm_meta WHERE key = 'hlc'")
FORGED_HLC=$((HLC + 65536 * 5))
node_sql lap2 "INSERT INTO crm_pending(tbl, row_id, col, value, hlc, prev_hlc)
               VALUES ('deals', '$DEAL_SPB', 'amount', 1, $FORGED_HLC, 0);
               UPDATE crm_meta SET value = '$FORGED_HLC' WHERE key = 'hlc';"
expect_ok crm seal
PUSHED=$(node_sql lap2 "SELECT coalesce((SELECT value FROM crm_meta WHERE key = 'hub_pushed'), 0)")
assert_eq 2 "$(node_sql lap2 "SELECT count(*) FROM crm_applied WHERE node = '$ID_LAP2' AND seq > $PUSHED")" \
	"(b2) a legitimate batch and a forged batch wait to be pushed"
BEFORE=$(hub_hash)
expect_fail 1 "another branch" crm sync
hub_unchanged "$BEFORE" "(b2) a chunk with a legitimate and a forged batch"
run crm --data "$HUB_DIR" company show "$CO" --json
assert_not_contains "$OUT" "4950000001" "(b2) the legitimate batch of the refused chunk is not applied either"
assert_eq "$PUSHED" "$(node_sql lap2 "SELECT coalesce((SELECT value FROM crm_meta WHERE key = 'hub_pushed'), 0)")" \
	"(b2) no receipt for any batch of the refused chunk"

# ========================================================== (c) tampered
node_join tam MSK branch tom; ID_TAM=$NODE_ID
run crm company add --name "Tamper Base"
expect_ok crm sync
BEFORE=$(hub_hash)
REF="refs/nodes/$ID_TAM"

# tamper KIND — in a copy tam.KIND of tam: one new batch, then its commit is
# rewritten at the git level (KIND=message: one character of the message;
# KIND=payload: changes.msgpack replaced, message, trailers and signature kept)
# and the ref, crm_heads and crm_applied point to the rewritten commit.
tamper()
{
	local kind=$1 copy="$TEST_DIR/tam.$1" old new tree blob seq
	rm -rf "$copy"
	cp -a "$TEST_DIR/tam" "$copy"
	use_replica "tam.$kind"
	expect_ok crm company add --name "Tampered $kind Ltd" || return 1
	expect_ok crm seal || return 1
	old=$(git --git-dir "$copy/log.git" rev-parse "$REF")
	if [ "$kind" = message ]; then
		new=$(git --git-dir "$copy/log.git" cat-file commit "$old" | sed '0,/^Batch /s//Botch /' |
			git --git-dir "$copy/log.git" hash-object -t commit -w --stdin)
	else
		blob=$(git --git-dir "$copy/log.git" rev-parse "$old:changes.msgpack")
		git --git-dir "$copy/log.git" cat-file blob "$blob" >"$TEST_DIR/payload"
		# Same length, other text: the company's name.
		perl -0777 -pi -e "s/Tampered payload Ltd/Tampered PAYLOAD Ltd/" "$TEST_DIR/payload"
		blob=$(git --git-dir "$copy/log.git" hash-object -w "$TEST_DIR/payload")
		tree=$(git --git-dir "$copy/log.git" ls-tree "$old" | sed "s/[0-9a-f]\{40\}\tchanges.msgpack$/$blob\tchanges.msgpack/" |
			git --git-dir "$copy/log.git" mktree)
		new=$(git --git-dir "$copy/log.git" cat-file commit "$old" | sed "1s/^tree .*/tree $tree/" |
			git --git-dir "$copy/log.git" hash-object -t commit -w --stdin)
	fi
	assert_match '^[0-9a-f]{40}$' "$new" "($kind) rewritten commit" || return 1
	assert_ne "$old" "$new" "($kind) the commit id changed"
	git --git-dir "$copy/log.git" update-ref "$REF" "$new" "$old"
	node_sql "tam.$kind" "UPDATE crm_heads SET oid = '$new' WHERE oid = '$old';
	                      UPDATE crm_applied SET oid = '$new' WHERE oid = '$old';"
	seq=$(node_sql "tam.$kind" "SELECT seq FROM crm_applied WHERE oid = '$new'")
	assert_match '^[0-9]+$' "$seq" "($kind) the rewritten batch is in crm_applied"
	assert_eq 1 "$(node_sql "tam.$kind" "SELECT CAST(value AS INTEGER) < $seq FROM crm_meta WHERE key = 'hub_pushed'")" \
		"($kind) the rewritten batch is not pushed yet"
	run crm sync --once
	assert_eq 1 "$RC" "(c $kind) sync of a tampered commit exits 1 ($ERR)"
	note "(c $kind) tampered: $ERR"
	assert_eq 1 "$_ERR_LINES" "(c $kind) one line on stderr"
	assert_match 'signature|verify|Payload|SHA-256|hash|tamper' "$ERR" "(c $kind) the refusal says what failed"
	local st
	st=$(last_push_status "$ID_TAM")
	assert_match '^4[0-9][0-9]$' "$st" "(c $kind) the hub refused the push ($st)"
	hub_unchanged "$BEFORE" "(c $kind) tampered commit"
	assert_eq "active" "$(node_field "$ID_TAM" state)" "(c $kind) a tampered upload does not quarantine the node"
}
tamper message
tamper payload
run crm --data "$HUB_DIR" company list --search Tampered --json
assert_eq 0 "$(json_get "$OUT" length)" "(c) nothing tampered on the hub"
# The untouched node still syncs: the refusals did no harm.
use_replica tam
run crm company add --name "Honest Ltd"
expect_ok crm sync

# ============================================================= (d) forked
node_join frk SPB branch fedor; ID_FRK=$NODE_ID
run crm company add --name "Fork Base"; CO_FRK=$OUT
expect_ok crm sync
cp -a "$TEST_DIR/frk" "$TEST_DIR/frk.backup"
expect_ok crm company set "$CO_FRK" industry=Original
expect_ok crm sync
AFTER_E1=$(hub_hash)
use_replica frk.backup                       # the laptop restored from backup
run crm whoami --json
assert_eq "$ID_FRK" "$(json_get "$OUT" .id)" "(d) the backup has the same node id"
expect_ok crm company set "$CO_FRK" industry=FromBackup
run crm sync --once
assert_eq 1 "$RC" "(d) sync of a forked chain exits 1 ($ERR)"
note "(d) fork: $ERR"
assert_eq 1 "$_ERR_LINES" "(d) one line on stderr"
assert_match 'fork|quarantine' "$ERR" "(d) the refusal says fork/quarantine"
assert_eq 409 "$(last_push_status "$ID_FRK")" "(d) the hub answered 409"
hub_unchanged "$AFTER_E1" "(d) the forked push"
assert_eq "forked" "$(node_field "$ID_FRK" state)" "(d) nodes --json shows the node forked"
assert_contains "$(node_field "$ID_FRK" reason)" "fork" "(d) nodes --json says why"
run syncd nodes
assert_contains "$OUT" "forked" "(d) nodes (text) shows forked"
run crm --data "$HUB_DIR" company show "$CO_FRK" --json
assert_eq "Original" "$(json_get "$OUT" .industry)" "(d) the hub keeps the first line of history"
run git --git-dir "$HUB_DIR/log.git" for-each-ref --format='%(refname)' "refs/forks/$ID_FRK/"
assert_match "refs/forks/$ID_FRK/[0-9a-f]{40}" "$OUT" "(d) the hub keeps the forked commit (nothing thrown away)"
# Quarantine: the original node is refused from now on, push and pull.
use_replica frk
expect_ok crm status
run crm company set "$CO_FRK" industry=Later
run crm sync --once
assert_eq 1 "$RC" "(d) the original node is refused after the fork ($ERR)"
assert_match 'quarantine|fork' "$ERR" "(d) ... because it is quarantined"
note "(d) original after the fork: $ERR"
hub_unchanged "$AFTER_E1" "(d) the original node's later push"
run crm sync --once   # nothing new to push: the pull is refused too
assert_eq 1 "$RC" "(d) the quarantined node cannot pull either ($ERR)"
use_replica frk.backup
run crm sync --once
assert_eq 1 "$RC" "(d) the backup stays refused ($ERR)"

# ========================================================== (e) oversized
node_join big MSK branch bob; ID_BIG=$NODE_ID
run crm company add --name "Big Files Ltd"; CO_BIG=$OUT
expect_ok crm sync
BEFORE=$(hub_hash)
head -c $((9 * 1024 * 1024)) /dev/urandom >"$TEST_DIR/bigfile.bin"
# A file that could never fit one sync request is refused when attached.
expect_fail 1 "too large to attach" crm attach company "$CO_BIG" "$TEST_DIR/bigfile.bin"
# A large one that fits (5 MiB) travels.
head -c $((5 * 1024 * 1024)) /dev/urandom >"$TEST_DIR/file5.bin"
expect_ok crm attach company "$CO_BIG" "$TEST_DIR/file5.bin"
expect_ok crm sync
BEFORE=$(hub_hash)
# A request body over the hub's 8 MiB limit (a modified or buggy node): the
# hub answers 413 without reading it and stays up, nothing applied.
URL=$HUB_URL
run curl -sk -o /dev/null -w '%{http_code}' -X POST --data-binary @"$TEST_DIR/bigfile.bin" \
	-H 'Content-Type: application/octet-stream' "$URL/v1/push"
assert_eq 413 "$OUT" "(e) the hub refuses an oversized request with 413"
hub_alive && pass || fail "(e) the hub survived the oversized request"
hub_unchanged "$BEFORE" "(e) oversized request"
# The hub still serves everyone else.
use_replica msk
run crm company add --name "After Big Ltd"
expect_ok crm sync

# ====================================================== (f) unknown node
use_replica stranger
expect_ok crm init --name mallory --branch MSK
run crm company add --name "Evil Corp"
for k in hub hub_pin; do
	v=$(node_sql msk "SELECT value FROM crm_meta WHERE key = '$k'")
	node_sql stranger "INSERT OR REPLACE INTO crm_meta(key, value) VALUES ('$k', '$v')"
done
BEFORE=$(hub_hash)
expect_fail 1 "not enrolled" crm sync
note "(f) unknown key: $ERR"
hub_unchanged "$BEFORE" "(f) unknown node"
run crm --data "$HUB_DIR" company list --search Evil --json
assert_eq 0 "$(json_get "$OUT" length)" "(f) nothing from the unknown node"
run syncd nodes --json
assert_json "$OUT" "all(.[]; .name != \"mallory\")" "(f) the unknown node is not listed"

# --- after all that, the honest nodes still converge with the hub
for r in msk spb tam; do
	use_replica "$r"
	expect_ok crm sync
done
use_replica msk
expect_ok crm sync
HUB_NOW=$(hub_hash)
for r in msk spb tam; do
	use_replica "$r"
	run crm state-hash
	assert_eq "$HUB_NOW" "$OUT" "$r converges with the hub after the refusals"
done
hub_alive && pass || fail "the hub died"

# ============================================ (g) a record hq moved away
# A laptop of the old branch edited it offline before it learned of the
# move: accepted (syncd/hub.c, note 4); once it has pulled the move, its own
# check refuses further edits.
node_join hq HQ hq hanna
node_join lap3 MSK laptop lev
use_replica msk
expect_ok crm sync
add deal --title "Moving deal" --company "$CO" --amount 1000; DEAL_MV=$NEW
expect_ok crm sync
use_replica lap3
expect_ok crm sync
use_replica hq
expect_ok crm sync
run crm branch list --json
SPB_BID=$(jq -r '.[] | select(.code == "SPB") | .id' <<<"$OUT")
assert_match "$UUID_RE" "$SPB_BID" "(g) SPB's branch id"
expect_ok crm deal set "$DEAL_MV" branch="$SPB_BID"
expect_ok crm sync
use_replica lap3
expect_ok crm deal set "$DEAL_MV" amount=2000
expect_ok crm sync
run crm --data "$HUB_DIR" deal show "$DEAL_MV" --json
assert_json "$OUT" ".amount_text == \"2000.00\" and .branch_id == \"$SPB_BID\"" \
	"(g) the offline edit reached the hub; the deal stays in SPB"
expect_fail 1 "of its own branch only" crm deal set "$DEAL_MV" amount=3000
use_replica hq
expect_ok crm sync
H=$(hub_hash)
assert_eq "$H" "$(crm state-hash 2>/dev/null)" "(g) hq converged"
use_replica lap3
expect_ok crm sync
assert_eq "$H" "$(crm state-hash 2>/dev/null)" "(g) the laptop converged"

finish
