#!/bin/sh
# test.sh: installs every dependency (apt-get), builds kforge, and runs every test: the cmocka units
# and fixture-root suite (make check), the SDK test (install into a scratch prefix, the example
# vendor plugin built out of tree), the end-to-end suites (real Debian kernels and Debian's *-dkms
# packages, and small kernels released as Arch and kernel.org build them: modules loaded under
# qemu; kforge's own .deb and .rpm packages built, installed and removed), and make distcheck; also make check again under ASan and UBSan (_build-asan) and each
# libFuzzer harness for FUZZ_SECONDS=20 (_build-fuzz). Ends with "N passed, N failed, N skipped" (a
# skipped test is no pass).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
# each part says how long it took ("-- N s"): the budget is CI's, on a fresh machine
t_all=$(date +%s)
t_part=$t_all
took() { t_now=$(date +%s); echo "-- $((t_now - t_part)) s"; t_part=$t_now; }
"$top/scripts/deps.sh" >/dev/null || { echo "0 passed, 1 failed"; exit 1; }
"$top/scripts/build.sh" || { echo "0 passed, 1 failed"; exit 1; }
echo "== dependencies and the build"
took
passed=0
failed=0
skipped=0

echo "== make check"
(cd _build && make -j"$(nproc)" check >check.log 2>&1)
grep -E '^(PASS|FAIL|ERROR|XPASS|SKIP):' _build/check.log | grep -v '^PASS' || true
p=$(awk '/^# PASS:/ {print $3}' _build/test-suite.log)
f=$(awk '/^# (FAIL|ERROR|XPASS):/ {s += $3} END {print s + 0}' _build/test-suite.log)
s=$(awk '/^# SKIP:/ {s += $3} END {print s + 0}' _build/test-suite.log)
[ -n "$p" ] || { p=0; f=$((f + 1)); tail -30 _build/check.log; }
echo "make check: $p passed, $f failed, $s skipped (details: _build/test-suite.log)"
took
passed=$((passed + p))
failed=$((failed + f))
skipped=$((skipped + s))

# make check once more with AddressSanitizer and UndefinedBehaviorSanitizer (gcc): a memory error,
# a leak or undefined behaviour in kforge, a plugin or a unit test fails the test that ran it
echo "== make check with ASan and UBSan (_build-asan)"
mkdir -p _build-asan
rm -f _build-asan/test-suite.log
(cd _build-asan && { [ -f Makefile ] || ../configure -q --enable-sanitizers >configure.log 2>&1; } &&
	make -j"$(nproc)" >make.log 2>&1 && make -j"$(nproc)" check >check.log 2>&1)
grep -E '^(PASS|FAIL|ERROR|XPASS|SKIP):' _build-asan/check.log 2>/dev/null | grep -v '^PASS' || true
p=
s=0
[ -f _build-asan/test-suite.log ] && p=$(awk '/^# PASS:/ {print $3}' _build-asan/test-suite.log) &&
	f=$(awk '/^# (FAIL|ERROR|XPASS):/ {s += $3} END {print s + 0}' _build-asan/test-suite.log) &&
	s=$(awk '/^# SKIP:/ {s += $3} END {print s + 0}' _build-asan/test-suite.log)
[ -n "$p" ] || { p=0; f=1; tail -30 _build-asan/configure.log _build-asan/make.log _build-asan/check.log 2>/dev/null; }
echo "make check (ASan, UBSan): $p passed, $f failed, $s skipped (details: _build-asan/test-suite.log)"
took
passed=$((passed + p))
failed=$((failed + f))
skipped=$((skipped + s))

# a TAP suite: its lines shown, its counts added; a suite that stops early counts as a failure.
# "ok ... # SKIP" (the directive, any case) is a skip, not a pass; so is a suite planned "1..0 # SKIP"
tap_suite() { # title script log
	echo "== $1"
	"$2" >"$3" 2>&1
	grep -E '^(not )?ok|^#|^Bail' "$3"
	p=$(grep -E '^ok' "$3" | grep -cviE '^ok[^#]*#[[:space:]]*skip')
	s=$(grep -ciE '^ok[^#]*#[[:space:]]*skip|^1\.\.0[[:space:]]*#[[:space:]]*skip' "$3")
	f=$(grep -c '^not ok' "$3")
	grep -q '^1\.\.' "$3" || f=$((f + 1))
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
	took
}
tap_suite "SDK: install, example vendor plugin" tests/sdk-example.sh _build/sdk-example.log
tap_suite "end to end: real Debian kernels under qemu" tests/e2e/run.sh _build/e2e.log
# issue 10's proofs on the same kernel: a folder built for it, failed for its rt and cloud
# flavours, built again, loaded; Debian's own *-dkms packages (apt-get download, cached under
# /var/cache/kforge-e2e/dkms) built from their dkms.conf, named as DKMS names them, all loaded in
# one boot; v4l2loopback skipped (exit 77) for the cloud flavour, which has no CONFIG_VIDEO_DEV
tap_suite "end to end: A/B/A and Debian's *-dkms packages under qemu" tests/e2e/dkms.sh _build/e2e-dkms.log
# the small kernels of the Arch and vanilla proofs (built once per machine, cached under
# /var/cache/kforge-e2e/kernels): the fixtures proved alone, then kforge fetching their sources
# from the stand-ins and the modules it installed loaded under qemu
tap_suite "end to end: the Arch and vanilla kernels (fixtures)" tests/e2e/kernels-selftest.sh _build/e2e-kernels.log
tap_suite "end to end: Arch and vanilla sources fetched, built, loaded under qemu" tests/e2e/sources.sh _build/e2e-sources.log
# the Fedora proof: the stand-in kernel SRPM from the stand-in Koji, a fixture Fedora 39 root
# around the kernel built from it, dummy.ko.xz loaded under qemu
tap_suite "end to end: Fedora SRPM fetched, built, loaded under qemu" tests/e2e/fedora.sh _build/e2e-fedora.log
# the packages: .deb built (dpkg-buildpackage), lintian, installed, used through its hooks, removed,
# installed again, purged; the RPM built from the same tarball, its files the .debs' files
tap_suite "end to end: the Debian and Fedora packages built, installed, removed" tests/e2e/packages.sh _build/e2e-packages.log

# every libFuzzer harness for a short while (clang, in _build-fuzz), one result each; `make fuzz`
# there runs them for 10 minutes
fuzz_suite() (
	cd _build-fuzz && { [ -f Makefile ] || ../configure -q CC=clang --enable-fuzz >configure.log 2>&1; } &&
		make -j"$(nproc)" fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-20}" FUZZ_JOBS="$(nproc)"
)
mkdir -p _build-fuzz
tap_suite "fuzzers, ${FUZZ_SECONDS:-20} s each (_build-fuzz)" fuzz_suite _build-fuzz/fuzz.log

echo "== make distcheck"
if (cd _build && make -j"$(nproc)" distcheck >distcheck.log 2>&1); then
	echo "ok - make distcheck"
	passed=$((passed + 1))
else
	tail -40 _build/distcheck.log
	echo "not ok - make distcheck (details: _build/distcheck.log)"
	failed=$((failed + 1))
fi
took
echo "-- all: $((t_part - t_all)) s"

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
