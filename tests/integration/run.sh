#!/usr/bin/env bash
# tests/integration/run.sh - start throwaway servers, run every
# tests/integration/t_*.sh (or those named), stop the servers, print totals.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"

export SLUICE_SERVERS_DIR=${SLUICE_SERVERS_DIR:-$(mktemp -d /tmp/sluice-servers.XXXXXX)}
chmod 755 "$SLUICE_SERVERS_DIR"
scripts/servers.sh start all || { echo "integration: cannot start the servers" >&2; exit 1; }
eval "$(scripts/servers.sh env)"
export SLUICE_MY_PORT=${SLUICE_MY_PORT:-33069}
trap 'scripts/servers.sh stop all; rm -rf "$SLUICE_SERVERS_DIR"' EXIT

tests=("$@")
if [ "${#tests[@]}" -eq 0 ]; then
	tests=(tests/integration/t_*.sh)
fi
passed=0
failed=0
bad_files=()
for t in "${tests[@]}"; do
	echo "== $t"
	t0=$SECONDS
	out=$(bash "$t" 2>&1)
	rc=$?
	echo "$out"
	echo "# $t took $((SECONDS - t0)) s"
	tally=$(printf '%s\n' "$out" | awk '/^# tally /{p=$3; f=$4} END{print p+0, f+0}')
	p=${tally% *}
	f=${tally#* }
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		failed=$((failed + 1))
		echo "not ok - $t exited $rc"
	fi
	[ "$rc" -ne 0 ] && bad_files+=("$t")
done
echo
[ "${#bad_files[@]}" -gt 0 ] && echo "failing: ${bad_files[*]}"
echo "integration: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
