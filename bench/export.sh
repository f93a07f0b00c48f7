#!/usr/bin/env bash
# bench/export.sh [CSV] - `sluice export` of the 1,000,000-row users table (the
# rows of bench/gen.c) to CSV, best of BENCH_ROUNDS (3), against the clients:
#   PostgreSQL: psql "\copy (SELECT * FROM users) TO file CSV HEADER"; goals:
#     --workers 1 within 1.1x, and faster with --workers 2 (the table read
#     in two key ranges at once, joined into one file); gzip output (level
#     1, the default) with one and two workers measured too.
#   MariaDB: mariadb --batch -e "SELECT * FROM users" > file (tab-separated
#     text, not CSV); goal: sluice at least as fast while writing real CSV.
# Every export is checked: its rows counted by python's csv module. Peak RSS
# of each run is printed beside its time. Run by bench/run.sh.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
. bench/lib.sh
SLUICE=${SLUICE:-$ROOT/bin/sluice}
ROUNDS=${BENCH_ROUNDS:-3}
PG_URL=${SLUICE_PG_URL:?set SLUICE_PG_URL (see scripts/servers.sh env)}
MY_URL=${SLUICE_MY_URL:?set SLUICE_MY_URL (see scripts/servers.sh env)}
bench_csv "${1:-}"
bench_my_client "$MY_URL"
my() { "${my_client[@]}" -D "$MY_DB" "$@"; }
export PGOPTIONS="-c client_min_messages=warning"
pg() { psql "$PG_URL" -XAtq -v ON_ERROR_STOP=1 "$@"; }
TMP=$(mktemp -d /tmp/sluice-bench-export.XXXXXX)
cleanup() {
	pg -c "DROP TABLE IF EXISTS users, users2" 2>/dev/null
	my -e "DROP TABLE IF EXISTS users" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

echo "== export: users, $ROWS rows, $ROUNDS rounds, best kept"
my -e "SET GLOBAL local_infile = 1" 2>/dev/null
{ sed 's/\bbench\b/users/g' bench/table_mysql.sql; cat <<SQL; } | my --local-infile=1 || exit 1
LOAD DATA LOCAL INFILE '${CSV//\'/\'\'}' INTO TABLE users CHARACTER SET utf8mb4
	FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '"' ESCAPED BY ''
	LINES TERMINATED BY '\\n' IGNORE 1 LINES
	(id, name, email, amount, quantity, @active, @created_at, score, notes)
	SET active = (@active = 'true'), created_at = REPLACE(@created_at, 'T', ' ');
SQL
sed 's/\bbench\b/users/g' bench/table_pg.sql | pg || exit 1
pg -c "\\copy users FROM '$CSV' CSV HEADER" -c "ANALYZE users" || exit 1

# rows FILE: the CSV rows in FILE (gzip or not), read by python's csv module
rows() {
	python3 -c '
import csv, gzip, sys
f = gzip.open(sys.argv[1], "rt", newline="") if sys.argv[1].endswith(".gz") else open(sys.argv[1], newline="")
print(sum(1 for _ in csv.reader(f)) - 1)' "$1"
}
check() {
	local n
	n=$(rows "$2")
	[ "$n" = "$ROWS" ] || { echo "bench: $1 wrote $n rows, expected $ROWS" >&2; exit 1; }
}

for _ in $(seq "$ROUNDS"); do
	measure "psql \\copy (SELECT) TO csv" psql "$PG_URL" -XAtq -c "\\copy (SELECT * FROM users) TO '$TMP/psql.csv' CSV HEADER"
	measure "sluice export pg csv" "$SLUICE" export "$PG_URL" "$TMP/pg.csv" --tables users -q
	measure "sluice export pg csv w2" "$SLUICE" export "$PG_URL" "$TMP/pg2.csv" --tables users -q --workers 2
	measure "sluice export pg csv.gz" "$SLUICE" export "$PG_URL" "$TMP/pg.csv.gz" --tables users -q
	measure "sluice export pg csv.gz w2" "$SLUICE" export "$PG_URL" "$TMP/pg2.csv.gz" --tables users -q --workers 2
	measure "mariadb --batch" sh -c "${my_client[*]} -D $MY_DB -e 'SELECT * FROM users' > $TMP/my.tsv"
	measure "sluice export my csv" "$SLUICE" export "$MY_URL" "$TMP/my.csv" --tables users -q
done
check "sluice export pg csv" "$TMP/pg.csv"
check "sluice export pg csv w2" "$TMP/pg2.csv"
check "sluice export pg csv.gz" "$TMP/pg.csv.gz"
check "sluice export pg csv.gz w2" "$TMP/pg2.csv.gz"
check "sluice export my csv" "$TMP/my.csv"
check "psql" "$TMP/psql.csv"
echo "  export pg csv / psql \\copy:          $(ratio "sluice export pg csv" "psql \\copy (SELECT) TO csv") (goal <= 1.10x)"
echo "  export pg csv --workers 2 / psql:    $(ratio "sluice export pg csv w2" "psql \\copy (SELECT) TO csv") (goal < 1.00x)"
echo "  export pg csv.gz / psql \\copy:       $(ratio "sluice export pg csv.gz" "psql \\copy (SELECT) TO csv")"
echo "  export pg csv.gz --workers 2 / psql: $(ratio "sluice export pg csv.gz w2" "psql \\copy (SELECT) TO csv")"
echo "  export my csv / mariadb --batch:     $(ratio "sluice export my csv" "mariadb --batch") (goal <= 1.00x)"
