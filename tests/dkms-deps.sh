#!/bin/sh
# dkms-deps.sh: BUILD_DEPENDS (the rebuild of dependents when a dependency changes, a failed
# dependency in autoinstall, a cycle), and AUTOINSTALL,
# for real against the host's Debian headers in a copy of the Debian fixture root (TAP). The
# fixture packages in tests/dkms/deps: kfexp exports kfexp_value, kfimp uses it and names kfexp in
# BUILD_DEPENDS, kfnoauto has no AUTOINSTALL (and is copied into kfcyc1 and kfcyc2 for the cycle).
set -u
NAME=dkms-deps
. "${top_srcdir:-$(dirname "$0")/..}/tests/suite.sh"
A=6.1.0-56-amd64
B=6.1.0-58-amd64
dkms_root "$A" "$B"
cp -a "$srcdir/tests/dkms/deps/." "$root/usr/src/"
kf() { k=$1; shift; "$KFORGE" --root "$root" -k "$k" "$@"; }
work=$root/var/cache/kforge/work
installed() { find "$root/lib/modules/$1" "$root/usr/lib/modules/$1" -name "$2" 2>/dev/null | head -n1; }
show() { for f; do sed 's/^/# /' "$f"; done; }
step() { if "$2"; then ok "$1"; else not_ok "$1"; show "$tmp/err"; fi; }
# the CRC of SYMBOL that MODULE was built against (its __versions), as a number
crc_of() { modprobe --dump-modversions "$1" 2>/dev/null | awk -v s="$2" '$2 == s { print $1 }' | xargs -r printf '%d\n'; }
# the CRC of SYMBOL in a Module.symvers
crc_in() { awk -v s="$2" '$2 == s { print $1 }' "$1" | xargs -r printf '%d\n'; }
rec() { sed -n "s/^$2 = //p" "$root/var/lib/kforge/records/$A/$1.conf" | sed "s/%20/ /g"; }

# (1) the dependent before its dependency: refused, the dependency and the command named
expect_fail "kfimp/1.0 before kfexp: exit 3, names the missing BUILD_DEPENDS kfexp" 3 \
	"kfimp/1.0 cannot be built for $A: its dkms.conf's BUILD_DEPENDS needs kfexp, which kforge has not installed for $A" \
	kf "$A" install kfimp/1.0
check "... and says how to install it" grep -qF "kforge -k $A install NAME/VERSION" "$tmp/err"
check "... and installed nothing" test -z "$(installed "$A" kfimp.ko)"

# (2) after the dependency: built, with the exporter's CRC of the imported symbol
t1() { kf "$A" install kfexp/1.0 >"$tmp/out" 2>"$tmp/err" && [ -n "$(installed "$A" kfexp.ko)" ] &&
	kf "$A" install kfimp/1.0 >"$tmp/out" 2>"$tmp/err" && [ -n "$(installed "$A" kfimp.ko)" ]; }
step "kfexp/1.0, then kfimp/1.0: both installed" t1
exp_crc=$(crc_in "$work/$A/dkms/kfexp/1.0/build/Module.symvers" kfexp_value)
imp_crc=$(crc_of "$work/$A/dkms/kfimp/1.0/build/kfimp.ko" kfexp_value)
check "kfimp's modversions CRC of kfexp_value ($imp_crc) is the one in kfexp's Module.symvers ($exp_crc)" \
	sh -c '[ -n "$1" ] && [ "$1" = "$2" ]' _ "$exp_crc" "$imp_crc"
check "kfimp's record names the kfexp version and content it was built against" \
	sh -c '[ "$1" = "kfexp/1.0 $2" ]' _ "$(rec kfimp depends)" "$(rec kfexp sha256)"

# (3) kfexp installed again as it was: nothing to rebuild (nor to install: its record stays); kfimp's
# record is made the older (as when kfexp was installed last), so that autoinstall meets kfimp first
kf "$A" install kfexp/1.0 >"$tmp/out" 2>"$tmp/err"
check "kfexp/1.0 installed again, unchanged: kfimp is not rebuilt" sh -c '
	[ "$1" -eq 0 ] && ! grep -q "kfimp/1.0: rebuilding" "$2" && grep -q "kfexp.ko is already installed as this build would install it" "$2"' \
	_ "$?" "$tmp/err" || show "$tmp/err"
sed -i 's/^time = .*/time = 2000-01-01T00:00:00Z/' "$root/var/lib/kforge/records/$A/kfimp.conf"
check "kfimp's record sorts before kfexp's (older), as autoinstall meets them" \
	sh -c '[ "$1" \< "$2" ]' _ "$(rec kfimp time)" "$(rec kfexp time)"

# (4) autoinstall on B: kfexp before kfimp; kfnoauto (no AUTOINSTALL) not rebuilt, said why
kf "$A" install kfnoauto/1.0 >"$tmp/out" 2>"$tmp/err"
kf "$B" autoinstall >"$tmp/out" 2>"$tmp/err"
rc=$?
check "autoinstall on $B: exit 0, kfexp and kfimp rebuilt, kfnoauto not autoinstalled" sh -c '
	[ "$1" -eq 0 ] && grep -q "autoinstall for $3: 2 rebuilt, 0 skipped, 0 failed; 1 not autoinstalled" "$2" &&
	[ -n "$(find "$4/usr/lib/modules/$3" -name kfimp.ko)" ] && [ -z "$(find "$4/usr/lib/modules/$3" -name kfnoauto.ko)" ]' \
	_ "$rc" "$tmp/err" "$B" "$root" || show "$tmp/err"
check "... in dependency order: kfexp rebuilt before kfimp" sh -c '
	e=$(grep -n "kfexp-1.0: rebuilding for" "$1" | cut -d: -f1); i=$(grep -n "kfimp-1.0: rebuilding for" "$1" | cut -d: -f1)
	[ -n "$e" ] && [ -n "$i" ] && [ "$e" -lt "$i" ]' _ "$tmp/err"
check "... kfnoauto said: not autoinstalled (AUTOINSTALL is not yes in its dkms.conf)" \
	grep -qF "kfnoauto/1.0: not autoinstalled (AUTOINSTALL is not yes in its dkms.conf)" "$tmp/err"

# (5) autoinstall on a new kernel C with kfexp's source broken: kfexp fails there, and kfimp is
# failed because of it, not built; nothing is installed for C
C=6.1.0-59-amd64
synth_kernel "$root" "$A" "$C"
echo '#error kfexp broken by the test' >>"$root/usr/src/kfexp-1.0/kfexp.c"
kf "$C" autoinstall >"$tmp/out" 2>"$tmp/err"
rc=$?
sed -i '/#error kfexp broken by the test/d' "$root/usr/src/kfexp-1.0/kfexp.c"
check "autoinstall on $C, kfexp broken: exit 1, kfexp failed, kfimp failed because of it, both counted" sh -c '
	[ "$1" -eq 1 ] && grep -q "kfexp-1.0: the rebuild for $3 failed (exit 4)" "$2" &&
	grep -q "kfimp-1.0: not rebuilt for $3: its BUILD_DEPENDS kfexp (kfexp/1.0) failed there" "$2" &&
	grep -q "autoinstall for $3: 0 rebuilt, 0 skipped, 2 failed" "$2"' _ "$rc" "$tmp/err" "$C" || show "$tmp/err"
check "... kfimp was never built for $C, and nothing of kfexp or kfimp is installed there" sh -c '
	[ ! -e "$1/$2/dkms/kfimp" ] && [ -z "$(find "$3/usr/lib/modules/$2" -name "kf*.ko")" ]' _ "$work" "$C" "$root"

# (6) a changed dependency: a new version folder, then a changed source; each install rebuilds kfimp
cp -a "$root/usr/src/kfexp-1.0" "$root/usr/src/kfexp-1.1"
sed -i 's/PACKAGE_VERSION="1.0"/PACKAGE_VERSION="1.1"/' "$root/usr/src/kfexp-1.1/dkms.conf"
t2() { kf "$A" install kfexp/1.1 >"$tmp/out" 2>"$tmp/err" &&
	grep -q "kfimp/1.0: rebuilding for $A: it was built against another version or content of kfexp, now kfexp/1.1" "$tmp/err" &&
	grep -q "kfimp/1.0: rebuilt and installed for $A against kfexp/1.1" "$tmp/err" &&
	[ "$(rec kfimp depends)" = "kfexp/1.1 $(rec kfexp sha256)" ]; }
step "kfexp/1.1 installed: kfimp rebuilt against it, said, its record names kfexp/1.1" t2
sed -i 's/KFEXP_STEP=1/KFEXP_STEP=2/' "$root/usr/src/kfexp-1.1/Makefile"
t3() { before=$(rec kfimp depends) && kf "$A" install kfexp/1.1 >"$tmp/out" 2>"$tmp/err" &&
	grep -q "kfimp/1.0: rebuilt and installed for $A against kfexp/1.1" "$tmp/err" &&
	[ "$(rec kfimp depends)" = "kfexp/1.1 $(rec kfexp sha256)" ] && [ "$(rec kfimp depends)" != "$before" ]; }
step "kfexp/1.1's source changed and installed again: kfimp rebuilt against the new content" t3
exp_crc=$(crc_in "$work/$A/dkms/kfexp/1.1/build/Module.symvers" kfexp_value)
imp_crc=$(crc_of "$(installed "$A" kfimp.ko)" kfexp_value)
check "the installed kfimp's CRC of kfexp_value is kfexp/1.1's" sh -c '[ -n "$1" ] && [ "$1" = "$2" ]' _ "$exp_crc" "$imp_crc"

# (7) a cycle: kfcyc1 installed, kfcyc2 (BUILD_DEPENDS kfcyc1) installed, then kfcyc1's conf names
# kfcyc2 and is installed again; autoinstall on B reports both as failed, builds neither
for n in 1 2; do
	d=$root/usr/src/kfcyc$n-1.0
	cp -a "$root/usr/src/kfnoauto-1.0" "$d"
	mv "$d/kfnoauto.c" "$d/kfcyc$n.c"
	sed -i "s/kfnoauto/kfcyc$n/g" "$d/dkms.conf" "$d/Makefile" "$d/kfcyc$n.c"
	echo 'AUTOINSTALL="yes"' >>"$d/dkms.conf"
done
echo 'BUILD_DEPENDS="kfcyc1"' >>"$root/usr/src/kfcyc2-1.0/dkms.conf"
t4() { kf "$A" install kfcyc1/1.0 >"$tmp/out" 2>"$tmp/err" && kf "$A" install kfcyc2/1.0 >"$tmp/out" 2>"$tmp/err" &&
	echo 'BUILD_DEPENDS="kfcyc2"' >>"$root/usr/src/kfcyc1-1.0/dkms.conf" &&
	kf "$A" install kfcyc1/1.0 >"$tmp/out" 2>"$tmp/err"; }
step "kfcyc1, kfcyc2 (needs kfcyc1), then kfcyc1 needing kfcyc2: installed for $A" t4
kf "$B" autoinstall >"$tmp/out" 2>"$tmp/err"
rc=$?
check "autoinstall on $B: exit 1, the cycle named for each (its BUILD_DEPENDS and the fix), counted failed" sh -c '
	[ "$1" -eq 1 ] &&
	grep -q "kfcyc1-1.0: not rebuilt for $3: its BUILD_DEPENDS (kfcyc2) wait on each other, a cycle: break it in their dkms.conf files" "$2" &&
	grep -q "kfcyc2-1.0: not rebuilt for $3: its BUILD_DEPENDS (kfcyc1) wait on each other, a cycle" "$2" &&
	grep -q "autoinstall for $3: .* 2 failed" "$2"' _ "$rc" "$tmp/err" "$B" || show "$tmp/err"
check "... and neither was built for $B" sh -c '[ ! -e "$1/$2/dkms/kfcyc1" ] && [ ! -e "$1/$2/dkms/kfcyc2" ] &&
	[ -z "$(find "$3/usr/lib/modules/$2" -name "kfcyc*.ko")" ]' _ "$work" "$B" "$root"
tap_done
