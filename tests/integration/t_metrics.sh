#!/usr/bin/env bash
# tests/integration/t_metrics.sh - what cron and CI read: the JSON summary's
# head (times, duration, version, the target without its password, the
# sources, exit code and status), --metrics-file as Prometheus text that the
# real prometheus-node-exporter's textfile collector reads without error,
# written through a temporary file renamed over the old one, and both
# outputs checked before any row is written.
. "$(dirname "$0")/lib.sh"

EXPORTER=$(command -v prometheus-node-exporter || command -v node_exporter || true)
ISO='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})'
jv() { grep -o "\"$1\": *\(\"[^\"]*\"\|-\?[0-9.]*\|null\|true\|false\)" "$2" | head -1 | sed 's/^[^:]*: *//; s/"//g'; }

pg -c "drop table if exists mt_orders; create table mt_orders (id int primary key, amount int)"
printf 'id,amount\n1,10\n2,20\n3,x\n' >"$TMP/orders-2026-12-01.csv"
mkdir -p "$TMP/textfile"
PROM=$TMP/textfile/orders.prom
# a URL with a password, which must not show anywhere
PGPW_URL=$(printf '%s' "$SLUICE_PG_URL" | sed 's|://postgres@|://postgres:s3cret@|')

test_case "the JSON summary's head"
"$SLUICE" load "$TMP/orders-2026-12-01.csv" "$PGPW_URL" --table mt_orders \
	--summary-json "$TMP/s.json" --metrics-file "$PROM" -q 2>"$TMP/err"
assert_status "load with a reject" 3 $?
assert_eq "status" "partial" "$(jv status "$TMP/s.json")"
assert_eq "exit_code" "3" "$(jv exit_code "$TMP/s.json")"
assert_eq "version" "$("$SLUICE" --version | awk '{print $2}')" "$(jv version "$TMP/s.json")"
assert_eq "command" "load" "$(jv command "$TMP/s.json")"
if [[ "$(jv started_at "$TMP/s.json")" =~ ^$ISO$ ]]; then pass "started_at"; else fail "started_at: $(jv started_at "$TMP/s.json")"; fi
if [[ "$(jv ended_at "$TMP/s.json")" =~ ^$ISO$ ]]; then pass "ended_at"; else fail "ended_at: $(jv ended_at "$TMP/s.json")"; fi
assert_contains "duration" '"duration_seconds": 0.' "$(cat "$TMP/s.json")"
assert_contains "the target, redacted" "\"target\": \"$(printf '%s' "$PGPW_URL" | sed 's|s3cret|***|')\"" "$(cat "$TMP/s.json")"
assert_not_contains "no password anywhere" "s3cret" "$(cat "$TMP/s.json" "$PROM")"
assert_contains "the sources" "\"sources\": [\"$TMP/orders-2026-12-01.csv\"]" "$(cat "$TMP/s.json")"
assert_eq "rows_inserted of a plain load" "2" "$(jv rows_inserted "$TMP/s.json")"
assert_eq "rows_updated of a plain load" "0" "$(jv rows_updated "$TMP/s.json")"

test_case "the metrics file"
assert_contains "rows by table and outcome" 'sluice_rows{sluice_job="orders",table="mt_orders",outcome="written"} 2' "$(cat "$PROM")"
assert_contains "rejected" 'sluice_rows{sluice_job="orders",table="mt_orders",outcome="rejected"} 1' "$(cat "$PROM")"
assert_contains "exit code" 'sluice_exit_code{sluice_job="orders"} 3' "$(cat "$PROM")"
assert_contains "status" 'sluice_status{sluice_job="orders",status="partial"} 1' "$(cat "$PROM")"
for m in sluice_bytes sluice_duration_seconds sluice_pool_connections_created sluice_pool_acquires sluice_info; do
	assert_contains "$m" "$m{" "$(cat "$PROM")"
done
assert_not_contains "no last success yet (exit 3 is not one)" "sluice_last_success_timestamp_seconds{" "$(cat "$PROM")"
assert_eq "no temporary file left" "orders.prom" "$(ls -A "$TMP/textfile")"

pg -c "truncate mt_orders"
printf 'id,amount\n1,10\n2,20\n' >"$TMP/good.csv"
ino1=$(stat -c %i "$PROM")
"$SLUICE" load "$TMP/good.csv" "$SLUICE_PG_URL" --table mt_orders --metrics-file "$PROM" -q
assert_status "a good run" 0 $?
assert_contains "exit 0" 'sluice_exit_code{sluice_job="orders"} 0' "$(cat "$PROM")"
success=$(grep '^sluice_last_success_timestamp_seconds{' "$PROM" | awk '{print $2}')
now=$(date +%s)
if [ -n "$success" ] && [ "${success%.*}" -ge $((now - 60)) ] && [ "${success%.*}" -le "$now" ]; then
	pass "sluice_last_success_timestamp_seconds is now ($success)"
else
	fail "sluice_last_success_timestamp_seconds: '$success' (now $now)"
fi
if [ "$(stat -c %i "$PROM")" != "$ino1" ]; then pass "a new file renamed over the old one"; else fail "the file was written in place"; fi

"$SLUICE" load "$TMP/good.csv" "postgresql://postgres@127.0.0.1:1/nothere" --table mt_orders --retries 0 \
	--metrics-file "$PROM" --summary-json "$TMP/f.json" -q 2>"$TMP/err"
assert_status "a failed run" 1 $?
assert_contains "exit 1" 'sluice_exit_code{sluice_job="orders"} 1' "$(cat "$PROM")"
assert_contains "status failed" 'sluice_status{sluice_job="orders",status="failed"} 1' "$(cat "$PROM")"
assert_contains "the last success carried over" "sluice_last_success_timestamp_seconds{sluice_job=\"orders\"} $success" "$(cat "$PROM")"
assert_eq "JSON: failed, exit 1" "failed 1" "$(jv status "$TMP/f.json") $(jv exit_code "$TMP/f.json")"
assert_eq "a connection failure: one error line, no table of zeros" "1" "$(grep -c 'error:' "$TMP/err")"

test_case "node_exporter's textfile collector reads it"
if [ -z "$EXPORTER" ]; then
	fail "prometheus-node-exporter is not installed (scripts/install-deps.sh installs it)"
else
	port=$((19100 + $$ % 800))
	"$EXPORTER" --web.listen-address="127.0.0.1:$port" --collector.disable-defaults --collector.textfile \
		--collector.textfile.directory="$TMP/textfile" >"$TMP/exporter.log" 2>&1 &
	exporter=$!
	scraped=""
	for i in $(seq 1 50); do
		scraped=$(curl -fsS "http://127.0.0.1:$port/metrics" 2>/dev/null) && break
		sleep 0.2
	done
	kill "$exporter" 2>/dev/null
	wait "$exporter" 2>/dev/null
	assert_contains "no scrape error" "node_textfile_scrape_error 0" "$scraped"
	assert_contains "its mtime is exported" 'node_textfile_mtime_seconds{file="' "$scraped"
	assert_contains "the exit code" 'sluice_exit_code{sluice_job="orders"} 1' "$scraped"
	assert_contains "the last success" 'sluice_last_success_timestamp_seconds{sluice_job="orders"}' "$scraped"
	assert_contains "rows by outcome" 'sluice_rows{outcome="written",sluice_job="orders",table="mt_orders"}' "$scraped"
	assert_contains "the pool" 'sluice_pool_acquires{sluice_job="orders"}' "$scraped"
	assert_eq "nothing logged about the file" "" "$(grep -i 'textfile\|error' "$TMP/exporter.log" | grep -v 'level=info' || true)"
fi

test_case "outputs that cannot be written stop the run before any row"
pg -c "truncate mt_orders"
"$SLUICE" load "$TMP/good.csv" "$SLUICE_PG_URL" --table mt_orders --summary-json "$TMP/nodir/s.json" 2>"$TMP/err"
assert_status "--summary-json in a directory that is not there" 2 $?
assert_contains "says so" "--summary-json $TMP/nodir/s.json: there is no directory" "$(cat "$TMP/err")"
"$SLUICE" load "$TMP/good.csv" "$SLUICE_PG_URL" --table mt_orders --metrics-file "$TMP/textfile" 2>"$TMP/err"
assert_status "--metrics-file naming a directory" 2 $?
assert_eq "nothing written" "0" "$(pg -c 'select count(*) from mt_orders')"
# a directory whose mode bits let root write but that takes no new file
"$SLUICE" load "$TMP/good.csv" "$SLUICE_PG_URL" --table mt_orders --metrics-file /proc/sluice.prom 2>"$TMP/err"
assert_status "--metrics-file in /proc" 2 $?
assert_contains "says so" "--metrics-file /proc/sluice.prom: the directory /proc cannot be written" "$(cat "$TMP/err")"
assert_eq "nothing written there either" "0" "$(pg -c 'select count(*) from mt_orders')"

# An upsert's split, as each server tells it: 25 keys already there (15 set
# to the values they have, 10 changed), 75 new, and one key twice in the
# input (inserted, then updated), in batches of 7 on two writers. The
# expected counts come from the table before the run, not from sluice.
upsert_input() {
	echo 'id,v'
	for i in $(seq 26 125); do
		if [ "$i" -le 40 ]; then echo "$i,old"; else echo "$i,new"; fi
	done
	echo '500,first'
	echo '500,second'
}
upsert_input >"$TMP/up.csv"
for side in pg my; do
	test_case "upserts on $side: inserted and updated told apart"
	if [ $side = pg ]; then
		URL=$SLUICE_PG_URL
		pg -c "drop table if exists mt_up; create table mt_up (id int primary key, v text);
			insert into mt_up select g, 'old' from generate_series(1, 50) g"
		before=$(pg -c "select count(*) from mt_up where id between 26 and 125")
	else
		URL=$SLUICE_MY_URL
		my -e "drop table if exists mt_up; create table mt_up (id int primary key, v varchar(20));
			insert into mt_up select seq, 'old' from seq_1_to_50"
		before=$(my -e "select count(*) from mt_up where id between 26 and 125")
	fi
	"$SLUICE" load "$TMP/up.csv" "$URL" --table mt_up --on-conflict update --key id \
		--batch-rows 7 --workers 2 --summary-json "$TMP/u.json" --metrics-file "$TMP/u.prom" -q
	assert_status "upsert" 0 $?
	assert_eq "keys there before" "25" "$before"
	assert_eq "rows_written" "102" "$(jv rows_written "$TMP/u.json")"
	assert_eq "rows_updated: the keys there, and the second 500" "$((before + 1))" "$(jv rows_updated "$TMP/u.json")"
	assert_eq "rows_inserted: the new keys" "$((101 - before))" "$(jv rows_inserted "$TMP/u.json")"
	assert_contains "the metric" "table=\"mt_up\",outcome=\"inserted\"} 76" "$(cat "$TMP/u.prom")"
	assert_contains "the metric" "table=\"mt_up\",outcome=\"updated\"} 26" "$(cat "$TMP/u.prom")"
	if [ $side = pg ]; then
		got=$(pg -c "select count(*), count(*) filter (where v = 'new'), min(v) filter (where id = 500) from mt_up")
	else
		got=$(my -e "select count(*), sum(v = 'new'), min(case when id = 500 then v end) from mt_up" | tr '\t' '|')
	fi
	assert_eq "the table: 126 rows, 85 new, 500 the last" "126|85|second" "$got"
done

finish
