# tests/integration/lib_hub.sh — real `crm-syncd` hubs, `crm-linkemu` bad
# links and `crm` nodes on 127.0.0.1 for the integration tests.  Sourced by
# every tests/integration/hub_*.sh script, after which the whole of
# tests/cli/lib.sh (assertions, run/expect_ok/expect_fail, finish) is there:
#
#     . "$(dirname "$0")/lib_hub.sh"
#     hub_start hub                     # $TEST_DIR/hub, $HUB_URL, $HUB_PORT
#     node_join msk MSK branch anna     # enrolls $TEST_DIR/msk, switches to it
#     expect_ok crm sync
#     emu_start e1 --rate 256 --rtt 300 # a bad link in front of the hub: $EMU_URL
#     expect_ok crm sync --hub "$EMU_URL"
#     finish
#
# Contract
#  * CRM_BIN, CRM_SYNCD_BIN and CRM_LINKEMU_BIN (environment) name the
#    executables under test; a missing one fails the script at once.
#  * Every process started here is recorded and stopped (SIGTERM, then
#    SIGKILL after 5 s) by the EXIT trap, *before* lib.sh's own cleanup removes
#    $TEST_DIR; lib.sh's verdict and exit status are kept.  If anything
#    failed, the tail of every hub and emulator log is shown first.
#  * Waits are bounded polls (at most 10 s for a hub or emulator to listen);
#    everything listens on 127.0.0.1 with port 0.
#  * `syncd ARGS...` runs crm-syncd on the current hub ($HUB_DIR).

. "$(dirname "${BASH_SOURCE[0]}")/../cli/lib.sh"

for _v in CRM_SYNCD_BIN CRM_LINKEMU_BIN; do
	if [ -z "${!_v:-}" ] || [ ! -x "${!_v}" ]; then
		echo "FAIL: $_v must name an executable (got '${!_v:-}')" >&2
		exit 1
	fi
done

_HUB_PIDS=()     # every background process we started (hubs, emulators)
_HUB_LOGS=()     # their stderr logs, shown when the test fails
HUB_DIR=""
HUB_URL=""
HUB_PORT=""
HUB_PID=""

# _stop_pid PID — SIGTERM, wait up to 5 s, then SIGKILL; reaps it.
_stop_pid()
{
	local pid=$1 i
	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "lib_hub: process $pid ignored SIGTERM for 5 s; killing it" >&2
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	return 0
}

_hub_exit()
{
	local rc=$? pid log
	for pid in "${_HUB_PIDS[@]}"; do
		_stop_pid "$pid"
	done
	if [ "$_FAILED" -gt 0 ] || [ "$_FINISHED" -eq 0 ]; then
		for log in "${_HUB_LOGS[@]}"; do
			[ -s "$log" ] || continue
			echo "---- last lines of $(basename "$log") ----" >&2
			tail -n 25 "$log" >&2
		done
	fi
	_set_status "$rc"
	_cleanup
}
_set_status() { return "$1"; }
trap _hub_exit EXIT

# _wait_file FILE SECONDS — poll (every 0.1 s) until FILE exists, is not empty
# and ends with a newline; 1 on timeout.
_wait_file()
{
	local f=$1 i
	for ((i = 0; i < $2 * 10; i++)); do
		if [ -s "$f" ] && [ -z "$(tail -c 1 "$f")" ]; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# hub_init NAME — create (do not start) the hub replica $TEST_DIR/NAME.
hub_init()
{
	"$CRM_SYNCD_BIN" --data "$TEST_DIR/$1" init --listen 127.0.0.1:0 </dev/null >/dev/null 2>"$TEST_DIR/.hubinit"
	if [ $? -ne 0 ]; then
		fail "crm-syncd init $1" "$(cat "$TEST_DIR/.hubinit")"
		return 1
	fi
}

# hub_start NAME [RUN OPTIONS...] — init the hub $TEST_DIR/NAME if new, run it
# on 127.0.0.1:0 (stderr to $TEST_DIR/NAME.log) and wait up to 10 s for it to
# listen.  Makes it the current hub: HUB_DIR, HUB_URL, HUB_PORT, HUB_PID.
# Returns 1 (and records a failure) if it does not come up.
hub_start()
{
	local name=$1
	shift
	HUB_DIR="$TEST_DIR/$name"
	if [ ! -d "$HUB_DIR" ]; then
		hub_init "$name" || return 1
	fi
	rm -f "$HUB_DIR/url"
	"$CRM_SYNCD_BIN" --data "$HUB_DIR" run "$@" </dev/null >/dev/null 2>>"$TEST_DIR/$name.log" &
	HUB_PID=$!
	_HUB_PIDS+=("$HUB_PID")
	_HUB_LOGS+=("$TEST_DIR/$name.log")
	if ! _wait_file "$HUB_DIR/url" 10; then
		fail "hub $name did not write $HUB_DIR/url within 10 s" "$(tail -n 5 "$TEST_DIR/$name.log")"
		return 1
	fi
	HUB_URL=$(head -n 1 "$HUB_DIR/url")
	HUB_PORT=${HUB_URL##*:}
	if ! kill -0 "$HUB_PID" 2>/dev/null; then
		fail "hub $name exited right after start" "$(tail -n 5 "$TEST_DIR/$name.log")"
		return 1
	fi
	return 0
}

# hub_stop [PID] — stop a hub (default the current one).
hub_stop()
{
	_stop_pid "${1:-$HUB_PID}"
}

# hub_alive [PID] — 0 if the hub process still runs.
hub_alive()
{
	kill -0 "${1:-$HUB_PID}" 2>/dev/null
}

# syncd ARGS... — crm-syncd on the current hub.
syncd()
{
	"$CRM_SYNCD_BIN" --data "$HUB_DIR" "$@"
}

# note TEXT... — an informational line in the test's output (not an assertion).
note()
{
	echo "NOTE $(basename "$0"): $*" >&2
}

# hub_hash — the current hub's state hash on stdout.
hub_hash()
{
	syncd state-hash 2>/dev/null
}

# emu_start NAME [LINKEMU OPTIONS...] — a crm-linkemu on 127.0.0.1:0 in front
# of the current hub (stderr to $TEST_DIR/NAME.log); waits up to 10 s for its
# port file.  Sets EMU_PORT, EMU_URL (https://127.0.0.1:PORT: the same hub
# certificate, so the node's pin matches) and EMU_PID.
emu_start()
{
	local name=$1
	shift
	rm -f "$TEST_DIR/$name.port"
	"$CRM_LINKEMU_BIN" --listen 127.0.0.1:0 --to "127.0.0.1:$HUB_PORT" --port-file "$TEST_DIR/$name.port" "$@" \
		</dev/null >/dev/null 2>>"$TEST_DIR/$name.log" &
	EMU_PID=$!
	_HUB_PIDS+=("$EMU_PID")
	_HUB_LOGS+=("$TEST_DIR/$name.log")
	if ! _wait_file "$TEST_DIR/$name.port" 10; then
		fail "link emulator $name did not start within 10 s" "$(tail -n 5 "$TEST_DIR/$name.log")"
		return 1
	fi
	EMU_PORT=$(head -n 1 "$TEST_DIR/$name.port")
	EMU_URL="https://127.0.0.1:$EMU_PORT"
	return 0
}

# emu_stop [PID] — stop an emulator (it prints its totals to its log).
emu_stop()
{
	_stop_pid "${1:-$EMU_PID}"
}

# hub_token BRANCH ROLE [NAME] — a join token from the current hub on stdout.
hub_token()
{
	syncd token --branch "$1" --role "$2" ${3:+--name "$3"}
}

# node_join NAME BRANCH ROLE [USER] — enroll the replica $TEST_DIR/NAME with
# the current hub and switch to it (use_replica NAME).  Sets NODE_ID and
# TOKEN (the token it used).  Counts as one assertion.
node_join()
{
	local name=$1 branch=$2 role=$3 user=${4:-$1}
	TOKEN=$(hub_token "$branch" "$role" "$user") || { fail "token for $name" "$TOKEN"; return 1; }
	use_replica "$name"
	expect_ok crm init --join "$TOKEN" || return 1
	run crm whoami --json
	NODE_ID=$(json_get "$OUT" .id)
}

UUID_RE='^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'

# add ENTITY ARGS... — `crm ENTITY add` on the current replica; NEW is its id.
add()
{
	NEW=""
	expect_ok crm "$1" add "${@:2}" && assert_match "$UUID_RE" "$OUT" "$1 add prints an id" && NEW=$OUT
}

# node_id NAME — the node id of replica $TEST_DIR/NAME.
node_id()
{
	"$CRM_BIN" --data "$TEST_DIR/$1" whoami --json 2>/dev/null | jq -r .id
}

# node_sql NAME SQL — sqlite3 on the replica $TEST_DIR/NAME (its crm.db).
node_sql()
{
	sqlite3 -batch "$(_db_of "$TEST_DIR/$1")" "$2"
}

# _db_of DIR — the SQLite file of the replica in DIR.
_db_of()
{
	local f
	for f in "$1"/*.db "$1"/*.sqlite "$1"/*.sqlite3; do
		[ -f "$f" ] && { echo "$f"; return 0; }
	done
	echo "$1/crm.db"
}
