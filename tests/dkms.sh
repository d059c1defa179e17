#!/bin/sh
# dkms.sh: DKMS packages (a folder with a dkms.conf) built and installed as DKMS 3.4 would, for real
# against the host's Debian headers in a copy of the Debian fixture root (TAP). The fixture packages
# in tests/dkms/pkgs cover: a MAKE line whose variable adds a module, the build path hard-coded in
# MAKE, STRIP arrays, BUILT_MODULE_LOCATION subfolders under a wrapper Makefile that generates a
# header first, a per-module BUILD_EXCLUSIVE_CONFIG, a .config conditional setting
# BUILD_EXCLUSIVE_KERNEL (a skip, exit 77), PRE_BUILD running configure, PATCH/PATCH_MATCH in
# index order, MAKE_MATCH, DEST_MODULE_NAME, POST_BUILD and the install and remove scripts.
set -u
NAME=dkms
. "${top_srcdir:-$(dirname "$0")/..}/tests/suite.sh"
A=6.1.0-56-amd64
B=6.1.0-58-amd64
dkms_root "$A" "$B"
# kernel B has no CONFIG_VIDEO_DEV: kfvideo's dkms.conf excludes it
for f in "$root/usr/lib/modules/$B/build/.config" "$root/usr/lib/modules/$B/build/include/config/auto.conf" "$root/boot/config-$B"; do
	[ -f "$f" ] && sed -i '/^CONFIG_VIDEO_DEV=/d' "$f"
done
cp -a "$srcdir/tests/dkms/pkgs/." "$root/usr/src/"
kf() { k=$1; shift; "$KFORGE" --root "$root" -k "$k" "$@"; }
work=$root/var/cache/kforge/work
srcs() { (cd "$root/usr/src" && find kf* -printf '%p %y %s %T@ %u\n' | sort); }
srcs >"$tmp/src-before"
vermagic() { modinfo -F vermagic "$1" 2>/dev/null | cut -d' ' -f1; }
desc() { modinfo -F description "$1" 2>/dev/null; }
installed() { find "$root/lib/modules/$1" "$root/usr/lib/modules/$1" -name "$2" 2>/dev/null | head -n1; }
has_debug() { readelf -S "$1" 2>/dev/null | grep -q '\.debug_info'; }
show() { for f; do sed 's/^/# /' "$f"; done; }
# step NAME FUNCTION: ok when FUNCTION succeeds, else not ok with the command's stderr ($tmp/err)
step() { if "$2"; then ok "$1"; else not_ok "$1"; show "$tmp/err"; fi; }

# (1) KFHDAPS=1 in MAKE adds a module; M= hard-codes $dkms_tree/NAME/VER/build; STRIP[0]=no, STRIP[1]=yes
t1() { kf "$A" install "$root/usr/src/kfhdaps-1.0" >"$tmp/out" 2>"$tmp/err" &&
		b=$(installed "$A" kfbase.ko) && h=$(installed "$A" kfhdaps.ko) && [ -n "$b" ] && [ -n "$h" ] &&
		[ "$(vermagic "$b")" = "$A" ] && [ "$(vermagic "$h")" = "$A" ]; }
step "kfhdaps/1.0: kfbase and kfhdaps (added by KFHDAPS=1) installed with vermagic $A" t1
check "the build ran in WORK/$A/dkms/kfhdaps/1.0/build, the path the conf hard-codes" \
	test -f "$work/$A/dkms/kfhdaps/1.0/build/kfhdaps.ko"
check "STRIP[0]=no keeps kfbase's debug info, STRIP[1]=yes strips kfhdaps's" sh -c '
	has_debug() { readelf -S "$1" 2>/dev/null | grep -q "\.debug_info"; }
	[ -n "$1" ] && [ -n "$2" ] && has_debug "$1" && ! has_debug "$2"' _ "${b:-}" "${h:-}"
check "the record names the package, its folder and its DEST_MODULE_LOCATION" sh -c '
	grep -qx "package = kfhdaps/1.0" "$1" && grep -qx "kind = dkms" "$1" && grep -qx "spec = $2" "$1" &&
	grep -qx "dest_location = %2Fkernel%2Fdrivers%2Fhwmon" "$1" || grep -qx "dest_location = /kernel/drivers/hwmon" "$1"' \
	_ "$root/var/lib/kforge/records/$A/kfbase.conf" "$root/usr/src/kfhdaps-1.0"
kf "$A" status >"$tmp/status" 2>&1
check "status shows the package, the conf's DEST_MODULE_LOCATION and where kforge put the module" sh -c '
	grep -q "DKMS package kfhdaps/1.0 (.*kfhdaps-1.0): DEST_MODULE_LOCATION /kernel/drivers/hwmon, installed in updates/" "$1"' \
	_ "$tmp/status" || show "$tmp/status"

# (2) without the variable, the module the conf lists is missing: DKMS's exit 7 as kforge's build failure
nohd=$tmp/kfnohd-1.0
cp -a "$root/usr/src/kfhdaps-1.0" "$nohd"
sed -i 's/PACKAGE_NAME="kfhdaps"/PACKAGE_NAME="kfnohd"/; s/ KFHDAPS=1//' "$nohd/dkms.conf"
expect_fail "a module the conf lists and make did not build: exit 4, names the file, the make command and the log" 4 \
	"build of kfhdaps.ko failed for $A (x86_64): \`make -j" kf "$A" build "$nohd"
check "... and the log" grep -q "kfhdaps.ko (BUILT_MODULE_LOCATION\[1\]/BUILT_MODULE_NAME\[1\].ko).*see .*\.log" "$tmp/err"

# (3) NAME/VER, looked up in /usr/src: a wrapper that generates a header, modules in a/ and b/,
# b left out by BUILD_EXCLUSIVE_CONFIG[1]
t2() { kf "$A" install kfwrap/2.1 >"$tmp/out" 2>"$tmp/err" && a=$(installed "$A" kfwrap_a.ko) && [ -n "$a" ] &&
		[ "$(desc "$a")" = "kfwrap_a generated" ] && [ -z "$(installed "$A" kfwrap_b.ko)" ]; }
step "kfwrap/2.1: the wrapper's header generated, a/kfwrap_a installed, b/kfwrap_b left out" t2
check "the per-module exclusion is said with its directive and value" \
	grep -q "module kfwrap_b is left out for $A: BUILD_EXCLUSIVE_CONFIG\[1\].*CONFIG_KFORGE_TEST_NEVER_SET" "$tmp/err"
expect_fail "NAME/VER without a package: exit 3, names what was looked for" 3 \
	"/usr/src/kfnone-1.0/dkms.conf" kf "$A" build kfnone/1.0

# (4) a .config conditional: built where CONFIG_VIDEO_DEV is set (PRE_BUILD's configure writes the
# Makefile), skipped with its reason and exit 77 where it is not
t3() { kf "$A" install "$root/usr/src/kfvideo-0.3" >"$tmp/out" 2>"$tmp/err" && v=$(installed "$A" kfvideo.ko) &&
		[ -n "$v" ] && [ "$(desc "$v")" = "kfvideo configured for $A" ]; }
step "kfvideo/0.3 on $A: PRE_BUILD's configure wrote the Makefile, the module installed" t3
kf "$B" install "$root/usr/src/kfvideo-0.3" >"$tmp/out" 2>"$tmp/err"
rc=$?
check "kfvideo/0.3 on $B (no CONFIG_VIDEO_DEV): skipped, exit 77, the directive and its value said" sh -c '
	[ "$1" -eq 77 ] && grep -q "kfvideo/0.3 skipped for $3.*BUILD_EXCLUSIVE_KERNEL.*REQUIRES CONFIG_VIDEO_DEV" "$2" &&
	! grep -q "error" "$2" && [ ! -d "$4/$3/dkms/kfvideo/0.3/build" ]' _ "$rc" "$tmp/err" "$B" "$work" || show "$tmp/err"

# (5) PATCH in index order where PATCH_MATCH matches, MAKE_MATCH, DEST_MODULE_NAME, the scripts
P=$work/$A/dkms/kfpatch/1.2
t4() { kf "$A" install kfpatch/1.2 >"$tmp/out" 2>"$tmp/err" && p=$(installed "$A" kfpatch_renamed.ko) && [ -n "$p" ] &&
		[ "$(desc "$p")" = "kfpatch make=one patched=2" ] && [ -z "$(installed "$A" kfpatch.ko)" ]; }
step "kfpatch/1.2: patches one then two applied (never.patch's PATCH_MATCH missed), MAKE[1] chosen, installed as kfpatch_renamed.ko" t4
builder=$(id -u kforge-build)
check "POST_BUILD ran in the copy, PRE_INSTALL and POST_INSTALL in the package folder, as the build user" sh -c '
	grep -qx "post-build in $1/build as $3" "$1/build/post-build.ran" &&
	grep -qx "pre-install in $2 as $3" "$1/pre-install.ran" && grep -qx "post-install in $2 as $3" "$1/post-install.ran"' \
	_ "$P" "$root/usr/src/kfpatch-1.2" "$builder"
check "make ran as the build user ([build] user, kforge-build): the uid its Makefile saw" sh -c '[ "$(cat "$1/build/make-uid")" = "$2" ] && [ "$2" != 0 ]' _ "$P" "$builder"

# (6) the packages under /usr/src were never written
srcs >"$tmp/src-after"
if cmp -s "$tmp/src-before" "$tmp/src-after"; then ok "every package folder under /usr/src is unchanged (listing, sizes, mtimes, owners)"; else
	not_ok "every package folder under /usr/src is unchanged (listing, sizes, mtimes, owners)"
	diff "$tmp/src-before" "$tmp/src-after" | sed 's/^/# /'
fi

# (7) autoinstall for B: the packages installed for A rebuilt; kfvideo skipped, not failed, exit 0
kf "$B" autoinstall >"$tmp/out" 2>"$tmp/err"
rc=$?
check "autoinstall on $B: exit 0, kfvideo counted as skipped, the others rebuilt" sh -c '
	[ "$1" -eq 0 ] && grep -q "autoinstall for $3: 3 rebuilt, 1 skipped, 0 failed" "$2" &&
	[ -n "$(find "$4/usr/lib/modules/$3" -name kfpatch_renamed.ko)" ]' _ "$rc" "$tmp/err" "$B" "$root" || show "$tmp/err"

# (8) uninstall NAME/VER: every module of the package, then POST_REMOVE; uninstall by module name
t5() { kf "$A" uninstall kfpatch/1.2 >"$tmp/out" 2>"$tmp/err" && [ -z "$(installed "$A" kfpatch_renamed.ko)" ] &&
	grep -qx "post-remove in $root/usr/src/kfpatch-1.2 as $builder" "$P/post-remove.ran"; }
step "uninstall kfpatch/1.2 removes its module and runs POST_REMOVE" t5
check "uninstall kfhdaps (a module name) removes that module only" sh -c '
	"$1" --root "$2" -k "$3" uninstall kfhdaps >/dev/null 2>&1 && [ -z "$(find "$2/usr/lib/modules/$3" "$2/lib/modules/$3" -name kfhdaps.ko 2>/dev/null)" ] &&
	[ -n "$(find "$2/usr/lib/modules/$3" "$2/lib/modules/$3" -name kfbase.ko 2>/dev/null)" ]' _ "$KFORGE" "$root" "$A"
# (9) REMAKE_INITRD=yes is ignored, as DKMS 3.x ignores it: the initramfs is refreshed only when it
# holds the module (shim generators on PATH log each call; the image is the listing they print)
mkdir -p "$tmp/bin"
for t in update-initramfs lsinitramfs; do ln -sf "$srcdir/tests/shim/initramfs-tool" "$tmp/bin/$t"; done
ini=$tmp/kfinit-1.0
cp -r "$srcdir/tests/src/hello" "$ini" && chmod -R u+w,go+rX "$ini"
printf '%s\n' PACKAGE_NAME=kfinit PACKAGE_VERSION=1.0 'BUILT_MODULE_NAME[0]=hello' \
	'DEST_MODULE_LOCATION[0]=/updates/dkms' REMAKE_INITRD=yes >"$ini/dkms.conf"
mkdir -p "$root/boot"
echo "usr/lib/modules/$A/kernel/drivers/net/dummy.ko" >"$root/boot/initrd.img-$A"
export KFORGE_SHIM_LOG="$tmp/shim.log"
: >"$KFORGE_SHIM_LOG"
PATH="$tmp/bin:$PATH" kf "$A" install "$ini" >"$tmp/out" 2>"$tmp/err"
rc=$?
check "REMAKE_INITRD=yes, the module not in the image: installed, the directive said ignored, the package named, update-initramfs not run" sh -c '
	[ "$1" -eq 0 ] && [ -n "$4" ] && grep -q "REMAKE_INITRD is deprecated and ignored, as in DKMS 3.x" "$2" &&
	grep -q "kfinit/1.0 is not in /boot/initrd.img-$5: the initramfs stays as it is" "$2" && grep -q "^lsinitramfs " "$3" && ! grep -q "^update-initramfs" "$3"' _ "$rc" "$tmp/err" "$KFORGE_SHIM_LOG" \
	"$(installed "$A" hello.ko)" "$A" || show "$tmp/err" "$KFORGE_SHIM_LOG"
echo "usr/lib/modules/$A/updates/hello.ko" >"$root/boot/initrd.img-$A"
: >"$KFORGE_SHIM_LOG"
# a changed module (installing the same file again would change nothing and refresh nothing)
echo 'MODULE_INFO(kforge_test, "2");' >>"$ini/hello-main.c"
PATH="$tmp/bin:$PATH" kf "$A" install "$ini" >"$tmp/out" 2>"$tmp/err"
rc=$?
check "... the module in the image: the initramfs is refreshed (update-initramfs -u -k $A)" sh -c '
	[ "$1" -eq 0 ] && grep -qx "update-initramfs -u -k $3" "$2"' _ "$rc" "$KFORGE_SHIM_LOG" "$A" ||
	show "$tmp/err" "$KFORGE_SHIM_LOG"
# (10) PRE_INSTALL that fails aborts the install, nothing changed; a PATCH that is not in patches/ is
# refused before the build, naming it and the fix
pre=$tmp/kfpre-1.0
cp -r "$srcdir/tests/src/hello" "$pre" && chmod -R u+w,go+rX "$pre"
printf '#!/bin/sh\necho "refusing: no such hardware" >&2\nexit 3\n' >"$pre/pre-install.sh"
chmod 755 "$pre/pre-install.sh"
printf '%s\n' PACKAGE_NAME=kfpre PACKAGE_VERSION=1.0 'BUILT_MODULE_NAME[0]=hello' 'DEST_MODULE_NAME[0]=kfpre' \
	'DEST_MODULE_LOCATION[0]=/updates/dkms' PRE_INSTALL=pre-install.sh >"$pre/dkms.conf"
expect_fail "PRE_INSTALL exiting 3: exit 5, the script and its status named, the install aborted" 5 \
	"kfpre/1.0: PRE_INSTALL (pre-install.sh) exited 3: the install is aborted, nothing changed" kf "$A" install "$pre"
check "... kfpre.ko is not installed and not recorded" sh -c '[ -z "$1" ] && [ ! -e "$2/var/lib/kforge/records/$3/kfpre.conf" ]' \
	_ "$(installed "$A" kfpre.ko)" "$root" "$A"
sed -i '/^PRE_INSTALL=/d' "$pre/dkms.conf"
echo 'PATCH[0]=missing.patch' >>"$pre/dkms.conf"
expect_fail "PATCH[0] naming a file not in patches/: exit 5, the patch, the folder and the fix named" 5 \
	"kfpre/1.0: PATCH missing.patch does not exist in $pre/patches: add it there, or fix the PATCH line of $pre/dkms.conf" \
	kf "$A" install "$pre"
check "... nothing was built or installed" sh -c '[ -z "$1" ] && [ ! -e "$2/$3/dkms/kfpre/1.0/build/hello.ko" ]' \
	_ "$(installed "$A" kfpre.ko)" "$work" "$A"
tap_done
