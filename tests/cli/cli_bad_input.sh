#!/usr/bin/env bash
# cli_bad_input.sh — every kind of bad input is refused with exit 1 (data
# error) or 2 (usage error) and exactly one line on stderr naming the
# problem, and a refused command changes nothing: `crm state-hash` is
# byte-identical before and after, and so is the pending change count.
. "$(dirname "$0")/lib.sh"

# snapshot NAME — state hash and status of the replica into $TEST_DIR/NAME.*
snapshot()
{
	"$CRM_BIN" --data "$DATA" state-hash >"$TEST_DIR/$1.hash" 2>&1 </dev/null
	"$CRM_BIN" --data "$DATA" status --json 2>&1 </dev/null |
		jq -c '{pending_changes}' >"$TEST_DIR/$1.status" 2>&1
}

# refused CODE 'stderr substring' CMD... — expect_fail, and the replica is
# unchanged (state hash bytes, pending change count).
refused()
{
	snapshot before
	expect_fail "$@"
	snapshot after
	if cmp -s "$TEST_DIR/before.hash" "$TEST_DIR/after.hash"; then
		pass
	else
		fail "state-hash changed by a refused command: ${*:3}" \
		     "before: $(cat "$TEST_DIR/before.hash")" "after:  $(cat "$TEST_DIR/after.hash")"
	fi
	if cmp -s "$TEST_DIR/before.status" "$TEST_DIR/after.status"; then
		pass
	else
		fail "pending changes changed by a refused command: ${*:3}" \
		     "before: $(cat "$TEST_DIR/before.status")" "after:  $(cat "$TEST_DIR/after.status")"
	fi
}

new_id()
{
	expect_ok crm "$@"
	NEW_ID=$OUT
}

expect_ok crm init --name "Bad input node" --user alice
new_id company add --name "Acme LLC" --tax-id 7701234567
ACME=$NEW_ID
new_id company add --name "Gone Ltd"
GONE=$NEW_ID
expect_ok crm company delete "$GONE"
new_id contact add --first Petr --last Petrov --company "$ACME" --email p@acme.example --phone "+7 916 555-12-34"
PETR=$NEW_ID
new_id deal add --title "Pilot" --company "$ACME" --amount 100 --currency EUR
DEAL=$NEW_ID
new_id task add --title "Call back" --contact "$PETR"
TASK=$NEW_ID
new_id contact add --first Temp
TEMP=$NEW_ID
expect_ok crm contact delete "$TEMP"

ABSENT=01a20000-0000-7000-8000-000000000000   # well-formed, never created
LONG=$(head -c 2000 /dev/zero | tr '\0' x)
BADUTF8=$(printf 'Acme\xff')

snapshot start
assert_match '^[0-9a-f]{64}$' "$(cat "$TEST_DIR/start.hash")" "state-hash works"
assert_match '^\{"pending_changes":[0-9]+\}$' "$(cat "$TEST_DIR/start.status")" "status --json has pending_changes"

# ------------------------------------------------------ required fields ----
refused 1 "name" crm company add
refused 1 "name" crm company add --tax-id 7701234567
refused 1 "name" crm company add --name ""
refused 1 "first_name" crm contact add --last Petrov
refused 1 "first_name" crm contact add --first ""
refused 1 "title" crm deal add --amount 5
refused 1 "title" crm deal add --title ""
refused 1 "subject" crm activity add --kind call
refused 1 "kind" crm activity add --subject "No kind"
refused 1 "title" crm task add --due 2026-12-01
refused 1 "first_name" crm contact set "$PETR" first=
refused 1 "name" crm company set "$ACME" name=

# ------------------------------------------------------------- e-mail ----
refused 1 "bad-email" crm contact add --first A --email bad-email
refused 1 "a@b" crm contact add --first A --email "a@b"
refused 1 "e-mail" crm contact add --first A --email "a b@c.example"
refused 1 "@" crm company add --name X --email "@example.com"
refused 1 "nope" crm contact set "$PETR" email=nope

# -------------------------------------------------------------- phone ----
refused 1 "'12'" crm contact add --first A --phone 12
refused 1 "abc" crm contact add --first A --phone abc
refused 1 "abc" crm company add --name X --phone abc
refused 1 "'12'" crm contact set "$PETR" phone=12
# A good e-mail with a bad phone: nothing of the command is written.
refused 1 "phone" crm contact add --first A --email ok@example.com --phone 12

# ------------------------------------------------------ amount/currency ----
refused 1 "12.345" crm deal add --title X --amount 12.345 --currency EUR
refused 1 "abc" crm deal add --title X --amount abc
refused 1 "abc" crm deal add --title X --amount abc --currency EUR
refused 1 "12.345" crm deal set "$DEAL" amount=12.345
refused 1 "1.5" crm deal add --title X --amount 1.5 --currency JPY
refused 1 "99999999999999999999" crm deal add --title X --amount 99999999999999999999
refused 1 "XYZ" crm deal add --title X --currency XYZ
refused 1 "XYZ" crm deal add --title X --amount 5 --currency XYZ
refused 1 "XYZ" crm deal set "$DEAL" currency=XYZ

# ----------------------------------------------------- stage / pipeline ----
refused 1 "Nope" crm deal add --title X --stage Nope
refused 1 "Nope" crm deal move "$DEAL" --stage Nope
refused 1 "Nope" crm deal set "$DEAL" stage=Nope
refused 1 "Nope" crm deal add --title X --pipeline Nope
refused 1 "Nope" crm deal set "$DEAL" pipeline=Nope
refused 1 "stage" crm deal move "$DEAL" --stage ""
# A deal is always in a stage: clearing it is refused like `deal move --stage ""`.
refused 1 "stage" crm deal set "$DEAL" stage=

# ----------------------------------------------------------- references ----
refused 1 "$ABSENT" crm contact add --first A --company "$ABSENT"
refused 1 "$ABSENT" crm deal add --title X --contact "$ABSENT"
refused 1 "$ABSENT" crm task add --title T --deal "$ABSENT"
refused 1 "$ABSENT" crm activity add --kind call --subject S --contact "$ABSENT"
refused 1 "not-an-id" crm contact add --first A --company not-an-id
refused 1 "not-an-id" crm deal set "$DEAL" company=not-an-id
refused 1 "deleted" crm contact add --first A --company "$GONE"
refused 1 "deleted" crm deal add --title X --company "$GONE"
refused 1 "deleted" crm contact set "$PETR" company="$GONE"
refused 1 "deleted" crm task add --title T --contact "$TEMP"

# ---------------------------------------------------------- dates/times ----
refused 1 "2023-02-29" crm contact add --first A --birthday 2023-02-29
refused 1 "2023-13-01" crm deal add --title X --close 2023-13-01
refused 1 "someday" crm contact set "$PETR" birthday=someday
refused 1 "2023-02-30T10:00" crm activity add --kind call --subject S --at 2023-02-30T10:00
refused 1 "2026-12-01T25:00" crm task add --title T --due 2026-12-01T25:00
refused 1 "tomorrow" crm task add --title T --due tomorrow
refused 1 "tomorrow" crm task set "$TASK" due=tomorrow

# ---------------------------------------------------------------- enums ----
refused 1 "fax" crm activity add --kind fax --subject S
refused 1 "urgent" crm task add --title T --priority urgent
refused 1 "finished" crm task set "$TASK" status=finished
refused 1 "maybe" crm activity add --kind call --subject S done=maybe
refused 1 "101" crm deal set "$DEAL" probability=101

# -------------------------------------------------------- unknown fields ----
refused 1 "shoe-size" crm contact add --first A --shoe-size 42
refused 1 "shoe" crm contact add --first A shoe=42
refused 1 "shoe" crm contact set "$PETR" shoe=42
refused 1 "amount" crm contact set "$PETR" amount=5

# ------------------------------------------------ records that are not ----
refused 1 "$ABSENT" crm contact set "$ABSENT" title=X
refused 1 "not-an-id" crm contact set not-an-id title=X
refused 1 "$ABSENT" crm contact delete "$ABSENT"
refused 1 "$ABSENT" crm deal move "$ABSENT" --stage Won
refused 1 "$ABSENT" crm contact show "$ABSENT"
refused 1 "$ABSENT" crm contact restore "$ABSENT"
refused 1 "deleted" crm contact set "$TEMP" title=X
refused 1 "deleted" crm contact delete "$TEMP"
refused 1 "not deleted" crm contact restore "$PETR"
# A company id is not a contact id.
refused 1 "$ACME" crm contact show "$ACME"
refused 1 "$ACME" crm contact set "$ACME" title=X

# Deleting twice: the second is refused.
expect_ok crm task delete "$TASK"
refused 1 "deleted" crm task delete "$TASK"
expect_ok crm task restore "$TASK"

# -------------------------------------------------------------- users ----
refused 1 "bob" crm task add --title T --assignee bob
refused 1 "bob" crm task set "$TASK" assignee=bob
refused 1 "bob" crm deal add --title X --owner bob

# --------------------------------------------------------------- text ----
refused 1 "too long" crm company add --name "$LONG"
refused 1 "too long" crm contact add --first "$LONG"
refused 1 "too long" crm company set "$ACME" name="$LONG"
refused 1 "UTF-8" crm company add --name "$BADUTF8"
refused 1 "UTF-8" crm contact add --first "$(printf '\xff')"
refused 1 "UTF-8" crm contact add --first "$(printf 'Ann\xc3')"
refused 1 "UTF-8" crm deal set "$DEAL" title="$BADUTF8"
refused 1 "one line" crm company add --name "$(printf 'two\nlines')"
refused 1 "control" crm company add --name "$(printf 'bell\a')"

# -------------------------------------------------------- usage errors ----
refused 2 "--name" crm company add --name
refused 2 "--title" crm deal add --title
refused 2 "--stage" crm deal move "$DEAL" --stage
refused 2 "stage" crm deal move "$DEAL"
refused 2 "id" crm deal show
refused 2 "id" crm deal show "$DEAL" "$DEAL"
refused 2 "id" crm deal delete
refused 2 "FIELD=VALUE" crm contact set "$PETR"
refused 2 "title" crm contact set "$PETR" title
refused 2 "--search" crm contact list --search
refused 2 "--limit" crm contact list --limit lots
refused 2 "QUERY" crm search
refused 2 "unknown command" crm contact frobnicate "$PETR"
refused 2 "unknown command" crm frobnicate

# Everything above was refused: the replica is as it was before the first
# bad command (the accepted `task delete` was undone by `task restore`, and
# the state hash covers values, not history).
snapshot end
if cmp -s "$TEST_DIR/start.hash" "$TEST_DIR/end.hash"; then
	pass
else
	fail "state-hash differs from before the bad input"
fi
expect_ok crm contact list --json
assert_json "$OUT" 'length == 1 and .[0].first_name == "Petr"' "no contact was created by bad input"
expect_ok crm company list --json
assert_json "$OUT" 'length == 1 and .[0].name == "Acme LLC"' "no company was created by bad input"
expect_ok crm deal list --json
assert_json "$OUT" 'length == 1 and .[0].amount == 10000 and .[0].currency == "EUR" and .[0].stage == "New"' \
	"the deal is untouched"

# ------------------------------------------------- money keeps currency ----
# Last, on a deal of their own, so that if they are accepted the checks above
# still hold.  entity.c (finish_money): an amount is "never ambiguous" — it
# always has its currency; clearing the currency of a deal that has an amount
# must be refused.  Likewise a deal's stage belongs to its pipeline, so the
# pipeline cannot be cleared while the deal sits in one of its stages.
new_id deal add --title "Priced" --amount 250 --currency USD
refused 1 "currency" crm deal set "$NEW_ID" currency=
refused 1 "pipeline" crm deal set "$NEW_ID" pipeline=

finish
