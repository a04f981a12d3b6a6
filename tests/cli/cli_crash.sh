#!/usr/bin/env bash
# kill -9 at random points of `crm seal`, `crm export-changes` and
# `crm import-changes`, then run the command again to completion and check
# that nothing is damaged, lost or applied twice (DESIGN.md §5, §7;
# docs/PROTOCOL.md: "re-sealing after a crash yields the same commit id",
# "a batch seen before is a no-op"):
#
#   * `PRAGMA integrity_check` says ok; `git fsck --strict` passes on log.git;
#   * nothing is left pending; the node's batches are exactly 1..N, each once,
#     and are the very commits an uninterrupted run makes (same oids);
#     refs/nodes/<node> names the newest;
#   * the changes reach another replica: its state hash equals the sender's;
#   * an import is all or nothing: the run after the kill applies every batch
#     or (the kill came after the commit) none.
#
# Each trial restores a pristine copy of the replica (cp -a), starts the
# command under `timeout -s KILL` after a random delay — in [0, 1.1] or, half
# the time, in [0.75, 1.1] × the median duration of recent uninterrupted runs,
# to hit the end where the pack rename, the SQLite commit and the ref update
# are — and sometimes kills a second run too before recovering.  The
# assertions hold for any kill point; the delays only decide which points are
# tried.  A kill that lands after the process exited tests nothing, so the
# script counts real interruptions and fails if fewer than a third of the
# kills of a phase interrupted the process.  Phase 0 builds the one window
# that random kills rarely hit (inside the ref update) deterministically.
#
# Environment: CRM_CRASH_TRIALS (trials per phase, default 30),
# CRM_TEST_SEED (replays the data and the random delays; printed at start).
. "$(dirname "$0")/lib.sh"

TRIALS=${CRM_CRASH_TRIALS:-30}
SEED=${CRM_TEST_SEED:-$(( $$ ^ ${EPOCHSECONDS:-0} ))}
SEED=$((SEED & 0x7fffffff))
echo "CRM_TEST_SEED=$SEED CRM_CRASH_TRIALS=$TRIALS"
RANDOM=$SEED
for tool in sqlite3 git timeout; do
	if ! command -v $tool >/dev/null 2>&1; then
		fail "this test needs $tool"
		finish
	fi
done

T=$TEST_DIR

# now_us — wall clock in microseconds (bash 5 EPOCHREALTIME, no fork).
now_us()
{
	local t=${EPOCHREALTIME/./}
	echo $((10#$t))
}

# restore NAME — $T/NAME becomes a fresh copy of the snapshot $T/NAME.snap.
restore()
{
	rm -rf "${T:?}/$1"
	cp -a "$T/$1.snap" "$T/$1"
}

# Durations of uninterrupted runs, per kind (seal, export, import), newest
# last.  The kill delays scale with the median of the last five, so they
# follow the machine's speed as the load on it changes during the run.
S_seal=() S_export=() S_import=()

# sample KIND US
sample()
{
	local -n _s=S_$1
	_s+=("$2")
}

# estimate KIND — median of the last five samples of KIND, in µs.
estimate()
{
	local -n _s=S_$1
	local n=${#_s[@]} from=0
	((n > 5)) && from=$((n - 5))
	printf '%s\n' "${_s[@]:from}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# kill_run KIND DELAY_US ARGS... — run crm ARGS on $DATA under SIGKILL after
# DELAY_US microseconds.  Returns 0 if the kill interrupted it, 1 if it
# finished first (it must then have succeeded; its duration becomes a sample
# of KIND unless KIND is "-": a run after a kill may have less to do).
kill_run()
{
	local kind=$1 us=$2 t0
	shift 2
	[ "$us" -ge 1 ] || us=1                     # timeout 0 means "never"
	local delay
	delay=$(printf '%d.%06d' $((us / 1000000)) $((us % 1000000)))
	t0=$(now_us)
	run timeout --foreground -s KILL "$delay" "$CRM_BIN" --data "$DATA" "$@"
	case $RC in
	137) return 0 ;;      # killed
	124) return 1 ;;      # the timer fired, but the process had exited by itself
	esac
	assert_eq 0 "$RC" "$CTX: uninterrupted run ($ERR)"
	[ "$kind" = - ] || sample "$kind" $(($(now_us) - t0))
	return 1
}

# random_delay DURATION_US — half the time uniform in [0, 1.1 × DURATION_US],
# half the time in [0.75, 1.1] × DURATION_US, where the interesting windows
# are (pack rename, SQLite commit, ref update).
random_delay()
{
	local r=$(((RANDOM << 15) | RANDOM))           # 30 random bits
	if ((RANDOM % 2)); then
		echo $(($1 * 11 / 10 * r / (1 << 30)))
	else
		echo $(($1 * 3 / 4 + $1 * 35 / 100 * r / (1 << 30)))
	fi
}

# timed KIND ARGS... — run crm ARGS (must succeed); its duration becomes a
# sample of KIND.
timed()
{
	local kind=$1 t0
	shift
	t0=$(now_us)
	expect_ok crm "$@"
	sample "$kind" $(($(now_us) - t0))
}

# batches_of ID — "seq:oid ..." of node ID's batches in the current replica's
# log, ordered by seq (duplicates, if any, stay visible).
batches_of()
{
	run crm log --json
	json_get "$OUT" "[.[] | select(.node == \"$1\")] | sort_by(.seq) | map(\"\(.seq):\(.oid)\") | join(\" \")"
}

# check_store WHAT — SQLite and git are sound on the current replica.
check_store()
{
	run sqlite3 "$DATA/crm.db" 'PRAGMA integrity_check'
	assert_eq "ok" "$OUT" "$CTX: $1 integrity_check ($ERR)"
	run git --git-dir "$DATA/log.git" fsck --strict --no-progress
	assert_eq 0 "$RC" "$CTX: git fsck on $1's log.git ($ERR)"
}

# check_chain WHAT — A's batches on the current replica are the reference
# ones, each exactly once, and refs/nodes/<A> names the newest.
check_chain()
{
	assert_eq "$REF_BATCHES" "$(batches_of "$ID_A")" "$CTX: A's batches 1..$REF_N on $1, each once, same commits"
	run git --git-dir "$DATA/log.git" rev-parse --verify -q "refs/nodes/$ID_A"
	assert_eq "$REF_HEAD" "$OUT" "$CTX: refs/nodes/<A> on $1"
}

# check_delivery FILE — a pristine B importing FILE ends in A's state.
check_delivery()
{
	use_replica b
	restore b
	expect_ok crm import-changes "$1" --json
	run crm state-hash
	assert_eq "$REF_HASH" "$OUT" "$CTX: B's state hash after importing A's export"
	check_chain B
	use_replica a
}

# ---------------------------------------------------------------- setup --
# A and B trust each other; B's genesis batch is on A, so a B that imports
# everything of A holds exactly A's state.  B's node id sorts before A's, so
# both replicas list B first among their heads (crm_heads is ordered by node):
# the ref repair must not stop at the first node whose ref is already right.
use_replica a; expect_ok crm init --name anna --branch MSK
run crm whoami --json; KEY_A=$(json_get "$OUT" .public_key); ID_A=$(json_get "$OUT" .id)
assert_match '^[0-9a-f]{32}$' "$ID_A" "A's node id"
use_replica b
for ((try = 0; try < 64; try++)); do
	rm -rf "$T/b"
	run crm init --name boris --branch SPB
	[ "$RC" -eq 0 ] || break
	run crm whoami --json; KEY_B=$(json_get "$OUT" .public_key); ID_B=$(json_get "$OUT" .id)
	[[ "$ID_B" < "$ID_A" ]] && break
done
assert_eq 0 "$RC" "init B ($ERR)"
[[ "$ID_B" < "$ID_A" ]] && pass || fail "no node id for B below A's ($ID_A) in 64 tries"
use_replica a; expect_ok crm trust add "$KEY_B" --name boris
use_replica b; expect_ok crm trust add "$KEY_A" --name anna
expect_ok crm export-changes "$T/b0.bcf"
cp -a "$T/b" "$T/b.snap"
use_replica a
expect_ok crm import-changes "$T/b0.bcf"

# A's work: a few hundred CLI edits, then long notes so that sealing makes
# several batches (≤ 256 KiB of payload each).  Content is derived from the
# seed, so a replayed seed replays the data too.
CO=$(crm company add --name "Acme LLC" --tax-id 7701234567 </dev/null)
assert_match '^[0-9a-f-]{36}$' "$CO" "company id"
adds_ok=0
for i in $(seq 1 300); do
	id=$(crm contact add --first "First$i" --last "Last$i" --company "$CO" \
		--phone "+7 495 $((2000000 + i))" --email "person$i@acme.ru" </dev/null) && adds_ok=$((adds_ok + 1))
	if [ $((i % 25)) -eq 0 ]; then
		crm contact set "$id" title="Head of $i" </dev/null >/dev/null && adds_ok=$((adds_ok + 1))
	fi
done
assert_eq 312 "$adds_ok" "contact edits on A"
for i in $(seq 1 16); do
	body=$(awk -v s="$((SEED + i))" 'BEGIN { srand(s); for (i = 0; i < 48000; i++)
		printf "%c", 97 + int(rand() * 26) + (rand() < 0.15 ? -65 : 0) }')
	expect_ok crm note add --body "Note $i: $body" --company "$CO"
done
run crm status --json
assert_json "$OUT" '.pending_changes > 4000' "A has many pending changes"
cp -a "$T/a" "$T/a.snap"

# Reference: uninterrupted runs (their durations scale the kill delays).
restore a
timed seal seal --json
REF_N=$(json_get "$OUT" .batches)
assert_match '^[0-9]+$' "$REF_N" "batches sealed"
[ "${REF_N:-0}" -ge 3 ] && pass || fail "expected several batches, got '$REF_N'"
REF_BATCHES=$(batches_of "$ID_A")
REF_HEAD=${REF_BATCHES##*:}
assert_eq "$(seq -s ' ' 1 "$REF_N")" "$(printf '%s\n' $REF_BATCHES | cut -d: -f1 | paste -sd ' ')" \
	"reference batches are 1..N"
run crm state-hash; REF_HASH=$OUT
restore a
timed export export-changes "$T/ref.bcf" --json
assert_eq "$REF_BATCHES" "$(batches_of "$ID_A")" "export seals the same commits as seal"
use_replica b
restore b
timed import import-changes "$T/ref.bcf" --json
assert_json "$OUT" ".applied == $REF_N" "reference import applies A's batches"
run crm state-hash
assert_eq "$REF_HASH" "$OUT" "reference import: B's state equals A's"
# Two more runs of each.
# remeasure KIND — one more uninterrupted run of KIND on a pristine replica.
remeasure()
{
	case $1 in
	seal) use_replica a; restore a; timed seal seal ;;
	export) use_replica a; restore a; timed export export-changes "$T/ref2.bcf" ;;
	import) use_replica b; restore b; timed import import-changes "$T/ref.bcf" ;;
	esac
}
for kind in seal seal export export import import; do
	remeasure $kind
done
use_replica a
echo "uninterrupted: seal $(estimate seal)us, export $(estimate export)us, import $(estimate import)us;" \
     "$REF_N batches of A"

# ------------------------- phase 0: a kill inside the ref update, made exact --
# libgit2 updates refs/nodes/<node> by writing refs/nodes/<node>.lock and
# renaming it; crm does this after the SQLite commit (seal.c design note 2,
# crm_log_repair_refs).  A kill between the two leaves the lock file and a
# stale (here: absent) ref.  The random trials below hit that window only now
# and then, so it is built here on purpose: the next run must repair the ref
# and go on sealing, not fail on the lock forever.
# (refs/nodes/ is written only by crm, and only after its SQLite write, so a
# lock found while crm holds the SQLite write lock can only be a dead one.)
stale_ref_lock()
{
	local ref="$DATA/log.git/refs/nodes/$ID_A"
	rm -f "$ref"
	printf '%s\n' "$REF_HEAD" >"$ref.lock"
}
use_replica a
restore a
CTX="ref-update crash on A"
expect_ok crm seal
stale_ref_lock
expect_ok crm seal --json
check_chain A
expect_ok crm contact add --first After --last Crash
expect_ok crm seal --json
assert_json "$OUT" '.batches == 1' "$CTX: sealing goes on after the repair"
run crm status --json
assert_json "$OUT" '.pending_changes == 0' "$CTX: nothing left pending"
check_store A
restore a
CTX="ref-update crash on A, then export"
expect_ok crm seal
stale_ref_lock
expect_ok crm export-changes "$T/x.bcf" --json
check_chain A
use_replica b
restore b
CTX="ref-update crash on B (import)"
expect_ok crm import-changes "$T/ref.bcf"
stale_ref_lock
expect_ok crm import-changes "$T/ref.bcf" --json
check_chain B
check_store B

# ------------------------------------------- phase 1: seal / export-changes --
use_replica a
hit=0 missed=0
for ((trial = 1; trial <= TRIALS; trial++)); do
	if ((trial % 2)); then mode=seal; else mode=export; fi
	((trial % 10 == 0)) && remeasure $mode && use_replica a
	restore a
	kills=$((RANDOM % 4 == 0 ? 2 : 1))
	for ((k = 1; k <= kills; k++)); do
		d=$(random_delay "$(estimate $mode)")
		CTX="trial $trial ($mode, kill $k at ${d}us)"
		kind=$mode
		((k == 1)) || kind=-
		if [ $mode = seal ]; then
			kill_run $kind "$d" seal --json && hit=$((hit + 1)) || missed=$((missed + 1))
		else
			kill_run $kind "$d" export-changes "$T/x.bcf" --json && hit=$((hit + 1)) || missed=$((missed + 1))
		fi
	done
	CTX="trial $trial ($mode, $kills kill(s), last at ${d}us)"
	check_store A   # before recovery too: a kill must never leave damage
	if [ $mode = seal ]; then
		expect_ok crm seal --json
		expect_ok crm export-changes "$T/x.bcf" --json
	else
		expect_ok crm export-changes "$T/x.bcf" --json
	fi
	assert_json "$OUT" ".batches == $((REF_N + 1))" "$CTX: the export holds A's batches and B's"
	check_store A
	run crm status --json
	assert_json "$OUT" '.pending_changes == 0' "$CTX: nothing left pending"
	check_chain A
	run crm state-hash
	assert_eq "$REF_HASH" "$OUT" "$CTX: A's state"
	check_delivery "$T/x.bcf"
done
echo "seal/export: $TRIALS trials, $((hit + missed)) kills: $hit interrupted the process," \
     "$missed came after it had finished (now: seal $(estimate seal)us, export $(estimate export)us)"
if [ $((hit * 3)) -lt $((hit + missed)) ]; then
	fail "seal/export: only $hit of $((hit + missed)) kills interrupted the process (need a third)"
fi

# ----------------------------------------------- phase 2: import-changes --
use_replica b
hit=0 missed=0
for ((trial = 1; trial <= TRIALS; trial++)); do
	((trial % 10 == 0)) && remeasure import
	restore b
	kills=$((RANDOM % 4 == 0 ? 2 : 1))
	for ((k = 1; k <= kills; k++)); do
		d=$(random_delay "$(estimate import)")
		CTX="import trial $trial (kill $k at ${d}us)"
		kind=import
		((k == 1)) || kind=-
		kill_run $kind "$d" import-changes "$T/ref.bcf" --json && hit=$((hit + 1)) || missed=$((missed + 1))
	done
	CTX="import trial $trial ($kills kill(s), last at ${d}us)"
	check_store B
	expect_ok crm import-changes "$T/ref.bcf" --json
	assert_json "$OUT" ".applied == 0 or .applied == $REF_N" "$CTX: all or nothing"
	check_store B
	run crm state-hash
	assert_eq "$REF_HASH" "$OUT" "$CTX: B's state equals A's"
	check_chain B
	expect_ok crm import-changes "$T/ref.bcf" --json
	assert_json "$OUT" '.applied == 0 and .changes == 0' "$CTX: a further import is a no-op"
done
echo "import: $TRIALS trials, $((hit + missed)) kills: $hit interrupted the process," \
     "$missed came after it had finished (now: import $(estimate import)us)"
if [ $((hit * 3)) -lt $((hit + missed)) ]; then
	fail "import: only $hit of $((hit + missed)) kills interrupted the process (need a third)"
fi

finish
