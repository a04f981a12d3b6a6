#!/usr/bin/env bash
# hub_report.sh — issue 6, "Done when": HQ figures on the hub equal the sum of
# the branches' figures after sync.  Two branch nodes make deals in three
# currencies (won, lost, open, one deleted after it reached the hub), an HQ
# node sets plans; each reports on its own branch; after sync `crm-syncd report` over
# the consolidated replica must be their sum, and its per-branch breakdown
# must be each branch's own report.
. "$(dirname "$0")/lib_hub.sh"

MONTH=$(date -u +%Y-%m)

hub_start hub || finish
node_join msk MSK branch anna
node_join spb SPB branch boris
node_join hq HQ hq olga

# add ENTITY ARGS... — `crm ENTITY add` on the current replica; NEW is its id.
add()
{
	NEW=""
	expect_ok crm "$1" add "${@:2}" && NEW=$OUT
}

use_replica msk
add deal --title "MSK won" --amount 100 --currency EUR --source web; expect_ok crm deal move "$NEW" --stage Won
add deal --title "MSK proposal" --amount 50 --currency EUR; expect_ok crm deal move "$NEW" --stage Proposal
add deal --title "MSK lost" --amount 20 --currency USD; expect_ok crm deal move "$NEW" --stage Lost --reason price

use_replica spb
add deal --title "SPB won" --amount 1000 --currency RUB --source fair; expect_ok crm deal move "$NEW" --stage Won
add deal --title "SPB negotiation" --amount 70 --currency EUR; expect_ok crm deal move "$NEW" --stage Negotiation
add deal --title "SPB gone" --amount 5000 --currency RUB; GONE=$NEW
expect_ok crm deal move "$GONE" --stage Won

for n in msk spb; do use_replica "$n"; expect_ok crm sync; done
# Headquarters sets the plans, once the managers' user rows reached it.
use_replica hq
expect_ok crm sync
add plan --month "$MONTH" --user anna --amount 300 --currency EUR
add plan --month "$MONTH" --user boris --amount 2000 --currency RUB
expect_ok crm sync
use_replica spb
expect_ok crm deal delete "$GONE"
for n in msk spb msk; do use_replica "$n"; expect_ok crm sync; done

# Each branch's own figures, from its own node.
use_replica msk
expect_ok crm report funnel --branch MSK --json; F_MSK=$OUT
expect_ok crm report plan --branch MSK --json; P_MSK=$OUT
use_replica spb
expect_ok crm report funnel --branch SPB --json; F_SPB=$OUT
expect_ok crm report plan --branch SPB --json; P_SPB=$OUT
assert_json "$F_MSK" '.deals == 3 and .won == 1 and .lost == 1' "MSK's own funnel"
assert_json "$F_SPB" '.deals == 2 and .won == 1 and .lost == 0' "SPB's own funnel (the deleted deal uncounted)"

expect_ok syncd report funnel --json; F_HQ=$OUT
# The figures of a funnel as {"stage|what": number}: reached and count per
# stage, count and amount per stage and currency.
FLAT='[.stages[] | .stage as $s | {($s + "|reached"): .reached, ($s + "|count"): .count},
	(.totals[] | {($s + "|" + .currency + "|count"): .count, ($s + "|" + .currency + "|amount"): .amount})] | add'
SUM=$(jq -cn --argjson a "$F_MSK" --argjson b "$F_SPB" \
	"[\$a, \$b] | map($FLAT) | reduce .[] as \$m ({}; reduce (\$m | to_entries[]) as \$e (.; .[\$e.key] += \$e.value))")
HQ=$(json_get "$F_HQ" "$FLAT | with_entries(select(.value != 0))")
assert_eq "$(jq -cS 'with_entries(select(.value != 0))' <<<"$SUM")" "$(jq -cS . <<<"$HQ")" \
	"hub funnel = MSK + SPB, stage by stage and currency by currency"
assert_json "$F_HQ" '.deals == 5 and .won == 2 and .lost == 1' "hub funnel totals"
assert_json "$F_HQ" '.stages[4].totals == [{"currency": "EUR", "count": 1, "amount": 10000}, {"currency": "RUB", "count": 1, "amount": 100000}]' \
	"hub: won per currency, the deleted deal gone"
assert_json "$F_HQ" '[.branches[] | .branch] | index("MSK") != null and index("SPB") != null' "hub breaks down by branch by default"
assert_eq "$(json_get "$F_MSK" "$FLAT")" "$(json_get "$F_HQ" ".branches[] | select(.branch == \"MSK\") | $FLAT")" \
	"hub's MSK breakdown = MSK's own report"
assert_eq "$(json_get "$F_SPB" "$FLAT")" "$(json_get "$F_HQ" ".branches[] | select(.branch == \"SPB\") | $FLAT")" \
	"hub's SPB breakdown = SPB's own report"

expect_ok syncd report plan --json; P_HQ=$OUT
assert_eq "$(jq -cn --argjson a "$P_MSK" --argjson b "$P_SPB" '$a.users + $b.users | map({login, currency, plan, fact}) | sort_by(.login)')" \
	"$(jq -c '.users | map({login, currency, plan, fact}) | sort_by(.login)' <<<"$P_HQ")" \
	"hub plan vs fact = the branches' managers"
assert_json "$P_HQ" '[.branch_plans[] | {branch, currency, plan, fact, percent}] == [
	{"branch": "MSK", "currency": "EUR", "plan": 30000, "fact": 10000, "percent": 33.3},
	{"branch": "SPB", "currency": "RUB", "plan": 200000, "fact": 100000, "percent": 50}]' "hub plan per branch"

expect_ok syncd report losses --no-by-branch --json
assert_json "$OUT" 'has("branches") | not' "--no-by-branch: no breakdown"
assert_json "$OUT" '.lost == 1 and .reasons[0].reason == "price"' "hub losses"
expect_ok syncd report funnel
assert_contains "$OUT" "== branch SPB" "hub table shows each branch"
expect_fail 2 "crm-syncd: unknown report 'nope'" syncd report nope
expect_fail 1 "no branch 'XXX'" syncd report funnel --branch XXX

finish
