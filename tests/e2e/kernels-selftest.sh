#!/bin/sh
# e2e/kernels-selftest.sh: the fixtures of kernels.sh and arch-root.sh, and the boot harness of
# lib.sh, proved with no kforge involved (TAP). For each kernel kernels.sh built (arch
# 6.1.192-arch1-1, custom 6.1.192-custom, git 6.1.192, gitauto 6.1.192-00001-gHASH, fedora
# 6.1.192-300.fc39.x86_64): its release, its config, dummy built as an external module against its
# build dir (`make -C BUILD M=DIR`), compressed as the kernel's own modules are (zstd; fedora: xz)
# into updates/ beside them, depmod, the kernel booted under qemu: it loads that very file, whose
# vermagic is the release. Then the stand-ins (HTTP folder, packaging repository, git repository,
# the Fedora SRPM) and the fixture Arch and Fedora roots, whose build dirs build the module too.
# shellcheck disable=SC1090,SC2154 # kernels.sh's paths.sh, and the variables an eval sets from it
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
e2e_name=kernels-selftest
. "$top/tests/e2e/lib.sh"

e2e_kernels details

# dummy.c of TREE built against BUILD as an external module in DIR
build_dummy() { # tree build dir
	mkdir -p "$3"
	cp "$1/drivers/net/dummy.c" "$3/"
	echo 'obj-m := dummy.o' >"$3/Kbuild"
	nice -n 5 make -C "$2" M="$3" -j"$(nproc)" modules >"$3/make.log" 2>&1
}

# case|release|compression
while IFS='|' read -r c want z; do
	[ -n "$c" ] || continue
	case " $CASES " in *" $c "*) ;; *) echo "# $c: not built (KFORGE_E2E_KERNELS)"; continue ;; esac
	case $z in zst) zcfg=ZSTD zcmd='zstd -q' ;; xz) zcfg=XZ zcmd='xz --check=crc32' ;; esac
	eval "rel=\$RELEASE_$c kernel=\$KERNEL_$c mods=\$MODULES_$c build=\$BUILD_$c tree=\$TREE_$c"
	uts=$(sed -n 's/^#define UTS_RELEASE "\(.*\)"$/\1/p' "$build/include/generated/utsrelease.h")
	if [ "$rel" = "$want" ] && [ "$uts" = "$want" ] && [ "$(cat "$build/include/config/kernel.release")" = "$want" ] &&
		[ -d "$mods/lib/modules/$want/kernel" ]; then
		ok "$c: released as $want (kernel.release, utsrelease.h, lib/modules/$want)"
	else
		not_ok "$c: released as $want (kernel.release, utsrelease.h, lib/modules/$want)"
		echo "# paths.sh says $rel, utsrelease.h $uts"
	fi
	check "$c: .config: no MODVERSIONS, no MODULE_SIG, $z modules, dummy a module" sh -c '
		! grep -q "^CONFIG_MODVERSIONS=y" "$1" && ! grep -q "^CONFIG_MODULE_SIG=y" "$1" &&
		grep -qx "CONFIG_MODULE_COMPRESS_$3=y" "$1" && grep -qx "CONFIG_DUMMY=m" "$1" &&
		[ -n "$(find "$2" -name "*.ko.$4")" ] && [ -z "$(find "$2" -name "*.ko")" ] &&
		[ -z "$(find "$2" -name "*.ko.*" ! -name "*.ko.$4")" ]' _ "$build/.config" "$mods" "$zcfg" "$z"
	m=$work/dummy-$c
	if build_dummy "$tree" "$build" "$m" && vm=$(modinfo -F vermagic "$m/dummy.ko") && [ "${vm%% *}" = "$want" ]; then
		ok "$c: dummy built with make -C $build M=..., vermagic \"$vm\""
	else
		not_ok "$c: dummy built with make -C $build M=..., vermagic starts with $want"
		tail -n 20 "$m/make.log" | sed 's/^/# /'
		skip "$c: boot" "no module"
		continue
	fi
	d=$work/mods-$c
	mkdir -p "$d/lib/modules/$want/updates"
	cp -a "$mods/lib/modules/$want/." "$d/lib/modules/$want/"
	$zcmd -c "$m/dummy.ko" >"$d/lib/modules/$want/updates/dummy.ko.$z"
	depmod -b "$d" "$want"
	expect_loaded "$c" "$want" "$d" "$(boot_kernel "$kernel" "$want" "$d" dummy)" dummy \
		"/lib/modules/$want/updates/dummy.ko.$z" "the module built against its build dir"
done <<CASES
arch|6.1.192-arch1-1|zst
custom|6.1.192-custom|zst
git|6.1.192|zst
gitauto|6.1.192-00001-g$(echo "$GIT_COMMIT" | cut -c1-12)|zst
fedora|6.1.192-300.fc39.x86_64|xz
CASES

# without MODVERSIONS the release must match exactly: the module built for 6.1.192-custom, same
# source and config, is refused by 6.1.192-arch1-1
d=$work/mods-mismatch
mkdir -p "$d/lib/modules/$RELEASE_arch/updates"
cp -a "$MODULES_arch/lib/modules/$RELEASE_arch/." "$d/lib/modules/$RELEASE_arch/"
if [ -f "$work/dummy-custom/dummy.ko" ]; then
	zstd -q "$work/dummy-custom/dummy.ko" -o "$d/lib/modules/$RELEASE_arch/updates/dummy.ko.zst"
	depmod -b "$d" "$RELEASE_arch"
	report=$(boot_kernel "$KERNEL_arch" "$RELEASE_arch" "$d" dummy)
	if printf '%s\n' "$report" | grep -q "^KFORGE-BOOTED $RELEASE_arch\$" &&
		printf '%s\n' "$report" | grep -q "^KFORGE-FAILED dummy: .*Exec format error" &&
		[ "$(modinfo -F vermagic "$work/dummy-custom/dummy.ko")" = "$RELEASE_custom mod_unload " ]; then
		ok "arch: a dummy built for $RELEASE_custom is refused by $RELEASE_arch (Exec format error: its vermagic)"
	else
		not_ok "arch: a dummy built for $RELEASE_custom is refused by $RELEASE_arch (Exec format error: its vermagic)"
		printf '%s\n' "$report" | sed 's/^/# guest: /'
	fi
else
	skip "arch: a dummy built for $RELEASE_custom is refused" "no custom build"
fi

# the Arch patch reached the module: its modinfo field
check "arch: the module built from the patched tree carries the stand-in patch's modinfo" sh -c '
	[ "$(modinfo -F archpatch "$1")" = v6.1.192-arch1 ]' _ "$work/dummy-arch/dummy.ko"
check "arch: the headers dir is a real directory with what Arch's linux-headers holds" sh -c '
	b=$1; [ -d "$b" ] && [ ! -L "$b" ] && for f in .config Makefile Module.symvers System.map vmlinux version \
		localversion.10-pkgrel kernel/Makefile arch/x86/Makefile scripts/mod/modpost include/generated/utsrelease.h \
		arch/x86/include/generated/uapi/asm/unistd_64.h Kconfig; do
		[ -e "$b/$f" ] || { echo "no $f"; exit 1; }
	done; [ "$(cat "$b/version")" = 6.1.192-arch1-1 ]' _ "$BUILD_arch"

# the stand-ins
h=$STANDIN_HTTP_DIR
check "stand-in HTTP folder: linux-6.1.192.tar.xz is Debian's tarball (not a copy), the patch decompresses" sh -c '
	[ "$(stat -L -c %i "$1/linux-6.1.192.tar.xz")" = "$(stat -L -c %i /usr/src/linux-source-6.1.tar.xz)" ] &&
	zstd -dc "$1/linux-v6.1.192-arch1.patch.zst" | grep -qx "+EXTRAVERSION = -arch1"' _ "$h"
git --git-dir="$PACKAGING_REPO" show "$PACKAGING_TAG:.SRCINFO" >"$work/srcinfo" 2>&1
check "packaging repository: tag $PACKAGING_TAG (annotated) holds PKGBUILD, .SRCINFO, config" sh -c '
	[ "$(git --git-dir="$1" cat-file -t "$2")" = tag ] &&
	[ "$(git --git-dir="$1" ls-tree --name-only "$2" | tr "\n" " ")" = ".SRCINFO PKGBUILD config " ]' _ "$PACKAGING_REPO" "$PACKAGING_TAG"
check ".SRCINFO: pkgver, pkgrel, the real URLs, sums of the stand-in files" sh -c '
	s=$1 h=$2
	grep -qxF "	pkgver = 6.1.192.arch1" "$s" && grep -qxF "	pkgrel = 1" "$s" &&
	grep -qxF "	source = https://cdn.kernel.org/pub/linux/kernel/v6.x/linux-6.1.192.tar.xz" "$s" &&
	grep -qxF "	source = https://github.com/archlinux/linux/releases/download/v6.1.192-arch1/linux-v6.1.192-arch1.patch.zst" "$s" &&
	grep -qxF "	sha256sums = $(sha256sum "$h/linux-6.1.192.tar.xz" | cut -d" " -f1)" "$s" &&
	grep -qxF "	b2sums = $(b2sum "$h/linux-v6.1.192-arch1.patch.zst" | cut -d" " -f1)" "$s" &&
	grep -qxF "	sha256sums = $(sha256sum "$3" | cut -d" " -f1)" "$s" &&
	[ "$(head -n 1 "$s")" = "pkgbase = linux" ] && grep -qx "pkgname = linux-headers" "$s"' _ "$work/srcinfo" "$h" "$ARCH_CONFIG"
files=$(tar -tvf /usr/src/linux-source-6.1.tar.xz | grep -vc '^d')
check "git repository: annotated tag $GIT_TAG, one commit holding the tarball's $files files" sh -c '
	[ "$(git --git-dir="$1" cat-file -t "$2")" = tag ] &&
	[ "$(git --git-dir="$1" rev-list --count "$2")" = 1 ] &&
	[ "$(git --git-dir="$1" show "$2:Makefile" | sed -n "s/^SUBLEVEL = //p")" = 192 ] &&
	[ "$(git --git-dir="$1" ls-tree -r --name-only "$2" | wc -l)" -eq "$3" ]' _ "$GIT_REPO" "$GIT_TAG" "$files"

[ -z "${TREE_gitauto:-}" ] || check "gitauto: its tree is a clean checkout of $GIT_BRANCH, one commit after $GIT_TAG" sh -c '
	[ "$(git -C "$1" rev-parse HEAD)" = "$2" ] && [ "$(git -C "$1" describe --abbrev=12)" = "$3-1-g$(echo "$2" | cut -c1-12)" ] &&
	[ -z "$(git -C "$1" status -uno --porcelain)" ] && [ "$(modinfo -F gitcommit "$4")" = "linux-6.1.y +1" ]' \
	_ "$TREE_gitauto" "$GIT_COMMIT" "$GIT_TAG" "$work/dummy-gitauto/dummy.ko"

# the fixture Arch root: what kforge reads there, and its build dir builds the module
root=$work/archroot
if "$top/tests/e2e/arch-root.sh" --root "$root" >"$work/archroot.out" 2>&1; then
	ok "arch-root.sh: an Arch root around $RELEASE_arch"
else
	not_ok "arch-root.sh: an Arch root around $RELEASE_arch"
	sed 's/^/# /' "$work/archroot.out"
fi
k=$RELEASE_arch
check "arch root: os-release ID=arch, pkgbase linux, pacman's desc of linux $PACKAGING_TAG, preset, depmod search" sh -c '
	r=$1 k=$2
	grep -qx ID=arch "$r/etc/os-release" && [ "$(cat "$r/usr/lib/modules/$k/pkgbase")" = linux ] &&
	[ "$(head -n 5 "$r/var/lib/pacman/local/linux-6.1.192.arch1-1/desc" | tr "\n" "|")" = "%NAME%|linux||%VERSION%|6.1.192.arch1-1|" ] &&
	grep -qx "PRESETS=(.default. .fallback.)" "$r/etc/mkinitcpio.d/linux.preset" &&
	grep -qx "search updates extramodules built-in" "$r/usr/lib/depmod.d/search.conf" &&
	[ -d "$r/usr/lib/modules/$k/build" ] && [ ! -L "$r/usr/lib/modules/$k/build" ] &&
	[ -f "$r/lib/modules/$k/kernel/drivers/net/dummy.ko.zst" ]' _ "$root" "$k"
if build_dummy "$TREE_arch" "$root/usr/lib/modules/$k/build" "$work/dummy-archroot" &&
	[ "$(modinfo -F vermagic "$work/dummy-archroot/dummy.ko" | cut -d' ' -f1)" = "$k" ]; then
	ok "arch root: make -C usr/lib/modules/$k/build M=... builds dummy for $k"
else
	not_ok "arch root: make -C usr/lib/modules/$k/build M=... builds dummy for $k"
	tail -n 20 "$work/dummy-archroot/make.log" | sed 's/^/# /'
fi
export KFORGE_SHIM_LOG=$work/shim.log
check "arch root: the mkinitcpio shim beside it records its argv" sh -c '
	PATH="$1.bin:$PATH" mkinitcpio -p linux >/dev/null && [ "$(cat "$2")" = "mkinitcpio -p linux" ]' _ "$root" "$KFORGE_SHIM_LOG"

# fedora: the stand-in SRPM, the tree it prepared, the kernel-devel dir, the fixture Fedora root
k=$RELEASE_fedora
check "fedora SRPM: at its Koji path, zstd payload, holding kernel.spec, the tarball, the two patches" sh -c '
	[ "$2" = "$1/packages/kernel/6.1.192/300.fc39/src/kernel-6.1.192-300.fc39.src.rpm" ] &&
	[ "$(rpm -qp --qf "%{NAME} %{VERSION} %{RELEASE} %{PAYLOADCOMPRESSOR}" "$2")" = "kernel 6.1.192 300.fc39 zstd" ] &&
	[ "$(rpm -qpl "$2" | sort | tr "\n" " ")" = "kernel.spec linux-6.1.192.tar.xz linux-kernel-test.patch patch-6.1-redhat.patch " ]' \
	_ "$FEDORA_HTTP_DIR" "$FEDORA_SRPM"
check "fedora: the module built from the tree rpmbuild -rp prepared carries the stand-in Fedora patch's modinfo" sh -c '
	[ "$(modinfo -F fedorapatch "$1")" = 6.1.192-300.fc39 ]' _ "$work/dummy-fedora/dummy.ko"
check "fedora: the tree says EXTRAVERSION = -300.fc39.x86_64, as the spec's %build sets it" \
	grep -qx "EXTRAVERSION = -300.fc39.x86_64" "$TREE_fedora/Makefile"
check "fedora: the kernel-devel dir is a real directory with what Fedora's kernel-devel holds, no vmlinux" sh -c '
	b=$1; [ -d "$b" ] && [ ! -L "$b" ] && [ ! -e "$b/vmlinux" ] && for f in .config Makefile Module.symvers System.map \
		kernel/Makefile arch/x86/Makefile scripts/mod/modpost include/generated/utsrelease.h \
		include/config/kernel.release arch/x86/include/generated/uapi/asm/unistd_64.h Kconfig; do
		[ -e "$b/$f" ] || { echo "no $f"; exit 1; }
	done; [ "$(cat "$b/include/config/kernel.release")" = "$2" ]' _ "$BUILD_fedora" "$k"
root=$work/fedoraroot
if "$top/tests/e2e/fedora-root.sh" --root "$root" --image-holds "usr/lib/modules/$k/kernel/drivers/net/dummy.ko.xz" \
	>"$work/fedoraroot.out" 2>&1; then
	ok "fedora-root.sh: a Fedora root around $k"
else
	not_ok "fedora-root.sh: a Fedora root around $k"
	sed 's/^/# /' "$work/fedoraroot.out"
fi
check "fedora root: os-release ID=fedora 39, build -> ../../../../usr/src/kernels/$k (resolved: its Makefile), .ko.xz modules, dracut, config, symvers.xz" sh -c '
	r=$1 k=$2
	grep -qx ID=fedora "$r/etc/os-release" && grep -qx VERSION_ID=39 "$r/etc/os-release" &&
	[ "$(readlink "$r/lib/modules/$k/build")" = "../../../../usr/src/kernels/$k" ] &&
	[ "$(readlink -f "$r/lib/modules/$k/build/Makefile")" = "$(readlink -f "$r/usr/src/kernels/$k/Makefile")" ] &&
	[ -d "$r/usr/src/kernels/$k" ] && [ ! -L "$r/usr/src/kernels/$k" ] &&
	[ -f "$r/lib/modules/$k/kernel/drivers/net/dummy.ko.xz" ] && [ -x "$r/usr/bin/dracut" ] &&
	cmp -s "$r/boot/config-$k" "$r/usr/src/kernels/$k/.config" &&
	xz -dc "$r/boot/symvers-$k.xz" | cmp -s - "$r/usr/src/kernels/$k/Module.symvers" &&
	[ ! -e "$r/etc/kernel/install.conf" ] && [ ! -e "$r/boot/loader/entries" ]' _ "$root" "$k"
if build_dummy "$TREE_fedora" "$root/lib/modules/$k/build" "$work/dummy-fedoraroot" &&
	[ "$(modinfo -F vermagic "$work/dummy-fedoraroot/dummy.ko")" = "$k mod_unload " ]; then
	ok "fedora root: make -C lib/modules/$k/build (the link into usr/src/kernels) M=... builds dummy for $k"
else
	not_ok "fedora root: make -C lib/modules/$k/build M=... builds dummy for $k"
	tail -n 20 "$work/dummy-fedoraroot/make.log" | sed 's/^/# /'
fi
export KFORGE_SHIM_LOG=$work/fedora-shim.log
check "fedora root: the dracut shim records its argv, the lsinitrd shim lists dummy.ko.xz in the image" sh -c '
	PATH="$1.bin:$PATH" dracut -f --kver "$3" >/dev/null && [ "$(cat "$2")" = "dracut -f --kver $3" ] &&
	PATH="$1.bin:$PATH" lsinitrd "$1/boot/initramfs-$3.img" | grep -q " usr/lib/modules/$3/kernel/drivers/net/dummy.ko.xz\$"' \
	_ "$root" "$KFORGE_SHIM_LOG" "$k"
tap_done
