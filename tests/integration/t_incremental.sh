#!/usr/bin/env bash
# tests/integration/t_incremental.sh - sluice copy --incremental on
# PostgreSQL and MariaDB and across them: the first run copies every row,
# later runs the rows past the watermark (updates, equal cursor values at
# the boundary, microsecond timestamps), NULL cursors counted or included,
# --delete-missing and --soft, a row updated during a run, and SIGKILL
# mid-run then a rerun. After each run the target equals the source, by
# sluice verify and by tests/tools/canon_compare.py (the servers' clients).
. "$(dirname "$0")/lib.sh"
export PGTZ=UTC
CANON=$ROOT/tests/tools/canon_compare.py

jf() { grep -o "\"$1\": [0-9]*" "$2" | head -1 | sed 's/.*: //'; }
url() { if [ "$1" = pg ]; then echo "$PG_BASE/$2"; else echo "$MY_BASE/$2"; fi; }
q() { if [ "$1" = pg ]; then pgd "$2" -c "$3"; else myd "$2" -e "$3"; fi; }
ts() { if [ "$1" = pg ]; then echo "timestamp(6)"; else echo "datetime(6)"; fi; }

# make_source KIND DB N: table t of N rows whose cursors repeat (seven rows
# share each microsecond), and two rows with a NULL cursor
make_source() {
	q "$1" "$2" "DROP TABLE IF EXISTS t"
	q "$1" "$2" "CREATE TABLE t (id bigint PRIMARY KEY, updated_at $(ts "$1") NULL, v varchar(40))"
	python3 -c "
import datetime
base = datetime.datetime(2024, 1, 1)
rows = ['(%d, \'%s\', \'v%d\')' % (i, (base + datetime.timedelta(microseconds=i // 7)).strftime('%Y-%m-%d %H:%M:%S.%f'), i) for i in range(1, $3 + 1)]
rows += ['(%d, NULL, \'null%d\')' % (i, i) for i in ($3 + 1, $3 + 2)]
print('INSERT INTO t VALUES ' + ', '.join(rows))" >"$TMP/src.sql"
	if [ "$1" = pg ]; then pgd "$2" <"$TMP/src.sql"; else myd "$2" <"$TMP/src.sql"; fi
}

# same NAME FROM_KIND FROM_DB TO_KIND TO_DB: the target equals the source
same() {
	run_sluice "$1 verify" 0 verify "$(url "$2" "$3")" "$(url "$4" "$5")" --tables t
	timeout -k 5 60 python3 "$CANON" --quiet --tables t "$2:$3" "$4:$5" >"$TMP/canon.out" 2>&1
	assert_status "$1 canon_compare" 0 $?
}

for pair in "pg pg" "my my" "my pg" "pg my"; do
	set -- $pair
	S=$1 D=$2
	fresh inc_src
	fresh inc_dst
	make_source "$S" inc_src 2000
	FROM=$(url "$S" inc_src)
	TO=$(url "$D" inc_dst)

	test_case "$S->$D: the first run copies every row, NULL cursors counted"
	run_sluice first 0 copy "$FROM" "$TO" --create --incremental updated_at,id --batch-rows 250 \
		--summary-json "$TMP/s1.json"
	assert_eq "rows written" 2000 "$(jf rows_written "$TMP/s1.json")"
	assert_eq "NULL cursors reported" 2 "$(jf null_cursors "$TMP/s1.json")"
	assert_contains "said" "2 rows have a NULL updated_at" "$OUT"
	assert_eq "target rows" 2000 "$(q "$D" inc_dst "SELECT count(*) FROM t")"
	assert_eq "no NULL-cursor row copied" 0 "$(q "$D" inc_dst "SELECT count(*) FROM t WHERE updated_at IS NULL")"
	# the watermark is the last row's, at full precision (2000 // 7 = 285 us)
	run_sluice checkpoints 0 checkpoints "$TO"
	assert_contains "watermark" "$(printf 't\t2024-01-01 00:00:00.000285\t2000\t')" "$OUT"

	test_case "$S->$D: updates, equal cursors at the boundary, deletes, NULL cursors included"
	# ids 2001..2003 share the watermark's cursor and come after its key;
	# 1996 (same cursor, lower key) was copied; 10 and 20 move forward
	q "$S" inc_src "INSERT INTO t VALUES (2003, '2024-01-01 00:00:00.000285', 'eq3'), (2004, '2024-01-01 00:00:00.000285', 'eq4'), (2005, '2024-01-01 00:00:00.000285', 'eq5')"
	q "$S" inc_src "UPDATE t SET v = 'up', updated_at = '2024-06-01 12:00:00.123456' WHERE id IN (10, 20)"
	q "$S" inc_src "DELETE FROM t WHERE id IN (5, 6, 1500)"
	run_sluice second 0 copy "$FROM" "$TO" --incremental updated_at,id --null-cursor include \
		--delete-missing --batch-rows 250 --summary-json "$TMP/s2.json"
	# 3 boundary rows, 2 updated, 2 NULL cursors
	assert_eq "rows written" 7 "$(jf rows_written "$TMP/s2.json")"
	assert_eq "rows deleted" 3 "$(jf rows_deleted "$TMP/s2.json")"
	assert_eq "updated values" "up
up" "$(q "$D" inc_dst "SELECT v FROM t WHERE id IN (10, 20) ORDER BY id")"
	assert_eq "boundary rows" "eq3 eq4 eq5" "$(q "$D" inc_dst "SELECT v FROM t WHERE id > 2002 ORDER BY id" | paste -sd' ')"
	same "$S->$D second" "$S" inc_src "$D" inc_dst
	run_sluice checkpoints2 0 checkpoints "$TO"
	assert_contains "watermark moved" "$(printf 't\t2024-06-01 12:00:00.123456\t20\t')" "$OUT"

	test_case "$S->$D: a run with nothing new writes nothing but the NULL cursors"
	run_sluice third 0 copy "$FROM" "$TO" --incremental updated_at,id --null-cursor include \
		--summary-json "$TMP/s3.json"
	assert_eq "rows written" 2 "$(jf rows_written "$TMP/s3.json")"
	same "$S->$D third" "$S" inc_src "$D" inc_dst
done

# --lag: a writer that committed late, with a cursor behind the watermark
# (the source is PostgreSQL's now, from the last pair)
test_case "pg->pg: --lag reads the window behind the watermark again"
pg -c "DROP DATABASE IF EXISTS inc_pgdst" -c "CREATE DATABASE inc_pgdst" >/dev/null
run_sluice lag1 0 copy "$PG_BASE/inc_src" "$PG_BASE/inc_pgdst" --create --incremental updated_at,id
pgd inc_src -c "INSERT INTO t VALUES (3000, '2024-06-01 11:59:00', 'late')"
run_sluice nolag 0 copy "$PG_BASE/inc_src" "$PG_BASE/inc_pgdst" --incremental updated_at,id
assert_eq "missed without --lag" 0 "$(pgd inc_pgdst -c "SELECT count(*) FROM t WHERE id = 3000")"
run_sluice lag 0 copy "$PG_BASE/inc_src" "$PG_BASE/inc_pgdst" --incremental updated_at,id --lag 2m \
	--null-cursor include
assert_eq "copied with --lag 2m" "late" "$(pgd inc_pgdst -c "SELECT v FROM t WHERE id = 3000")"
same "lag" pg inc_src pg inc_pgdst

# --soft: rows gone from the source are marked, once
for D in pg my; do
	DB=inc_dst
	[ "$D" = pg ] && DB=inc_pgdst
	test_case "pg->$D: --delete-missing --soft marks the rows, and keeps the mark"
	q "$D" $DB "ALTER TABLE t ADD COLUMN deleted_at $(ts "$D") NULL"
	[ "$D" = pg ] && pgd inc_src -c "DELETE FROM t WHERE id IN (7, 8)"
	NOW='now()'
	[ "$D" = my ] && NOW='NOW(6)'
	run_sluice soft 0 copy "$PG_BASE/inc_src" "$(url "$D" $DB)" --incremental updated_at,id \
		--lag 1h --delete-missing --soft "deleted_at=$NOW" --summary-json "$TMP/soft.json"
	assert_eq "rows marked" 2 "$(jf rows_deleted "$TMP/soft.json")"
	assert_eq "marked ids" "7 8" "$(q "$D" $DB "SELECT id FROM t WHERE deleted_at IS NOT NULL ORDER BY id" | paste -sd' ')"
	assert_eq "kept" "$(pgd inc_src -c "SELECT count(*) + 2 FROM t WHERE updated_at IS NOT NULL")" \
		"$(q "$D" $DB "SELECT count(*) FROM t WHERE updated_at IS NOT NULL")"
	MARK=$(q "$D" $DB "SELECT deleted_at FROM t WHERE id = 7")
	sleep 0.01
	run_sluice soft2 0 copy "$PG_BASE/inc_src" "$(url "$D" $DB)" --incremental updated_at,id \
		--lag 1h --delete-missing --soft "deleted_at=$NOW"
	assert_eq "mark kept" "$MARK" "$(q "$D" $DB "SELECT deleted_at FROM t WHERE id = 7")"
done

# a slow target: a trigger sleeps on every statement (PostgreSQL) or every
# 100th row (MariaDB), so a run lasts long enough to act during it
slow() {
	if [ "$1" = pg ]; then
		pgd "$2" -c "create or replace function slow() returns trigger language plpgsql as \$\$ begin perform pg_sleep(0.05); return null; end \$\$" \
			-c "create trigger slow after insert or update on t for each statement execute function slow()"
	else
		myd "$2" -e "CREATE TRIGGER slow_t BEFORE INSERT ON t FOR EACH ROW SET @slow = IF(NEW.id % 100 = 0, SLEEP(0.05), 0)"
	fi
}

for pair in "pg pg" "my my"; do
	set -- $pair
	S=$1 D=$2
	fresh inc_src
	fresh inc_dst
	make_source "$S" inc_src 3000
	FROM=$(url "$S" inc_src)
	TO=$(url "$D" inc_dst)
	q "$D" inc_dst "CREATE TABLE t (id bigint PRIMARY KEY, updated_at $(ts "$D") NULL, v varchar(40))"
	slow "$D" inc_dst

	test_case "$S->$D: SIGKILL mid-run, the watermark covers exactly the committed rows"
	"$SLUICE" copy "$FROM" "$TO" --incremental updated_at,id --batch-rows 100 -q >"$TMP/kill.out" 2>&1 &
	pid=$!
	for _ in $(seq 1 500); do
		n=$(q "$D" inc_dst "SELECT count(*) FROM t" 2>/dev/null || echo 0)
		[ "${n:-0}" -ge 300 ] && break
		sleep 0.02
	done
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	n=$(q "$D" inc_dst "SELECT count(*) FROM t")
	if [ "$n" -gt 0 ] && [ "$n" -lt 3000 ]; then pass "killed mid-run ($n of 3000 rows in)"; else fail "not mid-run: $n rows"; fi
	run_sluice ck 0 checkpoints "$TO"
	WC=$(printf '%s\n' "$OUT" | awk -F'\t' '$2 == "t" && NF == 5 {print $3}')
	WK=$(printf '%s\n' "$OUT" | awk -F'\t' '$2 == "t" && NF == 5 {print $4}')
	# every committed row is at or below the watermark, and every source
	# row at or below it is committed: none skipped, none ahead
	assert_eq "rows at or below the watermark ($WC, $WK)" "$n" \
		"$(q "$S" inc_src "SELECT count(*) FROM t WHERE updated_at < '$WC' OR (updated_at = '$WC' AND id <= $WK)")"
	assert_eq "none past it" 0 \
		"$(q "$D" inc_dst "SELECT count(*) FROM t WHERE updated_at > '$WC' OR (updated_at = '$WC' AND id > $WK)")"

	test_case "$S->$D: a row updated during the run is in after the next run"
	"$SLUICE" copy "$FROM" "$TO" --incremental updated_at,id --batch-rows 100 -q >"$TMP/during.out" 2>&1 &
	pid=$!
	for _ in $(seq 1 500); do
		m=$(q "$D" inc_dst "SELECT count(*) FROM t" 2>/dev/null || echo 0)
		[ "${m:-0}" -gt $((n + 100)) ] && break
		sleep 0.02
	done
	q "$S" inc_src "UPDATE t SET v = 'during', updated_at = '2025-01-01 00:00:00.000001' WHERE id = 1"
	m=$(q "$D" inc_dst "SELECT count(*) FROM t")
	wait $pid
	assert_status "run during the update" 0 $?
	if [ "$m" -lt 3000 ]; then pass "updated mid-run ($m of 3000 rows in)"; else fail "not mid-run: $m rows"; fi
	run_sluice after 0 copy "$FROM" "$TO" --incremental updated_at,id --batch-rows 100 \
		--null-cursor include
	assert_eq "the update is in" during "$(q "$D" inc_dst "SELECT v FROM t WHERE id = 1")"
	assert_eq "rows" 3002 "$(q "$D" inc_dst "SELECT count(*) FROM t")"
	same "$S->$D after kill" "$S" inc_src "$D" inc_dst
done

test_case "usage errors"
run_sluice nokey 2 copy "$MY_BASE/inc_src" "$MY_BASE/inc_dst" --incremental nosuch,id
assert_contains "names the column" "no column nosuch" "$OUT"
run_sluice softalone 2 copy "$MY_BASE/inc_src" "$MY_BASE/inc_dst" --incremental updated_at --soft 'x=now()' 
run_sluice badsoft 2 copy "$MY_BASE/inc_src" "$MY_BASE/inc_dst" --incremental updated_at --delete-missing --soft x
run_sluice badlag 2 copy "$MY_BASE/inc_src" "$MY_BASE/inc_dst" --incremental updated_at --lag 5x

# text keys: the two sides' keys merge in the order of their bytes, whatever
# each server's collation (a case- and accent-blind one on MariaDB sorts
# a, B, c, É; the bytes sort B, a, c, É)
for pair in "my pg" "pg my"; do
	set -- $pair
	S=$1 D=$2
	test_case "$S->$D: --delete-missing with a text key under a case-blind collation"
	fresh inc_src
	fresh inc_dst
	if [ "$S" = my ]; then
		COLL="COLLATE utf8mb4_unicode_ci"
	else
		COLL=""
	fi
	q "$S" inc_src "CREATE TABLE t (code varchar(20) $COLL PRIMARY KEY, updated_at $(ts "$S") NOT NULL, v int)"
	q "$S" inc_src "INSERT INTO t VALUES ('a', '2024-01-01 00:00:01', 1), ('B', '2024-01-01 00:00:02', 2),
		('c', '2024-01-01 00:00:03', 3), ('É', '2024-01-01 00:00:04', 4), ('ab', '2024-01-01 00:00:05', 5),
		('Zz', '2024-01-01 00:00:06', 6), ('d', '2024-01-01 00:00:07', 7)"
	assert_eq "the source's rows" 7 "$(q "$S" inc_src "SELECT count(*) FROM t")"
	if [ "$S" = pg ]; then
		# the source's keys in the order the target's collation would not
		# give: the merge must not depend on it
		q "$S" inc_src "INSERT INTO t VALUES ('A', '2024-01-01 00:00:08', 8)"
	fi
	run_sluice textfirst 0 copy "$(url "$S" inc_src)" "$(url "$D" inc_dst)" --create --incremental updated_at,code
	q "$S" inc_src "DELETE FROM t WHERE code IN ('B', 'É', 'ab')"
	run_sluice textdel 0 copy "$(url "$S" inc_src)" "$(url "$D" inc_dst)" --incremental updated_at,code \
		--delete-missing --summary-json "$TMP/td.json"
	assert_eq "three deleted" 3 "$(jf rows_deleted "$TMP/td.json")"
	assert_eq "the others kept" "$(q "$S" inc_src "SELECT code FROM t ORDER BY v")" \
		"$(q "$D" inc_dst "SELECT code FROM t ORDER BY v")"
	same "$S->$D text keys" "$S" inc_src "$D" inc_dst
done

# a unique index besides the key (pagila's rental): MySQL's upsert would
# update the row a new one collides with on it, so the rows go by the key
# alone; rows trading unique values within one run all go in
for pair in "pg my" "my my"; do
	set -- $pair
	S=$1 D=$2
	test_case "$S->$D: a unique index besides the key, values traded within a run"
	fresh inc_src
	fresh inc_dst
	q "$S" inc_src "CREATE TABLE t (id int PRIMARY KEY, code varchar(10) NOT NULL, at $(ts "$S") NOT NULL, CONSTRAINT t_code_uq UNIQUE (code))"
	q "$S" inc_src "INSERT INTO t VALUES (1, 'a', '2024-01-01 00:00:01'), (2, 'b', '2024-01-01 00:00:02'), (3, 'c', '2024-01-01 00:00:03'), (4, 'd', '2024-01-01 00:00:04')"
	run_sluice "uq-first-$S$D" 0 copy "$(url "$S" inc_src)" "$(url "$D" inc_dst)" --create --incremental at
	# 2 takes the code 1 gives up and 3 the one 4 gives up, each read
	# before the row that frees it; 5 is new and takes 2's old code
	q "$S" inc_src "UPDATE t SET code = 'x', at = '2024-02-01 00:00:02' WHERE id = 1"
	q "$S" inc_src "UPDATE t SET code = 'a', at = '2024-02-01 00:00:01' WHERE id = 2"
	q "$S" inc_src "UPDATE t SET code = 'e', at = '2024-02-01 00:00:04' WHERE id = 4"
	q "$S" inc_src "UPDATE t SET code = 'd', at = '2024-02-01 00:00:03' WHERE id = 3"
	q "$S" inc_src "INSERT INTO t VALUES (5, 'b', '2024-02-01 00:00:00')"
	run_sluice "uq-second-$S$D" 0 copy "$(url "$S" inc_src)" "$(url "$D" inc_dst)" --incremental at
	assert_eq "$S->$D: every row as the source has it" "1 x
2 a
3 d
4 e
5 b" "$(q "$D" inc_dst "SELECT id, code FROM t ORDER BY id" | tr '\t' ' ')"
	same "$S->$D unique besides the key" "$S" inc_src "$D" inc_dst
	# two rows trading their codes cannot go in row by row: refused, said
	q "$S" inc_src "UPDATE t SET code = 'y' WHERE id = 1"
	q "$S" inc_src "UPDATE t SET code = 'x', at = '2024-03-01 00:00:01' WHERE id = 2"
	q "$S" inc_src "UPDATE t SET code = 'a', at = '2024-03-01 00:00:02' WHERE id = 1"
	run_sluice "uq-swap-$S$D" 1 copy "$(url "$S" inc_src)" "$(url "$D" inc_dst)" --incremental at
	assert_contains "$S->$D: a trade is refused, naming the index" "Duplicate entry" "$OUT"
	assert_eq "$S->$D: nothing of it written" "1 x
2 a" "$(q "$D" inc_dst "SELECT id, code FROM t WHERE id < 3 ORDER BY id" | tr '\t' ' ')"
done

finish
