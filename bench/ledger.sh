#!/usr/bin/env bash
# bench/ledger.sh - deltas and deletes by key against the best hand-written SQL,
# on PostgreSQL and on MariaDB, measured in one run:
#   update --add: BENCH_LEDGER_ROWS (1,000,000) deltas, one per account of a
#     table of as many accounts (id bigint primary key, balance numeric), in a
#     scattered order, against
#       PostgreSQL: CREATE TEMP TABLE stage; \copy stage FROM file;
#                   UPDATE accounts a SET balance = a.balance + s.delta FROM stage s WHERE a.id = s.id
#       MariaDB:    CREATE TEMPORARY TABLE stage; LOAD DATA LOCAL INFILE;
#                   UPDATE accounts a JOIN stage s ON a.id = s.id SET a.balance = a.balance + s.delta
#   delete: BENCH_DELETE_ROWS (200,000) keys, against the same staging and one
#     DELETE ... USING stage / DELETE a FROM accounts a JOIN stage s.
# Target: sluice at most 1.5x. Best of BENCH_ROUNDS (3); client CPU (user +
# system) printed beside, the least of the rounds. Every timed run, the
# client's and sluice's, starts on a fresh table (re-created and reloaded,
# untimed: see fresh) and the two alternate which goes first; every run is
# checked (the sum of the balances moved by exactly the sum of the deltas; the
# number of rows left). Needs
# SLUICE_PG_URL and SLUICE_MY_URL as `scripts/servers.sh env` prints; run by
# bench/run.sh. BENCH_LEDGER_PARTS="update delete" (the default) picks the parts.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
. bench/lib.sh
SLUICE=${SLUICE:-$ROOT/bin/sluice}
ROUNDS=${BENCH_ROUNDS:-3}
PG_URL=${SLUICE_PG_URL:?set SLUICE_PG_URL (see scripts/servers.sh env)}
MY_URL=${SLUICE_MY_URL:?set SLUICE_MY_URL (see scripts/servers.sh env)}
N=${BENCH_LEDGER_ROWS:-1000000}
D=${BENCH_DELETE_ROWS:-200000}
PARTS=" ${BENCH_LEDGER_PARTS:-update delete} "
part() { [[ $PARTS == *" $1 "* ]]; }

bench_my_client "$MY_URL"
my_client+=(-D "$MY_DB")
my() { "${my_client[@]}" "$@"; }
export PGOPTIONS="-c client_min_messages=warning"
pg() { psql "$PG_URL" -XAtq -v ON_ERROR_STOP=1 "$@"; }
TMP=$(mktemp -d /tmp/sluice-bench-ledger.XXXXXX)
cleanup() {
	pg -c "DROP TABLE IF EXISTS accounts" 2>/dev/null
	my -e "DROP TABLE IF EXISTS accounts" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
[ $((N % 7919)) != 0 ] || { echo "bench: $N rows: pick another stride" >&2; exit 1; }

# the accounts, and the deltas (one per account, scattered, cents) and keys
awk -v n="$N" 'BEGIN { for (i = 1; i <= n; i++) printf "%d,%d.00\n", i, 1000000 }' >"$TMP/accounts.csv"
awk -v n="$N" 'BEGIN { print "id,balance"
	for (k = 0; k < n; k++) { id = (k * 7919) % n + 1; printf "%d,%s%d.%02d\n", id, (k % 3 ? "" : "-"), k % 5000, k % 100 } }' >"$TMP/deltas.csv"
SUM=$(awk -F, 'NR > 1 { s += $2 } END { printf "%.2f", s }' "$TMP/deltas.csv")
awk -v n="$N" -v d="$D" 'BEGIN { print "id"; for (k = 0; k < d; k++) print (k * 7919) % n + 1 }' >"$TMP/keys.csv"
echo "== ledger: $N deltas to $N accounts, $D deletes, $ROUNDS rounds, best kept"

my -e "SET GLOBAL local_infile = 1" 2>/dev/null
# fresh SERVER: the accounts table as new, the same state before every timed
# run, the client's and sluice's alike: re-created and reloaded from the file
# (nothing left of earlier runs: no dead rows, no bloat, no rows moved to the
# heap's end by a restore, no second copy of the table in the buffer cache),
# statistics gathered, then PostgreSQL checkpointed and MariaDB's purge
# waited for (up to 30 s) so no background work of the last run is timed
fresh() {
	if [ "$1" = pg ]; then
		pg -c "DROP TABLE IF EXISTS accounts" \
			-c "CREATE TABLE accounts (id bigint PRIMARY KEY, balance numeric(14,2) NOT NULL) WITH (autovacuum_enabled = off)" \
			-c "\\copy accounts FROM '$TMP/accounts.csv' WITH (FORMAT csv)" \
			-c "VACUUM ANALYZE accounts" -c "CHECKPOINT" || exit 1
	else
		my --local-infile=1 -e "DROP TABLE IF EXISTS accounts;
			CREATE TABLE accounts (id bigint PRIMARY KEY, balance decimal(14,2) NOT NULL);
			LOAD DATA LOCAL INFILE '$TMP/accounts.csv' INTO TABLE accounts FIELDS TERMINATED BY ',';
			ANALYZE TABLE accounts" >/dev/null || exit 1
		for _ in $(seq 1 60); do
			[ "$(my -e "SELECT count FROM information_schema.innodb_metrics WHERE name = 'trx_rseg_history_len'")" -lt 100 ] && break
			sleep 0.5
		done
	fi
}
OPENING=$(awk -v n="$N" 'BEGIN { printf "%.2f|%d", n * 1000000, n }')
total() { if [ "$1" = pg ]; then pg -c "SELECT sum(balance), count(*) FROM accounts"; else my -e "SELECT sum(balance), count(*) FROM accounts" | tr '\t' '|'; fi; }
# check_sum SERVER LABEL: the balances moved by exactly the deltas' sum
check_sum() {
	local want got
	want=$(awk -v b="${OPENING%|*}" -v s="$SUM" 'BEGIN { printf "%.2f", b + s }')
	got=$(total "$1")
	[ "${got%|*}" = "$want" ] && return 0
	echo "bench: $2: sum $got, expected $want" >&2
	exit 1
}
check_left() {
	local got
	got=$(total "$1")
	[ "${got#*|}" = "$((N - D))" ] && return 0
	echo "bench: $2: $got rows left, expected $((N - D))" >&2
	exit 1
}
PG_STAGE="CREATE TEMP TABLE stage (id bigint, delta numeric(14,2))"
MY_STAGE="CREATE TEMPORARY TABLE stage (id bigint, delta decimal(14,2))"
MY_LOAD="LOAD DATA LOCAL INFILE '$TMP/deltas.csv' INTO TABLE stage FIELDS TERMINATED BY ',' IGNORE 1 LINES"
MY_KEYS="LOAD DATA LOCAL INFILE '$TMP/keys.csv' INTO TABLE stage FIELDS TERMINATED BY ',' IGNORE 1 LINES (id)"
SL=(--table accounts --key id -q)

# one timed run of each kind on a fresh table, then its check
run_pg_update_sql() {
	fresh pg
	measure "psql stage + UPDATE +" psql "$PG_URL" -Xq -v ON_ERROR_STOP=1 -c "$PG_STAGE" \
		-c "\\copy stage FROM '$TMP/deltas.csv' WITH (FORMAT csv, HEADER true)" \
		-c "UPDATE accounts a SET balance = a.balance + s.delta FROM stage s WHERE a.id = s.id" || exit 1
	check_sum pg "psql stage + UPDATE +"
}
run_pg_update_sluice() {
	fresh pg
	measure "sluice update --add (PostgreSQL)" "$SLUICE" update "$TMP/deltas.csv" "$PG_URL" "${SL[@]}" --add balance || exit 1
	check_sum pg "sluice update --add (PostgreSQL)"
}
run_pg_delete_sql() {
	fresh pg
	measure "psql stage + DELETE" psql "$PG_URL" -Xq -v ON_ERROR_STOP=1 -c "CREATE TEMP TABLE stage (id bigint)" \
		-c "\\copy stage FROM '$TMP/keys.csv' WITH (FORMAT csv, HEADER true)" \
		-c "DELETE FROM accounts a USING stage s WHERE a.id = s.id" || exit 1
	check_left pg "psql stage + DELETE"
}
run_pg_delete_sluice() {
	fresh pg
	measure "sluice delete (PostgreSQL)" "$SLUICE" delete "$TMP/keys.csv" "$PG_URL" "${SL[@]}" || exit 1
	check_left pg "sluice delete (PostgreSQL)"
}
run_my_update_sql() {
	fresh my
	measure "mariadb stage + UPDATE +" "${my_client[@]}" --local-infile=1 -e "$MY_STAGE; $MY_LOAD;
		UPDATE accounts a JOIN stage s ON a.id = s.id SET a.balance = a.balance + s.delta" || exit 1
	check_sum my "mariadb stage + UPDATE +"
}
run_my_update_sluice() {
	fresh my
	measure "sluice update --add (MariaDB)" "$SLUICE" update "$TMP/deltas.csv" "$MY_URL" "${SL[@]}" --add balance || exit 1
	check_sum my "sluice update --add (MariaDB)"
}
run_my_delete_sql() {
	fresh my
	measure "mariadb stage + DELETE" "${my_client[@]}" --local-infile=1 -e "CREATE TEMPORARY TABLE stage (id bigint);
		$MY_KEYS; DELETE a FROM accounts a JOIN stage s ON a.id = s.id" || exit 1
	check_left my "mariadb stage + DELETE"
}
run_my_delete_sluice() {
	fresh my
	measure "sluice delete (MariaDB)" "$SLUICE" delete "$TMP/keys.csv" "$MY_URL" "${SL[@]}" || exit 1
	check_left my "sluice delete (MariaDB)"
}
# pair A B: A then B in odd rounds, B then A in even ones, so neither side
# always runs first (after the other's work, or after the earlier benchmarks)
pair() {
	if [ $((round % 2)) = 1 ]; then "$1"; "$2"; else "$2"; "$1"; fi
}

for round in $(seq 1 "$ROUNDS"); do
	echo "-- round $round"
	part update && pair run_pg_update_sql run_pg_update_sluice
	part delete && pair run_pg_delete_sql run_pg_delete_sluice
	part update && pair run_my_update_sql run_my_update_sluice
	part delete && pair run_my_delete_sql run_my_delete_sluice
done
# the tables go, so nothing of theirs runs beside the next benchmarks
pg -c "DROP TABLE IF EXISTS accounts" -c "CHECKPOINT"
my -e "DROP TABLE IF EXISTS accounts"

row() {
	local r verdict=""
	r=$(ratio "$1" "$2")
	if [ -n "${3:-}" ]; then
		verdict=$(awk -v r="${r%x}" -v t="$3" 'BEGIN { print (r <= t) ? "ok" : "MISSED" }')
		verdict="<= ${3}x $verdict"
	fi
	printf '  %-34s %7.2f s %6.2f s %6d MB  %7s %s\n' "$1" "${BENCH_SECS[$1]}" "${BENCH_CPU[$1]}" \
		"${BENCH_RSS[$1]}" "$r" "$verdict"
}
echo
echo "ledger, $N deltas and $D deletes (best of $ROUNDS, each on a fresh table; ratio = wall time / the client's staging SQL):"
printf '  %-34s %9s %8s %9s  %7s %s\n' "" wall "cli CPU" "peak RSS" ratio target
echo " PostgreSQL"
if part update; then
	row "sluice update --add (PostgreSQL)" "psql stage + UPDATE +" 1.5
	row "psql stage + UPDATE +" "psql stage + UPDATE +"
fi
if part delete; then
	row "sluice delete (PostgreSQL)" "psql stage + DELETE" 1.5
	row "psql stage + DELETE" "psql stage + DELETE"
fi
echo " MariaDB"
if part update; then
	row "sluice update --add (MariaDB)" "mariadb stage + UPDATE +" 1.5
	row "mariadb stage + UPDATE +" "mariadb stage + UPDATE +"
fi
if part delete; then
	row "sluice delete (MariaDB)" "mariadb stage + DELETE" 1.5
	row "mariadb stage + DELETE" "mariadb stage + DELETE"
fi
