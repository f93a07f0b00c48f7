#!/usr/bin/env bash
# tests/integration/t_resume_keys.sh - --resume at the ends of bigint: copy
# and load of rows keyed -9223372036854775808, -9223372036854775807, 0 and
# 9223372036854775807 (and dense keys between), each run SIGKILLed in the
# middle and run again, on PostgreSQL, MariaDB and SQLite; a checkpoint
# table as the version before its kind column made it, upgraded in place
# while it keeps what it knew. Contents are read through the servers'
# clients.
. "$(dirname "$0")/lib.sh"
export PGTZ=UTC
cd "$TMP" || exit 1
lite() { sqlite3 -batch "$@"; }

MIN=-9223372036854775808
MIN1=-9223372036854775807
MAX=9223372036854775807
N=40000 # dense keys -N..N besides the ends: enough rows to strike in the middle
TOTAL=$((2 * N + 1 + 3))

# the source rows: v is the key's text with a prefix, so a row's contents
# can be checked against its key
fresh rk_src
pgd rk_src -c "CREATE TABLE ends (id bigint PRIMARY KEY, v text NOT NULL);
	INSERT INTO ends VALUES ($MIN, 'k$MIN'), ($MIN1, 'k$MIN1'), ($MAX, 'k$MAX');
	INSERT INTO ends SELECT i, 'k' || i FROM generate_series(-$N, $N) i"
myd rk_src -e "CREATE TABLE ends (id bigint PRIMARY KEY, v text NOT NULL)"
pgd rk_src -c "COPY ends TO STDOUT" >keys.tsv
myd rk_src --local-infile=1 -e "LOAD DATA LOCAL INFILE '$TMP/keys.tsv' INTO TABLE ends"
lite src.db "CREATE TABLE ends (id INTEGER PRIMARY KEY, v TEXT NOT NULL)"
lite src.db ".mode tabs" ".import keys.tsv ends"
{
	echo "id,v"
	sort -n keys.tsv | tr '\t' ','
} >keys.csv

# the contents every target must hold: rows, distinct keys, rows whose v
# is not their key's, and the four keys' values
want="$TOTAL	$TOTAL	0	k$MIN	k$MIN1	k0	k$MAX"
summary_sql="SELECT COUNT(*), COUNT(DISTINCT id), SUM(CASE WHEN v = CONCAT('k', id) THEN 0 ELSE 1 END),
	MIN(CASE WHEN id = $MIN THEN v END), MIN(CASE WHEN id = $MIN1 THEN v END),
	MIN(CASE WHEN id = 0 THEN v END), MIN(CASE WHEN id = $MAX THEN v END) FROM ends"
lite_sql="SELECT COUNT(*), COUNT(DISTINCT id), SUM(CASE WHEN v = 'k' || id THEN 0 ELSE 1 END),
	MIN(CASE WHEN id = $MIN THEN v END), MIN(CASE WHEN id = $MIN1 THEN v END),
	MIN(CASE WHEN id = 0 THEN v END), MIN(CASE WHEN id = $MAX THEN v END) FROM ends"
# contents TARGET-KIND DB
contents() {
	case $1 in
	my) myd "$2" -e "$summary_sql" ;;
	pg) pgd "$2" -c "$summary_sql" ;;
	lite) lite -separator $'\t' "$2" "$lite_sql" ;;
	esac
}
count() {
	case $1 in
	my) myd "$2" -e "SELECT COUNT(*) FROM ends" 2>/dev/null || echo 0 ;;
	pg) pgd "$2" -c "SELECT COUNT(*) FROM ends" 2>/dev/null || echo 0 ;;
	lite) lite -cmd '.timeout 2000' "$2" "SELECT COUNT(*) FROM ends" 2>/dev/null || echo 0 ;;
	esac
}

# sessions_gone KIND DB: wait (10 s at most) until no session but this one
# is on DB: a COMMIT a killed run had sent goes on on the server after the
# kill, and a test that reads or rewrites the checkpoint table behind its
# back must see it done
sessions_gone() {
	local others
	for _ in $(seq 1 200); do
		case $1 in
		my) others=$(myd "$2" -e "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = '$2' AND ID <> CONNECTION_ID()") ;;
		pg) others=$(pgd "$2" -c "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = '$2' AND pid <> pg_backend_pid()") ;;
		*) return 0 ;;
		esac
		[ "$others" = 0 ] && return 0
		sleep 0.05
	done
	fail "sessions of a killed run still on $2 after 10 s"
}

# killed_run NAME KIND DB ARGS...: run sluice ARGS, SIGKILL it once the
# target holds some of the rows (PROBE, a function like count, says how
# many are in when the table is not empty to begin with), and check the
# kill fell in the middle
killed_run() {
	local name=$1 kind=$2 db=$3 n=0
	shift 3
	# a reader of a SQLite file waits behind the writer's back to back
	# transactions: there the run's own log says how far it got (batch 20 of
# some 400 on its way)
	local vv=
	[ "$kind" = lite ] && vv=-vv
	"$SLUICE" "$@" $vv >"$TMP/$name.out" 2>&1 &
	local pid=$!
	for _ in $(seq 1 400); do
		if [ "$kind" = lite ]; then
			grep -q "debug: batch 20," "$TMP/$name.out" && break
			sleep 0.01
			continue
		fi
		n=$(${PROBE:-count} "$kind" "$db")
		[ "${n:-0}" -gt 0 ] && break
		sleep 0.02
	done
	{
		kill -9 $pid
		wait $pid
	} 2>/dev/null
	n=$(count "$kind" "$db")
	if [ "${n:-0}" -gt 0 ] && [ "$n" -lt "$TOTAL" ]; then
		pass "$name: killed in the middle ($n of $TOTAL rows in)"
	else
		fail "$name: killed at $n of $TOTAL rows"
		sed 's/^/    | /' "$TMP/$name.out" | head -20
	fi
}

for pair in "pg my" "my pg" "pg lite" "lite my"; do
	set -- $pair
	from=$1 to=$2
	test_case "copy --resume $from -> $to: the ends of bigint, a kill, two reruns"
	case $from in
	pg) src=$PG_BASE/rk_src ;;
	my) src=$MY_BASE/rk_src ;;
	lite) src=sqlite:$TMP/src.db ;;
	esac
	db=rk_${from}_${to}
	case $to in
	pg | my)
		fresh "$db"
		[ "$to" = my ] && dst=$MY_BASE/$db || dst=$PG_BASE/$db
		;;
	lite)
		db=$TMP/$db.db
		dst=sqlite:$db
		;;
	esac
	killed_run "c-$from-$to-1" "$to" "$db" copy "$src" "$dst" --create --resume --batch-rows 200
	run_sluice "c-$from-$to-2" 0 copy "$src" "$dst" --create --resume --batch-rows 300
	assert_eq "every row once, the four keys with their values" "$want" "$(contents "$to" "$db")"
	assert_contains "the rerun resumed" "resum" "$OUT"
	run_sluice "c-$from-$to-3" 0 copy "$src" "$dst" --create --resume --batch-rows 300
	assert_eq "a third run changes nothing" "$want" "$(contents "$to" "$db")"
	# every range committed, the mark of the whole table not (as after a
	# crash just before it): the range holding 2^63-1 is skipped, not copied again
	case $to in
	my) myd "$db" -e "DELETE FROM sluice_checkpoints WHERE kind = 2" ;;
	pg) pgd "$db" -c "DELETE FROM sluice_checkpoints WHERE kind = 2" ;;
	lite) lite "$db" "DELETE FROM sluice_checkpoints WHERE kind = 2" ;;
	esac
	run_sluice "c-$from-$to-4" 0 copy "$src" "$dst" --resume --batch-rows 300
	assert_eq "every range skipped: nothing doubled" "$want" "$(contents "$to" "$db")"
	run_sluice "c-$from-$to-verify" 0 verify "$src" "$dst" --tables ends
done

for to in pg my lite; do
	test_case "load --resume into $to: the ends of bigint, a kill, two reruns"
	case $to in
	pg)
		db=rl_pg
		fresh "$db"
		dst=$PG_BASE/$db
		pgd "$db" -c "CREATE TABLE ends (id bigint PRIMARY KEY, v text NOT NULL)"
		;;
	my)
		db=rl_my
		fresh "$db"
		dst=$MY_BASE/$db
		myd "$db" -e "CREATE TABLE ends (id bigint PRIMARY KEY, v text NOT NULL)"
		;;
	lite)
		db=$TMP/rl.db
		dst=sqlite:$db
		lite "$db" "CREATE TABLE ends (id INTEGER PRIMARY KEY, v TEXT NOT NULL)"
		;;
	esac
	killed_run "l-$to-1" "$to" "$db" load keys.csv "$dst" --table ends --resume --batch-rows 200
	run_sluice "l-$to-2" 0 load keys.csv "$dst" --table ends --resume --batch-rows 300
	assert_eq "every row once, the four keys with their values" "$want" "$(contents "$to" "$db")"
	run_sluice "l-$to-3" 0 load keys.csv "$dst" --table ends --resume
	assert_eq "a third run changes nothing" "$want" "$(contents "$to" "$db")"
done

# the checkpoint table as the version before its kind column made it
# (that version's CREATE TABLE, word for word), holding the rows it would
# have: ranges as they are, a source whole as first_rec -2^63
OLD_DDL="(job varchar(200) NOT NULL, source varchar(500) NOT NULL, first_rec bigint NOT NULL, end_rec bigint NOT NULL, fingerprint varchar(100) NOT NULL, rows_written bigint NOT NULL, committed_at timestamp NULL DEFAULT CURRENT_TIMESTAMP, PRIMARY KEY (job, source, first_rec))"
OLD_ROWS="SELECT job, source, CASE WHEN kind = 2 THEN $MIN ELSE first_rec END, end_rec, fingerprint, rows_written, committed_at FROM sluice_checkpoints"
printf 'id,v\n1,k1\n2,k2\n' >done.csv
# on_server TO DB: a fresh database DB on server TO (pg or my), as dst (its
# URL) and q SQL (a statement run there, its rows printed)
on_server() {
	fresh "$2"
	if [ "$1" = my ]; then
		dst=$MY_BASE/$2
		q() { myd "$db" -e "$1"; }
	else
		dst=$PG_BASE/$2
		q() { pgd "$db" -c "$1"; }
	fi
}
# copied KIND DB: how many ranges a copy job committed
copied() { q "SELECT COUNT(*) FROM sluice_checkpoints WHERE kind = 1 AND job LIKE 'copy:%'" 2>/dev/null || echo 0; }
for to in pg my; do
	test_case "$to: an old-shape checkpoint table, upgraded in place by a resumed run"
	db=ro_$to
	on_server "$to" "$db"
	q "CREATE TABLE ends (id bigint PRIMARY KEY, v text NOT NULL); CREATE TABLE done (id int PRIMARY KEY, v text)"
	run_sluice "o-$to-done" 0 load done.csv "$dst" --table done --resume
	killed_run "o-$to-1" "$to" "$db" load keys.csv "$dst" --table ends --resume --batch-rows 200
	sessions_gone "$to" "$db"
	q "CREATE TABLE old_ck $OLD_DDL; INSERT INTO old_ck $OLD_ROWS; DROP TABLE sluice_checkpoints"
	q "ALTER TABLE old_ck RENAME TO sluice_checkpoints"
	assert_eq "the old shape: no kind, a whole mark at -2^63" "1" \
		"$(q "SELECT COUNT(*) FROM sluice_checkpoints WHERE first_rec = $MIN")"
	q "DELETE FROM done"
	run_sluice "o-$to-2" 0 load keys.csv "$dst" --table ends --resume --batch-rows 300
	assert_contains "the table is upgraded" "the checkpoint table now has the column kind" "$OUT"
	assert_eq "every row once, the four keys with their values" "$want" "$(contents "$to" "$db")"
	run_sluice "o-$to-done2" 0 load done.csv "$dst" --table done --resume
	assert_eq "the file the old rows mark whole is not loaded again" "0" "$(q "SELECT COUNT(*) FROM done")"
	assert_eq "the old rows kept as kind 0, the new as kinds 1 and 2" "0 1 2" \
		"$(q "SELECT DISTINCT kind FROM sluice_checkpoints ORDER BY kind" | tr '\n' ' ' | sed 's/ $//')"
	# a copy job in the upgraded table: ranges from -2^63, killed, rerun
	PROBE=copied killed_run "o-$to-c1" "$to" "$db" copy "$PG_BASE/rk_src" "$dst" --tables ends --truncate --resume --batch-rows 200
	run_sluice "o-$to-c2" 0 copy "$PG_BASE/rk_src" "$dst" --tables ends --truncate --resume --batch-rows 300
	assert_eq "copy: every row once, the four keys with their values" "$want" "$(contents "$to" "$db")"
	assert_eq "copy: its first range starts at -2^63, beside the old whole mark" "1	1" \
		"$(q "SELECT SUM(CASE WHEN kind = 1 AND first_rec = $MIN THEN 1 ELSE 0 END), SUM(CASE WHEN kind = 0 AND first_rec = $MIN THEN 1 ELSE 0 END) FROM sluice_checkpoints")"
done

test_case "sqlite: a checkpoint table without the column mark gets it"
lite om.db "CREATE TABLE done (id INTEGER PRIMARY KEY, v TEXT);
	CREATE TABLE sluice_checkpoints (job varchar(200) NOT NULL, source varchar(500) NOT NULL, first_rec bigint NOT NULL, end_rec bigint NOT NULL, fingerprint varchar(100) NOT NULL, rows_written bigint NOT NULL, committed_at timestamp NULL DEFAULT CURRENT_TIMESTAMP, kind smallint NOT NULL DEFAULT 0, PRIMARY KEY (job, source, kind, first_rec))"
run_sluice o-lite-1 0 load done.csv sqlite:om.db --table done --resume
run_sluice o-lite-2 0 load done.csv sqlite:om.db --table done --resume
assert_eq "loaded once, the column added" "2|1" \
	"$(lite om.db "SELECT (SELECT COUNT(*) FROM done), (SELECT COUNT(*) FROM pragma_table_info('sluice_checkpoints') WHERE name = 'mark')")"

test_case "a file reached through a symbolic link is the same job and file"
mkdir -p real
printf 'id,v\n11,a\n12,b\n13,c\n' >real/day.csv
ln -s real/day.csv linked.csv
ln -s real viadir
for to in pg my; do
	db=sl_$to
	on_server "$to" "$db"
	q "CREATE TABLE day (id int, v text); CREATE TABLE old (id int, v text)"
	for spelling in linked.csv real/day.csv viadir/day.csv "$TMP/linked.csv" ./real/../linked.csv; do
		run_sluice "sl-$to" 0 load "$spelling" "$dst" --table day --resume
	done
	assert_eq "$to: loaded once whichever way it is reached" "3	36" "$(q "SELECT COUNT(*), SUM(id) FROM day" | tr '|' '\t')"
	assert_eq "$to: one job, named by the file's own directory" "day:$TMP/real/" \
		"$(q "SELECT DISTINCT job FROM sluice_checkpoints")"
	# a job the version before this began through the link: named by the
	# link's directory, it goes on
	run_sluice "sl-$to-old1" 0 load linked.csv "$dst" --table old --resume
	q "UPDATE sluice_checkpoints SET job = 'old:$TMP/' WHERE job = 'old:$TMP/real/'"
	run_sluice "sl-$to-old2" 0 load linked.csv "$dst" --table old --resume
	assert_contains "$to: the earlier name is taken up" "going on with job 'old:$TMP/'" "$OUT"
	assert_eq "$to: and nothing loaded twice" "3" "$(q "SELECT COUNT(*) FROM old")"
done

test_case "a key of 0 into an AUTO_INCREMENT column is the key 0 (MariaDB)"
fresh rz_db
fresh rz_src
myd rz_db -e "CREATE TABLE t (id bigint AUTO_INCREMENT PRIMARY KEY, v text)"
printf 'id,v\n9,nine\n0,zero\n-4,minus four\n' >zero.csv
for method in infile insert; do
	myd rz_db -e "DELETE FROM t"
	run_sluice "z-$method" 0 load zero.csv "$MY_BASE/rz_db" --table t --method $method
	assert_eq "$method: every key as given" "-4	minus four
0	zero
9	nine" "$(myd rz_db -e "SELECT id, v FROM t ORDER BY id")"
done
# an identity column copied: the target's AUTO_INCREMENT takes 0 as it is
pgd rz_src -c "CREATE TABLE g (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, v text);
	INSERT INTO g VALUES (0, 'zero'), (3, 'three'), (-1, 'minus one')"
run_sluice z-copy 0 copy "$PG_BASE/rz_src" "$MY_BASE/rz_db" --create --tables g
assert_eq "copy: every key as in the source" "-1	minus one
0	zero
3	three" "$(myd rz_db -e "SELECT id, v FROM g ORDER BY id")"

finish
