#!/usr/bin/env bash
# scripts/install-deps.sh - install the Debian packages sluice builds, tests
# and benchmarks with, when any is missing. Safe to run again.
# `install-deps.sh --fuzz` installs only what `make fuzz` adds: clang and its
# runtime, which holds libFuzzer.
set -euo pipefail

PACKAGES=(build-essential pkg-config libpq-dev libmariadb-dev libcsv-dev zlib1g-dev
	libyajl-dev check time postgresql postgresql-client mariadb-server mariadb-client
	galera-4 mariadb-plugin-spider rsync pgbouncer)
OPTIONAL=(pgloader)
if [ "${1:-}" = "--fuzz" ]; then
	PACKAGES=(clang libclang-rt-14-dev)
	OPTIONAL=()
fi

missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
	exit 0
fi
SUDO=
if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
# pgloader is only used by `make bench` for comparison, when it is available
if [ "${#OPTIONAL[@]}" -gt 0 ]; then
	$SUDO apt-get install -y -qq "${OPTIONAL[@]}" >/dev/null 2>&1 || true
fi
