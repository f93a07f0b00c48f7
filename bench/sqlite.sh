#!/usr/bin/env bash
# bench/sqlite.sh [CSV] - `sluice copy` of a 1,000,000-row, nine-column users
# table (the rows of bench/gen.c) from a SQLite file into PostgreSQL, against
# pgloader on the same file, best of BENCH_ROUNDS (3). The SQLite source is
# made by the sqlite3 shell (.import, then typed with INSERT ... SELECT);
# every copy is checked against the source's sums, and the first sluice copy
# also passes `sluice verify`. Run by bench/run.sh.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
. bench/lib.sh
SLUICE=${SLUICE:-$ROOT/bin/sluice}
ROUNDS=${BENCH_ROUNDS:-3}
PG_URL=${SLUICE_PG_URL:?set SLUICE_PG_URL (see scripts/servers.sh env)}
bench_csv "${1:-}"
DST=sluice_bench_sqlite

export PGOPTIONS="-c client_min_messages=warning"
PG_DST_URL=${PG_URL%%\?*}
PG_DST_URL=${PG_DST_URL%/*}/$DST
pg() { psql "$PG_URL" -XAtq -v ON_ERROR_STOP=1 "$@"; }
pgdst() { psql "$PG_DST_URL" -XAtq -v ON_ERROR_STOP=1 "$@"; }

TMP=$(mktemp -d /tmp/sluice-bench-sqlite.XXXXXX)
cleanup() {
	pg -c "DROP DATABASE IF EXISTS $DST" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
DB=$TMP/users.db

echo "== sqlite: users, $ROWS rows ($(($(stat -c %s "$CSV") / 1000000)) MB as CSV), $ROUNDS rounds, best kept"
if ! command -v sqlite3 >/dev/null; then
	echo "  (the sqlite3 shell is not installed: skipped)"
	exit 0
fi
sqlite3 "$DB" <<EOF || { echo "bench: cannot make the SQLite source" >&2; exit 1; }
CREATE TABLE raw (id, name, email, amount, quantity, active, created_at, score, notes);
.import --csv --skip 1 '$CSV' raw
CREATE TABLE users (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL,
	email TEXT NOT NULL,
	amount DECIMAL(12,2) NOT NULL,
	quantity INTEGER NOT NULL,
	active BOOLEAN NOT NULL,
	created_at DATETIME NOT NULL,
	score REAL NOT NULL,
	notes TEXT
);
INSERT INTO users SELECT CAST(id AS INTEGER), name, email, amount, CAST(quantity AS INTEGER),
	active = 'true', replace(created_at, 'T', ' '), CAST(score AS REAL), NULLIF(notes, '')
	FROM raw;
DROP TABLE raw;
VACUUM;
EOF
pg -c "DROP DATABASE IF EXISTS $DST" -c "CREATE DATABASE $DST" || exit 1

# the same sums on either side: count, ids, cents, integers, booleans, text
# lengths and the doubles to three places
SUMS_SQLITE="count(*), sum(id), sum(CAST(round(amount * 100) AS INTEGER)), sum(quantity),
	sum(active), sum(length(name) + length(email) + coalesce(length(notes), 0)),
	sum(CAST(floor(score * 1000) AS INTEGER))"
SUMS_PG="count(*), sum(id), sum(round(amount * 100)), sum(quantity),
	sum(CASE WHEN active THEN 1 ELSE 0 END), sum(char_length(name) + char_length(email) +
	coalesce(char_length(notes), 0)), sum(floor(score * 1000))"
SRC_SUMS=$(sqlite3 -separator ' ' "$DB" "SELECT $SUMS_SQLITE FROM users")
if [ "${SRC_SUMS%% *}" != "$ROWS" ]; then
	echo "bench: the SQLite source has ${SRC_SUMS%% *} rows, expected $ROWS" >&2
	exit 1
fi
# check LABEL TABLE [lossy]: the PostgreSQL copy has the source's sums; with
# lossy (pgloader, which makes SQLite's REAL a float4) all but the doubles',
# whose difference is said
check() {
	local got
	got=$(pgdst -F' ' -c "SELECT $SUMS_PG FROM $2" | sed 's/\.0*\b//g')
	[ "$got" = "$SRC_SUMS" ] && return 0
	if [ -n "${3:-}" ] && [ "${got% *}" = "${SRC_SUMS% *}" ]; then
		echo "  ($1 keeps every row but changes doubles: sum(floor(score * 1000)) ${got##* }, source ${SRC_SUMS##* })"
		return 0
	fi
	echo "bench: $1 copied other rows: $got, expected $SRC_SUMS" >&2
	exit 1
}

have_pgloader=false
if command -v pgloader >/dev/null; then
	have_pgloader=true
	mkdir -p "$TMP/pgloader"
fi

S="sluice copy sqlite->pg"
for round in $(seq 1 "$ROUNDS"); do
	echo "-- round $round"
	pgdst -c "DROP TABLE IF EXISTS users"
	measure "$S" "$SLUICE" copy "sqlite://$DB" "$PG_DST_URL" --tables users --create -q || exit 1
	check "$S" users
	if [ "$round" = 1 ]; then
		"$SLUICE" verify "sqlite://$DB" "$PG_DST_URL" --tables users | sed 's/^/  sluice verify: /' ||
			{ echo "bench: sluice verify found a difference" >&2; exit 1; }
	fi
	pgdst -c "DROP TABLE IF EXISTS users"
	if $have_pgloader; then
		if measure pgloader pgloader --root-dir "$TMP/pgloader" "sqlite://$DB" "$PG_DST_URL"; then
			check pgloader users lossy
		else
			have_pgloader=false
		fi
		pgdst -c "DROP TABLE IF EXISTS users"
	fi
done

echo
echo "sqlite, $ROWS rows (best of $ROUNDS; ratio = wall time / pgloader's):"
if [ -n "${BENCH_SECS[pgloader]:-}" ]; then
	printf '  %-34s %7.2f s %6d MB  %7s\n' "$S" "${BENCH_SECS[$S]}" "${BENCH_RSS[$S]}" "$(ratio "$S" pgloader)"
	printf '  %-34s %7.2f s %6d MB  %7s\n' pgloader "${BENCH_SECS[pgloader]}" "${BENCH_RSS[pgloader]}" 1.00x
else
	echo "  (pgloader not installed or failed: no ratio)"
	printf '  %-34s %7.2f s %6d MB\n' "$S" "${BENCH_SECS[$S]}" "${BENCH_RSS[$S]}"
fi
