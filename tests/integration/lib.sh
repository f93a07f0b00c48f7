# tests/integration/lib.sh - helpers for the integration tests, sourced by
# each tests/integration/t_*.sh. Servers are started by run.sh; URLs come in
# SLUICE_PG_URL and SLUICE_MY_URL.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# the binary under test: a test build, with the test hooks some tests use
# (`make integration` builds it; `make build-test/sluice` alone)
SLUICE=${SLUICE:-$ROOT/build-test/sluice}
DATA=$ROOT/tests/data
TMP=$(mktemp -d /tmp/sluice-test.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
PASSED=0
FAILED=0
CURRENT=""

# psql, unaligned, tuples only, quiet, no ~/.psqlrc
pg() { PGOPTIONS="-c client_min_messages=warning" psql "$SLUICE_PG_URL" -XAtq -v ON_ERROR_STOP=1 "$@"; }
# the MariaDB client, batch mode, no column names
my() { mariadb --no-defaults --default-character-set=utf8mb4 -h127.0.0.1 -P"${SLUICE_MY_PORT:-33069}" -uroot -D sluice_test -N -B "$@"; }

# test NAME: start a test case
test_case() { CURRENT=$1; }

pass() { PASSED=$((PASSED + 1)); echo "ok - $CURRENT${1:+: $1}"; }
fail() { FAILED=$((FAILED + 1)); echo "not ok - $CURRENT: $1"; }

# assert_eq WHAT EXPECTED ACTUAL
assert_eq() {
	if [ "$2" == "$3" ]; then
		pass "$1"
	else
		fail "$1"
		diff <(printf '%s\n' "$2") <(printf '%s\n' "$3") | sed 's/^/    /' | head -40
	fi
}

# assert_status WHAT EXPECTED_CODE ACTUAL_CODE
assert_status() { assert_eq "$1 (exit code)" "$2" "$3"; }

# assert_contains WHAT NEEDLE HAYSTACK
assert_contains() {
	if [[ "$3" == *"$2"* ]]; then pass "$1"; else fail "$1: no '$2' in: $(printf '%s' "$3" | head -c 600)"; fi
}

# assert_not_contains WHAT NEEDLE HAYSTACK
assert_not_contains() {
	if [[ "$3" != *"$2"* ]]; then pass "$1"; else fail "$1: '$2' found in output"; fi
}

# under_tsan WHAT: under ThreadSanitizer (make tsan), pass WHAT unjudged and
# return true: a reader 5 to 15 times slower changes how many writers are
# busy at once (connections made, writers waiting); false otherwise
under_tsan() {
	[ -n "${SLUICE_TSAN:-}" ] || return 1
	pass "$1: not judged under ThreadSanitizer"
}

# Several databases per test file (copy's sources and targets):
MY_BASE=mysql://root@127.0.0.1:${SLUICE_MY_PORT:-33069}
PG_BASE=${SLUICE_PG_URL%/*}
# pgd DB ARGS...: psql on database DB, tab-separated, NULL printed as NULL, UTC
pgd() {
	local db=$1
	shift
	PGOPTIONS="-c client_min_messages=warning -c timezone=UTC" psql "$PG_BASE/$db" -XAtq -v ON_ERROR_STOP=1 -F $'\t' -P null=NULL "$@"
}
# myd DB ARGS...: the MariaDB client on database DB, raw
myd() {
	local db=$1
	shift
	my -D "$db" -r "$@"
}
# fresh NAME: an empty database NAME on both servers
fresh() {
	my -e "DROP DATABASE IF EXISTS $1; CREATE DATABASE $1 CHARACTER SET utf8mb4"
	pg -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" >/dev/null
}
# run_sluice NAME EXPECTED_CODE ARGS...: run sluice bounded in time
# (SLUICE_COPY_LIMIT, 120 s), its output in $TMP/NAME.out and in OUT; assert
# the exit code and show the output when it is not the expected one
OUT=""
run_sluice() {
	local name=$1 want=$2
	shift 2
	timeout -k 5 "${SLUICE_COPY_LIMIT:-120}" "$SLUICE" "$@" >"$TMP/$name.out" 2>&1
	local rc=$?
	OUT=$(cat "$TMP/$name.out")
	assert_status "$name" "$want" "$rc"
	[ "$rc" == "$want" ] || sed 's/^/    | /' "$TMP/$name.out" | head -40
}

# finish: print this file's tally for run.sh and exit non-zero on failure
finish() {
	echo "# tally $PASSED $FAILED"
	[ "$FAILED" -eq 0 ]
}
