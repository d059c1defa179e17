#!/bin/sh
# bench/ccache.sh: a rebuild of btrfs (kforge install btrfs --rebuild, into a tree of its own) with
# ccache cold (build.cache_dir/ccache empty) vs warm (filled once before, kept), measured
# alternating in one run, peak memory beside (bench/measure.py). --rebuild makes kforge
# build past its build cache, and its work folder is removed before each run, so every object
# is compiled: by gcc when cold, from ccache (build.cache_dir/ccache/KVER/btrfs-HASH) when warm. Target: warm <= 0.3 x cold. Prints the ratio with its target,
# "ok" or "MISSED"; exits 1 when it is missed. Needs ccache and linux-source-6.1.
set -eu
. "$(dirname "$0")/common.sh" 2
command -v ccache >/dev/null || { echo "bench: needs ccache (apt-get install ccache)" >&2; exit 3; }
[ -f /usr/src/linux-source-6.1.tar.xz ] || { echo "bench: needs linux-source-6.1 (scripts/deps.sh installs it)" >&2; exit 3; }
w=$(mktemp -d /var/tmp/kforge-ccache-XXXXXX)
chmod 755 "$w"
trap 'rm -rf "$w"' EXIT
printf '[build]\ncache_dir = %s/cache\nccache = yes\n[log]\ndir = %s/log\n[install]\ninitramfs = never\n' "$w" "$w" \
	>"$w/kforge.conf"
export KFORGE_SYSTEM_CONFIG=$w/kforge.conf
M="python3 $top/bench/measure.py"
fail=0
mean() { awk -v c="$2" '{ s += $c; n++ } END { printf "%.4f", s / n }' "$1"; }
most() { awk -v c="$2" '$c > m { m = $c } END { printf "%d", m }' "$1"; }
kf() { "$KFORGE" -q -k "$KVER" --rebuild install btrfs --install-mod-path "$w/imp"; }

# the source unpacked and the warm cache (build.cache_dir/ccache) filled, outside the measured runs;
# a cold run has the warm cache moved aside, and an empty one in its place
cc=$w/cache/ccache
kf >/dev/null
: >"$w/cold"
: >"$w/hot"
for i in $(seq "$ROUNDS"); do
	# kforge keeps a module's folder (and objects) between builds for one target: a fresh one here
	rm -rf "$w/cache/work"
	mv "$cc" "$w/warm"
	$M "$KFORGE" -q -k "$KVER" --rebuild install btrfs --install-mod-path "$w/imp" >>"$w/cold"
	rm -rf "$cc"
	mv "$w/warm" "$cc"
	rm -rf "$w/cache/work"
	$M "$KFORGE" -q -k "$KVER" --rebuild install btrfs --install-mod-path "$w/imp" >>"$w/hot"
done
[ -n "$(find "$w/imp" -name 'btrfs.ko*')" ] || { echo "bench: no btrfs.ko was installed" >&2; exit 1; }
stats=$(for d in "$cc"/*/*/; do CCACHE_DIR=$d ccache --print-stats; done | awk -F'\t' '$1 ~ /_cache_hit$/ { h += $2 } $1 == "cache_miss" { m = $2 } END { print h, m }')
cold=$(mean "$w/cold" 1)
hot=$(mean "$w/hot" 1)
r=$(echo "$hot / $cold" | bc -l)
printf 'btrfs rebuilt for %s, %s rounds alternating:\n' "$KVER" "$ROUNDS"
printf '  ccache cold: %7.3f s, peak %6d KiB\n' "$cold" "$(most "$w/cold" 4)"
printf '  ccache warm: %7.3f s, peak %6d KiB (the warm cache: %s hits, %s misses)\n' "$hot" "$(most "$w/hot" 4)" \
	"${stats% *}" "${stats#* }"
if [ "$(echo "$r <= 0.3" | bc -l)" = 1 ]; then
	printf '  ratio warm/cold = %5.3f (target <= 0.3) ok\n' "$r"
else
	printf '  ratio warm/cold = %5.3f (target <= 0.3) MISSED\n' "$r"
	fail=1
fi
exit $fail
