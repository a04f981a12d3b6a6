# tools/bench/lib_section.sh — sourced by the benchmark scripts that keep a
# section of their own in docs/benchmarks.md, between the lines
# "<!-- NAME:begin -->" and "<!-- NAME:end -->" (tools/bench/run.sh carries
# such sections over when it rewrites the rest of the file).

# replace_section NAME FILE SECTION_FILE — put SECTION_FILE (which holds its
# own begin/end lines) in FILE in place of NAME's section, or append it with
# one blank line before it; the rest of FILE is left alone.
replace_section()
{
	local name=$1 out=$2 section=$3
	mkdir -p "$(dirname "$out")"
	if [ -f "$out" ]; then
		awk -v b="<!-- $name:begin -->" -v e="<!-- $name:end -->" \
			'$0 == b { skip = 1 } !skip { print } $0 == e { skip = 0 }' "$out" >"$out.$name.tmp"
		sed -i -e :a -e '/^\n*$/{$d;N;ba' -e '}' "$out.$name.tmp"   # no trailing blank lines
		[ -s "$out.$name.tmp" ] && echo >>"$out.$name.tmp"
	else
		: >"$out.$name.tmp"
	fi
	cat "$section" >>"$out.$name.tmp"
	mv "$out.$name.tmp" "$out"
}
