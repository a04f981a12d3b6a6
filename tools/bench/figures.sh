# tools/bench/figures.sh — helpers for the scripts that turn benchmark output
# (KIND key=value … lines) into docs/benchmarks.md; sourced by run.sh and
# bench_import.sh.  The caller defines die MESSAGE.

# get FILE KEY WORD...: the value of KEY= on the first line holding every WORD.
get() {
	local file=$1 key=$2
	shift 2
	awk -v key="$key" -v words="$*" '
		BEGIN { n = split(words, w, " ") }
		{
			line = " " $0 " "
			for (i = 1; i <= n; i++) if (index(line, " " w[i] " ") == 0) next
			for (j = 1; j <= NF; j++) if (index($j, key "=") == 1) { print substr($j, length(key) + 2); exit }
		}' "$file"
}
# must FILE KEY WORD...: like get, but a missing figure stops the run.
must() {
	local v
	v=$(get "$@")
	[ -n "$v" ] || die "no '$2' in $1 for: ${*:3}"
	printf '%s' "$v"
}
# fmt X DIGITS: X rounded.
fmt() { awk -v x="$1" -v d="$2" 'BEGIN { printf "%.*f", d, x }'; }
# le A B: true if A <= B.
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 <= b + 0) }'; }
# thousands N: 1000000 -> 1,000,000.
thousands() { printf '%s' "$1" | sed -e ':a' -e 's/\([0-9]\)\([0-9]\{3\}\)\($\|,\)/\1,\2\3/;ta'; }
# The rest of the line after "sql=", for profile lines.
sql_of() { sed -e 's/.* sql=//' -e 's/|/\\|/g'; }
