#!/usr/bin/env bash
# bench/employees.sh - `sluice copy` of the MySQL Employees sample database
# (its published schema, rows from tests/data/realdb/gen_employees.py:
# BENCH_EMPLOYEES employees, 300,000 by default, about 4.2 million rows in
# six tables), measured in one run, each copy checked:
#   MariaDB -> PostgreSQL: sluice copy --create --workers 2 against pgloader
#     on the same database (skipped, and said so, if it is missing);
#   PostgreSQL -> MariaDB: sluice copy --create --workers 2 of sluice's copy
#     back into a fresh MariaDB database.
# Wall time and peak RSS of each; row counts of every table compared with
# the source through the clients. Run by bench/run.sh, on its servers.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
. bench/lib.sh
SLUICE=${SLUICE:-$ROOT/bin/sluice}
PG_URL=${SLUICE_PG_URL:?set SLUICE_PG_URL (see scripts/servers.sh env)}
MY_URL=${SLUICE_MY_URL:?set SLUICE_MY_URL (see scripts/servers.sh env)}
N=${BENCH_EMPLOYEES:-300000}
RDB=$ROOT/tests/data/realdb
bench_my_client "$MY_URL"
my() { "${my_client[@]}" "$@"; }
PG_BASE=${PG_URL%%\?*}
PG_BASE=${PG_BASE%/*}
MY_BASE=${MY_URL%%\?*}
MY_BASE=${MY_BASE%/*}
export PGOPTIONS="-c client_min_messages=warning"
pg() { psql "$PG_BASE/postgres" -XAtq -v ON_ERROR_STOP=1 "$@"; }
TMP=$(mktemp -d /tmp/sluice-bench-emp.XXXXXX)
cleanup() {
	pg -c "DROP DATABASE IF EXISTS emp_sluice" -c "DROP DATABASE IF EXISTS emp_pgloader" 2>/dev/null
	my -e "DROP DATABASE IF EXISTS employees; DROP DATABASE IF EXISTS emp_back" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

echo "== copy: MySQL Employees, $N generated employees"
sed -e '/^source /d' -e '/^flush /d' "$RDB/mysql-employees-schema.sql" | my >/dev/null || exit 1
python3 "$RDB/gen_employees.py" "$N" | my -D employees || exit 1
TABLES="departments dept_emp dept_manager employees salaries titles"
counts_my() { for t in $TABLES; do my -D "$1" -e "SELECT COUNT(*) FROM $t"; done | tr '\n' ' '; }
counts_pg() { for t in $TABLES; do psql "$PG_BASE/$1" -XAtq -c "SELECT count(*) FROM $t"; done | tr '\n' ' '; }
SRC=$(counts_my employees)
echo "  rows per table ($TABLES): $SRC"

pg -c "DROP DATABASE IF EXISTS emp_sluice" -c "CREATE DATABASE emp_sluice"
measure "sluice MySQL->PG --workers 2" "$SLUICE" copy "$MY_BASE/employees" "$PG_BASE/emp_sluice" \
	--create --workers 2 -q || exit 1
[ "$(counts_pg emp_sluice)" = "$SRC" ] || { echo "bench: sluice's copy has other counts: $(counts_pg emp_sluice)" >&2; exit 1; }
if command -v pgloader >/dev/null; then
	pg -c "DROP DATABASE IF EXISTS emp_pgloader" -c "CREATE DATABASE emp_pgloader"
	if measure "pgloader MySQL->PG" pgloader --root-dir "$TMP/pgl" "$MY_BASE/employees" \
		"$PG_BASE/emp_pgloader"; then
		got=$(for t in $TABLES; do psql "$PG_BASE/emp_pgloader" -XAtq -c "SELECT count(*) FROM employees.$t"; done | tr '\n' ' ')
		[ "$got" = "$SRC" ] || echo "bench: pgloader's copy has other counts: $got" >&2
	fi
fi
my -e "DROP DATABASE IF EXISTS emp_back; CREATE DATABASE emp_back"
measure "sluice PG->MySQL --workers 2" "$SLUICE" copy "$PG_BASE/emp_sluice" "$MY_BASE/emp_back" \
	--create --workers 2 -q || exit 1
[ "$(counts_my emp_back)" = "$SRC" ] || { echo "bench: the copy back has other counts: $(counts_my emp_back)" >&2; exit 1; }

echo
echo "Employees ratios (wall time):"
if [ -n "${BENCH_SECS[pgloader MySQL->PG]:-}" ]; then
	echo "  sluice MySQL->PG / pgloader: $(ratio "sluice MySQL->PG --workers 2" "pgloader MySQL->PG")" \
		"(peak RSS ${BENCH_RSS[sluice MySQL->PG --workers 2]} MB against ${BENCH_RSS[pgloader MySQL->PG]} MB)"
else
	echo "  (pgloader not installed or failed: no ratio)"
fi
echo "  sluice PG->MySQL / sluice MySQL->PG: $(ratio "sluice PG->MySQL --workers 2" "sluice MySQL->PG --workers 2")"
