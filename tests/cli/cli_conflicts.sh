#!/usr/bin/env bash
# Three branches edit offline and exchange change files in different orders
# (issue: deterministic merge rules). They must end with equal state hashes,
# one live company per tax id, the deal Won, and every set-aside value in
# `crm conflicts` on every replica.
. "$(dirname "$0")/lib.sh"

NODES="a b c"
declare -A KEY
for n in $NODES; do
	use_replica "$n"
	expect_ok crm init --name "node-$n" --branch "BR-$n"
	run crm whoami --json
	KEY[$n]=$(json_get "$OUT" .public_key)
done
for n in $NODES; do
	use_replica "$n"
	for m in $NODES; do
		[ "$n" = "$m" ] || expect_ok crm trust add "${KEY[$m]}" --name "node-$m"
	done
done

# ship SRC DST — export everything SRC holds and import it on DST.
ship()
{
	use_replica "$1"
	expect_ok crm export-changes "$TEST_DIR/$1-to-$2.bcf"
	use_replica "$2"
	expect_ok crm import-changes "$TEST_DIR/$1-to-$2.bcf"
}

# --- shared starting point, made on a
use_replica a
run crm company add --name "Acme" --tax-id 7700000001; CO=$OUT
run crm contact add --first Ivan --last Petrov --company "$CO"; PE=$OUT
run crm deal add --title "Acme pilot" --company "$CO" --amount 1000 --stage Qualified; DEAL=$OUT
ship a b
ship a c

# --- offline edits
use_replica a
expect_ok crm company set "$CO" industry=Retail
expect_ok crm deal move "$DEAL" --stage Won
expect_ok crm contact delete "$PE"
use_replica b
expect_ok crm company set "$CO" industry=Wholesale
expect_ok crm deal move "$DEAL" --stage Negotiation
run crm company add --name "Globex" --tax-id 7800000002; GB=$OUT
use_replica c
expect_ok crm contact set "$PE" title=CTO
run crm company add --name "Globex LLC" --tax-id "78 0000 0002"; GC=$OUT
expect_fail 1 "already has tax id" crm company add --name "Globex again" --tax-id 7800000002

# --- exchange in different orders, then everybody with everybody
ship c a
ship b c
ship a b
ship b a
ship c b
ship a c
for round in 1 2; do
	for s in $NODES; do
		for d in $NODES; do
			[ "$s" = "$d" ] || ship "$s" "$d"
		done
	done
done

declare -A HASH
for n in $NODES; do
	use_replica "$n"
	run crm state-hash
	HASH[$n]=$OUT
done
assert_eq "${HASH[a]}" "${HASH[b]}" "a and b converge"
assert_eq "${HASH[a]}" "${HASH[c]}" "a and c converge"

for n in $NODES; do
	use_replica "$n"
	# the deal: Won beats a concurrent Negotiation
	run crm deal show "$DEAL" --json
	assert_eq "Won" "$(json_get "$OUT" .stage)" "deal stage on $n"
	# one live company per tax id; the loser shows the survivor
	run crm company list --search Globex --json
	assert_eq "1" "$(json_get "$OUT" length)" "one Globex on $n"
	SURV=$(json_get "$OUT" '.[0].id')
	LOW=$(printf '%s\n%s\n' "$GB" "$GC" | sort | head -1)
	assert_eq "$LOW" "$SURV" "survivor is the lowest id on $n"
	run crm company show "$GB" --json
	assert_eq "$SURV" "$(json_get "$OUT" .id)" "merged-away id shows the survivor on $n"
	# the delete won, the concurrent edit stays in the row
	run crm contact list --json
	assert_json "$OUT" "map(select(.id == \"$PE\")) | length == 0" "deleted contact hidden on $n"
	run crm contact show "$PE" --json
	assert_eq "CTO" "$(json_get "$OUT" .title)" "concurrent edit kept in the deleted row on $n"
	# every set-aside value is in the inbox
	run crm conflicts --json
	C=$OUT
	run crm company show "$CO" --json
	KEPT=$(json_get "$OUT" .industry)
	LOST=Retail; [ "$KEPT" = "Retail" ] && LOST=Wholesale
	assert_json "$C" "map(select(.field == \"industry\" and .lost_value == \"$LOST\" and .kept_value == \"$KEPT\")) | length == 1" "industry conflict on $n"
	assert_json "$C" 'map(select(.field == "stage_id" and .lost_stage == "Negotiation" and .kept_stage == "Won")) | length == 1' "stage conflict on $n"
	assert_json "$C" "map(select(.row_id == \"$PE\" and .field == \"title\" and .lost_value == \"CTO\")) | length == 1" "delete vs edit on $n"
	assert_json "$C" "map(select(.field == \"merged_into\" and .kept_value == \"$SURV\")) | length == 1" "automatic merge reported on $n"
done

# --- a person's decisions replicate: undo the automatic merge on c
use_replica c
expect_ok crm merge --undo "$GB" "$GC"
run crm company list --search Globex --json
assert_eq "2" "$(json_get "$OUT" length)" "kept apart on c"
ship c a
use_replica a
run crm company list --search Globex --json
assert_eq "2" "$(json_get "$OUT" length)" "kept apart reached a"
# ... and re-applying a set-aside value is a new edit
run crm conflicts --json
ID=$(json_get "$OUT" 'map(select(.field == "industry")) | .[0].id')
LOSTV=$(json_get "$OUT" 'map(select(.field == "industry")) | .[0].lost_value')
expect_ok crm conflicts reapply "$ID"
run crm company show "$CO" --json
assert_eq "$LOSTV" "$(json_get "$OUT" .industry)" "reapplied value is current"
run crm conflicts --json
assert_json "$OUT" "map(select(.id == $ID)) | length == 0" "reapplied conflict leaves the inbox"
expect_fail 2 "not a conflict number" crm conflicts resolve abc
expect_fail 1 "no conflict" crm conflicts resolve 999999

finish
