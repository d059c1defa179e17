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
