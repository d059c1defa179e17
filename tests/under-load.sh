#!/bin/sh
# under-load.sh: runs the tests N times in a row while every core is kept busy with something
# else, to show that no result depends on timing. Reports each run's counts; fails if any run
# had a failure.
#
#   tests/under-load.sh [N] [BUILDDIR]      make check in BUILDDIR (default: _build), N times (default 3)
#   tests/under-load.sh N CMD [ARGS...]     CMD instead, e.g. tests/under-load.sh 3 sh scripts/test.sh
#
# The load: one busy loop per core (nproc; LOAD_JOBS=N to change), at the default niceness, so
# the tests get no more than their share; killed when the script ends, however it ends. Each
# run's output is kept in a folder named at the start. A command's counts are read from its last
# "N passed, N failed[, N skipped]" line (what scripts/test.sh prints), else only its exit.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
runs=3
case ${1:-} in [0-9]*) runs=$1; shift ;; esac
[ "$runs" -ge 1 ] 2>/dev/null || { echo "under-load.sh: N must be a whole number (got $runs)" >&2; exit 2; }
builddir=
if [ $# -eq 0 ]; then
	builddir=$top/_build
elif [ $# -eq 1 ] && [ -d "$1" ]; then
	builddir=$(cd "$1" && pwd)
fi
if [ -n "$builddir" ]; then
	[ -f "$builddir/Makefile" ] || { echo "under-load.sh: $builddir has no Makefile: build first (scripts/build.sh)" >&2; exit 2; }
	set -- make -C "$builddir" -j"$(nproc)" check
fi
logs=$(mktemp -d /tmp/kforge-under-load-XXXXXX)

burners=
stop_load() {
	for b in $burners; do kill "$b" 2>/dev/null; done
	for b in $burners; do wait "$b" 2>/dev/null; done
	burners=
}
trap 'stop_load' EXIT
trap 'stop_load; exit 130' INT
trap 'stop_load; exit 143' TERM
trap 'stop_load; exit 129' HUP
n=${LOAD_JOBS:-$(nproc)}
i=0
while [ "$i" -lt "$n" ]; do
	# a busy loop that also ends by itself should this script be killed (SIGKILL skips traps)
	sh -c 'while kill -0 "$1" 2>/dev/null; do :; done' _ $$ &
	burners="$burners $!"
	i=$((i + 1))
done
echo "load: $n busy loops (pids$burners); $runs runs of: $*; logs in $logs"

bad=0
run=1
while [ "$run" -le "$runs" ]; do
	start=$(date +%s)
	"$@" >"$logs/run-$run.log" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	busy=0
	for b in $burners; do kill -0 "$b" 2>/dev/null && busy=$((busy + 1)); done
	if [ -n "$builddir" ]; then
		# automake's summary of this run (make check removes the last one before it starts)
		cp "$builddir/test-suite.log" "$logs/test-suite-$run.log" 2>/dev/null || : >"$logs/test-suite-$run.log"
		counts=$(awk '/^# PASS:/ {p = $3} /^# SKIP:/ {s = $3} /^# (FAIL|ERROR|XPASS):/ {f += $3}
			END {if (p != "") printf "%d passed, %d failed, %d skipped", p, f, s}' "$logs/test-suite-$run.log")
		failed=$(printf '%s' "$counts" | sed -n 's/^[0-9]* passed, \([0-9]*\) failed.*/\1/p')
		failures=$(grep -E '^(FAIL|ERROR|XPASS): ' "$logs/test-suite-$run.log")
	else
		counts=$(grep -E '^[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$' "$logs/run-$run.log" | tail -n 1)
		failed=$(printf '%s' "$counts" | sed -n 's/^[0-9]* passed, \([0-9]*\) failed.*/\1/p')
		failures=$(grep -E '^not ok|^(FAIL|ERROR|XPASS): ' "$logs/run-$run.log")
	fi
	verdict=ok
	[ "$rc" -eq 0 ] && [ "${failed:-0}" -eq 0 ] || { verdict=FAILED; bad=$((bad + 1)); }
	echo "run $run/$runs: ${counts:-no counts} (exit $rc, ${secs} s, $busy of $n busy loops running) $verdict"
	[ "$verdict" = ok ] || printf '%s\n' "${failures:-(see $logs/run-$run.log)}" | sed 's/^/  /'
	run=$((run + 1))
done
echo "under load: $bad of $runs runs failed (logs in $logs)"
[ "$bad" -eq 0 ]
