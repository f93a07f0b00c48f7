#!/usr/bin/env bash
# bench/rejects.sh - what bad rows cost: 20,000 rows, every other one refused
# by the server (a value that is not an integer), loaded into PostgreSQL, with
# the rows written one by one on the server once a batch fails (a batch
# whose COPY names one bad row goes on right after it) against the bisection
# of each failing batch (SLUICE_BISECT=1, the way sluice worked before).
# Target: at least 10x faster. Also the same rows all good, for scale, and
# MariaDB, --method insert and infile, through write_each's probes (target:
# at least 50,000 rows/s) and its bisection for the record. Every run
# is checked: 10,000 rows written, 10,000 rejected. Best of BENCH_ROUNDS (3)
# (the bisections: one round);
# BENCH_REJECT_ROWS (20000) changes the size. Needs SLUICE_PG_URL and
# SLUICE_MY_URL as `scripts/servers.sh env` prints, and for the bisection a
# test build (SLUICE_TEST_BIN, as `make bench` passes: only a test build
# reads SLUICE_BISECT); run by bench/run.sh.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
. bench/lib.sh
SLUICE=${SLUICE:-$ROOT/bin/sluice}
SLUICE_TEST_BIN=${SLUICE_TEST_BIN:-$ROOT/build-test/sluice}
ROUNDS=${BENCH_ROUNDS:-3}
PG_URL=${SLUICE_PG_URL:?set SLUICE_PG_URL (see scripts/servers.sh env)}
MY_URL=${SLUICE_MY_URL:?set SLUICE_MY_URL (see scripts/servers.sh env)}
N=${BENCH_REJECT_ROWS:-20000}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export PGOPTIONS="-c client_min_messages=warning"
pg() { psql "$PG_URL" -XAtq -v ON_ERROR_STOP=1 "$@"; }
bench_my_client "$MY_URL"

awk -v n="$N" 'BEGIN { print "id,qty,note"; for (i = 1; i <= n; i++)
	print i "," (i % 2 ? i : "x" i) ",row " i }' >"$TMP/half.csv"
awk -v n="$N" 'BEGIN { print "id,qty,note"; for (i = 1; i <= n; i++) print i "," i ",row " i }' >"$TMP/good.csv"
GOOD=$((N - N / 2))

# run LABEL URL FILE WANT_WRITTEN [ENV...]: load FILE into a fresh table,
# timed, and check what was written and rejected (with RUN_SLUICE, not
# $SLUICE, when set)
run() {
	local label=$1 url=$2 file=$3 want=$4
	shift 4
	if [[ $url == postgresql* ]]; then
		pg -c "drop table if exists rej" -c "create table rej (id int primary key, qty int, note text)"
	else
		"${my_client[@]}" -D "$MY_DB" -e "DROP TABLE IF EXISTS rej; CREATE TABLE rej (id int primary key, qty int, note varchar(20))"
	fi
	# exit 3: rows were rejected, as they should
	local ok=3
	[ "$want" = "$N" ] && ok=0
	measure "$label" bash -c 'ok=$1; shift; "$@"; [ $? = "$ok" ]' _ "$ok" env "$@" \
		"${RUN_SLUICE:-$SLUICE}" load "$file" "$url" ${METHOD:+--method "$METHOD"} --table rej --rejects "$TMP/r.csv" --summary-json "$TMP/s.json" -q
	local written rejected
	written=$(grep -o '"rows_written": [0-9]*' "$TMP/s.json" | sed 's/.*: //')
	rejected=$(grep -o '"rows_rejected": [0-9]*' "$TMP/s.json" | sed 's/.*: //')
	if [ "$written" != "$want" ] || [ "$rejected" != "$((N - want))" ]; then
		echo "bench: $label wrote $written and rejected $rejected rows, expected $want and $((N - want))" >&2
		exit 1
	fi
}

echo "== bad rows: $N rows, every other one refused by the server ($ROUNDS rounds, best kept)"
for round in $(seq 1 "$ROUNDS"); do
	run "PostgreSQL, all good" "$PG_URL" "$TMP/good.csv" "$N"
	run "PostgreSQL, half refused" "$PG_URL" "$TMP/half.csv" "$GOOD"
	# the bisections take seconds each: one round
	if [ "$round" = 1 ]; then
		RUN_SLUICE=$SLUICE_TEST_BIN run "PostgreSQL, half refused, bisection" "$PG_URL" \
			"$TMP/half.csv" "$GOOD" SLUICE_BISECT=1
		RUN_SLUICE=$SLUICE_TEST_BIN run "MariaDB insert, half refused, bisection" "$MY_URL" \
			"$TMP/half.csv" "$GOOD" SLUICE_BISECT=1
	fi
	run "MariaDB insert, half refused" "$MY_URL" "$TMP/half.csv" "$GOOD"
	METHOD=infile run "MariaDB infile, half refused" "$MY_URL" "$TMP/half.csv" "$GOOD"
done
rate() { awk -v n="$N" -v s="${BENCH_SECS[$1]}" 'BEGIN { if (s > 0) printf "%.0f rows/s", n / s }'; }
echo
echo "Bad rows (target: half refused at least 10x faster than bisection):"
echo "  PostgreSQL, half refused: $(rate "PostgreSQL, half refused"), bisection $(rate "PostgreSQL, half refused, bisection"):" \
	"$(ratio "PostgreSQL, half refused, bisection" "PostgreSQL, half refused") faster"
echo "  PostgreSQL, half refused / all good: $(ratio "PostgreSQL, half refused" "PostgreSQL, all good")"
echo "  MariaDB insert, half refused: $(rate "MariaDB insert, half refused"), infile: $(rate "MariaDB infile, half refused")," \
	"bisection: $(rate "MariaDB insert, half refused, bisection") (target: at least 50000 rows/s)"
