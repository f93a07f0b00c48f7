#!/usr/bin/env bash
# tests/integration/t_sqlite.sh - SQLite as a server: URLs, a CSV loaded
# into a new and an existing file, upserts and updates, and copies from
# SQLite to PostgreSQL and MariaDB and back, with every storage class,
# NULLs, blobs holding 0x00, emoji, int64 extremes, WITHOUT ROWID and
# AUTOINCREMENT tables, timestamps as text, epoch and Julian days, and a
# value whose class does not fit its column rejected with its reason.
# Contents are read back with the sqlite3 CLI, psql and mariadb.
. "$(dirname "$0")/lib.sh"
export PGTZ=UTC

command -v sqlite3 >/dev/null || {
	echo "t_sqlite: the sqlite3 CLI is missing (scripts/install-deps.sh installs it)" >&2
	exit 1
}
# lite FILE SQL...: the sqlite3 CLI, '|' between values, NULL printed as NULL
lite() {
	local f=$1
	shift
	sqlite3 -batch -bail -cmd '.nullvalue NULL' "$f" "$@"
}

DB=sqlt
fresh $DB
PG=$PG_BASE/$DB
MY=$MY_BASE/$DB
cd "$TMP" || exit 1

# ---------------------------------------------------------------- URLs
test_case "sqlite URLs"
lite "$TMP/u.db" "CREATE TABLE x(a)"
run_sluice ping_abs 0 ping "sqlite://$TMP/u.db"
assert_contains "sqlite:///absolute names the file" "SQLite 3." "$OUT"
run_sluice ping_rel 0 ping "sqlite:u.db"
assert_contains "sqlite:relative names the file" "SQLite 3." "$OUT"
run_sluice ping_host 2 ping "sqlite://db1/x.db"
assert_contains "a host is refused" "a SQLite database is a local file" "$OUT"
run_sluice ping_ro_missing 2 ping "sqlite:missing.db?mode=ro"
assert_contains "mode=ro does not create a file" "no such database file" "$OUT"
[ ! -e missing.db ] && pass "no file made" || fail "missing.db was created"
# verify of a file that is not there, on either side: said once, exit 2
# (it crashed, 139, ending the snapshot the missing file never had)
lite "$TMP/v.db" "CREATE TABLE va(a int); CREATE TABLE vb(b int)"
run_sluice verify_missing_from 2 verify "sqlite:gone.db" "sqlite://$TMP/v.db"
assert_eq "the missing FROM, said once" "1" "$(grep -c 'no such database file' <<<"$OUT")"
run_sluice verify_missing_to 2 verify "sqlite://$TMP/v.db" "sqlite:gone.db"
assert_eq "the missing TO, said once" "1" "$(grep -c 'no such database file' <<<"$OUT")"
[ ! -e gone.db ] && pass "verify made no file" || fail "gone.db was created"
run_sluice typo 2 load x.csv "sqlit:x.db"
assert_contains "a misspelt scheme is named" "did you mean sqlite:?" "$OUT"
run_sluice unknown 2 load x.csv "oracle://h/x"
assert_contains "the registry lists every scheme" "postgresql://, mysql:// or sqlite:" "$OUT"
out=$("$SLUICE" --help)
assert_contains "--help shows the sqlite: form" "sqlite:///absolute/path.db" "$out"

test_case "a WAL file in a directory the user cannot write"
# a reader of a WAL database needs its -shm file, which SQLite cannot make
# there: the message says why and what to do (as root, run as nobody)
wd=$(mktemp -d /tmp/sluice-wal.XXXXXX)
mkdir "$wd/db"
lite "$wd/db/w.db" "PRAGMA journal_mode=WAL; CREATE TABLE a (x); INSERT INTO a VALUES (1)" >/dev/null
cp "$SLUICE" "$wd/sluice"
chmod 755 "$wd" "$wd/sluice"
chmod 555 "$wd/db"
as_user=()
[ "$(id -u)" = 0 ] && as_user=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
out=$(cd "$wd/db" && "${as_user[@]}" "$wd/sluice" ping sqlite:w.db 2>&1)
assert_contains "the WAL file and the way out are named" \
	"(a database in WAL mode: reading it needs its -wal and -shm files, which this user cannot create in that directory; copy the file somewhere writable)" "$out"
chmod 755 "$wd/db"
rm -rf "$wd"

# ---------------------------------------------------------------- load
test_case "load a CSV into SQLite"
printf 'id,name,amount,born,flag,big\n1,Ann 😀,12.50,2024-01-02T03:04:05Z,true,9223372036854775807\n2,Bob,7,2023-05-06 07:08:09,false,-9223372036854775808\n3,,0.1,,,0\n' >people.csv
run_sluice load_dry 0 load people.csv sqlite:l.db --create --key id --dry-run
assert_contains "dry-run names the SQLite types" '"amount" DECIMAL TEXT' "$OUT"
[ ! -e l.db ] && pass "a dry run leaves no file" || fail "a dry run made l.db"
run_sluice load_create 0 load people.csv sqlite:l.db --create --key id
assert_eq "rows and storage classes" \
	"1|Ann 😀|12.50|text|2024-01-02 03:04:05|1|integer|9223372036854775807|integer
2|Bob|7|text|2023-05-06 07:08:09|0|integer|-9223372036854775808|integer
3|NULL|0.1|text|NULL|NULL|null|0|integer" \
	"$(lite l.db "select id, name, amount, typeof(amount), born, flag, typeof(flag), big, typeof(big) from people order by id")"
assert_contains "a decimal is declared DECIMAL TEXT" '"amount" DECIMAL TEXT' "$(lite l.db .schema)"

test_case "upsert and update into SQLite"
printf 'id,name,amount,born,flag,big\n2,Bobby,8,2023-05-06 07:08:09,true,5\n4,Dan,1e3,,false,6\n' >up.csv
run_sluice upsert 0 load up.csv sqlite:l.db --table people --key id --on-conflict update \
	--summary-json "$TMP/up.json"
assert_contains "the summary: one inserted" '"rows_inserted": 1,' "$(cat "$TMP/up.json")"
assert_contains "the summary: one updated" '"rows_updated": 1,' "$(cat "$TMP/up.json")"
assert_eq "row 2 updated, row 4 inserted" "1|Ann 😀|12.50
2|Bobby|8
3|NULL|0.1
4|Dan|1e3" "$(lite l.db "select id, name, amount from people order by id")"
printf 'id,name\n1,skip-me\n5,Eve\n' >skip.csv
run_sluice skip 0 load skip.csv sqlite:l.db --table people --key id --on-conflict skip
assert_eq "skip keeps row 1, adds row 5" "Ann 😀|Eve" \
	"$(lite l.db "select group_concat(name, '|') from (select name from people where id in (1, 5) order by id)")"
printf 'id,amount\n1,N/A\n' >bad_amount.csv
run_sluice not_a_number 3 load bad_amount.csv sqlite:l.db --table people --key id --on-conflict update
assert_contains "a DECIMAL TEXT holds numbers only" "column amount (DECIMAL): 'N/A' is not a number" "$OUT"
printf 'id,amount\n1,99.5\n9,1\n' >upd.csv
run_sluice update 3 update upd.csv sqlite:l.db --table people --key id
assert_eq "update set the matched row" "99.5" "$(lite l.db "select amount from people where id = 1")"
assert_contains "the unmatched key is counted, in one line" "1 key matched no row (not found)" "$OUT"

test_case "values SQLite would change are refused"
lite t.db "CREATE TABLE n(id INTEGER PRIMARY KEY, i INTEGER, r REAL, d DECIMAL(10,2), s STRING)"
printf 'id,i,r,d,s\n1,12,0.5,1.25,abc\n2,abc,1,1,x\n3,007,1,1,x\n4,1,1,1,007\n5,1,0.1000000000000000055511151231257827,1,x\n6,99999999999999999999,1,1,x\n7,8,1.5e3,2.50,y\n' >n.csv
run_sluice refuse 3 load n.csv sqlite:t.db --table n
assert_eq "only the exact rows are written" "1|12|integer|0.5|real|1.25|abc
7|8|integer|1500.0|real|2.5|y" \
	"$(lite t.db "select id, i, typeof(i), r, typeof(r), d, s from n order by id")"
assert_contains "text in an INTEGER column" "'abc' is not a 64-bit integer" "$OUT"
assert_contains "007 into STRING (NUMERIC affinity)" "SQLite would store '007' as another number" "$OUT"
assert_contains "too many digits for a REAL" "is not a double SQLite can hold exactly" "$OUT"

test_case "an existing file's date and decimal columns hold dates and numbers only"
# NUMERIC affinity keeps any text SQLite cannot read as a number: sluice
# refuses it, as a server's date or decimal column would, on every path
lite dn.db "CREATE TABLE dn (id INTEGER PRIMARY KEY, price DECIMAL(7,2), qty NUMERIC, due DATE, at TIMESTAMP)"
printf 'id,price,qty,due,at
1,4.25,3,2026-03-04,2026-03-04T05:06:07-02:00
2,n/a,1,2026-03-04,
3,1,lots,,
4,1,1,2026-04-31,
5,1,1,2026-03-04 05:06,
6,1,1,,tomorrow
7,,,,
' >dn.csv
run_sluice dn_load 3 load dn.csv sqlite:dn.db --table dn --max-errors 10
assert_eq "the fitting rows, the instant in UTC" "1|4.25|real|3|2026-03-04|2026-03-04 07:06:07
7|NULL|null|NULL|NULL|NULL" "$(lite dn.db "select id, price, typeof(price), qty, due, at from dn order by id")"
assert_contains "text in a DECIMAL(7,2)" "dn.csv:3: column price (DECIMAL): 'n/a' is not a number" "$OUT"
assert_contains "text in a NUMERIC" "dn.csv:4: column qty (DECIMAL): 'lots' is not a number" "$OUT"
assert_contains "a day that does not exist" "dn.csv:5: column due (DATE): '2026-04-31' is not a date (YYYY-MM-DD)" "$OUT"
assert_contains "a time of day in a DATE" "dn.csv:6: column due (DATE): '2026-03-04 05:06' has a time of day, in a column declared a date" "$OUT"
assert_contains "a word in a TIMESTAMP" "dn.csv:7: column at (DATETIME): 'tomorrow' is not a date and time (ISO 8601)" "$OUT"
printf 'id,price,due
1,ten,2026-01-01
8,2.5,2026-01-02
' >dn2.csv
run_sluice dn_upsert 3 load dn2.csv sqlite:dn.db --table dn --key id --on-conflict update --max-errors 5
assert_contains "the upsert refuses it too" "column price (DECIMAL): 'ten' is not a number" "$OUT"
printf 'id,due
1,someday
' >dn3.csv
run_sluice dn_update 3 update dn3.csv sqlite:dn.db --table dn --key id --max-errors 5
assert_contains "and update" "column due (DATE): 'someday' is not a date (YYYY-MM-DD)" "$OUT"
assert_eq "row 1 unchanged, row 8 in" "1|4.25|2026-03-04
7|NULL|NULL
8|2.5|2026-01-02" "$(lite dn.db "select id, price, due from dn order by id")"

test_case "SQLite's own constraints reject their rows only"
lite t.db "CREATE TABLE c (id INTEGER PRIMARY KEY, n INTEGER NOT NULL CHECK (n > 0), u TEXT UNIQUE)"
printf 'id,n,u\n1,5,a\n2,-1,b\n3,,c\n4,7,a\n5,8,e\n' >c.csv
run_sluice constraints 3 load c.csv sqlite:t.db --table c --max-errors 10
assert_eq "the good rows are in" "1|5|a
5|8|e" "$(lite t.db "select * from c order by id")"
assert_contains "CHECK" "c.csv:3: sqlite:t.db: inserting: CHECK constraint failed" "$OUT"
assert_contains "NOT NULL" "c.csv:4: sqlite:t.db: inserting: NOT NULL constraint failed: c.n" "$OUT"
assert_contains "UNIQUE" "c.csv:5: sqlite:t.db: inserting: UNIQUE constraint failed: c.u" "$OUT"

test_case "load --resume into SQLite after a kill"
seq 1 300000 | awk 'BEGIN { print "id,v" } { print $1 ",row " $1 }' >k.csv
lite k.db "CREATE TABLE k (id INTEGER PRIMARY KEY, v TEXT)"
"$SLUICE" load k.csv sqlite:k.db --table k --resume --batch-rows 500 >"$TMP/k1.out" 2>&1 &
pid=$!
for _ in $(seq 1 200); do
	n=$(lite k.db -cmd '.timeout 2000' "select count(*) from k" 2>/dev/null || echo 0)
	[ "${n:-0}" -gt 0 ] && break
	sleep 0.05
done
{
	kill -9 $pid
	wait $pid
} 2>/dev/null
before=$(lite k.db "select count(*) from k")
if [ "$before" -gt 0 ] && [ "$before" -lt 300000 ]; then pass "killed mid-run ($before rows in)"; else fail "killed at $before rows"; fi
assert_eq "the checkpoints are in the SQLite file" "1" \
	"$(lite k.db "select count(*) > 0 from sluice_checkpoints")"
run_sluice resume 0 load k.csv sqlite:k.db --table k --resume --batch-rows 500
assert_eq "every row once" "300000|300000|1|300000" \
	"$(lite k.db "select count(*), count(distinct id), min(id), max(id) from k")"
assert_eq "the rows the killed run wrote are resumed, not read again" "$before" \
	"$(awk '$3 == "k" { print $(NF-4) }' "$TMP/resume.out")"

test_case "copy --resume into SQLite after a kill, and the job's lock"
lite big.db "CREATE TABLE big (id INTEGER PRIMARY KEY, v TEXT)"
lite big.db "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500000)
	INSERT INTO big SELECT i, 'row ' || i FROM n"
"$SLUICE" copy sqlite:big.db sqlite:big2.db --create --resume --batch-rows 500 >"$TMP/c1.out" 2>&1 &
pid=$!
for _ in $(seq 1 200); do
	n=$(lite big2.db -cmd '.timeout 2000' "select count(*) from big" 2>/dev/null || echo 0)
	[ "${n:-0}" -gt 0 ] && break
	sleep 0.05
done
{
	kill -9 $pid
	wait $pid
} 2>/dev/null
before=$(lite big2.db "select count(*) from big")
if [ "$before" -gt 0 ] && [ "$before" -lt 500000 ]; then pass "killed mid-copy ($before rows in)"; else fail "killed at $before rows"; fi
# a second run of the job waits for the first
"$SLUICE" copy sqlite:big.db sqlite:big2.db --create --resume --batch-rows 500 >"$TMP/c2.out" 2>&1 &
pid=$!
run_sluice copy_resume 0 copy sqlite:big.db sqlite:big2.db --create --resume --batch-rows 500
wait $pid
assert_eq "the other run ended well" "0" "$?"
assert_eq "every row once" "500000|500000" "$(lite big2.db "select count(*), count(distinct id) from big")"
both=$(cat "$TMP/c2.out" "$TMP/copy_resume.out")
assert_contains "one run waited for the other's lock" "is being run by another process" "$both"
assert_contains "the job is named by the file" "job 'copy:sqlite:$TMP/big.db'" "$both"
run_sluice verify_resumed 0 verify sqlite:big.db sqlite:big2.db

test_case "Ctrl-C stops a SQLite load in its one big batch"
lite sig.db "CREATE TABLE k (id INTEGER PRIMARY KEY, v TEXT)"
# a million rows in one batch: the signal comes while its INSERTs run (the
# journal is there once the write transaction has begun)
seq 1 1000000 | awk 'BEGIN { print "id,v" } { print $1 ",row " $1 }' >sig.csv
"$SLUICE" load sig.csv sqlite:sig.db --table k --batch-rows 1000000 >"$TMP/sig.out" 2>&1 &
pid=$!
for _ in $(seq 1 1000); do
	[ -e sig.db-journal ] && break
	sleep 0.01
done
start=$(date +%s%N)
kill -INT $pid
wait $pid
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
assert_eq "exit 130" "130" "$rc"
if [ "$ms" -lt 5000 ]; then pass "ended ${ms} ms after the signal"; else fail "took ${ms} ms"; fi
assert_eq "nothing half-written" "0" "$(lite sig.db "select count(*) from k")"

test_case "copy --workers reads one snapshot while the file is written"
lite tr.db "CREATE TABLE acct (id INTEGER PRIMARY KEY, v INTEGER NOT NULL);
	WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200000)
	INSERT INTO acct SELECT i, 100 FROM n"
# transfers between the first and the last row, each in one transaction:
# the total never changes
(
	for _ in $(seq 1 400); do
		lite tr.db -cmd '.timeout 5000' "BEGIN IMMEDIATE; UPDATE acct SET v = v - 1 WHERE id = 1;
			UPDATE acct SET v = v + 1 WHERE id = 200000; COMMIT" 2>/dev/null
	done
) &
wpid=$!
sleep 0.2
run_sluice tr_copy 0 copy sqlite:tr.db "$PG" --create --workers 2 --split-rows 50000
kill $wpid 2>/dev/null
wait $wpid 2>/dev/null
assert_not_contains "the workers share one snapshot" "each reads its own snapshot" "$OUT"
assert_eq "one instant: every row, the total unchanged" "200000 20000000" \
	"$(pgd $DB -c "SELECT count(*) || ' ' || sum(v) FROM acct")"

test_case "copy --workers: a key holding NULLs or text is read whole"
# SQLite lets a PRIMARY KEY other than INTEGER PRIMARY KEY hold NULLs, and
# an INTEGER key of a WITHOUT ROWID table hold text: no key range holds
# those rows, so the table is read by one reader and each row judged
lite nk.db "CREATE TABLE nk (id INT PRIMARY KEY, v TEXT);
	WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
	INSERT INTO nk SELECT i * 7, 'v' || i FROM n;
	INSERT INTO nk VALUES (NULL, 'no key'), (NULL, 'no key either');
	CREATE TABLE tk (id INTEGER NOT NULL PRIMARY KEY, v TEXT) WITHOUT ROWID;
	INSERT INTO tk SELECT id, v FROM nk WHERE id IS NOT NULL;
	INSERT INTO tk VALUES ('k-1', 'a text key')"
run_sluice nk 3 copy sqlite:nk.db "$PG" --tables nk --create --workers 2 --split-rows 1000 --max-errors 5
assert_eq "every keyed row, the NULL keys rejected, not lost" "3000 21000 3000" \
	"$(pgd $DB -c "select count(*) || ' ' || max(id) || ' ' || count(distinct v) from nk")"
assert_eq "the two NULL keys rejected, each named" "2" "$(grep -c 'rejected nk:' "$TMP/nk.out")"
assert_contains "by the target's own check" 'null value in column "id"' "$OUT"
run_sluice tk 3 copy sqlite:nk.db "$PG" --tables tk --create --workers 2 --split-rows 1000 --max-errors 5
assert_eq "every integer key, the text key rejected" "3000 21000 3000" \
	"$(pgd $DB -c "select count(*) || ' ' || max(id) || ' ' || count(distinct v) from tk")"
assert_contains "the text key named" "column id: TEXT value 'k-1' in a column declared INTEGER" "$OUT"

test_case "one writer"
seq 1 3000 | sed '1i id' >ids.csv
run_sluice workers 0 load ids.csv sqlite:w.db --table ids --create --workers 3 --batch-rows 100
assert_eq "every row written with three workers" "3000" "$(lite w.db "select count(*) from ids")"
assert_contains "the extra writers are said to gain nothing" "SQLite has one writer" "$OUT"

# ---------------------------------------------------------------- a source
lite src.db <<'EOF'
CREATE TABLE kinds (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    i INTEGER, r REAL, t TEXT, b BLOB, n NUMERIC, vc VARCHAR(20), dt DATETIME, ok BOOLEAN,
    d DECIMAL(12,3), free
);
INSERT INTO kinds VALUES
 (1, 9223372036854775807, 0.1, 'emoji 😀 and ''quotes''', x'00ff0041', 42, 'short',
  '2024-01-02 03:04:05', 1, 12.5, 'anything'),
 (2, -9223372036854775808, -1.5e300, 'tab	and newline
here', x'00', 3.25, '', 1700000000, 0, -0.125, 7),
 (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (5, 0, 1.0000000000000002, 'ünïcödé', x'', 7, 'x', 2460000.5, 1, 0, 2.5);
CREATE TABLE wr (k TEXT PRIMARY KEY, v INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO wr VALUES ('a', 1), ('b', 2), ('😀', 3);
CREATE TABLE bad (id INTEGER PRIMARY KEY, n INTEGER, note TEXT);
INSERT INTO bad VALUES (1, 10, 'ok'), (2, 'abc', 'text in an INTEGER column'), (3, 30, 'ok'),
 (4, x'01', 'a blob in an INTEGER column');
EOF

test_case "copy SQLite to PostgreSQL"
run_sluice to_pg_dry 0 copy sqlite:src.db "$PG" --tables kinds --create --dry-run
assert_contains "dry-run names the timestamp storage" \
	"1 values as text, 1 as unix epoch integers, 1 as Julian day numbers" "$OUT"
assert_contains "dry-run maps the declared types" "kinds.d: decimal(12,3) -> numeric(12,3)" "$OUT"
run_sluice to_pg 0 copy sqlite:src.db "$PG" --tables kinds,wr --create
run_sluice verify_to_pg 0 verify sqlite:src.db "$PG" --tables kinds,wr
assert_contains "verify: SQLite against PostgreSQL" "kinds	4	4	match" "$OUT"
assert_eq "every value, exactly" \
	"1	9223372036854775807	0.1	emoji 😀 and 'quotes'	\\x00ff0041	42	short	2024-01-02 03:04:05	t	12.500	anything
2	-9223372036854775808	-1.5e+300	tab	and newline
here	\\x00	3.25		2023-11-14 22:13:20	f	-0.125	7
3	NULL	NULL	NULL	NULL	NULL	NULL	NULL	NULL	NULL	NULL
5	0	1.0000000000000002	ünïcödé	\\x	7	x	2023-02-25 00:00:00	t	0.000	2.5" \
	"$(pgd $DB -c "select * from kinds order by id")"
assert_eq "the AUTOINCREMENT key is an identity" "d" \
	"$(pgd $DB -c "select attidentity from pg_attribute where attrelid = 'kinds'::regclass and attname = 'id'")"
assert_eq "WITHOUT ROWID table and its key" "a	1
b	2
😀	3
wr_pkey" "$(pgd $DB -c "select * from wr order by v" -c "select conname from pg_constraint where conrelid = 'wr'::regclass")"

test_case "a value whose class does not fit is a reject"
run_sluice bad_pg 3 copy sqlite:src.db "$PG" --tables bad --create --max-errors 5
assert_eq "the fitting rows are copied" "1,3" "$(pgd $DB -c "select string_agg(id::text, ',' order by id) from bad")"
assert_contains "the reason names row and column" \
	"row 2, column n: TEXT value 'abc' in a column declared INTEGER" "$OUT"
assert_contains "a blob too" "row 4, column n: a BLOB value in a column declared INTEGER" "$OUT"

test_case "timestamps held four ways"
lite ts.db "CREATE TABLE ts (id INTEGER PRIMARY KEY, at DATETIME);
	INSERT INTO ts VALUES (1, '2023-11-14 22:13:20'), (2, 1700000000), (3, 2460263.425925926),
	(4, 1700000000.25), (5, 1700000000000)"
run_sluice ts 3 copy sqlite:ts.db "$PG" --create --max-errors 5
assert_contains "each way counted" "1 values as text, 2 as unix epoch integers, 1 as Julian day numbers, 1 as unix epoch seconds with a fraction" "$OUT"
assert_eq "one instant four ways" "1	2023-11-14 22:13:20
2	2023-11-14 22:13:20
3	2023-11-14 22:13:20
4	2023-11-14 22:13:20.25" "$(pgd $DB -c "select * from ts order by id")"
assert_contains "epoch milliseconds are not taken for seconds" "row 5, column at: 1700000000000 out of range for a date" "$OUT"

test_case "zoned text, a time in a date, HH:MM times: one reading on both servers"
# SQLite's date functions read "+hh:mm" and "Z" as a zone: the instant in
# UTC, as the MariaDB path and verify read it (PostgreSQL's timestamp
# would drop the zone); a date column holding a time of day is refused
lite zt.db "CREATE TABLE zt (id INTEGER PRIMARY KEY, at DATETIME, day DATE, hm TIME);
	INSERT INTO zt VALUES (1, '2025-07-01 01:15:00.25+03:00', '2025-07-01', '08:30'),
	(2, '2025-06-30T22:00:00-04:30', '2025-06-30T00:00:00', '17:45:30.5'),
	(3, '2025-12-31 23:59:59Z', '2025-12-31 12:00:00', '00:00'),
	(4, '2025-01-01 10:00:00 +0100', '2025-01-01', '23:59'),
	(5, '2025-02-03 04:05:06', '2025-02-03', NULL)"
for side in pg my; do
	[ $side = pg ] && to=$PG || to=$MY
	run_sluice zt_$side 3 copy sqlite:zt.db "$to" --tables zt --create --max-errors 5
	assert_contains "$side: a time of day in a date column is refused" \
		"row 3, column day: '2025-12-31 12:00:00' has a time of day, in a column declared a date" "$OUT"
	assert_contains "$side: a zone after a space is refused, not dropped" \
		"row 4, column at: '2025-01-01 10:00:00 +0100' has a time zone sluice cannot read" "$OUT"
done
assert_eq "PostgreSQL: the instants in UTC, the date alone" "1	2025-06-30 22:15:00.25	2025-07-01	08:30:00
2	2025-07-01 02:30:00	2025-06-30	17:45:30.5
5	2025-02-03 04:05:06	2025-02-03	NULL" "$(pgd $DB -c "select * from zt order by id")"
assert_eq "MariaDB: the same instants" "1	2025-06-30 22:15:00.250000	2025-07-01	08:30:00.000000
2	2025-07-01 02:30:00.000000	2025-06-30	17:45:30.500000
5	2025-02-03 04:05:06.000000	2025-02-03	NULL" "$(myd $DB -e "select * from zt order by id")"
lite zt.db "DELETE FROM zt WHERE id IN (3, 4)"
run_sluice zt_verify_pg 0 verify sqlite:zt.db "$PG" --tables zt
assert_contains "verify reads HH:MM and zones as copy does (PostgreSQL)" "zt	3	3	match" "$OUT"
run_sluice zt_verify_my 0 verify sqlite:zt.db "$MY" --tables zt
assert_contains "verify reads HH:MM and zones as copy does (MariaDB)" "zt	3	3	match" "$OUT"

test_case "date and time text no server reads alike is refused, not reread"
# PostgreSQL reads '03/04/2021' month first, 'yesterday' and 'epoch' as
# dates, and '23:59:60' as the next minute; MariaDB refuses them: the
# source's reader refuses them for every target
lite dt.db "CREATE TABLE dt (id INTEGER PRIMARY KEY, at TIMESTAMP, day DATE, t TIME);
	INSERT INTO dt VALUES (1, '2021-03-04 05:06:07', '2021-03-04', '05:06'),
	(2, '03/04/2021 05:06', '2021-03-04', NULL), (3, 'yesterday', NULL, NULL),
	(4, '2021-03-04', 'epoch', NULL), (5, NULL, 'March 4, 2021', NULL),
	(6, NULL, NULL, '23:59:60'), (7, NULL, NULL, 'allballs'), (8, '2021-03-04T05:06:07.5', '2021-03-04', '12:30:00.5')"
for side in pg my; do
	[ $side = pg ] && to=$PG || to=$MY
	run_sluice dt_$side 3 copy sqlite:dt.db "$to" --tables dt --create --max-errors 10
	assert_contains "$side: month-first text" "row 2, column at: '03/04/2021 05:06' is not a date and time (ISO 8601)" "$OUT"
	assert_contains "$side: a word for a day" "row 3, column at: 'yesterday' is not a date and time" "$OUT"
	assert_contains "$side: a word in a date column" "row 4, column day: 'epoch' is not a date (YYYY-MM-DD)" "$OUT"
	assert_contains "$side: a date in words" "row 5, column day: 'March 4, 2021' is not a date" "$OUT"
	assert_contains "$side: a 60th second" "row 6, column t: '23:59:60' is not a time (HH:MM[:SS])" "$OUT"
	assert_contains "$side: a word for a time" "row 7, column t: 'allballs' is not a time" "$OUT"
done
assert_eq "PostgreSQL: the ISO rows only" "1	2021-03-04 05:06:07	2021-03-04	05:06:00
8	2021-03-04 05:06:07.5	2021-03-04	12:30:00.5" "$(pgd $DB -c "select id, at, day, t::text from dt order by id" 2>&1 | sed 's/ERROR.*/refused/')"
assert_eq "MariaDB: the same rows" "1 8" "$(myd $DB -e "select id from dt order by id" | tr '\n' ' ' | sed 's/ $//')"

test_case "copy SQLite to MariaDB"
run_sluice to_my 0 copy sqlite:src.db "$MY" --tables kinds,wr --create
run_sluice verify_to_my 0 verify sqlite:src.db "$MY" --tables kinds,wr
assert_contains "verify: SQLite against MariaDB" "wr	3	3	match" "$OUT"
# NUMERIC without digits is MariaDB's widest decimal, decimal(65,30)
assert_eq "every value, exactly" \
	"1	9223372036854775807	0.1	emoji 😀 and 'quotes'	00FF0041	42	short	2024-01-02 03:04:05.000000	1	12.500	anything
2	-9223372036854775808	-1.5e300	tab	and newline
here	00	3.25		2023-11-14 22:13:20.000000	0	-0.125	7
3	NULL	NULL	NULL	NULL	NULL	NULL	NULL	NULL	NULL	NULL
5	0	1.0000000000000002	ünïcödé		7	x	2023-02-25 00:00:00.000000	1	0.000	2.5" \
	"$(myd $DB -e "select id, i, r, t, hex(b), n + 0e0, vc, dt, ok, d, free from kinds order by id" | sed 's/\\t/\t/g; s/\\n/\n/g')"
assert_eq "WITHOUT ROWID rows" "a 1 b 2 😀 3" "$(myd $DB -e "select k, v from wr order by v" | tr '\t\n' '  ' | sed 's/ $//')"

test_case "an application's schema: Django-style tables to PostgreSQL"
lite dj.db <<'EOF'
CREATE TABLE "auth_user" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "password" varchar(128) NOT NULL,
 "last_login" datetime NULL, "is_superuser" bool NOT NULL, "username" varchar(150) NOT NULL UNIQUE,
 "date_joined" datetime NOT NULL);
CREATE TABLE "shop_order" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "total" decimal NOT NULL,
 "created" datetime NOT NULL, "note" text NULL,
 "user_id" integer NOT NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED);
CREATE INDEX "shop_order_user_id_idx" ON "shop_order" ("user_id");
CREATE INDEX "shop_order_lower" ON "shop_order" (lower(note));
CREATE TABLE "Order Details" ("OrderID" INTEGER NOT NULL, "ProductID" INTEGER NOT NULL,
 "UnitPrice" NUMERIC NOT NULL DEFAULT 0, "Discount" REAL NOT NULL DEFAULT 0,
 PRIMARY KEY ("OrderID", "ProductID"));
CREATE VIRTUAL TABLE notes_fts USING fts5(body);
INSERT INTO auth_user VALUES (1, 'pbkdf2$x', NULL, 1, 'admin', '2024-01-02 03:04:05.123456'),
 (2, 'p', '2024-02-03 04:05:06', 0, 'ünï', '2024-01-02 03:04:05');
INSERT INTO shop_order VALUES (1, 19.99, '2024-01-02 03:04:05.5', 'first', 1), (2, 5, '2024-01-02 03:04:05', NULL, 2);
INSERT INTO "Order Details" VALUES (10248, 11, 14, 0), (10248, 42, 9.8, 0.15);
INSERT INTO notes_fts VALUES ('hello');
EOF
run_sluice django 0 copy sqlite:dj.db "$PG" --create --tables auth_user,shop_order,"Order Details"
assert_eq "values" "1	pbkdf2\$x	NULL	t	admin	2024-01-02 03:04:05.123456
2	p	2024-02-03 04:05:06	f	ünï	2024-01-02 03:04:05
1	19.99	2024-01-02 03:04:05.5	first	1
2	5	2024-01-02 03:04:05	NULL	2
10248	11	14	0
10248	42	9.8	0.15" "$(pgd $DB -c "select * from auth_user order by id" -c "select * from shop_order order by id" \
	-c "select * from \"Order Details\" order by 2")"
assert_eq "keys: primary and foreign" "f shop_order (user_id)
p Order Details (OrderID,ProductID)
p auth_user (id)
p shop_order (id)" "$(pgd $DB -c "select contype::text || ' ' || conrelid::regclass::text || ' (' ||
	(select string_agg(attname, ',' order by k.o) from unnest(conkey) with ordinality k(n, o)
	join pg_attribute a on a.attrelid = conrelid and a.attnum = k.n) || ')'
	from pg_constraint where conrelid in ('auth_user'::regclass, 'shop_order'::regclass, '\"Order Details\"'::regclass)" |
	sed 's/"//g' | LC_ALL=C sort)"
assert_eq "the foreign key, named as PostgreSQL would" "shop_order_user_id_fkey" \
	"$(pgd $DB -c "select conname from pg_constraint where contype = 'f' and conrelid = 'shop_order'::regclass")"
assert_eq "the UNIQUE column's index, named as PostgreSQL would" \
	"CREATE UNIQUE INDEX auth_user_username_key ON public.auth_user USING btree (username)" \
	"$(pgd $DB -c "select indexdef from pg_indexes where tablename = 'auth_user' and indexname <> 'auth_user_pkey'")"
run_sluice django_all 0 copy sqlite:dj.db "$MY" --create
assert_contains "the FTS table is named, not copied" "virtual table notes_fts is not copied" "$OUT"
assert_contains "the expression index is named, not copied" "index shop_order_lower not carried over" "$OUT"
assert_eq "no shadow table copied" "0" \
	"$(myd $DB -e "select count(*) from information_schema.tables where table_schema = '$DB' and table_name like 'notes_fts%'")"
assert_eq "MariaDB has the rows" "2 2 2" \
	"$(myd $DB -e "select (select count(*) from auth_user), (select count(*) from shop_order), (select count(*) from \`Order Details\`)" | tr '\t' ' ')"

# ---------------------------------------------------------------- a target
test_case "copy PostgreSQL to SQLite"
pgd $DB -c "CREATE TABLE p (id bigserial PRIMARY KEY, i bigint, n numeric(20,5), f float8, r real,
	b bool, by bytea, t text, ts timestamptz, d date, j jsonb, u uuid, s smallint NOT NULL DEFAULT 7)" \
	-c "INSERT INTO p (i, n, f, r, b, by, t, ts, d, j, u) VALUES
	(9223372036854775807, 123456789012345.12345, 0.1, 1.5, true, '\\x00ff00', 'emoji 😀',
	 '2024-01-02 03:04:05.123456+02', '2024-02-29', '{\"a\": 1}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'),
	(-9223372036854775808, -0.00001, 1e-300, -3.4e38, false, '\\x', '', NULL, NULL, NULL, NULL)"
run_sluice from_pg 0 copy "$PG" sqlite:p.db --tables p --create
run_sluice verify_from_pg 0 verify "$PG" sqlite:p.db --tables p
assert_contains "verify: PostgreSQL against SQLite" "p	2	2	match" "$OUT"
assert_eq "values and storage classes" \
	"1|9223372036854775807|123456789012345.12345|text|0.1|1.5|1|integer|00FF00|blob|emoji 😀|2024-01-02 01:04:05.123456|2024-02-29|{\"a\": 1}|a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11|7
2|-9223372036854775808|-0.00001|text|1.0e-300|-3.39999995214436e+38|0|integer||blob||NULL|NULL|NULL|NULL|7" \
	"$(lite p.db "select id, i, n, typeof(n), f, r, b, typeof(b), hex(by), typeof(by), t, ts, d, j, u, s from p order by id")"
assert_eq "the real keeps every bit" "1|0" \
	"$(lite p.db "select r = -3.3999999521443642e38, r = -3.4e38 from p where id = 2")"
assert_contains "the identity is AUTOINCREMENT" '"id" INTEGER PRIMARY KEY AUTOINCREMENT' "$(lite p.db .schema)"
assert_contains "the default is carried" '"s" SMALLINT NOT NULL DEFAULT 7' "$(lite p.db .schema)"

test_case "subnormal doubles and a real's 17 digits into SQLite"
pgd $DB -c "CREATE TABLE sub (id int PRIMARY KEY, f float8, r real)" \
	-c "INSERT INTO sub VALUES (1, 5e-324, 1e-45), (2, 1e-310, 0.1), (3, -2.5e-320, 3.14), (4, 0.1, 1e-40)"
run_sluice sub 0 copy "$PG" sqlite:sub.db --tables sub --create
# PostgreSQL's own shortest text of each double (a real widened to one),
# read by sqlite3 and compared with what the copy stored
vals=$(pgd $DB -c "select string_agg(format('(%s, %L, %L)', id, f::text, r::float8::text), ', ' order by id) from sub")
assert_eq "each double as PostgreSQL holds it" "1|1|1
2|1|1
3|1|1
4|1|1" "$(lite sub.db "with p(id, f, r) as (values $vals)
	select s.id, s.f = cast(p.f as real), s.r = cast(p.r as real) from sub s join p using (id) order by s.id")"
run_sluice sub_verify 0 verify "$PG" sqlite:sub.db --tables sub
assert_contains "verify: the same numbers" "sub	4	4	match" "$OUT"

test_case "copy MariaDB to SQLite"
myd $DB -e "CREATE TABLE m (id int unsigned auto_increment primary key, u bigint unsigned, i bigint,
	d decimal(30,10), g double, b tinyint(1), bt bit(1), vb varbinary(10), t varchar(20),
	dt datetime(3), ts timestamp NULL) DEFAULT CHARSET utf8mb4;
	INSERT INTO m VALUES (NULL, 18446744073709551615, -9223372036854775808, 12345678901234567890.0123456789,
	0.1, 1, b'1', 0x00410042, 'emoji 😀', '2024-01-02 03:04:05.678', '2024-01-02 03:04:05'),
	(NULL, 0, 0, 0, 0, 0, b'0', '', '', NULL, NULL)"
run_sluice from_my 0 copy "$MY" sqlite:m.db --tables m --create
run_sluice verify_from_my 0 verify "$MY" sqlite:m.db --tables m
assert_contains "verify: MariaDB against SQLite" "m	2	2	match" "$OUT"
assert_eq "values and storage classes" \
	"1|18446744073709551615|text|-9223372036854775808|12345678901234567890.0123456789|0.1|1|1|00410042|emoji 😀|2024-01-02 03:04:05.678|2024-01-02 03:04:05
2|0|text|0|0.0000000000|0.0|0|0|||NULL|NULL" \
	"$(lite m.db "select id, u, typeof(u), i, d, g, b, bt, hex(vb), t, dt, ts from m order by id")"

test_case "what a SQLite REAL cannot hold is refused, by column name"
pgd $DB -c "CREATE TABLE inf (id int PRIMARY KEY, r real, f float8)" \
	-c "INSERT INTO inf VALUES (1, '-Infinity', 1), (2, 2, 'NaN'), (3, 3, 3)"
run_sluice inf 3 copy "$PG" sqlite:inf.db --tables inf --create --max-errors 5
assert_contains "a real's infinity, its column named" "row 1, column r: -Infinity: not a finite real value" "$OUT"
assert_contains "a NaN (SQLite stores it as NULL)" "column f (REAL): 'NaN' is not a double SQLite can hold exactly" "$OUT"
assert_eq "the finite row only" "3|3.0|3.0" "$(lite inf.db "select * from inf")"

test_case "MariaDB durations into SQLite: verify reads them as copy wrote them"
myd $DB -e "CREATE TABLE dur (id int PRIMARY KEY, t time(3), t0 time);
	INSERT INTO dur VALUES (1, '-838:59:59.000', '100:00:00'), (2, '07:30:00.250', '-00:00:01'),
	(3, '00:00:00.001', '23:59:59'), (4, NULL, NULL)"
run_sluice dur 0 copy "$MY" sqlite:dur.db --tables dur --create
assert_eq "each duration's text, no fraction's trailing zeros" "1|-838:59:59|100:00:00
2|07:30:00.25|-00:00:01
3|00:00:00.001|23:59:59
4|NULL|NULL" "$(lite dur.db "select * from dur order by id")"
run_sluice dur_verify 0 verify "$MY" sqlite:dur.db --tables dur
assert_contains "verify: the same durations" "dur	4	4	match" "$OUT"
run_sluice dur_back 0 copy sqlite:dur.db "$MY" --tables dur --truncate
assert_eq "and back into time(3), the same" "1	-838:59:59.000	100:00:00
2	07:30:00.250	-00:00:01
3	00:00:00.001	23:59:59
4	NULL	NULL" "$(myd $DB -e "select * from dur order by id")"

test_case "a foreign key into SQLite"
run_sluice fk_back 0 copy "$PG" sqlite:fk.db --create --tables auth_user,shop_order
assert_eq "declared in the CREATE TABLE (SQLite has no ADD CONSTRAINT)" \
	"shop_order_user_id_fkey|auth_user|user_id|id" \
	"$(lite fk.db "select 'shop_order_user_id_fkey', \"table\", \"from\", \"to\" from pragma_foreign_key_list('shop_order')")"
assert_contains "named in the table" 'CONSTRAINT "shop_order_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "auth_user" ("id")' \
	"$(lite fk.db ".schema shop_order")"
assert_not_contains "no foreign key left out" "not carried" "$OUT"

test_case "MySQL's per-table index names and prefixes into SQLite"
myd $DB -e "CREATE TABLE i1 (id int PRIMARY KEY, name varchar(100), t text, KEY idx_name (name), KEY idx_t (t(10)));
	CREATE TABLE i2 (id int PRIMARY KEY, name varchar(100), KEY idx_name (name))"
run_sluice indexes 0 copy "$MY" sqlite:ix.db --create --tables i1,i2
assert_eq "one name per database, whole values" "i1|i1_idx_name|name
i1|i1_idx_t|t
i2|i2_idx_name|name" "$(lite ix.db "select m.name, i.name, c.name from sqlite_master m, pragma_index_list(m.name) i,
	pragma_index_info(i.name) c where m.type = 'table' and i.origin = 'c' order by 1, 2")"

test_case "defaults into SQLite"
pgd $DB -c "CREATE TABLE pd (id int PRIMARY KEY, t text DEFAULT 'a''b', d date DEFAULT '2024-01-01',
	ts timestamptz DEFAULT now(), c date DEFAULT current_date, x text DEFAULT upper('q'))"
run_sluice defaults 0 copy "$PG" sqlite:pd.db --create --tables pd
assert_contains "literals and the current time carry" "\"t\" TEXT DEFAULT 'a''b',
    \"d\" DATE DEFAULT '2024-01-01',
    \"ts\" TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP,
    \"c\" DATE DEFAULT CURRENT_DATE,
    \"x\" TEXT," "$(lite pd.db .schema)"
assert_contains "an expression is named as not carried" "default upper('q'::text) not carried" "$OUT"

test_case "round trip SQLite -> PostgreSQL -> SQLite"
run_sluice back 0 copy "$PG" sqlite:back.db --tables kinds,wr --create
run_sluice verify_back 0 verify sqlite:src.db sqlite:back.db --tables kinds,wr
assert_contains "verify: SQLite against SQLite" "kinds	4	4	match" "$OUT"
lite back.db "UPDATE kinds SET b = x'00ff0042' WHERE id = 1"
run_sluice verify_changed 1 verify "$PG" sqlite:back.db --tables kinds
assert_contains "verify finds one changed byte of a blob" "kinds	4	4	MISMATCH	checksums differ" "$OUT"
lite back.db "UPDATE kinds SET b = x'00ff0041' WHERE id = 1"
assert_eq "the same values come back" \
	"$(lite src.db "select id, i, r, t, hex(b), n, vc, ok from kinds order by id")" \
	"$(lite back.db "select id, i, r, t, hex(b), n, vc, ok from kinds order by id")"
assert_eq "blob and integer classes come back" "blob|integer|real" \
	"$(lite back.db "select typeof(b), typeof(i), typeof(r) from kinds where id = 1")"
assert_eq "WITHOUT ROWID rows come back" "$(lite src.db "select * from wr order by k")" \
	"$(lite back.db "select * from wr order by k")"

test_case "round trip SQLite -> MariaDB -> SQLite"
run_sluice back_my 0 copy "$MY" sqlite:back_my.db --tables kinds --create
run_sluice verify_back_my 0 verify sqlite:src.db sqlite:back_my.db --tables kinds
assert_contains "verify: the SQLite source against its round trip" "kinds	4	4	match" "$OUT"
# n comes back as MariaDB's decimal(65,30) digits: the same number
assert_eq "the same values come back" \
	"$(lite src.db "select id, i, r, t, hex(b), cast(n as real), vc, ok from kinds order by id")" \
	"$(lite back_my.db "select id, i, r, t, hex(b), cast(n as real), vc, ok from kinds order by id")"

test_case "copy into an existing SQLite table, --truncate"
run_sluice again 0 copy "$PG" sqlite:back.db --tables wr --truncate
assert_eq "the rows once" "3" "$(lite back.db "select count(*) from wr")"

test_case "upserts on a NOCASE key: the last record wins, the first with skip"
lite nc.db "CREATE TABLE nc (k TEXT COLLATE NOCASE PRIMARY KEY, v INTEGER)"
awk 'BEGIN { print "k,v"; n = 0; for (i = 1; i <= 1500; i++) { printf "Part-%d,%d\n", i, ++n; printf "PART-%d,%d\n", i, ++n; printf "part-%d,%d\n", i, ++n } }' >nc.csv
run_sluice nc-update 0 load nc.csv sqlite:nc.db --table nc --on-conflict update --key k --batch-rows 200
assert_eq "update: one row a key, the last record's" "1500|1500" "$(lite nc.db "SELECT COUNT(*), SUM(v % 3 = 0) FROM nc")"
lite nc.db "DELETE FROM nc"
run_sluice nc-skip 0 load nc.csv sqlite:nc.db --table nc --on-conflict skip --key k --batch-rows 200
assert_eq "skip: one row a key, the first record's" "1500|1500" "$(lite nc.db "SELECT COUNT(*), SUM(v % 3 = 1) FROM nc")"

finish
