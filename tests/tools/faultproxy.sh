# tests/tools/faultproxy.sh - start and stop tests/tools/faultproxy.c from a
# shell script (t_faults.sh, scripts/soak.sh). Needs PROXY, the built proxy;
# sets PROXY_PID, which the caller signals (USR1 drop, USR2 stall, HUP go on).

PROXY_PID=""

# proxy_start PORT TARGET_PORT: forward 127.0.0.1:PORT to TARGET_PORT, and
# wait until it accepts (false when it does not within 2.5 s)
proxy_start() {
	"$PROXY" "$1" "$2" &
	PROXY_PID=$!
	for _ in $(seq 1 50); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# proxy_stop: end the proxy, stopped (SIGSTOP) or not, and its connections
proxy_stop() {
	[ -n "$PROXY_PID" ] || return 0
	kill -CONT "$PROXY_PID" 2>/dev/null
	kill "$PROXY_PID" 2>/dev/null
	wait "$PROXY_PID" 2>/dev/null
	PROXY_PID=""
}
