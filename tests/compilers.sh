#!/bin/sh
# compilers.sh: compilers that scale out (TAP), for real against the host's Debian headers in a copy
# of the Debian fixture root. ccache is used when installed (build.ccache = auto): the make command
# gives CC=ccache COMPILER, its cache is build.cache_dir/ccache/KVER/NAME-HASH (the module's own, written
# by the build user during its build only), and a build of the same sources again in a fresh
# folder is served from it, which `kforge cache list`
# shows as its hit rate. build.ccache = yes without ccache fails naming the fix. distcc: with
# build.distcc = 127.0.0.1:PORT/2, two modules installed at once are compiled by a distccd this
# test starts on 127.0.0.1 (its log lists each compile), and load-check in the gate.
set -u
NAME=compilers
. "${top_srcdir:-$(dirname "$0")/..}/tests/suite.sh"
A=6.1.0-56-amd64
dkms_root "$A" 6.1.0-58-amd64
cache=$root/var/cache/kforge
conf=$tmp/kforge.conf
KFORGE_SYSTEM_CONFIG=$conf
export KFORGE_SYSTEM_CONFIG
kf() { "$KFORGE" --root "$root" -k "$A" "$@"; }
last_log() { ls -t "$root"/var/log/kforge/*.log | head -n1; }

for m in cc1 cc2; do
	mkdir -p "$tmp/$m"
	echo "obj-m += $m.o" >"$tmp/$m/Kbuild"
	printf '// SPDX-License-Identifier: GPL-2.0\n#include <linux/module.h>\nstatic int __init %s_init(void) { return 0; }\nmodule_init(%s_init);\nMODULE_LICENSE("GPL");\n' "$m" "$m" >"$tmp/$m/$m.c"
done

if ! command -v ccache >/dev/null; then
	skip "ccache" "ccache is not installed (scripts/deps.sh installs it)"
else
	# (a) ccache = auto, installed: the compiles go through it, into the cache's ccache folder
	printf '[install]\ninitramfs = never\n' >"$conf"
	kf install "$tmp/cc1" >"$tmp/out" 2>&1
	rc=$?
	check "build.ccache = auto with ccache installed: make is given CC=ccache gcc-12, and its cache is build.cache_dir/ccache" sh -c '
		[ "$1" -eq 0 ] && grep -q "^\$ .* make .*CC=ccache gcc-12" "$2" && [ -d "$3/ccache" ] &&
		[ "$(find "$3/ccache" -type f -name "*R" | wc -l)" -ge 1 ]' _ "$rc" "$(last_log)" "$cache" || sed 's/^/# /' "$tmp/out"
	"$KFORGE" --root "$root" cache list >"$tmp/list1" 2>&1
	# (b) the same sources built again in a fresh folder: ccache serves the compiles
	rm -rf "$cache/work" "$cache/builds"
	kf install "$tmp/cc1" >"$tmp/out" 2>&1
	rc=$?
	"$KFORGE" --root "$root" cache list >"$tmp/list2" 2>&1
	check "built again from scratch (work and builds removed): make ran, and ccache served its compiles" sh -c '
		[ "$1" -eq 0 ] && grep -q "^\$ .* make " "$2" &&
		h1=$(sed -n "s/^ccache: \([0-9]*\) of.*/\1/p" "$3") && h2=$(sed -n "s/^ccache: \([0-9]*\) of.*/\1/p" "$4") &&
		[ "$h2" -gt "$h1" ]' _ "$rc" "$(last_log)" "$tmp/list1" "$tmp/list2" || sed 's/^/# /' "$tmp/list1" "$tmp/list2"
	check "kforge cache list shows the ccache folder and its hit rate" sh -c '
		grep -q "^ccache .* ccache$" "$1" && grep -Eq "^ccache: [0-9]+ of [0-9]+ compiles served from its cache \([0-9]+% hits\)$" "$1"' \
		_ "$tmp/list2" || sed 's/^/# /' "$tmp/list2"
	check "each module has a ccache folder of its own (ccache/KVER/NAME-HASH), handed back to root after its build" sh -c '
		[ "$(ls "$1/$2" | wc -l)" = 1 ] && ls "$1/$2" | grep -q "^cc1-[0-9a-f]\{8\}$" &&
		[ -z "$(find "$1" ! -user root | head -n1)" ]' _ "$cache/ccache" "$A"
	check "kforge cache list --json has the hits and misses" sh -c '
		"$1" --root "$2" cache list --json | jq -e ".ccache.hits >= 1 and .ccache.misses >= 1 and any(.entries[]; .kind == \"ccache\")"' \
		_ "$KFORGE" "$root"
	# (c) build.ccache = no: plain gcc
	printf '[build]\nccache = no\n[install]\ninitramfs = never\n' >"$conf"
	kf install --rebuild "$tmp/cc1" >"$tmp/out" 2>&1
	check "build.ccache = no: make is given no ccache" sh -c '[ "$1" -eq 0 ] && ! grep -q "ccache" "$2"' _ "$?" "$(last_log)"
fi

# (d) build.ccache = yes, and no ccache on PATH: exit 3, the fix named
# every program of /usr/bin but ccache
mkdir -p "$tmp/bin"
ln -s /usr/bin/* "$tmp/bin/" 2>/dev/null
rm -f "$tmp/bin/ccache"
printf '[build]\nccache = yes\n[install]\ninitramfs = never\n' >"$conf"
expect_fail "build.ccache = yes without ccache: exit 3, says to install it or set auto" 3 \
	"build.ccache = yes, and ccache is not installed: install it" env PATH="$tmp/bin:/usr/sbin:/sbin" "$KFORGE" --root "$root" -k "$A" install "$tmp/cc2"

# (e) distcc on 127.0.0.1: the two modules compiled by the distccd this test runs
if ! command -v distccd >/dev/null || ! command -v distcc >/dev/null; then
	skip "distcc" "distcc is not installed (scripts/deps.sh installs it)"
else
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	: >"$tmp/distccd.log"
	chmod 666 "$tmp/distccd.log"
	distccd --no-detach --daemon --allow 127.0.0.1 --listen 127.0.0.1 --port "$port" --log-file "$tmp/distccd.log" \
		--log-level info --jobs 2 &
	dpid=$!
	trap 'kill $dpid 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
	wait_until 30 python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$port"
	printf '[build]\nccache = no\ndistcc = 127.0.0.1:%s/2\n[install]\ninitramfs = never\n' "$port" >"$conf"
	kf install --rebuild "$tmp/cc1" "$tmp/cc2" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	check "build.distcc = 127.0.0.1:PORT/2: both modules installed, validated by the gate" sh -c '
		[ "$1" -eq 0 ] && grep -q "validated cc1.ko" "$2" && grep -q "validated cc2.ko" "$2"' _ "$rc" "$tmp/err" ||
		sed 's/^/# /' "$tmp/err"
	check "... their makes were given CC=distcc gcc-12" sh -c '
		for f in $(ls -t "$1"/*.log | head -n2); do grep -q "^\$ .* make .*CC=distcc gcc-12" "$f" || exit 1; done' \
		_ "$root/var/log/kforge"
	check "... and distccd on 127.0.0.1 compiled each (COMPILE_OK for cc1.c and cc2.c in its log)" sh -c '
		grep -q "COMPILE_OK.*/cc1\.c$" "$1" && grep -q "COMPILE_OK.*/cc2\.c$" "$1"' _ "$tmp/distccd.log" ||
		sed 's/^/# /' "$tmp/distccd.log"
	kill "$dpid" 2>/dev/null
	wait "$dpid" 2>/dev/null
fi

tap_done
