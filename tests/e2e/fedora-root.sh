#!/bin/sh
# fedora-root.sh: a fixture Fedora 39 root for `kforge --root`, around the real kernel kernels.sh
# built as its fedora case (6.1.192-300.fc39.x86_64), laid out as a Fedora system that installed
# kernel-core, kernel-modules and kernel-devel has it:
#   etc/os-release -> ../usr/lib/os-release (ID=fedora, VERSION_ID=39); lib, lib64 -> usr/lib,
#   usr/lib64; bin -> usr/bin; sbin -> usr/sbin
#   usr/lib/modules/KVER/   the kernel's own modules (.ko.xz, modules.dep), vmlinuz, config,
#                           System.map, symvers.xz (kernel-core's), and the link build ->
#                           ../../../../usr/src/kernels/KVER (it lives in usr/lib/modules/KVER:
#                           lib is a link to usr/lib, so four levels up is the root; --build-link
#                           abs: /usr/src/kernels/KVER, the absolute link Fedora's kernel-core
#                           ships, which --root must resolve inside the root), source -> build
#   usr/src/kernels/KVER/   kernel-devel: a copy of the cached devel dir (a real directory)
#   boot/vmlinuz-KVER, config-KVER, System.map-KVER, symvers-KVER.xz, and initramfs-KVER.img
#                           (empty, or lsinitrd's listing of each --image-holds path)
#   etc/dracut.conf, etc/dracut.conf.d/, usr/bin/dracut (what kforge probes); no
#   etc/kernel/install.conf and no boot/loader/entries: dracut itself refreshes the image
# Beside the root, DIR.bin holds the shims to put first on PATH: dracut and lsinitrd are
# tests/shim/initramfs-tool, which appends each call (its argv) to $KFORGE_SHIM_LOG; lsinitrd
# prints the image file, which holds the listing.
#
# Usage: tests/e2e/fedora-root.sh --root DIR [--paths FILE] [--image-holds REL]... [--link-build]
#          [--build-link rel|abs]
# --link-build makes the kernel-devel dir of hard links to the cached files (instant; for cases
# that only read it) instead of a copy.
# --paths is kernels.sh's output (default $KFORGE_E2E_CACHE/kernels/paths.sh). Prints ROOT, KVER,
# SHIM_DIR as shell assignments.
# shellcheck disable=SC2154 # RELEASE_fedora... come from kernels.sh's paths.sh
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
E=${KFORGE_E2E_CACHE:-/var/cache/kforge-e2e}
paths=$E/kernels/paths.sh
root='' holds='' link='' blink=rel
while [ $# -gt 0 ]; do
	case $1 in
	--root) root=$2; shift 2 ;;
	--paths) paths=$2; shift 2 ;;
	--image-holds) holds="$holds$2
"; shift 2 ;;
	--link-build) link=1; shift ;;
	--build-link) blink=$2; shift 2 ;;
	*) echo "usage: $0 --root DIR [--paths FILE] [--image-holds REL]... [--link-build] [--build-link rel|abs]" >&2
		exit 2 ;;
	esac
done
[ -n "$root" ] || { echo "fedora-root.sh: --root DIR is required" >&2; exit 2; }
case $blink in rel | abs) ;; *) echo "fedora-root.sh: --build-link rel or abs, not $blink" >&2; exit 2 ;; esac
[ -f "$paths" ] || { echo "fedora-root.sh: $paths: no such file: run tests/e2e/kernels.sh first" >&2; exit 1; }
# shellcheck disable=SC1090 # kernels.sh's output
. "$paths"
kver=${RELEASE_fedora:-}
[ -n "$kver" ] || { echo "fedora-root.sh: $paths names no fedora kernel: kernels.sh predates it" >&2; exit 1; }
mods=$MODULES_fedora devel=$BUILD_fedora kernel=$KERNEL_fedora

rm -rf "$root"
mkdir -p "$root/etc/dracut.conf.d" "$root/usr/lib/modules" "$root/usr/lib64" "$root/usr/bin" "$root/usr/sbin" \
	"$root/usr/src/kernels" "$root/boot"
ln -s usr/lib "$root/lib"
ln -s usr/lib64 "$root/lib64"
ln -s usr/bin "$root/bin"
ln -s usr/sbin "$root/sbin"
cat >"$root/usr/lib/os-release" <<'EOF'
NAME="Fedora Linux"
VERSION="39 (Server Edition)"
ID=fedora
VERSION_ID=39
VERSION_CODENAME=""
PLATFORM_ID="platform:f39"
PRETTY_NAME="Fedora Linux 39 (Server Edition)"
ANSI_COLOR="0;38;2;60;110;180"
LOGO=fedora-logo-icon
CPE_NAME="cpe:/o:fedoraproject:fedora:39"
HOME_URL="https://fedoraproject.org/"
DOCUMENTATION_URL="https://docs.fedoraproject.org/en-US/fedora/f39/system-administrators-guide/"
SUPPORT_URL="https://ask.fedoraproject.org/"
BUG_REPORT_URL="https://bugzilla.redhat.com/"
REDHAT_BUGZILLA_PRODUCT="Fedora"
REDHAT_BUGZILLA_PRODUCT_VERSION=39
REDHAT_SUPPORT_PRODUCT="Fedora"
REDHAT_SUPPORT_PRODUCT_VERSION=39
SUPPORT_END=2024-11-12
VARIANT="Server Edition"
VARIANT_ID=server
EOF
ln -s ../usr/lib/os-release "$root/etc/os-release"

# kernel-devel
d=$root/usr/src/kernels/$kver
if [ -n "$link" ]; then cp -al "$devel" "$d"; else cp -a "$devel" "$d"; fi

# kernel-core and kernel-modules
m=$root/usr/lib/modules/$kver
cp -a "$mods/lib/modules/$kver" "$m"
cp "$kernel" "$m/vmlinuz"
cp "$devel/.config" "$m/config"
cp "$devel/System.map" "$m/System.map"
xz -c --check=crc32 "$devel/Module.symvers" >"$m/symvers.xz"
case $blink in
rel) ln -s "../../../../usr/src/kernels/$kver" "$m/build" ;;
abs) ln -s "/usr/src/kernels/$kver" "$m/build" ;;
esac
ln -s build "$m/source"
cp "$kernel" "$root/boot/vmlinuz-$kver"
cp "$devel/.config" "$root/boot/config-$kver"
cp "$devel/System.map" "$root/boot/System.map-$kver"
cp "$m/symvers.xz" "$root/boot/symvers-$kver.xz"

# dracut: its configuration and the image it made, listed the way lsinitrd lists it
: >"$root/usr/bin/dracut"
chmod +x "$root/usr/bin/dracut"
printf '# PUT YOUR CONFIG IN separate files\n# in /etc/dracut.conf.d named "<name>.conf"\n' >"$root/etc/dracut.conf"
printf '%s' "$holds" | while IFS= read -r f; do
	[ -n "$f" ] || continue
	printf -- '-rw-r--r--   1 root     root         4096 Nov  1 00:00 %s\n' "$f"
done >"$root/boot/initramfs-$kver.img"

# the shims, beside the root
shim=$root.bin
rm -rf "$shim"
mkdir -p "$shim"
for t in dracut lsinitrd; do
	ln -s "$top/tests/shim/initramfs-tool" "$shim/$t"
done

echo "ROOT=$root"
echo "KVER=$kver"
echo "SHIM_DIR=$shim"
