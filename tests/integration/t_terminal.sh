#!/usr/bin/env bash
# tests/integration/t_terminal.sh - what a person at a terminal sees. sluice
# runs in a real pseudo-terminal (tmux) at 80 and at 200 columns, and the
# screen is read while it runs: one progress line that never wraps, with a
# bar, elapsed time, rate, ETA and the rejects; every message on a line of
# its own; the line follows a resize and says when the run is stalled. Not
# on a terminal, every line starts with an ISO 8601 time; NO_COLOR and
# TERM=dumb are obeyed.
. "$(dirname "$0")/lib.sh"

if ! command -v tmux >/dev/null; then
	fail "tmux is not installed (scripts/install-deps.sh installs it)"
	finish
	exit
fi
SOCK=sl-term-$$
tm() { tmux -L "$SOCK" -f /dev/null "$@"; }
trap 'tm kill-server 2>/dev/null; rm -rf "$TMP"' EXIT

# a table whose every statement takes 50 ms: a load of 60 batches lasts
# about 3 s, long enough to read the screen while it runs
pg -c "create or replace function term_slow() returns trigger language plpgsql as
	\$\$ begin perform pg_sleep(0.05); return null; end \$\$"
slow_table() {
	pg -c "drop table if exists $1; create table $1 (id int primary key, name text, n int);
		create trigger slow after insert on $1 for each statement execute function term_slow()"
}
# 60,000 rows; every 6,000th has a short record (the reader rejects it)
awk 'BEGIN { print "id,name,n"; for (i = 1; i <= 60000; i++) if (i % 6000 == 0) print i; else print i ",name" i "," i }' \
	>"$TMP/term.csv"

# run_in_tmux NAME COLUMNS COMMAND: start COMMAND in a detached terminal
# COLUMNS wide; it prints EXIT=<code> when done
run_in_tmux() {
	tm new-session -d -s "$1" -x "$2" -y 60 "cd '$TMP' && $3; echo EXIT=\$?; sleep 600"
}
# screen NAME: the screen's lines, wrapped lines joined back (-J), so a line
# longer than the terminal is one that wrapped
screen() { tm capture-pane -p -J -t "$1" | sed 's/ *$//'; }
# watch NAME COLUMNS: read the screen every 0.2 s until the command ends;
# checks each screen and prints the problems found (nothing when all is well)
watch_screen() {
	local name=$1 cols=$2 seen=0 i
	for i in $(seq 1 300); do
		s=$(screen "$name")
		# the progress line: the one line not starting with "sluice:" that counts rows
		bars=$(printf '%s\n' "$s" | grep -v '^sluice:' | grep -v '^EXIT=' | grep -E '[0-9.]+[kM]? rows' || true)
		nbars=$(printf '%s' "$bars" | grep -c . || true)
		if [ "$nbars" -gt 1 ]; then echo "$nbars progress lines on the screen: $bars"; fi
		if [ -n "$bars" ]; then
			seen=$((seen + 1))
			len=$(printf '%s\n' "$bars" | awk '{ print length($0) }' | sort -n | tail -1)
			[ "$len" -ge "$cols" ] && echo "a progress line of $len columns at $cols: $bars"
			[ -n "${3:-}" ] && printf '%s\n' "$bars" >>"$3"
		fi
		# a message glued onto the progress line
		printf '%s\n' "$s" | grep -E '.+sluice: ' | sed 's/^/glued: /'
		printf '%s\n' "$s" | grep -q '^EXIT=' && break
		sleep 0.2
	done
	[ "$seen" -gt 0 ] || echo "no progress line seen"
}

for cols in 80 200; do
	test_case "a terminal $cols columns wide"
	slow_table term_$cols
	: >"$TMP/bars_$cols"
	run_in_tmux w$cols $cols "'$SLUICE' load term.csv '$SLUICE_PG_URL' --table term_$cols --batch-rows 1000"
	problems=$(watch_screen w$cols $cols "$TMP/bars_$cols")
	assert_eq "one progress line, never wrapped, messages on lines of their own" "" "$problems"
	final=$(screen w$cols)
	assert_contains "exit 3 (rows rejected)" "EXIT=3" "$final"
	assert_eq "each reject on a line of its own" "10" "$(printf '%s\n' "$final" | grep -c '^sluice: rejected term.csv:[0-9]*: ')"
	assert_contains "the summary" "sluice: status partial" "$final"
	assert_eq "the progress line is gone at the end" "" \
		"$(printf '%s\n' "$final" | grep -v '^sluice:' | grep -E '[0-9.]+[kM]? rows' || true)"
	assert_eq "no error: label on rejects" "" "$(printf '%s\n' "$final" | grep 'error:' || true)"
	last=$(tail -1 "$TMP/bars_$cols")
	assert_contains "a bar" "[" "$last"
	assert_contains "rows written" " rows" "$last"
	assert_contains "the rejects" " rejected" "$last"
	assert_contains "the rate" "rows/s" "$last"
	assert_contains "an ETA" "ETA " "$last"
	if [[ "$last" =~ [0-9]+:[0-9][0-9]\ ETA ]]; then pass "elapsed time"; else fail "no elapsed time: $last"; fi
	if [ "$cols" = 200 ]; then
		assert_contains "the table's name" "term_200" "$last"
		assert_contains "the pool" "pool " "$last"
		assert_contains "MB" " MB" "$last"
		# the bar widens into the room: more than 40 cells
		inner=$(printf '%s' "$last" | sed -E 's/.*\[([^]]*)\].*/\1/')
		if [ "${#inner}" -gt 40 ]; then pass "a wide bar (${#inner} cells)"; else fail "bar of ${#inner} cells: $last"; fi
	fi
	tm kill-session -t w$cols
done

test_case "the line follows a resize"
# last_bar NAME: the progress line being drawn (the last one on the screen;
# a terminal that reflows keeps what a wider one drew above it)
last_bar() { screen "$1" | grep -v '^sluice:' | grep -E '[0-9.]+[kM]? rows' | tail -1; }
slow_table term_resize
run_in_tmux rs 60 "'$SLUICE' load term.csv '$SLUICE_PG_URL' --table term_resize --batch-rows 1000"
sleep 1
narrow=$(last_bar rs)
tm resize-window -t rs -x 200 -y 60
sleep 0.8
wide=$(last_bar rs)
tm resize-window -t rs -x 70 -y 60
sleep 0.8
again=$(last_bar rs)
if [ -n "$narrow" ] && [ "${#narrow}" -lt 60 ]; then pass "fits 60 columns (${#narrow})"; else fail "at 60: '$narrow'"; fi
if [ "${#wide}" -gt 100 ] && [ "${#wide}" -lt 200 ]; then pass "grows to 200 columns (${#wide})"; else fail "at 200: '$wide'"; fi
if [ -n "$again" ] && [ "${#again}" -lt 70 ]; then pass "shrinks to 70 columns (${#again})"; else fail "at 70: '$again'"; fi
tm kill-session -t rs

test_case "the stall note stays within 80 columns"
slow_table term_stall
pg -c "begin; lock table term_stall in exclusive mode; select pg_sleep(13); commit" >/dev/null 2>&1 &
locker=$!
sleep 0.5
: >"$TMP/bars_st"
run_in_tmux st 80 "'$SLUICE' load term.csv '$SLUICE_PG_URL' --table term_stall --batch-rows 1000"
problems=$(watch_screen st 80 "$TMP/bars_st")
wait $locker
assert_eq "one line, within the width, while stalled" "" "$problems"
stalled=$(grep -m1 'stalled 1[0-9] s' "$TMP/bars_st")
assert_contains "says it is stalled and on what" "waiting on postgresql://" "$stalled"
if [ "${#stalled}" -lt 80 ]; then pass "the stall line fits (${#stalled} columns)"; else fail "${#stalled} columns: $stalled"; fi
assert_contains "then finished" "EXIT=3" "$(screen st)"
tm kill-session -t st

test_case "colors: on a terminal, off with NO_COLOR or TERM=dumb"
# an error's label in color on a terminal; none with NO_COLOR set or a dumb terminal
for how in "" "NO_COLOR=1" "TERM=dumb"; do
	run_in_tmux c 80 "env $how '$SLUICE' load nothere.csv '$SLUICE_PG_URL' --table x"
	for i in $(seq 1 50); do screen c | grep -q '^EXIT=' && break; sleep 0.1; done
	# (tmux writes the color its own way: any escape sequence on the line)
	esc=$(tm capture-pane -p -e -t c | grep 'error' | grep -c $'\033\\[' || true)
	if [ -z "$how" ]; then
		assert_eq "a colored error: label" "1" "$esc"
	else
		assert_eq "$how: no color" "0" "$esc"
	fi
	tm kill-session -t c
done
slow_table term_dumb
run_in_tmux d 80 "TERM=dumb '$SLUICE' load term.csv '$SLUICE_PG_URL' --table term_dumb --batch-rows 1000 --stats-interval 1"
for i in $(seq 1 100); do screen d | grep -q '^EXIT=' && break; sleep 0.2; done
dumb=$(tm capture-pane -p -e -t d)
assert_eq "TERM=dumb: no escape sequences" "0" "$(printf '%s\n' "$dumb" | grep -c $'\033' || true)"
assert_contains "TERM=dumb: log lines with the time instead of a bar" "sluice: term_dumb: " \
	"$(printf '%s\n' "$dumb" | grep -E '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}(Z|[+-][0-9]{2}:[0-9]{2}) ')"
tm kill-session -t d

test_case "log mode: not a terminal, every line starts with an ISO 8601 time"
slow_table term_log
"$SLUICE" load "$TMP/term.csv" "$SLUICE_PG_URL" --table term_log --batch-rows 1000 --stats-interval 1 \
	2>"$TMP/log.err"
assert_status "load" 3 $?
assert_eq "every line" "" \
	"$(grep -vE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2}) sluice: ' "$TMP/log.err")"
assert_contains "progress lines every --stats-interval" "term_log: " "$(cat "$TMP/log.err")"
assert_contains "with the elapsed time" "elapsed 0:0" "$(cat "$TMP/log.err")"
assert_eq "no carriage returns" "0" "$(grep -c $'\r' "$TMP/log.err")"

finish
