#!/usr/bin/env bash
# cli_config.sh — `crm config`: the settings a person may change on a
# replica (node/config.h), what refuses a bad value, and what the settings
# change: the board's stale days and the import's required fields.
. "$(dirname "$0")/lib.sh"

expect_ok crm init --name "Branch desk" --branch MSK

# ------------------------------------------------------------- listing ----
expect_ok crm config --json
assert_json "$OUT" '[.[] | .key] == ["stale_days", "import.require.company", "import.require.contact",
	"import.require.deal", "import.require.lead"]' "config lists the known settings"
assert_json "$OUT" '.[0].value == null and .[0].default == "14"' "stale_days is unset, default 14"
expect_ok crm config
assert_contains "$OUT" "import.require.company" "config (text) is a table of the settings"

# ------------------------------------------------- bad values change nothing --
H0=$(crm state-hash)
expect_fail 1 "1 to 3650" crm config set stale_days 0
expect_fail 1 "1 to 3650" crm config set stale_days 12x
expect_fail 1 "no setting 'colour'" crm config set colour blue
expect_fail 1 "no import field 'bogus'" crm config set import.require.company bogus
expect_fail 1 "at least one field" crm config set import.require.company " , "
expect_fail 2 "KEY VALUE" crm config set stale_days
expect_fail 2 "unknown 'config frobnicate'" crm config frobnicate
expect_ok crm config --json
assert_json "$OUT" 'all(.[]; .value == null)' "refused values stored nothing"
assert_eq "$H0" "$(crm state-hash)" "settings are local: the replicated state is unchanged"

# ------------------------------------------------------------ stale days ----
expect_ok crm board --json
assert_json "$OUT" '.stale_days == 14' "the board uses the default stale days"
expect_ok crm config set stale_days 30
expect_ok crm board --json
assert_json "$OUT" '.stale_days == 30' "the board uses the setting"
expect_ok crm config unset stale_days
expect_ok crm board --json
assert_json "$OUT" '.stale_days == 14' "unset goes back to the default"

# ---------------------------------------------- required fields on import ----
CSV="$TEST_DIR/companies.csv"
printf 'Name,INN,Website\nAcme Trading,7701234567,acme.example\nBeta Foods,,beta.example\n' > "$CSV"
expect_ok crm config set import.require.company "tax-id"
expect_ok crm config --json
assert_json "$OUT" '.[] | select(.key == "import.require.company") | .value == "tax_id"' \
	"the rule is stored with canonical field names"
H1=$(crm state-hash)
expect_fail 1 "companies.csv:3: no tax_id, which every imported company must have here" \
	crm import "$CSV" --entity company
assert_eq "$H1" "$(crm state-hash)" "a file breaking the rule writes nothing"
expect_ok crm import "$CSV" --entity company --skip-bad --json
assert_json "$OUT" '.created == 1 and (.rejects | length) == 1 and .rejects[0].line == 3' \
	"--skip-bad writes the good row and rejects the one without a tax id"
expect_ok crm company list --json
assert_json "$OUT" '[.[] | .name] == ["Acme Trading"]' "only the company with a tax id was imported"

# The rule is per kind of record: contacts are not affected by it.
printf 'First Name,Last Name\nIvan,Petrov\n' > "$TEST_DIR/people.csv"
expect_ok crm import "$TEST_DIR/people.csv" --entity contact --json
assert_json "$OUT" '.created == 1' "a contact import ignores the company rule"
expect_ok crm config unset import.require.company
expect_ok crm import "$CSV" --entity company --json
assert_json "$OUT" '.created == 1' "without the rule the company without tax id imports"

finish
