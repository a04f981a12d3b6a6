#!/usr/bin/env bash
# hub_dashboard.sh — issue 6: `crm-syncd run --dashboard` serves the web UI
# read-only from the hub's consolidated replica.  Two branches and a laptop
# sync; the HQ figures (funnel, kanban) equal `crm-syncd report` and the sum
# of the branches' own figures; every write is refused with 403; a node's
# web UI shows its sync status and syncs with the button (POST /api/sync).
. "$(dirname "$0")/lib_hub.sh"

hub_start hub --dashboard 127.0.0.1:0 || finish
if ! _wait_file "$HUB_DIR/dashboard-url" 10; then
	fail "the hub wrote no dashboard-url" "$(tail -n 5 "$TEST_DIR/hub.log")"
	finish
fi
DASH=$(head -n 1 "$HUB_DIR/dashboard-url")
assert_match '^http://127\.0\.0\.1:[0-9]+/$' "$DASH" "dashboard URL"
assert_contains "$(cat "$TEST_DIR/hub.log")" "HQ dashboard (read-only) on $DASH" "the hub logs the dashboard address"

# get PATH — GET $DASH/api/PATH into CODE and BODY.
get()
{
	CODE=$(curl -s -o "$TEST_DIR/.body" -w '%{http_code}' --max-time 10 "${2:-$DASH}api/$1")
	BODY=$(cat "$TEST_DIR/.body")
}

node_join msk MSK branch anna
expect_ok crm company add --name "Acme"; CO=$OUT
expect_ok crm deal add --title "MSK one" --company "$CO" --amount 100
expect_ok crm deal add --title "MSK two" --company "$CO" --amount 250 --stage Proposal
expect_ok crm deal add --title "MSK lost" --company "$CO" --amount 40
expect_ok crm deal move "$OUT" --stage Lost --reason price
node_join spb SPB branch boris
expect_ok crm deal add --title "SPB one" --amount 70 --stage Qualified
expect_ok crm deal add --title "SPB won" --amount 900 --currency EUR
expect_ok crm deal move "$OUT" --stage Won
node_join lap MSK laptop olga
expect_ok crm deal add --title "Laptop deal" --amount 30
for n in msk spb lap msk spb lap; do
	use_replica "$n"
	expect_ok crm sync
done

# ---- read-only HQ
get info
assert_json "$BODY" '.read_only == true and .hub == true' "the dashboard is read-only HQ"
CODE=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d '{"first":"X"}' \
	"${DASH}api/records/contact")
assert_eq 403 "$CODE" "a write on the dashboard is 403"
CODE=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d '{"stage":"Won"}' \
	"${DASH}api/records/deal/$(jq -r '.[0].id' <<<"$(curl -s "${DASH}api/records/deal")")/move")
assert_eq 403 "$CODE" "a deal move on the dashboard is 403"
CODE=$(curl -s -o /dev/null -w '%{http_code}' "$DASH")
assert_eq 200 "$CODE" "the dashboard serves the UI"

# ---- HQ funnel = crm-syncd report = sum of the branches
get "reports/funnel"
WEB=$BODY
expect_ok syncd report funnel --json
HUB=$OUT
# The API adds money strings (*_text) for the page; every other member must
# be the report's.
figures() { jq -S 'walk(if type == "object" then with_entries(select(.key | endswith("_text") | not)) else . end)'; }
assert_eq "$(figures <<<"$HUB")" "$(figures <<<"$WEB")" "the dashboard funnel is crm-syncd report funnel"
assert_json "$WEB" '.deals == 6' "six deals over all branches"
assert_json "$WEB" '[.branches[] | select(.deals > 0) | .branch] | sort == ["MSK", "SPB"]' "broken down by branch"
use_replica msk
expect_ok crm report funnel --branch MSK --json
MSK=$OUT
use_replica spb
expect_ok crm report funnel --branch SPB --json
SPB=$OUT
assert_eq "$(jq '.deals' <<<"$WEB")" "$(( $(jq .deals <<<"$MSK") + $(jq .deals <<<"$SPB") ))" \
	"HQ deals = MSK + SPB"
assert_eq "$(jq .deals <<<"$MSK")" "$(jq '.branches[] | select(.branch == "MSK") | .deals' <<<"$WEB")" \
	"the MSK row of the HQ breakdown = MSK's own report"
assert_eq "$(jq .deals <<<"$SPB")" "$(jq '.branches[] | select(.branch == "SPB") | .deals' <<<"$WEB")" \
	"the SPB row of the HQ breakdown = SPB's own report"
for st in New Qualified Proposal Won Lost; do
	assert_eq "$(jq --arg s "$st" '.stages[] | select(.stage == $s) | .count' <<<"$WEB")" \
		"$(( $(jq --arg s "$st" '.stages[] | select(.stage == $s) | .count' <<<"$MSK") + \
		     $(jq --arg s "$st" '.stages[] | select(.stage == $s) | .count' <<<"$SPB") ))" \
		"HQ $st count = MSK + SPB"
done

# ---- HQ kanban counts are the funnel's, per branch too
get "board?per_column=0"
for st in New Qualified Proposal Won Lost; do
	assert_eq "$(jq --arg s "$st" '.stages[] | select(.stage == $s) | .count' <<<"$WEB")" \
		"$(jq --arg s "$st" '.columns[] | select(.stage == $s) | .count' <<<"$BODY")" "kanban $st count = funnel"
done
get "board?branch=SPB&per_column=5"
assert_json "$BODY" '[.columns[].count] | add == 2' "the SPB board has SPB's two deals"
get "dashboard"
assert_json "$BODY" '.funnel.deals == 6' "the dashboard document carries the funnel"

# ---- the dashboard has no login: a non-loopback address is refused at start
hub_init hub2
run "$CRM_SYNCD_BIN" --data "$TEST_DIR/hub2" run --dashboard 0.0.0.0:0
assert_eq 1 "$RC" "crm-syncd run --dashboard 0.0.0.0:0 exits 1"
assert_contains "$ERR" "no login" "saying why"
assert_eq "" "$(cat "$TEST_DIR/hub2/url" 2>/dev/null)" "and the hub did not start"

# ---- a node's own web UI: sync status and the sync button
use_replica msk
"$CRM_BIN" --data "$DATA" serve --quiet >"$TEST_DIR/serve.out" 2>"$TEST_DIR/serve.err" &
SERVE_PID=$!
_HUB_PIDS+=("$SERVE_PID")
_wait_file "$TEST_DIR/serve.out" 10
NODE_URL=$(head -n 1 "$TEST_DIR/serve.out")
expect_ok crm deal add --title "After sync" --amount 5
get sync "$NODE_URL"
assert_json "$BODY" '.enrolled == true and .pending_changes > 0 and (.last_sync | type) == "string"' \
	"a node shows pending changes and its last sync"
CODE=$(curl -s -o "$TEST_DIR/.body" -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d '{}' \
	"${NODE_URL}api/sync")
BODY=$(cat "$TEST_DIR/.body")
assert_eq 200 "$CODE" "the sync button syncs"
assert_json "$BODY" '.pending_changes == 0 and .result.pushed >= 1' "and pushes the pending change"
get "reports/funnel"
assert_json "$BODY" '.deals == 7' "HQ sees the deal pushed from the web UI"
_stop_pid "$SERVE_PID"

finish
