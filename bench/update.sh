#!/usr/bin/env bash
# bench/update.sh [CSV] - `sluice update` of 200,000 changes (10% of them keys
# that match nothing) to a 1,000,000-row users table (the rows of bench/gen.c,
# a primary key), on PostgreSQL and on MariaDB, against the server-side
# approach done by hand with each client in one session:
#   PostgreSQL: CREATE TEMP TABLE stage; \copy stage FROM file;
#               UPDATE users u SET ... FROM stage s WHERE u.id = s.id
#   MariaDB:    CREATE TEMPORARY TABLE stage; LOAD DATA LOCAL INFILE;
#               UPDATE users u JOIN stage s ON u.id = s.id SET ...
# Target: sluice at most 1.5x on both. Best of BENCH_ROUNDS (3).
# Every run sets amount, quantity and notes of the same 180,000 rows to values
# no earlier run left (quantity = 1000 + the run's number), so each run does
# the same work without reloading the table; every run is checked (exactly
# 180,000 rows carry its quantity; sluice counts 180,000 written and 20,000 not
# found). PostgreSQL: VACUUM and CHECKPOINT before each run, autovacuum off
# for the table. MariaDB: the InnoDB buffer pool is raised to
# BENCH_MY_BUFFER_POOL (1G; 0 leaves it) for the run and put back afterwards,
# so the 128 MB default does not make both sides wait on disk reads.
# BENCH_UPDATE_ROWS (200000) changes the number of changes. Needs
# SLUICE_PG_URL and SLUICE_MY_URL (TCP, no password) as `scripts/servers.sh
# env` prints; run by bench/run.sh.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
. bench/lib.sh
SLUICE=${SLUICE:-$ROOT/bin/sluice}
ROUNDS=${BENCH_ROUNDS:-3}
PG_URL=${SLUICE_PG_URL:?set SLUICE_PG_URL (see scripts/servers.sh env)}
MY_URL=${SLUICE_MY_URL:?set SLUICE_MY_URL (see scripts/servers.sh env)}
bench_csv "${1:-}"
CHANGES=${BENCH_UPDATE_ROWS:-200000}
UNKNOWN=$((CHANGES / 10))
KNOWN=$((CHANGES - UNKNOWN))
POOL=${BENCH_MY_BUFFER_POOL:-1G}

bench_my_client "$MY_URL"
my_client+=(-D "$MY_DB")
my() { "${my_client[@]}" "$@"; }
export PGOPTIONS="-c client_min_messages=warning"
pg() { psql "$PG_URL" -XAtq -v ON_ERROR_STOP=1 "$@"; }

TMP=$(mktemp -d /tmp/sluice-bench-update.XXXXXX)
OLD_POOL=""
cleanup() {
	pg -c "DROP TABLE IF EXISTS users" 2>/dev/null
	my -e "DROP TABLE IF EXISTS users" 2>/dev/null
	[ -n "$OLD_POOL" ] && my -e "SET GLOBAL innodb_buffer_pool_size = $OLD_POOL" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

echo "== update: $CHANGES changes ($UNKNOWN unknown keys) to users, $ROWS rows, $ROUNDS rounds, best kept"
my -e "SET GLOBAL local_infile = 1" 2>/dev/null
{ sed 's/\bbench\b/users/g' bench/table_mysql.sql; cat <<EOF; } | my --local-infile=1 >/dev/null || { echo "bench: cannot load the MariaDB table" >&2; exit 1; }
LOAD DATA LOCAL INFILE '${CSV//\'/\'\'}' INTO TABLE users CHARACTER SET utf8mb4
	FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '"' ESCAPED BY ''
	LINES TERMINATED BY '\\n' IGNORE 1 LINES
	(id, name, email, amount, quantity, @active, @created_at, score, notes)
	SET active = (@active = 'true'), created_at = REPLACE(@created_at, 'T', ' ');
ANALYZE TABLE users;
EOF
sed 's/\bbench\b/users/g' bench/table_pg.sql | pg || exit 1
pg -c "\\copy users FROM '$CSV' WITH (FORMAT csv, HEADER true)" \
	-c "ALTER TABLE users SET (autovacuum_enabled = off)" -c "VACUUM ANALYZE users" || exit 1
if [ "$POOL" != 0 ]; then
	want=$(numfmt --from=iec "$POOL")
	cur=$(my -e "SELECT @@innodb_buffer_pool_size")
	if [ "$cur" -lt "$want" ]; then
		my -e "SET GLOBAL innodb_buffer_pool_size = $want" && OLD_POOL=$cur
		# the resize runs in the background; wait for it
		for _ in $(seq 1 60); do
			case $(my -e "SHOW STATUS LIKE 'Innodb_buffer_pool_resize_status'" | cut -f2) in
			"" | *Completed*) break ;;
			esac
			sleep 0.5
		done
		echo "  (MariaDB innodb_buffer_pool_size $((cur / 1048576)) MB -> $((want / 1048576)) MB for this benchmark)"
	fi
	my -e "SELECT count(*), sum(char_length(notes)) FROM users" >/dev/null # into the buffer pool
fi

# changes-N.csv: KNOWN distinct existing keys in a scattered order (a stride
# prime to ROWS), every 10th record an unknown key; run N's own values
changes() {
	awk -v n="$CHANGES" -v rows="$ROWS" -v run="$1" 'BEGIN {
		print "id,amount,quantity,notes"
		known = 0; unknown = 0
		for (i = 0; i < n; i++) {
			if (i % 10 == 9) { id = rows + 1 + unknown * 7; unknown++ }
			else { id = (known * 7919) % rows + 1; known++ }
			printf "%d,%d.%02d,%d,\"run %d, change %d\"\n", id, (id * 31 + run * 977) % 100000,
				(id + run) % 100, 1000 + run, run, i
		}
	}' >"$TMP/changes-$1.csv"
}
[ $((ROWS % 7919)) != 0 ] || { echo "bench: $ROWS rows: pick another stride" >&2; exit 1; }

# check SERVER LABEL RUN: exactly KNOWN rows carry the run's quantity
check() {
	local n
	if [ "$1" = pg ]; then
		n=$(pg -c "SELECT count(*) FROM users WHERE quantity = $((1000 + $3))")
	else
		n=$(my -e "SELECT count(*) FROM users WHERE quantity = $((1000 + $3))")
	fi
	[ "$n" = "$KNOWN" ] && return 0
	echo "bench: $2 changed $n rows, expected $KNOWN" >&2
	exit 1
}
# sluice's own count: written and not found
check_summary() {
	grep -q "\"rows_written\": $KNOWN, .*\"rows_not_found\": $UNKNOWN," "$TMP/summary.json" && return 0
	echo "bench: $1: unexpected summary: $(cat "$TMP/summary.json")" >&2
	exit 1
}
# before a PostgreSQL run: no dead rows from the last, no checkpoint pending
pg_settle() { pg -c "VACUUM users" -c "CHECKPOINT"; }
# before a MariaDB run: wait (up to 30 s) for purge of the last run's undo
my_settle() {
	for _ in $(seq 1 60); do
		[ "$(my -e "SELECT count FROM information_schema.innodb_metrics WHERE name = 'trx_rseg_history_len'")" -lt 1000 ] && break
		sleep 0.5
	done
}
# exit 3 is sluice's "finished, some rows not written": the unknown keys
SLUICE_UPD='"$@"; rc=$?; [ $rc = 0 ] || [ $rc = 3 ]'
upd_args=(--table users --key id --rejects "$TMP/rejects.csv" --summary-json "$TMP/summary.json" -q)
COLS="id bigint, amount numeric(12,2), quantity integer, notes text"
PG_SET="amount = s.amount, quantity = s.quantity, notes = s.notes"
MY_SET="u.amount = s.amount, u.quantity = s.quantity, u.notes = s.notes"

run=0
for round in $(seq 1 "$ROUNDS"); do
	echo "-- round $round"
	changes $((run + 1))
	changes $((run + 2))
	# PostgreSQL: the client, then sluice
	pg_settle
	run=$((run + 1))
	f=$TMP/changes-$run.csv
	measure "psql stage + UPDATE" psql "$PG_URL" -Xq -v ON_ERROR_STOP=1 \
		-c "CREATE TEMP TABLE stage ($COLS)" \
		-c "\\copy stage FROM '$f' WITH (FORMAT csv, HEADER true)" \
		-c "UPDATE users u SET $PG_SET FROM stage s WHERE u.id = s.id" || exit 1
	check pg "psql stage + UPDATE" "$run"
	pg_settle
	run=$((run + 1))
	f=$TMP/changes-$run.csv
	measure "sluice update (PostgreSQL)" bash -c "$SLUICE_UPD" upd "$SLUICE" update "$f" "$PG_URL" "${upd_args[@]}" || exit 1
	check pg "sluice update (PostgreSQL)" "$run"
	check_summary "sluice update (PostgreSQL)"

	# MariaDB, the same two change files
	run=$((run - 1))
	f=$TMP/changes-$run.csv
	my_settle
	sql="CREATE TEMPORARY TABLE stage (${COLS/numeric/decimal});
		LOAD DATA LOCAL INFILE '$f' INTO TABLE stage CHARACTER SET utf8mb4
		FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' ESCAPED BY ''
		LINES TERMINATED BY '\\n' IGNORE 1 LINES;
		UPDATE users u JOIN stage s ON u.id = s.id SET $MY_SET"
	# (MariaDB 10.11 here now and then failed this UPDATE with "Error on
	# delete of '/tmp/#sql-update-....MAI'", its own temporary file: a failed
	# run is tried once more)
	measure "mariadb stage + UPDATE" "${my_client[@]}" --local-infile=1 -e "$sql" ||
		measure "mariadb stage + UPDATE" "${my_client[@]}" --local-infile=1 -e "$sql" || exit 1
	check my "mariadb stage + UPDATE" "$run"
	my_settle
	run=$((run + 1))
	f=$TMP/changes-$run.csv
	measure "sluice update (MariaDB)" bash -c "$SLUICE_UPD" upd "$SLUICE" update "$f" "$MY_URL" "${upd_args[@]}" || exit 1
	check my "sluice update (MariaDB)" "$run"
	check_summary "sluice update (MariaDB)"
	rm -f "$TMP"/changes-*.csv
done

row() {
	local r verdict=""
	r=$(ratio "$1" "$2")
	if [ -n "${3:-}" ]; then
		verdict=$(awk -v r="${r%x}" -v t="$3" 'BEGIN { print (r <= t) ? "ok" : "MISSED" }')
		verdict="<= ${3}x $verdict"
	fi
	printf '  %-34s %7.2f s %6d MB  %7s %s\n' "$1" "${BENCH_SECS[$1]}" "${BENCH_RSS[$1]}" "$r" "$verdict"
}
echo
echo "update, $CHANGES changes to $ROWS rows (best of $ROUNDS; ratio = wall time / the client's stage + UPDATE):"
printf '  %-34s %9s %9s  %7s %s\n' "" wall "peak RSS" ratio target
echo " PostgreSQL"
row "sluice update (PostgreSQL)" "psql stage + UPDATE" 1.5
row "psql stage + UPDATE" "psql stage + UPDATE"
echo " MariaDB"
row "sluice update (MariaDB)" "mariadb stage + UPDATE" 1.5
row "mariadb stage + UPDATE" "mariadb stage + UPDATE"
