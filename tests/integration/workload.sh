# tests/integration/workload.sh — a branch's day of work, typed through the
# real `crm` CLI.  Sourced by tests/integration/hub_badlink.sh and
# tools/bench/bench_sync.sh; needs nothing but a shell function `crm` that runs
# the binary on the replica in use (tests/cli/lib.sh defines one).
#
#   wl_day TAG CONTACTS DEALS MOVES ACTIVITIES
#
# adds one company per 5 contacts, CONTACTS contacts (first, last, e-mail,
# phone, company), DEALS deals (title, amount, company, contact), MOVES deal
# moves (cycling New -> Qualified -> Proposal -> Negotiation/Won over the
# deals) and ACTIVITIES calls/meetings on deals.  Deterministic apart from
# generated ids and clocks.  Leaves the ids in WL_COMPANIES, WL_CONTACTS,
# WL_DEALS; returns 1 at the first command that fails (WL_ERROR says which).
#
# With the schema as of this writing a contact with e-mail and phone is 13
# field changes, a deal 13, a move 6, an activity 7, a company 5:
# wl_day X 80 28 40 24 is ~2,020 field changes (`crm status --json` counts).

WL_STAGES=(Qualified Proposal Negotiation Won)

_wl()
{
	local out
	if ! out=$(crm "$@" </dev/null 2>&1); then
		WL_ERROR="crm $*: $out"
		return 1
	fi
	WL_LAST=$out
}

wl_day()
{
	local tag=$1 contacts=$2 deals=$3 moves=$4 acts=$5 i co ct d
	WL_COMPANIES=()
	WL_CONTACTS=()
	WL_DEALS=()
	WL_ERROR=""
	for ((i = 0; i < contacts; i++)); do
		if ((i % 5 == 0)); then
			_wl company add --name "$tag Client $((i / 5)) LLC" || return 1
			WL_COMPANIES+=("$WL_LAST")
		fi
		co=${WL_COMPANIES[$((${#WL_COMPANIES[@]} - 1))]}
		_wl contact add --first "Name$i" --last "$tag-Surname$i" --email "p$i.$tag@client$((i / 5)).example" \
			--phone "+7 495 $(printf '%03d %02d %02d' $((i % 1000)) $((i / 100 % 100)) $((i % 100)))" \
			--company "$co" || return 1
		WL_CONTACTS+=("$WL_LAST")
	done
	for ((i = 0; i < deals; i++)); do
		co=${WL_COMPANIES[$((i % ${#WL_COMPANIES[@]}))]}
		ct=${WL_CONTACTS[$((i % ${#WL_CONTACTS[@]}))]}
		_wl deal add --title "$tag deal $i" --amount "$((1000 + 37 * i)).50" --company "$co" --contact "$ct" \
			|| return 1
		WL_DEALS+=("$WL_LAST")
	done
	for ((i = 0; i < moves; i++)); do
		d=${WL_DEALS[$((i % deals))]}
		_wl deal move "$d" --stage "${WL_STAGES[$((i / deals % ${#WL_STAGES[@]}))]}" || return 1
	done
	for ((i = 0; i < acts; i++)); do
		d=${WL_DEALS[$((i % deals))]}
		if ((i % 2)); then
			_wl activity add --kind meeting --subject "$tag meeting $i" --deal "$d" --at 2026-03-02T10:00:00Z \
				|| return 1
		else
			_wl activity add --kind call --subject "$tag call $i" --deal "$d" --done || return 1
		fi
	done
	return 0
}
