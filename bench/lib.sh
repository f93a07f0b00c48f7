# bench/lib.sh - timing helpers shared by the bench scripts.
# measure LABEL CMD...: run CMD, record wall seconds, peak RSS (MB) and the
# client's CPU seconds (user + system) in BENCH_SECS[LABEL] / BENCH_RSS[LABEL]
# / BENCH_CPU[LABEL]; the best of repeated runs is kept (CPU: the least).
declare -A BENCH_SECS BENCH_RSS BENCH_CPU
mkdir -p bench/data
[ bench/data/measure -nt bench/measure.c ] || cc -O2 -std=gnu11 -Wall -o bench/data/measure bench/measure.c || exit 1
measure() {
	local label=$1
	shift
	local tf
	tf=$(mktemp)
	if ! bench/data/measure "$tf" "$@" >/dev/null 2>"$tf.err"; then
		echo "bench: $label failed:" >&2
		tail -5 "$tf.err" >&2
		rm -f "$tf" "$tf.err"
		return 1
	fi
	local secs kb usr sys cpu
	read -r secs kb usr sys <"$tf"
	cpu=$(awk -v u="$usr" -v s="$sys" 'BEGIN { printf "%.3f", u + s }')
	rm -f "$tf" "$tf.err"
	local mb=$((kb / 1024))
	if [ -z "${BENCH_SECS[$label]:-}" ] || awk -v a="$secs" -v b="${BENCH_SECS[$label]}" 'BEGIN{exit !(a < b)}'; then
		BENCH_SECS[$label]=$secs
		BENCH_RSS[$label]=$mb
	fi
	if [ -z "${BENCH_CPU[$label]:-}" ] || awk -v a="$cpu" -v b="${BENCH_CPU[$label]}" 'BEGIN{exit !(a < b)}'; then
		BENCH_CPU[$label]=$cpu
	fi
	printf '  %-34s %8.2f s  %6d MB peak  %6.3f s CPU\n' "$label" "$secs" "$mb" "$cpu"
}

# cpu_ratio LABEL BASE: LABEL's least client CPU (user + system) over BASE's
cpu_ratio() {
	awk -v a="${BENCH_CPU[$1]}" -v b="${BENCH_CPU[$2]}" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }'
}

# ratio LABEL BASE: LABEL's best time over BASE's
ratio() {
	awk -v a="${BENCH_SECS[$1]}" -v b="${BENCH_SECS[$2]}" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }'
}

# bench_csv [FILE]: the rows of bench/gen.c in FILE (default
# bench/data/bench-1000000.csv, 1,000,000 rows), generated when missing;
# sets CSV (its absolute path) and ROWS
bench_csv() {
	CSV=${1:-bench/data/bench-1000000.csv}
	if [ ! -s "$CSV" ]; then
		mkdir -p bench/data
		[ -x bench/data/gen ] || cc -O2 -std=gnu11 -o bench/data/gen bench/gen.c || exit 1
		bench/data/gen 1000000 >"$CSV"
	fi
	CSV=$(cd "$(dirname "$CSV")" && pwd)/$(basename "$CSV")
	ROWS=$(($(wc -l <"$CSV") - 1))
}

# bench_my_client URL: MY_USER, MY_DB and my_client, the mariadb client
# connecting the way sluice does to the mysql:// URL (TCP to its host, or
# SLUICE_MY_SOCKET without one), no database chosen
bench_my_client() {
	local rest=${1#*://} auth hostport conn
	auth=${rest%%@*}
	[ "$auth" = "$rest" ] && auth=root
	MY_USER=${auth%%:*}
	hostport=${rest#*@}
	hostport=${hostport%%/*}
	MY_DB=${rest#*/}
	MY_DB=${MY_DB%%\?*}
	if [ -n "${hostport%%:*}" ]; then
		conn=(-h"${hostport%%:*}")
		[ "${hostport#*:}" != "$hostport" ] && conn+=(-P"${hostport#*:}")
	else
		conn=(--socket="${SLUICE_MY_SOCKET:?}")
	fi
	my_client=(mariadb --no-defaults "${conn[@]}" -u"$MY_USER" -N -B)
}
