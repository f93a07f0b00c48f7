#!/usr/bin/env bash
# tests/integration/t_mysql_refused.sh - MariaDB: a batch the server refuses
# in many places is written row by row through write_each's probes, and the
# outcome is exactly that of loading one row at a time (--batch-rows 1) and
# of the old bisection (SLUICE_BISECT=1, a test build's hook): the same rows
# in the table, the same rejected lines with the same reasons. A seeded,
# generated mix: bad integers, out of range, too-long strings (strict mode),
# duplicate keys within the batch and against the table, CHECK violations,
# NULL into NOT NULL, values rounded (a note), good rows between. Both
# --method insert and infile.
. "$(dirname "$0")/lib.sh"

python3 - "$TMP/mix.csv" <<'PY'
import random, sys
rnd = random.Random(2812)
out = open(sys.argv[1], "w")
out.write("id,qty,note\n")
for i in range(1, 1201):
    k = rnd.randrange(12)
    if k == 0:   out.write(f"{i},x{i},bad int\n")
    elif k == 1: out.write(f"{i},99999999999,out of range\n")
    elif k == 2: out.write(f"{i},{i},far too long {i}\n")
    elif k == 3: out.write(f"{rnd.randrange(1, i + 1)},{i},dup in\n")
    elif k == 4: out.write(f"{-rnd.randrange(1, 5)},{i},dup table\n")
    elif k == 5: out.write(f"{i},-{i},check\n")
    elif k == 6: out.write(f"{i},,not null\n")
    elif k == 7: out.write(f"{i},{i}.5,rounded\n")
    else:        out.write(f"{i},{i},ok {i}\n")
PY

# load LABEL ARGS...: a fresh table with four rows in it, loaded with ARGS
# (bisecting with BISECT set);
# its contents and the rejects (line and reason) into $TMP/LABEL.{rows,rej}
load() {
	local label=$1
	shift
	my -e "drop table if exists refu; create table refu (id int primary key, qty int not null, note varchar(12), check (qty >= 0)); insert into refu values (-1,1,'t1'),(-2,2,'t2'),(-3,3,'t3'),(-4,4,'t4')"
	env ${BISECT:+SLUICE_BISECT=1} "$SLUICE" load "$TMP/mix.csv" "$SLUICE_MY_URL" --table refu \
		--rejects "$TMP/$label.csv" -q "$@" 2>"$TMP/$label.err"
	assert_status "$label: finished with rejects" 3 $?
	my -e "select id, qty, note from refu order by id" >"$TMP/$label.rows"
	# "file:line: reason", and the records themselves
	{ sort "$TMP/$label.csv.log"; sort "$TMP/$label.csv"; } >"$TMP/$label.rej"
}

for method in insert infile; do
	test_case "refused rows, --method $method"
	load one --method $method --batch-rows 1
	load fast --method $method --batch-rows 400
	BISECT=1 load bis --method $method --batch-rows 400
	n=$(wc -l <"$TMP/one.rows")
	nrej=$(wc -l <"$TMP/one.rej")
	# the generator's mix: about 8 in 12 refused, so hundreds of both
	if [ "$n" -gt 300 ] && [ "$(wc -l <"$TMP/one.csv.log")" -gt 600 ] && [ $((n + $(wc -l <"$TMP/one.csv.log"))) = 1204 ]; then
		pass "$n rows and $nrej rejects one at a time"
	else
		fail "one at a time: $n rows, $nrej rejects"
	fi
	assert_eq "the same rows as one at a time" "$(cat "$TMP/one.rows")" "$(cat "$TMP/fast.rows")"
	assert_eq "the same rejects as one at a time" "$(cat "$TMP/one.rej")" "$(cat "$TMP/fast.rej")"
	assert_eq "the same rows as the bisection" "$(cat "$TMP/bis.rows")" "$(cat "$TMP/fast.rows")"
	assert_eq "the same rejects as the bisection" "$(cat "$TMP/bis.rej")" "$(cat "$TMP/fast.rej")"
	assert_contains "a bad integer's reason" "Incorrect integer value" "$(cat "$TMP/fast.rej")"
	long="Data too long for column 'note'"
	[ $method = infile ] && long="Data truncated for column 'note'"
	assert_contains "a too-long string's reason" "$long" "$(cat "$TMP/fast.rej")"
	assert_contains "a duplicate's reason" "Duplicate entry" "$(cat "$TMP/fast.rej")"
	assert_contains "a CHECK's reason" "CONSTRAINT" "$(cat "$TMP/fast.rej")"
	# only good rows and the first of duplicate keys are in
	assert_eq "no refused value stored" "0" "$(my -e "select count(*) from refu where note not like 'ok %' and note not like 't_' and note not like 'dup %'")"
	assert_eq "no duplicate of the table's rows" "4" "$(my -e "select count(*) from refu where id < 0")"
done
finish
