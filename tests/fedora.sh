#!/bin/sh
# fedora.sh: Fedora and the RHEL family on their fixture roots (TAP). Each of fedora39, fedora40
# (with a +debug kernel), fedora-rawhide (an rc), rocky8, rocky9, alma8 and alma9 selects the
# fedora plugin, splits its release, finds kernel-devel and the config; the plan names dracut or
# kernel-install (BLS). dummy is installed for real (--source: a small tree; the headers strategy
# against a build dir made from the host's Debian headers, tests/synth.sh) as .ko.xz with CRC32
# checks in updates/, read by kmod's modinfo, vermagic exactly the release; the shims record the
# initramfs command. On the RHEL family the CRCs come from the kernel package's symvers.xz (or
# .gz) when kernel-devel has no Module.symvers and are cross-checked against it when it has;
# other kernels' weak-updates/ are left alone, `kforge status` shows weak-modules' links to
# kforge's file, and uninstall removes those left dangling (only those).
set -u
NAME=fedora
. "${top_srcdir:-$(dirname "$0")/..}/tests/suite.sh"

# release|fixture|version|extraversion|modversions|initramfs generator the core picks|bls|symvers fact
while IFS='|' read -r kver fixture ver extra mv gen bls symvers; do
	[ -n "$kver" ] || continue
	j=$("$KFORGE" --root "$R/$fixture" -k "$kver" info --json 2>&1)
	check "$fixture $kver: fedora plugin, $ver + \"$extra\", kernel-devel build dir and its .config, modversions $mv, bls $bls" \
		sh -c 'printf "%s" "$1" | jq -e --arg k "$2" --arg v "$3" --arg e "$4" --argjson mv "$5" --arg g "$6" --arg b "$7" --arg s "$8" "
		.plugin == \"fedora\" and .kernel.release == \$k and .kernel.version == \$v and .kernel.extraversion == \$e and
		.kernel.localversion == \"\" and .build_dir == \"/usr/src/kernels/\" + \$k and
		.config == \"/usr/src/kernels/\" + \$k + \"/.config\" and .modversions == \$mv and .compression == \"xz\" and
		.initramfs == \$g and .facts[\"fedora.bls\"] == \$b and (.facts[\"fedora.symvers\"] // \"\") == \$s and
		.module_dir == \"/usr/lib/modules/\" + \$k + \"/updates\"" >/dev/null' _ "$j" "$kver" "$ver" "$extra" "$mv" "$gen" "$bls" "$symvers"
done <<'TABLE'
6.5.6-300.fc39.x86_64|fedora39|6.5.6|-300.fc39.x86_64|false|dracut|no|
6.8.5-301.fc40.x86_64|fedora40|6.8.5|-301.fc40.x86_64|false|dracut|yes|
6.8.5-301.fc40.x86_64+debug|fedora40|6.8.5|-301.fc40.x86_64+debug|false|dracut|yes|
6.13.0-0.rc3.20241217git78d4f34e2115.fc42.x86_64|fedora-rawhide|6.13.0|-0.rc3.20241217git78d4f34e2115.fc42.x86_64|false|kernel-install|yes|
4.18.0-513.5.1.el8_9.x86_64|rocky8|4.18.0|-513.5.1.el8_9.x86_64|true|dracut|yes|/boot/symvers-4.18.0-513.5.1.el8_9.x86_64.gz
5.14.0-427.13.1.el9_4.x86_64|rocky9|5.14.0|-427.13.1.el9_4.x86_64|true|dracut|yes|/boot/symvers-5.14.0-427.13.1.el9_4.x86_64.xz
4.18.0-513.24.1.el8_9.x86_64|alma8|4.18.0|-513.24.1.el8_9.x86_64|true|dracut|yes|/boot/symvers-4.18.0-513.24.1.el8_9.x86_64.gz
5.14.0-427.22.1.el9_4.x86_64|alma9|5.14.0|-427.22.1.el9_4.x86_64|true|dracut|yes|/boot/symvers-5.14.0-427.22.1.el9_4.x86_64.xz
TABLE

# the config: build/.config, else lib/modules/KVER/config, else /boot/config-KVER; the plan names it
K39=6.5.6-300.fc39.x86_64
cp -a "$R/fedora39" "$tmp/cfg"
cfg() { "$KFORGE" --root "$tmp/cfg" -k $K39 info --json 2>/dev/null | jq -r .config; }
planned_cfg() { "$KFORGE" --root "$tmp/cfg" -k $K39 plan dummy --source "$tmp/src" --strategy headers 2>&1 | grep "configuration as installed"; }
mkdir -p "$tmp/src/drivers/net"
printf 'VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 192\nEXTRAVERSION =\nNAME = x\n' >"$tmp/src/Makefile"
echo 'obj-$(CONFIG_DUMMY) += dummy.o' >"$tmp/src/drivers/net/Makefile"
cat >"$tmp/src/drivers/net/dummy.c" <<'EOF'
// SPDX-License-Identifier: GPL-2.0
#include <linux/module.h>
static int __init dummy_init(void) { printk(KERN_INFO "fedora dummy\n"); return 0; }
static void __exit dummy_exit(void) { }
module_init(dummy_init);
module_exit(dummy_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("fedora fixture dummy");
EOF
check "config: kernel-devel's .config first, and the plan names it" sh -c '
	[ "$1" = "/usr/src/kernels/$3/.config" ] && printf "%s" "$2" | grep -q "as installed: /usr/src/kernels/$3/.config"' \
	_ "$(cfg)" "$(planned_cfg)" $K39
rm "$tmp/cfg/usr/src/kernels/$K39/.config"
check "config: without it, lib/modules/KVER/config (what the kernel package ships), and the plan names it" sh -c '
	[ "$1" = "/usr/lib/modules/$3/config" ] && printf "%s" "$2" | grep -q "as installed: /usr/lib/modules/$3/config"' \
	_ "$(cfg)" "$(planned_cfg)" $K39
rm "$tmp/cfg/usr/lib/modules/$K39/config"
check "config: without both, /boot/config-KVER" test "$(cfg)" = "/boot/config-$K39"

# the plan's initramfs command: dracut -f --kver without BLS, kernel-install add with it
plan_cmd() { # FIXTURE KVER
	"$KFORGE" --root "$R/$1" -k "$2" plan dummy --source "$tmp/src" --strategy headers 2>&1 | sed -n 's/^   \$ \(dracut\|kernel-install\) /\1 /p'
}
check "plan fedora39 (no BLS): dracut -f --kver" test "$(plan_cmd fedora39 $K39)" = "dracut -f --kver $K39"
K40=6.8.5-301.fc40.x86_64
check "plan fedora40 (/boot/loader/entries): kernel-install add KVER /usr/lib/modules/KVER/vmlinuz" \
	test "$(plan_cmd fedora40 $K40)" = "kernel-install add $K40 /usr/lib/modules/$K40/vmlinuz"
KRH=6.13.0-0.rc3.20241217git78d4f34e2115.fc42.x86_64
check "plan rawhide (install.conf layout=bls): kernel-install add" \
	test "$(plan_cmd fedora-rawhide $KRH)" = "kernel-install add $KRH /usr/lib/modules/$KRH/vmlinuz"
K9=5.14.0-427.13.1.el9_4.x86_64
p=$("$KFORGE" --root "$R/rocky9" -k $K9 plan dummy --source "$tmp/src" --strategy headers 2>&1)
check "plan rocky9: kernel-install, CRCs against Module.symvers and symvers.xz, weak-modules not run" sh -c '
	printf "%s" "$1" | grep -q "kernel-install add $2 " &&
	printf "%s" "$1" | grep -q "against Module.symvers and against /boot/symvers-$2.xz (the kernel package.s: they must agree)" &&
	printf "%s" "$1" | grep -q "weak-updates: the module is installed for $2 only; kforge does not run weak-modules"' _ "$p" $K9
rm -rf "$tmp/cfg"

need_headers

mkdir -p "$tmp/bin"
for t in dracut kernel-install lsinitrd; do ln -s "$srcdir/tests/shim/initramfs-tool" "$tmp/bin/$t"; done
for t in dnf rpmbuild rpmspec; do ln -s "$srcdir/tests/shim/rpm-tool" "$tmp/bin/$t"; done
export KFORGE_SHIM_LOG="$tmp/shim.log"

mkroot() { # FIXTURE KVER: a copy in $tmp/FIXTURE whose kernel-devel for KVER is real (synth); sets root
	root=$tmp/$1
	[ -d "$root" ] || cp -a "$R/$1" "$root"
	synth "$root/usr/src/kernels/$2" "$2"
	# the kernel-devel layout: the build link points at it
	[ "$(readlink "$root/usr/lib/modules/$2/build")" = "/usr/src/kernels/$2" ]
}
kf() { # ROOT KVER args...
	r=$1 k=$2
	shift 2
	PATH="$tmp/bin:$PATH" "$KFORGE" --root "$r" -k "$k" "$@"
}
# installed ROOT KVER: dummy in updates/ as .ko.xz with CRC32 checks, read by modinfo (libkmod),
# vermagic exactly KVER, listed by depmod
installed() {
	ko=$1/usr/lib/modules/$2/updates/dummy.ko.xz
	[ -f "$ko" ] && xz --robot --list "$ko" | grep -q "CRC32" &&
		[ "$(modinfo -F description "$ko")" = "fedora fixture dummy" ] &&
		[ "$(modinfo -F vermagic "$ko" | cut -d' ' -f1)" = "$2" ] &&
		grep -q "^updates/dummy.ko.xz:" "$1/usr/lib/modules/$2/modules.dep"
}
ere() { printf '%s' "$1" | sed 's/[.+]/\\&/g'; } # a release as an extended regular expression
inst() { # FIXTURE KVER WANT (the initramfs command the shim must record)
	mkroot "$1" "$2" || { not_ok "$1 $2: kernel-devel layout"; return; }
	echo "usr/lib/modules/$2/updates/dummy.ko.xz" >"$root/boot/initramfs-$2.img"
	: >"$KFORGE_SHIM_LOG"
	kf "$root" "$2" install dummy --source "$tmp/src" --strategy headers >"$tmp/out" 2>&1
	rc=$?
	if [ $rc -eq 0 ] && installed "$root" "$2" && grep -qxF "$3" "$KFORGE_SHIM_LOG" &&
		[ "$(grep -cv '^ls' "$KFORGE_SHIM_LOG")" -eq 1 ] &&
		kf "$root" "$2" status | grep -qE "^$(ere "$2") +dummy +ok +.* /usr/lib/modules/$(ere "$2")/updates/dummy.ko.xz\$"; then
		ok "install $1 $2: .ko.xz (CRC32) in updates/, vermagic exact, depmod, status ok, \`$3\` recorded"
	else
		not_ok "install $1 $2: .ko.xz (CRC32) in updates/, vermagic exact, depmod, status ok, \`$3\` recorded"
		echo "# exit $rc"
		sed 's/^/# shim: /' "$KFORGE_SHIM_LOG"
		sed 's/^/# /' "$tmp/out"
	fi
}
inst fedora39 $K39 "dracut -f --kver $K39"
inst fedora40 $K40 "kernel-install add $K40 /usr/lib/modules/$K40/vmlinuz"
inst fedora40 $K40+debug "kernel-install add $K40+debug /usr/lib/modules/$K40+debug/vmlinuz"
inst fedora-rawhide $KRH "kernel-install add $KRH /usr/lib/modules/$KRH/vmlinuz"

# no dummy in the image (only other modules): lsinitrd asked, no generator run
root=$tmp/fedora39
echo "usr/lib/modules/$K39/kernel/drivers/block/loop.ko.xz" >"$root/boot/initramfs-$K39.img"
: >"$KFORGE_SHIM_LOG"
kf "$root" $K39 install dummy --source "$tmp/src" --strategy headers >"$tmp/out" 2>&1
check "fedora39: no dummy in the image: lsinitrd asked, dracut not run" sh -c '
	[ $1 -eq 0 ] && grep -q "^lsinitrd .*/boot/initramfs-$2.img\$" "$3" && ! grep -q "^dracut" "$3"' _ $? $K39 "$KFORGE_SHIM_LOG"

# akmods' key pair (kmodgenca's paths): found and used to sign
root=$tmp/fedora39
mkdir -p "$root/etc/pki/akmods/private" "$root/etc/pki/akmods/certs"
openssl req -new -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=akmods test key/" -outform DER \
	-keyout "$root/etc/pki/akmods/private/private_key.priv" -out "$root/etc/pki/akmods/certs/public_key.der" >/dev/null 2>&1
kf "$root" $K39 install dummy --source "$tmp/src" --strategy headers >"$tmp/out" 2>&1
check "fedora39: akmods' key pair under /etc/pki/akmods signs the module (modinfo names its signer)" sh -c '
	[ $1 -eq 0 ] && [ "$(modinfo -F signer "$2")" = "akmods test key" ] || { cat "$3"; false; }' _ $? \
	"$root/usr/lib/modules/$K39/updates/dummy.ko.xz" "$tmp/out"

# ---- RHEL family: symvers ----
# the fixture's symvers (other CRCs than the synth build dir's Module.symvers): refused, both named
mkroot rocky9 $K9
root9=$root
kf "$root9" $K9 install dummy --source "$tmp/src" --strategy headers >"$tmp/out" 2>"$tmp/err"
rc=$?
check "rocky9: kernel-devel's Module.symvers and /boot/symvers-KVER.xz disagree on _printk: refused (exit 5) naming both" sh -c '
	[ $1 -eq 5 ] && grep -q "refused dummy.ko: symbol _printk has CRC 0x[0-9a-f]* in /usr/src/kernels/$2/Module.symvers but 0x1b8fcf65 in /boot/symvers-$2.xz" "$3" &&
	! [ -e "$4/usr/lib/modules/$2/updates/dummy.ko.xz" ] || { cat "$3"; false; }' _ $rc $K9 "$tmp/err" "$root9"
# the package's symvers as the real one: the build dir's own, compressed (xz) in both places
xz -c --check=crc32 "$root9/usr/src/kernels/$K9/Module.symvers" >"$root9/boot/symvers-$K9.xz"
cp "$root9/boot/symvers-$K9.xz" "$root9/usr/lib/modules/$K9/symvers.xz"
echo "usr/lib/modules/$K9/updates/dummy.ko.xz" >"$root9/boot/initramfs-$K9.img"
: >"$KFORGE_SHIM_LOG"
kf "$root9" $K9 install dummy --source "$tmp/src" --strategy headers >"$tmp/out" 2>&1
rc=$?
check "rocky9: symvers.xz agrees: installed, CRCs checked against both, kernel-install recorded" sh -c '
	[ $1 -eq 0 ] && grep -q "symbol CRCs match and agree with /boot/symvers-$2.xz" "$3" &&
	grep -qx "kernel-install add $2 /usr/lib/modules/$2/vmlinuz" "$4" || { cat "$3"; false; }' _ $rc $K9 "$tmp/out" "$KFORGE_SHIM_LOG"
check "rocky9: .ko.xz in updates/, vermagic exact, modversions CRCs inside" sh -c '
	installed() { ko=$1/usr/lib/modules/$2/updates/dummy.ko.xz; [ -f "$ko" ] && [ "$(modinfo -F vermagic "$ko" | cut -d" " -f1)" = "$2" ]; }
	installed "$1" "$2" && modprobe --dump-modversions "$1/usr/lib/modules/$2/updates/dummy.ko.xz" | grep -q "_printk"' _ "$root9" $K9
# kernel-devel without Module.symvers: the CRCs come from symvers.xz (modpost and the gate)
mv "$root9/usr/src/kernels/$K9/Module.symvers" "$tmp/Module.symvers.$K9"
want=$(awk '$2 == "_printk" { print $1 }' "$tmp/Module.symvers.$K9")
kf "$root9" $K9 install dummy --source "$tmp/src" --strategy headers >"$tmp/out" 2>&1
rc=$?
got=$(modprobe --dump-modversions "$root9/usr/lib/modules/$K9/updates/dummy.ko.xz" 2>/dev/null | awk '$2 == "_printk" { print $1 }')
check "rocky9: no Module.symvers in kernel-devel: built and checked with symvers.xz's CRCs (_printk $want)" sh -c '
	[ $1 -eq 0 ] && [ -n "$2" ] && [ $(($2)) -eq $(($3)) ] && grep -q "validated dummy.ko.*symbol CRCs match" "$4" || { cat "$4"; false; }' \
	_ $rc "$want" "${got:-0}" "$tmp/out"
# the full strategy, kernel-devel without Module.symvers: modules_prepare's tree gets symvers.xz's
mini_tree "$tmp/el9" 5.14.0 "rhel dummy"
sed -i 's/^EXTRAVERSION =.*/EXTRAVERSION = -427.13.1.el9_4.x86_64/' "$tmp/el9/Makefile"
out=$(kf "$root9" $K9 plan dummy --source "$tmp/el9" --strategy full 2>&1)
check "rocky9 full strategy, no Module.symvers in kernel-devel: the plan decompresses /boot/symvers-KVER.xz for modpost" sh -c '
	printf "%s" "$1" | grep -q "Module.symvers: /boot/symvers-$2.xz decompressed" || { printf "%s\n" "$1"; false; }' _ "$out" $K9
# a damaged symvers.xz: refused naming it and the package
head -c 40 "$root9/boot/symvers-$K9.xz" >"$tmp/cut.xz" && cp "$tmp/cut.xz" "$root9/boot/symvers-$K9.xz"
kf "$root9" $K9 install dummy --source "$tmp/src" --strategy headers >"$tmp/out" 2>"$tmp/err"
check "rocky9: a damaged symvers.xz: exit 3 naming it and kernel-core" sh -c '
	[ $1 -eq 3 ] && grep -q "/boot/symvers-$2.xz cannot be read" "$3" && grep -q "kernel-core-$2" "$3" || { cat "$3"; false; }' \
	_ $? $K9 "$tmp/err"
cp "$root9/usr/lib/modules/$K9/symvers.xz" "$root9/boot/symvers-$K9.xz"
mv "$tmp/Module.symvers.$K9" "$root9/usr/src/kernels/$K9/Module.symvers"

# RHEL 8: symvers.gz
K8=4.18.0-513.5.1.el8_9.x86_64
mkroot rocky8 $K8
gzip -9cn "$root/usr/src/kernels/$K8/Module.symvers" >"$root/boot/symvers-$K8.gz"
echo "usr/lib/modules/$K8/kernel/drivers/net/dummy.ko.xz" >"$root/boot/initramfs-$K8.img"
kf "$root" $K8 install dummy --source "$tmp/src" --strategy headers >"$tmp/out" 2>&1
check "rocky8: CRCs cross-checked against /boot/symvers-KVER.gz; installed with vermagic exact" sh -c '
	[ $1 -eq 0 ] && grep -q "symbol CRCs match and agree with /boot/symvers-$2.gz" "$3" &&
	[ "$(modinfo -F vermagic "$4/usr/lib/modules/$2/updates/dummy.ko.xz" | cut -d" " -f1)" = "$2" ] || { cat "$3"; false; }' \
	_ $? $K8 "$tmp/out" "$root"

# ---- weak-updates ----
KB=5.14.0-362.8.1.el9_3.x86_64
wu=$root9/usr/lib/modules/$KB/weak-updates
check "rocky9: installing for $K9 linked nothing into $KB's weak-updates/" sh -c '[ -z "$(find "$1" -type l)" ]' "$wu"
# weak-modules --add-modules would link it (it uses /lib/modules/...): done by hand here, with a
# link of the same kind to another file, which is not kforge's
mkdir -p "$wu/drivers/net"
ln -s "/lib/modules/$K9/updates/dummy.ko.xz" "$wu/drivers/net/dummy.ko.xz"
ln -s "../../../$K9/kernel/drivers/net/dummy.ko.xz" "$wu/other.ko.xz"
kf "$root9" $K9 status >"$tmp/status" 2>&1
kf "$root9" $K9 status --json >"$tmp/status.json" 2>&1
check "status: the weak-updates link to kforge's file is shown (text and json), the other link is not" sh -c '
	grep -qxE " +linked from /usr/lib/modules/$2/weak-updates/drivers/net/dummy.ko.xz" "$1" && ! grep -q other.ko.xz "$1" &&
	jq -e --arg l "/usr/lib/modules/$2/weak-updates/drivers/net/dummy.ko.xz" "[.modules[] | select(.module == \"dummy\") | .weak_links] == [[\$l]]" "$3" >/dev/null ||
	{ cat "$1" "$3"; false; }' _ "$tmp/status" $KB "$tmp/status.json"
: >"$tmp/before-uninstall"
sleep 0.01 # not a result: the mtimes below must differ from the marker's at their resolution
kf "$root9" $K9 uninstall dummy >"$tmp/out" 2>&1
rc=$?
check "uninstall: removes the weak-updates link left pointing at nothing, keeps the other one, depmod for $KB" sh -c '
	[ $1 -eq 0 ] && ! [ -e "$2/drivers/net/dummy.ko.xz" ] && ! [ -L "$2/drivers/net/dummy.ko.xz" ] && [ -L "$2/other.ko.xz" ] &&
	grep -q "removed /usr/lib/modules/$3/weak-updates/drivers/net/dummy.ko.xz, which pointed at" "$4" &&
	[ "$5/usr/lib/modules/$3/modules.dep" -nt "$6" ] || { cat "$4"; false; }' _ $rc "$wu" $KB "$tmp/out" "$root9" \
	"$tmp/before-uninstall"

tap_done
