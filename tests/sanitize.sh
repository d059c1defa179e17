#!/bin/sh
# sanitize.sh: runs one test of `make check` in a --enable-sanitizers build (automake's
# LOG_COMPILER). ASan, LSan and UBSan write their reports into a folder of this test's own rather
# than onto stderr, where a shell suite that captures a command's output (or expects it to fail)
# would hide them; any report fails the test, shown in its log.
set -u
dir=${top_builddir:-.}/tests/sanitizer-reports/$(basename "$1")
rm -rf "$dir"
mkdir -p "$dir" || exit 99
# world-writable like /tmp: a suite may run kforge as another user, and a sanitizer that cannot
# open its report file kills the process instead
chmod 1777 "$dir"
# a suite may change folder: the reports' path must be absolute
dir=$(cd "$dir" && pwd)
ASAN_OPTIONS="log_path=$dir/asan:detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
UBSAN_OPTIONS="log_path=$dir/ubsan:print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export ASAN_OPTIONS UBSAN_OPTIONS
"$@"
rc=$?
for f in "$dir"/*; do
	[ -f "$f" ] || continue
	echo "# sanitizer report $f:"
	sed 's/^/# /' "$f"
	bad=1
done
if [ -n "${bad:-}" ]; then
	echo "Bail out! the sanitizers reported errors (above; kept in $dir)"
	exit 1
fi
rmdir "$dir" 2>/dev/null
exit $rc
