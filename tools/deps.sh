#!/usr/bin/env bash
# Install what building and testing Branchline needs on Debian 12, if missing.
# Idempotent; needs root (or sudo) only when something is missing.
set -euo pipefail
pkgs=(build-essential cmake pkg-config git sqlite3 jq openssh-client curl perl
      libsqlite3-dev libssl-dev libgit2-dev libmsgpack-dev libcurl4-openssl-dev
      libevent-dev libjansson-dev libcmocka-dev zlib1g-dev libcsv-dev
      clang libclang-rt-14-dev chromium nodejs)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Debian's npm, unless an npm is there already (a nodejs package that bundles
# its own npm conflicts with Debian's).
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}" >&2
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The browser tests (tests/browser, ctest label "browser") drive Debian's
# chromium with playwright-core from npm, pinned by package-lock.json.
browser="$(cd "$(dirname "$0")/.." && pwd)/tests/browser"
if [ ! -d "$browser/node_modules/playwright-core" ] || \
   [ "$browser/package-lock.json" -nt "$browser/node_modules/.package-lock.json" ]; then
	echo "deps: npm ci in tests/browser" >&2
	(cd "$browser" && npm ci --no-audit --no-fund --loglevel=error)
fi
