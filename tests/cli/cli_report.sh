#!/usr/bin/env bash
# cli_report.sh — `crm report` and `crm board` on data typed through the CLI:
# deals in two branches and three currencies moved through the pipeline (won,
# lost with reasons, reopened nowhere), a tombstoned deal, a deal on a merged
# company, leads with sources, plans, tasks.  Every figure below is worked
# out by hand from the data (docs/REPORTS.md has the definitions).
. "$(dirname "$0")/lib.sh"

TODAY=$(date -u +%F)
MONTH=$(date -u +%Y-%m)
NEXT15=$(date -u -d "$(date -u +%Y-%m-01) +1 month +14 days" +%F)
PLUS10=$(date -u -d "+10 days" +%F)
PLUS15=$(date -u -d "+15 days" +%F)

# add ENTITY ARGS... — add a record; its id in NEW.
add()
{
	NEW=""
	expect_ok crm "$1" add "${@:2}" && NEW=$OUT
}

# report NAME ARGS... — `crm report NAME ARGS --json` into R.
report()
{
	R="{}"
	expect_ok crm report "$@" --json && R=$OUT
}

expect_ok crm init --name anna --branch MSK
add branch --code SPB --name Petersburg; SPB=$NEW
MSK=$(crm branch list --json | jq -r '.[] | select(.code == "MSK") | .id')
add user --login bob --name Bob "branch=$SPB"

add company --name Acme; ACME=$NEW
add company --name "Acme Ltd"; ACME2=$NEW
expect_ok crm merge "$ACME" "$ACME2"

# D1 New > Qualified > Proposal > Won (MSK, web)           100.00 EUR
add deal --title D1 --amount 100 --currency EUR --source web --company "$ACME"; D1=$NEW
for s in Qualified Proposal Won; do expect_ok crm deal move "$D1" --stage "$s"; done
# D2 New > Won (SPB, bob; its source comes from the lead)  250.00 RUB
add deal --title D2 --amount 250 --currency RUB --owner bob "branch=$SPB"; D2=$NEW
expect_ok crm deal move "$D2" --stage Won
# D3 New > Negotiation, close date passed (MSK, fair)        70.00 USD
add deal --title D3 --amount 70 --currency USD --source fair --close 2020-01-10; D3=$NEW
expect_ok crm deal move "$D3" --stage Negotiation
# D4 New > Lost: price                                       40.00 EUR
add deal --title D4 --amount 40 --currency EUR; D4=$NEW
expect_ok crm deal move "$D4" --stage Lost --reason price
# D5 New > Qualified > Lost: price                           60.00 EUR
add deal --title D5 --amount 60 --currency EUR; D5=$NEW
expect_ok crm deal move "$D5" --stage Qualified
expect_ok crm deal move "$D5" --stage Lost --reason price
# D6 New > Lost: competitor (SPB, bob)                       30.00 USD
add deal --title D6 --amount 30 --currency USD --owner bob "branch=$SPB"; D6=$NEW
expect_ok crm deal move "$D6" --stage Lost --reason competitor
# D7 New > Proposal, closes next month, probability 40 %   500.00 EUR
add deal --title D7 --amount 500 --currency EUR --source web --close "$NEXT15" probability=40; D7=$NEW
expect_ok crm deal move "$D7" --stage Proposal
# D8 won, then deleted: counted nowhere                     999.00 EUR
add deal --title D8 --amount 999 --currency EUR --source web; D8=$NEW
expect_ok crm deal move "$D8" --stage Won
expect_ok crm deal delete "$D8"
# D9 stays in New, on the merged-away company               10.00 EUR
add deal --title D9 --amount 10 --currency EUR --company "$ACME2"; D9=$NEW

add lead --title L1 --source web
add lead --title L2 --source web --status converted "deal=$D2"
add lead --title L3 --source fair --status disqualified
add lead --title L4

add plan --month "$MONTH" --user anna --amount 1000 --currency EUR
add plan --month "$MONTH" --user bob --amount 400 --currency RUB
add plan --month "$MONTH" "branch=$SPB" --amount 1000 --currency RUB

add task --title overdue --due 2020-01-01
add task --title done --due 2020-01-01 status=done
add task --title later --due 2099-01-01
add task --title gone --due 2020-02-01; expect_ok crm task delete "$NEW"

# ------------------------------------------------------------------ funnel --
report funnel
assert_json "$R" '.report == "funnel" and .pipeline.name == "Sales" and .deals == 8 and .won == 2 and .lost == 3 and .win_rate == 25' \
	"funnel: 8 live deals, 2 won, 3 lost"
assert_json "$R" '[.stages[] | .reached] == [8, 5, 4, 3, 2, 3]' "funnel: deals that reached each stage"
assert_json "$R" '[.stages[] | .conversion] == [null, 62.5, 80, 75, 66.7, null]' "funnel: stage-to-stage conversion"
assert_json "$R" '[.stages[] | .count] == [1, 0, 1, 1, 2, 3]' "funnel: deals now in each stage"
assert_json "$R" '.stages[4].totals == [{"currency": "EUR", "count": 1, "amount": 10000}, {"currency": "RUB", "count": 1, "amount": 25000}]' \
	"funnel: won totals per currency, never added together"
assert_json "$R" '.stages[5].totals == [{"currency": "EUR", "count": 2, "amount": 10000}, {"currency": "USD", "count": 1, "amount": 3000}]' \
	"funnel: lost totals per currency"
expect_ok crm deal list --json
assert_eq "$(json_get "$OUT" 'length')" "$(json_get "$R" '[.stages[].count] | add')" "funnel counts every listed deal once"

report funnel --branch SPB
assert_json "$R" '.branch == "SPB" and .deals == 2 and [.stages[] | .reached] == [2, 1, 1, 1, 1, 1] and [.stages[] | .count] == [0, 0, 0, 0, 1, 1]' \
	"funnel --branch SPB: D2 won, D6 lost"
report funnel --by-branch
assert_json "$R" '[.branches[] | .branch] == ["MSK", "SPB"] and [.branches[] | .deals] == [6, 2]' "funnel --by-branch: MSK 6, SPB 2"
assert_json "$R" '[range(6) as $i | ([.branches[].stages[$i].reached] | add) == .stages[$i].reached] | all' \
	"funnel --by-branch: branches add up to the total"
report funnel --from 2020-01-01 --to 2020-12-31
assert_json "$R" '.deals == 0 and ([.stages[] | .reached] | add) == 0' "funnel: a period with no deals created in it"
report funnel --from "$TODAY" --to "$TODAY"
assert_json "$R" '.deals == 8 and [.stages[] | .reached] == [8, 5, 4, 3, 2, 3]' "funnel: today's deals"

# A tombstone is uncounted, a restore counts again (the derived counters follow).
expect_ok crm deal restore "$D8"
report funnel
assert_json "$R" '.deals == 9 and .stages[4].count == 3' "restored D8 counts again"
expect_ok crm deal delete "$D8"
report funnel
assert_json "$R" '.deals == 8 and .stages[4].count == 2' "deleted again, uncounted again"

# -------------------------------------------------------------------- plan --
report plan
assert_json "$R" ".month == \"$MONTH\"" "plan: this month by default"
assert_json "$R" '[.users[] | {login, currency, plan, fact, won, percent}] == [
	{"login": "anna", "currency": "EUR", "plan": 100000, "fact": 10000, "won": 1, "percent": 10},
	{"login": "bob", "currency": "RUB", "plan": 40000, "fact": 25000, "won": 1, "percent": 62.5}]' \
	"plan: per manager, the deleted won deal not counted"
assert_json "$R" '[.branch_plans[] | {branch, currency, plan, fact, percent}] == [
	{"branch": "MSK", "currency": "EUR", "plan": 100000, "fact": 10000, "percent": 10},
	{"branch": "SPB", "currency": "RUB", "plan": 100000, "fact": 25000, "percent": 25}]' \
	"plan: per branch (SPB's own plan replaces its managers')"
report plan --from 2020-03-01
assert_json "$R" '.month == "2020-03" and .users == [] and .branch_plans == []' "plan: an empty month"
report plan --branch SPB
assert_json "$R" '[.users[] | .login] == ["bob"] and [.branch_plans[] | .branch] == ["SPB"]' "plan --branch SPB"

# ----------------------------------------------------------------- sources --
report sources
assert_json "$R" '[.sources[] | {source, leads, converted, deals, won}] == [
	{"source": "web", "leads": 2, "converted": 1, "deals": 3, "won": 2},
	{"source": "(none)", "leads": 1, "converted": 0, "deals": 4, "won": 0},
	{"source": "fair", "leads": 1, "converted": 0, "deals": 1, "won": 0}]' \
	"sources: leads, conversions, deals and wins per source (D2 takes its lead's source)"
assert_json "$R" '.sources[0].conversion == 50 and .sources[0].won_totals == [{"currency": "EUR", "count": 1, "amount": 10000}, {"currency": "RUB", "count": 1, "amount": 25000}]' \
	"sources: web's won amounts per currency"

# ------------------------------------------------------------------ losses --
report losses
assert_json "$R" '.lost == 3 and [.reasons[] | {reason, count, share}] == [
	{"reason": "price", "count": 2, "share": 66.7}, {"reason": "competitor", "count": 1, "share": 33.3}]' \
	"losses: by reason"
assert_json "$R" '.reasons[0].totals == [{"currency": "EUR", "count": 2, "amount": 10000}] and .reasons[1].totals == [{"currency": "USD", "count": 1, "amount": 3000}]' \
	"losses: amounts per currency"
report losses --branch MSK
assert_json "$R" '.lost == 2 and [.reasons[] | .reason] == ["price"]' "losses --branch MSK"
report losses --to 2020-01-01
assert_json "$R" '.lost == 0' "losses: none lost before 2020"

# ----------------------------------------------------------------- overdue --
report overdue
assert_json "$R" '.deals_count == 1 and .deals[0].title == "D3" and .deals[0].past_close == 1 and .deals[0].over_max_days == 0' \
	"overdue: D3's close date passed"
assert_json "$R" '.tasks_count == 1 and .tasks[0].title == "overdue" and .tasks[0].days_overdue > 2000' \
	"overdue: the open task past due; done, future and deleted ones are not"
report overdue --to "$PLUS10"
assert_json "$R" '.deals_count == 2 and ([.deals[] | .title] | sort) == ["D3", "D9"]' "overdue 10 days on: D9 over New's 7 days"
assert_json "$R" '[.deals[] | select(.title == "D9") | .days_in_stage, .over_max_days] == [10, 1]' "overdue: D9 10 days in stage"
report overdue --to "$PLUS15"
assert_json "$R" '.deals_count == 3 and ([.deals[] | .title] | sort) == ["D3", "D7", "D9"] and .totals == [
	{"currency": "EUR", "count": 2, "amount": 51000}, {"currency": "USD", "count": 1, "amount": 7000}]' \
	"overdue 15 days on: D7 over Proposal's 14 days; totals per currency"
report overdue --branch SPB
assert_json "$R" '.deals_count == 0 and .tasks_count == 0' "overdue --branch SPB: nothing"

# ------------------------------------------------------------------ stages --
report stages --to "$PLUS10"
assert_json "$R" '[.stages[] | .stage] == ["New", "Qualified", "Proposal", "Negotiation"] and [.stages[] | .visits] == [8, 2, 2, 1]' \
	"stages: visits per open stage"
assert_json "$R" '.stages[0].max_days >= 10 and .stages[0].max_days <= 11 and .stages[0].longest_deal == "D9"' \
	"stages: the longest stay in New is D9's, still there"
assert_json "$R" '.stages[1].max_days < 0.1 and .stages[2].longest_deal == "D7" and .stages[3].longest_deal == "D3"' \
	"stages: left Qualified at once; D7 and D3 still in theirs"

# ---------------------------------------------------------------- forecast --
report forecast
assert_json "$R" '[.months[] | {month, currency, deals, amount, expected}] == [
	{"month": "2020-01", "currency": "USD", "deals": 1, "amount": 7000, "expected": 5250},
	{"month": "'"${NEXT15:0:7}"'", "currency": "EUR", "deals": 1, "amount": 50000, "expected": 20000},
	{"month": null, "currency": "EUR", "deals": 1, "amount": 1000, "expected": 100}]' \
	"forecast: amount x probability (the deal's, else the stage's) by month of expected close"
report forecast --from 2020-01-01 --to 2020-12-31
assert_json "$R" '[.months[] | .month] == ["2020-01"]' "forecast: a period of expected close"

# ------------------------------------------------------------------- board --
expect_ok crm board --json
B=$OUT
assert_json "$B" '[.columns[] | .stage] == ["New", "Qualified", "Proposal", "Negotiation", "Won", "Lost"] and [.columns[] | .count] == [1, 0, 1, 1, 2, 3]' \
	"board: columns in stage order with counts"
assert_json "$B" '.columns[4].totals == [{"currency": "EUR", "count": 1, "amount": 10000}, {"currency": "RUB", "count": 1, "amount": 25000}]' \
	"board: column totals per currency"
assert_json "$B" "[.columns[].deals[].id] | index(\"$D8\") == null" "board: the deleted deal is not on it"
assert_json "$B" ".columns[0].deals[0].company_id == \"$ACME\" and .columns[0].deals[0].company == \"Acme\"" \
	"board: a deal on a merged-away company shows the survivor"
expect_ok crm activity add --kind call --subject "call back" --deal "$D4" --at 2030-01-01T10:00
expect_ok crm activity add --kind call --subject "old call" --deal "$D6" --at 2020-01-01T10:00
expect_ok crm board --json
assert_json "$OUT" ".columns[5].deals[0].id == \"$D4\" and .columns[5].deals[0].last_activity == \"2030-01-01T10:00:00Z\"" \
	"board: newest activity first"
expect_ok crm board --branch SPB --limit 1 --json
assert_json "$OUT" '[.columns[] | .count] == [0, 0, 0, 0, 1, 1] and [.columns[] | .deals | length] == [0, 0, 0, 0, 1, 1] and .columns[4].totals[0].currency == "RUB"' \
	"board --branch SPB"
expect_ok crm board --limit 0 --json
assert_json "$OUT" '[.columns[] | .deals | length] | add == 0' "board --limit 0: counts only"
expect_ok crm board
assert_contains "$OUT" "Won (2) 100.00 EUR; 250.00 RUB" "board: readable columns"

# ------------------------------------------------------------ readable view --
expect_ok crm report funnel
assert_contains "$OUT" "Negotiation" "report prints a table"
assert_contains "$OUT" "100.00 EUR; 250.00 RUB" "report table: totals per currency"
expect_ok crm report plan
assert_contains "$OUT" "1000.00 EUR" "plan table"

# -------------------------------------------------------------- bad input --
expect_fail 2 "unknown report 'nope'" crm report nope
expect_fail 2 "unknown report 'lan'" crm report lan
expect_fail 2 "--from needs a value" crm report funnel --from
expect_fail 2 "unexpected argument 'extra'" crm report funnel extra
expect_fail 1 "--from '2026-02-30' is not a date" crm report funnel --from 2026-02-30
expect_fail 1 "--to '23.11.2026' is not a date" crm report losses --to 23.11.2026
expect_fail 1 "--from 2026-05-01 is after --to 2026-04-01" crm report funnel --from 2026-05-01 --to 2026-04-01
expect_fail 1 "no branch 'XXX'" crm report funnel --branch XXX
expect_fail 1 "no pipeline 'nope'" crm report funnel --pipeline nope
expect_fail 2 "--limit needs a number" crm board --limit many
expect_fail 1 "no branch 'XXX'" crm board --branch XXX
expect_ok crm report --help
assert_contains "$OUT" "funnel plan sources losses stages overdue forecast" "report --help names the reports"

finish
