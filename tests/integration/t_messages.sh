#!/usr/bin/env bash
# tests/integration/t_messages.sh - messages that say what to do next, as a
# new user meets them: a URL without a database, a missing table (where it
# was looked for, the name meant), a header that does not fit the table, a
# ';'-separated file, latin1 input, typos in commands, options and schemes,
# a missing TARGET_URL; failures as short as psql's; --quiet, --dry-run,
# an empty input, and --max-errors N tolerating N rejected rows.
. "$(dirname "$0")/lib.sh"

# run CODE WHAT ARGS...: run sluice, stderr in ERR, check the exit code
run() {
	local code=$1 what=$2
	shift 2
	"$SLUICE" "$@" >"$TMP/out" 2>"$TMP/err"
	assert_status "$what" "$code" $?
	ERR=$(cat "$TMP/err")
}
MY_NODB=$(printf '%s' "$SLUICE_MY_URL" | sed 's|/[^/]*$|/|')
pg -c "drop table if exists msg_people, \"Msg_Mixed\", orders_msg; create table msg_people (id int primary key, name text)" \
	-c "create table orders_msg (id int, name text)"
printf 'id,name\n1,ann\n2,bob\n' >"$TMP/msg_people.csv"

test_case "a MariaDB URL without a database"
run 2 "no database" load "$TMP/msg_people.csv" "$MY_NODB" --create
assert_contains "says the URL names none" "names no database" "$ERR"
assert_not_contains "not a missing table" "does not exist" "$ERR"
assert_eq "one line" "1" "$(grep -c . "$TMP/err")"

test_case "a missing table: where sluice looked, and what to do"
run 2 "PostgreSQL" load "$TMP/msg_people.csv" "$SLUICE_PG_URL" --table nothere
assert_contains "schema and database" "table nothere does not exist in schema public of database postgres" "$ERR"
assert_contains "points to --create" "--create" "$ERR"
run 2 "MariaDB" load "$TMP/msg_people.csv" "$SLUICE_MY_URL" --table nothere
assert_contains "the database" "table nothere does not exist in database sluice_test" "$ERR"
cp "$TMP/msg_people.csv" "$TMP/orders_msg-2026-12-01.csv"
run 2 "a file name with a date" load "$TMP/orders_msg-2026-12-01.csv" "$SLUICE_PG_URL"
assert_contains "suggests --table" "did you mean --table orders_msg?" "$ERR"
cp "$TMP/msg_people.csv" "$TMP/sales-2026.csv"
run 2 "a file name, no such table" load "$TMP/sales-2026.csv" "$SLUICE_PG_URL"
assert_contains "names the file and --table" "named after the file" "$ERR"
assert_contains "and --table" "--table" "$ERR"
run 2 "--table Msg_People on PostgreSQL" load "$TMP/msg_people.csv" "$SLUICE_PG_URL" --table Msg_People
assert_contains "the lower-case name that exists" "did you mean --table msg_people?" "$ERR"
assert_not_contains "no --create for a quoted mixed-case name" "--create" "$ERR"

test_case "the input's columns are checked before writing"
printf 'id,nmae\n1,ann\n' >"$TMP/typo.csv"
run 2 "a header column not in the table" load "$TMP/typo.csv" "$SLUICE_PG_URL" --table msg_people
assert_contains "names it and the table's columns" "column nmae of the input is not in table msg_people (its columns: id, name)" "$ERR"
assert_eq "nothing written" "0" "$(pg -c 'select count(*) from msg_people')"
printf 'id;name\n1;ann\n' >"$TMP/semi.csv"
run 2 "a ';'-separated file" load "$TMP/semi.csv" "$SLUICE_PG_URL" --table msg_people
assert_contains "suggests --delimiter" "--delimiter ';'" "$ERR"
run 2 "a ';'-separated file with --create" load "$TMP/semi.csv" "$SLUICE_PG_URL" --table msg_semi --create
assert_contains "suggests --delimiter" "--delimiter ';'" "$ERR"
assert_eq "no table created" "" "$(pg -c "select to_regclass('msg_semi')")"
run 0 "with --delimiter ';'" load "$TMP/semi.csv" "$SLUICE_PG_URL" --table msg_people --delimiter ';' -q

test_case "invalid UTF-8 suggests --encoding latin1"
printf 'id,name\n3,Jos\xe9\n' >"$TMP/latin.csv"
run 3 "a latin1 file" load "$TMP/latin.csv" "$SLUICE_PG_URL" --table msg_people
assert_contains "the hint" "--encoding latin1" "$ERR"

test_case "typos: commands, options, schemes, a missing URL"
run 2 "lod" lod "$TMP/msg_people.csv" "$SLUICE_PG_URL"
assert_contains "did you mean load" "did you mean sluice load?" "$ERR"
run 2 "a file as the command" "$TMP/msg_people.csv" "$SLUICE_PG_URL"
assert_contains "says to load it" "sluice load $TMP/msg_people.csv" "$ERR"
run 2 "--wrokers" load --wrokers 2 "$TMP/msg_people.csv" "$SLUICE_PG_URL"
assert_contains "did you mean --workers" "did you mean --workers?" "$ERR"
# two letters swapped, the commonest typo, is one mistake, not two
run 2 "--tabel" load --tabel msg_people "$TMP/msg_people.csv" "$SLUICE_PG_URL"
assert_contains "did you mean --table" "unknown option --tabel: did you mean --table?" "$ERR"
run 2 "cpoy" cpoy "$SLUICE_PG_URL" "$SLUICE_MY_URL"
assert_contains "did you mean copy" "did you mean sluice copy?" "$ERR"
run 2 "myslq://" load "$TMP/msg_people.csv" "myslq://localhost/db"
assert_contains "did you mean mysql://" "did you mean mysql://?" "$ERR"
run 2 "-workers" load -workers 2 "$TMP/msg_people.csv" "$SLUICE_PG_URL"
assert_contains "names -workers, two dashes" "unknown option -workers: long options take two dashes: --workers" "$ERR"
run 2 "--tab" load --tab x "$TMP/msg_people.csv" "$SLUICE_PG_URL"
assert_contains "ambiguous, not unknown" "option --tab is ambiguous: it could be --table, --tables" "$ERR"
run 2 "postgre://" load "$TMP/msg_people.csv" "postgre://localhost/db"
assert_contains "did you mean postgres://" "did you mean postgres://?" "$ERR"
run 2 "mysq://" copy "mysq://localhost/db" "$SLUICE_PG_URL"
assert_contains "did you mean mysql://" "did you mean mysql://?" "$ERR"
run 2 "no TARGET_URL" load "$TMP/msg_people.csv"
assert_contains "says the URL is missing" "no TARGET_URL after $TMP/msg_people.csv" "$ERR"
run 2 "only a URL" load "$SLUICE_PG_URL"
assert_contains "says the source is missing" "no SOURCE before the URL" "$ERR"

test_case "failures as short as psql's"
run 1 "a refused port" load "$TMP/msg_people.csv" "postgresql://postgres@127.0.0.1:1/x" --table msg_people --retries 2
assert_eq "one warning that it retries, one error" "2" "$(grep -c . "$TMP/err")"
assert_eq "no TAB from libpq's line break" "0" "$(grep -c $'\t' "$TMP/err")"
assert_not_contains "no table of zeros" "read    written" "$ERR"
assert_not_contains "no pool counters" "pool:" "$ERR"

test_case "the summary: internals with -v only"
pg -c "truncate msg_people"
run 0 "a load" load "$TMP/msg_people.csv" "$SLUICE_PG_URL" --table msg_people
for internal in "commits:" "pool:" "not found"; do
	assert_not_contains "no '$internal'" "$internal" "$ERR"
done
pg -c "truncate msg_people"
run 0 "with -v" load "$TMP/msg_people.csv" "$SLUICE_PG_URL" --table msg_people -v
for internal in "commits: txid" "pool: total" "not found"; do
	assert_contains "'$internal'" "$internal" "$ERR"
done

test_case "rejects, --quiet, an empty input, --dry-run"
printf 'id,name\n10,a\n11\n12,c\n' >"$TMP/short.csv"
run 3 "a reject" load "$TMP/short.csv" "$SLUICE_PG_URL" --table msg_people
assert_contains "printed as rejected" "sluice: rejected $TMP/short.csv:3: " "$ERR"
assert_not_contains "not as an error" "error:" "$ERR"
pg -c "truncate msg_people"
run 3 "--quiet without --rejects" load "$TMP/short.csv" "$SLUICE_PG_URL" --table msg_people -q
assert_not_contains "no reject printed" "rejected $TMP" "$ERR"
assert_contains "one line says how many" "1 row rejected (--rejects FILE keeps them" "$ERR"
printf 'id,name\n' >"$TMP/empty.csv"
run 0 "an empty input" load "$TMP/empty.csv" "$SLUICE_PG_URL" --table msg_people
assert_contains "says so" "no rows in $TMP/empty.csv" "$ERR"
pg -c "truncate msg_people"
run 0 "--dry-run" load "$TMP/msg_people.csv" "$SLUICE_PG_URL" --table msg_people --dry-run
assert_contains "says it was one" "status ok (dry run: nothing was written)" "$ERR"
assert_eq "nothing written" "0" "$(pg -c 'select count(*) from msg_people')"

test_case "--max-errors N tolerates N rejected rows"
printf 'id,name\n20,a\n21\n22,c\n23\n24,e\n' >"$TMP/two.csv"
pg -c "truncate msg_people"
run 3 "--max-errors 2 with two rejects" load "$TMP/two.csv" "$SLUICE_PG_URL" --table msg_people --max-errors 2
assert_eq "every good row in" "3" "$(pg -c 'select count(*) from msg_people')"
pg -c "truncate msg_people"
run 1 "--max-errors 1 with two rejects" load "$TMP/two.csv" "$SLUICE_PG_URL" --table msg_people --max-errors 1
assert_contains "says why" "--max-errors 1 tolerates 1" "$ERR"
pg -c "truncate msg_people"
run 3 "--max-errors 1 with one reject" load "$TMP/short.csv" "$SLUICE_PG_URL" --table msg_people --max-errors 1

test_case "every command's --help: 80 columns, an example, the manual"
for c in "" load update delete copy verify export ping checkpoints run; do
	out=$("$SLUICE" $c --help 2>&1)
	assert_eq "${c:-sluice}: no line over 80 columns" "" "$(awk 'length($0) > 80' <<<"$out")"
	assert_contains "${c:-sluice}: an example" "Example" "$out"
	assert_contains "${c:-sluice}: points to the manual" "man sluice" "$out"
done

test_case "PostgreSQL names the column of a refused value"
pg -c "drop table if exists msg_num; create table msg_num (id int primary key, a int, b int, c int)"
printf 'id,a,b,c\n1,1,1,x\n' >"$TMP/num.csv"
run 3 "insert" load "$TMP/num.csv" "$SLUICE_PG_URL" --table msg_num --method insert
assert_contains "the column, not \$4" "(column c)" "$ERR"
assert_not_contains "no portal parameter" "portal parameter" "$ERR"
# refused among good rows, each value is tried alone (write_each): the
# reason still names the column, on both methods
pg -c "drop table if exists msg_kit; drop domain if exists msg_qty" \
	-c "create domain msg_qty as int not null check (value > 0)" \
	-c "create table msg_kit (id int, made date, weight numeric(6,2), note varchar(6), qty msg_qty)"
printf 'id,made,weight,note,qty\n1,2025-03-04,2.5,fine,1\n2,2025-02-29,1,leap,1\n3,2025-03-04,heavy,w,1\n4,2025-03-04,1.25,fine,2\n5,2025-03-04,1,much too long,1\n6,2025-03-04,12345.6,big,1\n7,2025-03-04,1,none,-3\n' >"$TMP/kit.csv"
for method in insert copy; do
	pg -c "truncate msg_kit"
	run 3 "$method: among good rows" load "$TMP/kit.csv" "$SLUICE_PG_URL" --table msg_kit --method $method \
		--rejects "$TMP/kit.rej"
	assert_contains "$method: the date's column" "date/time field value out of range: \"2025-02-29\" (column made)" "$(grep 'kit.csv:3: ' "$TMP/kit.rej.log")"
	assert_contains "$method: the number's column" "invalid input syntax for type numeric: \"heavy\" (column weight)" "$(grep 'kit.csv:4: ' "$TMP/kit.rej.log")"
	# values that convert but do not fit the column's modifier
	assert_contains "$method: the long text's column" "value too long for type character varying(6) (column note)" "$(grep 'kit.csv:6: ' "$TMP/kit.rej.log")"
	assert_contains "$method: the big number's column" "numeric field overflow (column weight)" "$(grep 'kit.csv:7: ' "$TMP/kit.rej.log")"
	# a table with a NOT NULL domain: the test of each value still runs
	assert_contains "$method: the domain's column" "violates check constraint \"msg_qty_check\" (column qty)" "$(grep 'kit.csv:8: ' "$TMP/kit.rej.log")"
	assert_eq "$method: the good rows in" "1|2.50
4|1.25" "$(pg -c 'select id, weight from msg_kit order by id')"
done

test_case "--create: a name the server would cut is a usage error, before anything is made"
# a survey's question as a header: PostgreSQL keeps 63 bytes of a name, so
# two long questions would be one column
long1="In your opinion, which of these sentences is the more grammatically correct one?"
long2="In your opinion, which of these sentences is the more grammatically correct one, B?"
printf 'id,"%s","%s"\n1,a,b\n' "$long1" "$long2" >"$TMP/survey.csv"
pg -c "drop table if exists msg_survey"
run 2 "a long column name" load "$TMP/survey.csv" "$SLUICE_PG_URL" --table msg_survey --create
assert_contains "names it, its length and the way out" "is 80 bytes; postgresql keeps names of 63: name the columns with --columns" "$ERR"
assert_eq "no table made" "" "$(pg -c "select to_regclass('msg_survey')")"
run 0 "renamed with --columns" load "$TMP/survey.csv" "$SLUICE_PG_URL" --table msg_survey --create --columns id,q1,q2
assert_eq "loaded" "1|a|b" "$(pg -c 'select * from msg_survey')"
printf 'id,name,Name,name\n1,a,b,c\n' >"$TMP/twice.csv"
pg -c "drop table if exists msg_twice"
run 2 "a header naming a column twice" load "$TMP/twice.csv" "$SLUICE_PG_URL" --table msg_twice --create
assert_contains "names it" "column \"name\" is named twice: name the columns with --columns" "$ERR"
assert_eq "no table made" "" "$(pg -c "select to_regclass('msg_twice')")"

finish
