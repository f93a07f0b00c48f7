#!/usr/bin/env bash
# scripts/install-deps.sh - install the Debian packages sluice builds, tests
# and benchmarks with, when any is missing. Safe to run again.
# `install-deps.sh --fuzz` installs only what `make fuzz` adds: clang and its
# runtime, which holds libFuzzer.
set -euo pipefail

PACKAGES=(build-essential pkg-config libpq-dev libmariadb-dev libcsv-dev zlib1g-dev
	libyajl-dev libinih-dev libsqlite3-dev sqlite3 check time postgresql postgresql-client mariadb-server mariadb-client
	galera-4 mariadb-plugin-spider rsync pgbouncer tmux)
# tests/integration/t_metrics.sh reads --metrics-file through the real
# node_exporter; its recommends (a set of collector scripts) are not needed
LEAN=(prometheus-node-exporter curl)
OPTIONAL=(pgloader)
if [ "${1:-}" = "--fuzz" ]; then
	PACKAGES=(clang libclang-rt-14-dev)
	LEAN=()
	OPTIONAL=()
fi

missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
lean=()
for p in "${LEAN[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || lean+=("$p")
done
if [ "${#missing[@]}" -eq 0 ] && [ "${#lean[@]}" -eq 0 ]; then
	exit 0
fi
SUDO=
if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
fi
echo "install-deps: installing ${missing[*]} ${lean[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
if [ "${#missing[@]}" -gt 0 ]; then
	$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing[@]}" >/dev/null
fi
if [ "${#lean[@]}" -gt 0 ]; then
	$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${lean[@]}" >/dev/null
fi
# pgloader is only used by `make bench` for comparison, when it is available
if [ "${#OPTIONAL[@]}" -gt 0 ]; then
	$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${OPTIONAL[@]}" >/dev/null 2>&1 || true
fi
