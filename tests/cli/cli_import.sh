#!/usr/bin/env bash
# cli_import.sh — `crm import` and `crm export` on the files people really
# have (tests/fixtures/import/): a Windows-1251 semicolon CSV with Russian
# headers, Google and Outlook CSV, Excel "Unicode text", a multi-card vCard
# 2.1/3.0/4.0 with folded quoted-printable lines, deals and leads; broken
# files that name the place and change nothing; all or nothing and
# --skip-bad; duplicates; export → import round trips; imports replicate.
. "$(dirname "$0")/lib.sh"

FIX="$(cd "$(dirname "$0")/../fixtures/import" && pwd)"

# snapshot — every live contact with its channels, sorted: what must survive
# an export → import round trip (ids and clocks aside).
snapshot_contacts()
{
	local id
	run crm contact list --json
	for id in $(json_get "$OUT" '.[].id'); do
		crm contact show "$id" --json | jq -c '{first_name, last_name, title, birthday, next_contact,
			company, channels: ([.channels[] | .kind + ":" + .value] | sort)}'
	done | sort
}

snapshot_companies()
{
	local id
	run crm company list --json
	for id in $(json_get "$OUT" '.[].id'); do
		crm company show "$id" --json | jq -c '{name, tax_id, industry, website, address,
			channels: ([.channels[] | .kind + ":" + .value] | sort)}'
	done | sort
}

# fails_unchanged CODE 'message' ARGS... — import fails with one line naming
# the place, and the replicated state is exactly what it was.
fails_unchanged()
{
	local code=$1 want=$2 before
	shift 2
	before=$(crm state-hash)
	expect_fail "$code" "$want" crm import "$@"
	assert_eq "$before" "$(crm state-hash)" "state-hash unchanged after: import $*"
}

expect_ok crm init --name "Branch laptop" --user alice
EMPTY=$(crm state-hash)

# ------------------------------------------- Windows-1251, ';', Russian ----
expect_ok crm import "$FIX/contacts_1251.csv" --dry-run --json
assert_json "$OUT" '.encoding == "windows-1251" and .delimiter == ";" and .entity == "contact"' \
	"1251 file: encoding, delimiter and entity detected"
assert_json "$OUT" '.dry_run and .created == 4 and .companies_created == 3 and (.actions | length) == 4' \
	"dry run counts what it would create"
assert_json "$OUT" '.unmapped == ["КПП"]' "the unmapped column is reported"
assert_json "$OUT" '[.columns[] | select(.column == "Имя") | .field] == ["first_name"] and
	([.columns[] | select(.column == "Дата рождения") | .field] == ["birthday"])' "Russian headers mapped"
assert_eq "$EMPTY" "$(crm state-hash)" "a dry run writes nothing"

expect_ok crm import "$FIX/contacts_1251.csv"
assert_contains "$OUT" "created 4" "text report"
assert_contains "$OUT" "КПП" "text report names the unmapped column"
assert_eq "" "$ERR" "no progress bar when stderr is not a terminal"
if command -v script >/dev/null 2>&1; then
	use_replica tty
	expect_ok crm init --name tty
	run script -qec "$(printf '%q ' "$CRM_BIN" --data "$DATA" import "$FIX/google.csv") >/dev/null" "$TEST_DIR/tty.log"
	assert_contains "$(cat "$TEST_DIR/tty.log")" "importing [" "a progress bar on a terminal"
	use_replica data
fi
expect_ok crm contact list --json
assert_eq 4 "$(json_get "$OUT" length)" "four contacts"
assert_json "$OUT" '[.[] | select(.last_name == "Петрова")][0] | .first_name == "Мария Сергеевна" and
	.company == "ООО \"Ромашка\"" and .email == "m.petrova@romashka.ru"' "quoted field with doubled quotes; patronymic kept"
PETROVA=$(json_get "$OUT" '.[] | select(.last_name == "Петрова") | .id')
expect_ok crm contact show "$PETROVA" --json
assert_eq "1982-11-03" "$(json_get "$OUT" .birthday)" "DD.MM.YYYY birthday"
assert_eq "Главный бухгалтер" "$(json_get "$OUT" .title)" "Должность → title"
assert_json "$OUT" '[.channels[] | select(.kind == "phone") | .normalized] == ["+79165555234"] or
	[.channels[] | select(.kind == "phone") | .normalized] == ["+79165551234"]' "phone normalized"
expect_ok crm company list --json
assert_eq 3 "$(json_get "$OUT" length)" "contacts linked to three companies (one shared by tax id)"
assert_json "$OUT" '[.[] | select(.tax_id == "7701234567")] | length == 1' "one ООО Ромашка"
expect_ok crm note list --json
assert_json "$OUT" '[.[] | select(.body | test("первая строка\nвторая строка"))] | length == 1' \
	"a multi-line quoted comment becomes a note"

expect_ok crm import "$FIX/contacts_1251.csv" --json
assert_json "$OUT" '.created == 0 and .updated == 0 and .unchanged == 4 and .companies_created == 0' \
	"importing the same file again changes nothing"

# ---------------------------------------------------- Google and Outlook ----
expect_ok crm import "$FIX/google.csv" --json
assert_json "$OUT" '.encoding == "utf-8" and .delimiter == "," and .created == 3' "Google CSV"
assert_json "$OUT" '.warnings | length == 1 and (.[0] | test("google.csv:5: column Birthday: .--07-04. has no year"))' \
	"a birthday without a year is a warning naming the place"
run crm search jane.doe@acme.example --json
JANE=$(json_get "$OUT" '.[0].id')
expect_ok crm contact show "$JANE" --json
assert_json "$OUT" '.title == "VP Sales" and .birthday == "1985-04-12" and .company == "Acme, Inc."' "Google fields"
assert_json "$OUT" '[.channels[] | select(.kind == "phone") | .normalized] | sort ==
	["+14155550100", "+14155550101", "+14155550132"]' "Google ' ::: ' multi-values split"
assert_json "$OUT" '[.channels[] | select(.kind == "email")] | length == 2' "two Google e-mail columns"

expect_ok crm import "$FIX/outlook.csv" --json
assert_json "$OUT" '.created == 2 and (.unmapped | index("Title")) != null and (.unmapped | index("E-mail Type")) != null' \
	"Outlook CSV: Title (Mr.) and E-mail Type are reported, not imported"
run crm search rsmith@initech.example --json
expect_ok crm contact show "$(json_get "$OUT" '.[0].id')" --json
assert_json "$OUT" '.title == "Project Manager" and .birthday == "1979-03-15" and .company == "Initech"' \
	"Outlook Job Title and M/D/YYYY birthday"
assert_json "$OUT" '[.channels[] | select(.kind == "phone")] | length == 2' "Business and Mobile phone, not the fax"
run crm search milton@initech.example --json
expect_ok crm contact show "$(json_get "$OUT" '.[0].id')" --json
assert_eq null "$(json_get "$OUT" .birthday)" "Outlook's 0/0/00 means no birthday"

# ------------------------------------------------ Excel "Unicode text" ----
expect_ok crm import "$FIX/companies_utf16.txt" --json
assert_json "$OUT" '.encoding == "utf-16le" and .delimiter == "tab" and .entity == "company"' \
	"UTF-16LE tab-separated company list detected"
assert_json "$OUT" '.created == 1 and .updated == 2' "companies with a known tax id are updated, not doubled"
expect_ok crm company list --json
assert_json "$OUT" '[.[] | select(.tax_id == "7701234567")][0] | .industry == "Оптовая торговля" and
	.website == "romashka.ru" and .address == "г. Москва, ул. Тверская, д. 1"' "update filled the company's fields"
assert_json "$OUT" '[.[] | select(.name == "Müller GmbH")] | length == 1' "non-Russian text in UTF-16"

# -------------------------------------------------------------- vCard ----
expect_ok crm import "$FIX/contacts.vcf" --json
assert_json "$OUT" '.format == "vcard" and .created == 4 and .rejected == 0' "four cards of three versions"
assert_json "$OUT" '.unmapped | sort == ["X-ABADR", "X-SOCIALPROFILE"]' "ignored properties reported"
run crm search kuznetsov@example.ru --json
expect_ok crm contact show "$(json_get "$OUT" '.[0].id')" --json
assert_json "$OUT" '.first_name == "Дмитрий" and .last_name == "Кузнецов" and .company == "ООО \"Ромашка\""' \
	"2.1 UTF-8 quoted-printable N and ORG; linked to the existing company"
assert_json "$OUT" '[.channels[] | select(.kind == "phone")] | length == 2' "two TEL"
expect_ok crm note list --json
assert_json "$OUT" '[.[] | select(.body == "Длинная заметка, которая переносится\nна новую строку; звонить до обеда")] | length == 1' \
	"folded quoted-printable NOTE decoded across soft line breaks"
assert_json "$OUT" '[.[] | select(.body == "Address (work): Невский пр., д. 10, офис 5, Санкт-Петербург, 191025, Россия")] | length == 1' \
	"Windows-1251 quoted-printable ADR, indented soft breaks"
run crm search a.sokolova@vector.spb.ru --json
expect_ok crm contact show "$(json_get "$OUT" '.[0].id')" --json
assert_json "$OUT" '.title == "Руководитель отдела продаж" and .birthday == "1986-07-23" and .company == "АО \"Вектор\""' \
	"2.1 CHARSET=WINDOWS-1251"
run crm search johnny@acme.example --json
expect_ok crm contact show "$(json_get "$OUT" '.[0].id')" --json
assert_json "$OUT" '.title == "Senior Engineer, Platform" and .company == "Acme, Inc."' "3.0 escaped commas"
assert_json "$OUT" '[.channels[] | select(.kind == "email")] | length == 2' "3.0 two EMAIL"
run crm search emilie.durand@cafe.example --json
expect_ok crm contact show "$(json_get "$OUT" '.[0].id')" --json
assert_json "$OUT" '.first_name == "Émilie" and .birthday == "1990-01-31" and
	([.channels[] | select(.kind == "phone") | .normalized] == ["+33612345678"])' "4.0 tel: URI and basic date"

# ------------------------------------------------------- deals, leads ----
expect_ok crm import "$FIX/deals.csv" --json
assert_json "$OUT" '.entity == "deal" and .created == 3 and .companies_created == 0' "deals linked by name or tax id"
expect_ok crm deal list --json
assert_json "$OUT" '[.[] | select(.title == "Поставка оборудования")][0] | .amount == 125000050 and .stage == "Proposal"
	and .company == "ООО \"Ромашка\"" and .probability == 60 and .expected_close == "2026-12-30"' "deal by name, '1 250 000,50'"
assert_json "$OUT" '[.[] | select(.title == "Сервисный контракт")][0] | .company == "АО \"Вектор\""' "deal by tax id only"
assert_json "$OUT" '[.[] | select(.title == "Pilot")][0] | .currency == "EUR" and .amount == 1250000' "EUR deal"
expect_ok crm import "$FIX/leads.csv" --json
assert_json "$OUT" '.entity == "lead" and .created == 2' "a lead list is recognised by its Lead Source column"
expect_ok crm lead list --json
assert_json "$OUT" '[.[] | select(.email == "karen@nm.example")][0] | .first_name == "Karen" and
	.company_name == "Nelson & Murdock" and .status == "working" and .source == "Website"' "lead fields"

# ------------------------------------------------------ broken files ----
fails_unchanged 1 "broken_utf8.csv:3: byte 0xE9" "$FIX/broken_utf8.csv"
fails_unchanged 1 "truncated_utf16.txt:3: the file ends in the middle of a UTF-16LE character" "$FIX/truncated_utf16.txt"
fails_unchanged 1 "unbalanced_quote.csv:3: unbalanced quote" "$FIX/unbalanced_quote.csv"
fails_unchanged 1 "wrong_columns.csv:4: 5 columns, but the header on line 1 has 4" "$FIX/wrong_columns.csv"
fails_unchanged 1 "no_end.vcf:7: the vCard that starts here has no END:VCARD" "$FIX/no_end.vcf"
fails_unchanged 1 "truncated.vcf:6: the vCard that starts here has no END:VCARD" "$FIX/truncated.vcf"
fails_unchanged 1 "contacts_1251.csv:1: byte 0xD4" "$FIX/contacts_1251.csv" --encoding utf-8
fails_unchanged 1 "no file" "$TEST_DIR/nothing.csv"
printf '' >"$TEST_DIR/empty.csv"
fails_unchanged 1 "empty" "$TEST_DIR/empty.csv"

# ---------------------------------------------------- all or nothing ----
N_BEFORE=$(crm contact list --json | jq length)
fails_unchanged 1 "bad_values.csv:3: column E-mail: invalid e-mail address 'boris@@example.ru'" "$FIX/bad_values.csv"
assert_eq "$N_BEFORE" "$(crm contact list --json | jq length)" "the good rows before the bad one were not written"
expect_ok crm import "$FIX/bad_values.csv" --dry-run --skip-bad --json
assert_json "$OUT" '.created == 3 and .rejected == 2' "dry run with --skip-bad counts both"
expect_ok crm import "$FIX/bad_values.csv" --skip-bad --rejects "$TEST_DIR/rejects.csv" --json
assert_json "$OUT" '.created == 3 and .rejected == 2 and ([.rejects[].line] == [3, 5])' "--skip-bad writes the good rows"
assert_json "$OUT" '.rejects[1].error | test("bad_values.csv:5: column Дата рождения: .31.02.1985. is not a date")' \
	"the impossible date names its column"
assert_eq $((N_BEFORE + 3)) "$(crm contact list --json | jq length)" "three contacts written"
assert_eq 3 "$(wc -l <"$TEST_DIR/rejects.csv" | tr -d ' ')" "rejects file: header and two rows"
assert_contains "$(head -n 1 "$TEST_DIR/rejects.csv")" '"Имя";"Фамилия";"E-mail";"Телефон";"Дата рождения";"error"' \
	"rejects file keeps the header and adds an error column"
assert_contains "$(cat "$TEST_DIR/rejects.csv")" '"boris@@example.ru"' "rejects file holds the bad row"
expect_ok crm import "$TEST_DIR/rejects.csv" --dry-run --skip-bad --json
assert_json "$OUT" '.rejected == 2 and (.unmapped == ["error"])' "a rejects file can be fixed and imported again"

# A record that fails after its company was written leaves nothing behind.
printf 'first_name,company,birthday\nAnna,Fresh Company,1990-01-01\nBob,Another New Co,1990-13-45\n' >"$TEST_DIR/late.csv"
expect_ok crm import "$TEST_DIR/late.csv" --skip-bad --json
assert_json "$OUT" '.created == 1 and .rejected == 1 and .companies_created == 1' "late failure rejected"
expect_ok crm company list --search "Another" --json
assert_eq 0 "$(json_get "$OUT" length)" "the rejected record's company was not kept"

# ---------------------------------------------- duplicates on import ----
run crm contact add --first Anna --last Smith --email anna@example.com --phone "+1 212 555 0100"
ANNA=$OUT
printf 'First Name,Last Name,E-mail,Phone,Job Title\nAnna,Smith,"Anna Smith <ANNA@Example.com>",+1 212 555 0199,CEO\nBob,Jones,bob@example.com,+1 (212) 555-0100,\nAnna,Smith,,,Intern\n' \
	>"$TEST_DIR/dups.csv"
expect_ok crm import "$TEST_DIR/dups.csv" --dry-run --json
assert_json "$OUT" '.created == 2 and .updated == 1 and .suggested == 2' "dry run: created, updated, suggested"
assert_json "$OUT" "[.actions[] | select(.action == \"update\" and .id == \"$ANNA\")] | length == 1" \
	"dry run names the record it would update"
assert_json "$OUT" '[.actions[] | .suggestion // empty] | sort == ["same name Anna Smith", "same phone +12125550100"]' \
	"dry run says why a record is a suggested duplicate"
expect_ok crm import "$TEST_DIR/dups.csv"
assert_contains "$OUT" "crm duplicates" "the report points at crm duplicates"
expect_ok crm contact show "$ANNA" --json
assert_eq CEO "$(json_get "$OUT" .title)" "same e-mail: the existing contact is updated"
assert_json "$OUT" '[.channels[] | select(.kind == "phone") | .normalized] | sort == ["+12125550100", "+12125550199"]' \
	"its phone is kept and the new one added"
expect_ok crm duplicates --json
assert_json "$OUT" "[.[] | select(.id == \"$ANNA\" or .other_id == \"$ANNA\") | .reason] | sort == [\"same name Anna Smith\", \"same phone +12125550100\"]" \
	"weaker matches appear in crm duplicates"

# ------------------------------------------------ --map, --require ----
printf 'Full name;Mail;Firm;Extra\nIvan Petrov;ivan@petrov.example;Petrov & Sons;x\n' >"$TEST_DIR/custom.csv"
expect_ok crm import "$TEST_DIR/custom.csv" --dry-run --json
assert_json "$OUT" '.unmapped == ["Firm", "Extra"]' "unknown columns reported"
expect_ok crm import "$TEST_DIR/custom.csv" --map "Firm=company" --map "Extra=" --json
assert_json "$OUT" '.created == 1 and .unmapped == [] and .companies_created == 1' "--map names and ignores columns"
run crm search ivan@petrov.example --json
expect_ok crm contact show "$(json_get "$OUT" '.[0].id')" --json
assert_json "$OUT" '.first_name == "Ivan" and .last_name == "Petrov" and .company == "Petrov & Sons"' "full name split"
fails_unchanged 1 "no column 'Nope'" "$TEST_DIR/custom.csv" --map "Nope=title"
fails_unchanged 2 "a contact has no import field 'salary'" "$TEST_DIR/custom.csv" --map "Extra=salary"
printf 'Название;ИНН\nООО Без ИНН;\n' >"$TEST_DIR/noinn.csv"
fails_unchanged 1 "noinn.csv:2: column ИНН: empty, but --require names tax_id" "$TEST_DIR/noinn.csv" --require tax_id
fails_unchanged 1 "--require email, but no column maps to it" "$TEST_DIR/noinn.csv" --require email
expect_ok crm import "$TEST_DIR/noinn.csv" --entity company --json
assert_json "$OUT" '.created == 1' "without --require a company needs no tax id"

# ----------------------------------------------------- usage errors ----
fails_unchanged 2 "import contact, company, deal or lead" "$FIX/google.csv" --entity task
fails_unchanged 2 "--delimiter" "$FIX/google.csv" --delimiter "|"
fails_unchanged 2 "--rejects goes with --skip-bad" "$FIX/google.csv" --rejects "$TEST_DIR/r.csv"
fails_unchanged 2 "not deals" "$FIX/contacts.vcf" --entity deal
fails_unchanged 2 "--map applies to CSV" "$FIX/contacts.vcf" --map "FN=title"
fails_unchanged 2 "unknown encoding" "$FIX/google.csv" --encoding ebcdic
expect_fail 2 "name the FILE" crm import
expect_fail 2 "contacts, companies or deals" crm export
expect_fail 2 "deals are exported as CSV only" crm export deals --format vcf
expect_fail 2 "--vcard is 3.0 or 4.0" crm export contacts --format vcf --vcard 2.1
expect_fail 2 "cannot export 'tasks'" crm export tasks
expect_ok crm import --help
assert_contains "$OUT" "usage: crm import" "import --help"
expect_ok crm export --help
assert_contains "$OUT" "usage: crm export" "export --help"

# -------------------------------------------------------------- export ----
expect_ok crm export contacts --format csv --bom --out "$TEST_DIR/c.csv"
assert_contains "$OUT" "exported" "export --out reports"
assert_eq "efbbbf" "$(head -c 3 "$TEST_DIR/c.csv" | od -An -tx1 | tr -d ' \n')" "--bom writes a UTF-8 BOM"
expect_ok crm export contacts --format csv
assert_eq '"id","first_name","last_name","title","birthday","company","company_tax_id","email","phone","next_contact","owner"' \
	"$(printf '%s\n' "$OUT" | head -n 1 | tr -d '\r')" "plain CSV header: the import field names"
expect_ok crm export contacts --format vcf --vcard 4.0
assert_contains "$OUT" "VERSION:4.0" "vCard 4.0"
assert_contains "$OUT" "ORG:Acme\\, Inc." "vCard escapes commas"
assert_eq 0 "$(printf '%s\n' "$OUT" | awk 'length($0) > 76' | wc -l | tr -d ' ')" "vCard lines folded at 75 octets"

SRC_CONTACTS=$(snapshot_contacts)
SRC_COMPANIES=$(snapshot_companies)
for fmt in csv:3.0 vcf:3.0 vcf:4.0; do
	f=${fmt%%:*}
	v=${fmt##*:}
	use_replica data
	expect_ok crm export companies --format "$f" --vcard "$v" --out "$TEST_DIR/rt-co.$f"
	expect_ok crm export contacts --format "$f" --vcard "$v" --out "$TEST_DIR/rt.$f"
	use_replica "fresh-$f-$v"
	expect_ok crm init --name "Fresh $f $v" --user alice
	expect_ok crm import "$TEST_DIR/rt-co.$f"
	expect_ok crm import "$TEST_DIR/rt.$f"
	assert_eq "$SRC_COMPANIES" "$(snapshot_companies)" "companies round trip through $f $v"
	assert_eq "$SRC_CONTACTS" "$(snapshot_contacts)" "contacts round trip through $f $v"
	use_replica data
	expect_ok crm import "$TEST_DIR/rt.$f" --json
	assert_json "$OUT" '.created == 0 and .updated == 0 and .unchanged == .records' \
		"the export imported back where it came from matches every record by id ($f $v)"
done
use_replica data
expect_ok crm export deals --out "$TEST_DIR/deals.csv"
SRC_DEALS=$(crm deal list --json | jq -c '[.[] | {title, company, stage, amount, currency, probability, expected_close, source}] | sort_by(.title)')
use_replica fresh-csv-3.0
expect_ok crm import "$TEST_DIR/deals.csv" --json
assert_json "$OUT" '.entity == "deal" and .created == 3' "deals import back"
assert_eq "$SRC_DEALS" "$(crm deal list --json | jq -c '[.[] | {title, company, stage, amount, currency, probability, expected_close, source}] | sort_by(.title)')" \
	"deals round trip through CSV"

# -------------------------------------------------- imports replicate ----
use_replica a
expect_ok crm init --name anna
run crm whoami --json; KEY_A=$(json_get "$OUT" .public_key)
use_replica b
expect_ok crm init --name boris
run crm whoami --json; KEY_B=$(json_get "$OUT" .public_key)
expect_ok crm trust add "$KEY_A"
use_replica a
expect_ok crm trust add "$KEY_B"
expect_ok crm import "$FIX/contacts.vcf"
expect_ok crm import "$FIX/contacts_1251.csv"
expect_ok crm export-changes "$TEST_DIR/a.bcf"
use_replica b
expect_ok crm import-changes "$TEST_DIR/a.bcf"
expect_ok crm export-changes "$TEST_DIR/b.bcf"
expect_ok crm contact list --json
assert_eq 8 "$(json_get "$OUT" length)" "the imported contacts reached the other node"
use_replica a
expect_ok crm import-changes "$TEST_DIR/b.bcf"
HASH_A=$(crm state-hash)
use_replica b
assert_eq "$HASH_A" "$(crm state-hash)" "an import replicates like any edit: equal state hashes"

# ------------------------------------ the search index after a bulk import ----
# An import indexes the rows it adds at its end (node/bulk.c); rows that were
# there before keep their index through the import's updates.
use_replica fts
expect_ok crm init --name fts --user alice
expect_ok crm contact add --first Zinaida --last Quorrel --title Welder --email zq@old.example --json
OLD=$(json_get "$OUT" '.id')
printf 'First Name,Last Name,Job Title,E-mail Address,Mobile Phone\r\nZinaida,Quorrel,Glassblower,zq@old.example,\r\nYaroslav,Plinth,Cooper,yp@new.example,+7 916 123-45-67\r\nYaroslav,Plinth,Tanner,yp@new.example,\r\n' >"$TEST_DIR/fts.csv"
expect_ok crm import "$TEST_DIR/fts.csv" --json
assert_json "$OUT" '.created == 1 and .updated == 2' "the existing contact and the new one updated by a later line"
run crm search Glassblower --json
assert_json "$OUT" "[.[].id] == [\"$OLD\"]" "an existing contact is found by the title the import gave it"
run crm search Welder --json
assert_json "$OUT" 'length == 0' "and no longer by its old title"
run crm search Tanner --json
assert_json "$OUT" 'length == 1' "an added contact is found by its final title"
run crm search Cooper --json
assert_json "$OUT" 'length == 0' "not by the value a later line replaced"
run crm search 1234567 --json
assert_json "$OUT" 'length == 1' "an added phone is found by its digits"
expect_ok crm contact add --first Xenia --last Plinth --json
run crm search Plinth --json
assert_json "$OUT" 'length == 2' "indexing by trigger is back after the import"
printf 'First Name,Last Name,E-mail Address\r\nWanda,Nothere,not-an-email\r\n' >"$TEST_DIR/fts_bad.csv"
expect_fail 1 "not-an-email" crm import "$TEST_DIR/fts_bad.csv"
expect_ok crm contact add --first Vera --last Plinth
run crm search Plinth --json
assert_json "$OUT" 'length == 3' "a failed import leaves indexing by trigger in place"

finish
