#!/usr/bin/env bash
# cli_state_hash.sh — `crm state-hash`: 64 hex digits, stable, moved by
# edits, not by reading; a digest of values (not of history or local
# settings).
. "$(dirname "$0")/lib.sh"

HEX64='^[0-9a-f]{64}$'

# hash_now — the state hash of the current replica into H (checked format).
hash_now()
{
	H=""
	expect_ok crm state-hash || return 1
	assert_match "$HEX64" "$OUT" "state-hash prints 64 lower-case hex digits" && H=$OUT
	assert_eq "" "$ERR" "state-hash is quiet on stderr"
}

expect_ok crm init --name "Hash node" --branch MSK --user alice

# ------------------------------------------------------- format, stable ----
hash_now
H0=$H
assert_eq 65 "$(crm state-hash | wc -c | tr -d ' ')" "one line: 64 digits and a newline"
hash_now
assert_eq "$H0" "$H" "two calls give the same hash"
expect_ok crm state-hash --json
assert_eq "$H0" "$(json_get "$OUT" .state_hash)" "state-hash --json"

# ------------------------------------------------------ read-only commands --
new_id()
{
	expect_ok crm "$@"
	NEW_ID=$OUT
}
new_id company add --name "Acme" --tax-id 7701234567 --phone "+7 495 123-45-67"
CO=$NEW_ID
new_id contact add --first Petr --last Petrov --company "$CO" --email p@acme.example
CT=$NEW_ID
new_id deal add --title "Pilot" --company "$CO" --amount 10 --currency EUR
DEAL=$NEW_ID
new_id task add --title "Call" --contact "$CT"
TASK=$NEW_ID
new_id activity add --kind note --subject "Met at a fair" --company "$CO"
ACT=$NEW_ID

hash_now
H1=$H
assert_ne "$H0" "$H1" "adding records changes the hash"

READ_ONLY=(
	"whoami" "whoami --json" "status" "status --json" "state-hash --json"
	"search petr" "search 5551234" "search p@acme" "search 7701234567 --json"
	"company list" "company list --json" "company list --search acme"
	"contact list" "contact list --json" "contact list --search petr --json"
	"deal list" "deal list --json" "task list" "activity list --json"
	"company show $CO" "company show $CO --json"
	"contact show $CT" "contact show $CT --json"
	"deal show $DEAL" "deal show $DEAL --json"
	"task show $TASK --json" "activity show $ACT"
	"deal --help" "init --help"
)
for c in "${READ_ONLY[@]}"; do
	# shellcheck disable=SC2086  # word splitting of the command is intended
	expect_ok crm $c
	hash_now
	assert_eq "$H1" "$H" "'crm $c' does not change the hash"
done
# Refused commands do not either (cli_bad_input.sh covers them in depth).
expect_fail 1 "already" crm init --name Again
expect_fail 1 "" crm contact add --first A --email nope
hash_now
assert_eq "$H1" "$H" "refused commands do not change the hash"

# ------------------------------------------------------------- edits ----
expect_ok crm contact set "$CT" title=CEO
hash_now
H2=$H
assert_ne "$H1" "$H2" "set changes the hash"
hash_now
assert_eq "$H2" "$H" "stable after an edit"

# The hash is of values, not of history: putting the old value back gives the
# old hash (title was empty before).
expect_ok crm contact set "$CT" title=
hash_now
assert_eq "$H1" "$H" "clearing the field again restores the earlier hash"

expect_ok crm deal move "$DEAL" --stage Won
hash_now
H3=$H
assert_ne "$H1" "$H3" "deal move changes the hash"

expect_ok crm company delete "$CO"
hash_now
H4=$H
assert_ne "$H3" "$H4" "delete changes the hash"
expect_ok crm company restore "$CO"
hash_now
assert_eq "$H3" "$H" "restore brings the earlier hash back"

expect_ok crm deal set "$DEAL" amount=10.01
hash_now
assert_ne "$H3" "$H" "a one-cent change changes the hash"

# ----------------------------------------- other replicas, local settings ----
# Two fresh replicas with the same branch and user hold the same genesis rows
# (branch and user ids are derived from their names), so their hashes agree
# whatever the node's own name; a different user gives a different state.
use_replica twin1
expect_ok crm init --name "Twin one" --branch MSK --user alice
use_replica twin2
expect_ok crm init --name "Twin two" --branch MSK --user alice --country DE --currency EUR
use_replica other
expect_ok crm init --name "Other" --branch MSK --user bob
use_replica twin1
hash_now
T1=$H
use_replica twin2
hash_now
assert_eq "$T1" "$H" "replicas with the same rows hash equal (node name, country, currency are local)"
use_replica other
hash_now
assert_ne "$T1" "$H" "a replica with another user hashes differently"
use_replica data
assert_eq "$T1" "$H0" "a fresh replica hashes like the first one did before its edits"

finish
