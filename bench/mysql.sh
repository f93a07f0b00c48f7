#!/usr/bin/env bash
# bench/mysql.sh CSV - sluice --method insert and --method infile against the
# mariadb client's own LOAD DATA LOCAL INFILE on the same file, each into a
# freshly truncated table (bench/table_mysql.sql), best of BENCH_ROUNDS (2).
# Needs SLUICE_MY_URL (mysql://user@host:port/db, no password) and
# SLUICE_MY_SOCKET or SLUICE_MY_PORT, as `scripts/servers.sh env` prints.
# Checks row counts and that every load leaves the same table checksum.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CSV=${1:?usage: bench/mysql.sh FILE.csv}
CSV=$(cd "$(dirname "$CSV")" && pwd)/$(basename "$CSV")
SLUICE=${SLUICE:-$ROOT/bin/sluice}
ROUNDS=${BENCH_ROUNDS:-2}
URL=${SLUICE_MY_URL:?set SLUICE_MY_URL (see scripts/servers.sh env)}

# user and database from the URL, for the client
rest=${URL#*://}
auth=${rest%%@*}
[ "$auth" = "$rest" ] && auth=root
MY_USER=${auth%%:*}
MY_DB=${rest#*/}
MY_DB=${MY_DB%%\?*}
if [ -n "${SLUICE_MY_SOCKET:-}" ]; then
	conn=(--socket="$SLUICE_MY_SOCKET")
else
	conn=(-h127.0.0.1 -P"${SLUICE_MY_PORT:-3306}")
fi
client=(mariadb --no-defaults "${conn[@]}" -u"$MY_USER" -D "$MY_DB" -N -B)
my() { "${client[@]}" "$@"; }

my <"$ROOT/bench/table_mysql.sql" || { echo "bench: cannot create the table" >&2; exit 1; }
my -e "SET GLOBAL local_infile = 1" 2>/dev/null

declare -A SECS RSS
# measure LABEL CMD...: wall seconds and peak RSS; the best run is kept
measure() {
	local label=$1 tf secs kb
	shift
	tf=$(mktemp)
	if ! /usr/bin/time -f "%e %M" -o "$tf" "$@" >/dev/null 2>"$tf.err"; then
		echo "bench: $label failed:" >&2
		tail -5 "$tf.err" >&2
		rm -f "$tf" "$tf.err"
		exit 1
	fi
	read -r secs kb <"$tf"
	rm -f "$tf" "$tf.err"
	if [ -z "${SECS[$label]:-}" ] || awk -v a="$secs" -v b="${SECS[$label]}" 'BEGIN{exit !(a < b)}'; then
		SECS[$label]=$secs
		RSS[$label]=$((kb / 1024))
	fi
	printf '  %-34s %8.2f s  %6d MB peak\n' "$label" "$secs" "$((kb / 1024))"
}
ratio() {
	awk -v a="${SECS[$1]}" -v b="${SECS[$2]}" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }'
}

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
	measure "mariadb LOAD DATA LOCAL INFILE" "${client[@]}" --local-infile=1 -e "$CLIENT_SQL"
	check "mariadb LOAD DATA"
	my -e "TRUNCATE bench"
	measure "sluice --method infile" "$SLUICE" load "$CSV" "$URL" --table bench --method infile -q
	check "sluice infile"
	my -e "TRUNCATE bench"
	measure "sluice --method insert" "$SLUICE" load "$CSV" "$URL" --table bench --method insert -q
	check "sluice insert"
done
echo "  rows: $EXPECTED in each"
echo
echo "MySQL ratios (wall time / mariadb LOAD DATA; targets: infile <= 1.10x, insert <= 1.60x):"
echo "  sluice infile: $(ratio "sluice --method infile" "mariadb LOAD DATA LOCAL INFILE")"
echo "  sluice insert: $(ratio "sluice --method insert" "mariadb LOAD DATA LOCAL INFILE")"
my -e "TRUNCATE bench"
