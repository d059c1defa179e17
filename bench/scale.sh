#!/bin/sh
# bench/scale.sh: issue 11's cases, each measured alternating with what it is compared with, in
# one run (the machine is shared and noisy: ratios, never a verdict from one absolute time), with
# the peak memory of each beside it (bench/measure.py):
#   noop: a re-install that changed nothing (kforge install DIR, built and installed before: the
#         build cache's hit, nothing committed) vs kbuild's own no-op on the same, already built,
#         module (make -C BUILD M=DIR modules). Target: <= 0.25.
# Prints each ratio with its target, "ok" or "MISSED"; exits 1 when one is missed.
set -eu
. "$(dirname "$0")/common.sh" 10
w=$(mktemp -d /var/tmp/kforge-scale-XXXXXX)
chmod 755 "$w"
trap 'rm -rf "$w"' EXIT
printf '[build]\ncache_dir = %s/cache\n[log]\ndir = %s/log\n' "$w" "$w" >"$w/kforge.conf"
export KFORGE_SYSTEM_CONFIG=$w/kforge.conf
M="python3 $top/bench/measure.py"
fail=0

# mean of column C over the lines of FILE; the largest of column C
mean() { awk -v c="$2" '{ s += $c; n++ } END { printf "%.4f", s / n }' "$1"; }
most() { awk -v c="$2" '$c > m { m = $c } END { printf "%d", m }' "$1"; }
verdict() { # text, bc condition
	if [ "$(echo "$2" | bc -l)" = 1 ]; then echo "$1 ok"; else echo "$1 MISSED"; fail=1; fi
}

# --- noop ---------------------------------------------------------------------------------------
cp -r "$top/tests/src/hello" "$w/hello"
cp -r "$top/tests/src/hello" "$w/kb"
chmod -R go+rX "$w/hello"
"$KFORGE" -q -k "$KVER" install "$w/hello" --install-mod-path "$w/imp" >/dev/null
make -s -C "$BUILD" M="$w/kb" modules >/dev/null 2>&1
: >"$w/noop-kf"
: >"$w/noop-kb"
sync
for i in $(seq "$ROUNDS"); do
	$M "$KFORGE" -q -k "$KVER" install "$w/hello" --install-mod-path "$w/imp" >>"$w/noop-kf"
	$M make -s -C "$BUILD" M="$w/kb" modules >>"$w/noop-kb"
done
kf=$(mean "$w/noop-kf" 1)
kb=$(mean "$w/noop-kb" 1)
r=$(echo "$kf / $kb" | bc -l)
printf 'noop, kernel %s, %s rounds alternating:\n' "$KVER" "$ROUNDS"
printf '  kforge install DIR (nothing changed): %6.3f s, peak %6d KiB\n' "$kf" "$(most "$w/noop-kf" 4)"
printf '  make -C BUILD M=DIR (kbuild no-op):   %6.3f s, peak %6d KiB\n' "$kb" "$(most "$w/noop-kb" 4)"
verdict "$(printf '  ratio noop = %5.3f (target <= 0.25)' "$r")" "$r <= 0.25"
exit $fail
