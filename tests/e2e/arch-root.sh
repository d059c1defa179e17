#!/bin/sh
# arch-root.sh: a fixture Arch root for `kforge --root`, around a real kernel that kernels.sh built
# (default its arch case, 6.1.192-arch1-1), laid out as an Arch system that installed the packages
# linux and linux-headers has it:
#   etc/os-release -> ../usr/lib/os-release (ID=arch); lib, lib64 -> usr/lib; bin, sbin -> usr/bin
#   usr/lib/modules/RELEASE/  the kernel's own modules (.ko.zst, modules.dep), pkgbase, vmlinuz,
#                             build/: a real directory (a copy of the cached headers dir, as the
#                             linux-headers package installs it: no link that --root would resolve)
#   var/lib/pacman/local/PKGBASE-PKGVER/desc (and -headers), in pacman's local database format
#   etc/mkinitcpio.conf, etc/mkinitcpio.d/PKGBASE.preset, usr/bin/mkinitcpio (what kforge probes),
#   boot/vmlinuz-PKGBASE and the preset's images (empty, or listing --image-holds)
#   usr/lib/depmod.d/search.conf "search updates extramodules built-in" (kmod's package ships it
#   there), and etc/depmod.d/search.conf too with --depmod-etc
# Beside the root, DIR.bin holds the shims to put first on PATH: mkinitcpio, lsinitcpio and booster
# are tests/shim/initramfs-tool, which appends each call (its argv) to $KFORGE_SHIM_LOG.
#
# Usage: tests/e2e/arch-root.sh --root DIR [--paths FILE] [--case arch] [--pkgbase linux]
#          [--pkgver 6.1.192.arch1-1] [--image-holds REL]... [--depmod-etc] [--link-build]
# --link-build makes build/ of hard links to the cached files (instant; for cases that only read
# it: kforge's builds write into their own trees) instead of a copy (~90 MB, seconds to half a
# minute on a loaded machine).
# --paths is kernels.sh's output (default $KFORGE_E2E_CACHE/kernels/paths.sh). Prints ROOT, KVER,
# SHIM_DIR as shell assignments.
# shellcheck disable=SC2154 # mods, build, kernel are set by an eval below
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
E=${KFORGE_E2E_CACHE:-/var/cache/kforge-e2e}
paths=$E/kernels/paths.sh
root='' case=arch pkgbase=linux pkgver='' holds='' depmod_etc='' link=''
while [ $# -gt 0 ]; do
	case $1 in
	--root) root=$2; shift 2 ;;
	--paths) paths=$2; shift 2 ;;
	--case) case=$2; shift 2 ;;
	--pkgbase) pkgbase=$2; shift 2 ;;
	--pkgver) pkgver=$2; shift 2 ;;
	--image-holds) holds="$holds$2
"; shift 2 ;;
	--depmod-etc) depmod_etc=1; shift ;;
	--link-build) link=1; shift ;;
	*) echo "usage: $0 --root DIR [--paths FILE] [--case arch] [--pkgbase NAME] [--pkgver VER-REL] [--image-holds REL]... [--depmod-etc] [--link-build]" >&2
		exit 2 ;;
	esac
done
[ -n "$root" ] || { echo "arch-root.sh: --root DIR is required" >&2; exit 2; }
[ -f "$paths" ] || { echo "arch-root.sh: $paths: no such file: run tests/e2e/kernels.sh first" >&2; exit 1; }
# shellcheck disable=SC1090 # kernels.sh's output
. "$paths"
eval "kver=\${RELEASE_$case:-} mods=\${MODULES_$case:-} build=\${BUILD_$case:-} kernel=\${KERNEL_$case:-}"
[ -n "$kver" ] || { echo "arch-root.sh: $paths names no kernel $case" >&2; exit 1; }
# the package's version: 6.1.192-arch1-1 was built from pkgver 6.1.192.arch1, pkgrel 1
[ -n "$pkgver" ] || pkgver=$(echo "$kver" | sed 's/^\([0-9.]*\)-\([^-]*\)-\([0-9]*\)$/\1.\2-\3/')

rm -rf "$root"
mkdir -p "$root/etc/mkinitcpio.d" "$root/usr/lib/modules" "$root/usr/bin" "$root/boot" \
	"$root/usr/lib/depmod.d" "$root/var/lib/pacman/local"
ln -s usr/lib "$root/lib"
ln -s usr/lib "$root/lib64"
ln -s usr/bin "$root/bin"
ln -s usr/bin "$root/sbin"
ln -s bin "$root/usr/sbin"
cat >"$root/usr/lib/os-release" <<'EOF'
NAME="Arch Linux"
PRETTY_NAME="Arch Linux"
ID=arch
BUILD_ID=rolling
ANSI_COLOR="38;2;23;147;209"
HOME_URL="https://archlinux.org/"
DOCUMENTATION_URL="https://wiki.archlinux.org/"
SUPPORT_URL="https://bbs.archlinux.org/"
BUG_REPORT_URL="https://gitlab.archlinux.org/groups/archlinux/-/issues"
LOGO=archlinux-logo
EOF
ln -s ../usr/lib/os-release "$root/etc/os-release"

# the kernel package: modules, pkgbase, vmlinuz; the headers package: build/
m=$root/usr/lib/modules/$kver
cp -a "$mods/lib/modules/$kver" "$m"
echo "$pkgbase" >"$m/pkgbase"
cp "$kernel" "$m/vmlinuz"
if [ -n "$link" ]; then cp -al "$build" "$m/build"; else cp -a "$build" "$m/build"; fi
cp "$kernel" "$root/boot/vmlinuz-$pkgbase"

echo 'search updates extramodules built-in' >"$root/usr/lib/depmod.d/search.conf"
if [ -n "$depmod_etc" ]; then
	mkdir -p "$root/etc/depmod.d"
	echo 'search updates extramodules built-in' >"$root/etc/depmod.d/search.conf"
fi

# mkinitcpio: its configuration, the package's preset, the images it names
: >"$root/usr/bin/mkinitcpio"
chmod +x "$root/usr/bin/mkinitcpio"
printf 'MODULES=()\nBINARIES=()\nFILES=()\nHOOKS=(base udev autodetect microcode modconf kms keyboard keymap consolefont block filesystems fsck)\n' \
	>"$root/etc/mkinitcpio.conf"
cat >"$root/etc/mkinitcpio.d/$pkgbase.preset" <<EOF
# mkinitcpio preset file for the '$pkgbase' package

ALL_kver="/boot/vmlinuz-$pkgbase"

PRESETS=('default' 'fallback')

default_image="/boot/initramfs-$pkgbase.img"

fallback_image="/boot/initramfs-$pkgbase-fallback.img"
fallback_options="-S autodetect"
EOF
for img in "initramfs-$pkgbase.img" "initramfs-$pkgbase-fallback.img"; do
	printf '%s' "$holds" >"$root/boot/$img"
done

# pacman's local database: the two packages the kernel came from
db() { # name desc files...
	n=$1 desc=$2
	shift 2
	e=$root/var/lib/pacman/local/$n-$pkgver
	mkdir -p "$e"
	{
		printf '%%NAME%%\n%s\n\n%%VERSION%%\n%s\n\n%%BASE%%\n%s\n\n' "$n" "$pkgver" "$pkgbase"
		printf '%%DESC%%\n%s\n\n%%URL%%\nhttps://github.com/archlinux/linux\n\n%%ARCH%%\nx86_64\n\n' "$desc"
		printf '%%BUILDDATE%%\n1761955200\n\n%%INSTALLDATE%%\n1761958800\n\n'
		printf '%%PACKAGER%%\nkforge e2e <kforge-e2e@localhost>\n\n%%SIZE%%\n%s\n\n' "$(du -sb --exclude=build "$m" | cut -f1)"
		printf '%%LICENSE%%\nGPL-2.0-only\n\n%%VALIDATION%%\npgp\n\n'
		case $n in
		*-headers) printf '%%DEPENDS%%\npahole\n\n' ;;
		*) printf '%%DEPENDS%%\ncoreutils\ninitramfs\nkmod\n\n' ;;
		esac
	} >"$e/desc"
	{
		printf '%%FILES%%\n'
		for f; do printf '%s\n' "$f"; done
		printf '\n'
	} >"$e/files"
}
echo 9 >"$root/var/lib/pacman/local/ALPM_DB_VERSION"
db "$pkgbase" "The Linux kernel and modules" usr/ usr/lib/ usr/lib/modules/ "usr/lib/modules/$kver/" \
	"usr/lib/modules/$kver/pkgbase" "usr/lib/modules/$kver/vmlinuz" "usr/lib/modules/$kver/modules.dep"
db "$pkgbase-headers" "Headers and scripts for building modules for the Linux kernel" usr/ usr/lib/ usr/lib/modules/ \
	"usr/lib/modules/$kver/" "usr/lib/modules/$kver/build/" "usr/lib/modules/$kver/build/Makefile" \
	"usr/lib/modules/$kver/build/.config" "usr/lib/modules/$kver/build/Module.symvers"

# the shims, beside the root
shim=$root.bin
rm -rf "$shim"
mkdir -p "$shim"
for t in mkinitcpio lsinitcpio booster; do
	ln -s "$top/tests/shim/initramfs-tool" "$shim/$t"
done

echo "ROOT=$root"
echo "KVER=$kver"
echo "SHIM_DIR=$shim"
