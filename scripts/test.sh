#!/bin/sh
# test.sh: installs every dependency (apt-get), builds kforge, and runs every test: the cmocka
# units and fixture-root suite (make check), the SDK test (install into a scratch prefix, the
# example vendor plugin built out of tree), the end-to-end suite (real Debian kernels, modules
# loaded under qemu), and make distcheck. Ends with "N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
"$top/scripts/deps.sh" >/dev/null || { echo "0 passed, 1 failed"; exit 1; }
"$top/scripts/build.sh" || { echo "0 passed, 1 failed"; exit 1; }
passed=0
failed=0

echo "== make check"
(cd _build && make -j"$(nproc)" check >check.log 2>&1)
grep -E '^(PASS|FAIL|ERROR|XPASS|SKIP):' _build/check.log | grep -v '^PASS' || true
p=$(awk '/^# PASS:/ {print $3}' _build/test-suite.log)
f=$(awk '/^# (FAIL|ERROR|XPASS):/ {s += $3} END {print s + 0}' _build/test-suite.log)
[ -n "$p" ] || { p=0; f=$((f + 1)); tail -30 _build/check.log; }
echo "make check: $p passed, $f failed (details: _build/test-suite.log)"
passed=$((passed + p))
failed=$((failed + f))

# a TAP suite: its lines shown, its counts added; a suite that stops early counts as a failure
tap_suite() { # title script log
	echo "== $1"
	"$2" >"$3" 2>&1
	grep -E '^(not )?ok|^#|^Bail' "$3"
	p=$(grep -c '^ok' "$3")
	f=$(grep -c '^not ok' "$3")
	grep -q '^1\.\.' "$3" || f=$((f + 1))
	passed=$((passed + p))
	failed=$((failed + f))
}
tap_suite "SDK: install, example vendor plugin" tests/sdk-example.sh _build/sdk-example.log
tap_suite "end to end: real Debian kernels under qemu" tests/e2e/run.sh _build/e2e.log

echo "== make distcheck"
if (cd _build && make -j"$(nproc)" distcheck >distcheck.log 2>&1); then
	echo "ok - make distcheck"
	passed=$((passed + 1))
else
	tail -40 _build/distcheck.log
	echo "not ok - make distcheck (details: _build/distcheck.log)"
	failed=$((failed + 1))
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
