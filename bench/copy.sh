#!/usr/bin/env bash
# bench/copy.sh [CSV] - `sluice copy` of a 1,000,000-row, nine-column users
# table with a primary key (the rows of bench/gen.c), in both directions, each
# against what the clients themselves can do, best of BENCH_ROUNDS (3):
#   MariaDB -> PostgreSQL: sluice copy --create, --workers 1 and 2, against
#     pgloader on the same table (skipped, and said so, if it is missing);
#     target: --workers 2 at most 0.33x pgloader's time.
#   PostgreSQL -> MariaDB: sluice copy --create against the shell pipe
#     psql -c "\copy users to stdout csv" | mariadb -e "LOAD DATA LOCAL INFILE
#     '/dev/stdin' ..." into a table of the same shape; target: at most 1.2x.
# The source tables are `users` in the databases of SLUICE_PG_URL and
# SLUICE_MY_URL (as `scripts/servers.sh env` prints; TCP URLs, no password);
# the targets go to a database sluice_bench_copy on each server. Every copy is
# checked: row count and column sums against the source, and on the MariaDB
# side the same CHECKSUM TABLE for sluice and the pipe; the first sluice copy
# of each direction also passes `sluice verify`. Run by bench/run.sh.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
. bench/lib.sh
SLUICE=${SLUICE:-$ROOT/bin/sluice}
ROUNDS=${BENCH_ROUNDS:-3}
PG_URL=${SLUICE_PG_URL:?set SLUICE_PG_URL (see scripts/servers.sh env)}
MY_URL=${SLUICE_MY_URL:?set SLUICE_MY_URL (see scripts/servers.sh env)}
bench_csv "${1:-}"
DST=sluice_bench_copy

# MySQL user, host, port and database from the URL, for the client; the
# clients connect the way sluice does (TCP to the URL's host)
bench_my_client "$MY_URL"
my() { "${my_client[@]}" -D "$MY_DB" "$@"; }
mydst() { "${my_client[@]}" -D "$DST" "$@"; }
MY_DST_URL=${MY_URL%%\?*}
MY_DST_URL=${MY_DST_URL%/*}/$DST
case $MY_URL in *\?*) MY_DST_URL="$MY_DST_URL?${MY_URL#*\?}" ;; esac

export PGOPTIONS="-c client_min_messages=warning"
PG_DST_URL=${PG_URL%%\?*}
PG_DST_URL=${PG_DST_URL%/*}/$DST
case $PG_URL in *\?*) PG_DST_URL="$PG_DST_URL?${PG_URL#*\?}" ;; esac
pg() { psql "$PG_URL" -XAtq -v ON_ERROR_STOP=1 "$@"; }
pgdst() { psql "$PG_DST_URL" -XAtq -v ON_ERROR_STOP=1 "$@"; }

TMP=$(mktemp -d /tmp/sluice-bench-copy.XXXXXX)
cleanup() {
	pg -c "DROP DATABASE IF EXISTS $DST" -c "DROP TABLE IF EXISTS users" 2>/dev/null
	my -e "DROP DATABASE IF EXISTS $DST; DROP TABLE IF EXISTS users" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

# the sources: the same rows on both servers, each table with its primary key
echo "== copy: users, $ROWS rows ($(($(stat -c %s "$CSV") / 1000000)) MB as CSV), $ROUNDS rounds, best kept"
my -e "SET GLOBAL local_infile = 1" 2>/dev/null
{ sed 's/\bbench\b/users/g' bench/table_mysql.sql; cat <<EOF; } | my --local-infile=1 || { echo "bench: cannot load the MariaDB source" >&2; exit 1; }
LOAD DATA LOCAL INFILE '${CSV//\'/\'\'}' INTO TABLE users CHARACTER SET utf8mb4
	FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '"' ESCAPED BY ''
	LINES TERMINATED BY '\\n' IGNORE 1 LINES
	(id, name, email, amount, quantity, @active, @created_at, score, notes)
	SET active = (@active = 'true'), created_at = REPLACE(@created_at, 'T', ' ');
ANALYZE TABLE users;
DROP DATABASE IF EXISTS $DST;
CREATE DATABASE $DST CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
EOF
sed 's/\bbench\b/users/g' bench/table_pg.sql | pg || exit 1
pg -c "\\copy users FROM '$CSV' WITH (FORMAT csv, HEADER true)" -c "VACUUM ANALYZE users" \
	-c "DROP DATABASE IF EXISTS $DST" -c "CREATE DATABASE $DST" || exit 1

# the same sums on either server: count, ids, decimals, integers, booleans,
# text lengths and the doubles to three places (no float summation order)
SUMS="count(*), sum(id), sum(amount), sum(quantity), sum(CASE WHEN active THEN 1 ELSE 0 END),
	sum(char_length(name) + char_length(email) + char_length(notes)), sum(floor(score * 1000))"
SRC_SUMS=$(pg -F' ' -c "SELECT $SUMS FROM users")
MY_SRC_SUMS=$(my -e "SELECT $SUMS FROM users" | tr '\t' ' ')
if [ "$SRC_SUMS" != "$MY_SRC_SUMS" ] || [ "${SRC_SUMS%% *}" != "$ROWS" ]; then
	echo "bench: the two sources differ: PostgreSQL $SRC_SUMS, MariaDB $MY_SRC_SUMS" >&2
	exit 1
fi
# check_pg LABEL [SCHEMA]: the PostgreSQL copy has the source's sums
check_pg() {
	local got
	got=$(pgdst -F' ' -c "SELECT $SUMS FROM ${2:-public}.users")
	[ "$got" = "$SRC_SUMS" ] && return 0
	echo "bench: $1 copied ($got), expected ($SRC_SUMS)" >&2
	exit 1
}
MY_REFSUM=""
# check_my LABEL: the MariaDB copy has the source's sums, and the same
# CHECKSUM TABLE whichever way it came (same table shape)
check_my() {
	local got sum
	got=$(mydst -e "SELECT $SUMS FROM users" | tr '\t' ' ')
	if [ "$got" != "$SRC_SUMS" ]; then
		echo "bench: $1 copied ($got), expected ($SRC_SUMS)" >&2
		exit 1
	fi
	sum=$(mydst -e "CHECKSUM TABLE users" | cut -f2)
	[ -z "$MY_REFSUM" ] && MY_REFSUM=$sum
	if [ "$sum" != "$MY_REFSUM" ]; then
		echo "bench: $1 left different contents (CHECKSUM TABLE $sum, expected $MY_REFSUM)" >&2
		exit 1
	fi
}
verify() {
	"$SLUICE" verify "$1" "$2" --tables users | sed 's/^/  sluice verify: /' ||
		{ echo "bench: sluice verify $1 $2 found a difference" >&2; exit 1; }
}

have_pgloader=false
if command -v pgloader >/dev/null; then
	have_pgloader=true
	mkdir -p "$TMP/pgloader"
	cat >"$TMP/users.load" <<EOF
LOAD DATABASE
	FROM ${MY_URL%%\?*}
	INTO $PG_DST_URL
	INCLUDING ONLY TABLE NAMES MATCHING 'users'
	ALTER SCHEMA '$MY_DB' RENAME TO 'public';
EOF
fi

# the pipe into MariaDB: psql's CSV (booleans as t/f, quotes doubled, no
# backslash escapes), into a table shaped like the one sluice creates
PIPE_SQL="LOAD DATA LOCAL INFILE '/dev/stdin' INTO TABLE users CHARACTER SET utf8mb4
	FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' ESCAPED BY ''
	(id, name, email, amount, quantity, @active, created_at, score, notes)
	SET active = (@active = 't')"
PIPE='set -o pipefail; psql "$1" -Xq -c "\copy users to stdout csv" | "${@:3}" --local-infile=1 -e "$2"'
MY_DDL=""

S1="sluice copy --workers 1"
S2="sluice copy --workers 2"
B1="sluice copy pg->my"
B2="sluice copy pg->my --workers 2"
for round in $(seq 1 "$ROUNDS"); do
	echo "-- round $round"
	# MariaDB -> PostgreSQL
	for w in 1 2; do
		pgdst -c "DROP TABLE IF EXISTS users"
		label="sluice copy --workers $w"
		measure "$label" "$SLUICE" copy "$MY_URL" "$PG_DST_URL" --tables users --create --workers "$w" -q || exit 1
		check_pg "$label"
		[ "$round" = 1 ] && [ "$w" = 1 ] && verify "$MY_URL" "$PG_DST_URL"
	done
	pgdst -c "DROP TABLE IF EXISTS users"
	if $have_pgloader; then
		if measure pgloader pgloader --root-dir "$TMP/pgloader" "$TMP/users.load"; then
			check_pg pgloader
		else
			have_pgloader=false
		fi
		pgdst -c "DROP TABLE IF EXISTS users" -c "DROP SCHEMA IF EXISTS \"$MY_DB\" CASCADE"
	fi

	# PostgreSQL -> MariaDB
	for w in 1 2; do
		mydst -e "DROP TABLE IF EXISTS users"
		label=$B1
		[ "$w" = 2 ] && label=$B2
		measure "$label" "$SLUICE" copy "$PG_URL" "$MY_DST_URL" --tables users --create --workers "$w" -q || exit 1
		check_my "$label"
		[ "$round" = 1 ] && [ "$w" = 1 ] && verify "$PG_URL" "$MY_DST_URL"
	done
	[ -z "$MY_DDL" ] && MY_DDL=$(mydst -e "SHOW CREATE TABLE users" | cut -f2- | sed 's/\\n/\n/g')
	mydst -e "DROP TABLE users; $MY_DDL" || exit 1
	measure "psql | mariadb pipe" bash -c "$PIPE" pipe "$PG_URL" "$PIPE_SQL" "${my_client[@]}" -D "$DST" || exit 1
	check_my "psql | mariadb pipe"
	mydst -e "DROP TABLE users"
done

# row LABEL BASE NAME [TARGET]: a line of the table
row() {
	local r=n/a verdict=""
	[ -n "$2" ] && [ -n "${BENCH_SECS[$2]:-}" ] && r=$(ratio "$1" "$2")
	if [ -n "${4:-}" ] && [ "$r" != n/a ]; then
		verdict=$(awk -v r="${r%x}" -v t="$4" 'BEGIN { print (r <= t) ? "ok" : "MISSED" }')
		verdict="<= ${4}x $verdict"
	fi
	printf '  %-34s %7.2f s %6d MB  %7s %-9s %s\n' "$1" "${BENCH_SECS[$1]}" "${BENCH_RSS[$1]}" "$r" "$3" "$verdict"
}
echo
echo "copy, $ROWS rows (best of $ROUNDS; ratio = wall time / the anchor's):"
printf '  %-34s %9s %9s  %7s %-9s %s\n' "" wall "peak RSS" ratio "" target
echo " MariaDB -> PostgreSQL"
if [ -n "${BENCH_SECS[pgloader]:-}" ]; then
	row "$S1" pgloader pgloader
	row "$S2" pgloader pgloader 0.33
	row pgloader pgloader pgloader
else
	echo "  (pgloader not installed or failed: no ratio)"
	row "$S1" "" ""
	row "$S2" "" ""
fi
echo " PostgreSQL -> MariaDB"
row "$B1" "psql | mariadb pipe" pipe 1.2
row "$B2" "psql | mariadb pipe" pipe 1.2
row "psql | mariadb pipe" "psql | mariadb pipe" pipe
