# bench/lib.sh - timing helpers shared by the bench scripts.
# measure LABEL CMD...: run CMD, record wall seconds and peak RSS (MB) in
# BENCH_SECS[LABEL] / BENCH_RSS[LABEL]; the best of repeated runs is kept.
declare -A BENCH_SECS BENCH_RSS
measure() {
	local label=$1
	shift
	local tf
	tf=$(mktemp)
	if ! /usr/bin/time -f "%e %M" -o "$tf" "$@" >/dev/null 2>"$tf.err"; then
		echo "bench: $label failed:" >&2
		tail -5 "$tf.err" >&2
		rm -f "$tf" "$tf.err"
		return 1
	fi
	local secs kb
	read -r secs kb <"$tf"
	rm -f "$tf" "$tf.err"
	local mb=$((kb / 1024))
	if [ -z "${BENCH_SECS[$label]:-}" ] || awk -v a="$secs" -v b="${BENCH_SECS[$label]}" 'BEGIN{exit !(a < b)}'; then
		BENCH_SECS[$label]=$secs
		BENCH_RSS[$label]=$mb
	fi
	printf '  %-34s %8.2f s  %6d MB peak\n' "$label" "$secs" "$mb"
}

# ratio LABEL BASE: LABEL's best time over BASE's
ratio() {
	awk -v a="${BENCH_SECS[$1]}" -v b="${BENCH_SECS[$2]}" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }'
}
