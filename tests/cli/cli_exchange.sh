#!/usr/bin/env bash
# Two replicas created apart converge through change files (issue: signed
# change log and exchange by file). Also: git fsck / git verify-commit on the
# log, and damaged, foreign, replayed and truncated files are refused or
# no-ops with state unchanged.
. "$(dirname "$0")/lib.sh"

# --- two nodes, created apart, that trust each other
use_replica a
expect_ok crm init --name anna --branch MSK
use_replica b
expect_ok crm init --name boris --branch SPB
use_replica a; run crm whoami --json; KEY_A=$(json_get "$OUT" .public_key); ID_A=$(json_get "$OUT" .id)
use_replica b; run crm whoami --json; KEY_B=$(json_get "$OUT" .public_key); ID_B=$(json_get "$OUT" .id)
use_replica a; expect_ok crm trust add "$KEY_B" --name boris
use_replica b; expect_ok crm trust add "$KEY_A" --name anna

# --- edits on A travel to B
use_replica a
run crm company add --name "Acme LLC" --tax-id 7701234567 --phone "+7 495 123-45-67"; CO=$OUT
run crm contact add --first Ivan --last Petrov --company "$CO" --email ivan@acme.ru; PE=$OUT
run crm deal add --title "Acme pilot" --company "$CO" --amount 1500.50; DEAL=$OUT
expect_ok crm deal move "$DEAL" --stage Proposal
printf 'contract draft\n' >"$TEST_DIR/contract.txt"
expect_ok crm attach deal "$DEAL" "$TEST_DIR/contract.txt"
expect_ok crm export-changes "$TEST_DIR/a1.bcf" --json
CUR_A=$(json_get "$OUT" .cursor)
assert_json "$OUT" '.batches >= 1 and .nodes == 1' "export report"

use_replica b
expect_ok crm import-changes "$TEST_DIR/a1.bcf" --json
assert_json "$OUT" '.applied >= 1 and .changes > 10' "import report"
expect_ok crm deal show "$DEAL" --json
assert_eq "Proposal" "$(json_get "$OUT" .stage)" "deal stage on B"
assert_eq "150050" "$(json_get "$OUT" .amount)" "deal amount on B"
expect_ok crm search "84951234567" --json
assert_eq "$CO" "$(json_get "$OUT" '.[0].id')" "phone search on B finds A's company"
expect_ok crm attachments deal "$DEAL" --json
SHA=$(json_get "$OUT" '.[0].sha256')
expect_ok crm attachment get "$SHA" --out "$TEST_DIR/got.txt"
assert_eq "contract draft" "$(cat "$TEST_DIR/got.txt")" "attachment content on B"

# --- edits on both, then both directions: equal state
expect_ok crm contact set "$PE" title=CEO
expect_ok crm contact add --first Olga --last Smirnova --phone "8 812 555 0000"
use_replica a
expect_ok crm company set "$CO" industry=Retail
use_replica b; expect_ok crm export-changes "$TEST_DIR/b1.bcf"
use_replica a; expect_ok crm export-changes "$TEST_DIR/a2.bcf" --since "$CUR_A"
use_replica a; expect_ok crm import-changes "$TEST_DIR/b1.bcf"
use_replica b; expect_ok crm import-changes "$TEST_DIR/a2.bcf"
use_replica a; run crm state-hash; HASH_A=$OUT
use_replica b; run crm state-hash; HASH_B=$OUT
assert_match '^[0-9a-f]{64}$' "$HASH_A" "state hash"
assert_eq "$HASH_A" "$HASH_B" "A and B converge"
use_replica a
expect_ok crm contact show "$PE" --json
assert_eq "CEO" "$(json_get "$OUT" .title)" "B's edit reached A"

# --- git tools accept what we wrote
for r in a b; do
	GIT_DIR="$TEST_DIR/$r/log.git"
	run git --git-dir "$GIT_DIR" fsck --strict
	assert_eq 0 "$RC" "git fsck on $r ($ERR)"
	printf '%s %s\n%s %s\n' "$ID_A" "$KEY_A" "$ID_B" "$KEY_B" >"$TEST_DIR/allowed"
	n=0
	for c in $(git --git-dir "$GIT_DIR" rev-list --all); do
		run git --git-dir "$GIT_DIR" -c gpg.format=ssh -c gpg.ssh.allowedSignersFile="$TEST_DIR/allowed" verify-commit "$c"
		assert_eq 0 "$RC" "git verify-commit $c on $r ($ERR)"
		n=$((n + 1))
	done
	assert_ne 0 "$n" "commits on $r"
	loose=$(find "$GIT_DIR/objects" -path '*/objects/[0-9a-f][0-9a-f]/*' -type f | wc -l)
	assert_eq 0 "$loose" "no loose objects on $r"
done

# --- bad files change nothing
use_replica b
run crm state-hash; BEFORE=$OUT
size=$(stat -c %s "$TEST_DIR/a1.bcf")
head -c $((size / 2)) "$TEST_DIR/a1.bcf" >"$TEST_DIR/truncated.bcf"
expect_fail 1 "truncated.bcf" crm import-changes "$TEST_DIR/truncated.bcf"
for off in 40 $((size / 3)) $((size / 2)) $((size - 30)) $((size - 1)); do
	cp "$TEST_DIR/a1.bcf" "$TEST_DIR/flip.bcf"
	byte=$(od -An -tu1 -j "$off" -N1 "$TEST_DIR/flip.bcf" | tr -d ' ')
	printf "$(printf '\\%03o' $(((byte ^ 1) & 255)))" | dd of="$TEST_DIR/flip.bcf" bs=1 seek="$off" conv=notrunc 2>/dev/null
	run crm import-changes "$TEST_DIR/flip.bcf"
	if [ "$RC" -eq 0 ]; then
		# Only acceptable if the flip hit bytes that do not matter and it is a no-op.
		assert_contains "$OUT" "applied 0 batches" "flipped byte at $off"
	else
		assert_eq 1 "$RC" "flipped byte at $off: exit"
	fi
done
expect_ok crm import-changes "$TEST_DIR/a1.bcf"
assert_contains "$OUT" "applied 0 batches" "replayed old file is a no-op"
printf 'not a change file' >"$TEST_DIR/junk.bcf"
expect_fail 1 "junk.bcf" crm import-changes "$TEST_DIR/junk.bcf"
expect_fail 1 "cannot read" crm import-changes "$TEST_DIR/missing.bcf"
run crm state-hash
assert_eq "$BEFORE" "$OUT" "state unchanged after bad files"

# --- a node nobody trusts
use_replica c
expect_ok crm init --name mallory --branch MSK
expect_ok crm company add --name "Evil Corp"
expect_ok crm export-changes "$TEST_DIR/c1.bcf"
use_replica b
expect_fail 1 "unknown node" crm import-changes "$TEST_DIR/c1.bcf"
run crm state-hash
assert_eq "$BEFORE" "$OUT" "state unchanged after unknown signer"
run crm company list --search Evil --json
assert_eq "0" "$(json_get "$OUT" length)" "nothing from the unknown node"

finish
