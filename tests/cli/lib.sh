# tests/cli/lib.sh — a tiny library for CLI tests that drive the real `crm`
# binary as a user would.  Sourced by every tests/cli/*.sh script:
#
#     . "$(dirname "$0")/lib.sh"
#     expect_ok crm init --name Alice
#     ...
#     finish
#
# Contract
#  * CRM_BIN (environment) is the path of the `crm` executable under test.
#  * Each script gets one private temp directory, $TEST_DIR (mktemp -d),
#    removed on exit whatever happens.  The replica lives in $DATA, which
#    use_replica NAME switches to $TEST_DIR/NAME.  HOME, CRM_DATA and
#    XDG_DATA_HOME are pointed away from the real user's data.
#  * An assertion never stops the script: it prints
#        FAIL file:line: what — details
#    on stderr and counts.  `finish` prints "N passed, M failed" and exits
#    non-zero if anything failed.  A script that exits without calling
#    `finish` (a crash of the test itself) also fails.
#  * After run/expect_ok/expect_fail: $OUT is the command's stdout, $ERR its
#    stderr, $RC its exit status (trailing newlines stripped from OUT/ERR).
#  * No sleeps, no network: commands read stdin from /dev/null.

set -u
set -o pipefail
export LC_ALL=C

if [ -z "${CRM_BIN:-}" ] || [ ! -x "$CRM_BIN" ]; then
	echo "FAIL: CRM_BIN must name the crm executable (got '${CRM_BIN:-}')" >&2
	exit 1
fi
if ! command -v jq >/dev/null 2>&1; then
	echo "FAIL: these tests need jq (apt-get install jq)" >&2
	exit 1
fi

TEST_NAME=$(basename "$0" .sh)
TEST_DIR=$(mktemp -d "${TMPDIR:-/tmp}/crm-$TEST_NAME.XXXXXX") || exit 1
_PASSED=0
_FAILED=0
_FINISHED=0

_cleanup()
{
	local rc=$?
	rm -rf "$TEST_DIR"
	if [ "$_FINISHED" -eq 0 ]; then
		echo "FAIL $TEST_NAME: script ended before finish (exit $rc);" \
		     "$_PASSED passed, $((_FAILED + 1)) failed" >&2
		exit 1
	fi
}
trap _cleanup EXIT
trap 'exit 130' INT TERM

export HOME="$TEST_DIR/home"
mkdir -p "$HOME"
unset CRM_DATA XDG_DATA_HOME
DATA="$TEST_DIR/data"

# use_replica NAME — later crm calls use the replica in $TEST_DIR/NAME.
use_replica()
{
	DATA="$TEST_DIR/$1"
}

# crm ARGS... — the binary under test on the current replica.
crm()
{
	"$CRM_BIN" --data "$DATA" "$@"
}

# "file:line" of the test script line that called into the library; when the
# call came through a helper defined in the script, the lines of the callers
# follow ("cli_x.sh:40 <- 95").
_where()
{
	local i where=""
	for ((i = 1; i < ${#BASH_SOURCE[@]}; i++)); do
		[ "${BASH_SOURCE[$i]}" != "${BASH_SOURCE[0]}" ] || continue
		if [ -z "$where" ]; then
			where="$(basename "${BASH_SOURCE[$i]}"):${BASH_LINENO[$((i - 1))]}"
		else
			where="$where <- ${BASH_LINENO[$((i - 1))]}"
		fi
	done
	echo "${where:-?}"
}

pass()
{
	_PASSED=$((_PASSED + 1))
}

# fail WHAT [DETAIL...] — record a failed assertion with its line number.
fail()
{
	_FAILED=$((_FAILED + 1))
	{
		echo "FAIL $(_where): $1"
		shift
		local d
		for d in "$@"; do
			printf '    %s\n' "$d"
		done
	} >&2
}

# Shown with a failed command assertion: what ran and what it printed.
_cmd_detail()
{
	printf 'command: %s' "$_CMD"
	printf '\n    exit:    %s' "$RC"
	printf '\n    stdout:  %s' "$(printf '%s' "$OUT" | head -c 600)"
	printf '\n    stderr:  %s' "$(printf '%s' "$ERR" | head -c 600)"
}

# run CMD... — run, capturing OUT, ERR, RC; never counts as an assertion.
run()
{
	_CMD=$(printf '%q ' "$@")
	"$@" </dev/null >"$TEST_DIR/.out" 2>"$TEST_DIR/.err"
	RC=$?
	OUT=$(cat "$TEST_DIR/.out")
	ERR=$(cat "$TEST_DIR/.err")
	_ERR_LINES=$(wc -l <"$TEST_DIR/.err" | tr -d ' ')
	_ERR_ENDS_NL=1
	if [ -s "$TEST_DIR/.err" ] && [ -n "$(tail -c 1 "$TEST_DIR/.err")" ]; then
		_ERR_ENDS_NL=0
	fi
	return 0
}

# expect_ok CMD... — CMD exits 0.
expect_ok()
{
	run "$@"
	if [ "$RC" -eq 0 ]; then
		pass
		return 0
	fi
	fail "expected exit 0" "$(_cmd_detail)"
	return 1
}

# expect_fail CODE 'stderr substring' CMD... — CMD exits CODE and stderr is
# exactly one newline-terminated line that contains the substring.
expect_fail()
{
	local code=$1 want=$2
	shift 2
	run "$@"
	if [ "$RC" -ne "$code" ]; then
		fail "expected exit $code" "$(_cmd_detail)"
		return 1
	fi
	if [ "$_ERR_LINES" -ne 1 ] || [ "$_ERR_ENDS_NL" -ne 1 ] || [ -z "$ERR" ]; then
		fail "expected exactly one line on stderr, got $_ERR_LINES" "$(_cmd_detail)"
		return 1
	fi
	case "$ERR" in
	*"$want"*)
		pass
		return 0
		;;
	esac
	fail "stderr does not mention '$want'" "$(_cmd_detail)"
	return 1
}

# assert_eq EXPECTED ACTUAL [WHAT]
assert_eq()
{
	if [ "$1" == "$2" ]; then
		pass
		return 0
	fi
	fail "${3:-assert_eq}: values differ" "expected: '$1'" "actual:   '$2'"
	return 1
}

# assert_ne UNEXPECTED ACTUAL [WHAT]
assert_ne()
{
	if [ "$1" != "$2" ]; then
		pass
		return 0
	fi
	fail "${3:-assert_ne}: values should differ" "both: '$1'"
	return 1
}

# assert_contains HAYSTACK NEEDLE [WHAT]
assert_contains()
{
	case "$1" in
	*"$2"*)
		pass
		return 0
		;;
	esac
	fail "${3:-assert_contains}: '$2' not found" "in: '$(printf '%s' "$1" | head -c 800)'"
	return 1
}

# assert_not_contains HAYSTACK NEEDLE [WHAT]
assert_not_contains()
{
	case "$1" in
	*"$2"*)
		fail "${3:-assert_not_contains}: '$2' should not be there" \
		     "in: '$(printf '%s' "$1" | head -c 800)'"
		return 1
		;;
	esac
	pass
	return 0
}

# assert_match REGEX VALUE [WHAT] — bash ERE, anchored by the caller.
assert_match()
{
	if [[ "$2" =~ $1 ]]; then
		pass
		return 0
	fi
	fail "${3:-assert_match}: does not match /$1/" "value: '$2'"
	return 1
}

# json_get JSON FILTER — jq -r FILTER over JSON; prints nothing and returns
# 1 if JSON does not parse.  Example: json_get "$OUT" '.[0].id'
json_get()
{
	printf '%s' "$1" | jq -r "$2" 2>/dev/null
}

# assert_json JSON FILTER [WHAT] — FILTER (a jq boolean) is true on JSON.
assert_json()
{
	local r
	if r=$(printf '%s' "$1" | jq -e "$2" 2>&1 >/dev/null); then
		pass
		return 0
	fi
	fail "${3:-assert_json}: not true: $2" "json: '$(printf '%s' "$1" | head -c 800)'" ${r:+"jq: $r"}
	return 1
}

# finish — print the summary; exit 1 if any assertion failed.
finish()
{
	_FINISHED=1
	echo "$TEST_NAME: $_PASSED passed, $_FAILED failed"
	[ "$_FAILED" -eq 0 ] && [ "$_PASSED" -gt 0 ]
	exit $?
}
