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
# Target: sluice at most 1.5x. Best of BENCH_ROUNDS (3). Every run is checked
# (the sum of the balances moved by exactly the sum of the deltas; the number of
# rows left); the deleted rows are put back between runs, untimed. Needs
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
	pg -c "DROP TABLE IF EXISTS accounts, accounts_keep" 2>/dev/null
	my -e "DROP TABLE IF EXISTS accounts, accounts_keep" 2>/dev/null
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
pg -c "DROP TABLE IF EXISTS accounts, accounts_keep" \
	-c "CREATE TABLE accounts (id bigint PRIMARY KEY, balance numeric(14,2) NOT NULL)" \
	-c "\\copy accounts FROM '$TMP/accounts.csv' WITH (FORMAT csv)" \
	-c "CREATE TABLE accounts_keep AS SELECT * FROM accounts" \
	-c "ALTER TABLE accounts SET (autovacuum_enabled = off)" -c "VACUUM ANALYZE accounts" || exit 1
my --local-infile=1 -e "DROP TABLE IF EXISTS accounts, accounts_keep;
	CREATE TABLE accounts (id bigint PRIMARY KEY, balance decimal(14,2) NOT NULL);
	LOAD DATA LOCAL INFILE '$TMP/accounts.csv' INTO TABLE accounts FIELDS TERMINATED BY ',';
	CREATE TABLE accounts_keep AS SELECT * FROM accounts; ANALYZE TABLE accounts" >/dev/null || exit 1

total() { if [ "$1" = pg ]; then pg -c "SELECT sum(balance), count(*) FROM accounts"; else my -e "SELECT sum(balance), count(*) FROM accounts" | tr '\t' '|'; fi; }
# check SERVER LABEL BEFORE: the balances moved by exactly the deltas' sum
check_sum() {
	local want got
	want=$(awk -v b="${3%|*}" -v s="$SUM" 'BEGIN { printf "%.2f", b + s }')
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
restore() {
	if [ "$1" = pg ]; then
		pg -c "INSERT INTO accounts SELECT * FROM accounts_keep k WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = k.id)" \
			-c "VACUUM ANALYZE accounts" -c "CHECKPOINT"
	else
		my -e "INSERT IGNORE INTO accounts SELECT * FROM accounts_keep"
	fi
}
PG_STAGE="CREATE TEMP TABLE stage (id bigint, delta numeric(14,2))"
MY_STAGE="CREATE TEMPORARY TABLE stage (id bigint, delta decimal(14,2))"
MY_LOAD="LOAD DATA LOCAL INFILE '$TMP/deltas.csv' INTO TABLE stage FIELDS TERMINATED BY ',' IGNORE 1 LINES"
MY_KEYS="LOAD DATA LOCAL INFILE '$TMP/keys.csv' INTO TABLE stage FIELDS TERMINATED BY ',' IGNORE 1 LINES (id)"
SL=(--table accounts --key id -q)

for round in $(seq 1 "$ROUNDS"); do
	echo "-- round $round"
	if part update; then
	b=$(total pg)
	measure "psql stage + UPDATE +" psql "$PG_URL" -Xq -v ON_ERROR_STOP=1 -c "$PG_STAGE" \
		-c "\\copy stage FROM '$TMP/deltas.csv' WITH (FORMAT csv, HEADER true)" \
		-c "UPDATE accounts a SET balance = a.balance + s.delta FROM stage s WHERE a.id = s.id" || exit 1
	check_sum pg "psql stage + UPDATE +" "$b"
	pg -c "VACUUM accounts" -c "CHECKPOINT"
	b=$(total pg)
	measure "sluice update --add (PostgreSQL)" "$SLUICE" update "$TMP/deltas.csv" "$PG_URL" "${SL[@]}" --add balance || exit 1
	check_sum pg "sluice update --add (PostgreSQL)" "$b"
	pg -c "VACUUM accounts" -c "CHECKPOINT"
	fi
	if part delete; then
	measure "psql stage + DELETE" psql "$PG_URL" -Xq -v ON_ERROR_STOP=1 -c "CREATE TEMP TABLE stage (id bigint)" \
		-c "\\copy stage FROM '$TMP/keys.csv' WITH (FORMAT csv, HEADER true)" \
		-c "DELETE FROM accounts a USING stage s WHERE a.id = s.id" || exit 1
	check_left pg "psql stage + DELETE"
	restore pg
	measure "sluice delete (PostgreSQL)" "$SLUICE" delete "$TMP/keys.csv" "$PG_URL" "${SL[@]}" || exit 1
	check_left pg "sluice delete (PostgreSQL)"
	restore pg
	fi

	if part update; then
	b=$(total my)
	measure "mariadb stage + UPDATE +" "${my_client[@]}" --local-infile=1 -e "$MY_STAGE; $MY_LOAD;
		UPDATE accounts a JOIN stage s ON a.id = s.id SET a.balance = a.balance + s.delta" || exit 1
	check_sum my "mariadb stage + UPDATE +" "$b"
	b=$(total my)
	measure "sluice update --add (MariaDB)" "$SLUICE" update "$TMP/deltas.csv" "$MY_URL" "${SL[@]}" --add balance || exit 1
	check_sum my "sluice update --add (MariaDB)" "$b"
	fi
	if part delete; then
	measure "mariadb stage + DELETE" "${my_client[@]}" --local-infile=1 -e "CREATE TEMPORARY TABLE stage (id bigint);
		$MY_KEYS; DELETE a FROM accounts a JOIN stage s ON a.id = s.id" || exit 1
	check_left my "mariadb stage + DELETE"
	restore my
	measure "sluice delete (MariaDB)" "$SLUICE" delete "$TMP/keys.csv" "$MY_URL" "${SL[@]}" || exit 1
	check_left my "sluice delete (MariaDB)"
	restore my
	fi
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
echo "ledger, $N deltas and $D deletes (best of $ROUNDS; ratio = wall time / the client's staging SQL):"
printf '  %-34s %9s %9s  %7s %s\n' "" wall "peak RSS" ratio target
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
