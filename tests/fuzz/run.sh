#!/bin/sh
# run.sh: `make fuzz`: runs each libFuzzer harness for FUZZ_SECONDS (default 600) on a copy of its
# seed corpus, FUZZ_JOBS (default 1) at a time. The source tree is never written: the copy grows
# in WORK/NAME/corpus, and a crash's, leak's or hang's input is kept in WORK/NAME/artifacts.
# The harnesses' scratch files go to FUZZ_TMPDIR (default /dev/shm, else $TMPDIR or /tmp).
# Prints one TAP line per harness with libFuzzer's "Done N runs in S second(s)" (the exec count),
# the plan last; fails when any harness failed.
# usage: run.sh CORPUS-DIR WORK-DIR HARNESS...
set -u
corpus=$1
work=$2
shift 2
seconds=${FUZZ_SECONDS:-600}
jobs=${FUZZ_JOBS:-1}
n=$#
tmpdir=${FUZZ_TMPDIR:-/dev/shm}
[ -d "$tmpdir" ] && [ -w "$tmpdir" ] || tmpdir=${TMPDIR:-/tmp}

# kforge reads small text files: a few KiB covers a record, a Makefile, a kforge.conf; a .config
# excerpt or a Makefile with its Kbuild gets more
max_len() {
	case $1 in
	fuzz-kconfig | fuzz-kbuild) echo 16384 ;;
	*) echo 4096 ;;
	esac
}

# run_one HARNESS: prints its TAP line; returns non-zero when libFuzzer found something
run_one() {
	name=$(basename "$1")
	w=$work/$name
	mkdir -p "$w/corpus" "$w/artifacts" || return 1
	cp "$corpus/$name"/* "$w/corpus/" || return 1
	# the harness's scratch folder goes under $TMPDIR: in memory where there is /dev/shm (writing
	# the input as files is most of a run), and removed after it even when the harness crashed
	scratch=$(mktemp -d "$tmpdir/kforge-$name-XXXXXX") || return 1
	# libFuzzer finds leaks itself (LSan), and a UBSan report is a crash like ASan's
	TMPDIR=$scratch \
		ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:detect_stack_use_after_return=1} \
		UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
		"$1" -max_total_time="$seconds" -max_len="$(max_len "$name")" -timeout=30 \
		-artifact_prefix="$w/artifacts/" -print_final_stats=1 "$w/corpus" >"$w/log" 2>&1
	rc=$?
	rm -rf "$scratch"
	done=$(grep -E '^Done [0-9]+ runs in [0-9]+ second' "$w/log" | tail -n 1)
	if [ "$rc" -eq 0 ] && [ -n "$done" ]; then
		echo "ok - $name: $done ($(ls "$w/corpus" | wc -l) inputs in $w/corpus)"
		return 0
	fi
	{
		echo "not ok - $name: exit $rc${done:+, $done}; log: $w/log"
		grep -E 'ERROR|SUMMARY|assertion failed|Test unit written|artifact_prefix' "$w/log" | sed 's/^/# /'
	} | tr -d '\r'
	return 1
}

failed=0
while [ $# -gt 0 ]; do
	pids=
	i=0
	while [ $i -lt "$jobs" ] && [ $# -gt 0 ]; do
		run_one "$1" &
		pids="$pids $!"
		shift
		i=$((i + 1))
	done
	for p in $pids; do
		wait "$p" || failed=$((failed + 1))
	done
done
echo "1..$n"
[ "$failed" -eq 0 ]
