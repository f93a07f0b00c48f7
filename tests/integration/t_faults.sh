#!/usr/bin/env bash
# tests/integration/t_faults.sh - the network between sluice and the server
# breaks in the middle of a load: a TCP proxy written for the tests
# (tests/tools/faultproxy.c) drops every connection at random moments, or
# stops forwarding without closing anything. The run ends with exactly the
# input in the table (the tables have no key, so a batch written twice would
# show), or fails clearly; nothing hangs.
. "$(dirname "$0")/lib.sh"

PROXY=${FAULTPROXY:-$ROOT/build/tests/faultproxy}
if [ ! -x "$PROXY" ]; then
	test_case "fault proxy"
	fail "$PROXY is not built (make integration builds it)"
	finish
fi

N=40000
{
	echo "id,v"
	for i in $(seq 1 $N); do echo "$i,$((i * 3))"; done
} >"$TMP/f.csv"
EXPECT="$N $N $((N * (N + 1) / 2 * 3))"

. "$ROOT/tests/tools/faultproxy.sh"
trap 'proxy_stop; rm -rf "$TMP"' EXIT
start_proxy() { proxy_start "$@" || fail "the proxy did not start"; }
# a pause of 50 ms per batch (1000 rows), so the faults land in the middle
# of a run
setup_pg() {
	pg -c "drop table if exists $1" -c "create table $1 (id int, v bigint)" \
		-c "create or replace function slow() returns trigger language plpgsql as \$\$ begin perform pg_sleep(0.05); return null; end \$\$" \
		-c "create trigger slow after insert on $1 for each statement execute function slow()"
}
setup_my() {
	my -e "DROP TABLE IF EXISTS $1; CREATE TABLE $1 (id int, v bigint);
		CREATE TRIGGER slow_$1 BEFORE INSERT ON $1 FOR EACH ROW SET @slow = IF(NEW.id % 1000 = 0, SLEEP(0.05), 0)"
}
content_pg() { pg -F ' ' -c "select count(*), count(distinct id), coalesce(sum(v), 0) from $1"; }
content_my() { my -e "SELECT COUNT(*), COUNT(DISTINCT id), COALESCE(SUM(v), 0) FROM $1" | tr '\t' ' '; }
count_pg() { pg -c "select count(*) from $1"; }
count_my() { my -e "SELECT COUNT(*) FROM $1"; }
# wait_rows SERVER TABLE [K]: until K rows (default 1) are committed (at
# most 20 s)
wait_rows() {
	for _ in $(seq 1 1000); do
		[ "$(count_"$1" "$2" 2>/dev/null || echo 0)" -ge "${3:-1}" ] && return 0
		sleep 0.02
	done
}
# random_pause: 0.05 to 0.25 s
random_pause() { sleep "0.$((RANDOM % 5 + 1))5"; }

for server in pg my; do
	if [ $server = pg ]; then
		PORT=$((${SLUICE_PG_PORT:-54329} + 1000))
		URL="postgresql://postgres@127.0.0.1:$PORT/postgres"
		TARGET=${SLUICE_PG_PORT:-54329}
	else
		PORT=$((${SLUICE_MY_PORT:-33069} + 1000))
		URL="mysql://root@127.0.0.1:$PORT/sluice_test"
		TARGET=${SLUICE_MY_PORT:-33069}
	fi

	test_case "$server: the proxy drops every connection three times mid-run: every row once"
	start_proxy "$PORT" "$TARGET"
	setup_$server fdrop
	timeout -s KILL 120 "$SLUICE" load "$TMP/f.csv" "$URL" --table fdrop --batch-rows 1000 --workers 2 \
		--retries 10 --timeout 10 --summary-json "$TMP/drop.json" -q 2>"$TMP/drop.err" &
	pid=$!
	drops=0
	# each drop once a further part of the input is in: in the middle
	for part in 1 3 5; do
		wait_rows $server fdrop $((part * N / 8 + RANDOM % 1000))
		at=$(count_$server fdrop)
		[ "$at" -lt $N ] || break
		kill -USR1 "$PROXY_PID"
		drops=$((drops + 1))
		last=$at
	done
	wait $pid
	rc=$?
	if [ "$drops" -ge 2 ]; then pass "$drops drops mid-run (the last at $last rows)"; else fail "$drops drops before the run ended"; fi
	assert_status "survived" 0 $rc
	# the summary's three lines, and what came before them: why it failed
	[ $rc = 0 ] || tail -15 "$TMP/drop.err" | sed 's/^/    /'
	assert_eq "every row once" "$EXPECT" "$(content_$server fdrop)"
	assert_contains "reconnected" "yes" "$(grep -qE '"reconnects": [1-9]|"errors": [1-9]' "$TMP/drop.json" && echo yes)"
	proxy_stop

	test_case "$server: the proxy stops forwarding without closing: --timeout ends the wait, the run finishes"
	start_proxy "$PORT" "$TARGET"
	setup_$server fstall
	t0=$SECONDS
	timeout -s KILL 120 "$SLUICE" load "$TMP/f.csv" "$URL" --table fstall --batch-rows 1000 \
		--retries 5 --timeout 2 --summary-json "$TMP/stall.json" --progress log --stats-interval 1 \
		2>"$TMP/stall.err" &
	pid=$!
	wait_rows $server fstall
	random_pause
	kill -USR2 "$PROXY_PID"
	at=$(count_$server fstall)
	# the stalled connection stays open until sluice has given up on it
	sleep 4
	kill -HUP "$PROXY_PID"
	wait $pid
	rc=$?
	if [ "$at" -lt $N ]; then pass "stalled mid-run ($at rows in)"; else fail "the run had ended ($at rows)"; fi
	assert_status "finished" 0 $rc
	[ $rc = 0 ] || tail -3 "$TMP/stall.err" | sed 's/^/    /'
	assert_eq "every row once" "$EXPECT" "$(content_$server fstall)"
	# given up in a batch ("no reply from the server") or by the health
	# check before its reuse: either way a broken connection in the pool
	assert_contains "the stalled connection was given up" "yes" \
		"$(grep -qE '"errors": [1-9]' "$TMP/stall.json" && echo yes)"
	if [ $((SECONDS - t0)) -lt 60 ]; then pass "in $((SECONDS - t0)) s"; else fail "took $((SECONDS - t0)) s"; fi
	proxy_stop

	test_case "$server: the connection drops while the table is described: a fresh one, every row once"
	start_proxy "$PORT" "$TARGET"
	if [ $server = pg ]; then
		pg -c "drop table if exists fdesc" -c "create table fdesc (id int, v bigint)"
	else
		my -e "DROP TABLE IF EXISTS fdesc; CREATE TABLE fdesc (id int, v bigint)"
	fi
	# held (a test build's hook) with the connection open, before the look
	for retries in 0 2; do
		rm -f "$TMP/hold"
		SLUICE_DESCRIBE_HOLD="$TMP/hold" timeout -s KILL 60 "$SLUICE" load "$TMP/f.csv" "$URL" \
			--table fdesc --retries $retries 2>"$TMP/desc.err" &
		pid=$!
		for _ in $(seq 1 1500); do
			[ -e "$TMP/hold" ] && break
			sleep 0.02
		done
		if [ -e "$TMP/hold" ]; then
			pass "--retries $retries: held at the look, connection open"
			kill -USR1 "$PROXY_PID"
		else
			fail "--retries $retries: never held (SLUICE_DESCRIBE_HOLD needs a test build)"
		fi
		sleep 0.2
		rm -f "$TMP/hold"
		wait $pid
		rc=$?
		if [ $retries = 0 ]; then
			assert_status "--retries 0: failed" 1 $rc
			assert_contains "--retries 0: while it described the table" "describing table" \
				"$(cat "$TMP/desc.err")"
			assert_eq "--retries 0: nothing written" "0" "$(count_$server fdesc)"
		else
			assert_status "--retries 2: loaded" 0 $rc
			[ $rc = 0 ] || tail -3 "$TMP/desc.err" | sed 's/^/    /'
			assert_contains "--retries 2: said so" "retrying on a fresh connection (1 of 2)" \
				"$(cat "$TMP/desc.err")"
			assert_eq "--retries 2: every row once" "$EXPECT" "$(content_$server fdesc)"
		fi
	done
	proxy_stop

	test_case "$server: the proxy stalls for ever: a clear failure within timeout x retries"
	start_proxy "$PORT" "$TARGET"
	setup_$server fgone
	t0=$SECONDS
	timeout -s KILL 120 "$SLUICE" load "$TMP/f.csv" "$URL" --table fgone --batch-rows 1000 \
		--retries 2 --timeout 2 -q 2>"$TMP/gone.err" &
	pid=$!
	wait_rows $server fgone
	kill -USR2 "$PROXY_PID"
	# and refuse whatever comes next: the proxy is gone for new connections
	kill -STOP "$PROXY_PID"
	wait $pid
	rc=$?
	took=$((SECONDS - t0))
	kill -CONT "$PROXY_PID"
	assert_status "failed" 1 $rc
	assert_contains "naming the server" "127.0.0.1:$PORT" "$(cat "$TMP/gone.err")"
	if [ $took -lt 40 ]; then pass "within the bound ($took s)"; else fail "took $took s"; fi
	now=$(count_$server fgone)
	if [ $((now % 1000)) -eq 0 ] && [ "$now" -lt $N ]; then pass "only whole batches in ($now rows)"; else fail "$now rows in"; fi
	proxy_stop
done

finish
