#!/usr/bin/env bash
# Install what building and testing Branchline needs on Debian 12, if missing.
# Idempotent; needs root (or sudo) only when something is missing.
set -euo pipefail
pkgs=(build-essential cmake pkg-config git sqlite3 jq openssh-client curl perl
      libsqlite3-dev libssl-dev libgit2-dev libmsgpack-dev libcurl4-openssl-dev
      libevent-dev libjansson-dev libcmocka-dev zlib1g-dev libcsv-dev)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}" >&2
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
