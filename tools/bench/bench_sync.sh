#!/usr/bin/env bash
# tools/bench/bench_sync.sh — sync benchmarks against DESIGN.md §12, with real
# processes on 127.0.0.1 (crm-syncd, crm-linkemu, crm):
#
#   (a) a branch's day of work (~2,000 field changes, typed through the CLI:
#       tests/integration/workload.sh) pushed through crm-linkemu at 256 kbit/s,
#       300 ms RTT, 1 % loss — without drops, and with a drop every ~3 s
#       (several seeds); wall time until `crm sync` succeeds (target <= 15 s);
#       a second node pulls the day through its own link;
#   (b) bytes per field change: HTTP bodies (`crm sync --json` bytes_up/down)
#       and everything on the wire (crm-linkemu's byte totals: TLS handshakes,
#       records, HTTP headers, retries) (target <= 40);
#   (c) hub throughput: N enrolled nodes, each makes one small edit per round,
#       then all sync at once (xargs -P P); syncs/s, p50/p95 latency (target
#       >= 500/s), the crm CLI's own start-up cost, the hub's CPU per sync and
#       the ceiling it implies, the hub's RSS (VmRSS / VmHWM) before and after;
#   plain file exchange (export-changes / import-changes) of the same day side
#   by side.
#
# Usage: tools/bench/bench_sync.sh [--quick] [--build DIR] [--out FILE]
#   --build DIR   build tree with crm, crm-syncd, crm-linkemu (default build/;
#                 the targets are built there first)
#   --out FILE    markdown report (default docs/benchmarks.md).  Only the
#                 section between <!-- bench_sync:begin --> and
#                 <!-- bench_sync:end --> is written: appended if absent,
#                 replaced if present; the rest of the file is left alone.
#   --quick       smoke run: fewer seeds, nodes and rounds
# Scratch data goes to $BENCH_TMPDIR (else $TMPDIR, else /tmp) and is removed.
# Loopback only; every loop is bounded.  Needs bash, jq, sqlite3, awk.
set -uo pipefail
export LC_ALL=C

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build="$root/build"
out="$root/docs/benchmarks.md"
quick=0
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) quick=1 ;;
	--build) [ $# -ge 2 ] || { echo "bench_sync: --build needs a directory" >&2; exit 2; }; build=$2; shift ;;
	--out) [ $# -ge 2 ] || { echo "bench_sync: --out needs a file" >&2; exit 2; }; out=$2; shift ;;
	-h|--help) sed -n '2,30p' "$0"; exit 0 ;;
	*) echo "bench_sync: unknown argument '$1' (try --help)" >&2; exit 2 ;;
	esac
	shift
done

# ---------------------------------------------------------------- parameters --
LINK=(--rate 256 --rtt 300 --loss 1)
DROP_EVERY=3
if [ "$quick" = 1 ]; then
	NODROP_REPS=1; DROP_SEEDS=(5 8); LOAD_NODES=16; LOAD_ROUNDS=2; LOAD_P=8; STATUS_N=5
else
	NODROP_REPS=3; DROP_SEEDS=(1 2 5 8 11); LOAD_NODES=50; LOAD_ROUNDS=4; LOAD_P=16; STATUS_N=20
fi
DAY=(80 28 40 24)   # contacts deals moves activities: ~2,020 field changes

die() { echo "bench_sync: $*" >&2; exit 1; }
log() { echo "== $*" >&2; }

command -v jq >/dev/null && command -v sqlite3 >/dev/null || die "needs jq and sqlite3"
log "building crm, crm-syncd, crm-linkemu in $build"
if [ ! -f "$build/CMakeCache.txt" ]; then
	cmake -S "$root" -B "$build" >/dev/null || die "cmake configure failed"
fi
cmake --build "$build" -j"$(nproc)" --target crm-cli crm-syncd crm-linkemu bench_hub >/dev/null || die "build failed"
BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$build/CMakeCache.txt")
LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)

S=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/bench_sync.XXXXXX") || die "no scratch dir"
# Private copies of the binaries: a rebuild of the tree during the run must
# not swap (or briefly remove) the programs under measurement.
mkdir -p "$S/bin"
cp "$build/node/crm" "$build/syncd/crm-syncd" "$build/tools/linkemu/crm-linkemu" "$build/tools/bench/bench_hub" "$S/bin/" \
	|| { rm -rf "$S"; die "binaries missing under $build"; }
CRM="$S/bin/crm"
SYNCD="$S/bin/crm-syncd"
EMU="$S/bin/crm-linkemu"
PIDS=()
cleanup()
{
	local p
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	rm -rf "$S"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_ms() { echo $(($(date +%s%N) / 1000000)); }
# fmt_s MS — milliseconds as seconds with 2 decimals
fmt_s() { awk -v m="$1" 'BEGIN { printf "%.2f", m / 1000 }'; }
# calc EXPR — awk arithmetic, printed with up to 2 decimals
calc() { awk "BEGIN { v = $1; if (v == int(v)) printf \"%d\", v; else printf \"%.2f\", v }"; }
# meets VALUE OP TARGET — "yes" / "**no**"
meets() { awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN { ok = (op == "<=") ? v <= t : v >= t; print ok ? "yes" : "**no**" }'; }
# pct P FILE — the P-th percentile (nearest rank) of the numbers in FILE
pct() { sort -n "$2" | awk -v p="$1" '{ a[NR] = $1 } END { if (!NR) { print "n/a"; exit } r = int((p * NR + 99) / 100); if (r < 1) r = 1; print a[r] }'; }
median() { pct 50 "$1"; }

# wait_file FILE — up to 10 s for FILE to be complete (ends with a newline).
wait_file()
{
	local i
	for ((i = 0; i < 100; i++)); do
		[ -s "$1" ] && [ -z "$(tail -c 1 "$1")" ] && return 0
		sleep 0.1
	done
	return 1
}

# hub_run DIR — start crm-syncd on DIR; sets HUB_PID, HUB_PORT.
hub_run()
{
	rm -f "$1/url"
	"$SYNCD" --data "$1" run </dev/null >/dev/null 2>>"$1.log" &
	HUB_PID=$!
	PIDS+=("$HUB_PID")
	wait_file "$1/url" || die "hub $1 did not start: $(tail -n 3 "$1.log")"
	HUB_PORT=$(sed 's/.*://' "$1/url")
}

# stop PID — SIGTERM and reap (SIGKILL after 5 s).
stop()
{
	local i
	kill -TERM "$1" 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

# emu_run NAME ARGS... — crm-linkemu in front of the hub at $HUB_PORT; sets
# EMU_PID, EMU_URL; its log is $S/NAME.emu.log.
emu_run()
{
	local name=$1
	shift
	"$EMU" --listen 127.0.0.1:0 --to "127.0.0.1:$HUB_PORT" --port-file "$S/$name.port" "$@" \
		</dev/null >/dev/null 2>"$S/$name.emu.log" &
	EMU_PID=$!
	PIDS+=("$EMU_PID")
	wait_file "$S/$name.port" || die "link emulator $name did not start"
	EMU_URL="https://127.0.0.1:$(cat "$S/$name.port")"
}

# emu_totals NAME — "up down drops cut" from the emulator's totals line.
emu_totals()
{
	sed -n 's/.*totals: .*drops \([0-9]*\), connections cut \([0-9]*\), delivered up \([0-9]*\) B down \([0-9]*\) B.*/\3 \4 \1 \2/p' \
		"$S/$1.emu.log" | tail -n 1
}

# proc_cpu_ms PID — user+system CPU time of PID in ms.
proc_cpu_ms()
{
	awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print int(($12 + $13) * 1000 / hz) }' "/proc/$1/stat"
}
# proc_mem PID FIELD — VmRSS / VmHWM of PID in KiB.
proc_mem() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }

# sync_loop DIR URL — `crm sync --hub URL --json` on DIR until it succeeds
# (at most 40 runs, each under timeout 120).  Sets LOOP_MS, LOOP_RUNS, LOOP_JSON.
sync_loop()
{
	local t0 rc
	t0=$(now_ms)
	LOOP_RUNS=0
	LOOP_JSON=""
	while [ "$LOOP_RUNS" -lt 40 ]; do
		LOOP_RUNS=$((LOOP_RUNS + 1))
		LOOP_JSON=$(timeout 120 "$CRM" --data "$1" sync --hub "$2" --json 2>>"$S/sync.err" </dev/null)
		rc=$?
		[ "$rc" -eq 0 ] && break
		LOOP_JSON=""
	done
	LOOP_MS=$(($(now_ms) - t0))
	[ -n "$LOOP_JSON" ]
}

# catch_up DIR URL HUBDIR — sync DIR until its state hash equals the hub's
# (at most 40 runs).  Sets CU_MS, CU_RUNS.
catch_up()
{
	local t0 want
	t0=$(now_ms)
	want=$("$SYNCD" --data "$3" state-hash)
	CU_RUNS=0
	while [ "$CU_RUNS" -lt 40 ]; do
		CU_RUNS=$((CU_RUNS + 1))
		timeout 120 "$CRM" --data "$1" sync --hub "$2" --json >/dev/null 2>>"$S/sync.err" </dev/null
		[ "$("$CRM" --data "$1" state-hash 2>/dev/null)" = "$want" ] && break
	done
	CU_MS=$(($(now_ms) - t0))
	[ "$("$CRM" --data "$1" state-hash 2>/dev/null)" = "$want" ]
}

# =============================================================== the day ==
log "preparing a branch's day of work (${DAY[*]})"
"$SYNCD" --data "$S/hub0" init --listen 127.0.0.1:0 >/dev/null || die "hub init failed"
hub_run "$S/hub0"
"$CRM" --data "$S/day0" init --join "$("$SYNCD" --data "$S/hub0" token --branch MSK --name anna)" >/dev/null \
	|| die "enrollment failed"
"$CRM" --data "$S/rcv0" init --join "$("$SYNCD" --data "$S/hub0" token --branch SPB --name boris)" >/dev/null \
	|| die "enrollment failed"
stop "$HUB_PID"
crm() { "$CRM" --data "$S/day0" "$@"; }
. "$root/tests/integration/workload.sh"
t0=$(now_ms)
wl_day MSK "${DAY[@]}" || die "day of work: $WL_ERROR"
TYPE_MS=$(($(now_ms) - t0))
CHANGES=$("$CRM" --data "$S/day0" status --json | jq -r .pending_changes)
"$CRM" --data "$S/day0" seal >/dev/null || die "seal failed"
DAY_PAYLOAD=$(sqlite3 "$S/day0/crm.db" "SELECT sum(size) FROM crm_applied WHERE node = (SELECT value FROM crm_meta WHERE key = 'node_id')")
DAY_BATCHES=$(sqlite3 "$S/day0/crm.db" "SELECT count(*) FROM crm_applied WHERE node = (SELECT value FROM crm_meta WHERE key = 'node_id')")
log "day of work: $CHANGES field changes, $DAY_BATCHES batches, $DAY_PAYLOAD B payload, typed in $(fmt_s "$TYPE_MS") s"

# day_run NAME [EMU ARGS...] — fresh copies of hub0/day0/rcv0; the sender
# syncs through its link until success, then the receiver through its own
# link until it has the hub's state.  No EMU ARGS: straight to the hub.
# Appends "name send_ms send_runs rcv_ms rcv_runs up down drops cut rup rdown
# body_up body_down ok" to $S/day.txt.
day_run()
{
	local name=$1 d="$S/$1"
	shift
	mkdir -p "$d"
	cp -a "$S/hub0" "$d/hub"
	cp -a "$S/day0" "$d/day"
	cp -a "$S/rcv0" "$d/rcv"
	hub_run "$d/hub"
	local url_s="https://127.0.0.1:$HUB_PORT" url_r="https://127.0.0.1:$HUB_PORT" pe_s="" pe_r=""
	if [ $# -gt 0 ]; then
		emu_run "$name.s" "$@"
		url_s=$EMU_URL
		pe_s=$EMU_PID
	fi
	local ok=1 send_ms send_runs body_up=0 body_down=0
	sync_loop "$d/day" "$url_s" || ok=0
	send_ms=$LOOP_MS
	send_runs=$LOOP_RUNS
	if [ -n "$LOOP_JSON" ]; then
		body_up=$(jq -r .bytes_up <<<"$LOOP_JSON")
		body_down=$(jq -r .bytes_down <<<"$LOOP_JSON")
	fi
	if [ $# -gt 0 ]; then
		local rs=${RCV_SEED:-9} i
		local args=("$@")
		# the receiver's link: same settings, its own seed
		for ((i = 0; i < ${#args[@]}; i++)); do
			[ "${args[$i]}" = --seed ] && args[$((i + 1))]=$rs
		done
		emu_run "$name.r" "${args[@]}"
		url_r=$EMU_URL
		pe_r=$EMU_PID
	fi
	catch_up "$d/rcv" "$url_r" "$d/hub" || ok=0
	local rcv_ms=$CU_MS rcv_runs=$CU_RUNS
	# the sender may lack the receiver's batches: not timed, just converge
	catch_up "$d/day" "$url_s" "$d/hub" || ok=0
	local hh
	hh=$("$SYNCD" --data "$d/hub" state-hash)
	[ "$hh" = "$("$CRM" --data "$d/rcv" state-hash)" ] && [ "$hh" = "$("$CRM" --data "$d/day" state-hash)" ] || ok=0
	local n_s n_r
	n_s=$(sqlite3 "$d/day/crm.db" "SELECT count(*) FROM contacts")
	n_r=$(sqlite3 "$d/rcv/crm.db" "SELECT count(*) FROM contacts")
	[ "$n_s" = "$n_r" ] || ok=0
	local up=0 down=0 drops=0 cut=0 rup=0 rdown=0 rdrops=0 rcut=0
	if [ -n "$pe_s" ]; then
		stop "$pe_s"
		stop "$pe_r"
		read -r up down drops cut <<<"$(emu_totals "$name.s")"
		read -r rup rdown rdrops rcut <<<"$(emu_totals "$name.r")"
	fi
	stop "$HUB_PID"
	echo "$name $send_ms $send_runs $rcv_ms $rcv_runs $up $down $drops $cut $rup $rdown $body_up $body_down $ok $rdrops $rcut" >>"$S/day.txt"
	log "$name: sender $(fmt_s "$send_ms") s in $send_runs run(s); receiver $(fmt_s "$rcv_ms") s in $rcv_runs run(s); wire up $up down $down B; drops $drops/$rdrops; verified=$ok"
	rm -rf "$d"
}
: >"$S/day.txt"
log "(a) straight to the hub (no emulator): the protocol and CPU floor"
day_run direct
for ((r = 1; r <= NODROP_REPS; r++)); do
	log "(a) 256 kbit/s, 300 ms, 1 % loss, no drops: run $r/$NODROP_REPS"
	day_run "nodrop$r" "${LINK[@]}" --seed "$r"
done
for seed in "${DROP_SEEDS[@]}"; do
	log "(a) 256 kbit/s, 300 ms, 1 % loss, drop every ~${DROP_EVERY} s: seed $seed"
	RCV_SEED=$((seed + 100)) day_run "drop$seed" "${LINK[@]}" --drop-every "$DROP_EVERY" --seed "$seed"
done

# ========================================================= file exchange ==
log "file exchange of the same day"
cp -a "$S/day0" "$S/fx_day"
t0=$(now_ms)
EXP_JSON=$("$CRM" --data "$S/fx_day" export-changes "$S/day.bcf" --json) || die "export-changes failed"
EXP_MS=$(($(now_ms) - t0))
FILE_BYTES=$(stat -c %s "$S/day.bcf")
"$CRM" --data "$S/fx_rcv" init --name filereceiver --branch SPB >/dev/null || die "init failed"
"$CRM" --data "$S/fx_rcv" trust add "$("$CRM" --data "$S/fx_day" whoami --json | jq -r .public_key)" >/dev/null
"$CRM" --data "$S/fx_rcv" trust add "$("$CRM" --data "$S/hub0" whoami --json | jq -r .public_key)" >/dev/null
t0=$(now_ms)
IMP_JSON=$("$CRM" --data "$S/fx_rcv" import-changes "$S/day.bcf" --json) || die "import-changes failed"
IMP_MS=$(($(now_ms) - t0))
FX_OK=0
[ "$(sqlite3 "$S/fx_rcv/crm.db" "SELECT count(*) FROM contacts")" = "$(sqlite3 "$S/day0/crm.db" "SELECT count(*) FROM contacts")" ] && FX_OK=1
log "file: $FILE_BYTES B, export $(fmt_s "$EXP_MS") s, import $(fmt_s "$IMP_MS") s ($IMP_JSON)"

# ============================================================= hub load ==
log "(c) hub load: $LOAD_NODES nodes, $LOAD_ROUNDS rounds, $LOAD_P at once"
L="$S/load"
mkdir -p "$L"
"$SYNCD" --data "$L/hub" init --listen 127.0.0.1:0 >/dev/null || die "hub init failed"
hub_run "$L/hub"
LOAD_HUB=$HUB_PID
RSS_START=$(proc_mem "$LOAD_HUB" VmRSS)
HWM_START=$(proc_mem "$LOAD_HUB" VmHWM)
t0=$(now_ms)
for ((i = 1; i <= LOAD_NODES; i++)); do
	"$CRM" --data "$L/n$i" init --join "$("$SYNCD" --data "$L/hub" token --branch "B$((i % 5))" --name "node$i")" \
		>/dev/null || die "enrolling node $i failed"
done
ENROLL_MS=$(($(now_ms) - t0))
# warm-up: everyone creates one company and catches up with the history
for ((i = 1; i <= LOAD_NODES; i++)); do
	"$CRM" --data "$L/n$i" company add --name "Company of node $i" >"$L/n$i.co" || die "edit failed"
done
seq 1 "$LOAD_NODES" | xargs -P "$LOAD_P" -I{} "$CRM" --data "$L/n{}" sync --json >/dev/null 2>>"$S/sync.err"
for ((i = 1; i <= LOAD_NODES; i++)); do   # a second pass: all have seen all
	"$CRM" --data "$L/n$i" sync >/dev/null 2>>"$S/sync.err"
done
RSS_BEFORE=$(proc_mem "$LOAD_HUB" VmRSS)
HWM_BEFORE=$(proc_mem "$LOAD_HUB" VmHWM)

cat >"$L/one.sh" <<EOF
#!/usr/bin/env bash
# one timed small sync: node dir, round
s=\$(date +%s%N)
"$CRM" --data "$L/n\$1" sync --json >"$L/n\$1.r\$2.json" 2>>"$L/n\$1.err" </dev/null
rc=\$?
e=\$(date +%s%N)
echo "\$(( (e - s) / 1000 )) \$rc" >>"$L/lat.r\$2"
EOF
chmod +x "$L/one.sh"
CPU0=$(proc_cpu_ms "$LOAD_HUB")
LOAD_WALL=0
for ((r = 1; r <= LOAD_ROUNDS; r++)); do
	for ((i = 1; i <= LOAD_NODES; i++)); do
		"$CRM" --data "$L/n$i" company set "$(cat "$L/n$i.co")" industry="Round $r" >/dev/null || die "edit failed"
	done
	t0=$(now_ms)
	seq 1 "$LOAD_NODES" | xargs -P "$LOAD_P" -I{} "$L/one.sh" {} "$r"
	LOAD_WALL=$((LOAD_WALL + $(now_ms) - t0))
done
CPU1=$(proc_cpu_ms "$LOAD_HUB")
RSS_AFTER=$(proc_mem "$LOAD_HUB" VmRSS)
HWM_AFTER=$(proc_mem "$LOAD_HUB" VmHWM)
cat "$L"/lat.r* >"$L/lat.all"
SYNCS=$(wc -l <"$L/lat.all")
SYNC_FAILS=$(awk '$2 != 0' "$L/lat.all" | wc -l)
awk '{ printf "%.1f\n", $1 / 1000 }' "$L/lat.all" >"$L/lat.ms"
P50=$(pct 50 "$L/lat.ms")
P95=$(pct 95 "$L/lat.ms")
PMAX=$(pct 100 "$L/lat.ms")
RATE=$(calc "$SYNCS / ($LOAD_WALL / 1000)")
PULLED=$(cat "$L"/n*.r*.json 2>/dev/null | jq -s '[.[].pulled] | add / length * 10 | round / 10' 2>/dev/null || echo "n/a")
PUSHED=$(cat "$L"/n*.r*.json 2>/dev/null | jq -s '[.[].pushed] | add / length * 10 | round / 10' 2>/dev/null || echo "n/a")
REQS=$(cat "$L"/n*.r*.json 2>/dev/null | jq -s '[.[].requests] | add / length * 10 | round / 10' 2>/dev/null || echo "n/a")
HUB_CPU_PER_SYNC=$(calc "($CPU1 - $CPU0) / $SYNCS")
HUB_CEIL=$(awk -v c="$CPU1" -v b="$CPU0" -v n="$SYNCS" 'BEGIN { d = c - b; if (d <= 0) print "n/a"; else printf "%d", n * 1000 / d }')
# the CLI's own cost: process start, open the replica, print
: >"$L/status.ms"
for ((i = 1; i <= STATUS_N; i++)); do
	t0=$(date +%s%N)
	"$CRM" --data "$L/n1" status >/dev/null
	echo $((($(date +%s%N) - t0) / 1000)) | awk '{ printf "%.1f\n", $1 / 1000 }' >>"$L/status.ms"
done
STATUS_MS=$(median "$L/status.ms")
P50_NET=$(calc "$P50 - $STATUS_MS")
# the same round, one at a time: latency without queueing
for ((i = 1; i <= LOAD_NODES; i++)); do
	"$CRM" --data "$L/n$i" company set "$(cat "$L/n$i.co")" industry="Serial" >/dev/null
done
t0=$(now_ms)
for ((i = 1; i <= LOAD_NODES; i++)); do
	"$L/one.sh" "$i" serial
done
SERIAL_MS=$(($(now_ms) - t0))
awk '{ printf "%.1f\n", $1 / 1000 }' "$L/lat.rserial" >"$L/lat.serial.ms"
SERIAL_P50=$(median "$L/lat.serial.ms")
SERIAL_RATE=$(calc "$LOAD_NODES / ($SERIAL_MS / 1000)")
LOAD_OK=1
H=$("$SYNCD" --data "$L/hub" state-hash)
for ((i = 1; i <= LOAD_NODES; i++)); do   # converge check: all sync again, compare
	"$CRM" --data "$L/n$i" sync >/dev/null 2>>"$S/sync.err"
done
for ((i = 1; i <= LOAD_NODES; i++)); do
	"$CRM" --data "$L/n$i" sync >/dev/null 2>>"$S/sync.err"
done
H=$("$SYNCD" --data "$L/hub" state-hash)
for ((i = 1; i <= LOAD_NODES; i++)); do
	[ "$("$CRM" --data "$L/n$i" state-hash)" = "$H" ] || LOAD_OK=0
done
# idle syncs: everyone caught up, nothing to push or pull — one signed request
# each; the hub's floor per sync
IDLE_ROUNDS=2
CPU2=$(proc_cpu_ms "$LOAD_HUB")
IDLE_WALL=0
for ((r = 1; r <= IDLE_ROUNDS; r++)); do
	t0=$(now_ms)
	seq 1 "$LOAD_NODES" | xargs -P "$LOAD_P" -I{} "$L/one.sh" {} "idle$r"
	IDLE_WALL=$((IDLE_WALL + $(now_ms) - t0))
done
CPU3=$(proc_cpu_ms "$LOAD_HUB")
cat "$L"/lat.ridle* >"$L/lat.idle"
IDLE_N=$(wc -l <"$L/lat.idle")
IDLE_FAILS=$(awk '$2 != 0' "$L/lat.idle" | wc -l)
awk '{ printf "%.1f\n", $1 / 1000 }' "$L/lat.idle" >"$L/lat.idle.ms"
IDLE_P50=$(pct 50 "$L/lat.idle.ms")
IDLE_P95=$(pct 95 "$L/lat.idle.ms")
IDLE_RATE=$(calc "$IDLE_N / ($IDLE_WALL / 1000)")
IDLE_CPU=$(calc "($CPU3 - $CPU2) / $IDLE_N")
IDLE_CEIL=$(awk -v c="$CPU3" -v b="$CPU2" -v n="$IDLE_N" 'BEGIN { d = c - b; if (d <= 0) print "n/a"; else printf "%d", n * 1000 / d }')
# (d) a new node of the load hub: replaying the whole history vs. the snapshot
SNAP_HIST=$(sqlite3 "$L/hub/crm.db" "SELECT count(*) || ' ' || coalesce(sum(size), 0) FROM crm_applied")
"$CRM" --data "$L/replay" init --join "$("$SYNCD" --data "$L/hub" token --branch B1 --name replayer)" >/dev/null \
	|| die "enrollment failed"
t0=$(now_ms)
REPLAY_JSON=$("$CRM" --data "$L/replay" sync --json 2>>"$S/sync.err") || die "replay sync failed"
REPLAY_MS=$(($(now_ms) - t0))
t0=$(now_ms)
"$CRM" --data "$L/snap" init --join "$("$SYNCD" --data "$L/hub" token --branch B1 --name snapper)" --snapshot \
	>/dev/null 2>>"$S/sync.err" || die "snapshot join failed"
SNAP_JOIN_MS=$(($(now_ms) - t0))   # enrollment + snapshot + first sync
SNAP_BYTES=$(sed -n 's/.*GET \/v1\/snapshot .* status=200 in=0 out=\([0-9]*\) .*/\1/p' "$L/hub.log" | tail -n 1)
H=$("$SYNCD" --data "$L/hub" state-hash)
"$CRM" --data "$L/replay" sync >/dev/null 2>>"$S/sync.err"   # the snapper's user row
SNAP_OK=0
[ "$("$CRM" --data "$L/snap" state-hash)" = "$H" ] && [ "$("$CRM" --data "$L/replay" state-hash)" = "$H" ] && SNAP_OK=1
REPLAY_BYTES=$(jq -r '.bytes_down + .bytes_up' <<<"$REPLAY_JSON")
log "snapshot: $SNAP_BYTES B, join $(fmt_s "$SNAP_JOIN_MS") s; replay $REPLAY_BYTES B in $(fmt_s "$REPLAY_MS") s; equal=$SNAP_OK"
cat "$L"/n*.err >"$S/load.err" 2>/dev/null
RSS_END=$(proc_mem "$LOAD_HUB" VmRSS)
HWM_END=$(proc_mem "$LOAD_HUB" VmHWM)
stop "$LOAD_HUB"
log "idle: $IDLE_N syncs in $(fmt_s "$IDLE_WALL") s = $IDLE_RATE/s; p50 $IDLE_P50 ms; hub CPU $IDLE_CPU ms/sync"
log "load: $SYNCS syncs in $(fmt_s "$LOAD_WALL") s = $RATE/s; p50 $P50 ms p95 $P95 ms; hub CPU $HUB_CPU_PER_SYNC ms/sync; failures $SYNC_FAILS"

# (c2) the hub alone: tools/bench/bench_hub (C client threads with kept
# connections, the real protocol, pre-built batches), then without keep-alive
log "(c2) bench_hub: $LOAD_NODES nodes, $LOAD_P threads, $LOAD_ROUNDS rounds"
BH=$(BENCH_TMPDIR="$S" "$S/bin/bench_hub" --syncd "$SYNCD" --nodes "$LOAD_NODES" --conc "$LOAD_P" \
	--rounds "$LOAD_ROUNDS" --idle 2 2>>"$S/bench_hub.err") || die "bench_hub failed: $(tail -n 3 "$S/bench_hub.err")"
BH_NK=$(BENCH_TMPDIR="$S" "$S/bin/bench_hub" --syncd "$SYNCD" --nodes "$LOAD_NODES" --conc "$LOAD_P" \
	--rounds "$LOAD_ROUNDS" --idle 2 --no-keepalive 2>>"$S/bench_hub.err") || die "bench_hub failed"
# bh KEY [OUTPUT] — a RESULT value of bench_hub
bh() { sed -n 's/.* '"$1"'=\([^ ]*\).*/\1/p; s/^RESULT '"$1"'=\([^ ]*\).*/\1/p' <<<"${2:-$BH}" | head -n 1; }
log "bench_hub: $(grep '^small sync' <<<"$BH")"

# ================================================================ report ==
# day figures: median of the no-drop runs, median and max of the drop runs
col() { awk -v n="$1" -v c="$2" '$1 ~ "^"n { print $c }' "$S/day.txt"; }
col "direct" 2 >"$S/direct.ms"
col "nodrop" 2 >"$S/nodrop.ms"
col "nodrop" 4 >"$S/nodrop.rcv.ms"
col "drop" 2 >"$S/drop.ms"
col "drop" 4 >"$S/drop.rcv.ms"
DIRECT_MS=$(median "$S/direct.ms")
NODROP_MS=$(median "$S/nodrop.ms")
NODROP_RCV_MS=$(median "$S/nodrop.rcv.ms")
DROP_MED=$(median "$S/drop.ms")
DROP_MAX=$(pct 100 "$S/drop.ms")
DROP_RCV_MED=$(median "$S/drop.rcv.ms")
ALL_OK=$(awk '$14 != 1 { bad++ } END { print bad ? 0 : 1 }' "$S/day.txt")
RCV_MAX_RUNS=$(awk '$5 > m { m = $5 } END { print m + 0 }' "$S/day.txt")
read -r _ _ _ _ _ W_UP W_DOWN _ _ WR_UP WR_DOWN B_UP B_DOWN _ <<<"$(grep '^nodrop1 ' "$S/day.txt")"
BPC_BODY=$(calc "($B_UP + $B_DOWN) / $CHANGES")
BPC_PUSH=$(calc "$B_UP / $CHANGES")
BPC_WIRE=$(calc "($W_UP + $W_DOWN) / $CHANGES")
BPC_WIRE_RCV=$(calc "($WR_UP + $WR_DOWN) / $CHANGES")
BPC_FILE=$(calc "$FILE_BYTES / $CHANGES")
FILE_LINK_S=$(calc "$FILE_BYTES * 8 / 256000 + 0.3")
DROP_WIRE=$(awk '$1 ~ /^drop/ { s += $6 + $7; n++ } END { if (n) printf "%d", s / n / '"$CHANGES"'; else print "n/a" }' "$S/day.txt")

SCRATCH_FS=$(df -PT "$S" | awk 'NR == 2 { print $2 " (" $7 ")" }')
CPU_MODEL=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
COMMIT=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo "?")
DIRTY=$(git -C "$root" status --porcelain 2>/dev/null | grep -q . && echo " + uncommitted changes" || true)

sec_ms() { fmt_s "$1"; }
section()
{
cat <<EOF
<!-- bench_sync:begin -->
## Sync: a day of work over a bad link, bytes per change, hub throughput

Written by \`tools/bench/bench_sync.sh$([ "$quick" = 1 ] && echo " --quick")\` on $(date -u +%Y-%m-%dT%H:%MZ); commit $COMMIT$DIRTY;
build \`${build#"$root"/}\` ($BUILD_TYPE).  Machine: $(nproc) CPU ($CPU_MODEL), Linux $(uname -r);
scratch replicas on $SCRATCH_FS.  Load average (1, 5, 15 min) at the start $LOAD_AT_START, at the end
$(cut -d' ' -f1-3 /proc/loadavg): other work on the machine competes with the processes measured here.
Everything runs on 127.0.0.1: one \`crm-syncd\`, \`crm-linkemu\` per node link, \`crm\` processes.
Verdicts are computed from the figures by the script.

| budget (DESIGN.md §12) | target | measured | met |
|---|---|---|---|
| day of work (${CHANGES} changes) over 256 kbit/s, 300 ms RTT, 1 % loss, no drops (median of $NODROP_REPS) | ≤ 15 s | $(sec_ms "$NODROP_MS") s | $(meets "$NODROP_MS" "<=" 15000) |
| the same with a link drop every ~${DROP_EVERY} s (median / worst of ${#DROP_SEEDS[@]} seeds) | ≤ 15 s | $(sec_ms "$DROP_MED") / $(sec_ms "$DROP_MAX") s | $(meets "$DROP_MAX" "<=" 15000) |
| wire bytes per field change (push of the day incl. TLS, HTTP, pull) | ≤ 40 | $BPC_WIRE | $(meets "$BPC_WIRE" "<=" 40) |
| hub small syncs/s, $LOAD_NODES nodes, $LOAD_P at once (end to end, incl. the crm CLI) | ≥ 500 | $RATE | $(meets "$RATE" ">=" 500) |
| hub small syncs/s, ceiling from the hub's CPU per sync (clients free) | ≥ 500 | $HUB_CEIL | $(meets "${HUB_CEIL/n\/a/0}" ">=" 500) |
| hub idle syncs/s (nothing to push or pull), end to end / hub-CPU ceiling | ≥ 500 | $IDLE_RATE / $IDLE_CEIL | $(meets "$IDLE_RATE" ">=" 500) / $(meets "${IDLE_CEIL/n\/a/0}" ">=" 500) |
| hub small syncs/s measured on the hub alone (bench_hub: $LOAD_P client threads, kept connections) | ≥ 500 | $(bh small_rate) | $(meets "$(bh small_rate)" ">=" 500) |
| hub idle syncs/s measured on the hub alone (bench_hub) | ≥ 500 | $(bh idle_rate) | $(meets "$(bh idle_rate)" ">=" 500) |

### (a) A branch's day of work through the emulated link

The day: \`wl_day MSK ${DAY[*]}\` (tests/integration/workload.sh) — $((DAY[0] / 5)) companies, ${DAY[0]} contacts with
e-mail and phone, ${DAY[1]} deals, ${DAY[2]} deal moves, ${DAY[3]} activities, typed through the CLI in
$(sec_ms "$TYPE_MS") s: **$CHANGES field changes**, sealed into $DAY_BATCHES batch(es), $DAY_PAYLOAD B of msgpack payload.
For every run the hub and both nodes are fresh copies of the same snapshot.  The sender runs
\`crm sync --hub https://127.0.0.1:EMUPORT --json\` (its own retries with backoff) until it exits 0 (at most 40 runs,
\`timeout 120\` each); the time is the wall time until then (push of the day and pull).  Then the receiver (another
branch) syncs through its own link until its state hash equals the hub's; then all three hashes are compared and the
contact counts (verified: $([ "$ALL_OK" = 1 ] && echo "all runs" || echo "**NOT all runs**")).
Link: \`crm-linkemu --rate 256 --rtt 300 --loss 1 [--drop-every $DROP_EVERY] --seed N\`.

| run | sender: s (runs) | receiver: s (runs) | wire up / down B (sender) | drops (cut) | HTTP bodies up / down B |
|---|---|---|---|---|---|
$(awk '{ w = ($1 == "direct") ? "— (no emulator)" : sprintf("%d / %d", $6, $7); d = ($1 == "direct") ? "—" : sprintf("%d (%d)", $8, $9);
	printf "| %s | %.2f (%d) | %.2f (%d) | %s | %s | %d / %d |\n", $1, $2 / 1000, $3, $4 / 1000, $5, w, d, $12, $13 }' "$S/day.txt")

Medians: direct (no emulator) $(sec_ms "$DIRECT_MS") s; no drops $(sec_ms "$NODROP_MS") s (receiver $(sec_ms "$NODROP_RCV_MS") s);
with drops $(sec_ms "$DROP_MED") s, worst $(sec_ms "$DROP_MAX") s (receiver median $(sec_ms "$DROP_RCV_MED") s).
$(if [ "$RCV_MAX_RUNS" -gt 1 ]; then echo "**The receiver needed up to $RCV_MAX_RUNS \`crm sync\` runs to reach the hub's state** (the day is one"
echo "batch of $DAY_PAYLOAD B of payload, more than the first 64 KiB pull chunk, and a single run stopped after that chunk"
echo "although the hub announced more); its time above is the sum of those runs."; else echo "One \`crm sync\` run of the receiver reached the hub's state in every run."; fi)

### (b) Bytes per field change

| measure | bytes | per change |
|---|---|---|
| push request bodies (\`bytes_up\`, the day's pack) | $B_UP | $BPC_PUSH |
| request + response bodies of the sender's sync (\`bytes_up + bytes_down\`) | $((B_UP + B_DOWN)) | $BPC_BODY |
| on the wire, sender (crm-linkemu delivered up + down: TLS handshakes and records, HTTP headers) | $((W_UP + W_DOWN)) | $BPC_WIRE |
| on the wire, receiver pulling the day | $((WR_UP + WR_DOWN)) | $BPC_WIRE_RCV |
| on the wire, sender, mean of the runs with drops (retries included) | | $DROP_WIRE |
| change file (\`crm export-changes\`) | $FILE_BYTES | $BPC_FILE |

### Side by side: sync over the link vs. plain file exchange of the same day

| | sync through the 256 kbit/s link (no drops) | file exchange |
|---|---|---|
| bytes | $((W_UP + W_DOWN)) on the wire (sender) | $FILE_BYTES (file) |
| bytes per change | $BPC_WIRE | $BPC_FILE |
| time | $(sec_ms "$NODROP_MS") s end to end | export $(sec_ms "$EXP_MS") s + import $(sec_ms "$IMP_MS") s (CPU, local disk); the file alone would take ≈ $FILE_LINK_S s at 256 kbit/s |
| receiver | $(sec_ms "$NODROP_RCV_MS") s pull | import: $(jq -r '"\(.applied) batches, \(.changes) changes"' <<<"$IMP_JSON"); contacts equal: $([ "$FX_OK" = 1 ] && echo yes || echo **no**) |

### (c) Hub throughput with many concurrent nodes

$LOAD_NODES nodes enrolled (in $(sec_ms "$ENROLL_MS") s, one at a time), each created a company and caught up.  Then
$LOAD_ROUNDS rounds: every node changes one field of its company (not timed), then all $LOAD_NODES run
\`crm sync --json\` through \`xargs -P $LOAD_P\` (timed: the whole round).  A small sync here = one \`crm sync\`
process: open the replica, seal one batch, push it (one signed HTTPS request), pull what the other nodes pushed since
(mean pushed $PUSHED, pulled $PULLED batches, $REQS requests per sync) on one kept TLS 1.3 connection.

| figure | value |
|---|---|
| syncs | $SYNCS ($SYNC_FAILS failed) in $(sec_ms "$LOAD_WALL") s |
| throughput, end to end | **$RATE syncs/s** |
| latency p50 / p95 / max | $P50 / $P95 / $PMAX ms |
| one at a time (no queueing): p50, rate | $SERIAL_P50 ms, $SERIAL_RATE syncs/s |
| \`crm status\` (process start + open replica), median of $STATUS_N | $STATUS_MS ms |
| p50 minus the CLI's own start-up | $P50_NET ms |
| hub CPU per sync (utime+stime of crm-syncd over the timed rounds) | $HUB_CPU_PER_SYNC ms |
| ceiling implied by the hub's CPU (one event loop, clients free) | $HUB_CEIL syncs/s |
| hub RSS at start / after enrollment and warm-up / after the load | $RSS_START / $RSS_BEFORE / $RSS_AFTER KiB |
| hub peak RSS (VmHWM) at start / before / after the load | $HWM_START / $HWM_BEFORE / $HWM_AFTER KiB |
| all nodes converge with the hub afterwards | $([ "$LOAD_OK" = 1 ] && echo yes || echo **no**) |
| idle syncs (all caught up: nothing to push or pull, one request), $LOAD_P at once | $IDLE_N ($IDLE_FAILS failed) in $(sec_ms "$IDLE_WALL") s = **$IDLE_RATE syncs/s**; p50 / p95 $IDLE_P50 / $IDLE_P95 ms |
| hub CPU per idle sync; ceiling it implies | $IDLE_CPU ms; $IDLE_CEIL syncs/s |
| hub RSS / peak RSS at the end | $RSS_END / $HWM_END KiB |

On $(nproc) cores the $LOAD_P concurrent \`crm\` processes and the hub share the CPU, so the end-to-end rate is
bounded by process start-up, key loading and TLS handshakes on the client side as much as by the hub; the CPU
ceiling is what one hub process could serve if the clients ran elsewhere (it ignores I/O waits, so it is an
upper bound).

### (c2) The hub alone: \`tools/bench/bench_hub\`

The same shape of load without a \`crm\` process per sync: \`bench_hub --nodes $LOAD_NODES --conc $LOAD_P --rounds
$LOAD_ROUNDS --idle 2\` starts its own hub, enrolls $LOAD_NODES nodes with their own keys through libcrm
(\`crm_join\`), warms them up with \`crm_sync\`, and pre-builds every node's batch of every round (one field change,
sealed and exported exactly as \`crm sync\` would push it) — the nodes' work, not timed.  Timed: $LOAD_P threads, each
with one HTTPS connection, take the next node and do its small sync with the real protocol (signed push of the batch,
signed pulls since the node's cursor until the hub says no more; the pulled batches are received, not applied).  Idle:
one signed pull each.  Hub CPU from /proc (utime+stime of crm-syncd).

| figure | kept connections | a new connection per sync |
|---|---|---|
| small syncs | $(bh small_syncs) ($(bh small_fails) failed) in $(bh small_wall_s) s | $(bh small_syncs "$BH_NK") ($(bh small_fails "$BH_NK") failed) in $(bh small_wall_s "$BH_NK") s |
| **small syncs/s** | **$(bh small_rate)** | $(bh small_rate "$BH_NK") |
| latency p50 / p95 / max (ms) | $(bh small_p50_ms) / $(bh small_p95_ms) / $(bh small_max_ms) | $(bh small_p50_ms "$BH_NK") / $(bh small_p95_ms "$BH_NK") / $(bh small_max_ms "$BH_NK") |
| hub CPU per small sync (ms); ceiling it implies | $(bh small_hub_cpu_ms); $(bh small_hub_ceiling)/s | $(bh small_hub_cpu_ms "$BH_NK"); $(bh small_hub_ceiling "$BH_NK")/s |
| requests per small sync | $(bh small_requests_per_sync) | $(bh small_requests_per_sync "$BH_NK") |
| **idle syncs/s**; p50 / p95 (ms) | **$(bh idle_rate)**; $(bh idle_p50_ms) / $(bh idle_p95_ms) | $(bh idle_rate "$BH_NK"); $(bh idle_p50_ms "$BH_NK") / $(bh idle_p95_ms "$BH_NK") |
| hub CPU per idle sync (ms) | $(bh idle_hub_cpu_ms) | $(bh idle_hub_cpu_ms "$BH_NK") |
| hub RSS before / after the timed part; peak (KiB) | $(bh hub_rss_kib_before) / $(bh hub_rss_kib_after); $(bh hub_hwm_kib_after) | $(bh hub_rss_kib_before "$BH_NK") / $(bh hub_rss_kib_after "$BH_NK"); $(bh hub_hwm_kib_after "$BH_NK") |

Side by side with (c): the end-to-end rate of \`crm sync\` processes is $RATE syncs/s; the hub measured alone serves
$(bh small_rate) small syncs/s with the same concurrency.  What is left in a small sync is the push: the hub indexes the
pushed pack into its log (a new pack and index file, fsync'd) and applies it in one transaction, one
request at a time in one event loop, so the fsyncs of successive pushes do not overlap (docs/ARCHITECTURE.md, "Hub
throughput").

### (d) A new node: the hub's snapshot vs. replaying the history

On the load hub after (c) ($(cut -d' ' -f1 <<<"$SNAP_HIST") batches, $(cut -d' ' -f2 <<<"$SNAP_HIST") B of payload):
one new node enrolls and replays the whole history with \`crm sync\`; another enrolls with \`crm init --join TOKEN
--snapshot\` (enrollment, snapshot download and verification, install, first sync).

| | replay the history | snapshot | ratio |
|---|---|---|---|
| bytes (HTTP bodies) | $REPLAY_BYTES | $SNAP_BYTES | $(calc "$SNAP_BYTES / $REPLAY_BYTES") |
| seconds | $(sec_ms "$REPLAY_MS") (sync only) | $(sec_ms "$SNAP_JOIN_MS") (join + snapshot + sync) | $(calc "$SNAP_JOIN_MS / $REPLAY_MS") |
| state hash equals the hub's | $([ "$SNAP_OK" = 1 ] && echo yes || echo **no**) | $([ "$SNAP_OK" = 1 ] && echo yes || echo **no**) | |

The snapshot is the hub's database, deflated (mostly empty SQLite pages compress well): it grows with the data,
not with the history, and installing it checks one signature and copies tables in one transaction, where replaying
verifies and merges every batch.  It is not verified commit by commit: docs/PROTOCOL.md §5 says what the node trusts.
<!-- bench_sync:end -->
EOF
}

section >"$S/section.md"
cat "$S/section.md"
# Replace our section (or append it), leaving everything else in the file alone.
. "$root/tools/bench/lib_section.sh"
replace_section bench_sync "$out" "$S/section.md"
log "wrote the bench_sync section of $out"
if [ -s "$S/load.err" ]; then
	log "errors of the hub load runs:"
	sed 's/[0-9a-f]\{32\}/NODE/g; s/127.0.0.1:[0-9]*/127.0.0.1:PORT/g; s/since=[0-9]*/since=N/' "$S/load.err" |
		sort | uniq -c | sort -rn | head -n 12 >&2
fi
if [ -s "$S/sync.err" ]; then
	log "sync errors seen during the runs (expected with drops):"
	sort "$S/sync.err" | sed 's/[0-9a-f]\{32\}/NODE/g; s/127.0.0.1:[0-9]*/127.0.0.1:PORT/g' | uniq -c | sort -rn | head -n 12 >&2
fi
