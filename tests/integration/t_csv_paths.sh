#!/usr/bin/env bash
# tests/integration/t_csv_paths.sh - the differential test of the two CSV
# paths into PostgreSQL COPY: plain records sent as their CSV text (the fast
# path) against every record taken apart by libcsv (SLUICE_SLOW_CSV=1, a test
# build's switch), on generated files in random dialects with broken records
# and refused values: the same rows, rejects, reasons, line numbers and exit
# codes. Clean files are also held to psql's own \copy. The fast path also
# holds each of its quick scans to the plain one, record by record
# (SLUICE_CSV_CROSSCHECK=1, a test build's switch). The same files into
# MariaDB by LOAD DATA (--method infile): records found by the reader's
# quote-aware scan against libcsv's, and clean files against \copy's values;
# and typed values (tools/csv_typed.py) sent to LOAD DATA as CSV text against
# escaped and against INSERT.
. "$(dirname "$0")/lib.sh"
GEN="$(dirname "$0")/../tools/csv_dialects.py"
SEEDS=${SLUICE_CSV_SEEDS:-16}

rows_of() { pg -c "select coalesce(id::text, 'N') || '|' || coalesce(a, 'N') || '|' || coalesce(b, 'N') from $1 order by 1"; }

# load SEED TABLE [ARG...]: load the seed's file into TABLE (ARGs: VAR=value
# for the environment, others for sluice); code, output, rejects and reasons
# in $TMP/TABLE.{rc,out,rej,rej.log}
load() {
	local seed=$1 t=$2
	shift 2
	# the CSV text paths, not COPY's binary format (t_pg_binary's)
	local envs=(SLUICE_PG_BINARY=0) args=() quiet=(-q)
	for a in "$@"; do
		case $a in *=*) envs+=("$a") ;; -v*) quiet=() args+=("$a") ;; *) args+=("$a") ;; esac
	done
	[ "$seed" -lt 100 ] && [ $((seed % 3)) -eq 0 ] && args+=(--max-record-bytes 2000)
	pg -c "drop table if exists $t; create table $t (id int, a text, b text)"
	rm -f "$TMP/$t.rej" "$TMP/$t.rej.log"
	env "${envs[@]}" "$SLUICE" load "$TMP/g$seed.csv" "$SLUICE_PG_URL" --table "$t" --delimiter "$DELIM" \
		--quote "$QUOTE" --batch-rows $((5 + seed % 40)) --rejects "$TMP/$t.rej" "${quiet[@]}" \
		"${args[@]}" >"$TMP/$t.out" 2>&1
	echo $? >"$TMP/$t.rc"
	touch "$TMP/$t.rej" "$TMP/$t.rej.log"
}

test_case "generated dialects and broken files: fast path = libcsv path"
bad=0
for seed in $(seq 1 "$SEEDS"); do
	read -r dh qh < <(python3 "$GEN" "$seed" "$TMP/g$seed.csv")
	DELIM=$(printf "\\x$dh") QUOTE=$(printf "\\x$qh")
	load "$seed" cf_fast SLUICE_SLOW_CSV=0 SLUICE_CSV_CROSSCHECK=1
	load "$seed" cf_slow SLUICE_SLOW_CSV=1
	# the reader's rejects and the writers' interleave as the threads run:
	# the same lines, in any order
	for what in rc rej rej.log; do
		if ! cmp -s <(sort "$TMP/cf_fast.$what") <(sort "$TMP/cf_slow.$what"); then
			fail "seed $seed: $what differs"
			diff <(sort "$TMP/cf_slow.$what") <(sort "$TMP/cf_fast.$what") | head -10 | cut -c1-160 | sed 's/^/    | /'
			bad=$((bad + 1))
		fi
	done
	if [ "$(rows_of cf_fast)" != "$(rows_of cf_slow)" ]; then
		fail "seed $seed: rows differ"
		diff <(rows_of cf_slow) <(rows_of cf_fast) | head -10 | cut -c1-160 | sed 's/^/    | /'
		bad=$((bad + 1))
	fi
	[ -s "$TMP/cf_slow.rej.log" ] || { fail "seed $seed: no rejects"; bad=$((bad + 1)); }
done
[ $bad -eq 0 ] && pass "$SEEDS files"

test_case "clean files in every dialect: fast path = psql \\copy, every batch as CSV text"
bad=0
for seed in $(seq 101 $((100 + SEEDS / 2))); do
	read -r dh qh < <(python3 "$GEN" "$seed" "$TMP/g$seed.csv" clean 2000)
	DELIM=$(printf "\\x$dh") QUOTE=$(printf "\\x$qh")
	t=cf_clean_$seed
	load "$seed" "$t" -vv
	if ! grep -aq "rows as their CSV text" "$TMP/$t.out" ||
		grep -a "debug: batch .* rows (" "$TMP/$t.out" | grep -avq "rows as their CSV text"; then
		fail "seed $seed: not every batch went as CSV text"
		grep -a "debug: batch" "$TMP/$t.out" | head -3 | cut -c1-160 | sed 's/^/    | /'
		bad=$((bad + 1))
	fi
	pg -c "drop table if exists cf_copy; create table cf_copy (id int, a text, b text)"
	pg -c "\\copy cf_copy from '$TMP/g$seed.csv' with (format csv, header true, delimiter E'\\x$dh', quote E'\\x$qh')"
	if [ "$(cat "$TMP/$t.rc")" != 0 ] || [ "$(rows_of "$t")" != "$(rows_of cf_copy)" ] ||
		[ "$(pg -c "select count(*) from $t")" != 2000 ]; then
		fail "seed $seed: differs from \\copy (exit $(cat "$TMP/$t.rc"))"
		diff <(rows_of cf_copy) <(rows_of "$t") | head -10 | cut -c1-160 | sed 's/^/    | /'
		bad=$((bad + 1))
	fi
	pg -c "drop table $t"
done
[ $bad -eq 0 ] && pass "$((SEEDS / 2)) files"

# MariaDB: the values as hex, so that the client's output escapes nothing
my_rows_of() { my -e "select concat(coalesce(id, 'N'), '|', coalesce(hex(a), 'N'), '|', coalesce(hex(b), 'N')) from $1 order by id, hex(a), hex(b)"; }
pg_rows_hex() { pg -c "select coalesce(id::text, 'N') || '|' || coalesce(upper(encode(convert_to(a, 'UTF8'), 'hex')), 'N') || '|' || coalesce(upper(encode(convert_to(b, 'UTF8'), 'hex')), 'N') from $1 order by id"; }

# my_file_load FILE COLUMNS BATCH TABLE [ARG...]: FILE (in DELIM and QUOTE)
# into a fresh MariaDB TABLE (COLUMNS), BATCH rows a batch (ARGs: VAR=value
# for the environment, others for sluice); code, output (-vv), rejects and
# reasons in $TMP/TABLE.{rc,out,rej,rej.log}
my_file_load() {
	local file=$1 cols=$2 batch=$3 t=$4
	shift 4
	local envs=() args=()
	for a in "$@"; do
		case $a in *=*) envs+=("$a") ;; *) args+=("$a") ;; esac
	done
	my -e "drop table if exists $t; create table $t ($cols) character set utf8mb4"
	rm -f "$TMP/$t.rej" "$TMP/$t.rej.log"
	env "${envs[@]}" "$SLUICE" load "$file" "$SLUICE_MY_URL" --table "$t" \
		--delimiter "$DELIM" --quote "$QUOTE" --batch-rows "$batch" \
		--rejects "$TMP/$t.rej" -vv "${args[@]}" >"$TMP/$t.out" 2>&1
	echo $? >"$TMP/$t.rc"
	touch "$TMP/$t.rej" "$TMP/$t.rej.log"
}
# my_load SEED TABLE [ARG...]: the seed's file into MariaDB with --method infile
my_load() {
	my_file_load "$TMP/g$1.csv" "id int, a text, b text" $((5 + $1 % 40)) "$2" --method infile "${@:3}"
}

test_case "MariaDB LOAD DATA: records found by the quote-aware scan = libcsv's"
bad=0
MY_SEEDS=$((SEEDS / 2))
for seed in $(seq 1 "$MY_SEEDS"); do
	read -r dh qh < <(python3 "$GEN" "$seed" "$TMP/g$seed.csv")
	DELIM=$(printf "\\x$dh") QUOTE=$(printf "\\x$qh")
	my_load "$seed" mf_fast SLUICE_SLOW_CSV=0 SLUICE_CSV_CROSSCHECK=1
	my_load "$seed" mf_slow SLUICE_SLOW_CSV=1
	if ! grep -aq "found by the quote-aware scan" "$TMP/mf_fast.out" ||
		grep -aq "found by the quote-aware scan" "$TMP/mf_slow.out"; then
		fail "seed $seed: the scan was not used (or used under SLUICE_SLOW_CSV=1)"
		bad=$((bad + 1))
	fi
	# the reasons name the table: the same name for both
	for what in rc rej rej.log; do
		if ! cmp -s <(sed 's/mf_fast/mf_slow/g' "$TMP/mf_fast.$what" | sort) <(sort "$TMP/mf_slow.$what"); then
			fail "seed $seed: $what differs"
			diff <(sort "$TMP/mf_slow.$what") <(sed 's/mf_fast/mf_slow/g' "$TMP/mf_fast.$what" | sort) | head -10 | cut -c1-160 | sed 's/^/    | /'
			bad=$((bad + 1))
		fi
	done
	if [ "$(my_rows_of mf_fast)" != "$(my_rows_of mf_slow)" ]; then
		fail "seed $seed: rows differ"
		diff <(my_rows_of mf_slow) <(my_rows_of mf_fast) | head -10 | cut -c1-160 | sed 's/^/    | /'
		bad=$((bad + 1))
	fi
	[ "$(my -e "select count(*) from mf_fast")" -gt 100 ] || { fail "seed $seed: few rows"; bad=$((bad + 1)); }
	[ -s "$TMP/mf_slow.rej.log" ] || { fail "seed $seed: no rejects"; bad=$((bad + 1)); }
done
[ $bad -eq 0 ] && pass "$MY_SEEDS files"

test_case "MariaDB LOAD DATA of clean files: the values psql \\copy reads"
bad=0
for seed in $(seq 101 $((100 + MY_SEEDS / 2))); do
	read -r dh qh < <(python3 "$GEN" "$seed" "$TMP/g$seed.csv" clean 2000)
	DELIM=$(printf "\\x$dh") QUOTE=$(printf "\\x$qh")
	my_load "$seed" mf_clean
	pg -c "drop table if exists cf_copy; create table cf_copy (id int, a text, b text)"
	pg -c "\\copy cf_copy from '$TMP/g$seed.csv' with (format csv, header true, delimiter E'\\x$dh', quote E'\\x$qh')"
	if [ "$(cat "$TMP/mf_clean.rc")" != 0 ] || [ "$(my_rows_of mf_clean)" != "$(pg_rows_hex cf_copy)" ] ||
		[ "$(my -e "select count(*) from mf_clean")" != 2000 ]; then
		fail "seed $seed: differs from \\copy (exit $(cat "$TMP/mf_clean.rc"))"
		diff <(pg_rows_hex cf_copy) <(my_rows_of mf_clean) | head -10 | cut -c1-160 | sed 's/^/    | /'
		bad=$((bad + 1))
	fi
	if grep -a "debug: batch .* rows (" "$TMP/mf_clean.out" | grep -avq "rows as their CSV text"; then
		fail "seed $seed: not every batch went as CSV text"
		bad=$((bad + 1))
	fi
done
my -e "drop table if exists mf_fast, mf_slow, mf_clean"
[ $bad -eq 0 ] && pass "$((MY_SEEDS / 2)) files"

# typed columns: the rows as their CSV text (values a column's kind converts
# rewritten in place, a row with a NULL or the word NULL written whole)
# against every value escaped (SLUICE_SLOW_CSV=1) and against INSERT
TYPED="$(dirname "$0")/../tools/csv_typed.py"
typed_rows() {
	my -e "select concat_ws('|', coalesce(id, 'N'), coalesce(flag, 'N'), coalesce(at, 'N'),
		coalesce(at3, 'N'), coalesce(day, 'N'), coalesce(amount, 'N'), coalesce(score, 'N'),
		coalesce(hex(bin), 'N'), coalesce(hex(note), 'N')) from $1 order by id"
}
# typed_load SEED TABLE [ARG...]: the seed's typed file into MariaDB
typed_load() {
	my_file_load "$TMP/t$1.csv" "id int, flag tinyint(1), at datetime, at3 datetime(3), day date,
		amount decimal(10,2), score double, bin blob, note text" $((7 + $1 % 50)) "$2" "${@:3}"
}
test_case "MariaDB LOAD DATA of typed values: CSV text = escaped values = INSERT"
bad=0
TY_SEEDS=$((SEEDS / 3))
for seed in $(seq 1 "$TY_SEEDS"); do
	read -r dh qh < <(python3 "$TYPED" "$seed" "$TMP/t$seed.csv")
	DELIM=$(printf "\\x$dh") QUOTE=$(printf "\\x$qh")
	typed_load "$seed" ty_csv --method infile
	typed_load "$seed" ty_esc --method infile SLUICE_SLOW_CSV=1
	typed_load "$seed" ty_ins --method insert
	grep -aq "rows as their CSV text" "$TMP/ty_csv.out" ||
		{ fail "seed $seed: no batch went as CSV text"; bad=$((bad + 1)); }
	for other in ty_esc ty_ins; do
		if [ "$(typed_rows ty_csv)" != "$(typed_rows $other)" ]; then
			fail "seed $seed: rows differ from $other"
			diff <(typed_rows $other) <(typed_rows ty_csv) | head -10 | cut -c1-160 | sed 's/^/    | /'
			bad=$((bad + 1))
		fi
		# the same lines refused (the reasons of INSERT and LOAD DATA differ in words)
		if [ "$(cut -d: -f2 "$TMP/ty_csv.rej.log" | sort -n)" != "$(cut -d: -f2 "$TMP/$other.rej.log" | sort -n)" ] ||
			[ "$(cat "$TMP/ty_csv.rc")" != "$(cat "$TMP/$other.rc")" ]; then
			fail "seed $seed: rejects or exit differ from $other"
			diff <(sort "$TMP/$other.rej.log") <(sort "$TMP/ty_csv.rej.log") | head -10 | cut -c1-160 | sed 's/^/    | /'
			bad=$((bad + 1))
		fi
	done
	if ! cmp -s <(sed 's/ty_csv/ty_esc/g' "$TMP/ty_csv.rej.log" | sort) <(sort "$TMP/ty_esc.rej.log"); then
		fail "seed $seed: reasons differ from the escaped values'"
		bad=$((bad + 1))
	fi
	n=$(my -e "select count(*) from ty_csv")
	[ "$n" -gt 150 ] && [ -s "$TMP/ty_csv.rej.log" ] ||
		{ fail "seed $seed: $n rows, rejects: $(wc -l <"$TMP/ty_csv.rej.log")"; bad=$((bad + 1)); }
done
my -e "drop table if exists ty_csv, ty_esc, ty_ins"
[ $bad -eq 0 ] && pass "$TY_SEEDS files"

test_case "a value the column would round is still refused on the fast path"
pg -c "drop table if exists cf_num; create table cf_num (id int, v numeric(6,2))"
printf 'id,v\n1,1.25\n2,1.255\n3,2.5\n' >"$TMP/num.csv"
for binary in 0 1; do
	pg -c "truncate cf_num"
	SLUICE_PG_BINARY=$binary "$SLUICE" load "$TMP/num.csv" "$SLUICE_PG_URL" --table cf_num \
		--rejects "$TMP/num.rej" -q
	assert_status "load (binary $binary): some rows rejected" 3 $?
	assert_eq "rows (binary $binary)" $'1|1.25\n3|2.50' "$(pg -c 'select id, v from cf_num order by id')"
	assert_contains "reason with its line (binary $binary)" "num.csv:3" "$(cat "$TMP/num.rej.log")"
done

finish
