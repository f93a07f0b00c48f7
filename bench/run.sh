#!/usr/bin/env bash
# bench/run.sh - `make bench`: sluice against the servers' own bulk paths on
# the same generated 1,000,000-row file, measured in one run on throwaway
# servers. Prints best-of-N wall times, peak memory and ratios.
#   BENCH_ROWS (1000000) and BENCH_ROUNDS (3) change the size and repeats.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
. bench/lib.sh

ROWS=${BENCH_ROWS:-1000000}
ROUNDS=${BENCH_ROUNDS:-3}
export BENCH_ROUNDS=$ROUNDS
SLUICE=$ROOT/bin/sluice
mkdir -p bench/data
cc -O2 -std=gnu11 -o bench/data/gen bench/gen.c || exit 1
CSV=bench/data/bench-$ROWS.csv
[ -s "$CSV" ] || bench/data/gen "$ROWS" >"$CSV"
echo "bench: $CSV, $ROWS rows, $(($(stat -c %s "$CSV") / 1000000)) MB"

export SLUICE_SERVERS_DIR=${SLUICE_SERVERS_DIR:-$(mktemp -d /tmp/sluice-bench.XXXXXX)}
chmod 755 "$SLUICE_SERVERS_DIR"
export SLUICE_PG_PORT=${SLUICE_PG_PORT:-54377} SLUICE_MY_PORT=${SLUICE_MY_PORT:-33377}
scripts/servers.sh start all || exit 1
eval "$(scripts/servers.sh env)"
trap 'scripts/servers.sh stop all; rm -rf "$SLUICE_SERVERS_DIR"' EXIT
export PGOPTIONS="-c client_min_messages=warning"
pg() { psql "$SLUICE_PG_URL" -XAtq -v ON_ERROR_STOP=1 "$@"; }
pg -f bench/table_pg.sql
ABS_CSV=$ROOT/$CSV

check_rows() {
	local n
	n=$(pg -c "select count(*) from bench")
	if [ "$n" != "$ROWS" ]; then
		echo "bench: $1 loaded $n rows, expected $ROWS" >&2
		exit 1
	fi
}

echo
echo "== PostgreSQL ($ROUNDS rounds, best kept)"
have_pgloader=false
command -v pgloader >/dev/null && have_pgloader=true
for round in $(seq 1 "$ROUNDS"); do
	pg -c "truncate bench"
	measure "psql \\copy" psql "$SLUICE_PG_URL" -Xq -c "\\copy bench FROM '$ABS_CSV' WITH (FORMAT csv, HEADER true)"
	check_rows "psql \\copy"
	pg -c "truncate bench"
	measure "sluice --method copy" "$SLUICE" load "$CSV" "$SLUICE_PG_URL" --table bench -q
	check_rows "sluice copy"
	pg -c "truncate bench"
	measure "sluice copy --workers 2" "$SLUICE" load "$CSV" "$SLUICE_PG_URL" --table bench --workers 2 -q
	check_rows "sluice copy --workers 2"
	pg -c "truncate bench"
	measure "sluice --method insert" "$SLUICE" load "$CSV" "$SLUICE_PG_URL" --table bench --method insert -q
	check_rows "sluice insert"
	if [ "$round" = 1 ] && $have_pgloader; then
		pg -c "truncate bench"
		measure "pgloader" pgloader --type csv --with "skip header = 1" \
			--with "fields optionally enclosed by '\"'" --with "fields escaped by double-quote" \
			--field "id,name,email,amount,quantity,active,created_at,score,notes" \
			"$ABS_CSV" "$SLUICE_PG_URL?tablename=bench" && check_rows "pgloader"
	fi
done
echo
echo "PostgreSQL ratios (wall time / psql \\copy; target: copy <= 1.10x):"
echo "  sluice copy:   $(ratio "sluice --method copy" "psql \\copy")"
echo "  sluice insert: $(ratio "sluice --method insert" "psql \\copy")"
echo "  sluice copy --workers 2: $(ratio "sluice copy --workers 2" "psql \\copy")   (target: <= 1.0x)"
echo "PostgreSQL client CPU (user + system / psql \\copy's; target: copy <= 2x):"
echo "  sluice copy:   $(cpu_ratio "sluice --method copy" "psql \\copy") (${BENCH_CPU[sluice --method copy]} s against ${BENCH_CPU[psql \\copy]} s)"
if [ -n "${BENCH_SECS[pgloader]:-}" ]; then
	echo "  pgloader:      $(ratio pgloader "psql \\copy")   (sluice copy is $(ratio pgloader "sluice --method copy") faster than pgloader)"
else
	echo "  pgloader:      not installed or failed"
fi

# the PostgreSQL table goes, so its autovacuum does not run beside the next benchmarks
pg -c "drop table bench" -c "checkpoint"
for extra in bench/export.sh bench/mysql.sh bench/json.sh bench/workers.sh bench/copy.sh bench/employees.sh bench/sqlite.sh bench/update.sh bench/ledger.sh bench/rejects.sh bench/resume.sh bench/nest.sh; do
	if [ -x "$extra" ]; then
		echo
		"$extra" "$ABS_CSV"
	fi
done
