#!/usr/bin/env bash
# tests/integration/t_pg_binary.sh - COPY in binary format against the
# server's own text input. Generated files (tools/pg_binary_values.py) of
# integers, booleans, doubles, numerics, dates, timestamps, varchar and text,
# in the plain forms sluice encodes and in the forms it leaves to the server
# (exponents, signs, spaces, zones, Infinity), go through sluice three ways:
# in binary where it can (the default), all as text (SLUICE_PG_BINARY=0, a
# test build's switch; and through libpq's buffer, SLUICE_PG_DIRECT=0, as
# on a TLS connection, where the default writes COPY data to the socket
# itself), and through psql's \copy. Clean files: every row
# sluice keeps is psql's row, value for value as the server prints it, and
# the rows it refuses are refused in both modes for a value the column
# would round. Files with refused values: the same rows, rejects, reasons,
# line numbers and exit codes in both modes. And the batches did go in
# binary, wholly and in part.
. "$(dirname "$0")/lib.sh"
GEN="$(dirname "$0")/../tools/pg_binary_values.py"
SEEDS=${SLUICE_PGBIN_SEEDS:-3}

COLS="id int primary key, i2 smallint, i4 integer, i8 bigint, b boolean, f8 double precision,
	num numeric, num3 numeric(12,3), d date, ts timestamp, vc varchar(12), t text"
# rows_of TABLE: every row as the server prints it (extra_float_digits 1:
# the shortest text that reads back as the same double; -0 kept)
rows_of() { PGOPTIONS="-c extra_float_digits=1" pg -c "select r::text from $1 r order by id"; }

# load SEED FILE TABLE [ARG...]: FILE into a fresh table pb, its rows then
# kept in TABLE (the reasons name pb's constraints); ARGs:
# VAR=value for the environment, others for sluice; code, output (-vv),
# rejects and reasons in $TMP/TABLE.{rc,out,rej,rej.log}
load() {
	local seed=$1 file=$2 t=$3
	shift 3
	local envs=() args=()
	for a in "$@"; do
		case $a in *=*) envs+=("$a") ;; *) args+=("$a") ;; esac
	done
	pg -c "drop table if exists pb; drop table if exists $t; create table pb ($COLS)"
	rm -f "$TMP/$t.rej" "$TMP/$t.rej.log"
	env "${envs[@]}" "$SLUICE" load "$file" "$SLUICE_PG_URL" --table pb \
		--batch-rows $((20 + seed * 53 % 150)) --rejects "$TMP/$t.rej" -vv "${args[@]}" \
		>"$TMP/$t.out" 2>&1
	echo $? >"$TMP/$t.rc"
	touch "$TMP/$t.rej" "$TMP/$t.rej.log"
	pg -c "create table $t as select * from pb"
}

whole=0 part=0
# binary_batches TABLE: count the batches that went wholly and partly in binary
binary_batches() {
	local w p
	w=$(grep -ac "COPY in binary format: \([0-9]*\) of the \1 rows" "$TMP/$1.out")
	p=$(grep -a "COPY in binary format: " "$TMP/$1.out" | grep -avc "format: \([0-9]*\) of the \1 rows")
	whole=$((whole + w))
	part=$((part + p))
}

# the same rows refused for the same reasons, but which statement a reason
# names may differ: a batch that goes partly in binary ends its binary COPY
# at the first value left as text, which flushes the rows before it, so a
# duplicate key before a value out of range is met first, not after it as
# when the server reads the text; the writer then takes a row named (COPY)
# or the rows one by one (INSERT, whose reasons are the server's message
# without its DETAIL and HINT, as they always were): the messages compared
same_reasons() {
	perl -pe 's/: (COPY|INSERT) failed: /: failed: /; s/ (DETAIL|HINT):  .*?(?=( \(column [^()]*\))?$)//' "$1" | sort
}

# same_as_text SEED: pb_bin is pb_txt: exit code, rejects, reasons and rows
same_as_text() {
	local what
	for what in rc rej rej.log; do
		if ! cmp -s <(same_reasons "$TMP/pb_bin.$what") <(same_reasons "$TMP/pb_txt.$what"); then
			fail "seed $1: $what differs"
			diff <(sort "$TMP/pb_txt.$what") <(sort "$TMP/pb_bin.$what") | head -10 | cut -c1-200 | sed 's/^/    | /'
			bad=$((bad + 1))
		fi
	done
	if [ "$(rows_of pb_bin)" != "$(rows_of pb_txt)" ]; then
		fail "seed $1: rows differ between binary and text"
		diff <(rows_of pb_txt) <(rows_of pb_bin) | head -10 | cut -c1-200 | sed 's/^/    | /'
		bad=$((bad + 1))
	fi
}

test_case "clean files: binary = text = psql \\copy, value for value"
bad=0
for seed in $(seq 1 "$SEEDS"); do
	python3 "$GEN" "$seed" "$TMP/c$seed.csv"
	load "$seed" "$TMP/c$seed.csv" pb_bin
	load "$seed" "$TMP/c$seed.csv" pb_txt SLUICE_PG_BINARY=0 SLUICE_PG_DIRECT=0
	binary_batches pb_bin
	if grep -aq "COPY in binary format" "$TMP/pb_txt.out"; then
		fail "seed $seed: SLUICE_PG_BINARY=0 still sent binary"
		bad=$((bad + 1))
	fi
	same_as_text "$seed"
	# sluice's rows are \copy's, value for value, and it refused a few
	pg -c "select id from pb_bin" >"$TMP/ids"
	python3 "$GEN" "$seed" "$TMP/k$seed.csv" keep "$TMP/ids"
	pg -c "drop table if exists pb_ref; create table pb_ref ($COLS)"
	pg -c "\\copy pb_ref from '$TMP/k$seed.csv' with (format csv, header true)"
	nall=$(($(python3 -c "import csv,sys; print(sum(1 for _ in csv.reader(open(sys.argv[1], newline=''))))" "$TMP/c$seed.csv") - 1))
	nbin=$(pg -c "select count(*) from pb_bin") nrej=$(grep -ac "^$TMP/c$seed.csv:" "$TMP/pb_bin.rej.log")
	if [ "$(rows_of pb_bin)" != "$(rows_of pb_ref)" ] || [ $((nbin + nrej)) -ne "$nall" ] ||
		[ "$nbin" -lt $((nall * 8 / 10)) ]; then
		fail "seed $seed: against \\copy: $nbin rows, $nrej refused, of $nall"
		diff <(rows_of pb_ref) <(rows_of pb_bin) | head -10 | cut -c1-200 | sed 's/^/    | /'
		bad=$((bad + 1))
	fi
done
[ $bad -eq 0 ] && pass "$SEEDS files"
if [ "$whole" -gt 0 ] && [ "$part" -gt 0 ]; then
	pass "$whole batches wholly in binary, $part in part"
else
	fail "batches in binary: $whole wholly, $part in part"
fi

test_case "refused values: binary = text, rows, rejects, reasons and lines"
bad=0
for seed in $(seq 11 $((10 + SEEDS))); do
	python3 "$GEN" "$seed" "$TMP/d$seed.csv" dirty
	load "$seed" "$TMP/d$seed.csv" pb_bin
	load "$seed" "$TMP/d$seed.csv" pb_txt SLUICE_PG_BINARY=0 SLUICE_PG_DIRECT=0
	same_as_text "$seed"
	if [ "$(grep -ac . "$TMP/pb_bin.rej.log")" -lt 10 ]; then
		fail "seed $seed: only $(grep -ac . "$TMP/pb_bin.rej.log") rejects"
		bad=$((bad + 1))
	fi
done
[ $bad -eq 0 ] && pass "$SEEDS files"

test_case "a refused row in a binary batch is named by its line"
printf 'id,i2,i4,i8,b,f8,num,num3,d,ts,vc,t\n' >"$TMP/dup.csv"
for i in $(seq 1 50); do
	printf '%d,1,2,3,t,1.5,2.25,3.125,2024-02-29,2024-02-29T12:00:00.5,v%d,t%d\n' "$i" "$i" "$i" >>"$TMP/dup.csv"
done
printf '7,1,2,3,t,1.5,2.25,3.125,2024-02-29,2024-02-29T12:00:00.5,dup,dup\n' >>"$TMP/dup.csv"
load 1 "$TMP/dup.csv" pb_bin --batch-rows 100
assert_eq "exit code" 3 "$(cat "$TMP/pb_bin.rc")"
assert_eq "the rows" "50 50 1275" "$(pg -c "select count(*), count(distinct vc), sum(id) from pb_bin" | tr '|' ' ')"
assert_contains "went in binary" "COPY in binary format: 51 of the 51 rows" "$(cat "$TMP/pb_bin.out")"
assert_contains "the duplicate, by its line" "dup.csv:52: " "$(cat "$TMP/pb_bin.rej.log")"
assert_eq "its values" "2024-02-29 12:00:00.5|3.125|1.5|t" \
	"$(pg -c "select ts, num3, f8, b from pb_bin where id = 7")"

finish
