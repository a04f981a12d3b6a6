#!/usr/bin/env bash
# cli_serve.sh — `crm serve` and its JSON API (docs/API.md) through HTTP, as
# the web UI and scripts use it: start on 127.0.0.1:0, read the URL, curl.
# Writes, validation errors that change nothing (state hash unchanged), bad
# JSON, oversized bodies, unknown routes, the cross-site write checks, the
# read-only mode and a clean exit on SIGTERM.
. "$(dirname "$0")/lib.sh"

command -v curl >/dev/null || { echo "FAIL: needs curl" >&2; exit 1; }

SERVER_PID=""
trap 'if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null; fi; _cleanup' EXIT

# start_server [ARGS...] — crm serve in the background; URL from its stdout.
start_server()
{
	"$CRM_BIN" --data "$DATA" serve --listen 127.0.0.1:0 "$@" >"$TEST_DIR/serve.out" 2>"$TEST_DIR/serve.err" &
	SERVER_PID=$!
	URL=""
	for _ in $(seq 1 100); do
		URL=$(head -n 1 "$TEST_DIR/serve.out" 2>/dev/null)
		[ -n "$URL" ] && break
		kill -0 "$SERVER_PID" 2>/dev/null || break
		sleep 0.05
	done
	assert_match '^http://127\.0\.0\.1:[0-9]+/$' "$URL" "crm serve prints its URL on stdout"
}

# stop_server — SIGTERM; the server must exit 0 promptly.
stop_server()
{
	kill -TERM "$SERVER_PID"
	local rc=0
	wait "$SERVER_PID" || rc=$?
	assert_eq 0 "$rc" "crm serve exits 0 on SIGTERM"
	SERVER_PID=""
}

# http METHOD PATH [BODY] [CURL ARGS...] — CODE and BODY of the answer.  A
# body is sent as JSON unless the curl args set another Content-Type.
http()
{
	local method=$1 path=$2 body=${3-}
	shift 2
	[ $# -gt 0 ] && shift
	local args=(-s -X "$method" -o "$TEST_DIR/.body" -w '%{http_code}' --max-time 10)
	if [ -n "$body" ]; then
		args+=(--data-binary "$body")
		case " $* " in
		*Content-Type*) ;;
		*) args+=(-H 'Content-Type: application/json') ;;
		esac
	elif [ "$method" != GET ]; then
		args+=(-H 'Content-Type: application/json')
	fi
	CODE=$(curl "${args[@]}" "$@" "${URL}api/$path")
	BODY=$(cat "$TEST_DIR/.body")
}

expect_ok crm init --name "Web node" --branch MSK --user anna
expect_ok crm company add --name "Acme" --phone "+7 495 123-45-67"
ACME=$OUT
expect_ok crm deal add --title "Pilot" --company "$ACME" --amount 100
DEAL=$OUT

# ------------------------------------------------------------ usage ----
expect_fail 2 "--listen" crm serve --listen
expect_fail 2 "unexpected argument" crm serve extra
expect_fail 1 "no login" crm serve --listen 0.0.0.0:0
expect_fail 1 "HOST:PORT" crm serve --listen nonsense
expect_ok crm serve --help
assert_contains "$OUT" "--allow-remote" "serve --help explains --allow-remote"

start_server

# --------------------------------------------------------- static UI ----
CODE=$(curl -s -o "$TEST_DIR/index" -w '%{http_code}' "$URL")
assert_eq 200 "$CODE" "GET / serves the UI"
assert_contains "$(cat "$TEST_DIR/index")" '<script src="/app.js"' "the page loads the embedded script"
HDRS=$(curl -s -D - -o /dev/null "${URL}app.js")
assert_contains "$HDRS" "text/javascript" "app.js has a JavaScript content type"
assert_contains "$HDRS" "Content-Security-Policy: default-src 'self'" "assets carry a CSP"
CODE=$(curl -s -o /dev/null -w '%{http_code}' "${URL}nothing-here")
assert_eq 404 "$CODE" "unknown files are 404"

# ------------------------------------------------------------- reads ----
http GET info
assert_eq 200 "$CODE" "GET /api/info"
assert_json "$BODY" '.branch == "MSK" and .user == "anna" and .read_only == false' "info names branch and user"
http GET "search?q=495%20123%2045%2067"
assert_json "$BODY" "map(select(.id == \"$ACME\")) | length == 1" "search by phone typed with spaces"
http GET "search"
assert_eq 400 "$CODE" "search without q is 400"
http GET "records/company/$ACME"
assert_json "$BODY" '.name == "Acme" and (.channels | length) == 1' "GET a company card"
http GET "records/company/0190aaaa-0000-7000-8000-000000000000"
assert_eq 404 "$CODE" "an unknown id is 404"
assert_json "$BODY" '.error | test("no company")' "with a JSON error"
http GET "records/spaceship"
assert_eq 404 "$CODE" "an unknown kind of record is 404"
http GET "nowhere/at/all"
assert_eq 404 "$CODE" "an unknown route is 404"
assert_json "$BODY" '.error | type == "string"' "unknown routes answer JSON errors"
# Bytes that are not UTF-8 in the path (found by fuzz_api): still a 404 with
# a JSON error, not a 500 "out of memory" from an error message JSON refused.
http GET "nowhere%F4at%FF"
assert_eq 404 "$CODE" "a path that is not UTF-8 is 404"
assert_json "$BODY" '.error | test("no such endpoint")' "with a JSON error naming the problem"
http GET "records/company/%C3"
assert_eq 404 "$CODE" "an id with a broken UTF-8 sequence is 404"
assert_json "$BODY" '.error | type == "string"' "with a JSON error"
http GET "records/company?limit=x"
assert_eq 400 "$CODE" "a bad limit is 400"
http GET pipelines
assert_json "$BODY" '.[0].stages | map(.name) | index("Won") != null' "pipelines with their stages"
http GET sync
assert_json "$BODY" '.enrolled == false and (.pending_changes | type) == "number" and .last_sync == null' \
	"sync status of a node that is not enrolled"
http GET "tasks?view=everything"
assert_eq 400 "$CODE" "an unknown task list is 400"
http GET "birthdays?days=999"
assert_eq 400 "$CODE" "birthdays days over 366 is 400"

# ------------------------------------------------------------ writes ----
http POST records/contact '{"first": "Boris", "last": "Petrov", "phone": "8 903 111-22-33", "company": "'"$ACME"'"}'
assert_eq 201 "$CODE" "POST creates a contact"
BORIS=$(json_get "$BODY" .id)
expect_ok crm contact show "$BORIS" --json
assert_json "$OUT" '.first_name == "Boris" and .channels[0].normalized == "+79031112233"' "the CLI sees it, phone normalized"
http PATCH "records/contact/$BORIS" '{"title": "Buyer", "birthday": "1985-12-01"}'
assert_eq 200 "$CODE" "PATCH changes fields"
expect_ok crm contact show "$BORIS" --json
assert_json "$OUT" '.title == "Buyer" and .birthday == "1985-12-01"' "the change is in the replica"
http POST records/activity '{"kind": "call", "subject": "Intro call", "contact_id": "'"$BORIS"'", "done": true}'
assert_eq 201 "$CODE" "quick-add a call"
http POST records/task '{"title": "Send offer", "due": "2030-01-02", "contact_id": "'"$BORIS"'"}'
assert_eq 201 "$CODE" "quick-add a task"
http GET "records/contact/$BORIS"
assert_json "$BODY" '[.timeline[] | .kind] | (index("call") != null and index("task") != null)' "both on the card timeline"
http GET "tasks?view=today&today=2030-01-02"
assert_json "$BODY" 'map(.title) == ["Send offer"]' "the task is due today on its day"
http GET "tasks?view=overdue&today=2030-01-03"
assert_json "$BODY" 'map(.title) == ["Send offer"]' "and overdue the day after"
http GET "tasks?view=upcoming&today=2029-12-30"
assert_json "$BODY" 'map(.title) == ["Send offer"]' "and upcoming three days before"
http GET "tasks?view=mine"
assert_json "$BODY" 'map(select(.title == "Send offer" and .assignee == "anna")) | length == 1' "my tasks: assigned to me by default"
http PATCH "records/task/$(json_get "$BODY" '.[0].id')" '{"status": "done"}'
http GET "tasks?view=mine"
assert_json "$BODY" 'length == 0' "a done task leaves the lists"
http GET "birthdays?days=10&today=2030-11-25"
assert_json "$BODY" "map(select(.id == \"$BORIS\" and .in_days == 6)) | length == 1" "birthday in 6 days"
http POST "records/deal/$DEAL/move" '{"stage": "Proposal"}'
assert_eq 200 "$CODE" "move a deal"
assert_json "$BODY" '.stage == "Proposal"' "the answer is the moved deal"
expect_ok crm deal show "$DEAL" --json
assert_json "$OUT" '.stage == "Proposal"' "crm deal show has the new stage"
http POST "records/deal/$DEAL/move" '{"stage": "Lost", "reason": "price"}'
expect_ok crm deal show "$DEAL" --json
assert_json "$OUT" '.stage == "Lost" and .lost_reason == "price"' "lost with its reason"
http GET "records/contact/$ACME"
assert_eq 404 "$CODE" "a company id is not a contact"

# ------------------------------------------ duplicates and conflicts ----
http POST records/contact '{"first": "Dup", "last": "One", "phone": "+7 926 000-00-01"}'
D1=$(json_get "$BODY" .id)
http POST records/contact '{"first": "Dup", "last": "Two", "phone": "8 926 000 00 01"}'
D2=$(json_get "$BODY" .id)
http GET duplicates
assert_json "$BODY" "map(select(.entity == \"contact\" and ([.id, .other_id] | sort) == ([\"$D1\", \"$D2\"] | sort))) | length == 1" \
	"two contacts with one phone are a suggested duplicate"
http POST duplicates/keep-apart '{"a": "'"$D1"'", "b": "'"$D2"'"}'
assert_eq 200 "$CODE" "keep apart"
http GET duplicates
assert_json "$BODY" "map(select(.id == \"$D1\" or .other_id == \"$D1\")) | length == 0" "kept apart: no longer suggested"
http POST duplicates/merge '{"a": "'"$D1"'", "b": "'"$D2"'"}'
assert_eq 200 "$CODE" "merge"
expect_ok crm contact list --json
assert_json "$OUT" "map(select(.id == \"$D1\" or .id == \"$D2\")) | length == 1" "merged: one contact is listed"
http POST duplicates/merge '{"a": "'"$D1"'"}'
assert_eq 400 "$CODE" "merge needs both ids"
http GET conflicts
assert_json "$BODY" 'type == "array"' "the conflicts inbox is a list"
http POST conflicts/999999/resolve
assert_eq 404 "$CODE" "resolving an unknown conflict is 404"
http POST conflicts/abc/resolve
assert_eq 404 "$CODE" "a conflict id must be a number"

# ------------------------------------- refused writes change nothing ----
expect_ok crm state-hash
H0=$OUT
refused()  # CODE 'error substring' METHOD PATH [BODY] [CURL ARGS...] — and the state hash stays
{
	local want=$1 msg=$2
	shift 2
	http "$@"
	assert_eq "$want" "$CODE" "$1 $2 ${3:-} is refused with $want"
	assert_json "$BODY" ".error | test(\"$msg\")" "with the reason ($msg)"
	assert_eq "$H0" "$(crm state-hash)" "and nothing changed"
}
refused 400 "e-mail" POST records/contact '{"first": "X", "email": "not-an-email"}'
refused 400 "first_name|required|first" POST records/contact '{"last": "Nofirst"}'
refused 400 "unknown|field" POST records/contact '{"first": "X", "shoe_size": "44"}'
refused 400 "bad JSON" POST records/contact '{"first": '
refused 400 "bad JSON" POST records/contact '{"first": "A", "first": "B"}'
refused 400 "JSON object" POST records/contact '["first", "X"]'
refused 400 "must be a string" POST records/contact '{"first": {"nested": 1}}'
refused 400 "must be a string" POST records/contact '{"first": ["X"]}'
refused 404 "no deal|deal" POST "records/deal/0190aaaa-0000-7000-8000-000000000000/move" '{"stage": "Won"}'
refused 400 "stage" POST "records/deal/$DEAL/move" '{"stage": 5}'
refused 400 "stage|Nowhere" POST "records/deal/$DEAL/move" '{"stage": "Nowhere"}'
refused 404 "no contact|contact" PATCH "records/contact/0190aaaa-0000-7000-8000-000000000000" '{"title": "x"}'
refused 400 "nothing to change" PATCH "records/contact/$BORIS" '{}'
refused 403 "Content-Type" POST records/contact '{"first": "Csrf"}' -H 'Content-Type: text/plain'
refused 403 "Content-Type" POST records/contact 'first=Csrf' -H 'Content-Type: application/x-www-form-urlencoded'
refused 403 "another site" POST records/contact '{"first": "Csrf"}' -H 'Origin: http://evil.example'
refused 403 "cross-site" POST records/contact '{"first": "Csrf"}' -H 'Sec-Fetch-Site: cross-site'
refused 421 "Host" POST records/contact '{"first": "Rebind"}' -H 'Host: evil.example'
refused 421 "Host" GET info "" -H 'Host: evil.example:80'
refused 409 "not enrolled" POST sync '{}'
# A body over 1 MiB: evhttp refuses it before any handler runs.
head -c 1100000 /dev/zero | tr '\0' 'a' >"$TEST_DIR/big"
CODE=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
	--data-binary @"$TEST_DIR/big" "${URL}api/records/contact")
assert_eq 413 "$CODE" "a body over 1 MiB is 413"
assert_eq "$H0" "$(crm state-hash)" "and changes nothing"
# The server is still fine after all that.
http GET info
assert_eq 200 "$CODE" "still answering"

# --------------------------------------- CLI writes while serving ----
expect_ok crm contact add --first Concurrent
CC=$OUT
http GET "records/contact/$CC"
assert_eq 200 "$CODE" "a record the CLI wrote while serving is visible at once"

# ------------------------------------------------------- delete ----
http DELETE "records/contact/$CC"
assert_eq 200 "$CODE" "DELETE tombstones"
expect_ok crm contact show "$CC" --json
assert_json "$OUT" '.deleted == 1' "the CLI sees the tombstone"
http DELETE "records/contact/$CC"
assert_eq 404 "$CODE" "deleting twice is 404"
stop_server

# --------------------------------------------------- read-only mode ----
start_server --read-only
H1=$(crm state-hash)
http GET info
assert_json "$BODY" '.read_only == true' "info says read-only"
http GET "records/contact/$BORIS"
assert_eq 200 "$CODE" "reads work read-only"
http POST records/contact '{"first": "Nope"}'
assert_eq 403 "$CODE" "writes are 403 read-only"
assert_json "$BODY" '.error | test("read-only")' "saying why"
http POST "records/deal/$DEAL/move" '{"stage": "Won"}'
assert_eq 403 "$CODE" "moves are 403 read-only"
http DELETE "records/contact/$BORIS"
assert_eq 403 "$CODE" "deletes are 403 read-only"
assert_eq "$H1" "$(crm state-hash)" "read-only changed nothing"
stop_server

finish
