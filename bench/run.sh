#!/bin/sh
# bench/run.sh: how much kforge costs over what it wraps, and what it saves over the reference
# procedure, measured in one run with the cases alternating (the machine is shared and noisy):
#   (a) kforge install dummy, warm cache          (b) the bare make -C BUILD M=DIR dummy.ko + depmod
#   (c) the reference procedure by hand: unpack, copy .config and Module.symvers, olddefconfig,
#       modules_prepare with the release reproduced, make M=drivers/net dummy.ko
#   (a cold) kforge install dummy with an empty cache (it unpacks the source itself)
# Prints the ratios and checks them against the targets: a/b <= 1.15, c/a_cold >= 2, c/a_warm >= 5.
set -eu
. "$(dirname "$0")/common.sh" 5
[ -f /usr/src/linux-source-6.1.tar.xz ] ||
	{ echo "bench: needs linux-source-6.1 (scripts/deps.sh installs it)" >&2; exit 3; }
w=$(mktemp -d /var/tmp/kforge-bench-XXXXXX)
trap 'rm -rf "$w"' EXIT
printf '[build]\ncache_dir = %s/cache\n[log]\ndir = %s/log\n' "$w" "$w" >"$w/kforge.conf"
export KFORGE_SYSTEM_CONFIG=$w/kforge.conf
jobs=$(nproc)

now() { date +%s.%N; }
elapsed() { echo "$2 - $1" | bc -l; }

run_a() {
	rm -rf "$w/imp-a"
	# --rebuild: what is measured is the build kforge wraps, not the build cache's reuse (bench/scale.sh)
	"$KFORGE" -q -k "$KVER" -j "$jobs" --rebuild install dummy --install-mod-path "$w/imp-a" >/dev/null
}
# (b): what kforge runs, by hand, on a folder set up once
setup_b() {
	mkdir -p "$w/b"
	tar -xf /usr/src/linux-source-6.1.tar.xz -C "$w/b" --strip-components=1 linux-source-6.1/drivers/net
}
run_b() {
	# from scratch, as kforge builds: every output of the last build removed
	rm -rf "$w/imp-b"
	find "$w/b/drivers/net" -maxdepth 1 \( -name 'dummy.*' ! -name dummy.c -o -name '.dummy*' -o -name 'modules.order' \
		-o -name 'Module.symvers' -o -name '.modules.order.cmd' -o -name '.Module.symvers.cmd' \) -delete
	make -s -C "$BUILD" M="$w/b/drivers/net" -j "$jobs" dummy.ko >/dev/null 2>&1
	mkdir -p "$w/imp-b/lib/modules/$KVER/updates"
	cp "$w/b/drivers/net/dummy.ko" "$w/imp-b/lib/modules/$KVER/updates/"
	depmod -b "$w/imp-b" "$KVER" 2>/dev/null
}
run_c() {
	rm -rf "$w/c"
	mkdir -p "$w/c"
	tar -xf /usr/src/linux-source-6.1.tar.xz -C "$w/c" --strip-components=1
	cp "$BUILD/.config" "$w/c/.config"
	make -s -C "$w/c" KERNELRELEASE="$KVER" olddefconfig >/dev/null
	make -s -C "$w/c" KERNELRELEASE="$KVER" -j "$jobs" modules_prepare >/dev/null
	cp "$BUILD/Module.symvers" "$w/c/"
	make -s -C "$w/c" KERNELRELEASE="$KVER" M=drivers/net -j "$jobs" dummy.ko >/dev/null 2>&1
	test -f "$w/c/drivers/net/dummy.ko"
}

# each timed case starts with no earlier case's writes still being flushed to disk
sync
t0=$(now); run_a; t1=$(now)
a_cold=$(elapsed "$t0" "$t1")
setup_b
a_sum=0 b_sum=0
for i in $(seq "$ROUNDS"); do
	t0=$(now); run_a; t1=$(now); run_b; t2=$(now)
	a_sum=$(echo "$a_sum + $(elapsed "$t0" "$t1")" | bc -l)
	b_sum=$(echo "$b_sum + $(elapsed "$t1" "$t2")" | bc -l)
done
sync
t0=$(now); run_c; t1=$(now)
c=$(elapsed "$t0" "$t1")
a=$(echo "$a_sum / $ROUNDS" | bc -l)
b=$(echo "$b_sum / $ROUNDS" | bc -l)
r_ab=$(echo "$a / $b" | bc -l)
r_cc=$(echo "$c / $a_cold" | bc -l)
r_cw=$(echo "$c / $a" | bc -l)
printf 'kernel %s, %s rounds of (a) and (b) alternating\n' "$KVER" "$ROUNDS"
printf '(a) kforge install dummy, warm cache:  %6.2f s\n' "$a"
printf '(b) make -C BUILD M=DIR + depmod:      %6.2f s\n' "$b"
printf '(c) the reference procedure by hand:   %6.2f s\n' "$c"
printf '(a) cold, empty cache:                 %6.2f s\n' "$a_cold"
fail=0
verdict() { if [ "$(echo "$2" | bc -l)" = 1 ]; then echo "$1 ok"; else echo "$1 MISSED"; fail=1; fi; }
verdict "$(printf 'ratio a/b      = %5.2f (target <= 1.15)' "$r_ab")" "$r_ab <= 1.15"
verdict "$(printf 'ratio c/a_cold = %5.2f (target >= 2)' "$r_cc")" "$r_cc >= 2"
verdict "$(printf 'ratio c/a_warm = %5.2f (target >= 5)' "$r_cw")" "$r_cw >= 5"
exit $fail
