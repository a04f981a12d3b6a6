#!/usr/bin/env bash
# The README's run command: install what is missing, build, and run the main
# job on an embedded default — a hub and two branch nodes on localhost with
# sample data, synced — and say what it did.
#   bash tools/demo.sh [DIR]     (default DIR: ./demo; it is recreated)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash tools/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
crm="$root/build/node/crm"
syncd="$root/build/syncd/crm-syncd"
demo=$(realpath -m "${1:-demo}")
rm -rf "$demo"
mkdir -p "$demo"
say() { printf '\n== %s\n' "$*"; }

say "hub: $demo/hub"
"$syncd" --data "$demo/hub" init --listen 127.0.0.1:0
nohup "$syncd" --data "$demo/hub" run --dashboard 127.0.0.1:0 </dev/null >"$demo/hub.log" 2>&1 &
hub_pid=$!
for _ in $(seq 1 100); do [ -s "$demo/hub/url" ] && break; sleep 0.1; done
[ -s "$demo/hub/url" ] || { echo "demo: the hub did not start; see $demo/hub.log" >&2; exit 1; }
echo "hub listening on $(cat "$demo/hub/url") (pid $hub_pid; log $demo/hub.log)"

say "two branch offices enroll with one-time tokens"
"$crm" --data "$demo/msk" init --join "$("$syncd" --data "$demo/hub" token --branch MSK --name msk-office)" >/dev/null
"$crm" --data "$demo/spb" init --join "$("$syncd" --data "$demo/hub" token --branch SPB --name spb-office)" >/dev/null
"$crm" --data "$demo/msk" sync >/dev/null
"$crm" --data "$demo/spb" sync >/dev/null
echo "msk: $("$crm" --data "$demo/msk" whoami --json | jq -r .id)   spb: $("$crm" --data "$demo/spb" whoami --json | jq -r .id)"

say "sample data, typed offline on each branch"
m() { "$crm" --data "$demo/msk" "$@"; }
s() { "$crm" --data "$demo/spb" "$@"; }
acme=$(m company add --name "Acme Trading LLC" --tax-id 7701234567 --phone "+7 495 123-45-67" --email info@acme.example --industry Retail)
ivan=$(m contact add --first Ivan --last Petrov --title "Purchasing manager" --company "$acme" --phone "8 916 555-12-34" --email ivan.petrov@acme.example)
d1=$(m deal add --title "Acme: 40 POS terminals" --company "$acme" --contact "$ivan" --amount 1250000 --source "Trade show")
m deal move "$d1" --stage Proposal
m activity add --kind call --subject "Discussed delivery dates" --contact "$ivan" --deal "$d1" --done >/dev/null
m task add --title "Send the revised proposal" --deal "$d1" --due "$(date -u -d '+2 days' +%F)" >/dev/null
nord=$(s company add --name "Nord Logistics" --tax-id 7801112223 --phone "+7 812 600-00-01" --industry Logistics)
olga=$(s contact add --first Olga --last Smirnova --company "$nord" --email olga@nord.example --phone "+7 921 000-11-22")
d2=$(s deal add --title "Nord: warehouse scanners" --company "$nord" --contact "$olga" --amount 480000 --source Website)
s deal move "$d2" --stage Negotiation
s activity add --kind meeting --subject "Site visit" --contact "$olga" --deal "$d2" >/dev/null
echo "msk: 1 company, 1 contact, 1 deal (Proposal), a call, a task"
echo "spb: 1 company, 1 contact, 1 deal (Negotiation), a meeting"

say "sync: each branch pushes and pulls through the hub"
m sync
s sync
m sync
echo "state hashes (equal = converged):"
printf '  hub %s\n  msk %s\n  spb %s\n' "$("$syncd" --data "$demo/hub" state-hash)" "$(m state-hash)" "$(s state-hash)"

say "what the msk office sees now (both branches)"
m deal list
echo
m search "921 000 1122"

say "the web UI of the msk office (and the hub's read-only HQ dashboard)"
# web_ui: `crm serve` for branch msk in the background; prints its address.
nohup "$crm" --data "$demo/msk" serve --listen 127.0.0.1:0 </dev/null >"$demo/web.url" 2>"$demo/web.log" &
web_pid=$!
for _ in $(seq 1 100); do [ -s "$demo/web.url" ] && [ -s "$demo/hub/dashboard-url" ] && break; sleep 0.1; done
echo "msk web UI:       $(head -n 1 "$demo/web.url") (pid $web_pid; log $demo/web.log)"
echo "HQ dashboard:     $(head -n 1 "$demo/hub/dashboard-url" 2>/dev/null) (read-only, served by the hub)"

cat <<EOT

The demo hub and the msk web UI keep running. Open the addresses above in a
browser (press / to search), or try, for example:
  $crm --data $demo/spb deal list
  $crm --data $demo/msk search petrov
  $crm --data $demo/msk report funnel
  $syncd --data $demo/hub nodes
Stop them with: kill $web_pid $hub_pid
EOT
