#!/usr/bin/env bash
# A laptop restored from backup forks its node's chain (DESIGN.md §7,
# docs/PROTOCOL.md "Verification by a receiver"): the same node and batch
# number with a different commit.  The receiver must say so, quarantine the
# node (`crm forks`), keep the forked commit under refs/forks/ and apply
# nothing of the other branch — now, on a replay, or later.
#
#   A ──f0──> B                      common history
#   A (backed up) ── E1 ── f1 ──> B  applied
#   A' (backup restored, same key) ── E2 ── f2 ──> B  fork: kept, not applied
. "$(dirname "$0")/lib.sh"

# --- A is trusted by B (and by C, which sees the branches the other way round)
for r in a b c; do
	use_replica $r
	expect_ok crm init --name "node-$r" --branch MSK
done
use_replica a; run crm whoami --json; KEY_A=$(json_get "$OUT" .public_key); ID_A=$(json_get "$OUT" .id)
assert_match '^[0-9a-f]{32}$' "$ID_A" "A's node id"
for r in b c; do
	use_replica $r
	expect_ok crm trust add "$KEY_A" --name node-a
done

# --- common history: A's edits reach B and C
use_replica a
run crm company add --name "Acme LLC" --tax-id 7701234567; CO=$OUT
run crm contact add --first Ivan --last Petrov --company "$CO" --email ivan@acme.ru; PE=$OUT
expect_ok crm export-changes "$TEST_DIR/f0.bcf" --json
run crm log --json
COMMON=$(json_get "$OUT" "[.[] | select(.node == \"$ID_A\") | .seq] | max")
assert_match '^[1-9][0-9]*$' "$COMMON" "A's batches before the backup"
FORK_SEQ=$((COMMON + 1))
for r in b c; do
	use_replica $r
	expect_ok crm import-changes "$TEST_DIR/f0.bcf"
done

# --- the backup; then E1 on A
cp -a "$TEST_DIR/a" "$TEST_DIR/a.backup"
use_replica a
expect_ok crm contact set "$PE" title=CEO
run crm company add --name "Branch One Ltd"; CO_E1=$OUT
expect_ok crm export-changes "$TEST_DIR/f1.bcf"
run crm log --json
OID_E1=$(json_get "$OUT" ".[] | select(.node == \"$ID_A\" and .seq == $FORK_SEQ) | .oid")
assert_match '^[0-9a-f]{40}$' "$OID_E1" "E1's commit"
cp -a "$TEST_DIR/a" "$TEST_DIR/a.e1"   # the E1 line, to continue it later

# --- the laptop dies; the backup comes back (same key) and makes E2
rm -rf "$TEST_DIR/a"
cp -a "$TEST_DIR/a.backup" "$TEST_DIR/a"
use_replica a
run crm whoami --json
assert_eq "$ID_A" "$(json_get "$OUT" .id)" "restored A has the same node id"
expect_ok crm contact set "$PE" title=Intern
run crm company add --name "Branch Two Ltd"; CO_E2=$OUT
expect_ok crm export-changes "$TEST_DIR/f2.bcf"
run crm log --json
OID_E2=$(json_get "$OUT" ".[] | select(.node == \"$ID_A\" and .seq == $FORK_SEQ) | .oid")
assert_match '^[0-9a-f]{40}$' "$OID_E2" "E2's commit"
assert_ne "$OID_E1" "$OID_E2" "E1 and E2 are different commits at the same batch number"

# --- B: f1 applies normally
use_replica b
expect_ok crm import-changes "$TEST_DIR/f1.bcf" --json
assert_json "$OUT" '.applied >= 1 and .forks == 0' "f1 import report"
assert_eq "" "$ERR" "no warning for f1"
expect_ok crm contact show "$PE" --json
assert_eq "CEO" "$(json_get "$OUT" .title)" "E1's edit on B"
expect_ok crm company show "$CO_E1" --json
assert_eq "Branch One Ltd" "$(json_get "$OUT" .name)" "E1's company on B"
run crm state-hash; HASH_B=$OUT
assert_match '^[0-9a-f]{64}$' "$HASH_B" "B's state hash"
run crm forks --json
assert_eq "0" "$(json_get "$OUT" length)" "no forks yet"

# --- B: f2 is a fork — reported, kept, not applied
expect_ok crm import-changes "$TEST_DIR/f2.bcf" --json
assert_contains "$ERR" "fork" "stderr warns about the fork"
assert_json "$OUT" '.applied == 0 and .forks == 1 and .skipped >= 1' "f2 import report"
expect_ok crm forks --json
assert_json "$OUT" "length == 1 and .[0].id == \"$ID_A\" and .[0].seq == $FORK_SEQ" "crm forks lists A at the fork"
assert_eq "$OID_E1" "$(json_get "$OUT" '.[0].known_oid')" "fork: the commit B holds"
assert_eq "$OID_E2" "$(json_get "$OUT" '.[0].other_oid')" "fork: the other commit"
expect_ok crm contact show "$PE" --json
assert_eq "CEO" "$(json_get "$OUT" .title)" "E2's edit is not applied on B"
run crm company show "$CO_E2" --json
assert_ne 0 "$RC" "E2's company does not exist on B"
run crm company list --search "Branch Two" --json
assert_eq "0" "$(json_get "$OUT" length)" "E2's company not listed on B"
run crm state-hash
assert_eq "$HASH_B" "$OUT" "B's state unchanged by the forked file"
run crm log --json
assert_eq "$OID_E1" "$(json_get "$OUT" "[.[] | select(.node == \"$ID_A\" and .seq == $FORK_SEQ) | .oid] | join(\",\")")" \
	"B's log holds E1 (only) at the fork"
assert_eq "" "$(json_get "$OUT" ".[] | select(.oid == \"$OID_E2\") | .oid")" "E2 is not in B's applied log"

GD="$TEST_DIR/b/log.git"
run git --git-dir "$GD" for-each-ref --format='%(refname) %(objectname)' refs/forks
assert_ne "" "$OUT" "refs/forks/ is not empty on B"
assert_contains "$OUT" "refs/forks/$ID_A/$OID_E2 $OID_E2" "the forked commit is kept under refs/forks/<node>/<oid>"
run git --git-dir "$GD" cat-file -t "$OID_E2"
assert_eq "commit" "$OUT" "the forked commit is in B's log.git"
run git --git-dir "$GD" rev-parse "refs/nodes/$ID_A"
assert_eq "$OID_E1" "$OUT" "refs/nodes/<A> still names E1"
run git --git-dir "$GD" fsck --strict
assert_eq 0 "$RC" "git fsck on B after the fork ($ERR)"

# --- the same forked file again: still nothing applied, no crash
expect_ok crm import-changes "$TEST_DIR/f2.bcf" --json
assert_json "$OUT" '.applied == 0' "f2 replay applies nothing"
assert_contains "$ERR" "fork" "f2 replay still warns"
expect_ok crm contact show "$PE" --json
assert_eq "CEO" "$(json_get "$OUT" .title)" "E2's edit still not applied after the replay"
run crm state-hash
assert_eq "$HASH_B" "$OUT" "B's state unchanged after the replay"
run crm forks --json
assert_eq "1" "$(json_get "$OUT" length)" "the fork is recorded once"

# --- quarantine: nothing more from A, on either line
use_replica a
expect_ok crm contact set "$PE" phone="+7 495 000-00-02"
expect_ok crm export-changes "$TEST_DIR/f3.bcf"
use_replica a.e1
expect_ok crm contact set "$PE" title=Chairman
expect_ok crm export-changes "$TEST_DIR/f4.bcf"
use_replica b
for f in f3 f4; do
	expect_ok crm import-changes "$TEST_DIR/$f.bcf" --json
	assert_json "$OUT" '.applied == 0' "$f from a quarantined node applies nothing"
done
expect_ok crm contact show "$PE" --json
assert_eq "CEO" "$(json_get "$OUT" .title)" "the E1 line's later edit is held back"
assert_not_contains "$(json_get "$OUT" .phone)" "000" "the E2 line's later edit is held back"
run crm state-hash
assert_eq "$HASH_B" "$OUT" "B's state unchanged by a quarantined node"
run git --git-dir "$GD" fsck --strict
assert_eq 0 "$RC" "git fsck on B at the end ($ERR)"

# --- C sees the branches the other way round: E2 first, then E1 is the fork
use_replica c
expect_ok crm import-changes "$TEST_DIR/f2.bcf"
expect_ok crm contact show "$PE" --json
assert_eq "Intern" "$(json_get "$OUT" .title)" "E2 applies on C"
run crm state-hash; HASH_C=$OUT
expect_ok crm import-changes "$TEST_DIR/f1.bcf" --json
assert_contains "$ERR" "fork" "C warns about the fork"
assert_json "$OUT" '.applied == 0 and .forks == 1' "f1 import report on C"
expect_ok crm forks --json
assert_json "$OUT" "length == 1 and .[0].id == \"$ID_A\" and .[0].seq == $FORK_SEQ and .[0].other_oid == \"$OID_E1\"" \
	"crm forks on C"
expect_ok crm contact show "$PE" --json
assert_eq "Intern" "$(json_get "$OUT" .title)" "E1 is not applied on C"
run crm state-hash
assert_eq "$HASH_C" "$OUT" "C's state unchanged by the forked file"
run git --git-dir "$TEST_DIR/c/log.git" cat-file -t "$OID_E1"
assert_eq "commit" "$OUT" "the forked commit is in C's log.git"

finish
