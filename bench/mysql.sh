#!/usr/bin/env bash
# bench/mysql.sh CSV - sluice --method insert and --method infile against the
# mariadb client's own LOAD DATA LOCAL INFILE on the same file, each into a
# freshly truncated table (bench/table_mysql.sql), best of BENCH_ROUNDS (2)
# for wall time, least of them for client CPU (user + system). Needs
# SLUICE_MY_URL (mysql://user@host:port/db, no password), as
# `scripts/servers.sh env` prints; the client connects the same way.
# Checks row counts and that every load leaves the same table checksum.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CSV=${1:?usage: bench/mysql.sh FILE.csv}
CSV=$(cd "$(dirname "$CSV")" && pwd)/$(basename "$CSV")
cd "$ROOT"
. bench/lib.sh
SLUICE=${SLUICE:-$ROOT/bin/sluice}
ROUNDS=${BENCH_ROUNDS:-2}
URL=${SLUICE_MY_URL:?set SLUICE_MY_URL (see scripts/servers.sh env)}

# the client connects the way sluice does (TCP to the URL's host)
bench_my_client "$URL"
client=("${my_client[@]}" -D "$MY_DB")
my() { "${client[@]}" "$@"; }

my <"$ROOT/bench/table_mysql.sql" || { echo "bench: cannot create the table" >&2; exit 1; }
my -e "SET GLOBAL local_infile = 1" 2>/dev/null

# the client's LOAD DATA: the same CSV rules sluice applies (doubled quotes,
# no backslash escapes), booleans and ISO timestamps converted in SET
CLIENT_SQL="LOAD DATA LOCAL INFILE '${CSV//\'/\'\'}' INTO TABLE bench CHARACTER SET utf8mb4
	FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' ESCAPED BY ''
	LINES TERMINATED BY '\\n' IGNORE 1 LINES
	(id, name, email, amount, quantity, @active, @created_at, score, notes)
	SET active = (@active = 'true'), created_at = REPLACE(@created_at, 'T', ' ')"

EXPECTED=""
REFSUM=""
# check LABEL: the row count, and the same checksum as the client's load
check() {
	local n sum
	n=$(my -e "SELECT COUNT(*) FROM bench")
	sum=$(my -e "CHECKSUM TABLE bench" | cut -f2)
	if [ -z "$EXPECTED" ]; then
		EXPECTED=$n
		REFSUM=$sum
		local lines=$(($(wc -l <"$CSV") - 1))
		[ "$n" = "$lines" ] || echo "bench: note: $n rows loaded from $lines lines" >&2
	fi
	if [ "$n" != "$EXPECTED" ]; then
		echo "bench: $1 loaded $n rows, expected $EXPECTED" >&2
		exit 1
	fi
	if [ "$sum" != "$REFSUM" ]; then
		echo "bench: $1 left different contents (CHECKSUM TABLE $sum, expected $REFSUM)" >&2
		exit 1
	fi
}

echo "== MySQL/MariaDB: $(my -e 'SELECT VERSION()'), $(basename "$CSV") ($ROUNDS rounds, best kept)"
for round in $(seq 1 "$ROUNDS"); do
	my -e "TRUNCATE bench"
	measure "mariadb LOAD DATA LOCAL INFILE" "${client[@]}" --local-infile=1 -e "$CLIENT_SQL" || exit 1
	check "mariadb LOAD DATA"
	my -e "TRUNCATE bench"
	measure "sluice --method infile" "$SLUICE" load "$CSV" "$URL" --table bench --method infile -q || exit 1
	check "sluice infile"
	my -e "TRUNCATE bench"
	measure "sluice --method insert" "$SLUICE" load "$CSV" "$URL" --table bench --method insert -q || exit 1
	check "sluice insert"
done
echo "  rows: $EXPECTED in each"
echo
echo "MySQL ratios (wall time / mariadb LOAD DATA; targets: infile <= 1.05x, insert <= 1.60x):"
echo "  sluice infile: $(ratio "sluice --method infile" "mariadb LOAD DATA LOCAL INFILE")"
echo "  sluice insert: $(ratio "sluice --method insert" "mariadb LOAD DATA LOCAL INFILE")"
echo "MySQL client CPU (user + system / the mariadb client's; target: infile <= 3x):"
echo "  sluice infile: $(cpu_ratio "sluice --method infile" "mariadb LOAD DATA LOCAL INFILE") (${BENCH_CPU[sluice --method infile]} s against ${BENCH_CPU[mariadb LOAD DATA LOCAL INFILE]} s)"
echo "  sluice insert: $(cpu_ratio "sluice --method insert" "mariadb LOAD DATA LOCAL INFILE") (${BENCH_CPU[sluice --method insert]} s)"
my -e "TRUNCATE bench"
