#!/usr/bin/env bash
# cli_basics.sh — init, whoami, --help everywhere, exit statuses of CLI.md.
. "$(dirname "$0")/lib.sh"

# ---------------------------------------------------------------- init ----
expect_ok crm init --name "Alice laptop" --branch MSK --user alice
NODE_ID=$OUT
assert_match '^[0-9a-f]{32}$' "$NODE_ID" "init prints a 32-hex node id"
assert_eq "" "$ERR" "init is quiet on stderr"

# --json variant on a second replica
use_replica second
expect_ok crm init --name Bob --json
assert_json "$OUT" '.id | test("^[0-9a-f]{32}$")' "init --json has the node id"
assert_json "$OUT" '.name == "Bob"' "init --json has the name"
use_replica data

# ---------------------------------------------------------------- whoami --
expect_ok crm whoami --json
WHO=$OUT
assert_json "$WHO" 'type == "object"' "whoami --json is one object"
assert_eq "$NODE_ID" "$(json_get "$WHO" .id)" "whoami id is the id init printed"
assert_eq "Alice laptop" "$(json_get "$WHO" .name)" "whoami name"
assert_eq "MSK" "$(json_get "$WHO" .branch)" "whoami branch"
assert_eq "alice" "$(json_get "$WHO" .user)" "whoami user"
assert_match '^ssh-ed25519 AAAA[A-Za-z0-9+/]+=* ' "$(json_get "$WHO" .public_key)" \
	"whoami public_key is an OpenSSH ed25519 key"

expect_ok crm whoami
assert_contains "$OUT" "$NODE_ID" "whoami (text) shows the node id"
assert_contains "$OUT" "ssh-ed25519 AAAA" "whoami (text) shows the public key"

# The default branch is HQ.
use_replica second
expect_ok crm whoami --json
assert_eq "HQ" "$(json_get "$OUT" .branch)" "default branch"
assert_ne "$NODE_ID" "$(json_get "$OUT" .id)" "two replicas have different node ids"
use_replica data

# ------------------------------------------------------- init: refusals ----
HASH_BEFORE=$(crm state-hash)
expect_fail 1 "already" crm init --name Again
expect_fail 1 "already" crm init --name "Alice laptop" --branch MSK --user alice
expect_ok crm whoami --json
assert_eq "$NODE_ID" "$(json_get "$OUT" .id)" "a refused second init keeps the node id"
assert_eq "$HASH_BEFORE" "$(crm state-hash)" "a refused second init changes nothing"

use_replica noname
expect_fail 2 "name" crm init
expect_fail 2 "" crm init --name
use_replica data

# ---------------------------------------------------------- --help ----
# Every command and every entity verb answers --help with exit 0, on stdout,
# even where there is no replica.
use_replica nowhere
HELP_CMDS=(
	""
	"init" "whoami" "status" "state-hash" "search"
	"deal move"
)
for e in company contact deal activity task; do
	HELP_CMDS+=("$e")
	for v in add list show set delete restore; do
		HELP_CMDS+=("$e $v")
	done
done
for c in "${HELP_CMDS[@]}"; do
	# shellcheck disable=SC2086  # word splitting of the command is intended
	run crm $c --help
	if [ "$RC" -eq 0 ] && [ -n "$OUT" ] && [ -z "$ERR" ]; then
		pass
	else
		fail "'crm $c --help' should print help on stdout and exit 0" "$(_cmd_detail)"
	fi
	# shellcheck disable=SC2086
	run crm $c -h
	assert_eq 0 "$RC" "'crm $c -h' exit status"
done
assert_eq no "$([ -e "$TEST_DIR/nowhere" ] && echo yes || echo no)" "--help creates no replica"
use_replica data

# ------------------------------------------------------ usage errors ----
expect_fail 2 "unknown command" crm frobnicate
expect_fail 2 "frobnicate" crm frobnicate --json
expect_fail 2 "unknown command" crm company frobnicate
expect_fail 2 "unknown command" crm contact move x
expect_fail 2 "unknown option" crm --frobnicate whoami
expect_fail 2 "unexpected argument" crm whoami extra
run crm
assert_eq 2 "$RC" "crm without a command is a usage error"

# -------------------------------------------------- missing replica ----
use_replica missing
for c in "whoami" "status" "state-hash" "company list" "contact add --first X" "search petr"; do
	# shellcheck disable=SC2086
	expect_fail 1 "crm init" crm $c
done
assert_eq no "$([ -e "$TEST_DIR/missing" ] && echo yes || echo no)" "a command on a missing replica creates nothing"

# $CRM_DATA is used when --data is not given.
expect_ok env CRM_DATA="$TEST_DIR/data" "$CRM_BIN" whoami --json
assert_eq "$NODE_ID" "$(json_get "$OUT" .id)" "CRM_DATA selects the replica"

finish
