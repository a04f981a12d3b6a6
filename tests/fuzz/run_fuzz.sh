#!/usr/bin/env bash
# run_fuzz.sh BIN SECONDS SEED... — run one libFuzzer target for a bounded
# time from a fresh corpus, as a ctest test.  A SEED is a directory (its
# files are copied in) or a keyword that makes seeds with the real `crm`
# ($CRM_BIN): "changefile" (a signed change file from export-changes),
# "token" (a join token and an OpenSSH key line).  CRM_FUZZ_SECONDS
# overrides SECONDS (a long run); a crash leaves its input in
# $CRM_FUZZ_ARTIFACTS (default: the temp dir, printed) and fails the test.
# The mutation seed is fixed (CRM_FUZZ_SEED, default 1) so that a CI run
# explores the same inputs every time; set another seed to explore more.
set -euo pipefail
bin=$1 seconds=${CRM_FUZZ_SECONDS:-$2}
shift 2
work=$(mktemp -d "${TMPDIR:-/tmp}/crm_fuzz_run.XXXXXX")
trap 'rm -rf "$work"' EXIT
corpus="$work/corpus"
artifacts=${CRM_FUZZ_ARTIFACTS:-$work/artifacts}
mkdir -p "$corpus" "$artifacts"

for seed in "$@"; do
	case "$seed" in
	changefile)
		"$CRM_BIN" --data "$work/seednode" init --name seed --branch MSK >/dev/null
		"$CRM_BIN" --data "$work/seednode" company add --name "Seed LLC" --tax-id 7707083893 >/dev/null
		"$CRM_BIN" --data "$work/seednode" contact add --first Ivan --last Ivanov \
			--email ivan@example.org --phone "8 916 555 12 34" >/dev/null
		"$CRM_BIN" --data "$work/seednode" export-changes "$corpus/seed_cli.crm" >/dev/null
		;;
	token)
		[ -d "$work/seednode" ] || "$CRM_BIN" --data "$work/seednode" init --name seed >/dev/null
		"$CRM_BIN" --data "$work/seednode" whoami --json | jq -r .public_key > "$corpus/seed_key.txt"
		json='{"hub":"https://127.0.0.1:8443","pin":"sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=","branch":"MSK","role":"laptop","name":"seed","secret":"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"}'
		printf 'BLT1:%s' "$(printf '%s' "$json" | base64 -w0)" > "$corpus/seed_token.txt"
		;;
	api)
		# method byte (0 GET, 1 POST, 2 PATCH, 3 DELETE), path?query, newline, body
		printf '\000search?q=petrov\n' > "$corpus/seed_search"
		printf '\000board?per_column=5\n' > "$corpus/seed_board"
		printf '\000reports/funnel?from=2026-01-01&to=2026-12-31\n' > "$corpus/seed_report"
		printf '\000records/contact?search=iv&limit=3\n' > "$corpus/seed_list"
		printf '\000tasks?view=overdue\n' > "$corpus/seed_tasks"
		printf '\001records/company\n{"name":"Beta","tax_id":"7707083893","phone":"8 916 555 12 34"}' \
			> "$corpus/seed_add"
		printf '\001records/deal\n{"title":"Big","amount":"1 250 000,50","currency":"EUR"}' > "$corpus/seed_deal"
		printf '\002records/company/01a20000-0000-7000-8000-000000000000\n{"industry":"Retail"}' > "$corpus/seed_set"
		printf '\001duplicates/merge\n{"a":"x","b":"y"}' > "$corpus/seed_merge"
		printf '\003records/contact/nope\n' > "$corpus/seed_delete"
		;;
	*)
		[ -d "$seed" ] || { echo "run_fuzz.sh: no seed directory $seed" >&2; exit 2; }
		cp "$seed"/* "$corpus"/
		;;
	esac
done

echo "fuzzing $(basename "$bin") for ${seconds}s from $(ls "$corpus" | wc -l) seeds"
CRM_FUZZ_SEED_DIR="$corpus" TMPDIR="$work" "$bin" "$corpus" \
	-seed="${CRM_FUZZ_SEED:-1}" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 -max_len=65536 \
	-artifact_prefix="$artifacts/" -print_final_stats=1 2>&1 | tail -n 25
status=${PIPESTATUS[0]}
if [ "$status" -ne 0 ]; then
	echo "run_fuzz.sh: $(basename "$bin") failed (exit $status); inputs in $artifacts" >&2
	exit 1
fi
