#!/usr/bin/env bash
# tests/integration/t_copy_pg.sh - sluice copy from PostgreSQL sources with
# real schemas: session settings the target cannot change
# (standard_conforming_strings), inheritance read ONLY, enum types and
# domains created or mapped, CHECK and EXCLUDE constraints, expression and
# partial indexes, objects that are not copied named, text keys that differ
# only by trailing spaces, and row estimates of tables never analyzed. Every
# result is read back on the target with psql or the MariaDB client.
. "$(dirname "$0")/lib.sh"
export PGTZ=UTC

MY_URL=${SLUICE_MY_URL:-mysql://root@127.0.0.1:${SLUICE_MY_PORT:-33069}/sluice_test}
MY_BASE=${MY_URL%/*}
PG_BASE=${SLUICE_PG_URL%/*}


# fresh_pg DB...: drop and create PostgreSQL databases
fresh_pg() {
	for db in "$@"; do
		pg -c "drop database if exists $db" -c "create database $db"
	done
}
# fresh_my DB...: drop and create MariaDB databases (utf8mb4, case-insensitive)
fresh_my() {
	for db in "$@"; do
		my -e "DROP DATABASE IF EXISTS $db;
			CREATE DATABASE $db CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"
	done
}

# ---------------------------------------------------------------------------
test_case "standard_conforming_strings off on the target and the source"
fresh_pg cpg_scs_src cpg_scs_dst
fresh_my cpg_scs_my
pgd cpg_scs_src -c "create table paths (id int primary key, p text default 'C:\\temp\\new',
	q varchar(20) default 'it''s')" -c "insert into paths (id) values (1)"
pg -c "alter database cpg_scs_dst set standard_conforming_strings = off"
run_sluice "PostgreSQL -> PostgreSQL" 0 copy "$PG_BASE/cpg_scs_src" "$PG_BASE/cpg_scs_dst" --create --verify
pgd cpg_scs_dst -c "set standard_conforming_strings = on" -c "insert into paths (id) values (2)"
assert_eq "the default keeps its backslashes" $'1\tC:\\temp\\new\tit\'s\n2\tC:\\temp\\new\tit\'s' \
	"$(pgd cpg_scs_dst -c "set standard_conforming_strings = on" -c "select * from paths order by id")"
# a source set to off prints its defaults with doubled backslashes
pg -c "alter database cpg_scs_src set standard_conforming_strings = off"
run_sluice "PostgreSQL -> MariaDB" 0 copy "$PG_BASE/cpg_scs_src" "$MY_BASE/cpg_scs_my" --create --verify
myd cpg_scs_my -e "INSERT INTO paths (id) VALUES (2)"
assert_eq "the MariaDB default keeps its backslashes" $'1\tC:\\temp\\new\tit\'s\n2\tC:\\temp\\new\tit\'s' \
	"$(myd cpg_scs_my -e "SELECT * FROM paths ORDER BY id")"

# ---------------------------------------------------------------------------
test_case "inheritance: each table its own rows, a partitioned table through its parent"
fresh_pg cpg_inh_src cpg_inh_dst
fresh_my cpg_inh_my
pgd cpg_inh_src <<'SQL'
create table animals (id int primary key, name text, tag text unique);
create table dogs (bark text) inherits (animals);
create table cats () inherits (animals);
insert into animals select g, 'generic ' || g, 't' || g from generate_series(1, 4000) g;
insert into dogs values (101, 'rex', repeat('a dog with a long tag ', 15), 'woof');
insert into cats values (201, 'tom', 'c');
create table events (id int, at date) partition by range (at);
create table events_2024 partition of events for values from ('2024-01-01') to ('2025-01-01');
create table events_2025 partition of events for values from ('2025-01-01') to ('2026-01-01');
insert into events values (1, '2024-05-05'), (2, '2025-05-05');
analyze;
SQL
run_sluice "PostgreSQL -> PostgreSQL, ranges of 1000 rows" 0 copy "$PG_BASE/cpg_inh_src" "$PG_BASE/cpg_inh_dst" \
	--create --verify --workers 2 --split-rows 1000
assert_contains "a warning names the child and its parent" \
	"dogs inherits from animals: copied as a table of its own" "$OUT"
assert_contains "one for each child" "cats inherits from animals" "$OUT"
assert_not_contains "no warning for a partition" "events_2024 inherits" "$OUT"
assert_eq "each table holds its own rows once" "animals 4000 1..4000
cats 1 201..201
dogs 1 101..101
events 2 1..2" "$(pgd cpg_inh_dst -F ' ' -c "select 'animals', count(*), min(id) || '..' || max(id) from animals
	union all select 'cats', count(*), min(id) || '..' || max(id) from cats
	union all select 'dogs', count(*), min(id) || '..' || max(id) from dogs
	union all select 'events', count(*), min(id) || '..' || max(id) from events")"
assert_eq "no inheritance and no partitions on the target" "animals cats dogs events" \
	"$(pgd cpg_inh_dst -c "select string_agg(relname, ' ' order by relname) from pg_class
		where relnamespace = 'public'::regnamespace and relkind in ('r', 'p')
		and not exists (select 1 from pg_inherits where inhrelid = pg_class.oid)")"
run_sluice "sluice verify reads the parent ONLY" 0 verify "$PG_BASE/cpg_inh_src" "$PG_BASE/cpg_inh_dst"
assert_contains "animals matches" $'animals\t4000\t4000\tmatch' "$OUT"
run_sluice "PostgreSQL -> MariaDB" 0 copy "$PG_BASE/cpg_inh_src" "$MY_BASE/cpg_inh_my" --create --verify
assert_eq "the parent's own rows on MariaDB" "4000 1 1 2" \
	"$(myd cpg_inh_my -e "SELECT (SELECT COUNT(*) FROM animals), (SELECT COUNT(*) FROM dogs),
		(SELECT COUNT(*) FROM cats), (SELECT COUNT(*) FROM events)" | tr '\t' ' ')"
assert_eq "the parent's text key is as long as its own values need" "varchar(255)" \
	"$(myd cpg_inh_my -e "SELECT COLUMN_TYPE FROM information_schema.COLUMNS
		WHERE TABLE_SCHEMA = 'cpg_inh_my' AND TABLE_NAME = 'animals' AND COLUMN_NAME = 'tag'")"

# ---------------------------------------------------------------------------
test_case "row estimates: a table never analyzed has none"
fresh_pg cpg_est_src cpg_est_dst
pgd cpg_est_src -c "create table fresh (id int primary key, v text) with (autovacuum_enabled = false)" \
	-c "insert into fresh select g, 'v' || g from generate_series(1, 4500) g" \
	-c "create table counted (id int primary key) with (autovacuum_enabled = false)" \
	-c "insert into counted select generate_series(1, 300)" -c "analyze counted"
run_sluice "--dry-run" 0 copy "$PG_BASE/cpg_est_src" "$PG_BASE/cpg_est_dst" --create --dry-run
assert_contains "never analyzed: no number" "-- copy fresh: 2 columns, rows unknown (not analyzed)" "$OUT"
assert_contains "analyzed: the catalog's guess" "-- copy counted: 1 columns, about 300 rows" "$OUT"
run_sluice "split by a count of the rows" 0 copy "$PG_BASE/cpg_est_src" "$PG_BASE/cpg_est_dst" \
	--create --verify --workers 2 --split-rows 1000
assert_contains "five ranges of the 4500 rows counted" "copied fresh [3601, 4500...]: 900 rows" "$OUT"
assert_eq "every row once" "4500 4500 300" \
	"$(pgd cpg_est_dst -F ' ' -c "select count(*), count(distinct id), (select count(*) from counted) from fresh")"

# ---------------------------------------------------------------------------
test_case "objects that are not copied are named, one warning each"
fresh_pg cpg_obj_src cpg_obj_dst cpg_obj_sel
pgd cpg_obj_src <<'SQL'
create extension citext;
create sequence shared_seq;
create table t (id serial primary key, n int default nextval('shared_seq'));
create table u (id int generated always as identity primary key);
create table log (id int);
create sequence free_seq;
create function add_one(integer) returns integer language sql as 'select $1 + 1';
create procedure reset_all() language sql as 'delete from log';
create aggregate my_sum(integer) (sfunc = int4pl, stype = integer);
create rule t_log as on insert to t do also insert into log values (new.id);
create rule u_log as on insert to u do also insert into log values (new.id);
insert into t default values;
SQL
run_sluice "the whole schema" 0 copy "$PG_BASE/cpg_obj_src" "$PG_BASE/cpg_obj_dst" --create
assert_eq "one warning per object, by kind and name" "aggregate my_sum(integer) is not copied
function add_one(integer) is not copied
procedure reset_all() is not copied
rule t_log on t is not copied
rule u_log on u is not copied
sequence free_seq is not copied" "$(grep -o '[a-z]* [a-z_]*(\?[a-z]*)\?\( on [a-z]*\)\? is not copied' <<<"$OUT" | sort)"
assert_not_contains "no extension's function" "citext" "$(grep 'is not copied' <<<"$OUT")"
assert_not_contains "no sequence of a column" "t_id_seq" "$OUT"
assert_not_contains "no sequence a default takes" "shared_seq" "$OUT"
run_sluice "--tables t" 0 copy "$PG_BASE/cpg_obj_src" "$PG_BASE/cpg_obj_sel" --create --tables t
assert_contains "the rule of a copied table" "rule t_log on t is not copied" "$OUT"
assert_not_contains "not the rule of another" "u_log" "$OUT"
assert_not_contains "no routine when tables are chosen" "add_one" "$OUT"

# ---------------------------------------------------------------------------
# enum types, domains, CHECKs, an EXCLUDE constraint, expression and partial
# indexes
fresh_pg cpg_udt_src cpg_udt_dst cpg_udt_same cpg_udt_clash
fresh_my cpg_udt_my
pgd cpg_udt_src <<'SQL'
create type color as enum ('red', 'Green', 'it''s \ blue');
create type spaced as enum ('a', 'a ');
create domain posint as integer check (value > 0);
create domain code5 as varchar(5) not null check (value in ('A', 'B', 'C'));
create domain zip as text check (value ~ '^[0-9]{5}$');
create domain yr as integer default 2000 constraint yr_low check (value >= 1901)
	constraint yr_high check (value <= 2155);
create table things (
	id int primary key, c color default 'Green', cs color[], n posint, code code5, z zip,
	y yr, s spaced, qty int check (qty >= 0), price numeric(6,2), name text,
	constraint price_pos check (price > 0 or price is null),
	constraint name_re check (name ~ '^[a-z]'),
	constraint name_ne check (name <> ''));
create index things_lower on things (lower(name));
create index things_partial on things (qty) where qty > 10;
create unique index things_code on things (code desc nulls last);
create table bookings (id int primary key, during tsrange, exclude using gist (during with &&));
insert into things values (1, 'red', '{red,"it''s \\ blue"}', 5, 'A', '12345', 1999, 'a ', 3, 9.5, 'abc'),
	(2, 'it''s \ blue', null, null, 'B', null, default, 'a', 20, null, 'def');
insert into bookings values (1, '[2024-01-01,2024-01-02)'), (2, '[2024-01-02,2024-01-03)');
SQL

test_case "PostgreSQL -> PostgreSQL: user types, CHECKs, EXCLUDE, expression indexes"
run_sluice "--dry-run" 0 copy "$PG_BASE/cpg_udt_src" "$PG_BASE/cpg_udt_dst" --create --dry-run
assert_eq "each type once, enums first, before its table" "CREATE TYPE \"color\" AS ENUM ('red', 'Green', 'it''s \\ blue');
CREATE TYPE \"spaced\" AS ENUM ('a', 'a ');
CREATE DOMAIN \"posint\" AS integer CHECK ((VALUE > 0));
CREATE DOMAIN \"code5\" AS character varying(5) NOT NULL CHECK (((VALUE)::text = ANY ((ARRAY['A'::character varying, 'B'::character varying, 'C'::character varying])::text[])));
CREATE DOMAIN \"zip\" AS text CHECK ((VALUE ~ '^[0-9]{5}\$'::text));
CREATE DOMAIN \"yr\" AS integer DEFAULT 2000 CHECK (((VALUE >= 1901)) AND ((VALUE <= 2155)));
CREATE TABLE \"things\" (" "$(grep -E '^CREATE (TYPE|DOMAIN|TABLE "things")' <<<"$OUT")"
run_sluice "copy" 0 copy "$PG_BASE/cpg_udt_src" "$PG_BASE/cpg_udt_dst" --create --verify
assert_contains "verified" $'things\t2\t2\tmatch' "$OUT"
# the same catalog text on both sides
udt_catalog() {
	pgd "$1" -c "select t.typname, t.typtype, format_type(t.typbasetype, t.typtypmod), t.typnotnull,
			pg_get_expr(t.typdefaultbin, 0), (select string_agg(enumlabel, '|' order by enumsortorder)
			from pg_enum where enumtypid = t.oid)
		from pg_type t where t.typnamespace = 'public'::regnamespace and t.typtype in ('e', 'd') order by 1" \
		-c "select c.conrelid::regclass, c.contype, c.conname, pg_get_constraintdef(c.oid) from pg_constraint c
		where c.connamespace = 'public'::regnamespace and c.contype in ('c', 'x') and c.conrelid <> 0
		order by c.conrelid::regclass::text, 3" \
		-c "select c.contypid::regtype, pg_get_constraintdef(c.oid) from pg_constraint c
		where c.contypid <> 0 and c.connamespace = 'public'::regnamespace
		order by c.contypid::regtype::text, 2" \
		-c "select indexrelid::regclass, pg_get_indexdef(indexrelid) from pg_index
		where indrelid in ('things'::regclass, 'bookings'::regclass) order by indexrelid::regclass::text" \
		-c "select attname, format_type(atttypid, atttypmod), pg_get_expr(adbin, adrelid) from pg_attribute
		left join pg_attrdef on adrelid = attrelid and adnum = attnum
		where attrelid = 'things'::regclass and attnum > 0 order by attnum" \
		-c "select * from things order by id" -c "select * from bookings order by id"
}
SRC_UDT=$(udt_catalog cpg_udt_src)
# a domain's CHECKs are one on the target, and PostgreSQL prints an IN list
# it reads back differently: those are compared by what they let in below
DST_UDT=$(udt_catalog cpg_udt_dst)
assert_eq "types, constraints, indexes, columns and rows as on the source" \
	"$(grep -v -e $'^yr\tCHECK' -e $'^code5\tCHECK' <<<"$SRC_UDT")" \
	"$(grep -v -e $'^yr\tCHECK' -e $'^code5\tCHECK' <<<"$DST_UDT")"
assert_contains "the domain's two CHECKs" $'yr\tCHECK (((VALUE >= 1901) AND (VALUE <= 2155)))' "$DST_UDT"
# lets_in DB TYPE VALUE...: "VALUE ok" or "VALUE no" for each, as the type takes it
lets_in() {
	local db=$1 type=$2 v
	shift 2
	for v in "$@"; do
		if pgd "$db" -c "select '$v'::$type" >/dev/null 2>&1; then echo "$v ok"; else echo "$v no"; fi
	done | paste -sd ' '
}
assert_eq "the domains let in what they did" "A ok B ok C ok D no|1900 no 1901 ok 2155 ok 2156 no" \
	"$(lets_in cpg_udt_dst code5 A B C D)|$(lets_in cpg_udt_dst yr 1900 1901 2155 2156)"
assert_contains "the EXCLUDE constraint holds" "conflicting key value violates exclusion constraint" \
	"$(pgd cpg_udt_dst -c "insert into bookings values (3, '[2024-01-01 12:00,2024-01-01 13:00)')" 2>&1)"
assert_contains "the domain's CHECK holds" "violates check constraint" \
	"$(pgd cpg_udt_dst -c "insert into things (id, code, n) values (9, 'A', 0)" 2>&1)"

pgd cpg_udt_same -c "create type color as enum ('red', 'Green', 'it''s \\ blue')"
run_sluice "a type of that name, the same, is used" 0 copy "$PG_BASE/cpg_udt_src" "$PG_BASE/cpg_udt_same" \
	--create --verify --tables things
assert_not_contains "not created again" "created type color" "$OUT"
pgd cpg_udt_clash -c "create type color as enum ('red', 'blue')"
run_sluice "a type of that name that differs" 2 copy "$PG_BASE/cpg_udt_src" "$PG_BASE/cpg_udt_clash" \
	--create --tables things
assert_contains "names the type" "the target has a type color that is not the source's enum" "$OUT"
assert_eq "nothing made" "0" "$(pgd cpg_udt_clash -c "select count(*) from pg_class where relname = 'things'")"

test_case "PostgreSQL -> MariaDB: enums, domains, CHECKs where MariaDB means the same"
run_sluice "copy" 0 copy "$PG_BASE/cpg_udt_src" "$MY_BASE/cpg_udt_my" --create --verify
assert_contains "verified" $'things\t2\t2\tmatch' "$OUT"
assert_eq "columns (a unique key on code)" "id int(11) NO NULL
c enum('red','Green','it''s \\\\ blue') YES 'Green' utf8mb4_bin
cs longtext YES NULL utf8mb4_general_ci
n int(11) YES NULL
code varchar(5) NO NULL utf8mb4_nopad_bin
z longtext YES NULL utf8mb4_general_ci
y int(11) YES 2000
s varchar(2) YES NULL utf8mb4_bin
qty int(11) YES NULL
price decimal(6,2) YES NULL
name longtext YES NULL utf8mb4_general_ci" \
	"$(myd cpg_udt_my -e "SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, COLLATION_NAME
		FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'cpg_udt_my' AND TABLE_NAME = 'things'
		ORDER BY ORDINAL_POSITION" | sed 's/\tNULL$//; s/\t/ /g')"
assert_eq "rows, labels and spaces exact" "1 red 7B7265642C2269742773205C5C20626C7565227D 5 A 12345 1999 6120 3 9.50 abc
2 it's \\ blue NULL NULL B NULL 2000 61 20 NULL def" \
	"$(myd cpg_udt_my -e "SELECT id, c, HEX(cs), n, code, z, y, HEX(s), qty, price, name FROM things ORDER BY id" |
		tr '\t' ' ')"
assert_eq "CHECKs MariaDB decides the same way" "n \`n\` > 0
code \`code\` in ('A','B','C')
y \`y\` >= 1901 and \`y\` <= 2155
price_pos \`price\` > 0 or \`price\` is null
things_qty_check \`qty\` >= 0" \
	"$(myd cpg_udt_my -e "SELECT CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS
		WHERE CONSTRAINT_SCHEMA = 'cpg_udt_my' ORDER BY LEVEL, CONSTRAINT_NAME = 'n' DESC,
		CONSTRAINT_NAME = 'code' DESC, CONSTRAINT_NAME" | tr '\t' ' ')"
assert_contains "the domain's CHECK that is not carried is named" \
	"domain zip as longtext; its CHECK ((VALUE ~ '^[0-9]{5}\$'::text)) is not carried" "$OUT"
assert_contains "the enum whose labels MariaDB would cut is named" \
	"enum spaced as varchar(2), its labels not enforced: a label ends in a space" "$OUT"
assert_contains "a table CHECK that is not carried is named" "CHECK name_re ((name ~ '^[a-z]'::text))" "$OUT"
assert_contains "... with why" "CHECK name_ne ((name <> ''::text)): a comparison (<>)" "$OUT"
assert_contains "the EXCLUDE constraint is named" \
	"index bookings_during_excl is an EXCLUDE constraint (EXCLUDE USING gist (during WITH &&))" "$OUT"
assert_contains "the expression index is named" "index things_lower not carried over" "$OUT"
assert_contains "MariaDB enforces the enum" "Data truncated" \
	"$(myd cpg_udt_my -e "INSERT INTO things (id, c, code) VALUES (9, 'green', 'A')" 2>&1)"
assert_contains "... and the domain's CHECK" "n\` failed" \
	"$(myd cpg_udt_my -e "INSERT INTO things (id, n, code) VALUES (9, 0, 'A')" 2>&1)"

# ---------------------------------------------------------------------------
test_case "PostgreSQL -> MariaDB: text keys that differ only by trailing spaces"
fresh_pg cpg_pad_src
fresh_my cpg_pad_my
pgd cpg_pad_src -c "create table pad (k varchar(10) primary key, t text unique, c char(3), v varchar(5))" \
	-c "insert into pad values ('a', 'x', 'c', 'v'), ('a ', 'x ', 'c', 'v '), ('a  ', 'x  ', null, null)" \
	-c "create table ref (id int primary key, k varchar(10) references pad (k))" \
	-c "insert into ref values (1, 'a '), (2, 'a')"
run_sluice "copy" 0 copy "$PG_BASE/cpg_pad_src" "$MY_BASE/cpg_pad_my" --create --verify
assert_eq "every key, spaces and all" "61 78
6120 7820
612020 782020" "$(myd cpg_pad_my -e "SELECT HEX(k), HEX(t) FROM pad ORDER BY HEX(k)" | tr '\t' ' ')"
assert_eq "the keys compare with their spaces; other columns as they were" "k utf8mb4_nopad_bin
t utf8mb4_nopad_bin
c utf8mb4_general_ci
v utf8mb4_general_ci
k utf8mb4_nopad_bin" "$(myd cpg_pad_my -e "SELECT COLUMN_NAME, COLLATION_NAME FROM information_schema.COLUMNS
	WHERE TABLE_SCHEMA = 'cpg_pad_my' AND TABLE_NAME IN ('pad', 'ref') AND DATA_TYPE <> 'int'
	ORDER BY TABLE_NAME, ORDINAL_POSITION" | tr '\t' ' ')"
assert_eq "the foreign key to it, of the same collation" "1 6120
2 61" "$(myd cpg_pad_my -e "SELECT r.id, HEX(p.k) FROM ref r JOIN pad p ON p.k = r.k
	WHERE (SELECT COUNT(*) FROM information_schema.REFERENTIAL_CONSTRAINTS
		WHERE CONSTRAINT_SCHEMA = 'cpg_pad_my' AND TABLE_NAME = 'ref') = 1 ORDER BY r.id" | tr '\t' ' ')"

# ---------------------------------------------------------------------------
for db in cpg_scs_src cpg_scs_dst cpg_inh_src cpg_inh_dst cpg_est_src cpg_est_dst cpg_obj_src cpg_obj_dst \
	cpg_obj_sel cpg_udt_src cpg_udt_dst cpg_udt_same cpg_udt_clash cpg_pad_src; do
	pg -c "drop database if exists $db"
done
for db in cpg_scs_my cpg_inh_my cpg_udt_my cpg_pad_my; do
	my -e "DROP DATABASE IF EXISTS $db"
done
finish
