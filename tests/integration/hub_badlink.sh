#!/usr/bin/env bash
# hub_badlink.sh — issue 5, "Done when" 2 (DESIGN.md §11 "bad links"): a
# branch's day of work (~2,000 field changes) goes to the hub through
# crm-linkemu at 256 kbit/s, 300 ms RTT, 1 % loss and a drop every ~3 s;
# `crm sync` is run again until it succeeds (at most 40 runs, each under
# `timeout 120`); a second node pulls everything through its own bad link.
# Then: hub, sender and receiver have the same state hash; the hub's log has
# each of the sender's batches exactly once (nothing doubled); the receiver
# has as many companies, contacts, deals, activities and stage changes as the
# sender (nothing lost); `git fsck` passes on every log.
#
# The sender runs `crm sync --once` (one attempt per run: resumption across
# processes, receipts kept on disk); the receiver runs plain `crm sync` (the
# client's own retry with backoff).  Seeds are fixed, so the drop times are
# the same in every run (the sender's link drops at 1.2, 2.7 and 4.6 s).
#
# CRM_BADLINK_SCALE=N (default 1) multiplies the day of work, for a long run.
. "$(dirname "$0")/lib_hub.sh"
. "$(dirname "$0")/workload.sh"

SCALE=${CRM_BADLINK_SCALE:-1}
LINK=(--rate 256 --rtt 300 --loss 1 --drop-every 3)
T_START=$SECONDS

hub_start hub || finish
node_join snd MSK branch anna; ID_SND=$NODE_ID
node_join rcv SPB branch boris; ID_RCV=$NODE_ID

# --- the day of work, offline
use_replica snd
T0=$SECONDS
if wl_day MSK $((80 * SCALE)) $((28 * SCALE)) $((40 * SCALE)) $((24 * SCALE)); then
	pass
else
	fail "the day of work" "$WL_ERROR"
	finish
fi
run crm status --json
CHANGES=$(json_get "$OUT" .pending_changes)
note "day of work: $CHANGES field changes typed in $((SECONDS - T0)) s"
if [ "$CHANGES" -ge $((1900 * SCALE)) ]; then pass; else fail "day of work is only $CHANGES changes"; fi

# sync_until NAME EMU_URL [--once] — run `crm sync --hub EMU_URL --json [--once]`
# until it exits 0: at most 40 runs, each under timeout 120.  Sets RUNS,
# SYNC_S (wall seconds) and LAST_JSON; every failed run is noted.
sync_until()
{
	local name=$1 url=$2 once=${3:-} t0=$SECONDS
	RUNS=0
	LAST_JSON=""
	while [ "$RUNS" -lt 40 ]; do
		RUNS=$((RUNS + 1))
		run timeout 120 "$CRM_BIN" --data "$DATA" sync --hub "$url" --json $once
		if [ "$RC" -eq 0 ]; then
			LAST_JSON=$OUT
			break
		fi
		note "$name: run $RUNS exit $RC: $ERR"
		if [ "$RC" -ne 1 ]; then
			fail "$name: crm sync exit $RC (1 = a link failure, 124 = timeout)" "$ERR"
		elif [ "$_ERR_LINES" -ne 1 ]; then
			fail "$name: a failed sync prints one line on stderr" "$ERR"
		fi
		case "$ERR" in *"refused"*)
			fail "$name: the hub refused a retried sync" "$ERR"
			break
			;;
		esac
	done
	SYNC_S=$((SECONDS - t0))
	if [ -n "$LAST_JSON" ]; then
		pass
		note "$name: synced after $RUNS run(s) in ${SYNC_S} s: $LAST_JSON"
	else
		fail "$name: no successful sync in $RUNS runs (${SYNC_S} s)"
	fi
}

# --- the sender through its bad link, one attempt per run
emu_start link_snd "${LINK[@]}" --seed 5 || finish
EMU_SND=$EMU_PID
use_replica snd
sync_until sender "$EMU_URL" --once
assert_json "${LAST_JSON:-null}" '.pushed >= 0' "sender's last report"
run crm status --json
assert_eq 0 "$(json_get "$OUT" .pending_changes)" "sender has nothing pending"
SND_PUSHED=$(node_sql snd "SELECT value FROM crm_meta WHERE key = 'hub_pushed'")
SND_SEQ=$(node_sql snd "SELECT max(seq) FROM crm_applied WHERE node = '$ID_SND'")
assert_eq "$SND_SEQ" "$SND_PUSHED" "the hub's receipt covers every batch of the sender"

# --- the receiver pulls through its own bad link (client retries)
emu_start link_rcv "${LINK[@]}" --seed 8 || finish
EMU_RCV=$EMU_PID
use_replica rcv
sync_until receiver "$EMU_URL"
# The receiver's own enrollment batch reached the hub after the sender
# synced: the sender catches up through its link.
use_replica snd
EMU_URL="https://127.0.0.1:$(head -n 1 "$TEST_DIR/link_snd.port")"
sync_until "sender again" "$EMU_URL" --once

# --- the verdict: equal state, nothing doubled, nothing lost
HUB_NOW=$(hub_hash)
for r in snd rcv; do
	use_replica "$r"
	run crm state-hash
	assert_eq "$HUB_NOW" "$OUT" "state hash of $r equals the hub's"
done

for where in "$HUB_DIR" "$TEST_DIR/rcv" "$TEST_DIR/snd"; do
	run "$CRM_BIN" --data "$where" log --json
	assert_json "$OUT" "[.[] | select(.node == \"$ID_SND\")] | (length == $SND_SEQ) and
		([.[].seq] | unique | length == $SND_SEQ) and ([.[].seq] | max == $SND_SEQ) and
		([.[].oid] | unique | length == $SND_SEQ)" \
		"$(basename "$where"): each of the sender's $SND_SEQ batches exactly once"
done
HUB_DB=$(_db_of "$HUB_DIR")
assert_eq "$SND_SEQ" "$(sqlite3 "$HUB_DB" "SELECT count(*) FROM crm_applied WHERE node = '$ID_SND'")" \
	"hub crm_applied has each sender batch once"

for e in company contact deal activity; do
	use_replica snd
	run crm "$e" list --json
	N_SND=$(json_get "$OUT" length)
	use_replica rcv
	run crm "$e" list --json
	assert_eq "$N_SND" "$(json_get "$OUT" length)" "receiver has as many $e records as the sender"
	run "$CRM_BIN" --data "$HUB_DIR" "$e" list --json
	assert_eq "$N_SND" "$(json_get "$OUT" length)" "hub has as many $e records as the sender"
done
for t in stage_history channels; do
	assert_eq "$(node_sql snd "SELECT count(*) FROM $t")" "$(node_sql rcv "SELECT count(*) FROM $t")" \
		"receiver has as many $t rows as the sender"
done
assert_eq "$(node_sql snd "SELECT count(*) FROM contacts")" "$((80 * SCALE))" "sender has the day's contacts"
assert_eq "$(node_sql rcv "SELECT count(*) FROM contacts")" "$((80 * SCALE))" "receiver has the day's contacts"

for where in "$HUB_DIR" "$TEST_DIR/snd" "$TEST_DIR/rcv"; do
	run git --git-dir "$where/log.git" fsck --strict
	assert_eq 0 "$RC" "git fsck --strict on $(basename "$where")/log.git ($ERR)"
done

# --- the links really were bad: the emulators cut connections
emu_stop "$EMU_SND"
emu_stop "$EMU_RCV"
for l in link_snd link_rcv; do
	note "$l: $(grep 'totals:' "$TEST_DIR/$l.log")"
done
CUT=$(cat "$TEST_DIR/link_snd.log" "$TEST_DIR/link_rcv.log" | sed -n 's/.*connections cut \([0-9]*\).*/\1/p' |
	awk '{ s += $1 } END { print s + 0 }')
if [ "$CUT" -ge 1 ]; then pass; else fail "no connection was cut: the test did not exercise a drop"; fi
note "connections cut by the emulators: $CUT; total time $((SECONDS - T_START)) s"
hub_alive && pass || fail "the hub died"

finish
