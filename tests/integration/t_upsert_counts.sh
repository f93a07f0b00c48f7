#!/usr/bin/env bash
# tests/integration/t_upsert_counts.sh - an upsert's rows inserted, updated
# and skipped, in the JSON summary and --metrics-file, exact on PostgreSQL,
# MariaDB and SQLite: --on-conflict update (rows that change, rows set to
# the values they have, which MariaDB's affected rows count 1 rather than
# 2, a key twice in the input), --on-conflict skip, --add, refused rows in
# the same batches, a --resume run stopped by SIGTERM and run again, and
# copy --incremental both ways; sluice delete's rows are deleted ones.
# Every expected count comes from the table, counted with the server's own
# client before and after the run: inserted = the rows the table gained.
. "$(dirname "$0")/lib.sh"

lite() { sqlite3 -cmd '.timeout 5000' "$TMP/uc.db" "$@"; }
# jv FILE KEY...: the first table's KEYs of a JSON summary, space-separated
jv() {
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
t = d["tables"][0]
print(" ".join(str(t.get(k)) for k in sys.argv[2:]))' "$@"
}
# metric FILE OUTCOME: the sluice_rows sample of OUTCOME, or "none"
metric() { grep "^sluice_rows{.*outcome=\"$2\"}" "$1" | awk '{print $2}' | grep . || echo none; }

# the table: (shop, sku) is the key, 2 x 12 rows, qty = sku * 4, note 'was'
setup() {
	case $1 in
	pg) pg -c "drop table if exists uc_stock; create table uc_stock (shop text, sku int,
		qty int check (qty >= 0), note text, primary key (shop, sku));
		insert into uc_stock select s, k, k * 4, 'was' from unnest(array['Lyon', 'Oslo']) s,
		generate_series(1, 12) k" ;;
	my) my -e "drop table if exists uc_stock; create table uc_stock (shop varchar(20), sku int,
		qty int check (qty >= 0), note varchar(20), primary key (shop, sku));
		insert into uc_stock select s, seq, seq * 4, 'was' from
		(select 'Lyon' s union all select 'Oslo') x, seq_1_to_12" ;;
	lite) rm -f "$TMP/uc.db"
		lite "create table uc_stock (shop text, sku int, qty int check (qty >= 0), note text,
		primary key (shop, sku)); with recursive k(n) as (select 1 union all select n + 1
		from k where n < 12) insert into uc_stock select s, n, n * 4, 'was' from
		(select 'Lyon' s union all select 'Oslo'), k" ;;
	esac
}
url() {
	case $1 in
	pg) echo "$SLUICE_PG_URL" ;;
	my) echo "$SLUICE_MY_URL" ;;
	lite) echo "sqlite://$TMP/uc.db" ;;
	esac
}
rows() {
	case $1 in
	pg) pg -c "select count(*) from uc_stock" ;;
	my) my -e "select count(*) from uc_stock" ;;
	lite) lite "select count(*) from uc_stock" ;;
	esac
}
# the table's contents as "shop|sku|qty|note" lines, sorted
dump() {
	case $1 in
	pg) pg -c "select shop, sku, qty, coalesce(note, '') from uc_stock order by 1, 2" ;;
	my) my -e "select shop, sku, qty, coalesce(note, '') from uc_stock order by 1, 2" | tr '\t' '|' ;;
	lite) lite "select shop, sku, qty, coalesce(note, '') from uc_stock order by 1, 2" ;;
	esac
}

# 40 records, shuffled: 8 keys there with the values they have, 7 there
# with a new qty, 1 there with a refused qty (-3), 20 new keys, 2 new keys
# refused, a new key twice (first, then second).
python3 - "$TMP/in.csv" <<'EOF'
import random, sys
random.seed(23)
recs = [f"Lyon,{k},{k * 4},was" for k in range(1, 9)]
recs += [f"Oslo,{k},{k * 4 + 2},more" for k in range(1, 8)]
recs += ["Oslo,9,-3,refused"]
recs += [f"Riga,{k},{k},new" for k in range(50, 70)]
recs += ["Riga,90,-1,refused", "Kiel,91,-2,refused"]
random.shuffle(recs)
recs += ["Kiel,5,1,first", "Kiel,5,2,second"]
open(sys.argv[1], "w").write("shop,sku,qty,note\n" + "\n".join(recs) + "\n")
EOF

# run SIDE NAME ARGS...: load in.csv with ARGS; BEFORE and AFTER the table's
# rows, RC the exit code, $TMP/NAME.json and NAME.prom the summaries
run() {
	local side=$1 name=$2
	shift 2
	BEFORE=$(rows "$side")
	"$SLUICE" load "$TMP/in.csv" "$(url "$side")" --table uc_stock --key shop,sku \
		--rejects "$TMP/$name.rej" --summary-json "$TMP/$name.json" \
		--metrics-file "$TMP/$name.prom" -q "$@" 2>"$TMP/$name.err"
	RC=$?
	AFTER=$(rows "$side")
}

for side in pg my lite; do
	for shape in "--batch-rows 6 --workers 2" "--batch-rows 1000" "--batch-rows 1"; do
		test_case "$side: --on-conflict update $shape"
		setup $side
		run $side up "--on-conflict" update $shape
		assert_status "3 refused" 3 "$RC"
		assert_eq "the table gained the 21 new keys" "45" "$AFTER"
		# 37 written: 21 keys new, 16 records met a key (15 there, Kiel 5 again)
		assert_eq "written inserted updated skipped rejected" \
			"37 $((AFTER - BEFORE)) $((37 - (AFTER - BEFORE))) 0 3" \
			"$(jv "$TMP/up.json" rows_written rows_inserted rows_updated rows_skipped rows_rejected)"
		assert_eq "the metrics say the same" "37 21 16 3" "$(metric "$TMP/up.prom" written) \
$(metric "$TMP/up.prom" inserted) $(metric "$TMP/up.prom" updated) $(metric "$TMP/up.prom" rejected)"
		assert_eq "the refused records, in --rejects" "3" "$(($(wc -l <"$TMP/up.rej") - 1))"
		assert_eq "the values" "Kiel|5|2|second
Lyon|1|4|was
Oslo|7|30|more
Oslo|9|36|was
Riga|69|69|new" "$(dump $side | grep -E '^(Kiel\|5|Lyon\|1|Oslo\|7|Oslo\|9|Riga\|69)\|')"
	done

	test_case "$side: --on-conflict skip"
	setup $side
	run $side sk --on-conflict skip --batch-rows 6 --workers 2
	assert_status "3 refused" 3 "$RC"
	assert_eq "the table gained the 21 new keys" "45" "$AFTER"
	assert_eq "written inserted updated skipped rejected" \
		"$((AFTER - BEFORE)) $((AFTER - BEFORE)) 0 16 3" \
		"$(jv "$TMP/sk.json" rows_written rows_inserted rows_updated rows_skipped rows_rejected)"
	assert_eq "the metrics" "21 16" "$(metric "$TMP/sk.prom" inserted) $(metric "$TMP/sk.prom" skipped)"
	assert_eq "the rows there are untouched, Kiel 5 the first" "Kiel|5|1|first
Oslo|7|28|was" "$(dump $side | grep -E '^(Kiel\|5|Oslo\|7)\|')"

	test_case "$side: --add qty"
	setup $side
	run $side ad --on-conflict update --add qty --batch-rows 4
	# Oslo 9's -3 is refused as a delta too: the servers check the row the
	# INSERT proposes before they find its key
	assert_status "3 refused" 3 "$RC"
	assert_eq "the table gained the 21 new keys" "45" "$AFTER"
	assert_eq "written inserted updated rejected" "37 $((AFTER - BEFORE)) $((37 - (AFTER - BEFORE))) 3" \
		"$(jv "$TMP/ad.json" rows_written rows_inserted rows_updated rows_rejected)"
	assert_eq "deltas added" "Kiel|5|3|second
Lyon|1|8|was
Oslo|7|58|more
Oslo|9|36|was" "$(dump $side | grep -E '^(Kiel\|5|Lyon\|1|Oslo\|7|Oslo\|9)\|')"

	test_case "$side: --resume after SIGTERM, then again"
	setup $side
	pg -c "delete from sluice_checkpoints where job = 'uc_resume'" >/dev/null 2>&1
	my -e "delete from sluice_checkpoints where job = 'uc_resume'" 2>/dev/null
	rm -f "$TMP/fifo.csv"
	mkfifo "$TMP/fifo.csv"
	before=$(rows $side)
	"$SLUICE" load "$TMP/fifo.csv" "$(url $side)" --table uc_stock --key shop,sku \
		--on-conflict update --resume --job uc_resume --batch-rows 5 --summary-json "$TMP/r1.json" -q 2>"$TMP/r1.err" &
	pid=$!
	exec 7>"$TMP/fifo.csv"
	head -23 "$TMP/in.csv" >&7 # the header and 22 records: 4 whole batches
	for _ in $(seq 1 100); do
		[ "$(rows $side)" -gt "$before" ] && break
		sleep 0.05
	done
	sleep 0.5 # the 4 batches in; the reader waits for more
	mid_run=$(rows $side)
	kill -TERM $pid
	wait $pid
	rc1=$?
	exec 7>&-
	mid=$(rows $side)
	assert_status "the first run stopped" 143 "$rc1"
	if [ "$mid_run" -gt "$before" ] && [ "$mid" -lt 45 ]; then
		pass "it stopped mid-run ($((mid - before)) of 21 new keys in)"
	else
		fail "not mid-run: $before, $mid_run, $mid"
	fi
	assert_eq "run 1: inserted is what the table gained" "$((mid - before))" "$(jv "$TMP/r1.json" rows_inserted)"
	w1=$(jv "$TMP/r1.json" rows_written)
	assert_eq "run 1: updated the rest of what it wrote" "$((w1 - (mid - before)))" "$(jv "$TMP/r1.json" rows_updated)"
	rm -f "$TMP/fifo.csv"
	cp "$TMP/in.csv" "$TMP/fifo.csv"
	"$SLUICE" load "$TMP/fifo.csv" "$(url $side)" --table uc_stock --key shop,sku \
		--on-conflict update --resume --job uc_resume --batch-rows 5 --summary-json "$TMP/r2.json" -q 2>"$TMP/r2.err"
	assert_status "the rerun" 3 $?
	after=$(rows $side)
	assert_eq "the rerun: 45 rows" "45" "$after"
	assert_eq "run 2: resumed what run 1 wrote" "$w1" "$(jv "$TMP/r2.json" rows_resumed)"
	w2=$(jv "$TMP/r2.json" rows_written)
	assert_eq "both runs wrote the 37 once" "37" "$((w1 + w2))"
	assert_eq "run 2: inserted is what the table gained" "$((after - mid))" "$(jv "$TMP/r2.json" rows_inserted)"
	assert_eq "run 2: updated the rest" "$((w2 - (after - mid)))" "$(jv "$TMP/r2.json" rows_updated)"
	assert_eq "the values as in one run" "Kiel|5|2|second
Oslo|7|30|more" "$(dump $side | grep -E '^(Kiel\|5|Oslo\|7)\|')"
done

# sluice delete: what it removes is deleted rows, not updated ones
printf 'shop,sku\nLyon,1\nLyon,2\nOslo,12\nRiga,404\n' >"$TMP/del.csv"
for side in pg my lite; do
	test_case "$side: delete counts deleted rows"
	setup $side
	before=$(rows $side)
	"$SLUICE" delete "$TMP/del.csv" "$(url $side)" --table uc_stock --key shop,sku \
		--summary-json "$TMP/d.json" --metrics-file "$TMP/d.prom" -q 2>"$TMP/d.err"
	assert_status "one key not found" 3 $?
	after=$(rows $side)
	assert_eq "deleted is what the table lost; none inserted or updated" \
		"3 $((before - after)) 0 0 1" "$(jv "$TMP/d.json" rows_written rows_deleted rows_inserted rows_updated rows_not_found)"
	assert_eq "the metric" "3" "$(metric "$TMP/d.prom" deleted)"
done

# copy --incremental upserts past the watermark: its summary split too
# (the copy summed the units' written rows, but reported 0 inserted and 0
# updated whatever happened)
for way in mp pm; do
	test_case "copy --incremental $way: inserted and updated"
	pg -c "drop table if exists uc_feed" -c "delete from sluice_checkpoints where job = 'uc_feed'" >/dev/null 2>&1
	my -e "drop table if exists uc_feed; delete from sluice_checkpoints where job = 'uc_feed'" 2>/dev/null
	if [ $way = mp ]; then
		my -e "create table uc_feed (id int primary key, v varchar(10), ts datetime(6));
			insert into uc_feed select seq, 'a', '2026-01-01' + interval seq minute from seq_1_to_30"
		from=$SLUICE_MY_URL to=$SLUICE_PG_URL dst=pg
		change() { my -e "update uc_feed set v = 'b', ts = '2026-03-01' where id <= 4;
			insert into uc_feed values (31, 'n', '2026-03-02'), (32, 'n', '2026-03-02')"; }
	else
		pg -c "create table uc_feed (id int primary key, v text, ts timestamp(6));
			insert into uc_feed select g, 'a', '2026-01-01'::timestamp + g * interval '1 minute' from generate_series(1, 30) g"
		from=$SLUICE_PG_URL to=$SLUICE_MY_URL dst=my
		change() { pg -c "update uc_feed set v = 'b', ts = '2026-03-01' where id <= 4;
			insert into uc_feed values (31, 'n', '2026-03-02'), (32, 'n', '2026-03-02')"; }
	fi
	feed_rows() { if [ $dst = pg ]; then pg -c "select count(*) from uc_feed"; else my -e "select count(*) from uc_feed"; fi; }
	"$SLUICE" copy "$from" "$to" --tables uc_feed --create --incremental ts,id --job uc_feed \
		--summary-json "$TMP/f1.json" -q
	assert_status "the first copy" 0 $?
	assert_eq "first: 30 written, inserted" "30 30 0" "$(jv "$TMP/f1.json" rows_written rows_inserted rows_updated)"
	before=$(feed_rows)
	change
	"$SLUICE" copy "$from" "$to" --tables uc_feed --incremental ts,id --job uc_feed \
		--summary-json "$TMP/f2.json" --metrics-file "$TMP/f2.prom" -q
	assert_status "the second copy" 0 $?
	after=$(feed_rows)
	assert_eq "second: 6 written, inserted what the table gained, updated the rest" \
		"6 $((after - before)) $((6 - (after - before)))" "$(jv "$TMP/f2.json" rows_written rows_inserted rows_updated)"
	assert_eq "the metrics" "2 4" "$(metric "$TMP/f2.prom" inserted) $(metric "$TMP/f2.prom" updated)"
done

pg -c "drop table if exists uc_feed" -c "delete from sluice_checkpoints where job = 'uc_feed'" >/dev/null 2>&1
my -e "drop table if exists uc_feed; delete from sluice_checkpoints where job = 'uc_feed'" 2>/dev/null
pg -c "drop table if exists uc_stock" -c "delete from sluice_checkpoints where job = 'uc_resume'" >/dev/null 2>&1
my -e "drop table if exists uc_stock; delete from sluice_checkpoints where job = 'uc_resume'" 2>/dev/null
finish
