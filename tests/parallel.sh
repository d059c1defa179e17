#!/bin/sh
# parallel.sh: modules built at once under one make jobserver (TAP), for real against the host's
# Debian headers in a copy of the Debian fixture root. A make wrapper on PATH (inside the root, so
# that the sandbox sees it) writes down, for the first make of each job, the MAKEFLAGS it was given,
# its arguments, and whether a jobserver token was free when it started: none free means every -j
# slot was held, one by this job and one by another running beside it. install A B C at -j2 runs
# them so, every make under the same jobserver and none given -jN; the importer listed before its
# exporter is tried again once the exporter is built; the .ko files are those of a serial (-j1)
# build. autoinstall for a second kernel rebuilds the four at once, the exporter before its
# importer (modinfo depends of the first kernel's build); a build that fails does not stop the
# others and the summary names each. MAKEFLAGS from the environment is honoured: -jN, and the
# jobserver of a make that runs kforge. autoinstall --all-kernels rebuilds for two new kernels at
# once, under the same one jobserver.
set -u
NAME=parallel
. "${top_srcdir:-$(dirname "$0")/..}/tests/suite.sh"
A=6.1.0-56-amd64
B=6.1.0-58-amd64
dkms_root "$A" "$B"
cache=$root/var/cache/kforge

mkdir -p "$root/kfbin"
cat >"$root/kfbin/make" <<'EOF'
#!/bin/bash
# the top-level make of a kforge job: what it was told, and whether a jobserver token was free
if [ -z "${MAKELEVEL:-}" ]; then
	free=none
	if [[ " ${MAKEFLAGS:-} " =~ --jobserver-auth=([0-9]+),([0-9]+) ]]; then
		r=${BASH_REMATCH[1]} w=${BASH_REMATCH[2]}
		t=$(dd if=/proc/self/fd/$r bs=1 count=1 iflag=nonblock 2>/dev/null)
		if [ -n "$t" ]; then free=1; printf %s "$t" >/proc/self/fd/$w; else free=0; fi
	fi
	echo "flags=[${MAKEFLAGS:-}] args=[$*] free=$free" >>"$PWD/.kf-make.log"
fi
exec /usr/bin/make "$@"
EOF
chmod 755 "$root/kfbin/make"
PATH=$root/kfbin:$PATH
export PATH
kf() { "$KFORGE" --root "$root" "$@"; }
# the first makes' lines of every job since the last reset, and the reset
make_lines() { find "$cache/work" -name .kf-make.log -exec cat {} + 2>/dev/null; }
reset_lines() { find "$cache/work" -name .kf-make.log -delete 2>/dev/null; }
sums() { for m in kfexp kfimp par1 par2; do sha256sum <"$(find "$root/lib/modules/$1" -name "$m.ko*" | head -n1)"; done; }

for m in par1 par2; do
	mkdir -p "$tmp/$m"
	echo "obj-m += $m.o" >"$tmp/$m/Kbuild"
	printf '// SPDX-License-Identifier: GPL-2.0\n#include <linux/module.h>\nstatic int __init %s_init(void) { return 0; }\nmodule_init(%s_init);\nMODULE_LICENSE("GPL");\n' "$m" "$m" >"$tmp/$m/$m.c"
done
exporter_pair "$tmp/exp" "$tmp/imp"

# (a) install at -j2: the importer first, so that it meets its exporter unbuilt
kf -k "$A" -j2 install "$tmp/imp" "$tmp/par1" "$tmp/exp" "$tmp/par2" >"$tmp/out" 2>"$tmp/err"
rc=$?
check "install A B C D at -j2: exit 0, the summary names each installed" sh -c '
	[ "$1" -eq 0 ] && grep -q "install of 4 modules: 4 done, 0 failed" "$2" &&
	for m in imp par1 exp par2; do grep -q "^kforge:   $3/$m: installed$" "$2" || exit 1; done' _ "$rc" "$tmp/err" "$tmp"
check "the importer, built before its exporter, failed on its symbol and was tried again once the others were done" sh -c '
	grep -q "$1/imp: trying again, now that the others are built" "$2" &&
	n=$(grep -n "$1/exp: done" "$2" | cut -d: -f1 | head -n1) && m=$(grep -n "$1/imp: trying again" "$2" | cut -d: -f1) &&
	[ "$n" -lt "$m" ]' _ "$tmp" "$tmp/err"
check "each job's messages are said with its name ([DIR] ...)" grep -q "^kforge: \[$tmp/par1\] " "$tmp/err"
make_lines >"$tmp/lines"
check "every job's make ran under one jobserver (the same --jobserver-auth=R,W) and none was given -jN" sh -c '
	[ "$(wc -l <"$1")" -ge 4 ] && ! grep -v -- "--jobserver-auth=" "$1" | grep -q . &&
	[ "$(sed -n "s/.*--jobserver-auth=\([0-9]*,[0-9]*\).*/\1/p" "$1" | sort -u | wc -l)" = 1 ] &&
	! grep -q "args=\[.*-j[0-9]" "$1"' _ "$tmp/lines" || sed 's/^/# /' "$tmp/lines"
check "two jobs ran at once: a make started with no token free (both -j2 slots held by jobs)" grep -q "free=0" "$tmp/lines"
sums "$A" >"$tmp/parallel.sums"
check "the four modules are installed and kforge status says ok" sh -c '
	[ "$(wc -l <"$3")" = 4 ] && "$1" --root "$2" -k "$4" status --json |
	jq -e "[.modules[] | select(.state == \"ok\")] | length == 4"' _ "$KFORGE" "$root" "$tmp/parallel.sums" "$A"

# (b) the same four at -j1, rebuilt: serial, no jobserver, -j1 given; the same .ko files
reset_lines
kf -k "$A" -j1 install --rebuild "$tmp/exp" "$tmp/imp" "$tmp/par1" "$tmp/par2" >"$tmp/out" 2>"$tmp/err2"
rc=$?
make_lines >"$tmp/lines"
check "at -j1 the four are built one after the other: no jobserver, each make given -j1" sh -c '
	[ "$1" -eq 0 ] && [ "$(grep -c "free=none" "$2")" -ge 4 ] && ! grep -q -- "--jobserver-auth" "$2" &&
	! grep -v "args=\[.* -j1 " "$2" | grep -q .' _ "$rc" "$tmp/lines" || sed 's/^/# /' "$tmp/lines" "$tmp/err2"
sums "$A" >"$tmp/serial.sums"
check "the modules built at once are the same files as those built one after the other" cmp "$tmp/parallel.sums" "$tmp/serial.sums"

# (c) autoinstall for B at -j2: the four at once, the exporter before its importer
reset_lines
kf -k "$B" -j2 autoinstall >"$tmp/out" 2>"$tmp/err"
rc=$?
check "autoinstall for $B at -j2: exit 0, the four rebuilt" sh -c '
	[ "$1" -eq 0 ] && grep -q "autoinstall for $3: 4 rebuilt, 0 skipped, 0 failed" "$2"' _ "$rc" "$tmp/err" "$B" ||
	sed 's/^/# /' "$tmp/err"
check "... kfimp waited for kfexp, whose symbol it imports (modinfo depends): no failed first try" sh -c '
	n=$(grep -n "$1/exp: rebuilt for" "$2" | cut -d: -f1) && m=$(grep -n "$1/imp: rebuilding for" "$2" | cut -d: -f1) &&
	[ "$n" -lt "$m" ] && ! grep -q "the rebuild for .* failed" "$2"' _ "$tmp" "$tmp/err"
make_lines >"$tmp/lines"
check "... under one jobserver, two at once" sh -c '
	[ "$(sed -n "s/.*--jobserver-auth=\([0-9]*,[0-9]*\).*/\1/p" "$1" | sort -u | wc -l)" = 1 ] && grep -q "free=0" "$1"' _ "$tmp/lines"
check "... and the modules load-check: the gate validated each for $B" sh -c '
	[ "$(grep -c "validated .*vermagic $2" "$1")" -ge 4 ]' _ "$tmp/err" "$B"

# (d) one that fails does not stop the others; the summary names it and its log
mkdir -p "$tmp/broken"
echo 'obj-m += broken.o' >"$tmp/broken/Kbuild"
echo 'this is not C;' >"$tmp/broken/broken.c"
echo 'static int x;' >>"$tmp/par1/par1.c"
kf -k "$A" -j2 install "$tmp/broken" "$tmp/par1" >"$tmp/out" 2>"$tmp/err"
rc=$?
check "install of a broken and a good module: exit 4, the good one installed, the summary names both" sh -c '
	[ "$1" -eq 4 ] && grep -q "install of 2 modules: 1 done, 1 failed" "$2" &&
	grep -q "^kforge:   $3/broken: failed (exit 4): see .*\.log$" "$2" && grep -q "^kforge:   $3/par1: installed$" "$2"' \
	_ "$rc" "$tmp/err" "$tmp" || sed 's/^/# /' "$tmp/err"
check "... the broken one was not tried again (it failed on its own code, not on a symbol)" sh -c '! grep -q "broken: trying again" "$1"' _ "$tmp/err"

# (e) MAKEFLAGS from the environment: -j3 is the jobs of a make kforge runs
reset_lines
echo 'static int y;' >>"$tmp/par2/par2.c"
MAKEFLAGS=-j3 kf -k "$A" install "$tmp/par2" >"$tmp/out" 2>"$tmp/err"
rc=$?
make_lines >"$tmp/lines"
check "MAKEFLAGS=-j3 in the environment: the module's make is given -j3" sh -c '
	[ "$1" -eq 0 ] && grep -q "args=\[.* -j3 " "$2"' _ "$rc" "$tmp/lines" || sed 's/^/# /' "$tmp/lines" "$tmp/err"

# (f) kforge run by a make -j2: its makes join that make's jobserver
reset_lines
echo 'static int z;' >>"$tmp/par2/par2.c"
printf 'all:\n\t+%s --root %s -k %s install %s\n' "$KFORGE" "$root" "$A" "$tmp/par2" >"$tmp/outer.mk"
/usr/bin/make -s -j2 -f "$tmp/outer.mk" >"$tmp/out" 2>"$tmp/err"
rc=$?
make_lines >"$tmp/lines"
check "kforge started by make -j2 (a + rule): its make joins that jobserver, given no -j of its own" sh -c '
	[ "$1" -eq 0 ] && grep -q -- "--jobserver-auth=[0-9]*,[0-9]*" "$2" && ! grep -q "args=\[.*-j[0-9]" "$2" &&
	! grep -q "jobserver unavailable" "$3"' _ "$rc" "$tmp/lines" "$tmp/err" || sed 's/^/# /' "$tmp/lines" "$tmp/err"

# (g) autoinstall --all-kernels: two new kernels at once, each with its four rebuilds, one jobserver
C=6.1.0-60-amd64
D=6.1.0-61-amd64
synth_kernel "$root" "$A" "$C"
synth_kernel "$root" "$A" "$D"
reset_lines
kf -j2 autoinstall --all-kernels >"$tmp/out" 2>"$tmp/err"
rc=$?
# the fixture's rt kernel has a build dir that cannot build (no generated config): it fails there,
# and the others go on
check "autoinstall --all-kernels at -j2: the four rebuilt for each new kernel, the others had them, the rt one failed; exit 1" sh -c '
	[ "$1" -eq 1 ] && grep -q "autoinstall for $3: 4 rebuilt, 0 skipped, 0 failed" "$2" &&
	grep -q "autoinstall for $4: 4 rebuilt, 0 skipped, 0 failed" "$2" &&
	grep -q "autoinstall for $5: 0 rebuilt, 0 skipped, 0 failed" "$2" &&
	grep -q "autoinstall --all-kernels: 5 kernels, 1 with failures" "$2" && grep -q "^kforge:   $3: ok$" "$2" &&
	grep -q "^kforge:   6.1.0-56-rt-amd64: failed" "$2"' _ "$rc" "$tmp/err" "$C" "$D" "$A" || sed 's/^/# /' "$tmp/err"
make_lines >"$tmp/lines"
check "... the kernels' rebuilds ran under one jobserver, two jobs at once" sh -c '
	[ "$(grep -c . "$1")" -ge 8 ] && [ "$(sed -n "s/.*--jobserver-auth=\([0-9]*,[0-9]*\).*/\1/p" "$1" | sort -u | wc -l)" = 1 ] &&
	grep -q "free=0" "$1"' _ "$tmp/lines" || sed 's/^/# /' "$tmp/lines"
check "... each kernel's messages are said with its release ([KVER] ...)" grep -q "^kforge: \[$C\] " "$tmp/err"
expect_fail "autoinstall -k KVER --all-kernels: exit 2, names both" 2 "-k and --all-kernels name the kernels twice" \
	"$KFORGE" --root "$root" -k "$A" autoinstall --all-kernels

tap_done
