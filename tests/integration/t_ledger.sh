#!/usr/bin/env bash
# tests/integration/t_ledger.sh - a ledger of transfers applied as deltas
# (update --add balance --group-by transfer) on PostgreSQL and MariaDB, with
# a CHECK that refuses a transfer or not depending on what came before it.
# Three writers come to what one does, exactly: the balances and the refused
# transfers tests/tools/ledger_gen.py computes by applying the transfers one
# after another. After SIGKILLs and --resume reruns, and with three processes
# sharing the job, every balance is the opening one plus the deltas of the
# transfers not rejected, each rejected whole (tests/tools/ledger_check.py),
# and money is neither made nor lost. 60,000 transfers between 10,000
# accounts for the runs that matter, 3,000 for the rest.
. "$(dirname "$0")/lib.sh"

# the small ledger: 1000 accounts, 3000 transfers in chunks of 100 (a
# --batch-rows 200 batch) over 3 regions of accounts, one in 20 poor
mkdir -p "$TMP/small" "$TMP/big" "$TMP/fixed"
TOTAL_small=$(python3 "$ROOT/tests/tools/ledger_gen.py" "$TMP/small" 1000 3000 3 100 20 97)
# the big one: 10,000 accounts, 60,000 transfers in chunks of 1000, one
# account in 2000 poor (a few transfers refused: each refusal costs MariaDB a
# split of its batch)
TOTAL_big=$(python3 "$ROOT/tests/tools/ledger_gen.py" "$TMP/big" 10000 60000 3 1000 2000 99991)
# the fixed one: as small, with no poor account: only poison transfers are
# refused, whatever the order (processes sharing a job keep no order
# between them, and one may apply a transfer another refused earlier)
TOTAL_fixed=$(python3 "$ROOT/tests/tools/ledger_gen.py" "$TMP/fixed" 1000 3000 3 100 100000 97)
ROWS_small=6000
ROWS_big=120000

# reset SERVER SIZE: the accounts at their opening balances, a CHECK on
# them; no checkpoints
reset() {
	if [ "$1" = pg ]; then
		pg -c "drop table if exists sluice_checkpoints; drop table if exists accounts" \
			-c "create table accounts (id int primary key, balance numeric(14,2) not null check (balance >= 0))"
		pg -c "\\copy accounts from '$TMP/$2/opening.csv' csv"
	else
		my -e "DROP TABLE IF EXISTS sluice_checkpoints; DROP TABLE IF EXISTS accounts;
			CREATE TABLE accounts (id int primary key, balance decimal(14,2) not null, CHECK (balance >= 0))"
		my --local-infile=1 -e "LOAD DATA LOCAL INFILE '$TMP/$2/opening.csv' INTO TABLE accounts FIELDS TERMINATED BY ','"
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
# exact SERVER SIZE WHAT REJECTS: the balances and the refused transfers
# are the ones applying the transfers one after another gives
exact() {
	local server=$1 size=$2 what=$3 total=TOTAL_$2
	assert_eq "$what: every balance is what one writer makes of it" \
		"$(md5sum <"$TMP/$size/expected.txt")" "$(balances "$server" | md5sum)"
	assert_eq "$what: the sum of all balances is unchanged" "${!total}" "$(total "$server")"
	assert_eq "$what: the refused transfers are rejected whole, as one writer refuses them" \
		"$(cat "$TMP/$size/refused.txt")" "$(rejected "$4")"
}
# agree SERVER SIZE WHAT REJECTS...: each balance is the opening one plus
# the deltas of the transfers not rejected, each rejected one whole
agree() {
	local server=$1 size=$2 what=$3 total=TOTAL_$2
	shift 3
	balances "$server" >"$TMP/bal.txt"
	assert_contains "$what: every balance is the opening one plus its accepted deltas" \
		"ok " "$(python3 "$ROOT/tests/tools/ledger_check.py" "$TMP/$size" "$TMP/bal.txt" "$@")"
	assert_eq "$what: the sum of all balances is unchanged" "${!total}" "$(total "$server")"
}
# upd URL SIZE ARGS... &: a run in the background, the process $! names
# (exec: a kill -9 of $! strikes sluice, not a subshell)
upd() {
	local url=$1 size=$2
	shift 2
	exec "$SLUICE" update "$TMP/$size/ledger.csv" "$url" --table accounts --key id --add balance \
		--group-by transfer "$@"
}
# kills SERVER SIZE ROWS STEP ARGS...: SIGKILL three runs of upd ARGS, each
# once STEP more rows are committed, checking that each struck mid-run
kills() {
	local server=$1 size=$2 rows=$3 step=$4 before=0 now
	shift 4
	for kill in 1 2 3; do
		upd "$URL" "$size" "$@" -q 2>"$TMP/k.err" &
		pid=$!
		for _ in $(seq 1 3000); do
			n=$(committed $server)
			[ "${n:-0}" -gt $((before + step)) ] && break
			sleep 0.02
		done
		kill -9 $pid 2>/dev/null
		wait $pid 2>/dev/null
		now=$(committed $server)
		if [ "$now" -gt "$before" ] && [ "$now" -lt "$rows" ]; then
			pass "kill $kill struck mid-run ($now of $rows rows committed)"
		else
			fail "kill $kill: $now rows committed (before: $before)"
		fi
		# a transfer is one transaction: money is never half moved
		local total=TOTAL_$size
		assert_eq "kill $kill: the sum of all balances is unchanged" "${!total}" "$(total $server)"
		before=$now
	done
	KILLED=$before
}

for server in pg my; do
	URL=$SLUICE_PG_URL
	[ $server = my ] && URL=$SLUICE_MY_URL

	test_case "$server: one writer and three come to the same, CHECK refusals included"
	reset $server small
	run_sluice "$server-w1" 3 update "$TMP/small/ledger.csv" "$URL" --table accounts --key id \
		--add balance --group-by transfer --batch-rows 200 --workers 1 \
		--rejects "$TMP/w1.rej" --summary-json "$TMP/w1.json" -q
	exact $server small "one writer" "$TMP/w1.rej"
	balances $server >"$TMP/w1.bal"
	assert_contains "a reason names the CHECK" "constraint" "$(head -3 "$TMP/w1.rej.log" | tr 'A-Z' 'a-z')"
	reset $server small
	run_sluice "$server-w3" 3 update "$TMP/small/ledger.csv" "$URL" --table accounts --key id \
		--add balance --group-by transfer --batch-rows 200 --workers 3 \
		--rejects "$TMP/w3.rej" --summary-json "$TMP/w3.json" -v
	exact $server small "three writers" "$TMP/w3.rej"
	assert_eq "three writers: the balances of one" "$(cat "$TMP/w1.bal")" "$(balances $server)"
	assert_eq "three writers: the rejects of one" "$(rejected "$TMP/w1.rej")" "$(rejected "$TMP/w3.rej")"
	refused=$(wc -l <"$TMP/small/refused.txt")
	assert_eq "the summary counts the rejected rows" "$refused" "$(jf rows_rejected "$TMP/w3.json")"
	assert_eq "and the written ones" "$((ROWS_small - refused))" "$(jf rows_written "$TMP/w3.json")"
	assert_eq "three writers on three connections" 3 "$(jf created "$TMP/w3.json")"
	assert_eq "they wrote on three sessions" 3 \
		"$(grep -o -E '(backend|thread) [0-9]+:' "$TMP/$server-w3.out" | sort -u | wc -l)"
	assert_contains "batches sharing no account were written at once, by three" \
		"at most 3 written at once" "$OUT"

	test_case "$server: 60,000 transfers, three writers, killed three times mid-run, --resume: each delta once"
	reset $server big
	kills $server big $ROWS_big 25000 --batch-rows 2000 --workers 3 --resume --rejects "$TMP/k.rej"
	run_sluice "$server-rerun" 3 update "$TMP/big/ledger.csv" "$URL" --table accounts --key id \
		--add balance --group-by transfer --batch-rows 2000 --workers 3 --resume \
		--rejects "$TMP/k.rej" --summary-json "$TMP/k.json" -q
	agree $server big "after the kills" "$TMP/k.rej"
	assert_eq "the rerun skipped what was committed" "$KILLED" "$(jf rows_resumed "$TMP/k.json")"
	# the rerun read the file to its end: a third run skips it whole
	balances $server >"$TMP/k.bal"
	run_sluice "$server-third" 0 update "$TMP/big/ledger.csv" "$URL" --table accounts --key id --add balance \
		--group-by transfer --resume --summary-json "$TMP/k3.json" -q
	assert_eq "a third run writes nothing" "0 1" \
		"$(jf rows_written "$TMP/k3.json") $(jf files_skipped "$TMP/k3.json")"
	assert_eq "after a third run: the balances are as they were" "$(cat "$TMP/k.bal")" "$(balances $server)"

	test_case "$server: three processes x two writers share the job (killed, then run again)"
	# each process cuts its own batches (200, 150, 120 rows), so a batch of
	# one meets transfers another committed in part: the rest of it is
	# still applied, by one of them, once
	reset $server fixed
	pids=()
	for p in 1 2 3; do
		upd "$URL" fixed --batch-rows $((p == 1 ? 200 : p == 2 ? 150 : 120)) --workers 2 --resume \
			--rejects "$TMP/p$p.rej" -q 2>"$TMP/p$p.err" &
		pids+=($!)
	done
	for _ in $(seq 1 500); do
		n=$(committed $server)
		[ "${n:-0}" -gt 1500 ] && break
		sleep 0.01
	done
	kill -9 "${pids[@]}" 2>/dev/null
	wait "${pids[@]}" 2>/dev/null
	now=$(committed $server)
	if [ "$now" -gt 0 ] && [ "$now" -lt $ROWS_small ]; then
		pass "the three were killed mid-run ($now rows committed)"
	else
		fail "three killed: $now rows committed"
	fi
	assert_eq "killed: the sum of all balances is unchanged" "$TOTAL_fixed" "$(total $server)"
	pids=()
	for p in 1 2 3; do
		upd "$URL" fixed --batch-rows $((p == 1 ? 200 : p == 2 ? 150 : 120)) --workers 2 --resume \
			--rejects "$TMP/q$p.rej" --summary-json "$TMP/q$p.json" -q 2>"$TMP/q$p.err" &
		pids+=($!)
	done
	codes=""
	for pid in "${pids[@]}"; do
		wait "$pid"
		codes="$codes $?"
	done
	assert_eq "the three finished, with rejects" " 3 3 3" "$codes"
	agree $server fixed "three processes" "$TMP/q1.rej" "$TMP/q2.rej" "$TMP/q3.rej"
	assert_eq "the poison transfers are rejected whole" "$(cat "$TMP/fixed/refused.txt")" \
		"$(rejected "$TMP/q1.rej" "$TMP/q2.rej" "$TMP/q3.rej" | uniq)"
	written=0
	rej=$(wc -l <"$TMP/fixed/refused.txt")
	for p in 1 2 3; do written=$((written + $(jf rows_written "$TMP/q$p.json"))); done
	assert_eq "between them they wrote what the kill left, once" "$((ROWS_small - rej - now))" "$written"
	assert_eq "the checkpoint rows hold every applied transfer's rows" "$((ROWS_small - rej))" \
		"$(committed $server)"
done

test_case "transfers back and forth between two pairs of accounts, three writers"
# every batch holds transfers in both directions between the same accounts,
# and a trigger makes each row lock wait: batches that share keys go one
# after another (so writers never meet in a deadlock on them)
awk 'BEGIN { print "transfer,id,balance"; for (t = 1; t <= 240; t++) { a = t % 2 ? 1 : 2; b = 3 - a
	if (t % 4 >= 2) { a += 2; b += 2 }; printf "T%d,%d,-%d.25\nT%d,%d,%d.25\n", t, a, t, t, b, t } }' >"$TMP/opp.csv"
pg -c "drop table if exists opp; create table opp (id int primary key, balance numeric(14,2) not null)" \
	-c "insert into opp select i, 10000 from generate_series(1, 5000) i" -c "analyze opp" \
	-c "create or replace function slowrow() returns trigger language plpgsql as \$\$ begin perform pg_sleep(0.002); return new; end \$\$" \
	-c "create trigger slowrow before update on opp for each row execute function slowrow()"
run_sluice "opp" 0 update "$TMP/opp.csv" "$SLUICE_PG_URL" --table opp --key id --add balance \
	--group-by transfer --batch-rows 12 --workers 3 -v
assert_contains "batches sharing accounts were written one at a time" "at most 1 written at once" "$OUT"
want=$(awk -F, 'NR > 1 { s[$2] += $3 } END { for (i = 1; i <= 4; i++) printf "%d|%.2f ", i, 10000 + s[i] }' "$TMP/opp.csv")
assert_eq "each balance moved by exactly its deltas" "$want" \
	"$(pg -c "select id, balance from opp where id <= 4 order by id" | tr '\n' ' ')"
assert_eq "the sum unchanged" "50000000.00" "$(pg -c "select sum(balance) from opp")"

test_case "a lost COMMIT of a delta batch: settled by XA, else never retried"
# SLUICE_FAULT_LOSE_COMMIT=2 loses the reply of every 2nd MySQL COMMIT
reset my small
SLUICE_FAULT_LOSE_COMMIT=2 run_sluice "lost-xa" 3 update "$TMP/small/ledger.csv" "$SLUICE_MY_URL" \
	--table accounts --key id --add balance --group-by transfer --batch-rows 2000 --rejects "$TMP/lx.rej" -q
exact my small "lost COMMITs settled by XA" "$TMP/lx.rej"
reset my small
SLUICE_FAULT_LOSE_COMMIT=2 run_sluice "lost-plain" 1 update "$TMP/small/ledger.csv" "$SLUICE_MY_URL?xa=off" \
	--table accounts --key id --add balance --group-by transfer --batch-rows 2000 -q
assert_contains "the run stops and names the lines" "ledger.csv lines " "$OUT"
assert_contains "and says why" "cannot tell whether it committed" "$OUT"
assert_eq "no transfer half applied" "$TOTAL_small" "$(total my)"

finish
