#!/usr/bin/env bash
# tests/integration/t_realdb.sh - sluice copy --create --verify of real public
# sample databases (tests/data/realdb/: MySQL Sakila, Chinook for MySQL and
# PostgreSQL, MySQL Employees with generated rows, PostgreSQL Sakila, Northwind
# as a published SQLite file) in every direction, each into a fresh database,
# checked by a comparison that shares no code with sluice:
# tests/tools/canon_compare.py reads every row of both sides through psql and
# mariadb and compares canonical values as multisets.
# Also: verify says "match" for every table, a plain INSERT takes the
# identity / AUTO_INCREMENT default after the copy, enum labels keep their
# case, PostgreSQL inheritance is read ONLY (no row doubled), a MySQL FLOAT
# keeps its exact bits, and MySQL -> MySQL keeps column types and collations.
#
# SLUICE_REALDB_EMPLOYEES sets the number of generated employees (default
# 2000, about 20,000 salaries); SLUICE_REALDB_LIMIT bounds each sluice run
# in seconds (default 120); SLUICE_REALDB_KEEP=1 keeps the databases afterwards
# (and the SQLite files, in /tmp/sluice-realdb-sqlite).
. "$(dirname "$0")/lib.sh"
export PGTZ=UTC

MY_PORT=${SLUICE_MY_PORT:-33069}
MY_BASE=mysql://root@127.0.0.1:$MY_PORT
PG_BASE=${SLUICE_PG_URL%/*}
RDB=$DATA/realdb
CANON=$ROOT/tests/tools/canon_compare.py
LIMIT=${SLUICE_REALDB_LIMIT:-120}
EMPLOYEES=${SLUICE_REALDB_EMPLOYEES:-2000}
START=$(date +%s)
# the SQLite databases: made by the sqlite3 CLI from the published scripts, or by copies
if [ -n "${SLUICE_REALDB_KEEP:-}" ]; then
	LITE=/tmp/sluice-realdb-sqlite
	rm -rf "$LITE"
else
	LITE=$TMP/lite
fi
mkdir -p "$LITE"

# psql on database $1: tab-separated, NULL printed as NULL, UTC
pgd() {
	local db=$1
	shift
	PGOPTIONS="-c client_min_messages=warning -c timezone=UTC" \
		psql "$PG_BASE/$db" -XAtq -v ON_ERROR_STOP=1 -F $'\t' -P null=NULL "$@"
}
# the MariaDB client on database $1 (batch mode, no column names, UTC)
myd() {
	local db=$1
	shift
	mariadb --no-defaults --default-character-set=utf8mb4 -h127.0.0.1 -P"$MY_PORT" -uroot -N -B \
		--init-command="SET time_zone = '+00:00'" -D "$db" "$@"
}
# the MariaDB client without a database, for loading whole scripts
myload() { mariadb --no-defaults --default-character-set=utf8mb4 -h127.0.0.1 -P"$MY_PORT" -uroot "$@"; }
# rd FILE: a file of tests/data/realdb as it was published (the big ones are gzipped)
rd() {
	if [ -f "$RDB/$1.gz" ]; then zcat "$RDB/$1.gz"; else cat "$RDB/$1"; fi
}

# run_sluice NAME ARGS...: run sluice bounded in time, output in $TMP/NAME.out
# and in OUT, exit code in RC
OUT=""
RC=0
run_sluice() {
	local name=$1
	shift
	timeout -k 5 "$LIMIT" "$SLUICE" "$@" >"$TMP/$name.out" 2>&1
	RC=$?
	OUT=$(cat "$TMP/$name.out")
}
# show_errors FILE: the lines of a sluice run that say what went wrong
show_errors() {
	grep -E 'error|MISMATCH|warning: .*(differ|not)|status' "$1" | grep -v 'sluice: warning: \(view\|trigger\)' |
		head -25 | sed 's/^/    | /'
}

# the base tables of a database, one a line, sorted (C order)
my_tables() {
	myd information_schema -e "SELECT TABLE_NAME FROM TABLES WHERE TABLE_SCHEMA = '$1'
		AND TABLE_TYPE = 'BASE TABLE'" | LC_ALL=C sort
}
pg_tables() {
	pgd "$1" -c "select relname from pg_class where relnamespace = 'public'::regnamespace
		and relkind in ('r', 'p')" | LC_ALL=C sort
}
# the tables of a SQLite file as sluice and canon_compare take them (no
# sqlite_* table, no virtual table), read by the sqlite3 CLI
lite_tables() {
	sqlite3 "$1" "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'
		AND sql NOT LIKE 'CREATE VIRTUAL%'" | LC_ALL=C sort
}
tables_of() { # KIND DB (lite: the file's path)
	case $1 in
	pg) pg_tables "$2" ;;
	lite) lite_tables "$2" ;;
	*) my_tables "$2" ;;
	esac
}
# url_of KIND DB: sluice's URL of a database
url_of() {
	case $1 in
	pg) echo "$PG_BASE/$2" ;;
	lite) echo "sqlite://$2" ;; # an absolute path: sqlite:///abs/path.db
	*) echo "$MY_BASE/$2" ;;
	esac
}
# counts_of KIND DB: "TABLE<TAB>ROWS" a line, sorted, counted by the server's
# own client (sqlite3 for a SQLite file), one query for all the tables
counts_of() {
	local t q=""
	for t in $(tables_of "$1" "$2"); do
		case $1 in
		pg) q="$q${q:+ union all }select '$t', count(*) from only \"$t\"" ;;
		lite) q="$q${q:+ UNION ALL }SELECT '$t', COUNT(*) FROM \"$t\"" ;;
		*) q="$q${q:+ UNION ALL }SELECT '$t', COUNT(*) FROM \`$t\`" ;;
		esac
	done
	case $1 in
	pg) pgd "$2" -c "$q" ;;
	lite) sqlite3 -separator $'\t' "$2" "$q" ;;
	*) myd "$2" -e "$q" ;;
	esac | LC_ALL=C sort
}

# Fresh databases: the sources, then one target per direction.
MY_DBS="rdb_sakila rdb_chinook rdb_employees rdb_sakila_my2my rdb_emp_my2my rdb_sakila_pg2my rdb_chinook_pg2my
	rdb_sakila_rt_my rdb_chinook_my2my rdb_chinookai_lite2my rdb_nw_lite2my"
PG_DBS="rdb_pgsakila rdb_pgchinook rdb_sakila_my2pg rdb_chinook_my2pg rdb_emp_my2pg rdb_sakila_pg2pg
	rdb_chinook_lite2pg rdb_chinookai_lite2pg rdb_sakila_lite2pg rdb_nw_lite2pg"
drop_all() {
	local db
	for db in $MY_DBS; do myd sluice_test -e "DROP DATABASE IF EXISTS $db"; done
	for db in $PG_DBS; do pg -c "drop database if exists $db with (force)"; done
}
drop_all
for db in $PG_DBS; do pg -c "create database $db"; done
# MariaDB targets default to utf8mb4_general_ci, which no source column has
# (Sakila's are utf8mb3_general_ci, Employees' utf8mb4_bin), so a column
# created without its own character set and collation shows
for db in rdb_sakila_my2my rdb_emp_my2my rdb_sakila_pg2my rdb_chinook_pg2my rdb_sakila_rt_my rdb_chinook_my2my \
	rdb_chinookai_lite2my rdb_nw_lite2my; do
	myd sluice_test -e "CREATE DATABASE $db CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"
done

# ---------------------------------------------------------------------------
# Load the sources with the servers' own clients (loading notes:
# tests/data/realdb/README.md).
test_case "load sources"
load() { # NAME COMMAND...: run a loading pipeline, assert it succeeded
	local name=$1
	shift
	if "$@" >"$TMP/load.out" 2>&1; then
		pass "$name"
	else
		fail "$name"
		tail -5 "$TMP/load.out" | sed 's/^/    | /'
	fi
}
load_my_sakila() {
	# MariaDB skips MySQL 5.7's versioned comments: unwrap them (address.location
	# and its spatial index); the database is renamed, views name it too
	{
		rd mysql-sakila-schema.sql | sed -e 's#/\*!50705 \(.*\)\*/#\1#' -e 's/\bsakila\b/rdb_sakila/g'
		rd mysql-sakila-data.sql | sed -e 's#/\*!50705 \([^*]*\)\*/#\1#' -e 's/^USE sakila;/USE rdb_sakila;/'
		# FLOAT values whose bits a copy must keep (Sakila has no FLOAT column):
		# MariaDB prints a FLOAT with 6 digits (16777216 as 16777200)
		cat <<-'EOF'
			USE rdb_sakila;
			CREATE TABLE rdb_floats (id int PRIMARY KEY, f float, d double, f_nn float NOT NULL DEFAULT 0);
			INSERT INTO rdb_floats VALUES (1, 16777216, 16777216, 1), (2, 3.4028234663852886e38, 1.7976931348623157e308, 2),
				(3, 0.1, 0.1, 0.1), (4, 1.17549435e-38, 2.2250738585072014e-308, 4), (5, 1.4e-45, 5e-324, 5),
				(6, 3.14159274, 3.141592653589793, 6), (7, 0.3333333432674408, 0.30000000000000004, 7),
				(8, -123.456, -123.456, 8), (9, NULL, NULL, 9), (10, 16777217, 9007199254740993, 10);
			COMMIT;
		EOF
	} | myload
}
load_my_chinook() {
	rd chinook-mysql.sql | sed -e 's/`Chinook`/`rdb_chinook`/g' | myload
}
load_my_employees() {
	# the schema ends by sourcing the original data files; rows are generated instead
	rd mysql-employees-schema.sql |
		sed -e '/^source /d' -e '/^flush /d' \
			-e 's/^\(DROP DATABASE IF EXISTS\|CREATE DATABASE IF NOT EXISTS\|USE\) employees;/\1 rdb_employees;/' |
		myload >/dev/null &&
		python3 "$RDB/gen_employees.py" "$EMPLOYEES" | myload rdb_employees
}
load_pg_sakila() {
	rd pg-sakila-schema.sql | pgd rdb_pgsakila -f - >/dev/null &&
		rd pg-sakila-data.sql | pgd rdb_pgsakila -f - >/dev/null &&
		# the data puts every payment in the parent: route a few through the
		# partitioning rules into two children, so a copy that reads the parent
		# with its children doubles them
		pgd rdb_pgsakila -c "insert into payment (customer_id, staff_id, rental_id, amount, payment_date) values
			(1, 1, 76, 2.99, '2007-02-15 10:00:00'), (2, 2, 320, 4.99, '2007-02-16 11:30:00.25'),
			(3, 1, 435, 0.99, '2007-02-17 12:00:00'), (4, 2, 1294, 5.99, '2007-03-01 00:00:00'),
			(5, 1, 1422, 9.99, '2007-03-31 23:59:59')"
}
load_pg_chinook() {
	rd chinook-pg.sql | sed -e '/^DROP DATABASE/d' -e '/^CREATE DATABASE/d' -e '/^\\c /d' |
		pgd rdb_pgchinook -f - >/dev/null
}
load "MySQL Sakila into MariaDB (+ rdb_floats)" load_my_sakila
load "Chinook (MySQL) into MariaDB" load_my_chinook
load "Employees schema + $EMPLOYEES generated employees into MariaDB" load_my_employees
load "PostgreSQL Sakila (+ 5 payments in partitions)" load_pg_sakila
load "Chinook (PostgreSQL)" load_pg_chinook
# SQLite: the published scripts as they are, through the sqlite3 CLI (-bail:
# the first error stops the load and fails it)
load_lite() { # FILE DB
	rd "$1" | sqlite3 -bail "$2" >/dev/null
}
load "Chinook (SQLite) into chinook.db" load_lite chinook-sqlite.sql "$LITE/chinook.db"
load "Chinook (SQLite, AUTOINCREMENT keys) into chinook-autoinc.db" load_lite chinook-sqlite-autoinc.sql \
	"$LITE/chinook-autoinc.db"
load "Sakila's SQLite schema (jOOQ) into sakila.db" load_lite sqlite-sakila-schema.sql "$LITE/sakila.db"
# Chinook 1.4.5 as published: 11 tables, 15607 rows (Track 3503, PlaylistTrack 8715)
CHINOOK_COUNTS="Album	347
Artist	275
Customer	59
Employee	8
Genre	25
Invoice	412
InvoiceLine	2240
MediaType	5
Playlist	18
PlaylistTrack	8715
Track	3503"
assert_eq "chinook.db: 11 tables and their rows (sqlite3)" "$CHINOOK_COUNTS" "$(counts_of lite "$LITE/chinook.db")"
assert_eq "chinook-autoinc.db: 11 tables and their rows (sqlite3)" "$CHINOOK_COUNTS" \
	"$(counts_of lite "$LITE/chinook-autoinc.db")"
assert_eq "chinook-autoinc.db: a sqlite_sequence with each table's maximum key" "Album 347|Track 3503" \
	"$(sqlite3 "$LITE/chinook-autoinc.db" "SELECT name || ' ' || seq FROM sqlite_sequence WHERE name IN ('Album', 'Track')
		ORDER BY name" | paste -sd'|')"
assert_eq "sakila.db: 16 tables, 30 triggers, 5 views, no rows" "16 30 5 0" \
	"$(sqlite3 "$LITE/sakila.db" "SELECT (SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'),
		(SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger'), (SELECT COUNT(*) FROM sqlite_master WHERE type = 'view'),
		(SELECT COUNT(*) FROM payment) + (SELECT COUNT(*) FROM film)" | tr '|' ' ')"
assert_eq "rows in the sources: film, rdb_floats, Track, salaries, payment" \
	"1000 10 3503 $(python3 "$RDB/gen_employees.py" "$EMPLOYEES" | grep -c "^([0-9]*,[0-9]*,'[0-9-]*','[0-9-]*')") 16049" \
	"$(myd rdb_sakila -e "SELECT (SELECT COUNT(*) FROM film), (SELECT COUNT(*) FROM rdb_floats),
		(SELECT COUNT(*) FROM rdb_chinook.Track), (SELECT COUNT(*) FROM rdb_employees.salaries)" | tr '\t' ' ') $(
		pgd rdb_pgsakila -c 'select count(*) from only payment')"
assert_eq "payments in the children of the PostgreSQL Sakila source" "5" \
	"$(pgd rdb_pgsakila -c 'select (select count(*) from payment) - (select count(*) from only payment)')"

# ---------------------------------------------------------------------------
# copy_check NAME SRC_KIND SRC_DB DST_KIND DST_DB [SLUICE OPTIONS...]:
# copy --create --verify, then: exit 0, verify "match" for each source table,
# and the independent comparison of every table
copy_check() {
	local name=$1 sk=$2 sdb=$3 dk=$4 ddb=$5
	shift 5
	local surl durl out=${ddb##*/}
	surl=$(url_of "$sk" "$sdb")
	durl=$(url_of "$dk" "$ddb")
	test_case "$name"
	local t0
	t0=$(date +%s%N)
	run_sluice "$out" copy "$surl" "$durl" --create --verify "$@"
	echo "# $name: sluice copy took $((($(date +%s%N) - t0) / 1000000)) ms"
	if [ "$RC" == 0 ]; then
		pass "sluice copy exit code 0"
	else
		fail "sluice copy exit code $RC, want 0"
		show_errors "$TMP/$out.out"
	fi
	# verify's lines: TABLE ROWS_FROM ROWS_TO match|MISMATCH [note]
	local want got
	want=$(tables_of "$sk" "$sdb" | sed 's/$/\tmatch/')
	got=$(tables_of "$sk" "$sdb" | while read -r t; do
		awk -F'\t' -v t="$t" '$1 == t && ($4 == "match" || $4 == "MISMATCH") { s = $4 } END { print t "\t" (s ? s : "(no verify line)") }' \
			"$TMP/$out.out"
	done)
	if ! grep -qE $'\t(match|MISMATCH)' "$TMP/$out.out"; then
		fail "verify printed nothing (the copy stopped before it)"
	else
		assert_eq "verify printed match for every table" "$want" "$got"
	fi
	# the independent comparison
	timeout -k 5 "$LIMIT" python3 "$CANON" --quiet "$sk:$sdb" "$dk:$ddb" >"$TMP/$out.canon" 2>&1
	local crc=$?
	if [ "$crc" == 0 ]; then
		pass "every row and value equal (canon_compare, $(grep -c $'\tok$' "$TMP/$out.canon") tables)"
	else
		fail "canon_compare $sk:$sdb $dk:$ddb exit $crc"
		grep -v $'\tok$' "$TMP/$out.canon" | head -60 | sed 's/^/    | /'
	fi
}

# identity_check KIND DB TABLE KEY COLUMNS VALUES SRC_MAX: a plain INSERT with the
# default key succeeds and gets a key past the copied maximum
identity_check() {
	local kind=$1 db=$2 table=$3 key=$4 cols=$5 vals=$6 max=$7 id
	if [ "$kind" == pg ]; then
		id=$(pgd "$db" -c "insert into $table ($cols) values ($vals) returning $key" 2>&1)
	else
		id=$(myd "$db" -e "INSERT INTO $table ($cols) VALUES ($vals); SELECT LAST_INSERT_ID()" 2>&1)
	fi
	if [[ "$id" =~ ^[0-9]+$ ]] && [ "$id" -gt "$max" ]; then
		pass "INSERT into $table takes the default key $id (copied max $max)"
	else
		fail "INSERT into $table with the default key: want a key above $max, got: $(echo "$id" | head -3)"
	fi
}
ACTOR_COLS="first_name, last_name, last_update"
ACTOR_VALS="'REALDB', 'IDENTITY', '2024-01-01 00:00:00'"
MY_PAY_COLS="customer_id, staff_id, rental_id, amount, payment_date, last_update"
MY_PAY_VALS="1, 1, 76, 1.25, '2024-01-01 00:00:00', '2024-01-01 00:00:00'"
PG_PAY_COLS="customer_id, staff_id, rental_id, amount, payment_date"
PG_PAY_VALS="1, 1, 76, 1.25, '2024-01-01 00:00:00'"
MY_ACTOR_MAX=$(myd rdb_sakila -e "SELECT MAX(actor_id) FROM actor")
MY_PAY_MAX=$(myd rdb_sakila -e "SELECT MAX(payment_id) FROM payment")
PG_ACTOR_MAX=$(pgd rdb_pgsakila -c "select max(actor_id) from actor")
# PostgreSQL: the parent and its children share one sequence; the MySQL copy's
# payment holds the parent's own rows
PG_PAY_MAX=$(pgd rdb_pgsakila -c "select max(payment_id) from payment")
PG_PAY_MAX_ONLY=$(pgd rdb_pgsakila -c "select max(payment_id) from only payment")

# rating_check KIND DB: film.rating keeps its labels, case and all
RATINGS=$'G\nNC-17\nPG\nPG-13\nR'
rating_check() {
	local got
	if [ "$1" == pg ]; then
		got=$(pgd "$2" -c 'select r from (select distinct rating::text as r from film) s order by r collate "C"')
	else
		got=$(myd "$2" -e "SELECT DISTINCT CAST(rating AS BINARY) FROM film ORDER BY 1")
	fi
	assert_eq "film.rating labels exact (PG, NC-17 upper case)" "$RATINGS" "$got"
}

# float_check KIND DB: rdb_floats keeps the exact bits of each FLOAT and DOUBLE
FLOAT_BITS="1	4b800000	4170000000000000
2	7f7fffff	7fefffffffffffff
3	3dcccccd	3fb999999999999a
4	00800000	0010000000000000
5	00000001	0000000000000001
6	40490fdb	400921fb54442d18
7	3eaaaaab	3fd3333333333334
8	c2f6e979	c05edd2f1a9fbe77
9	NULL	NULL
10	4b800000	4340000000000000"
float_check() {
	local got
	if [ "$1" == pg ]; then
		got=$(pgd "$2" -c "select id, encode(float4send(f), 'hex'), encode(float8send(d), 'hex') from rdb_floats order by id")
	else
		# MariaDB prints a FLOAT with 6 digits: as a DOUBLE it shows every bit
		got=$(myd "$2" -e "SELECT id, CAST(f AS DOUBLE), d FROM rdb_floats ORDER BY id" | python3 -c '
import struct, sys
for line in sys.stdin:
    i, f, d = line.rstrip("\n").split("\t")
    h = lambda v, fmt: "NULL" if v == "NULL" else struct.pack(fmt, float(v)).hex()
    print("%s\t%s\t%s" % (i, h(f, ">f"), h(d, ">d")))')
	fi
	assert_eq "rdb_floats: FLOAT and DOUBLE bits exact" "$FLOAT_BITS" "$got"
}

# my_columns DB: each base table column's type, nullability, character set and collation
my_columns() {
	myd information_schema -e "SELECT c.TABLE_NAME, c.COLUMN_NAME, c.COLUMN_TYPE, c.IS_NULLABLE,
		IFNULL(c.CHARACTER_SET_NAME, '-'), IFNULL(c.COLLATION_NAME, '-') FROM COLUMNS c JOIN TABLES t
		ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME AND t.TABLE_TYPE = 'BASE TABLE'
		WHERE c.TABLE_SCHEMA = '$1' ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION"
}
# assert_keyed WHAT SRC DST: lines "TABLE<TAB>COLUMN<TAB>VALUE..." on each side;
# each difference is one line: table.column: source VALUE, target VALUE
assert_keyed() {
	local d
	d=$(python3 -c '
import sys
def read(s):
    out = {}
    for line in s.split("\n"):
        if line:
            f = line.split("\t")
            out[(f[0], f[1])] = " ".join(f[2:])
    return out
a, b = read(sys.argv[1]), read(sys.argv[2])
for k in a:
    if k not in b:
        print("%s.%s: source %s, target missing" % (k[0], k[1], a[k]))
    elif a[k] != b[k]:
        print("%s.%s: source %s, target %s" % (k[0], k[1], a[k], b[k]))
for k in b:
    if k not in a:
        print("%s.%s: not in the source, target %s" % (k[0], k[1], b[k]))
' "$2" "$3")
	if [ -z "$d" ]; then
		pass "$1"
	else
		fail "$1 ($(printf '%s\n' "$d" | wc -l) columns differ)"
		printf '%s\n' "$d" | head -40 | sed 's/^/    /'
	fi
}
# same_kind_types_check KIND SRC DST: a copy between servers of one kind keeps
# each column's type as the server prints it (and on MySQL its collation)
same_kind_types_check() {
	local kind=$1 src=$2 dst=$3
	if [ "$kind" == my ]; then
		assert_keyed "character sets and collations kept" \
			"$(my_columns "$src" | awk -F'\t' '$5 != "-" { print $1 "\t" $2 "\t" $5 "\t" $6 }')" \
			"$(my_columns "$dst" | awk -F'\t' '$5 != "-" { print $1 "\t" $2 "\t" $5 "\t" $6 }')"
		assert_keyed "column types and NULL kept" "$(my_columns "$src" | cut -f1-4)" "$(my_columns "$dst" | cut -f1-4)"
	else
		local q="select c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
			case when a.attnotnull then 'not null' else 'null' end
			from pg_attribute a join pg_class c on c.oid = a.attrelid
			where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p') and a.attnum > 0
			and not a.attisdropped order by c.relname collate \"C\", a.attnum"
		assert_keyed "column types and NOT NULL kept" "$(pgd "$src" -c "$q")" "$(pgd "$dst" -c "$q")"
	fi
}

# inheritance_check KIND DB: the PostgreSQL Sakila's payment parent was read
# ONLY: its own rows in the target's payment, each child's rows once
PARENT_ROWS=$(pgd rdb_pgsakila -c "select count(*) from only payment")
ALL_ROWS=$(pgd rdb_pgsakila -c "select count(*) from payment")
CHILD_COUNTS=$(for t in $(pg_tables rdb_pgsakila | grep '^payment_p'); do
	echo "$t $(pgd rdb_pgsakila -c "select count(*) from only $t")"
done)
inheritance_check() {
	local kind=$1 db=$2 parent children t
	if [ "$kind" == pg ]; then
		parent=$(pgd "$db" -c "select count(*) from only payment")
		children=$(for t in $(echo "$CHILD_COUNTS" | cut -d' ' -f1); do
			echo "$t $(pgd "$db" -c "select count(*) from only $t" 2>&1)"
		done)
		# inheritance is not carried (README): the children are tables of
		# their own, each parent and child row is there once
		assert_eq "no row doubled: parent and children add up to the source's family" "$ALL_ROWS" \
			"$(pgd "$db" -c "select (select count(*) from payment) + $(echo "$CHILD_COUNTS" | cut -d' ' -f1 | sed 's/.*/(select count(*) from &)/' | paste -sd+)")"
	else
		parent=$(myd "$db" -e "SELECT COUNT(*) FROM payment")
		children=$(for t in $(echo "$CHILD_COUNTS" | cut -d' ' -f1); do
			echo "$t $(myd "$db" -e "SELECT COUNT(*) FROM $t" 2>&1)"
		done)
	fi
	assert_eq "payment has the source's ONLY rows ($PARENT_ROWS), not its children's" "$PARENT_ROWS" "$parent"
	assert_eq "each payment_p2007_* child has its own rows, once" "$CHILD_COUNTS" "$children"
}

# ---------------------------------------------------------------------------
# MySQL Sakila -> PostgreSQL, with two workers; then on to MariaDB (round trip)
copy_check "MySQL Sakila -> PostgreSQL" my rdb_sakila pg rdb_sakila_my2pg --workers 2
rating_check pg rdb_sakila_my2pg
float_check pg rdb_sakila_my2pg
copy_check "MySQL Sakila -> PostgreSQL -> MySQL (round trip, second leg)" pg rdb_sakila_my2pg my rdb_sakila_rt_my
test_case "MySQL Sakila round trip"
timeout -k 5 "$LIMIT" python3 "$CANON" --quiet my:rdb_sakila my:rdb_sakila_rt_my >"$TMP/rt.canon" 2>&1
if [ $? == 0 ]; then
	pass "the round trip equals the original, every row and value"
else
	fail "the round trip differs from the original (canon_compare my:rdb_sakila my:rdb_sakila_rt_my)"
	grep -v $'\tok$' "$TMP/rt.canon" | head -40 | sed 's/^/    | /'
fi
rating_check my rdb_sakila_rt_my
float_check my rdb_sakila_rt_my
test_case "MySQL Sakila -> PostgreSQL"
identity_check pg rdb_sakila_my2pg actor actor_id "$ACTOR_COLS" "$ACTOR_VALS" "$MY_ACTOR_MAX"
identity_check pg rdb_sakila_my2pg payment payment_id "$MY_PAY_COLS" "$MY_PAY_VALS" "$MY_PAY_MAX"
test_case "MySQL Sakila round trip"
identity_check my rdb_sakila_rt_my actor actor_id "$ACTOR_COLS" "$ACTOR_VALS" "$MY_ACTOR_MAX"
identity_check my rdb_sakila_rt_my payment payment_id "$MY_PAY_COLS" "$MY_PAY_VALS" "$MY_PAY_MAX"

# MySQL Sakila -> MariaDB
copy_check "MySQL Sakila -> MySQL" my rdb_sakila my rdb_sakila_my2my
rating_check my rdb_sakila_my2my
float_check my rdb_sakila_my2my
same_kind_types_check my rdb_sakila rdb_sakila_my2my
identity_check my rdb_sakila_my2my actor actor_id "$ACTOR_COLS" "$ACTOR_VALS" "$MY_ACTOR_MAX"
identity_check my rdb_sakila_my2my payment payment_id "$MY_PAY_COLS" "$MY_PAY_VALS" "$MY_PAY_MAX"

# Chinook MySQL -> PostgreSQL, and -> MariaDB (utf8mb3 columns in utf8mb4_bin tables)
copy_check "Chinook MySQL -> PostgreSQL" my rdb_chinook pg rdb_chinook_my2pg
copy_check "Chinook MySQL -> MySQL" my rdb_chinook my rdb_chinook_my2my
same_kind_types_check my rdb_chinook rdb_chinook_my2my

# Employees MySQL -> PostgreSQL (two workers); its same-server copy is
# Sakila's and Chinook's kind, left to them (make check's time)
copy_check "Employees MySQL -> PostgreSQL" my rdb_employees pg rdb_emp_my2pg --workers 2

# PostgreSQL Sakila -> MariaDB, -> PostgreSQL
copy_check "PostgreSQL Sakila -> MySQL" pg rdb_pgsakila my rdb_sakila_pg2my
inheritance_check my rdb_sakila_pg2my
identity_check my rdb_sakila_pg2my actor actor_id "$ACTOR_COLS" "$ACTOR_VALS" "$PG_ACTOR_MAX"
identity_check my rdb_sakila_pg2my payment payment_id "$PG_PAY_COLS" "$PG_PAY_VALS" "$PG_PAY_MAX_ONLY"
copy_check "PostgreSQL Sakila -> PostgreSQL" pg rdb_pgsakila pg rdb_sakila_pg2pg --workers 2
inheritance_check pg rdb_sakila_pg2pg
rating_check pg rdb_sakila_pg2pg
same_kind_types_check pg rdb_pgsakila rdb_sakila_pg2pg
identity_check pg rdb_sakila_pg2pg actor actor_id "$ACTOR_COLS" "$ACTOR_VALS" "$PG_ACTOR_MAX"
# the children are tables of their own there: the parent's keys go on after its own rows
identity_check pg rdb_sakila_pg2pg payment payment_id "$PG_PAY_COLS" "$PG_PAY_VALS" "$PG_PAY_MAX_ONLY"

# Chinook PostgreSQL -> MariaDB
copy_check "Chinook PostgreSQL -> MySQL" pg rdb_pgchinook my rdb_chinook_pg2my

# ---------------------------------------------------------------------------
# SQLite. counts_check KIND DB: each table of the SQLite Chinook source and its
# rows (counted by sqlite3 above), counted on the target by its own client
counts_check() {
	assert_eq "the source's 11 tables and row counts (sqlite3) on the target" "$CHINOOK_COUNTS" "$(counts_of "$1" "$2")"
}
# Chinook for SQLite (NVARCHAR, NUMERIC(10,2) as REAL, DATETIME text, FKs) ->
# PostgreSQL and -> MariaDB; the AUTOINCREMENT file's keys become identities
LITE_START=$(date +%s)
copy_check "Chinook SQLite -> PostgreSQL" lite "$LITE/chinook.db" pg rdb_chinook_lite2pg
counts_check pg rdb_chinook_lite2pg
# (the same file into MariaDB: the AUTOINCREMENT one below covers it)
copy_check "Chinook SQLite (AUTOINCREMENT) -> PostgreSQL" lite "$LITE/chinook-autoinc.db" pg rdb_chinookai_lite2pg
counts_check pg rdb_chinookai_lite2pg
identity_check pg rdb_chinookai_lite2pg '"Album"' '"AlbumId"' '"Title", "ArtistId"' "'REALDB', 1" 347
copy_check "Chinook SQLite (AUTOINCREMENT) -> MySQL" lite "$LITE/chinook-autoinc.db" my rdb_chinookai_lite2my
counts_check my rdb_chinookai_lite2my
identity_check my rdb_chinookai_lite2my Album AlbumId "Title, ArtistId" "'REALDB', 1" 347

# Northwind as a published SQLite file (no script: the .db its authors ship,
# made by their own tools): BLOB pictures, a NUMERIC column holding INTEGERs
# and REALs, DATE and DATETIME text, composite keys, CHECKs, a view; to both
# servers and back from PostgreSQL into a new file, compared with the original
zcat "$RDB/northwind-sqlite.db.gz" >"$LITE/northwind.db"
NW_SUM=$(sha256sum <"$LITE/northwind.db")
copy_check "Northwind SQLite (a published .db) -> PostgreSQL" lite "$LITE/northwind.db" pg rdb_nw_lite2pg
assert_contains "the view is named, not copied" "view EmployeeTerritoriesView is not copied" "$OUT"
copy_check "Northwind SQLite (a published .db) -> MySQL" lite "$LITE/northwind.db" my rdb_nw_lite2my
copy_check "Northwind PostgreSQL -> SQLite" pg rdb_nw_lite2pg lite "$LITE/nwback.db"
test_case "Northwind SQLite -> PostgreSQL -> SQLite"
timeout -k 5 "$LIMIT" python3 "$CANON" --quiet "lite:$LITE/northwind.db" "lite:$LITE/nwback.db" >"$TMP/nwback.canon" 2>&1 &&
	pass "the round trip gives every row and value back (canon_compare)" ||
	fail "round trip: $(grep -v $'\tok$' "$TMP/nwback.canon" | head -20)"
assert_eq "the source file is unchanged" "$NW_SUM" "$(sha256sum <"$LITE/northwind.db")"

# the reverse: PostgreSQL and MySQL Chinook into new SQLite files (decimals as
# DECIMAL TEXT, timestamps as text)
copy_check "Chinook PostgreSQL -> SQLite" pg rdb_pgchinook lite "$LITE/pgchinook.db"
# (--batch-rows 2000: smaller INSERTs, see the Sakila fill below)
copy_check "Chinook MySQL -> SQLite" my rdb_chinook lite "$LITE/mychinook.db" --batch-rows 2000

# Sakila: jOOQ's SQLite schema filled from the MySQL Sakila by a copy into its
# existing tables (their own types: VARCHAR for ENUM, SET and YEAR, CHAR(1)
# for a boolean, DECIMAL(5,2) NUMERIC affinity, BLOB SUB_TYPE TEXT, TIMESTAMP),
# each insert firing the schema's AFTER INSERT trigger, which sets last_update
# to the current time
test_case "MySQL Sakila -> SQLite Sakila schema (existing tables, triggers)"
SAKILA_LITE=$LITE/sakila.db
SAKILA_TABLES=$(lite_tables "$SAKILA_LITE")
FILL_START=$(date -u '+%Y-%m-%d %H:%M:%S')
t0=$(date +%s%N)
# address: the SQLite schema has no location (MySQL's geometry column), so its
# rows come from a query that leaves it out. --batch-rows 1000: sluice prepares
# an INSERT into SQLite with numbered placeholders (?1 ... ?32766), which
# SQLite resolves in time quadratic in their count; the Chinook copies above
# keep the default size, this one saves the test about 3 s
run_sluice lite_fill copy "$MY_BASE/rdb_sakila" "sqlite://$SAKILA_LITE" --batch-rows 1000 \
	--tables "$(echo "$SAKILA_TABLES" | grep -vx address | paste -sd,)"
assert_eq "sluice copy into the existing tables: exit code" 0 "$RC"
[ "$RC" == 0 ] || show_errors "$TMP/lite_fill.out"
run_sluice lite_fill_address copy "$MY_BASE/rdb_sakila" "sqlite://$SAKILA_LITE" --table address \
	--query "SELECT address_id, address, address2, district, city_id, postal_code, phone, last_update FROM address"
assert_eq "sluice copy --query into address: exit code" 0 "$RC"
[ "$RC" == 0 ] || show_errors "$TMP/lite_fill_address.out"
echo "# MySQL Sakila -> SQLite Sakila schema: sluice copy took $((($(date +%s%N) - t0) / 1000000)) ms"
timeout -k 5 "$LIMIT" python3 "$CANON" --quiet --ignore-columns last_update,location \
	--tables "$(echo "$SAKILA_TABLES" | paste -sd,)" my:rdb_sakila "lite:$SAKILA_LITE" >"$TMP/lite_fill.canon" 2>&1
crc=$?
if [ "$crc" == 0 ]; then
	pass "every row and value equal but last_update (canon_compare, $(grep -c $'\tok$' "$TMP/lite_fill.canon") tables)"
else
	fail "canon_compare my:rdb_sakila lite:$SAKILA_LITE (without last_update) exit $crc"
	grep -v $'\tok$' "$TMP/lite_fill.canon" | head -60 | sed 's/^/    | /'
fi
# the triggers fired: every last_update is the time of the copy, not the source's
q="SELECT 0"
for t in $SAKILA_TABLES; do
	[ "$t" == film_text ] || q="$q + (SELECT COUNT(*) FROM $t WHERE last_update < '$FILL_START')"
done
assert_eq "the target's AFTER INSERT triggers set every last_update (rows older than the copy)" 0 \
	"$(sqlite3 "$SAKILA_LITE" "$q")"
run_sluice lite_fill_verify verify "$MY_BASE/rdb_sakila" "sqlite://$SAKILA_LITE" --tables film_text
assert_eq "sluice verify film_text (no trigger, no last_update)" "film_text	1000	1000	match" \
	"$(grep -P '^film_text\t' "$TMP/lite_fill_verify.out")"

# SQLite Sakila -> PostgreSQL. film and film_text's description is declared
# BLOB SUB_TYPE TEXT: TEXT affinity by SQLite's rules (CHAR, CLOB, TEXT come
# before BLOB), so text, as its values are
test_case "Sakila SQLite -> PostgreSQL"
t0=$(date +%s%N)
run_sluice rdb_sakila_lite2pg copy "sqlite://$SAKILA_LITE" "$PG_BASE/rdb_sakila_lite2pg" --create --verify
echo "# Sakila SQLite -> PostgreSQL: sluice copy took $((($(date +%s%N) - t0) / 1000000)) ms"
assert_eq "sluice copy exit code" 0 "$RC"
[ "$RC" == 0 ] || show_errors "$TMP/rdb_sakila_lite2pg.out"
SAKILA_COPIED=$SAKILA_TABLES
assert_eq "verify printed match for every table" "$(echo "$SAKILA_COPIED" | sed 's/$/\tmatch/')" \
	"$(echo "$SAKILA_COPIED" | while read -r t; do
		awk -F'\t' -v t="$t" '$1 == t && ($4 == "match" || $4 == "MISMATCH") { s = $4 } END { print t "\t" (s ? s : "(no verify line)") }' \
			"$TMP/rdb_sakila_lite2pg.out"
	done)"
timeout -k 5 "$LIMIT" python3 "$CANON" --quiet --tables "$(echo "$SAKILA_COPIED" | paste -sd,)" \
	"lite:$SAKILA_LITE" pg:rdb_sakila_lite2pg >"$TMP/rdb_sakila_lite2pg.canon" 2>&1
crc=$?
if [ "$crc" == 0 ]; then
	pass "every row and value equal, last_update too (canon_compare, $(grep -c $'\tok$' "$TMP/rdb_sakila_lite2pg.canon") tables)"
else
	fail "canon_compare lite:$SAKILA_LITE pg:rdb_sakila_lite2pg exit $crc"
	grep -v $'\tok$' "$TMP/rdb_sakila_lite2pg.canon" | head -60 | sed 's/^/    | /'
fi
assert_eq "each trigger of the copied tables named as not copied" \
	"$(sqlite3 "$SAKILA_LITE" "SELECT tbl_name || '.' || name FROM sqlite_master WHERE type = 'trigger'" | LC_ALL=C sort)" \
	"$(sed -n 's/.*sluice: warning: trigger \(.*\) is not copied$/\1/p' "$TMP/rdb_sakila_lite2pg.out" | LC_ALL=C sort)"
assert_eq "each view named as not copied" \
	"$(sqlite3 "$SAKILA_LITE" "SELECT name FROM sqlite_master WHERE type = 'view'" | LC_ALL=C sort)" \
	"$(sed -n 's/.*sluice: warning: view \([^ ]*\) is not copied.*/\1/p' "$TMP/rdb_sakila_lite2pg.out" | LC_ALL=C sort)"
assert_eq "film's description came as text" "text" \
	"$(pgd rdb_sakila_lite2pg -c "SELECT data_type FROM information_schema.columns WHERE table_name = 'film' AND column_name = 'description'")"

echo "# t_realdb: the SQLite cases took $(($(date +%s) - LITE_START)) s"
[ -n "${SLUICE_REALDB_KEEP:-}" ] || drop_all
echo "# t_realdb: $(($(date +%s) - START)) s"
finish
