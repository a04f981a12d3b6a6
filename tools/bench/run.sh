#!/usr/bin/env bash
# tools/bench/run.sh — build the benchmarks in Release, run them, and write
# docs/benchmarks.md: the machine, the method, the figures, and whether the
# budgets of DESIGN.md §12 are met (decided from the figures, never by hand).
#
#   tools/bench/run.sh            full run (about 25–40 minutes on 2 cores)
#   tools/bench/run.sh --quick    smoke run: small N, 100,000 contacts only;
#                                 writes build-bench/benchmarks-quick.md
#   --out FILE                    write the report elsewhere
#   --report-only                 rewrite the report from the last run's raw
#                                 output (build-bench/out/) without running
#
# Scratch replicas go to $BENCH_TMPDIR (default build-bench/scratch), so the
# disk reported is the disk measured.  Raw output stays in build-bench/out/
# (build-bench/out-quick/ for --quick).  Sections other tools keep in the
# report (between <!-- NAME:begin --> and <!-- NAME:end -->: bench_sync from
# tools/bench/bench_sync.sh, bench_report from bench_report --doc, bench_web from
# tools/bench/bench_web.sh, bench_import from tools/bench/bench_import.sh) are carried over unchanged.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build="$root/build-bench"
quick=0
out=""
report_only=0

failed="$build/FAILED"   # set by die, even inside $( ): a missing figure fails the run
die() { echo "run.sh: $*" >&2; mkdir -p "$build" && : > "$failed"; exit 1; }

while [ $# -gt 0 ]; do
	case "$1" in
	--quick) quick=1 ;;
	--out) [ $# -ge 2 ] || die "--out needs a file"; out="$2"; shift ;;
	--report-only) report_only=1 ;;
	-h|--help) sed -n '2,17p' "$0"; exit 0 ;;
	*) die "unknown argument '$1' (try --help)" ;;
	esac
	shift
done
if [ -z "$out" ]; then
	if [ "$quick" = 1 ]; then out="$build/benchmarks-quick.md"; else out="$root/docs/benchmarks.md"; fi
fi

# ---------------------------------------------------------------- parameters --
seed=20260101
if [ "$quick" = 1 ]; then
	write_n=2000; write_full_n=500; write_rounds=3; prof_n=2000
	search_queries=200; search_budget=20; big=""
	log_n=2000; log_day=2000; log_reps=1; log_rows=10000; log_rounds=1
else
	write_n=20000; write_full_n=2000; write_rounds=5; prof_n=20000
	search_queries=1000; search_budget=60; big=1000000
	log_n=20000; log_day=2000; log_reps=3; log_rows=100000; log_rounds=3
fi
small=100000
batch=10000
write_load_limit_s=240   # load 1M through crm_write only if it takes at most this

# ------------------------------------------------------------- helpers ------
# shellcheck source=tools/bench/figures.sh
. "$root/tools/bench/figures.sh"

# --------------------------------------------------------------------- build --
raw="$build/out"
[ "$quick" = 1 ] && raw="$build/out-quick"   # a smoke run never overwrites the full run's figures
export BENCH_TMPDIR="${BENCH_TMPDIR:-$build/scratch}"
bw="$build/tools/bench/bench_write"
bs="$build/tools/bench/bench_search"
bl="$build/tools/bench/bench_log"

build_all() {
	echo "== building (Release) in $build"
	cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCRM_BUILD_BENCH=ON >/dev/null
	cmake --build "$build" -j"$(nproc)" --target bench_write bench_search bench_log >/dev/null
	[ -x "$bw" ] && [ -x "$bs" ] && [ -x "$bl" ] || die "benchmarks did not build"
	mkdir -p "$BENCH_TMPDIR" "$raw"
	rm -f "$raw"/*.txt "$raw/run.env" "$failed"
}

# ---------------------------------------------------------------------- runs --
# run_all: both benchmarks into $raw, and the facts of the run into run.env.
run_all() {
	load_before=$(cut -d' ' -f1-3 /proc/loadavg)
	started=$(date -u '+%Y-%m-%d %H:%M UTC')
	t_start=$(date +%s)

	echo "== bench_write: N=$write_n (FULL pass N=$write_full_n), $write_rounds rounds"
	"$bw" --n "$write_n" --n-full "$write_full_n" --rounds "$write_rounds" --seed "$seed" | tee "$raw/write.txt"
	echo "== bench_write --profile: N=$prof_n, 1 round"
	"$bw" --n "$prof_n" --rounds 1 --no-full --profile --seed "$seed" > "$raw/profile.txt"

	echo "== bench_search: $small contacts loaded through crm_write"
	"$bs" --sizes "$small" --queries "$search_queries" --budget "$search_budget" --batch "$batch" \
		--load write --seed "$seed" | tee "$raw/search_small.txt"
	write_rate=$(must "$raw/search_small.txt" contacts_per_s LOAD "size=$small")
	big_load=""
	if [ -n "$big" ]; then
		projected=$(awk -v n="$big" -v r="$write_rate" 'BEGIN { printf "%.0f", n / r }')
		if le "$projected" "$write_load_limit_s"; then big_load=write; else big_load=sql; fi
		echo "== bench_search: $big contacts (crm_write would take ~${projected}s; loading with '$big_load')"
		"$bs" --sizes "$big" --queries "$search_queries" --budget "$search_budget" --batch "$batch" \
			--load "$big_load" --seed "$seed" | tee "$raw/search_big.txt"
	fi
	echo "== bench_log: $log_n actions, a day of ~$log_day field changes, merge of $((10 * log_rows)) field changes, $log_rounds rounds"
	"$bl" --n "$log_n" --day "$log_day" --reps "$log_reps" --rows "$log_rows" --rounds "$log_rounds" --profile --seed "$seed" \
		| tee "$raw/log.txt" | grep -v '^PROFSTMT'
	t_end=$(date +%s)
	load_after=$(cut -d' ' -f1-3 /proc/loadavg)
	{
		printf 'run_quick=%q\nstarted=%q\nt_start=%q\nt_end=%q\n' "$quick" "$started" "$t_start" "$t_end"
		printf 'load_before=%q\nload_after=%q\n' "$load_before" "$load_after"
		printf 'write_rate=%q\nbig_load=%q\nprojected=%q\n' "$write_rate" "$big_load" "${projected:-}"
	} > "$raw/run.env"
}

if [ "$report_only" = 1 ]; then
	[ -r "$raw/run.env" ] || die "no finished run in $raw; run without --report-only first"
	# shellcheck source=/dev/null
	. "$raw/run.env"
	[ "$run_quick" = "$quick" ] || die "the last run was $([ "$run_quick" = 1 ] && echo "--quick" || echo "a full run"); pass the same flag"
	rm -f "$failed"
else
	build_all
	run_all
fi

# ------------------------------------------------------------- machine facts --
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
ram=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
read -r dev fstype size avail < <(df -h --output=source,fstype,size,avail "$BENCH_TMPDIR" | tail -n 1)
rot=$(cat "/sys/block/$(basename "$dev")/queue/rotational" 2>/dev/null || true)
case "$rot" in 0) media="non-rotational" ;; 1) media="rotational" ;; *) media="media unknown" ;; esac
sqlite_v=$(must "$raw/write.txt" sqlite INFO bench=write)
cc_path=$(awk -F= '/^CMAKE_C_COMPILER:/ { print $2 }' "$build/CMakeCache.txt")
cc_v=$("$cc_path" --version | head -n 1)
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo "not a git checkout")
dirty=$(git -C "$root" status --porcelain 2>/dev/null | wc -l | tr -d ' ')
minutes=$(( (t_end - t_start + 59) / 60 ))

# ------------------------------------------------------------ write figures --
wfile="$raw/write.txt"
w_ratio=$(must "$wfile" ratio RATIO sync=NORMAL phase=all num=write_path)
e_ratio=$(must "$wfile" ratio RATIO sync=NORMAL phase=all num=entity)
w_met="**no**"; le "$w_ratio" 1.5 && w_met="yes"
e_met="**no**"; le "$e_ratio" 1.5 && e_met="yes"

# write_table SYNC N: the results table of one pass.
write_table() {
	local sync=$1 phase v us ops
	echo "| phase | write_path µs (actions/s) | entity µs (actions/s) | plain SQLite µs (actions/s) | write_path ÷ plain | entity ÷ plain |"
	echo "|---|---:|---:|---:|---:|---:|"
	for phase in create update all; do
		printf '| %s ' "$phase"
		for v in write_path entity plain_sqlite; do
			us=$(must "$wfile" us_per_op RESULT "sync=$sync" "phase=$phase" "variant=$v")
			ops=$(must "$wfile" ops_per_s RESULT "sync=$sync" "phase=$phase" "variant=$v")
			printf '| %s (%s) ' "$(fmt "$us" 1)" "$(thousands "$ops")"
		done
		for v in write_path entity; do
			printf '| %s× ' "$(fmt "$(must "$wfile" ratio RATIO "sync=$sync" "phase=$phase" "num=$v")" 2)"
		done
		echo "|"
	done
}

# profile_summary: one line per variant, time in and outside statements.
profile_summary() {
	local v
	echo "| variant | µs per action | in top-level SQL statements | outside them (C code, tracing) |"
	echo "|---|---:|---:|---:|"
	for v in write_path entity plain_sqlite; do
		printf '| %s | %s | %s | %s |\n' "$v" \
			"$(fmt "$(must "$raw/profile.txt" us_per_action PROFILE "variant=$v")" 1)" \
			"$(fmt "$(must "$raw/profile.txt" sql_us PROFILE "variant=$v")" 1)" \
			"$(fmt "$(must "$raw/profile.txt" other_us PROFILE "variant=$v")" 1)"
	done
}

# profile_top VARIANT COUNT: its top-level statements by time per action.
profile_top() {
	echo "| µs per action | share | calls per action | statement |"
	echo "|---:|---:|---:|---|"
	grep "^PROFSTMT bench=write variant=$1 nested=0 " "$raw/profile.txt" | head -n "$2" |
		while IFS= read -r line; do
			printf '| %s | %s %% | %s | `%s` |\n' \
				"$(get <(echo "$line") us_per_action PROFSTMT)" "$(get <(echo "$line") share PROFSTMT)" \
				"$(get <(echo "$line") calls_per_action PROFSTMT)" "$(echo "$line" | sql_of | cut -c1-110)"
		done
}

# profile_sum VARIANT REGEX: µs per action of top-level statements whose SQL matches.
profile_sum() {
	grep "^PROFSTMT bench=write variant=$1 nested=0 " "$raw/profile.txt" | grep -E " sql=$2" |
		awk '{ for (i = 1; i <= NF; i++) if (index($i, "us_per_action=") == 1) s += substr($i, 15) }
		     END { printf "%.1f", s + 0 }'
}

# ----------------------------------------------------------- search figures --
search_types="name_prefix full_name phone_8 phone_last7 email_part"
if [ -n "$big" ]; then tsize=$big; tfile="$raw/search_big.txt"; else tsize=$small; tfile="$raw/search_small.txt"; fi

# worst_p95 FILE SIZE: "p95 type" of the slowest crm_query_search type.
worst_p95() {
	local t p best=-1 which=""
	for t in $search_types; do
		p=$(must "$1" p95_ms RESULT bench=search "size=$2" "type=$t")
		if ! le "$p" "$best"; then best=$p; which=$t; fi
	done
	echo "$best $which"
}
read -r s_p95 s_type < <(worst_p95 "$tfile" "$tsize")
l_p95=$(must "$tfile" p95_ms RESULT bench=search "size=$tsize" type=list_prefix)
s_met="**no**"; le "$s_p95" 50 && s_met="yes"
l_met="**no**"; le "$l_p95" 50 && l_met="yes"
if [ -z "$big" ]; then s_met="not measured (quick run)"; l_met="not measured (quick run)"; fi

# search_table FILE SIZE
search_table() {
	local t n asked
	echo "| query | queries run | p50 ms | p95 ms | p99 ms | max ms | mean ms | found its contact |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|"
	for t in $search_types list_prefix; do
		n=$(must "$1" queries RESULT bench=search "size=$2" "type=$t")
		asked=$(must "$1" asked RESULT bench=search "size=$2" "type=$t")
		printf '| %s | %s%s | %s | %s | %s | %s | %s | %s %% |\n' "$t" "$(thousands "$n")" \
			"$([ "$n" -lt "$asked" ] && echo " of $(thousands "$asked") (time budget)")" \
			"$(fmt "$(must "$1" p50_ms RESULT bench=search "size=$2" "type=$t")" 2)" \
			"$(fmt "$(must "$1" p95_ms RESULT bench=search "size=$2" "type=$t")" 2)" \
			"$(fmt "$(must "$1" p99_ms RESULT bench=search "size=$2" "type=$t")" 2)" \
			"$(fmt "$(must "$1" max_ms RESULT bench=search "size=$2" "type=$t")" 2)" \
			"$(fmt "$(must "$1" mean_ms RESULT bench=search "size=$2" "type=$t")" 2)" \
			"$(awk -v h="$(must "$1" hits RESULT bench=search "size=$2" "type=$t")" -v n="$n" \
				'BEGIN { printf "%.1f", n ? 100 * h / n : 0 }')"
	done
}

# search_where FILE SIZE: the top statements and the plan of the first.
search_where() {
	echo "| ms per call | calls | share of query time | statement |"
	echo "|---:|---:|---:|---|"
	grep "^SEARCHSTMT bench=search size=$2 " "$1" | head -n 3 | while IFS= read -r line; do
		printf '| %s | %s | %s %% | `%s` |\n' "$(get <(echo "$line") ms_per_call SEARCHSTMT)" \
			"$(get <(echo "$line") calls SEARCHSTMT)" "$(get <(echo "$line") share SEARCHSTMT)" \
			"$(echo "$line" | sql_of | cut -c1-160)"
	done
	echo
	echo "Query plan of the first (EXPLAIN QUERY PLAN):"
	echo
	echo '```'
	grep "^SEARCHPLAN bench=search size=$2 rank=1 " "$1" |
		awk '{ d = 0; for (i = 1; i <= NF; i++) if (index($i, "depth=") == 1) d = substr($i, 7)
		       sub(/.* detail=/, ""); printf "%*s%s\n", 2 * d, "", $0 }'
	echo '```'
}

# ------------------------------------------------------------ log figures --
lfile="$raw/log.txt"
# lv KEY WORD...: a bench_log figure (missing: the run fails).
lv() { must "$lfile" "$@" RESULT bench=log; }
l_bpc=$(lv bytes_per_change set=realistic phase=export)
d_bpc=$(lv bytes_per_change set=day phase=export)
m_rate=$(must "$lfile" changes_per_s RESULT bench=log set=synthetic pass=mixed variant=crm)
m_cpu_rate=$(must "$lfile" changes_per_cpu_s RESULT bench=log set=synthetic pass=mixed variant=crm)
r_rate=$(lv changes_per_s set=realistic phase=merge)
r_cpu_rate=$(lv changes_per_cpu_s set=realistic phase=merge)
l_met="**no**"; le "$l_bpc" 40 && l_met="yes"
d_met="**no**"; le "$d_bpc" 40 && d_met="yes"
# merge_met RATE CPU_RATE: the budget is per core; a busy machine shows in wall time only.
merge_met() {
	if le 100000 "$1"; then echo "yes"
	elif le 100000 "$2"; then echo "**no** on wall time; yes per CPU-second"
	else echo "**no**"; fi
}
m_met=$(merge_met "$m_rate" "$m_cpu_rate")
r_met=$(merge_met "$r_rate" "$r_cpu_rate")
log_rows_n=$(must "$lfile" rows RESULT bench=log set=synthetic pass=mixed variant=crm)
log_changes_n=$(must "$lfile" field_changes RESULT bench=log set=synthetic pass=mixed variant=crm)

# rate_cell COUNT_KEY FILE-WORDS...: "N (M per CPU-s)" of a RESULT line.
rate_cell() {
	local words=$*
	# shellcheck disable=SC2086
	printf '%s (%s)' "$(thousands "$(must "$lfile" changes_per_s RESULT bench=log $words)")" \
		"$(thousands "$(must "$lfile" changes_per_cpu_s RESULT bench=log $words)")"
}

# log_seal_table: sealing and file size of both sets.
log_seal_table() {
	local set
	echo "| set | actions | field changes written | batches | seal s (CPU s) | sealed changes/s | pack bytes added (files) | loose objects | exchange file bytes | field changes in the file | bytes per field change | msgpack payload bytes per field change (before zlib) |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	for set in realistic day; do
		printf '| %s | %s | %s | %s | %s (%s) | %s | %s (%s) | %s | %s | %s | %s | %s |\n' "$set" \
			"$(thousands "$(lv actions "set=$set" phase=edit)")" "$(thousands "$(lv written "set=$set" phase=seal)")" \
			"$(lv batches "set=$set" phase=seal)" "$(fmt "$(lv seconds "set=$set" phase=seal)" 2)" \
			"$(fmt "$(lv cpu_s "set=$set" phase=seal)" 2)" "$(thousands "$(lv changes_per_s "set=$set" phase=seal)")" \
			"$(thousands "$(lv pack_bytes "set=$set" phase=seal)")" "$(lv pack_files "set=$set" phase=seal)" \
			"$(lv loose_objects "set=$set" phase=seal)" "$(thousands "$(lv file_bytes "set=$set" phase=export)")" \
			"$(thousands "$(lv field_changes "set=$set" phase=export)")" "$(fmt "$(lv bytes_per_change "set=$set" phase=export)" 1)" \
			"$(fmt "$(lv payload_bytes_per_change "set=$set" phase=export)" 1)"
	done
}

# log_apply_table: import, merge alone, and the difference, for both sets.
log_apply_table() {
	local set
	echo "| set | field changes | import s (CPU s) | import changes/s (per CPU-s) | merge alone s (CPU s) | merge changes/s (per CPU-s) | import − merge s (median of each run's difference) | share of the import |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|"
	for set in realistic day; do
		printf '| %s | %s | %s (%s) | %s | %s (%s) | %s | %s | %s |\n' "$set" \
			"$(thousands "$(lv field_changes "set=$set" phase=import)")" \
			"$(fmt "$(lv seconds "set=$set" phase=import)" 2)" "$(fmt "$(lv cpu_s "set=$set" phase=import)" 2)" \
			"$(rate_cell "set=$set" phase=import)" \
			"$(fmt "$(lv seconds "set=$set" phase=merge)" 2)" "$(fmt "$(lv cpu_s "set=$set" phase=merge)" 2)" \
			"$(rate_cell "set=$set" phase=merge)" "$(fmt "$(lv seconds "set=$set" phase=verify)" 3)" \
			"$(lv share "set=$set" phase=verify) %$(le "$(lv share "set=$set" phase=verify)" 0 && echo " (below the run-to-run noise)")"
	done
}

# log_parts_table: the parts of import − merge, timed one by one.
log_parts_table() {
	local key what
	echo "| part | realistic s | day s |"
	echo "|---|---:|---:|"
	while IFS='|' read -r key what; do
		printf '| %s | %s | %s |\n' "$what" "$(fmt "$(lv "$key" set=realistic phase=parts)" 3)" \
			"$(fmt "$(lv "$key" set=day phase=parts)" 3)"
	done <<-'PARTS'
	envelope_s|decode the file's msgpack envelope
	pack_index_s|index the packfile into a fresh repository (git checks it)
	read_s|read every commit (message, signature, tree, payload) from the log
	sha256_s|SHA-256 of every payload
	signature_s|SSHSIG (Ed25519) verification of every commit
	decode_s|decode every payload (msgpack)
	refresh_s|recompute duplicate groups after the apply (`crm_merge_refresh`)
	PARTS
}

# log_synth_table: the synthetic merge, every variant and pass.
log_synth_table() {
	local pass v
	echo "| pass | variant | changes won | s (CPU s) | field changes/s (per CPU-s) | µs per change | crm ÷ this, wall (CPU) |"
	echo "|---|---|---:|---:|---:|---:|---:|"
	for pass in new mixed; do
		for v in crm plain_sqlite plain_rows; do
			local w="set=synthetic pass=$pass variant=$v"
			# shellcheck disable=SC2086
			printf '| %s | %s | %s | %s (%s) | %s | %s | %s |\n' "$pass" "$v" \
				"$(thousands "$(must "$lfile" won RESULT bench=log $w)")" \
				"$(fmt "$(must "$lfile" seconds RESULT bench=log $w)" 2)" "$(fmt "$(must "$lfile" cpu_s RESULT bench=log $w)" 2)" \
				"$(rate_cell $w)" "$(fmt "$(must "$lfile" us_per_change RESULT bench=log $w)" 2)" \
				"$([ "$v" = crm ] && echo "—" || printf '%s× (%s×)' \
					"$(fmt "$(must "$lfile" ratio RATIO bench=log set=synthetic "pass=$pass" "den=$v")" 2)" \
					"$(fmt "$(must "$lfile" cpu_ratio RATIO bench=log set=synthetic "pass=$pass" "den=$v")" 2)")"
		done
	done
}

# log_profile_top COUNT: the traced mixed pass's statements by time per change.
log_profile_top() {
	echo "| µs per change | share | calls per change | statement |"
	echo "|---:|---:|---:|---|"
	grep "^PROFSTMT bench=log pass=mixed nested=0 " "$lfile" | head -n "$1" | while IFS= read -r line; do
		printf '| %s | %s %% | %s | `%s` |\n' "$(get <(echo "$line") us_per_change PROFSTMT)" \
			"$(get <(echo "$line") share PROFSTMT)" "$(get <(echo "$line") calls_per_change PROFSTMT)" \
			"$(echo "$line" | sql_of | cut -c1-120)"
	done
}
# log_profile_sum REGEX: µs per change of the traced top-level statements whose SQL matches.
log_profile_sum() {
	grep "^PROFSTMT bench=log pass=mixed nested=0 " "$lfile" | grep -E " sql=$1" |
		awk '{ for (i = 1; i <= NF; i++) if (index($i, "us_per_change=") == 1) s += substr($i, 15) }
		     END { printf "%.1f", s + 0 }'
}

# ---------------------------------------------------------------- breakdown --
p_rows_w=$(profile_sum write_path 'INSERT INTO "(contacts|companies)"')
p_rows_p=$(profile_sum plain_sqlite '(INSERT INTO|UPDATE) (contacts|companies)')
p_meta_w=$(profile_sum write_path '.*(crm_clock|crm_pending|crm_meta)')
p_begin_w=$(profile_sum write_path 'BEGIN')
p_begin_p=$(profile_sum plain_sqlite 'BEGIN')
p_commit_w=$(profile_sum write_path 'COMMIT')
p_commit_p=$(profile_sum plain_sqlite 'COMMIT')
p_sql_w=$(must "$raw/profile.txt" sql_us PROFILE variant=write_path)
p_sql_p=$(must "$raw/profile.txt" sql_us PROFILE variant=plain_sqlite)
p_other_w=$(must "$raw/profile.txt" other_us PROFILE variant=write_path)
p_other_p=$(must "$raw/profile.txt" other_us PROFILE variant=plain_sqlite)
p_total_w=$(must "$raw/profile.txt" us_per_action PROFILE variant=write_path)
p_total_p=$(must "$raw/profile.txt" us_per_action PROFILE variant=plain_sqlite)
rest() {
	awk -v a="$1" -v b="$2" -v c="$3" -v d="$4" -v e="$5" \
		'BEGIN { r = a - b - c - d - e; if (r < 0.05 && r > -0.05) r = 0; printf "%.1f", r }'
}
# profile_calls VARIANT: top-level statements per action.
profile_calls() {
	grep "^PROFSTMT bench=write variant=$1 nested=0 " "$raw/profile.txt" |
		awk '{ for (i = 1; i <= NF; i++) if (index($i, "calls_per_action=") == 1) s += substr($i, 18) }
		     END { printf "%.1f", s + 0 }'
}
p_rest_w=$(rest "$p_sql_w" "$p_rows_w" "$p_meta_w" "$p_begin_w" "$p_commit_w")
p_rest_p=$(rest "$p_sql_p" "$p_rows_p" 0 "$p_begin_p" "$p_commit_p")

# ------------------------------------------------------------------- report --
report() {
	cat <<DOC
# Benchmarks

Generated by \`tools/bench/run.sh$([ "$quick" = 1 ] && echo " --quick")\` on $started — do not edit by
hand; rerun the script.  Raw output: \`${raw#"$root"/}/\`.  Budgets from
DESIGN.md §12; whether each is met is computed from the figures below.

## Targets

| budget | target | measured | met |
|---|---|---|---|
| local edit through the write path vs the same plain SQLite write (create + update, synchronous=NORMAL) | ≤ 1.5× | $(fmt "$w_ratio" 2)× | $w_met |
| the same through the entity layer (validation + write path), for information | ≤ 1.5× | $(fmt "$e_ratio" 2)× | $e_met |
| contact search (\`crm_query_search\`) over $(thousands "$tsize") contacts, p95 of the slowest query type | ≤ 50 ms | $(fmt "$s_p95" 1) ms ($s_type) | $s_met |
| contact list filtered by a name prefix (\`crm_query_list\`) over $(thousands "$tsize") contacts, p95 | ≤ 50 ms | $(fmt "$l_p95" 1) ms | $l_met |
| bytes per field change of an exchange file (\`crm_export_changes\`: signed commits in a git packfile), realistic set of $(thousands "$(lv field_changes set=realistic phase=export)") field changes | ≤ 40 B | $(fmt "$l_bpc" 1) B | $l_met |
| the same, a day of work ($(thousands "$(lv field_changes set=day phase=export)") field changes) | ≤ 40 B | $(fmt "$d_bpc" 1) B | $d_met |
| merge of received changes (\`crm_apply_changes\`, $(thousands "$log_changes_n") field changes over $(thousands "$log_rows_n") rows, half win), one core | ≥ 100,000/s | $(thousands "$m_rate")/s ($(thousands "$m_cpu_rate") per CPU-second) | $m_met |
| the same for the realistic set (indexed names, channels, deal stages), for information | ≥ 100,000/s | $(thousands "$r_rate")/s ($(thousands "$r_cpu_rate") per CPU-second) | $r_met |

## Machine

| | |
|---|---|
| CPU | $cpu, $(nproc) cores available (nproc) |
| RAM | $ram |
| disk of the scratch replicas | $dev ($fstype, $media), $size, $avail free |
| OS | $(uname -sr) |
| SQLite | $sqlite_v (the library the benchmarks linked) |
| compiler | $cc_v, CMAKE_BUILD_TYPE=Release |
| source | commit $commit, $dirty uncommitted paths in the working tree |
| run | started $started, took about $minutes min; load average before $load_before, after $load_after |

Other processes were not stopped: the load averages above show how busy the
machine was.  The write benchmark interleaves its variants so that background
load falls on all of them alike.

## 1. Local edits: write path vs plain SQLite

### Method

\`bench_write\` (seed $seed) writes the same rows three ways, each on its own
fresh replica made by \`crm_store_create\` in a scratch directory, so every
variant sees the same schema, indexes and FTS5 triggers:

- **write_path** — \`crm_write\`: the row (one upsert), a per-field clock in
  \`crm_clock\`, one pending change per field in \`crm_pending\`, the HLC in
  \`crm_meta\`;
- **entity** — \`crm_entity_add\` / \`crm_entity_set\`: what the CLI and web UI
  call (field validation, defaults, existence checks) over the write path;
- **plain_sqlite** — \`sqlite3_open\` on a fresh replica's \`crm.db\` with the
  same pragmas (WAL, synchronous=NORMAL, foreign_keys=OFF, temp_store=MEMORY),
  prepared \`INSERT INTO contacts(…)\` / \`UPDATE … SET … WHERE id = ?\` of the
  same columns and values.

Every user action is one transaction: the replicas' \`crm_db_begin\` /
\`crm_db_commit\` run \`BEGIN IMMEDIATE\` / \`COMMIT\` through \`sqlite3_exec\`; the
plain variant steps \`BEGIN\` / \`COMMIT\` statements prepared once.  Phase *create*:
N = $(thousands "$write_n") actions alternating a contact (first name, last name, title) and a
company (name, industry, website), each with the owner, branch and created_at
the entity layer adds — 6 fields.  Phase *update*: N actions on pseudo-randomly
chosen created rows, alternately one field (title / industry) and two (plus
next_contact / website).  *all* is both phases together.  The ids are UUIDv7
made per action in every variant.  After each variant the replica is checked:
N rows, and 6 pending changes per create plus 1 or 2 per update (0 for plain).

$write_rounds rounds run the three variants interleaved, rotating their order; a
time is the median over rounds of the mean time per action, and a ratio the
median over rounds of that round's ratio (the variants of one round run back
to back, so a slow spell of the machine weighs on them alike).  A second pass
(N = $(thousands "$write_full_n")) runs \`PRAGMA synchronous=FULL\` on every connection
(\`crm_db_exec(crm_store_db(st), …)\` for the replicas), so each COMMIT waits
for the disk.

### Results, synchronous=NORMAL (N = $(thousands "$write_n") per phase)

$(write_table NORMAL)

### Results, synchronous=FULL (N = $(thousands "$write_full_n") per phase)

$(write_table FULL)

### Where the time goes

A separate run (\`bench_write --profile\`, N = $(thousands "$prof_n"), one round) times every
SQL statement with SQLite's own timer (\`sqlite3_trace_v2\`, SQLITE_TRACE_PROFILE).
A statement's time includes its triggers (the FTS5 index updates); the FTS5
segment writes happen inside COMMIT.  That timer counts whole milliseconds, so
a per-statement figure is an estimate from many calls (each call counts 1 ms
with a probability proportional to its length: unbiased, a few per cent of
noise at this N); tracing also adds time of its own, which lands in the last
column below.

$(profile_summary)

Per action, write_path against plain SQLite:

| part | write_path µs | plain SQLite µs |
|---|---:|---:|
| the row itself (upsert vs INSERT/UPDATE, with its FTS5 trigger) | $p_rows_w | $p_rows_p |
| clocks, pending changes, HLC (\`crm_clock\` read + upsert, \`crm_pending\`, \`crm_meta\`) | $p_meta_w | 0.0 |
| BEGIN | $p_begin_w | $p_begin_p |
| COMMIT (WAL append of every page touched, FTS5 flush) | $p_commit_w | $p_commit_p |
| other statements | $p_rest_w | $p_rest_p |
| outside SQL statements (C code: ids, SQL text, statement cache, parsing by \`sqlite3_exec\`; tracing) | $(fmt "$p_other_w" 1) | $(fmt "$p_other_p" 1) |
| total | $(fmt "$p_total_w" 1) | $(fmt "$p_total_p" 1) |
| top-level SQL statements per action | $(profile_calls write_path) | $(profile_calls plain_sqlite) |

SQLite's tracing costs something per statement, and the write path runs more
statements, so the "outside SQL statements" row overstates its C code the most; a
\`perf\` profile is the better instrument for that share.

Top statements of write_path:

$(profile_top write_path 10)

Top statements of plain SQLite:

$(profile_top plain_sqlite 6)

## 2. Contact search

### Method

\`bench_search\` (seed $seed) makes contact *i* as a pure function of (seed, *i*):
a Russian (60 %, half of them women, surnames in the agreeing form) or English
first and last name drawn from lists of $(must "$raw/search_small.txt" names_ru INFO bench=search) Russian and
$(must "$raw/search_small.txt" names_en INFO bench=search) English first + last names, one e-mail (a transliteration of
the name with a number, at a common domain) and one mobile phone written
"+7 9XX XXX-XX-XX".  Each contact is 3 rows — the contact and two
\`channels\` rows holding the value as typed and the normalized value the entity
layer stores (\`crm_norm_email\`, \`crm_norm_phone\`) — loaded in transactions of
$(thousands "$batch") contacts (\`crm_db_begin\` / \`crm_db_commit\`).

- $(thousands "$small") contacts: loaded through \`crm_write\` (rows, clocks, pending
  changes: 13 field changes per contact) at $(thousands "$write_rate") contacts/s.
$(if [ -n "$big" ]; then
	if [ "$big_load" = write ]; then
		echo "- $(thousands "$big") contacts: a second replica, also loaded through \`crm_write\` ($(thousands "$(must "$raw/search_big.txt" contacts_per_s LOAD "size=$big")") contacts/s)."
	else
		echo "- $(thousands "$big") contacts: a second replica.  At the rate above \`crm_write\` would take about"
		echo "  $(thousands "$projected") s (over the ${write_load_limit_s} s allowed), so it was bulk-loaded with plain"
		echo "  \`INSERT\`s into \`contacts\` and \`channels\` in the same transactions: the FTS5"
		echo "  triggers fire as usual; no clocks or pending changes are written, which"
		echo "  search never reads ($(thousands "$(must "$raw/search_big.txt" contacts_per_s LOAD "size=$big")") contacts/s)."
	fi
fi)

After loading, the WAL is checkpointed and the replica closed and reopened:
SQLite's page cache starts cold, the operating system's is warm.  Then
$(thousands "$search_queries") queries of each type run interleaved, each made from a randomly
chosen existing contact, through \`crm_query_search(&arr, st, q, 50)\`:

- **name_prefix** — the first 3–5 letters of its last name ("Смир", "John");
- **full_name** — "First Last";
- **phone_8** — the number typed nationally: stored "+7 916 555-12-34", searched "8 (916) 5551234";
- **phone_last7** — its last seven digits, "5551234";
- **email_part** — the e-mail's local part and "@", "ivan.petrov42@";

and **list_prefix**: \`crm_query_list(&arr, st, "contact", <3–5 letters>, 50)\`.
A query *found its contact* when a result carries the contact's name (full_name),
phone or e-mail as typed (phone and e-mail types), or any result (prefixes).
A query type that has spent $search_budget s at one size stops there (the queries it
ran are a prefix of the same random sequence, so still a fair sample); the
table says so, and with fewer than 20 queries the p95 and p99 are simply the
slowest one.  Times are wall-clock per call, JSON building included.

$(for sz in $small $big; do
	f="$raw/search_small.txt"; [ "$sz" = "$small" ] || f="$raw/search_big.txt"
	echo "### Results, $(thousands "$sz") contacts"
	echo
	search_table "$f" "$sz"
	echo
	echo "Replica size: $(awk -v b="$(must "$f" db_bytes LOAD "size=$sz")" 'BEGIN { printf "%.0f MiB", b / 1048576 }'),"
	echo "loaded $(must "$f" method LOAD "size=$sz" | sed -e 's/^sql$/with plain INSERTs/' -e 's/^crm_write$/through crm_write/') in $(must "$f" seconds LOAD "size=$sz") s."
	echo
done)

### Where the time goes ($(thousands "$tsize") contacts)

SQLite's per-statement timer ran during the queries above; the statements
that took the time:

$(search_where "$tfile" "$tsize")

## 3. Change log: sealing, exchange files, merge

### Method

\`bench_log\` (seed $seed) runs in one process on one core (it is single-threaded).

**Realistic set.** Replica A (\`crm_store_create\`) first exports its genesis
(its branch and user rows), so the set holds only user actions:
N = $(thousands "$(lv actions set=realistic phase=edit)") actions through the entity layer (\`crm_entity_add\`,
\`crm_entity_set\`, \`crm_deal_move\`), in a cycle of ten — three contacts with an
e-mail and a phone (every other one at a company), a company with a phone, two
deals (company, contact, amount; the entity layer adds pipeline, first stage,
currency, owner, branch, created_at and a stage-history row), two deal moves
(the next stage; won or lost with a reason from negotiation; reopened after),
a contact update (title, next contact) and a deal update (amount,
probability): $(thousands "$(lv written set=realistic phase=seal)") field changes, took $(fmt "$(lv seconds set=realistic phase=edit)" 1) s.

- **seal** — \`crm_seal\`: pending changes become batches of at most 256 KiB of
  payload (coalesced per field, msgpack, SHA-256, SSHSIG signature, commit),
  then one packfile (\`crm_log_flush\`).  Pack bytes are the files the seal
  added to \`log.git/objects/pack\`; loose objects are counted afterwards.
- **export** — \`crm_export_changes\` of the set (since the genesis cursor) to a
  file: a git packfile (zlib, deltas) of the set's commits in the msgpack
  envelope.  Bytes per field change = file size ÷ field changes in the file
  (after coalescing: what the receiver applies).
- **import** — replica B, which trusts A's key (\`crm_trust_add\`) and holds A's
  genesis, runs \`crm_import_changes\` on the file: envelope, pack indexing,
  verification of every commit, the merge of every change, bookkeeping, in
  one transaction.
- **merge alone** — replica C, started like B, applies the same changes —
  the batches read back from B's log and decoded beforehand, untimed — with
  \`crm_apply_changes\` per batch in one transaction (BEGIN … COMMIT timed), with no
  verification.  *import − merge* is what everything else in the import
  costs (d); its parts are then timed one by one, below.
- Import and merge alone run $(lv reps set=realistic phase=import) times for the realistic set and $(lv reps set=day phase=import) times for the day of
  work, each on a fresh B and C; the tables show medians.
- A, B and C must end with the same numbers of contacts, companies, deals,
  channels and stage-history rows, and the import and the merge must apply
  (and let win) the same changes, or the run fails.

A **day of work** (actions until ≈ $(thousands "$log_day") field changes are pending) repeats
all of it on fresh replicas.

**Synthetic merge.** $(thousands "$log_rows_n") rows — half contacts with 9 fields (first and last name,
title, birthday, company, next contact, owner, branch, created_at), half deals
with 11 — written by two authors: $(thousands "$log_changes_n") field changes each.  Every field
gets one write of each author with random clocks; the later one names the
earlier as its prev, so nothing is concurrent and nothing goes to the
conflicts inbox.  Pass **new**: A's writes on a fresh replica, row by row in
creation order — all win, a row's first field creates it.  Pass **mixed**: B's
writes, the rows in random order (a row's fields together, as in a batch) —
about half win, half lose.  Each pass is one transaction, in three variants
on fresh replicas with the same schema, indexes and FTS5 triggers:

- **crm** — \`crm_apply_changes(st, changes, n, author, &won)\` over the pass:
  per run of changes to one row, the row's clocks read once, the
  last-writer-wins decision per field (conflict/), then one clock upsert and
  one row write for the winners (an \`UPDATE\` of few shapes for a row that
  exists, an upsert of the winning columns for a new one);
- **plain_sqlite** — a fresh replica's \`crm.db\` opened with \`sqlite3_open\` and
  the same pragmas; prepared \`INSERT INTO t(id, col)\` for a row's first field
  and \`UPDATE t SET col = ? WHERE id = ?\` for every other value — no clocks,
  every value written, winner or not;
- **plain_rows**, for information — one prepared \`INSERT\` / \`UPDATE\` per row
  with all its fields: what an apply that writes a row's fields in one
  statement is bounded by.

$(must "$lfile" rounds RESULT bench=log set=synthetic pass=mixed variant=crm) round(s), the variants interleaved with their order rotating; a time is
the median over rounds, a ratio the median of per-round ratios.  The crm
replica must let exactly the later-clocked writes win, and 1,000 random
fields of every variant are compared with the value they must hold.

Times are wall clock and process CPU time (user + system).  The budget is per
core: on a machine shared with other work (the load averages above), wall
time also counts the time the process waited for a core, CPU time does not.

### Results: sealing and file size

$(log_seal_table)

### Results: import, merge alone, and what verification costs

$(log_apply_table)

The parts of *import − merge*, each timed alone (the import reads and decodes
every commit twice, once to verify it and once to apply it):

$(log_parts_table)

### Results: merge throughput ($(thousands "$log_changes_n") field changes over $(thousands "$log_rows_n") rows)

$(log_synth_table)

### Where the merge's time goes

One more crm round with the mixed pass traced (SQLite's per-statement timer,
as in section 1; tracing adds time of its own): $(fmt "$(must "$lfile" us_per_change PROFILE bench=log pass=mixed)" 1) µs per change,
$(fmt "$(must "$lfile" sql_us PROFILE bench=log pass=mixed)" 1) µs of it in SQL statements, $(fmt "$(must "$lfile" other_us PROFILE bench=log pass=mixed)" 1) µs outside them (C code: building the
row statement's SQL text, the statement cache, the catalog, tracing).  By statement
kind, µs per change: row writes $(log_profile_sum '(INSERT INTO|UPDATE) "(contacts|deals)"') (of which updates of an existing row
$(log_profile_sum 'UPDATE "(contacts|deals)"')), reads of a row's clocks
$(log_profile_sum 'SELECT col, hlc, node, prev FROM crm_clock WHERE row_id = \?1'), clock upserts $(log_profile_sum 'INSERT INTO crm_clock').

$(log_profile_top 8)

A write that changes a full-text-indexed column (contact names and title,
deal title, company name and tax id, a channel's normalized value) fires an
FTS5 trigger: the whole document is deleted from the index and inserted
again.  Inside a transaction such statements run in a statement savepoint,
and at every savepoint FTS5 writes its pending terms out as a new index
segment, so one field written per statement costs a segment per statement.
Plain SQLite pays the same per statement; one statement per row pays it once
per row (plain_rows), and so does crm, which writes a row's winning fields
with one statement.

## Raw figures

\`\`\`
$(grep -h -E '^(INFO|RESULT|RATIO|LOAD|PROFILE)' "$raw/write.txt" "$raw"/search_*.txt "$raw/log.txt")
\`\`\`
DOC
}

# keep_section FILE: the sections other tools keep in an earlier report,
# carried over verbatim: every block from <!-- NAME:begin --> to
# <!-- NAME:end --> (bench_sync: tools/bench/bench_sync.sh; bench_report:
# tools/bench/bench_report --doc; bench_web: tools/bench/bench_web.sh;
# bench_import: tools/bench/bench_import.sh).
keep_section() {
	[ -r "$1" ] || return 0
	awk '/^<!-- [a-z0-9_]+:begin -->$/ { keep = 1; print "" } keep { print } /^<!-- [a-z0-9_]+:end -->$/ { keep = 0 }' "$1"
}

mkdir -p "$(dirname "$out")"
{ report; keep_section "$out"; } > "$out.tmp"
if [ -e "$failed" ]; then rm -f "$out.tmp"; die "a figure was missing; $out not written"; fi
mv "$out.tmp" "$out"
echo "== wrote $out"
echo "write path ÷ plain (NORMAL, all): $(fmt "$w_ratio" 2)× — met: $w_met"
echo "search p95 at $(thousands "$tsize"): $(fmt "$s_p95" 1) ms ($s_type) — met: $s_met"
echo "bytes per field change (realistic / day): $(fmt "$l_bpc" 1) / $(fmt "$d_bpc" 1) — met: $l_met / $d_met"
echo "merge: $(thousands "$m_rate") field changes/s, $(thousands "$m_cpu_rate") per CPU-second — met: $m_met"
