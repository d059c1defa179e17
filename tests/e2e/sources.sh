#!/bin/sh
# e2e/sources.sh: the Arch and vanilla proofs on real kernels (TAP). kforge fetches each kernel's
# source through its [sources] rewrite from local stand-ins of the real hosts, builds dummy with
# each strategy, installs it, and the kernel it was built for (built by kernels.sh, booted under
# qemu) loads the very file kforge installed.
#   arch     6.1.192-arch1-1: a fixture Arch root (arch-root.sh); the packaging repository
#            (gitlab.archlinux.org -> file://), its .SRCINFO, the kernel.org tarball and the Arch
#            patch (cdn.kernel.org, github.com -> the stand-in HTTP server on 127.0.0.1), verified,
#            patched; dummy.ko.zst in updates/, `mkinitcpio -p linux` recorded by the shim
#   custom   6.1.192-custom (CONFIG_LOCALVERSION): a headers-only build dir, as make bindeb-pkg
#            ships it: the tarball from the stand-in kernel.org, verified against sha256sums.asc
#            and again with --source git+https://git.kernel.org/...#tag=v6.1.192 (-> file://),
#            through libgit2
#   git      6.1.192 (with KFORGE_E2E_KERNELS=git): the same git tag, no local version
#   gitauto  6.1.192-00001-gHASH (LOCALVERSION_AUTO; KFORGE_E2E_KERNELS=gitauto): --source
#            git+...#commit=HASH, the build dir a git checkout
# Each kforge run's output is kept in the test's folder and shown when a case fails.
# shellcheck disable=SC1091,SC2154 # kernels.sh's paths.sh, the variables arch-root.sh prints
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
e2e_name=sources
. "$top/tests/e2e/lib.sh"

e2e_kernels
V=6.1.192

# kernel.org's v6.x folder and GitHub's release folder of the Arch patch, on 127.0.0.1: the files
# kernels.sh made, and the list of sums kernel.org signs (the signature is not checked here: no
# [sources] keyring)
h=$work/http
mkdir -p "$h"
ln -s "$STANDIN_HTTP_DIR/linux-$V.tar.xz" "$h/linux-$V.tar.xz"
ln -s "$STANDIN_HTTP_DIR/linux-v$V-arch1.patch.zst" "$h/linux-v$V-arch1.patch.zst"
tsum=$(sha256sum "$h/linux-$V.tar.xz" | cut -d' ' -f1)
{
	printf -- '-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n'
	printf '%s  linux-6.1.191.tar.xz\n' "$(printf 'a%.0s' $(seq 64))"
	printf '%s  linux-%s.tar.xz\n' "$tsum" "$V"
	printf -- '-----BEGIN PGP SIGNATURE-----\n\nnone\n-----END PGP SIGNATURE-----\n'
} >"$h/sha256sums.asc"
serve_standin "$h"
# the real hosts, each rewritten to its stand-in
STABLE=https://git.kernel.org/pub/scm/linux/kernel/git/stable/linux.git
printf '[sources]\nrewrite = %s %s\n  %s %s\n  %s %s\n  %s %s\n' \
	https://cdn.kernel.org/pub/linux/kernel/v6.x/ "http://127.0.0.1:$port/" \
	"https://github.com/archlinux/linux/releases/download/v$V-arch1/" "http://127.0.0.1:$port/" \
	https://gitlab.archlinux.org/archlinux/packaging/packages/ "file://$(dirname "$PACKAGING_REPO")/" \
	"$STABLE" "file://$GIT_REPO" >"$work/kforge.conf"

# kforge with the stand-ins' configuration; output in $work/NAME.out
kf() { # name kforge-args...
	n=$1
	shift
	KFORGE_SYSTEM_CONFIG=$work/kforge.conf "$KFORGE" -j "$(nproc)" "$@" >"$work/$n.out" 2>&1
}
show() { sed 's/^/# /' "$work/$1.out"; }

# the module kforge installed for K under ROOT (.ko, .ko.zst, ...), uncompressed into $work/NAME.ko
installed() { # name root kver
	f=$(ls "$2/lib/modules/$3/updates/dummy.ko"* 2>/dev/null | head -n 1)
	rm -f "$work/$1.ko"
	case $f in
	'') return 1 ;;
	*.zst) zstd -dcq "$f" >"$work/$1.ko" ;;
	*.xz) xz -dc "$f" >"$work/$1.ko" ;;
	*.gz) gzip -dc "$f" >"$work/$1.ko" ;;
	*) cp "$f" "$work/$1.ko" ;;
	esac
	echo "/lib/modules/$3/updates/${f##*/}"
}

# install with STRATEGY, then: the module's vermagic is exactly K, and the kernel loads that file
prove() { # name root kver kernel strategy kforge-args...
	n=$1 r=$2 k=$3 img=$4 s=$5
	shift 5
	if kf "$n" --root "$r" -k "$k" install dummy --strategy "$s" "$@"; then
		ok "$n: kforge install dummy --strategy $s $*"
	else
		not_ok "$n: kforge install dummy --strategy $s $*"
		show "$n"
		skip "$n: boot" "nothing installed"
		return 1
	fi
	rel=$(installed "$n" "$r" "$k") || rel=/nonexistent
	vm=$(modinfo -F vermagic "$work/$n.ko" 2>/dev/null)
	if [ "$vm" = "$k mod_unload " ]; then
		ok "$n: $rel has the vermagic \"$vm\": exactly the target's release"
	else
		not_ok "$n: $rel has the vermagic \"$k mod_unload \": exactly the target's release"
		echo "# got \"$vm\""
	fi
	expect_loaded "$n" "$k" "$r" "$(boot_kernel "$img" "$k" "$r" dummy)" dummy "$rel"
}

# a root no distribution plugin claims, its kernel K: its own modules (kernels.sh's
# modules_install) and a build dir copied from BUILD (hard links: kforge only reads it)
vanilla_root() { # root kver modules build
	rm -rf "$1"
	mkdir -p "$1/etc" "$1/lib/modules"
	printf 'NAME="Acme OS"\nID=acmeos\nVERSION_ID=3\n' >"$1/etc/os-release"
	cp -a "$3/lib/modules/$2" "$1/lib/modules/$2"
	cp -al "$4" "$1/lib/modules/$2/build"
}

# --- Arch: 6.1.192-arch1-1 through ABS
K=$RELEASE_arch
if eval "$("$top/tests/e2e/arch-root.sh" --root "$work/arch" --link-build \
	--image-holds "usr/lib/modules/$K/kernel/drivers/net/dummy.ko.zst" 2>"$work/arch-root.err")"; then
	ok "arch-root.sh: an Arch root around $K, its initramfs holding dummy"
else
	not_ok "arch-root.sh: an Arch root around $K"
	sed 's/^/# /' "$work/arch-root.err"
fi
kf arch-plan --root "$work/arch" -k "$K" plan dummy --strategy full
check "arch: a plan, nothing fetched yet, names the packaging repository, the rewrite in force, its tag" sh -c '
	grep -q "git: fetch https://gitlab.archlinux.org/archlinux/packaging/packages/linux.git (rewritten to file://$2 by \[sources\] rewrite) (tag $3)" "$1" &&
	grep -q "configuration: the packaging repository.s config once fetched" "$1" || { cat "$1"; exit 1; }' \
	_ "$work/arch-plan.out" "$PACKAGING_REPO" "$PACKAGING_TAG"
for s in headers full; do
	export KFORGE_SHIM_LOG=$work/arch-$s.shim
	PATH="$SHIM_DIR:$PATH" prove "arch-$s" "$work/arch" "$K" "$KERNEL_arch" "$s"
	check "arch-$s: dummy.ko.zst in updates/ is built from the patched tree (the Arch patch's modinfo)" sh -c '
		[ "$(modinfo -F archpatch "$1")" = v6.1.192-arch1 ] && [ -f "$2/usr/lib/modules/$3/updates/dummy.ko.zst" ]' \
		_ "$work/arch-$s.ko" "$work/arch" "$K"
	check "arch-$s: the mkinitcpio shim recorded mkinitcpio -p linux" grep -qx "mkinitcpio -p linux" "$KFORGE_SHIM_LOG"
done
unset KFORGE_SHIM_LOG
kf arch-plan2 --root "$work/arch" -k "$K" plan dummy --strategy full
check "arch: the plan after the install names the exact config: the packaging repository's, in the unpacked tree" sh -c '
	grep -q "configuration: the packaging repository.s config" "$1" && ! grep -q "once fetched" "$1" &&
	cmp -s "$2" "$(find "$3" -maxdepth 2 -name .kforge-arch-config | head -n 1)" || { cat "$1"; exit 1; }' \
	_ "$work/arch-plan2.out" "$ARCH_CONFIG" "$work/arch/var/cache/kforge/src"
check "arch: the tarball and the patch were fetched from the stand-in once each, over both strategies" sh -c '
	[ "$(grep -c "^GET /linux-$2.tar.xz " "$1")" -eq 1 ] && [ "$(grep -c "^GET /linux-v$2-arch1.patch.zst " "$1")" -eq 1 ]' \
	_ "$work/requests" "$V"

# --- vanilla: 6.1.192-custom, its build dir headers only: kernel.org's tarball
K=$RELEASE_custom
: >"$work/requests"
vanilla_root "$work/custom" "$K" "$MODULES_custom" "$HEADERS_custom"
for s in headers full; do
	prove "custom-$s" "$work/custom" "$K" "$KERNEL_custom" "$s"
done
check "custom: sha256sums.asc and the tarball were fetched from the stand-in once each" sh -c '
	[ "$(grep -c "^GET /sha256sums.asc " "$1")" -eq 1 ] && [ "$(grep -c "^GET /linux-$2.tar.xz " "$1")" -eq 1 ] &&
	grep -q "sha256sums.asc" "$3"' _ "$work/requests" "$V" "$work/custom-headers.out"

# --- vanilla: the custom kernel's source from the tag of a git repository, through libgit2
K=$RELEASE_custom
vanilla_root "$work/custom-git" "$K" "$MODULES_custom" "$HEADERS_custom"
for s in headers full; do
	prove "custom-git-$s" "$work/custom-git" "$K" "$KERNEL_custom" "$s" --source "git+$STABLE#tag=$GIT_TAG"
done
check "custom-git: one bare store in the root's cache holds the tag's commit; nothing came from the HTTP stand-in" sh -c '
	s=$(find "$1" -name store.git -type d | head -n 1); [ -n "$s" ] && git --git-dir="$s" cat-file -e "$2^{commit}" &&
	[ "$(grep -c "^GET /linux-$3.tar.xz " "$4")" -eq 1 ]' \
	_ "$work/custom-git/var/cache/kforge" "$(git --git-dir="$GIT_REPO" rev-parse "$GIT_TAG^{commit}")" "$V" "$work/requests"

# --- with KFORGE_E2E_KERNELS="git gitauto": 6.1.192 from the tag (no local version), and
# 6.1.192-00001-gHASH (LOCALVERSION_AUTO) from a commit after it, the build dir a git checkout
prove_git_kernel() { # case ref: both strategies on kernel CASE, its source git+STABLE#REF
	eval "pg_k=\${RELEASE_$1:-} pg_mods=\${MODULES_$1:-} pg_build=\${BUILD_$1:-} pg_img=\${KERNEL_$1:-}"
	[ -n "$pg_k" ] || { echo "# $1: not built (KFORGE_E2E_KERNELS)"; return 1; }
	vanilla_root "$work/$1" "$pg_k" "$pg_mods" "$pg_build"
	for s in headers full; do
		prove "$1-$s" "$work/$1" "$pg_k" "$pg_img" "$s" --source "git+$STABLE#$2"
	done
	return 0
}
prove_git_kernel git "tag=$GIT_TAG"
if prove_git_kernel gitauto "commit=$GIT_COMMIT"; then
	check "gitauto: the module is the commit's code (its modinfo)" sh -c '[ "$(modinfo -F gitcommit "$1")" = "linux-6.1.y +1" ]' \
		_ "$work/gitauto-full.ko"
fi

tap_done
