#!/usr/bin/env bash
# tests/integration/t_ledger.sh - a ledger of transfers applied as deltas
# (update --add balance --group-by transfer) on PostgreSQL and MariaDB: every
# balance ends as the opening balance plus the accepted deltas (computed
# apart, by tests/tools/ledger_gen.py), a transfer the CHECK refuses is
# rejected whole, money is neither made nor lost; the same after SIGKILLs
# and --resume reruns, and with three processes sharing the job.
. "$(dirname "$0")/lib.sh"

ACCOUNTS=1000
TRANSFERS=3000
TOTAL=$(python3 "$ROOT/tests/tools/ledger_gen.py" "$TMP" $ACCOUNTS $TRANSFERS)
ROWS=$((TRANSFERS * 2))
POISON=$(wc -l <"$TMP/poison.txt")

# reset SERVER: the accounts at their opening balances, a CHECK on them, a
# pause per statement so a kill lands in the middle of a run; no checkpoints
reset() {
	if [ "$1" = pg ]; then
		pg -c "drop table if exists sluice_checkpoints; drop table if exists accounts" \
			-c "create table accounts (id int primary key, balance numeric(14,2) not null check (balance >= 0))"
		pg -c "\\copy accounts from '$TMP/opening.csv' csv"
		pg -c "create or replace function slow() returns trigger language plpgsql as \$\$ begin perform pg_sleep(0.01); return null; end \$\$" \
			-c "create trigger slow after update on accounts for each statement execute function slow()"
	else
		my -e "DROP TABLE IF EXISTS sluice_checkpoints; DROP TABLE IF EXISTS accounts;
			CREATE TABLE accounts (id int primary key, balance decimal(14,2) not null, CHECK (balance >= 0))"
		my --local-infile=1 -e "LOAD DATA LOCAL INFILE '$TMP/opening.csv' INTO TABLE accounts FIELDS TERMINATED BY ','"
		my -e "CREATE TRIGGER slow BEFORE UPDATE ON accounts FOR EACH ROW SET @slow = IF(NEW.id % 250 = 0, SLEEP(0.01), 0)"
	fi
}
q() { if [ "$1" = pg ]; then pg -c "$2"; else my -e "$2" | tr '\t' '|'; fi; }
balances() { q "$1" "select id, balance from accounts order by id"; }
total() { q "$1" "select sum(balance) from accounts"; }
# rows the job has committed, by its checkpoint rows
committed() { q "$1" "select coalesce(sum(rows_written), 0) from sluice_checkpoints where kind = 1" 2>/dev/null || echo 0; }
# the rejected records of rejects files, sorted, without their headers
rejected() { for f in "$@"; do tail -n +2 "$f"; done | sort; }
jf() { grep -o "\"$1\": [0-9]*" "$2" | head -1 | sed 's/.*: //'; }
# check SERVER WHAT REJECTS...: balances, the total and the rejects
check() {
	local server=$1 what=$2
	shift 2
	assert_eq "$what: every balance is the opening one plus its accepted deltas" \
		"$(md5sum <"$TMP/expected.txt")" "$(balances "$server" | md5sum)"
	assert_eq "$what: the sum of all balances is unchanged" "$TOTAL" "$(total "$server")"
	assert_eq "$what: the refused transfers are rejected whole ($POISON rows)" \
		"$(cat "$TMP/poison.txt")" "$(rejected "$@" | uniq)"
}

for server in pg my; do
	URL=$SLUICE_PG_URL
	[ $server = my ] && URL=$SLUICE_MY_URL

	test_case "$server: a ledger of $TRANSFERS transfers in one run"
	reset $server
	run_sluice "$server-once" 3 update "$TMP/ledger.csv" "$URL" --table accounts --key id \
		--add balance --group-by transfer --batch-rows 500 --workers 3 \
		--rejects "$TMP/once.rej" --summary-json "$TMP/once.json" -q
	check $server "one run" "$TMP/once.rej"
	assert_eq "the summary counts the rejected rows" "$POISON" "$(jf rows_rejected "$TMP/once.json")"
	assert_eq "and the written ones" "$((ROWS - POISON))" "$(jf rows_written "$TMP/once.json")"
	assert_contains "a reason names the CHECK" "constraint" "$(head -3 "$TMP/once.rej.log" | tr 'A-Z' 'a-z')"
	# --workers 3 is three writers on three connections (it was one)
	assert_eq "three writers applied the groups" 3 "$(jf created "$TMP/once.json")"

	test_case "$server: killed three times mid-run, --resume: each delta applied once"
	reset $server
	before=0
	for kill in 1 2 3; do
		"$SLUICE" update "$TMP/ledger.csv" "$URL" --table accounts --key id --add balance \
			--group-by transfer --batch-rows 200 --workers 3 --resume \
			--rejects "$TMP/k.rej" -q 2>"$TMP/k.err" &
		pid=$!
		for _ in $(seq 1 500); do
			n=$(committed $server)
			[ "${n:-0}" -gt $((before + 1000)) ] && break
			sleep 0.02
		done
		kill -9 $pid 2>/dev/null
		wait $pid 2>/dev/null
		now=$(committed $server)
		if [ "$now" -gt "$before" ] && [ "$now" -lt $((ROWS - POISON)) ]; then
			pass "kill $kill struck mid-run ($now of $((ROWS - POISON)) rows committed)"
		else
			fail "kill $kill: $now rows committed (before: $before)"
		fi
		# a transfer is one transaction: money is never half moved
		assert_eq "kill $kill: the sum of all balances is unchanged" "$TOTAL" "$(total $server)"
		before=$now
	done
	run_sluice "$server-rerun" 3 update "$TMP/ledger.csv" "$URL" --table accounts --key id --add balance \
		--group-by transfer --batch-rows 300 --workers 3 --resume \
		--rejects "$TMP/k.rej" --summary-json "$TMP/k.json" -q
	check $server "after the kills" "$TMP/k.rej"
	assert_eq "the rerun skipped what was committed" "$before" "$(jf rows_resumed "$TMP/k.json")"
	# the rerun read the file to its end: a third run skips it whole
	run_sluice "$server-third" 0 update "$TMP/ledger.csv" "$URL" --table accounts --key id --add balance \
		--group-by transfer --resume --summary-json "$TMP/k3.json" -q
	assert_eq "a third run writes nothing" "0 1" \
		"$(jf rows_written "$TMP/k3.json") $(jf files_skipped "$TMP/k3.json")"
	assert_eq "after a third run: the balances are as they were" \
		"$(md5sum <"$TMP/expected.txt")" "$(balances "$server" | md5sum)"

	test_case "$server: three processes share the job (killed once, then again)"
	reset $server
	pids=()
	for p in 1 2 3; do
		"$SLUICE" update "$TMP/ledger.csv" "$URL" --table accounts --key id --add balance \
			--group-by transfer --batch-rows 200 --resume --rejects "$TMP/p$p.rej" -q 2>"$TMP/p$p.err" &
		pids+=($!)
	done
	for _ in $(seq 1 500); do
		n=$(committed $server)
		[ "${n:-0}" -gt 2000 ] && break
		sleep 0.02
	done
	kill -9 "${pids[@]}" 2>/dev/null
	wait "${pids[@]}" 2>/dev/null
	now=$(committed $server)
	if [ "$now" -gt 0 ] && [ "$now" -lt $((ROWS - POISON)) ]; then
		pass "the three were killed mid-run ($now rows committed)"
	else
		fail "three killed: $now rows committed"
	fi
	assert_eq "killed: the sum of all balances is unchanged" "$TOTAL" "$(total $server)"
	pids=()
	for p in 1 2 3; do
		"$SLUICE" update "$TMP/ledger.csv" "$URL" --table accounts --key id --add balance \
			--group-by transfer --batch-rows 200 --resume --rejects "$TMP/q$p.rej" \
			--summary-json "$TMP/q$p.json" -q 2>"$TMP/q$p.err" &
		pids+=($!)
	done
	codes=""
	for pid in "${pids[@]}"; do
		wait "$pid"
		codes="$codes $?"
	done
	assert_eq "the three finished, with rejects" " 3 3 3" "$codes"
	check $server "three processes" "$TMP/q1.rej" "$TMP/q2.rej" "$TMP/q3.rej"
	written=0
	for p in 1 2 3; do written=$((written + $(jf rows_written "$TMP/q$p.json"))); done
	assert_eq "between them they wrote what the kill left, once" "$((ROWS - POISON - now))" "$written"
done

test_case "transfers back and forth between two pairs of accounts, three writers"
# every batch holds transfers in both directions; a trigger makes each row
# lock wait, so writers locking in input order would meet in a deadlock:
# they lock in key order (and retry if the server still finds one)
awk 'BEGIN { print "transfer,id,balance"; for (t = 1; t <= 240; t++) { a = t % 2 ? 1 : 2; b = 3 - a
	if (t % 4 >= 2) { a += 2; b += 2 }; printf "T%d,%d,-%d.25\nT%d,%d,%d.25\n", t, a, t, t, b, t } }' >"$TMP/opp.csv"
pg -c "drop table if exists opp; create table opp (id int primary key, balance numeric(14,2) not null)" \
	-c "insert into opp select i, 10000 from generate_series(1, 5000) i" -c "analyze opp" \
	-c "create or replace function slowrow() returns trigger language plpgsql as \$\$ begin perform pg_sleep(0.002); return new; end \$\$" \
	-c "create trigger slowrow before update on opp for each row execute function slowrow()"
run_sluice "opp" 0 update "$TMP/opp.csv" "$SLUICE_PG_URL" --table opp --key id --add balance \
	--group-by transfer --batch-rows 12 --workers 3 -v
assert_eq "three writers (backends)" 3 "$(grep -o 'backend [0-9]*' "$TMP/opp.out" | sort -u | wc -l)"
want=$(awk -F, 'NR > 1 { s[$2] += $3 } END { for (i = 1; i <= 4; i++) printf "%d|%.2f ", i, 10000 + s[i] }' "$TMP/opp.csv")
assert_eq "each balance moved by exactly its deltas" "$want" \
	"$(pg -c "select id, balance from opp where id <= 4 order by id" | tr '\n' ' ')"
assert_eq "the sum unchanged" "50000000.00" "$(pg -c "select sum(balance) from opp")"

test_case "a lost COMMIT of a delta batch: settled by XA, else never retried"
# SLUICE_FAULT_LOSE_COMMIT=2 loses the reply of every 2nd MySQL COMMIT
reset my
SLUICE_FAULT_LOSE_COMMIT=2 run_sluice "lost-xa" 3 update "$TMP/ledger.csv" "$SLUICE_MY_URL" \
	--table accounts --key id --add balance --group-by transfer --batch-rows 2000 --rejects "$TMP/lx.rej" -q
check my "lost COMMITs settled by XA" "$TMP/lx.rej"
reset my
SLUICE_FAULT_LOSE_COMMIT=2 run_sluice "lost-plain" 1 update "$TMP/ledger.csv" "$SLUICE_MY_URL?xa=off" \
	--table accounts --key id --add balance --group-by transfer --batch-rows 2000 -q
assert_contains "the run stops and names the lines" "ledger.csv lines " "$OUT"
assert_contains "and says why" "cannot tell whether it committed" "$OUT"
assert_eq "no transfer half applied" "$TOTAL" "$(total my)"

finish
