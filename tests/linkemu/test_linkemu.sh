#!/usr/bin/env bash
# tests/linkemu/test_linkemu.sh — crm-linkemu between a bash client and a real
# upstream (linkemu_echo_server), all on 127.0.0.1 with port 0.
#
#   bash tests/linkemu/test_linkemu.sh CRM_LINKEMU ECHO_SERVER
#
# Checks: bandwidth (--rate 256, 64 KiB within +-25 %), latency (--rtt 300,
# round trip within +-30 %), loss as retransmission delay, drops cut a long
# transfer mid-way and the next connection works, the drop schedule follows
# --seed, 300 concurrent connections, IPv6 loopback when the host has it,
# usage errors exit 2 with one line, SIGTERM exits 0 with totals.
# Every byte received is compared with what the server sent.  The client is
# bash's /dev/tcp; no other tool is needed.  About 5 s of wall time.
set -u -o pipefail
export LC_ALL=C

LINKEMU=${1:?usage: test_linkemu.sh CRM_LINKEMU ECHO_SERVER}
ECHO_SERVER=${2:?usage: test_linkemu.sh CRM_LINKEMU ECHO_SERVER}
DIR=$(mktemp -d "${TMPDIR:-/tmp}/crm-linkemu.XXXXXX") || exit 1
PIDS=()
PASSED=0
FAILED=0

cleanup()
{
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$DIR"
}
trap cleanup EXIT

pass() { PASSED=$((PASSED + 1)); echo "ok   $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL $*" >&2; }
check() { # DESCRIPTION COMMAND... : pass if the command succeeds
	local what=$1; shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
within() { [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }   # VALUE LO HI
pattern() { seq -f '%015.0f' 0 $(($1 / 16 + 1)) | head -c "$1"; }   # N: the server's first N bytes

# wait_file FILE: up to 5 s for a file to appear (a port file).
wait_file()
{
	local i
	for i in $(seq 100); do
		[ -s "$1" ] && return 0
		sleep 0.05
	done
	return 1
}

# start_emu NAME ARGS...: run crm-linkemu towards the upstream; sets EMU_PID
# and EMU_PORT, its stderr goes to $DIR/NAME.log.
start_emu()
{
	local name=$1; shift
	rm -f "$DIR/$name.port"   # a name used twice must not see the old port file
	"$LINKEMU" --listen 127.0.0.1:0 --to "127.0.0.1:$UP_PORT" --port-file "$DIR/$name.port" \
		"$@" 2>"$DIR/$name.log" &
	EMU_PID=$!
	PIDS+=("$EMU_PID")
	if ! wait_file "$DIR/$name.port"; then
		fail "$name: crm-linkemu did not start: $(cat "$DIR/$name.log")"
		return 1
	fi
	EMU_PORT=$(cat "$DIR/$name.port")
}

# stop_emu NAME: SIGTERM must end it with status 0 and a totals line.
stop_emu()
{
	kill -TERM "$EMU_PID"
	wait "$EMU_PID"
	local rc=$?
	check "$1: SIGTERM exits 0 (got $rc)" [ "$rc" -eq 0 ]
	check "$1: prints totals at exit" grep -q '^linkemu: totals: ' "$DIR/$1.log"
}

# fetch PORT N OUT: ask for N bytes over a new connection, store what arrives
# in OUT (at most 20 s); sets GOT (bytes) and MS (elapsed).
fetch()
{
	local t0 fd
	t0=$(now_ms)
	exec {fd}<>"/dev/tcp/127.0.0.1/$1" || { GOT=0; MS=0; return 1; }
	printf 'SEND %s\n' "$2" >&"$fd"
	timeout 20 head -c "$2" <&"$fd" >"$3" 2>/dev/null
	MS=$(($(now_ms) - t0))
	exec {fd}<&-
	GOT=$(wc -c <"$3")
}

# ---- the upstream ------------------------------------------------------------
"$ECHO_SERVER" "$DIR/up.port" 2>"$DIR/up.log" &
PIDS+=("$!")
wait_file "$DIR/up.port" || { echo "FAIL echo server did not start" >&2; exit 1; }
UP_PORT=$(cat "$DIR/up.port")

# ---- 1. bandwidth ------------------------------------------------------------
if start_emu rate --rate 256; then
	check "rate: listening line on stderr" grep -q "^linkemu: listening on 127.0.0.1:$EMU_PORT\$" "$DIR/rate.log"
	fetch "$EMU_PORT" 65536 "$DIR/rate.out"
	kbit=$((GOT * 8 / (MS > 0 ? MS : 1)))
	echo "MEASURE rate: 65536 B in $MS ms = $kbit kbit/s (nominal 256)"
	check "rate: all 65536 bytes, intact" cmp -s "$DIR/rate.out" <(pattern 65536)
	check "rate: $kbit kbit/s within 256 +-25 %" within "$kbit" 192 320
	stop_emu rate
fi

# ---- 2. latency --------------------------------------------------------------
# round_trip FD LINE: send LINE, read it back; sets MS.
round_trip()
{
	local t0 line=""
	t0=$(now_ms)
	printf '%s\n' "$2" >&"$1"
	read -r -t 5 line <&"$1"
	MS=$(($(now_ms) - t0))
	[ "$line" = "$2" ]
}

if start_emu rtt --rtt 300; then
	exec {fd}<>"/dev/tcp/127.0.0.1/$EMU_PORT"
	printf 'ECHO\n' >&"$fd"
	for word in ping pong; do
		check "rtt: '$word' echoed" round_trip "$fd" "$word"
		echo "MEASURE rtt: round trip '$word' $MS ms (nominal 300)"
		check "rtt: $MS ms within 300 +-30 %" within "$MS" 210 390
	done
	exec {fd}<&-
	stop_emu rtt
fi

# ---- 2b. loss costs a retransmission timeout, never bytes ----------------------
# --loss 100: every segment waits max(200 ms, rtt) = 200 ms, in each direction.
if start_emu loss --loss 100; then
	exec {fd}<>"/dev/tcp/127.0.0.1/$EMU_PORT"
	printf 'ECHO\n' >&"$fd"
	check "loss: echoed intact" round_trip "$fd" "lossy"
	echo "MEASURE loss 100 %: round trip $MS ms (nominal 2 x 200)"
	check "loss: $MS ms within 400 +-30 %" within "$MS" 280 520
	exec {fd}<&-
	stop_emu loss
fi

# ---- 3. drops ----------------------------------------------------------------
# 1 MiB at 256 kbit/s needs 33 s; a drop comes after 0.8-1.2 s.
if start_emu drop --rate 256 --drop-every 1 --drop-jitter 0.2 --seed 7; then
	fetch "$EMU_PORT" 1048576 "$DIR/drop.out"
	echo "MEASURE drop: cut after $GOT of 1048576 B, $MS ms into the transfer"
	check "drop: transfer cut mid-way ($GOT B)" within "$GOT" 1 1048575
	check "drop: bytes before the cut intact" cmp -s "$DIR/drop.out" <(pattern "$GOT")
	check "drop: cut within 1.5 s ($MS ms)" within "$MS" 1 1500
	check "drop: logged with byte counts" \
		grep -q "conn 1 dropped: up 13 B delivered, 0 B lost; down $GOT B delivered" "$DIR/drop.log"
	check "drop: logged as a link drop" grep -q 'drop 1: link down, 1 connection cut' "$DIR/drop.log"
	fetch "$EMU_PORT" 2000 "$DIR/drop2.out"
	check "drop: a new connection afterwards works" cmp -s "$DIR/drop2.out" <(pattern 2000)
	stop_emu drop
fi

# The drop schedule is a function of --seed alone.
first_drop() { # SEED: the first drop delay the settings line announces
	start_emu "seed$1" --drop-every 10 --seed "$1" || return
	local i
	for i in $(seq 100); do   # the settings line follows the port file
		grep -q 'first in' "$DIR/seed$1.log" && break
		sleep 0.05
	done
	sed -n 's/.*first in \([0-9.]*\) s.*/\1/p' "$DIR/seed$1.log"
	kill -TERM "$EMU_PID"
	wait "$EMU_PID"
}
a=$(first_drop 42); b=$(first_drop 42); c=$(first_drop 43)
echo "MEASURE seed: first drop seed 42 -> $a s, again $b s; seed 43 -> $c s"
check "seed: same seed, same drop schedule" [ -n "$a" -a "$a" = "$b" ]
check "seed: other seed, other drop schedule" [ -n "$c" -a "$a" != "$c" ]

# ---- 4. many connections -----------------------------------------------------
if start_emu many; then
	fds=()
	for i in $(seq 300); do
		exec {fd}<>"/dev/tcp/127.0.0.1/$EMU_PORT" && fds+=("$fd")
	done
	check "many: 300 client connections open" [ "${#fds[@]}" -eq 300 ]
	for fd in "${fds[@]}"; do
		exec {fd}<&-
	done
	for i in $(seq 100); do     # each must close cleanly: FIN both ways
		[ "$(grep -c ' close: ' "$DIR/many.log")" -ge 300 ] && break
		sleep 0.05
	done
	check "many: 300 connections relayed and closed" [ "$(grep -c ' close: ' "$DIR/many.log")" -eq 300 ]
	fetch "$EMU_PORT" 5000 "$DIR/many.out"
	check "many: a connection afterwards works" cmp -s "$DIR/many.out" <(pattern 5000)
	stop_emu many
fi

# ---- 5. IPv6 loopback, where the host has it ---------------------------------
if "$LINKEMU" --listen '[::1]:0' --to "127.0.0.1:$UP_PORT" --port-file "$DIR/v6.port" 2>"$DIR/v6.log" &
   EMU_PID=$!; PIDS+=("$EMU_PID"); wait_file "$DIR/v6.port"; then
	port=$(cat "$DIR/v6.port")
	check "ipv6: listening line" grep -q "^linkemu: listening on \[::1\]:$port\$" "$DIR/v6.log"
	exec {fd}<>"/dev/tcp/::1/$port" && printf 'SEND 3000\n' >&"$fd" &&
		timeout 10 head -c 3000 <&"$fd" >"$DIR/v6.out"
	exec {fd}<&-
	check "ipv6: relayed intact" cmp -s "$DIR/v6.out" <(pattern 3000)
	stop_emu v6
else
	echo "skip ipv6: no ::1 on this host ($(cat "$DIR/v6.log"))"
fi

# ---- 6. usage errors ---------------------------------------------------------
usage_error() { # ARGS...: must exit 2 with exactly one line on stderr
	"$LINKEMU" "$@" >/dev/null 2>"$DIR/usage.err"
	local rc=$? lines
	lines=$(wc -l <"$DIR/usage.err")
	[ "$rc" -eq 2 ] && [ "$lines" -eq 1 ] && grep -q '^linkemu: ' "$DIR/usage.err"
}
to="--to 127.0.0.1:$UP_PORT"
for args in "" "--listen 127.0.0.1:0" "$to" "--listen 127.0.0.1 $to" "--listen 127.0.0.1:x $to" \
	    "--listen 127.0.0.1:0 --to 127.0.0.1:0" "--listen ::1:0 $to" \
	    "--listen 127.0.0.1:0 $to --rate abc" "--listen 127.0.0.1:0 $to --rate -1" \
	    "--listen 127.0.0.1:0 $to --loss 150" "--listen 127.0.0.1:0 $to --rtt" \
	    "--listen 127.0.0.1:0 $to --drop-jitter 1" "--listen 127.0.0.1:0 $to --drop-every 1 --drop-jitter 2" \
	    "--listen 127.0.0.1:0 $to --seed 1.5" "--listen 127.0.0.1:0 $to --bogus 1" "--listen 127.0.0.1:0 $to extra"; do
	# shellcheck disable=SC2086
	check "usage error exits 2 with one line: '$args'" usage_error $args
done
check "--help exits 0" "$LINKEMU" --help >/dev/null

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
