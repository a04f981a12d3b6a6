#!/usr/bin/env bash
# cli_search.sh — `crm search` and `crm ENTITY list --search` find what a
# person types: phones typed any way, parts of e-mails, name prefixes in any
# case and script, companies by tax id.
. "$(dirname "$0")/lib.sh"

# search_json QUERY — `crm search QUERY --json` into FOUND (an array).
search_json()
{
	FOUND="[]"
	expect_ok crm search "$1" --json || return 1
	FOUND=$OUT
	assert_json "$FOUND" 'type == "array" and all(.[]; (.id | type) == "string")' \
		"search '$1' --json is an array of objects with id"
}

# finds QUERY ID [ENTITY] — the search for QUERY returns ID (as ENTITY).
finds()
{
	search_json "$1" || return 1
	local ent=${3:-}
	assert_json "$FOUND" "[.[] | select(.id == \"$2\"${ent:+ and .entity == \"$ent\"})] | length == 1" \
		"search '$1' finds $2${ent:+ ($ent)}"
}

# misses QUERY ID — the search for QUERY does not return ID.
misses()
{
	search_json "$1" || return 1
	assert_json "$FOUND" "[.[] | select(.id == \"$2\")] | length == 0" "search '$1' does not find $2"
}

add()
{
	expect_ok crm "$@"
	NEW_ID=$OUT
}

expect_ok crm init --name "Search node" --user alice

add company add --name "Acme Trading" --tax-id 7701234567 --email office@acme-trading.example
ACME=$NEW_ID
add company add --name "Рога и копыта" --tax-id 5009876543
ROGA=$NEW_ID
add contact add --first Sergey --last Petrov --company "$ACME" \
	--phone "+7 (916) 555-12-34" --email Sergey.Petrov@Acme-Trading.example
PETROV=$NEW_ID
add contact add --first "Иван" --last "Петров" --phone "8 (495) 111-22-33"
IVAN=$NEW_ID
add contact add --first Olga --last Smirnova --email olga@example.org --phone "+7 903 000-00-01"
OLGA=$NEW_ID
add deal add --title "Acme warehouse automation" --company "$ACME"
DEAL=$NEW_ID

# --------------------------------------------------------------- phones ----
# Stored "+7 (916) 555-12-34": typed in national format, without punctuation,
# international, or only the subscriber's digits.
for q in "8 916 5551234" "89165551234" "5551234" "+7 916 555 12 34" "+79165551234" \
	 "7 916 555-12-34" "(916) 555-12-34" "916-555-12-34" "555-12-34"; do
	finds "$q" "$PETROV" contact
done
# Stored in national format "8 (495) …", found in international form.
finds "+7 495 111 22 33" "$IVAN" contact
finds "84951112233" "$IVAN" contact
misses "5551234" "$OLGA"
misses "89165551235" "$PETROV"

# --------------------------------------------------------------- e-mail ----
finds "sergey.petrov@acme-trading.example" "$PETROV" contact
finds "Sergey.Petrov@ACME-trading.example" "$PETROV" contact
finds "petrov@" "$PETROV" contact
finds "@acme-trading" "$PETROV" contact
finds "@acme-trading" "$ACME" company
finds "olga@" "$OLGA" contact
misses "olga@" "$PETROV"

# ---------------------------------------------------------------- names ----
finds "petr" "$PETROV" contact
finds "PETR" "$PETROV" contact
finds "Petrov" "$PETROV" contact
finds "serg" "$PETROV" contact
finds "Sergey Petrov" "$PETROV" contact
misses "Sergey Smirnova" "$PETROV"
misses "petrova" "$PETROV"
finds "Петр" "$IVAN" contact
finds "петр" "$IVAN" contact
finds "ПЕТРОВ" "$IVAN" contact
finds "Иван" "$IVAN" contact
misses "Петр" "$PETROV"
finds "acme" "$ACME" company
finds "acme" "$DEAL" deal
finds "warehouse" "$DEAL" deal
finds "рога" "$ROGA" company

# The text table has the same hits.
expect_ok crm search petr
assert_contains "$OUT" "$PETROV" "search (text) shows the id"
assert_contains "$OUT" "Sergey Petrov" "search (text) shows the name"

# ------------------------------------------------------------- tax ids ----
finds "7701234567" "$ACME" company
finds "5009876543" "$ROGA" company
expect_ok crm company list --search 7701234567 --json
assert_json "$OUT" "map(.id) == [\"$ACME\"]" "company list --search by tax id"

# ------------------------------------------------------- list --search ----
expect_ok crm contact list --search petr --json
assert_json "$OUT" "map(.id) == [\"$PETROV\"]" "contact list --search petr"
expect_ok crm contact list --search "петр" --json
assert_json "$OUT" "map(.id) == [\"$IVAN\"]" "contact list --search петр"
expect_ok crm company list --search acme --json
assert_json "$OUT" "map(.id) == [\"$ACME\"]" "company list --search acme"
expect_ok crm deal list --search warehouse --json
assert_json "$OUT" "map(.id) == [\"$DEAL\"]" "deal list --search warehouse"
expect_ok crm contact list --search nobody --json
assert_eq "[]" "$OUT" "no match is an empty array"
expect_ok crm contact list --search petr
assert_contains "$OUT" "Petrov" "list --search (text)"
assert_not_contains "$OUT" "Smirnova" "list --search (text) shows only matches"

# ------------------------------------------------- deleted are not found ----
expect_ok crm contact delete "$PETROV"
misses "petr" "$PETROV"
misses "5551234" "$PETROV"
misses "petrov@" "$PETROV"
expect_ok crm contact list --search petr --json
assert_eq "[]" "$OUT" "list --search skips deleted records"
expect_ok crm contact restore "$PETROV"
finds "petr" "$PETROV" contact
finds "5551234" "$PETROV" contact

# Renaming updates the index.
expect_ok crm contact set "$OLGA" last=Kuznetsova
finds "kuzn" "$OLGA" contact
misses "smirnova" "$OLGA"

# Nothing found is an empty array, not an error.
search_json "zzzzqqq"
assert_eq "[]" "$FOUND" "no hits"
# Quotes and FTS syntax in the query are text, not syntax.
expect_ok crm search 'petr"' --json
expect_ok crm search 'AND OR NOT' --json
expect_ok crm search 'petr*' --json

# A merged-away record's name finds its group's survivor (the lowest id of
# the group, whatever order `crm merge` names them in); the merged-away record
# itself is never listed.
expect_ok crm contact add --first Bobby --last Quillfeather --title Buyer --json
BOBBY=$(json_get "$OUT" .id)
expect_ok crm contact add --first Robert --last Quillfeather --title "Head of buying" --json
ROBERT=$(json_get "$OUT" .id)
expect_ok crm merge "$ROBERT" "$BOBBY"
expect_ok crm contact show "$BOBBY" --json
SURV=$(json_get "$OUT" .id)
if [ "$SURV" = "$BOBBY" ]; then GONE=$ROBERT; GONE_FIRST=robert; else GONE=$BOBBY; GONE_FIRST=bobby; fi
finds "$GONE_FIRST" "$SURV" contact
misses "$GONE_FIRST" "$GONE"
expect_ok crm contact list --json
SURV_NAME="$(echo "$OUT" | jq -r ".[] | select(.id == \"$SURV\") | .first_name") Quillfeather"
search_json "$GONE_FIRST"
assert_json "$FOUND" "[.[] | select(.title == \"$SURV_NAME\")] | length == 1" \
	"a hit through a merged-away name shows the survivor's name, as the list does"
search_json "quillfeather"
assert_json "$FOUND" '[.[] | select(.entity == "contact")] | length == 1' "a group is found once"
expect_ok crm merge --undo "$ROBERT" "$BOBBY"
finds "$GONE_FIRST" "$GONE" contact
misses "$GONE_FIRST" "$SURV"
expect_ok crm company add --name "Northwind Trading" --json
NW=$(json_get "$OUT" .id)
expect_ok crm company add --name "Nordvind LLC" --json
NV=$(json_get "$OUT" .id)
expect_ok crm merge "$NW" "$NV"
expect_ok crm company show "$NV" --json
CSURV=$(json_get "$OUT" .id)
finds "nordvind" "$CSURV" company
finds "northwind" "$CSURV" company
expect_ok crm company delete "$CSURV"
misses "nordvind" "$NW"
misses "nordvind" "$NV"

finish
