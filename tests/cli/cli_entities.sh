#!/usr/bin/env bash
# cli_entities.sh — a new user's day: add, list, show, set, delete, restore
# companies, contacts, deals, activities and tasks; move a deal.
. "$(dirname "$0")/lib.sh"

UUID_RE='^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'

# add_ok ENTITY ARGS... — add a record, check it printed one id; sets NEW_ID.
add_ok()
{
	NEW_ID=""
	expect_ok crm "$1" add "${@:2}" || return 1
	assert_match "$UUID_RE" "$OUT" "$1 add prints the new id" && NEW_ID=$OUT
}

# list_json ENTITY [ARGS...] — `crm ENTITY list --json`; checks it is an array
# of objects that all have an id; leaves the array in LIST.
list_json()
{
	LIST="[]"
	expect_ok crm "$1" list --json "${@:2}" || return 1
	LIST=$OUT
	assert_json "$LIST" 'type == "array" and all(.[]; type == "object" and (.id | type) == "string")' \
		"$1 list --json is an array of objects with id"
}

# in_list ID — 1 if LIST holds ID, else 0.
in_list()
{
	json_get "$LIST" "[.[] | select(.id == \"$1\")] | length"
}

# show_json ENTITY ID — `crm ENTITY show ID --json` into REC.
show_json()
{
	REC="{}"
	expect_ok crm "$1" show "$2" --json || return 1
	REC=$OUT
	assert_json "$REC" "type == \"object\" and .id == \"$2\"" "$1 show --json is the record"
}

expect_ok crm init --name "Alice laptop" --user alice

# ----------------------------------------------------------- companies ----
add_ok company --name "Acme LLC" --tax-id 7701234567 --email info@acme.example --phone "+7 495 123-45-67"
ACME=$NEW_ID
add_ok company --name "Globex" --website globex.example
GLOBEX=$NEW_ID
add_ok company name=Initech industry=Software
INITECH=$NEW_ID
assert_ne "$ACME" "$GLOBEX" "two companies get different ids"

expect_ok crm company add --name "Json Co" --json
assert_json "$OUT" '.id | test("^[0-9a-f-]{36}$")' "company add --json prints {\"id\": ...}"
JSONCO=$(json_get "$OUT" .id)

list_json company
assert_eq 4 "$(json_get "$LIST" length)" "four companies listed"
assert_eq 1 "$(in_list "$ACME")" "Acme is listed"
assert_eq "Acme LLC" "$(json_get "$LIST" ".[] | select(.id == \"$ACME\") | .name")" "company name in list"
assert_eq "7701234567" "$(json_get "$LIST" ".[] | select(.id == \"$ACME\") | .tax_id")" "tax id in list"
assert_eq "info@acme.example" "$(json_get "$LIST" ".[] | select(.id == \"$ACME\") | .email")" "email in list"
assert_eq 1 "$(in_list "$JSONCO")" "the company added with --json is listed"

expect_ok crm company list
assert_match '^id +name' "$(printf '%s\n' "$OUT" | head -n 1)" "company list (text) has a header"
assert_contains "$OUT" "Acme LLC" "company list (text) shows names"
assert_contains "$OUT" "$ACME" "company list (text) shows ids"
assert_contains "$OUT" "Initech" "company list (text) shows FIELD=VALUE-added company"

show_json company "$ACME"
assert_eq "Acme LLC" "$(json_get "$REC" .name)" "company show name"
assert_json "$REC" '(.channels | type) == "array" and (.deals | type) == "array" and (.contacts | type) == "array" and (.timeline | type) == "array"' \
	"company show has channels, deals, contacts, timeline"
assert_json "$REC" '[.channels[] | select(.kind == "email" and .value == "info@acme.example")] | length == 1' \
	"company e-mail is a channel"
assert_json "$REC" '[.channels[] | select(.kind == "phone" and .normalized == "+74951234567")] | length == 1' \
	"company phone is a channel, normalized to E.164"

expect_ok crm company show "$ACME"
assert_contains "$OUT" "Acme LLC" "company show (text)"
assert_contains "$OUT" "channels (2)" "company show (text) lists channels"

# ------------------------------------------------------------ contacts ----
add_ok contact --first Petr --last Petrov --company "$ACME" --email p.petrov@acme.example --phone "+7 (916) 555-12-34"
PETR=$NEW_ID
add_ok contact --first Anna --company "$GLOBEX"
ANNA=$NEW_ID
add_ok contact first=Ivan last=Sidorov title=CTO
IVAN=$NEW_ID

list_json contact
assert_eq 3 "$(json_get "$LIST" length)" "three contacts listed"
assert_eq "Acme LLC" "$(json_get "$LIST" ".[] | select(.id == \"$PETR\") | .company")" "contact list shows company name"
assert_eq "+7 (916) 555-12-34" "$(json_get "$LIST" ".[] | select(.id == \"$PETR\") | .phone")" "contact phone kept as typed"

expect_ok crm contact list
assert_contains "$OUT" "Petrov" "contact list (text)"

show_json contact "$PETR"
assert_eq "Petr" "$(json_get "$REC" .first_name)" "first name"
assert_eq "Petrov" "$(json_get "$REC" .last_name)" "last name"
assert_eq "$ACME" "$(json_get "$REC" .company_id)" "company link"
assert_json "$REC" '(.channels | type) == "array" and (.deals | type) == "array" and (.timeline | type) == "array"' \
	"contact show has channels, deals, timeline"
assert_json "$REC" '[.channels[] | select(.kind == "email" and .normalized == "p.petrov@acme.example")] | length == 1' \
	"contact e-mail channel"
assert_json "$REC" '[.channels[] | select(.kind == "phone" and .value == "+7 (916) 555-12-34" and .normalized == "+79165551234")] | length == 1' \
	"contact phone channel: raw and E.164"

show_json company "$ACME"
assert_json "$REC" "[.contacts[] | select(.id == \"$PETR\")] | length == 1" "company show lists its contact"

# --------------------------------------------------------------- deals ----
add_ok deal --title "Acme pilot" --company "$ACME" --contact "$PETR" --amount 1500.50 --currency EUR --stage Qualified
DEAL=$NEW_ID
add_ok deal --title "Globex renewal" --company "$GLOBEX"
DEAL2=$NEW_ID

show_json deal "$DEAL"
assert_eq 150050 "$(json_get "$REC" .amount)" "amount is stored in minor units"
assert_json "$REC" '(.amount | type) == "number"' "amount is a JSON integer"
assert_eq "1500.50" "$(json_get "$REC" .amount_text)" "amount_text"
assert_eq "EUR" "$(json_get "$REC" .currency)" "currency"
assert_eq "Qualified" "$(json_get "$REC" .stage)" "stage"
assert_eq "Sales" "$(json_get "$REC" .pipeline)" "default pipeline"
assert_eq "$ACME" "$(json_get "$REC" .company_id)" "deal company"
assert_eq "$PETR" "$(json_get "$REC" .contact_id)" "deal contact"
assert_json "$REC" '(.stage_history | type) == "array" and (.timeline | type) == "array"' \
	"deal show has stage_history and timeline"
assert_json "$REC" '.stage_history | length == 1 and .[0].to_stage == "Qualified" and .[0].from_stage == null' \
	"a new deal has one stage_history entry"
assert_eq alice "$(json_get "$REC" '.stage_history[0].user')" "stage history names the user"

show_json deal "$DEAL2"
assert_eq "New" "$(json_get "$REC" .stage)" "a deal starts in the pipeline's first stage"
assert_eq "null" "$(json_get "$REC" .amount)" "no amount given"
add_ok deal --title "Small one" --amount 10
show_json deal "$NEW_ID"
assert_eq "RUB" "$(json_get "$REC" .currency)" "an amount without currency takes the default (RUB)"
assert_eq 1000 "$(json_get "$REC" .amount)" "10 RUB in kopecks"
expect_ok crm deal delete "$NEW_ID"

list_json deal
assert_eq 2 "$(json_get "$LIST" length)" "two deals listed"
assert_eq "1500.50" "$(json_get "$LIST" ".[] | select(.id == \"$DEAL\") | .amount_text")" "amount_text in list"
expect_ok crm deal list
assert_contains "$OUT" "1500.50" "deal list (text) shows the amount"
assert_contains "$OUT" "Qualified" "deal list (text) shows the stage"

show_json contact "$PETR"
assert_json "$REC" "[.deals[] | select(.id == \"$DEAL\" and .amount == 150050)] | length == 1" \
	"contact show lists the contact's deal"
show_json company "$ACME"
assert_json "$REC" "[.deals[] | select(.id == \"$DEAL\")] | length == 1" "company show lists the company's deal"

# ---------------------------------------------------------- deal move ----
expect_ok crm deal move "$DEAL" --stage Won
assert_eq "" "$OUT$ERR" "deal move is quiet"
show_json deal "$DEAL"
assert_eq "Won" "$(json_get "$REC" .stage)" "deal moved to Won"
assert_eq "won" "$(json_get "$REC" .stage_kind)" "Won is a won stage"
assert_json "$REC" '.stage_history | length == 2' "moving adds a stage_history entry"
assert_json "$REC" '.stage_history | map(select(.from_stage == "Qualified" and .to_stage == "Won")) | length == 1' \
	"the entry records from and to"
expect_ok crm deal move "$DEAL2" --stage proposal
show_json deal "$DEAL2"
assert_eq "Proposal" "$(json_get "$REC" .stage)" "stage names are case-insensitive"

expect_ok crm deal show "$DEAL"
assert_contains "$OUT" "stage_history (2)" "deal show (text) lists stage history"

# ---------------------------------------------------------- activities ----
add_ok activity --kind call --subject "First call" --contact "$PETR" --done
CALL=$NEW_ID
add_ok activity --kind meeting --subject "Demo" --deal "$DEAL" --company "$ACME" --at 2026-03-02T10:00:00Z
MEET=$NEW_ID
show_json activity "$CALL"
assert_eq call "$(json_get "$REC" .kind)" "activity kind"
assert_eq "First call" "$(json_get "$REC" .subject)" "activity subject"
assert_eq 1 "$(json_get "$REC" .done)" "--done marks it done"
assert_eq "$PETR" "$(json_get "$REC" .contact_id)" "activity contact"
assert_match '^[0-9]{4}-[0-9]{2}-[0-9]{2}T' "$(json_get "$REC" .at)" "activity time defaults to now"
show_json activity "$MEET"
assert_eq 0 "$(json_get "$REC" .done)" "not done by default"
assert_eq "2026-03-02T10:00:00Z" "$(json_get "$REC" .at)" "--at kept (UTC)"
list_json activity
assert_eq 2 "$(json_get "$LIST" length)" "two activities listed"

show_json contact "$PETR"
assert_json "$REC" "[.timeline[] | select(.id == \"$CALL\" and .kind == \"call\" and .title == \"First call\")] | length == 1" \
	"the call is on the contact's timeline"
show_json deal "$DEAL"
assert_json "$REC" "[.timeline[] | select(.id == \"$MEET\")] | length == 1" "the meeting is on the deal's timeline"

# --------------------------------------------------------------- tasks ----
add_ok task --title "Send offer" --due 2026-12-01 --assignee alice --deal "$DEAL"
TASK=$NEW_ID
add_ok task --title "Call back" --contact "$PETR" --due 2026-12-02T09:30:00Z
TASK2=$NEW_ID
show_json task "$TASK"
assert_eq alice "$(json_get "$REC" .assignee)" "assignee by login"
assert_eq open "$(json_get "$REC" .status)" "a task starts open"
assert_eq "2026-12-01T00:00:00Z" "$(json_get "$REC" .due)" "a due date becomes a time"
assert_eq "$DEAL" "$(json_get "$REC" .deal_id)" "task deal"
show_json task "$TASK2"
assert_eq alice "$(json_get "$REC" .assignee)" "a task is assigned to me by default"
list_json task
assert_eq 2 "$(json_get "$LIST" length)" "two tasks listed"
expect_ok crm task list
assert_contains "$OUT" "Send offer" "task list (text)"
show_json deal "$DEAL"
assert_json "$REC" "[.timeline[] | select(.id == \"$TASK\" and .kind == \"task\")] | length == 1" "the task is on the deal's timeline"

expect_ok crm task set "$TASK" status=done
show_json task "$TASK"
assert_eq "done" "$(json_get "$REC" .status)" "task status set"
assert_json "$REC" '.status_history | map(.status) | sort == ["done", "open"]' "task status history"

# ----------------------------------------------------------------- set ----
expect_ok crm contact set "$PETR" title=CEO last=Petrov-Vodkin
assert_eq "" "$OUT$ERR" "set is quiet"
show_json contact "$PETR"
assert_eq CEO "$(json_get "$REC" .title)" "set title"
assert_eq Petrov-Vodkin "$(json_get "$REC" .last_name)" "set last name"
assert_eq "Petr" "$(json_get "$REC" .first_name)" "untouched field kept"

expect_ok crm contact set "$PETR" --title "Chief executive"
show_json contact "$PETR"
assert_eq "Chief executive" "$(json_get "$REC" .title)" "set with --field value"

expect_ok crm contact set "$PETR" title=
show_json contact "$PETR"
assert_eq null "$(json_get "$REC" .title)" "title= clears the title (null in JSON)"
assert_json "$REC" 'has("title") and .title == null' "a cleared field is present as null"

expect_ok crm contact set "$PETR" company=
show_json contact "$PETR"
assert_eq null "$(json_get "$REC" .company_id)" "company= clears the link"

expect_ok crm deal set "$DEAL" amount=
show_json deal "$DEAL"
assert_eq null "$(json_get "$REC" .amount)" "amount= clears the amount"
assert_eq null "$(json_get "$REC" .amount_text)" "no amount_text without an amount"
expect_ok crm deal set "$DEAL" amount=99.9
show_json deal "$DEAL"
assert_eq 9990 "$(json_get "$REC" .amount)" "amount set again in the deal's currency (EUR)"
assert_eq "EUR" "$(json_get "$REC" .currency)" "currency kept"

expect_ok crm company set "$GLOBEX" website=
show_json company "$GLOBEX"
assert_eq null "$(json_get "$REC" .website)" "website= clears the website"

expect_ok crm contact set "$PETR" phone=+74959876543
show_json contact "$PETR"
assert_json "$REC" '[.channels[] | select(.kind == "phone")] | map(.normalized) == ["+74959876543"]' \
	"a new phone replaces the old one"

# CLI.md: "a field set to the empty string is cleared" — e-mail and phone are
# fields of a contact too.
expect_ok crm contact set "$PETR" email=
show_json contact "$PETR"
assert_eq null "$(json_get "$REC" .email)" "email= clears the contact's e-mail"
assert_json "$REC" '[.channels[] | select(.kind == "email")] | length == 0' "no e-mail channel left"

expect_ok crm activity set "$CALL" done=no
show_json activity "$CALL"
assert_eq 0 "$(json_get "$REC" .done)" "done=no"

# -------------------------------------------------- delete and restore ----
expect_ok crm contact delete "$ANNA"
assert_eq "" "$OUT$ERR" "delete is quiet"
list_json contact
assert_eq 0 "$(in_list "$ANNA")" "a deleted contact vanishes from the list"
assert_eq 2 "$(json_get "$LIST" length)" "two contacts left"
expect_ok crm contact list
assert_not_contains "$OUT" "$ANNA" "nor is it in the text list"
show_json contact "$ANNA"
assert_eq 1 "$(json_get "$REC" .deleted)" "show says the contact is deleted"
expect_ok crm contact show "$ANNA"
assert_match '(^|'$'\n'')deleted +1($|'$'\n'')' "$OUT" "show (text) says deleted"
expect_fail 1 "deleted" crm contact set "$ANNA" title=X

expect_ok crm contact restore "$ANNA"
list_json contact
assert_eq 1 "$(in_list "$ANNA")" "restore brings the contact back"
show_json contact "$ANNA"
assert_eq 0 "$(json_get "$REC" .deleted)" "restored contact is not deleted"
assert_eq "Anna" "$(json_get "$REC" .first_name)" "restored contact keeps its fields"
assert_eq "$GLOBEX" "$(json_get "$REC" .company_id)" "restored contact keeps its company"

expect_ok crm deal delete "$DEAL2"
list_json deal
assert_eq 0 "$(in_list "$DEAL2")" "a deleted deal vanishes from the list"
show_json company "$GLOBEX"
assert_json "$REC" "[.deals[] | select(.id == \"$DEAL2\")] | length == 0" "nor is it among the company's deals"
expect_ok crm deal restore "$DEAL2"
list_json deal
assert_eq 1 "$(in_list "$DEAL2")" "a restored deal is listed again"

expect_ok crm task delete "$TASK2"
list_json task
assert_eq 0 "$(in_list "$TASK2")" "a deleted task vanishes from the list"
expect_ok crm activity delete "$MEET"
list_json activity
assert_eq 0 "$(in_list "$MEET")" "a deleted activity vanishes from the list"
show_json deal "$DEAL"
assert_json "$REC" "[.timeline[] | select(.id == \"$MEET\")] | length == 0" "nor is it on the deal's timeline"

expect_ok crm company delete "$INITECH"
list_json company
assert_eq 0 "$(in_list "$INITECH")" "a deleted company vanishes from the list"
expect_ok crm company restore "$INITECH"

# ------------------------------------------- a person of several companies ----
# contacts.company_id is the main company; `crm link` adds others with a role.
add_ok link --contact "$IVAN" --company "$GLOBEX" --role "Board member"
LINK=$NEW_ID
show_json contact "$IVAN"
assert_json "$REC" "[.companies[] | select(.id == \"$GLOBEX\" and .role == \"Board member\")] | length == 1" \
	"contact show lists the linked company with its role"
show_json company "$GLOBEX"
assert_json "$REC" "[.contacts[] | select(.id == \"$IVAN\" and .role == \"Board member\")] | length == 1" \
	"company show lists the linked person with the role"
show_json deal "$DEAL"
assert_json "$REC" '.contact == "Petr Petrov-Vodkin"' "deal show names its contact"
H0=$(crm state-hash)
expect_fail 1 "company_id" crm link add --contact "$IVAN"
expect_fail 1 "not a company id" crm link add --contact "$IVAN" --company nope
assert_eq "$H0" "$(crm state-hash)" "refused links change nothing"
expect_ok crm link delete "$LINK"
show_json contact "$IVAN"
assert_json "$REC" "[.companies[] | select(.id == \"$GLOBEX\")] | length == 0" "a deleted link leaves the card"

# Ids are accepted in upper case too.
UPPER=$(printf '%s' "$IVAN" | tr a-f A-F)
expect_ok crm contact show "$UPPER" --json
assert_eq "$IVAN" "$(json_get "$OUT" .id)" "an upper-case id finds the record"

finish
