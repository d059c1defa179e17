# tap.sh: a few TAP helpers for the shell tests (sourced).
tap_n=0
tap_failed=0
ok() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $*"; }
not_ok() { tap_n=$((tap_n + 1)); tap_failed=$((tap_failed + 1)); echo "not ok $tap_n - $*"; }
skip() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $1 # SKIP $2"; }
# check NAME CMD...: ok when CMD succeeds; its output is shown as a diagnostic when not
check() {
	name=$1
	shift
	if out=$("$@" 2>&1); then ok "$name"; else not_ok "$name"; printf '%s\n' "$out" | sed 's/^/# /'; fi
}
tap_done() { echo "1..$tap_n"; [ "$tap_failed" -eq 0 ]; }

# wait_until SECONDS CMD...: runs CMD every tenth of a second until it succeeds; fails when it
# has not after SECONDS. For handshakes with a process a test started: the bound only turns a
# hang into a failure, so make it generous; what the test asserts comes after, never from it.
wait_until() {
	wait_end=$(($(date +%s) + $1))
	shift
	until "$@"; do
		[ "$(date +%s)" -lt "$wait_end" ] || return 1
		sleep 0.1
	done
}
# running PID: the process is there and has not exited (a zombie not yet waited for has)
running() {
	run_state=$(sed -n 's/^.*) \(.\).*$/\1/p' "/proc/$1/stat" 2>/dev/null)
	[ -n "$run_state" ] && [ "$run_state" != Z ]
}
# flock_waiter FILE: some process is blocked in flock(2) on FILE, waiting for its lock
flock_waiter() {
	set -- $(stat -c '%Hd %Ld %i' "$1" 2>/dev/null)
	[ $# -eq 3 ] && grep -qE "^[0-9]+: -> FLOCK +[A-Z]+ +[A-Z]+ +[0-9]+ $(printf '%02x:%02x:%s' "$1" "$2" "$3") " /proc/locks
}
