#!/usr/bin/env bash
# tests/integration/t_copy_schema.sh - copy --create on schemas with the
# quirks of real databases, each in a small schema of its own: enum and set
# labels in their exact case, every bit of a FLOAT, keys that are UNSIGNED
# split among workers, foreign keys the target refuses or whose table is not
# copied, a rerun after a failed --create, per-column character sets and
# collations, ON UPDATE, CHECKs, text columns in plain indexes; PostgreSQL
# domains (over domains too), a default whose function the target lacks,
# character(n) into SQLite, a foreign key to another schema. Values are
# read back through the servers' own clients, never through sluice.
. "$(dirname "$0")/lib.sh"
export PGTZ=UTC

test_case "enum labels"
fresh cs_src
fresh cs_my
fresh cs_pg
myd cs_src -e "CREATE TABLE film (id int PRIMARY KEY,
	rating enum('G','PG','pg-13','NC-17','it''s') DEFAULT 'G',
	features set('Trailers','Deleted Scenes','x'));
	INSERT INTO film VALUES (1,'PG','Trailers,Deleted Scenes'),(2,'NC-17','x'),(3,'pg-13',NULL),(4,'it''s','');"
run_sluice enum-my 0 copy "$MY_BASE/cs_src" "$MY_BASE/cs_my" --create --verify
assert_eq "mysql->mysql labels" "1	PG	Trailers,Deleted Scenes
2	NC-17	x
3	pg-13	NULL
4	it's	" "$(myd cs_my -e "SELECT id, rating, features FROM film ORDER BY id")"
assert_contains "mysql->mysql column type" "enum('G','PG','pg-13','NC-17','it''s')" \
	"$(myd cs_my -e "SHOW CREATE TABLE film")"
run_sluice enum-pg 0 copy "$MY_BASE/cs_src" "$PG_BASE/cs_pg" --create --verify
assert_eq "mysql->pg labels" "1	PG	Trailers,Deleted Scenes
2	NC-17	x
3	pg-13	NULL
4	it's	" "$(pgd cs_pg -c "SELECT id, rating, features FROM film ORDER BY id")"
# the CHECK built from the labels holds their case: a lowercased label is refused
assert_contains "mysql->pg check refuses 'pg'" "violates check constraint" \
	"$(pgd cs_pg -c "INSERT INTO film (id, rating) VALUES (9, 'pg')" 2>&1)"

# --- every bit of a FLOAT ---------------------------------------------------
test_case "float bits"
myd cs_src -e "CREATE TABLE f (id int PRIMARY KEY, a float, b float(7,3), c double);
	INSERT INTO f VALUES (1, 16777216, 3.142, 0.1), (2, 3.4028234e38, -2.5, 1e-300),
	(3, 0.1, 1.25, -1.7976931348623157e308), (4, 1.4e-45, NULL, 5e-324), (5, -0.333333343, 0, 2.5);"
# the values as doubles, every digit: what each stored float is exactly
want=$(myd cs_src -e "SELECT id, a + 0e0, b + 0e0, c FROM f ORDER BY id")
run_sluice float-my 0 copy "$MY_BASE/cs_src" "$MY_BASE/cs_my" --create --tables f
assert_eq "mysql->mysql every bit" "$want" "$(myd cs_my -e "SELECT id, a + 0e0, b + 0e0, c FROM f ORDER BY id")"
run_sluice float-pg 0 copy "$MY_BASE/cs_src" "$PG_BASE/cs_pg" --create --tables f
got=$(pgd cs_pg -c "SELECT id, a::float8, b::float8, c FROM f ORDER BY id" |
	sed -e 's/e+/e/g' -e 's/\tNULL/\tNULL/g')
assert_eq "mysql->pg every bit" "$(echo "$want" | sed 's/e+/e/g')" "$got"
# and back: PostgreSQL real into a MySQL FLOAT
fresh cs_back
run_sluice float-back 0 copy "$PG_BASE/cs_pg" "$MY_BASE/cs_back" --create --tables f
assert_eq "pg->mysql every bit" "$want" "$(myd cs_back -e "SELECT id, a + 0e0, b + 0e0, c FROM f ORDER BY id")"

# --- foreign keys the target refuses or cannot reach -------------------------
test_case "foreign keys"
fresh fk_src
fresh fk_my
pgd fk_src -c "CREATE TABLE parent (id int PRIMARY KEY, code text UNIQUE);
	CREATE TABLE other (id int PRIMARY KEY);
	CREATE TABLE child (id int PRIMARY KEY,
		p int NOT NULL CONSTRAINT child_p_setnull REFERENCES parent ON DELETE SET NULL,
		q int CONSTRAINT child_q_fk REFERENCES parent ON DELETE CASCADE,
		o int CONSTRAINT child_o_fk REFERENCES other);
	INSERT INTO parent VALUES (1, 'a'), (2, 'b'); INSERT INTO other VALUES (7);
	INSERT INTO child VALUES (10, 1, 2, 7), (11, 2, NULL, NULL);"
# one FK MySQL refuses (SET NULL on a NOT NULL column), one to a table left out
run_sluice fk-my 0 copy "$PG_BASE/fk_src" "$MY_BASE/fk_my" --create --verify --tables parent,child
assert_contains "names the refused key" "foreign key child_p_setnull not carried over: ON DELETE SET NULL on NOT NULL column p" "$OUT"
assert_contains "names the unreachable key" "foreign key child_o_fk not carried over: it references other, which is not copied" "$OUT"
assert_contains "verify ran" "child	2	2	match" "$OUT"
assert_eq "the other key is there" "child_q_fk	parent	CASCADE" \
	"$(myd fk_my -e "SELECT CONSTRAINT_NAME, REFERENCED_TABLE_NAME, DELETE_RULE FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = 'fk_my'")"
assert_eq "the rows" "10	1	2	7
11	2	NULL	NULL" "$(myd fk_my -e "SELECT * FROM child ORDER BY id")"

test_case "a foreign key's MATCH FULL and DEFERRABLE"
fresh fd_src
fresh fd_pg
fresh fd_my
pgd fd_src -c "CREATE TABLE acct (bank int, num int, PRIMARY KEY (bank, num));
	CREATE TABLE xfer (id int PRIMARY KEY, bank int, num int, CONSTRAINT xfer_acct_fk FOREIGN KEY (bank, num)
		REFERENCES acct MATCH FULL ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED);
	CREATE TABLE node (id int PRIMARY KEY, up int CONSTRAINT node_up_fk REFERENCES node DEFERRABLE);
	INSERT INTO acct VALUES (1, 10); INSERT INTO xfer VALUES (1, 1, 10), (2, NULL, NULL);
	INSERT INTO node VALUES (1, 2), (2, NULL)"
fkdefs() { pgd "$1" -c "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'f' ORDER BY 1"; }
run_sluice fd-pg 0 copy "$PG_BASE/fd_src" "$PG_BASE/fd_pg" --create --verify
assert_eq "PostgreSQL keeps them" "$(fkdefs fd_src)" "$(fkdefs fd_pg)"
# and a key held while the rows go in comes back with them too
run_sluice fd-pg-again 0 copy "$PG_BASE/fd_src" "$PG_BASE/fd_pg" --truncate
assert_contains "the self-reference held" "node: foreign key node_up_fk points at its own table" "$OUT"
assert_eq "still kept" "$(fkdefs fd_src)" "$(fkdefs fd_pg)"
run_sluice fd-my 0 copy "$PG_BASE/fd_src" "$MY_BASE/fd_my" --create --verify
assert_contains "MySQL has neither: said" "xfer: foreign key xfer_acct_fk made without its MATCH FULL, DEFERRABLE" "$OUT"
assert_contains "nor DEFERRABLE alone" "node: foreign key node_up_fk made without its DEFERRABLE" "$OUT"

test_case "a foreign key from a narrower integer (pagila's smallint to integer)"
# InnoDB wants a foreign key's columns of the referenced type, size and
# sign: the narrower column is made that type, said, and the key carried
fresh fw_src
fresh fw_my
pgd fw_src -c "CREATE TABLE city (city_id integer PRIMARY KEY, n text);
	CREATE TABLE store (store_id smallint PRIMARY KEY);
	CREATE TABLE address (id int PRIMARY KEY, city_id smallint NOT NULL REFERENCES city,
		store_id bigint REFERENCES store, code smallint);
	INSERT INTO city VALUES (1, 'a'), (32000, 'b'); INSERT INTO store VALUES (7);
	INSERT INTO address VALUES (1, 1, 7, 5), (2, 32000, NULL, -5)"
run_sluice fw-my 0 copy "$PG_BASE/fw_src" "$MY_BASE/fw_my" --create --verify
assert_contains "the widening said" "address.city_id: smallint made int, the type of city.city_id it references" "$OUT"
assert_not_contains "no key refused" "not carried over" "$OUT"
assert_eq "both keys there" "address_city_id_fkey
address_store_id_fkey" "$(myd fw_my -e "SELECT CONSTRAINT_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = 'fw_my' ORDER BY 1")"
assert_contains "and the narrowing" "address.store_id: bigint made smallint, the type of store.store_id it references" "$OUT"
assert_eq "the types: the referenced ones, others as mapped" "city_id int
code smallint
id int
store_id smallint" "$(myd fw_my -e "SELECT COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'fw_my' AND TABLE_NAME = 'address' ORDER BY 1" | tr '\t' ' ')"

test_case "existing tables whose foreign keys form a cycle, and a self-reference"
# a shop's stores and their managers point at each other, an order at
# both; each category's parent comes after it: no table order and no
# batch order lets every row in while the keys are checked
fresh cy_src
fresh cy_my
fresh cy_pg
pgd cy_src -c "CREATE TABLE shop (id int PRIMARY KEY, manager int);
	CREATE TABLE clerk (id int PRIMARY KEY, shop int NOT NULL CONSTRAINT clerk_shop_fk REFERENCES shop);
	INSERT INTO shop VALUES (1, NULL), (2, NULL); INSERT INTO clerk VALUES (10, 1), (11, 2), (12, 2);
	UPDATE shop SET manager = 10 WHERE id = 1; UPDATE shop SET manager = 12 WHERE id = 2;
	ALTER TABLE shop ADD CONSTRAINT shop_manager_fk FOREIGN KEY (manager) REFERENCES clerk;
	CREATE TABLE sale (id int PRIMARY KEY, shop int REFERENCES shop, clerk int REFERENCES clerk);
	INSERT INTO sale SELECT g, 1 + g % 2, 10 + g % 3 FROM generate_series(1, 50) g;
	CREATE TABLE category (id int PRIMARY KEY, parent int CONSTRAINT category_parent_fk REFERENCES category ON DELETE CASCADE);
	INSERT INTO category VALUES (5, NULL), (4, 5), (3, 4), (2, 3), (1, 2);"
for side in my pg; do
	[ $side = my ] && to="$MY_BASE/cy_my" || to="$PG_BASE/cy_pg"
	run_sluice cy-create-$side 0 copy "$PG_BASE/cy_src" "$to" --create
	# the same rows again into the tables as they now are, two rows a batch
	run_sluice cy-truncate-$side 0 copy "$PG_BASE/cy_src" "$to" --truncate --batch-rows 2 --verify
	assert_contains "$side: the cycle's keys held" "foreign key shop_manager_fk closes a cycle of foreign keys among the copied tables" "$OUT"
	assert_contains "$side: a self-reference held" "foreign key category_parent_fk points at its own table" "$OUT"
	assert_contains "$side: and added back" "category: foreign key category_parent_fk added back" "$OUT"
	assert_contains "$side: verify" "sale	50	50	match" "$OUT"
done
assert_eq "MariaDB: every key there again" "category	category_parent_fk	CASCADE
clerk	clerk_shop_fk	RESTRICT
sale	sale_clerk_fkey	RESTRICT
sale	sale_shop_fkey	RESTRICT
shop	shop_manager_fk	RESTRICT" \
	"$(myd cy_my -e "SELECT TABLE_NAME, CONSTRAINT_NAME, DELETE_RULE FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = 'cy_my' ORDER BY 1, 2")"
assert_eq "PostgreSQL: every key there again" "category_parent_fk|c
clerk_shop_fk|a
sale_clerk_fkey|a
sale_shop_fkey|a
shop_manager_fk|a" "$(pgd cy_pg -c "SELECT conname, confdeltype FROM pg_constraint WHERE contype = 'f' ORDER BY 1" | tr '\t' '|')"
assert_eq "the categories, each parent after its child" "1	2
2	3
3	4
4	5
5	NULL" "$(pgd cy_pg -c "SELECT * FROM category ORDER BY id")"
# a key the rows do not satisfy cannot go back: the run fails, naming it
pgd cy_src -c "ALTER TABLE category DROP CONSTRAINT category_parent_fk; INSERT INTO category VALUES (9, 99)"
run_sluice cy-orphan 1 copy "$PG_BASE/cy_src" "$PG_BASE/cy_pg" --truncate --tables category
assert_contains "the key that could not go back, and how to add it" "category: foreign key category_parent_fk, dropped for the copy, could not be added back" "$OUT"
assert_contains "its statement" 'to add it: ALTER TABLE "category" ADD CONSTRAINT "category_parent_fk" FOREIGN KEY (parent) REFERENCES category(id) ON DELETE CASCADE' "$OUT"

# --- a rerun after a failed --create finishes the schema ----------------------
test_case "rerun after a failed create"
fresh re_src
fresh re_pg
myd re_src -e "SET sql_mode = '';
	CREATE TABLE a (id int AUTO_INCREMENT PRIMARY KEY, name varchar(20), UNIQUE KEY a_name (name));
	CREATE TABLE b (id int AUTO_INCREMENT PRIMARY KEY, a_id int NOT NULL, at datetime NOT NULL,
		KEY b_at (at), CONSTRAINT b_a FOREIGN KEY (a_id) REFERENCES a (id));
	INSERT INTO a (name) VALUES ('x'), ('y'), ('z');
	INSERT INTO b (a_id, at) VALUES (1, '2020-01-01 00:00:00'), (2, '0000-00-00 00:00:00'), (3, '2021-05-06 07:08:09');"
# the zero date becomes NULL, which b.at refuses: the first run fails after creating the tables
run_sluice re-first 1 copy "$MY_BASE/re_src" "$PG_BASE/re_pg" --create
myd re_src -e "UPDATE b SET at = '2022-02-02 02:02:02' WHERE id = 2"
run_sluice re-second 0 copy "$MY_BASE/re_src" "$PG_BASE/re_pg" --create --truncate --verify
assert_eq "indexes and keys finished" "a_a_name
b_a
b_b_a
b_b_at" "$(pgd re_pg -c "SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND indexname NOT LIKE '%pkey' UNION ALL SELECT conname FROM pg_constraint WHERE contype = 'f' ORDER BY 1")"
assert_eq "identity goes on after the copied keys" "4
4" "$(pgd re_pg -c "INSERT INTO a (name) VALUES ('w') RETURNING id" -c "INSERT INTO b (a_id, at) VALUES (1, now()) RETURNING id")"

# --- unsigned keys split among workers; a failure stops the other worker ------
test_case "workers"
fresh wk_src
fresh wk_pg
myd wk_src -e "CREATE TABLE big (id int unsigned PRIMARY KEY, v varchar(40));
	CREATE TABLE bad (id smallint unsigned PRIMARY KEY, d datetime NOT NULL);"
seq 1 400000 | awk '{print $1 "\tvalue " $1}' >"$TMP/big.tsv"
myd wk_src --local-infile=1 -e "LOAD DATA LOCAL INFILE '$TMP/big.tsv' INTO TABLE big"
run_sluice wk-split 0 copy "$MY_BASE/wk_src" "$PG_BASE/wk_pg" --create --tables big --workers 2 --split-rows 100000 -v
assert_contains "an unsigned key is split" "big [" "$OUT"
assert_eq "every row once" "400000	400000	80000200000" "$(pgd wk_pg -c "SELECT count(*), count(DISTINCT id), sum(id) FROM big")"
myd wk_src -e "SET sql_mode = ''; INSERT INTO bad VALUES (1, '0000-00-00')"
pgd wk_pg -c "DROP TABLE big"
start=$(date +%s%N)
# big (400,000 rows) goes first to one worker, bad to the other, which fails at once
run_sluice wk-stop 1 copy "$MY_BASE/wk_src" "$PG_BASE/wk_pg" --create --workers 2 --split-rows 100000000 --batch-rows 20000
took=$((($(date +%s%N) - start) / 1000000))
n=$(pgd wk_pg -c "SELECT count(*) FROM big")
if [ "$n" -lt 400000 ]; then pass "the other worker stopped ($n of 400000 rows, ${took} ms)"; else fail "the other worker copied all of big after bad failed"; fi
assert_contains "says why it stopped" "stopped: another part of the run failed" "$OUT"

# --- character sets, collations, ON UPDATE, CHECKs, routines (MySQL source) ---
test_case "mysql column details"
fresh cd_src
fresh cd_my
fresh cd_pg
myd cd_src -e "CREATE TABLE u (id int PRIMARY KEY, login varchar(20) NOT NULL,
		pw varchar(40) BINARY, l1 varchar(10) CHARACTER SET latin1 COLLATE latin1_swedish_ci,
		body longtext, qty int CHECK (qty >= 0),
		changed timestamp(3) NOT NULL DEFAULT current_timestamp(3) ON UPDATE current_timestamp(3),
		KEY u_body (body(50)),
		CONSTRAINT u_login_len CHECK (char_length(login) > 2),
		CONSTRAINT u_range CHECK (id between 1 and 1000 and login <> 'root')) DEFAULT CHARSET=utf8mb3;
	INSERT INTO u (id, login, pw, l1, body, qty, changed) VALUES
		(1, 'alice', 'Secret', 'åsa', REPEAT('x', 3000), 5, '2020-01-01 00:00:00.123'),
		(2, 'bob', 'secret', 'bo', 'short', 0, '2020-01-01 00:00:00');
	CREATE FUNCTION twice (x int) RETURNS int DETERMINISTIC RETURN 2 * x;
	CREATE PROCEDURE noop () BEGIN END;"
run_sluice cd-my 0 copy "$MY_BASE/cd_src" "$MY_BASE/cd_my" --create --verify
assert_eq "collations kept" "login	utf8mb3_general_ci
pw	utf8mb3_bin
l1	latin1_swedish_ci
body	utf8mb3_general_ci" "$(myd cd_my -e "SELECT COLUMN_NAME, COLLATION_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'cd_my' AND TABLE_NAME = 'u' AND COLLATION_NAME IS NOT NULL ORDER BY ORDINAL_POSITION")"
assert_eq "a binary column compares as one" "1" "$(myd cd_my -e "SELECT id FROM u WHERE pw = 'Secret'")"
assert_eq "ON UPDATE kept" "on update current_timestamp(3)" \
	"$(myd cd_my -e "SELECT EXTRA FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'cd_my' AND TABLE_NAME = 'u' AND COLUMN_NAME = 'changed'")"
assert_eq "checks kept" "qty
u_login_len
u_range" "$(myd cd_my -e "SELECT CONSTRAINT_NAME FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = 'cd_my' ORDER BY 1")"
assert_eq "prefix index kept" "u_body	body	50" "$(myd cd_my -e "SELECT INDEX_NAME, COLUMN_NAME, SUB_PART FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = 'cd_my' AND TABLE_NAME = 'u' AND INDEX_NAME = 'u_body'")"
assert_contains "routines named" "function twice is not copied" "$OUT"
assert_contains "routines named" "procedure noop is not copied" "$OUT"
run_sluice cd-pg 0 copy "$MY_BASE/cd_src" "$PG_BASE/cd_pg" --create --verify
assert_contains "an untranslatable CHECK is named" "u: not carried over: CHECK u_login_len (char_length(\`login\`) > 2): it uses what is not known to mean the same" "$OUT"
assert_eq "translatable CHECKs carried" "qty	CHECK ((qty >= 0))
u_range	CHECK ((((id >= 1) AND (id <= 1000)) AND ((login)::text <> 'root'::text)))" \
	"$(pgd cd_pg -c "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'c' AND conrelid = 'u'::regclass ORDER BY 1")"
assert_contains "a refused row" "violates check constraint" "$(pgd cd_pg -c "UPDATE u SET qty = -1 WHERE id = 1" 2>&1)"
# ON UPDATE as a trigger: a changed row gets the time, an unchanged column set by hand keeps its value
pgd cd_pg -c "UPDATE u SET qty = 7 WHERE id = 1" -c "UPDATE u SET changed = '2001-01-01', qty = 8 WHERE id = 2" >/dev/null
assert_eq "ON UPDATE as a trigger" "1	true
2	2001-01-01 00:00:00+00" "$(pgd cd_pg -c "SELECT id, CASE WHEN id = 1 THEN (changed > now() - interval '1 minute')::text ELSE changed::text END FROM u ORDER BY id")"
assert_eq "a prefix index on PostgreSQL" "CREATE INDEX u_u_body ON public.u USING btree (SUBSTRING(body FROM 1 FOR 50))" \
	"$(pgd cd_pg -c "SELECT indexdef FROM pg_indexes WHERE indexname = 'u_u_body'")"

# --- PostgreSQL text in a plain index stays unbounded on MySQL -------------
test_case "text in a plain index"
fresh tx_src
fresh tx_my
pgd tx_src -c "CREATE TABLE doc (id int PRIMARY KEY, title text, body text, tag text UNIQUE);
	CREATE INDEX doc_title ON doc (title);
	INSERT INTO doc VALUES (1, repeat('t', 5000), 'b', 'a'), (2, 'short', repeat('y', 70000), 'b');"
run_sluice tx-my 0 copy "$PG_BASE/tx_src" "$MY_BASE/tx_my" --create --verify
assert_eq "long values whole" "1	5000	1
2	5	70000" "$(myd tx_my -e "SELECT id, CHAR_LENGTH(title), CHAR_LENGTH(body) FROM doc ORDER BY id")"
assert_eq "the index takes a prefix" "doc_title	title	255" "$(myd tx_my -e "SELECT INDEX_NAME, COLUMN_NAME, SUB_PART FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = 'tx_my' AND TABLE_NAME = 'doc' AND INDEX_NAME = 'doc_title'")"
assert_contains "title stays a text" "longtext" "$(myd tx_my -e "SELECT COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'tx_my' AND TABLE_NAME = 'doc' AND COLUMN_NAME = 'title'")"

# --- names the target cannot hold; a table without columns -----------------
test_case "long names"
fresh ln_src
fresh ln_pg
# two names of 64 bytes (MySQL's most) that share their first 63 (PostgreSQL's)
long=$(printf 'a%.0s' $(seq 1 63))
myd ln_src -e "CREATE TABLE ${long}1 (id int PRIMARY KEY, v int, KEY ix (v));
	CREATE TABLE ${long}2 (id int PRIMARY KEY, one_id int,
		CONSTRAINT fk_two_one FOREIGN KEY (one_id) REFERENCES ${long}1 (id));
	INSERT INTO ${long}1 VALUES (1, 10), (2, 20); INSERT INTO ${long}2 VALUES (5, 1), (6, 2), (7, NULL);"
run_sluice ln-pg 0 copy "$MY_BASE/ln_src" "$PG_BASE/ln_pg" --create --verify
assert_contains "the shortened name is said" "table ${long}1 is named" "$OUT"
names=$(pgd ln_pg -c "SELECT relname FROM pg_class WHERE relkind = 'r' AND relname LIKE 'aaaa%' ORDER BY relname")
one=$(sed -n '/is named/s/.*table a*1 is named \([^ ]*\) .*/\1/p' "$TMP/ln-pg.out")
two=$(sed -n '/is named/s/.*table a*2 is named \([^ ]*\) .*/\1/p' "$TMP/ln-pg.out")
assert_eq "two tables stay two" "2" "$(echo "$names" | grep -c .)"
assert_eq "rows of each" "2	3" "$(pgd ln_pg -c "SELECT (SELECT count(*) FROM \"$one\"), (SELECT count(*) FROM \"$two\")")"
assert_eq "the key follows the new name" "1" "$(pgd ln_pg -c "SELECT count(*) FROM pg_constraint WHERE conname = 'fk_two_one' AND confrelid = '\"$one\"'::regclass")"
test_case "a table without columns"
fresh zc_src
fresh zc_my
pgd zc_src -c "CREATE TABLE nothing (); CREATE TABLE things (id int PRIMARY KEY); INSERT INTO things VALUES (1);"
run_sluice zc-my 0 copy "$PG_BASE/zc_src" "$MY_BASE/zc_my" --create --verify
assert_contains "named" "table nothing has no columns: not copied" "$OUT"
assert_eq "the rest is copied" "1" "$(myd zc_my -e "SELECT id FROM things")"

# --- into tables the target has: what differs is said first ------------------
test_case "existing tables that differ"
fresh ex_src
fresh ex_dst
myd ex_src -e "CREATE TABLE t (id int PRIMARY KEY, a varchar(10), b int); INSERT INTO t VALUES (1, 'x', 2)"
pgd ex_dst -c "CREATE TABLE t (id int PRIMARY KEY, a text)"
run_sluice ex-missing 2 copy "$MY_BASE/ex_src" "$PG_BASE/ex_dst"
assert_contains "a column the target lacks is named" "table t on the target has no column b (int(11) on the source)" "$OUT"
assert_eq "nothing written" "0" "$(pgd ex_dst -c "SELECT count(*) FROM t")"
pgd ex_dst -c "ALTER TABLE t ADD COLUMN b int, ADD COLUMN extra text DEFAULT 'd'"
run_sluice ex-differs 0 copy "$MY_BASE/ex_src" "$PG_BASE/ex_dst" -v
assert_contains "a type that differs is said" "t.a: varchar(10) on the source, text on the target" "$OUT"
assert_contains "a column only on the target is said" "t.extra: only on the target: it gets its default" "$OUT"
assert_eq "and the rows" "1	x	2	d" "$(pgd ex_dst -c "SELECT * FROM t")"

# --- spatial and full-text indexes -------------------------------------------
test_case "spatial and full-text indexes"
fresh gi_src
fresh gi_my
fresh gi_pg
myd gi_src -e "CREATE TABLE place (id int PRIMARY KEY, at point NOT NULL, note text, SPATIAL KEY place_at (at), FULLTEXT KEY place_note (note));
	INSERT INTO place VALUES (1, POINT(1, 2), 'a note'), (2, POINT(3, 4), 'another')"
run_sluice gi-my 0 copy "$MY_BASE/gi_src" "$MY_BASE/gi_my" --create --verify
assert_eq "mysql->mysql: both carried" "place_at	SPATIAL
place_note	FULLTEXT" "$(myd gi_my -e "SELECT INDEX_NAME, INDEX_TYPE FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = 'gi_my' AND TABLE_NAME = 'place' AND INDEX_NAME <> 'PRIMARY' ORDER BY 1")"
assert_eq "mysql->mysql: the points" "1	POINT(1 2)
2	POINT(3 4)" "$(myd gi_my -e "SELECT id, ST_AsText(at) FROM place ORDER BY id")"
run_sluice gi-pg 0 copy "$MY_BASE/gi_src" "$PG_BASE/gi_pg" --create
assert_contains "mysql->pg: the spatial index named, for the right reason" "index place_at not carried over: index place_at is a spatial index, which postgresql does not have" "$OUT"
assert_contains "mysql->pg: the full-text index named" "index place_note not carried over: index place_note is a fulltext index" "$OUT"

# --- PostgreSQL domains, a default's missing function, character(n) -------
# as AdventureWorks has them: a domain over boolean (Flag), over varchar
# (Name), a domain over a domain over numeric(6,2), a uuid default from an
# extension the target lacks (here a function of the source's own), padded
# character(n) keys, and a foreign key to a table of another schema
test_case "PostgreSQL domains, a default's missing function, character(n)"
fresh dm_src
fresh dm_my
fresh dm_pg
rm -f "$TMP/dm.db"
pgd dm_src -c "CREATE SCHEMA hr; CREATE SCHEMA prod;
	CREATE DOMAIN \"Flag\" AS boolean NOT NULL; CREATE DOMAIN \"Name\" AS varchar(50);
	CREATE DOMAIN money2 AS numeric(6,2); CREATE DOMAIN price AS money2 CHECK (VALUE >= 0);
	CREATE FUNCTION prod.mkid() RETURNS uuid LANGUAGE sql AS \$\$ SELECT md5(random()::text)::uuid \$\$;
	CREATE TABLE hr.employee (id int PRIMARY KEY);
	INSERT INTO hr.employee VALUES (1);
	CREATE TABLE prod.unit (code character(3) PRIMARY KEY, name \"Name\");
	CREATE TABLE prod.product (id int PRIMARY KEY, made \"Flag\", name \"Name\", cost price,
		unit character(3) REFERENCES prod.unit, owner int REFERENCES hr.employee,
		rowguid uuid NOT NULL DEFAULT prod.mkid(), at timestamp NOT NULL DEFAULT now());
	INSERT INTO prod.unit VALUES ('EA', 'Each'), ('M  ', 'Meter'), ('  X', 'Lead');
	INSERT INTO prod.product (id, made, name, cost, unit, owner) VALUES
		(1, true, 'Bolt', 1.25, 'EA', 1), (2, false, 'Rod', 0.5, 'M', NULL), (3, true, 'Nut', 12.5, '  X', 1)"
# the value types the domains lead to decide what is exact: 1.005 would round
printf 'id,made,name,cost,unit\n7,t,Washer,1.005,EA\n8,f,Pin,2.50,EA\n' >"$TMP/dm.csv"
run_sluice dm-load 3 load "$TMP/dm.csv" "$PG_BASE/dm_src" --table prod.product
assert_contains "a domain over numeric(6,2): the rounding is a reject" \
	"column \"cost\": '1.005' has 3 decimal places" "$OUT"
assert_eq "the other row is in, exactly" "8	2.50" "$(pgd dm_src -c "SELECT id, cost FROM prod.product WHERE id > 3")"
pgd dm_src -c "DELETE FROM prod.product WHERE id > 3"
run_sluice dm-load-insert 3 load "$TMP/dm.csv" "$PG_BASE/dm_src" --table prod.product --method insert
assert_contains "the same by INSERT" "column \"cost\": '1.005' has 3 decimal places" "$OUT"
pgd dm_src -c "DELETE FROM prod.product WHERE id > 3"
# to MariaDB: the domains are their types; verify compares booleans as booleans
run_sluice dm-my 0 copy "$PG_BASE/dm_src" "$MY_BASE/dm_my" --schema prod --create --verify
assert_contains "verify: the Flag column matches" "product	3	3	match" "$OUT"
assert_eq "mysql: the rows" "1	1	Bolt	1.25	EA
2	0	Rod	0.50	M
3	1	Nut	12.50	  X" "$(myd dm_my -e "SELECT id, made, name, cost, unit FROM product ORDER BY id")"
myd dm_my -e "UPDATE product SET made = 0 WHERE id = 3"
run_sluice dm-my-verify 1 verify "$PG_BASE/dm_src" "$MY_BASE/dm_my" --schema prod --tables product
assert_contains "verify still sees a changed boolean" "MISMATCH" "$OUT"
# to PostgreSQL: the source's function is not there; only its default is left out
pgd dm_pg -c "CREATE SCHEMA prod"
run_sluice dm-pg 0 copy "$PG_BASE/dm_src" "$PG_BASE/dm_pg" --schema prod --create --verify
assert_contains "the default that calls it is named" \
	"product.rowguid: default prod.mkid() not carried: the target refused it" "$OUT"
assert_not_contains "now() is not" "product.at: default" "$OUT"
assert_contains "the domain over a domain is made over its type, and said" \
	"type price: a domain over the domain money2, made over numeric(6,2)" "$OUT"
assert_eq "pg: the rows and the kept default" "1	t	Bolt	1.25	EA|now()
2	f	Rod	0.50	M|now()
3	t	Nut	12.50	  X|now()" "$(pgd dm_pg -c "SELECT p.id, p.made, p.name, p.cost, p.unit || '|' || (SELECT column_default FROM information_schema.columns WHERE table_schema = 'prod' AND table_name = 'product' AND column_name = 'at') FROM prod.product p ORDER BY id")"
# to SQLite: character(n) without its padding, the other schema's key named
run_sluice dm-lite 0 copy "$PG_BASE/dm_src" "sqlite://$TMP/dm.db" --schema prod --create --verify
assert_contains "the key to another schema's table is named" \
	"foreign key product_owner_fkey not carried over: it references employee" "$OUT"
assert_eq "sqlite: the values, padding gone, booleans 0/1" "1|1|Bolt|1.25|EA|EA
2|0|Rod|0.50|M|M
3|1|Nut|12.50|  X|  X" "$(sqlite3 "$TMP/dm.db" "SELECT p.id, p.made, p.name, p.cost, p.unit, u.code FROM product p JOIN unit u ON u.code = p.unit ORDER BY p.id")"

finish
