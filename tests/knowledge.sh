#!/bin/sh
# knowledge.sh: the distributions' knowledge as their plugins give it to the core's defaults
# (TAP): which package provides a build dir, which initramfs generator a root has and how it
# runs, where other tools keep signing keys, depmod's search order when the root's depmod.d says
# nothing; and that what a plugin leaves unsaid comes from the next plugin claiming the system.
set -u
NAME=knowledge
. "${top_srcdir:-$(dirname "$0")/..}/tests/suite.sh"

# the package that provides a release's build dir: each plugin's build_dir_hint
expect_fail "debian: linux-headers-KVER" 3 "no build directory for 6.1.0-57-amd64: install linux-headers-6.1.0-57-amd64;" \
	"$KFORGE" --root "$R/debian" -k 6.1.0-57-amd64 info
expect_fail "ubuntu: linux-headers-KVER" 3 "install linux-headers-6.8.0-52-generic;" \
	"$KFORGE" --root "$R/ubuntu" -k 6.8.0-52-generic info
expect_fail "fedora: kernel-devel-KVER and the dnf line" 3 \
	"install kernel-devel-6.5.7-300.fc39.x86_64, which provides /usr/src/kernels/6.5.7-300.fc39.x86_64 (dnf install kernel-devel-6.5.7-300.fc39.x86_64);" \
	"$KFORGE" --root "$R/fedora" -k 6.5.7-300.fc39.x86_64 info
expect_fail "fedora +debug: kernel-debug-devel-VER-REL.ARCH" 3 \
	"install kernel-debug-devel-6.5.7-300.fc39.x86_64, which provides /usr/src/kernels/6.5.7-300.fc39.x86_64+debug (dnf install kernel-debug-devel-6.5.7-300.fc39.x86_64);" \
	"$KFORGE" --root "$R/fedora" -k 6.5.7-300.fc39.x86_64+debug info
expect_fail "rocky 8: kernel-devel-VER-REL.ARCH and the dnf line" 3 \
	"install kernel-devel-4.18.0-513.9.1.el8_9.x86_64, which provides /usr/src/kernels/4.18.0-513.9.1.el8_9.x86_64 (dnf install kernel-devel-4.18.0-513.9.1.el8_9.x86_64);" \
	"$KFORGE" --root "$R/rocky" -k 4.18.0-513.9.1.el8_9.x86_64 info
# kernel-devel's folder there but damaged (its Makefile gone): the package is reinstalled, not installed
cp -a "$R/fedora" "$tmp/fedora-damaged"
rm "$tmp/fedora-damaged/usr/src/kernels/6.5.6-300.fc39.x86_64/Makefile"
expect_fail "fedora: /usr/src/kernels/KVER there but without its Makefile: dnf reinstall" 3 \
	"/usr/src/kernels/6.5.6-300.fc39.x86_64 is there but incomplete (no Makefile): reinstall kernel-devel-6.5.6-300.fc39.x86_64 (dnf reinstall kernel-devel-6.5.6-300.fc39.x86_64);" \
	"$KFORGE" --root "$tmp/fedora-damaged" -k 6.5.6-300.fc39.x86_64 info
expect_fail "fedora, a custom kernel no package builds: the core's general words" 3 \
	"no build directory for 6.6.2-custom: install this kernel's headers, or point --kernel at a kernel that has them;" \
	"$KFORGE" --root "$R/fedora" -k 6.6.2-custom info
cp -a "$R/arch" "$tmp/arch-lts"
mkdir -p "$tmp/arch-lts/usr/lib/modules/6.6.63-1-lts"
echo linux-lts >"$tmp/arch-lts/usr/lib/modules/6.6.63-1-lts/pkgbase"
expect_fail "arch: the headers of the kernel's package (pkgbase)" 3 "install linux-lts-headers (the headers of the linux-lts package);" \
	"$KFORGE" --root "$tmp/arch-lts" -k 6.6.63-1-lts info
expect_fail "arch, no pkgbase: the general words" 3 "install the headers package of this kernel (linux-headers for linux);" \
	"$KFORGE" --root "$R/arch" -k 6.6.2-arch1-1 info
expect_fail "a system no distribution plugin claims: the core's generic fix" 3 \
	"install this kernel's headers, or point --kernel at a kernel that has them;" \
	"$KFORGE" --root "$R/unknown" -k 6.6.2-custom info

# initramfs generators: found by the plugins' tables, run by the core's default step
plan() { "$KFORGE" --root "$1" -k "$2" plan "$srcdir/tests/src/hello" --json 2>"$tmp/err"; }
cp -a "$R/debian" "$tmp/debian-dracut"
rm "$tmp/debian-dracut/usr/sbin/update-initramfs"
rm -rf "$tmp/debian-dracut/etc/initramfs-tools"
mkdir -p "$tmp/debian-dracut/usr/bin" && : >"$tmp/debian-dracut/usr/bin/dracut"
p=$(plan "$tmp/debian-dracut" 6.1.0-56-amd64)
check "debian with dracut (Ubuntu 25.10): dracut -f --kver, the image lsinitrd reads is /boot/initrd.img-KVER" sh -c '
	printf "%s" "$1" | jq -e ".steps[6].plugin == \"core\" and ([.steps[6].actions[].command | select(.)] == [\"lsinitrd /boot/initrd.img-6.1.0-56-amd64\", \"dracut -f --kver 6.1.0-56-amd64\"])" ||
	{ printf "%s\n" "$1"; false; }' _ "$p"
cp -a "$R/unknown" "$tmp/unknown-dracut"
mkdir -p "$tmp/unknown-dracut/usr/sbin" && : >"$tmp/unknown-dracut/usr/sbin/dracut"
check "a system no distribution plugin claims, with dracut: vanilla's dracut, upstream's image" sh -c '
	"$1" --root "$2" -k 6.6.1-custom info --json | jq -e ".plugin == \"vanilla\" and .initramfs == \"dracut\"" >/dev/null &&
	"$1" --root "$2" -k 6.6.1-custom plan "$3/tests/src/hello" --json |
	jq -e "[.steps[6].actions[].command | select(.)] == [\"lsinitrd /boot/initramfs-6.6.1-custom.img\", \"dracut -f --kver 6.6.1-custom\"]"' \
	_ "$KFORGE" "$tmp/unknown-dracut" "$srcdir"
check "the arch plugin's mkinitcpio for a kernel no package names: its own image" sh -c '
	rm "$2/usr/lib/modules/6.6.1-arch1-1/pkgbase" &&
	"$1" --root "$2" -k 6.6.1-arch1-1 plan "$3/tests/src/hello" --json |
	jq -e "[.steps[6].actions[].command | select(.)] == [\"lsinitcpio /boot/initramfs-custom.img\", \"mkinitcpio -k 6.6.1-arch1-1 -g /boot/initramfs-custom.img\"]"' \
	_ "$KFORGE" "$(cp -a "$R/arch" "$tmp/arch-custom" && echo "$tmp/arch-custom")" "$srcdir"
check "forced onto a Debian root, vanilla still gets initramfs-tools from the debian plugin (the next that claims it)" sh -c '
	"$1" --root "$2" -k 6.1.0-56-amd64 --plugin vanilla info --json | jq -e ".plugin == \"vanilla\" and .initramfs == \"initramfs-tools\""' \
	_ "$KFORGE" "$R/debian"

. "$srcdir/tests/synth.sh"
if [ -z "$synth_host" ]; then
	skip "signing keys where the distribution's tools keep them" "no linux-headers-6.1.0-N-amd64 installed"
	skip "depmod's search order from the plugin when depmod.d says nothing" "no linux-headers-6.1.0-N-amd64 installed"
	tap_done
	exit $?
fi

# signing keys: akmods' is the fedora plugin's knowledge, not the debian plugin's
K=6.1.0-56-amd64
root=$tmp/akmods
cp -a "$R/debian" "$root"
synth "$root/usr/src/linux-headers-$K" "$K"
mkdir -p "$root/etc/pki/akmods/private" "$root/etc/pki/akmods/certs"
: >"$root/etc/pki/akmods/private/private_key.priv"
: >"$root/etc/pki/akmods/certs/public_key.der"
p=$("$KFORGE" --root "$root" -k "$K" plan "$srcdir/tests/src/hello" --json 2>"$tmp/err")
check "debian: akmods' key (Fedora's) is not looked for" sh -c '
	printf "%s" "$1" | jq -e "[.steps[5].actions[].note] | any(. != null and test(\"^not signed: .* no key was found\"))"' _ "$p"
p=$("$KFORGE" --root "$root" -k "$K" --plugin fedora plan "$srcdir/tests/src/hello" --json 2>"$tmp/err")
check "fedora: akmods' key pair is found and used" sh -c '
	printf "%s" "$1" | jq -e "[.steps[5].actions[].note] | any(. != null and test(\"/etc/pki/akmods/private/private_key.priv /etc/pki/akmods/certs/public_key.der\"))"' _ "$p"
mkdir -p "$root/var/lib/dkms"
: >"$root/var/lib/dkms/mok.key"
: >"$root/var/lib/dkms/mok.pub"
p=$("$KFORGE" --root "$root" -k "$K" plan "$srcdir/tests/src/hello" --json 2>"$tmp/err")
check "debian: DKMS's key pair is found" sh -c '
	printf "%s" "$1" | jq -e "[.steps[5].actions[].note] | any(. != null and test(\"/var/lib/dkms/mok.key /var/lib/dkms/mok.pub\"))"' _ "$p"
mkdir -p "$root/var/lib/kforge/mok"
: >"$root/var/lib/kforge/mok/MOK.priv"
: >"$root/var/lib/kforge/mok/MOK.der"
p=$("$KFORGE" --root "$root" -k "$K" plan "$srcdir/tests/src/hello" --json 2>"$tmp/err")
check "kforge's own key (the core's) comes before any plugin's" sh -c '
	printf "%s" "$1" | jq -e "[.steps[5].actions[].note] | any(. != null and test(\"/var/lib/kforge/mok/MOK.priv /var/lib/kforge/mok/MOK.der\"))"' _ "$p"

# depmod's search order: Arch's depmod.d (updates extramodules built-in) when the root has none
K=6.6.1-arch1-1
printf '[install]\ninitramfs = never\n' >"$tmp/never.conf"
cp -r "$srcdir/tests/src/hello" "$tmp/hello"
for case in plugin depmod.d; do
	root=$tmp/arch-$case
	cp -a "$R/arch" "$root"
	# the fixture has Arch's kmod search.conf: without it the plugin's order is what applies
	rm -r "$root/usr/lib/depmod.d"
	synth "$root/usr/lib/modules/$K/build" "$K"
	mkdir -p "$root/usr/lib/modules/$K/misc"
	echo other >"$root/usr/lib/modules/$K/misc/hello.ko.zst"
	[ $case = plugin ] || { mkdir -p "$root/etc/depmod.d" && echo "search updates built-in" >"$root/etc/depmod.d/search.conf"; }
	KFORGE_SYSTEM_CONFIG=$tmp/never.conf "$KFORGE" --root "$root" -k "$K" -q install "$tmp/hello" --install-dir extramodules \
		>"$tmp/out-$case" 2>&1 || { echo "# install failed:"; sed 's/^/# /' "$tmp/out-$case"; }
done
check "arch, no depmod.d: extramodules/ ranks above misc/ (the plugin's order): misc/hello stays" sh -c '
	[ -f "$1/usr/lib/modules/$2/extramodules/hello.ko.zst" ] && [ "$(cat "$1/usr/lib/modules/$2/misc/hello.ko.zst")" = other ]' \
	_ "$tmp/arch-plugin" "$K"
check "arch with a depmod.d search line (updates built-in): the root's own order wins, misc/hello is moved aside" sh -c '
	[ -f "$1/usr/lib/modules/$2/extramodules/hello.ko.zst" ] && [ ! -e "$1/usr/lib/modules/$2/misc/hello.ko.zst" ]' \
	_ "$tmp/arch-depmod.d" "$K"
tap_done
