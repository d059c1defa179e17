#!/bin/sh
# kernels.sh: the heavy fixtures of the Arch and vanilla proofs on a real kernel, built once per
# machine and cached under $KFORGE_E2E_CACHE/kernels (default /var/cache/kforge-e2e/kernels).
#
# From Debian's linux-source-6.1 (/usr/src/linux-source-6.1.tar.xz, upstream 6.1.192 with Debian's
# patches), small x86_64 kernels that boot under qemu with a busybox initramfs (lib.sh), built
# from tinyconfig plus tests/e2e/kernel.config: .ko.zst modules (fedora: .ko.xz), no MODVERSIONS,
# no signing. arch, custom and fedora are always built; git and gitauto when KFORGE_E2E_KERNELS
# names them.
#   arch    6.1.192-arch1-1  the stand-in Arch sources: the tarball, the stand-in Arch patch
#                            (EXTRAVERSION = -arch1), localversion.10-pkgrel "-1" and
#                            localversion.20-pkgname "" as Arch's PKGBUILD prepare() writes them
#   custom  6.1.192-custom   the unpacked tarball with CONFIG_LOCALVERSION="-custom"
#   git     6.1.192          the export of tag v6.1.192 of a stand-in git repository
#   gitauto 6.1.192-00001-gHASH  a checkout of the commit after that tag (branch linux-6.1.y) with
#                            CONFIG_LOCALVERSION_AUTO=y (HASH: its first 12 hex digits); the
#                            checkout is a `git clone --shared` of the repository (its objects)
#   fedora  6.1.192-300.fc39.x86_64  the tree `rpmbuild -rp` prepares from the stand-in kernel
#                            SRPM (below: the tarball and the stand-in Fedora patch, applied by
#                            the spec's ApplyOptionalPatch), with EXTRAVERSION = -300.fc39.x86_64
#                            set as Fedora's spec does in %build; CONFIG_MODULE_COMPRESS_XZ in its
#                            own config lines (modules .ko.xz as Fedora's), the fragment unchanged
# Each is built in its own tree (an in-tree build, as makepkg and a vanilla build do) and leaves:
#   bzImage, modules/lib/modules/RELEASE (make modules_install: .ko.zst, modules.dep), and a build
#   dir: for arch a real directory laid out like Arch's linux-headers package (headers/), for
#   fedora one laid out like Fedora's kernel-devel package (devel/: what it installs as
#   /usr/src/kernels/RELEASE; no vmlinux), for the vanilla ones the tree itself (a vanilla
#   kernel's build dir is its tree).
# And the stand-ins kforge reaches through its [sources] rewrite:
#   standin-KEY/http/      served over HTTP by the tests: linux-6.1.192.tar.xz (a hard link to
#                          Debian's tarball, or a symlink across file systems) and
#                          linux-v6.1.192-arch1.patch.zst (no .sign/.sig: the stand-ins are not
#                          signed, the PKGBUILD names no validpgpkeys)
#   standin-KEY/linux.git  the packaging repository of pkgbase linux (bare, file://), tag
#                          6.1.192.arch1-1: PKGBUILD, .SRCINFO, config
#   linux-KEY.git          the kernel's git repository (bare): one commit of the 6.1.192 tree,
#                          annotated tag v6.1.192; branch linux-6.1.y one commit after it (dummy.c
#                          gains MODULE_INFO(gitcommit, ...))
#   standin-fedora-KEY/http/packages/kernel/6.1.192/300.fc39/src/kernel-6.1.192-300.fc39.src.rpm
#                          the stand-in kernel source RPM at its Koji path, built with
#                          `rpmbuild -bs` (zstd payload, as Fedora's) from tests/e2e/fedora-kernel.spec,
#                          the tarball as linux-6.1.192.tar.xz, patch-6.1-redhat.patch (marks
#                          dummy.c: MODULE_INFO(fedorapatch, ...)) and an empty
#                          linux-kernel-test.patch, as Fedora's; as nobody (runuser) when run as
#                          root, with no network (unshare -n) where it can
# Serving Debian's tarball as linux-6.1.192.tar.xz is a stand-in: kernel.org's unpacks to
# linux-6.1.192/, Debian's to linux-source-6.1/; kforge drops the first path component of a
# tarball, so the name of that folder does not matter to it (makepkg's `cd linux-6.1.192` would
# fail: the packaging repository is for kforge, which reads .SRCINFO and never runs prepare()).
#
# Cache keys: every product lives in a folder named after a hash of what it is made of: the
# tarball's sha256, this script's format version (KERNELS_VERSION below: bump it when what the
# script makes changes), the config fragment, and per kernel its release, its config lines beyond
# the fragment (CONFIG_LOCALVERSION...), the Arch patch and pkgrel, the git repository and commit,
# the Fedora spec and patch. A folder is complete when it holds the file `done`; an
# unfinished one (a run killed half-way) is continued by the next run: make is incremental.
# Other folders (src-KEY, *.partial-PID) are written under a temporary name and renamed.
# Runs take a lock (flock on kernels/lock): two at once build once.
#
# Output: the paths, as shell assignments, on stdout and in kernels/paths.sh (--paths-file FILE
# writes a copy there too): KERNEL_<case> MODULES_<case> BUILD_<case> TREE_<case> RELEASE_<case>,
# HEADERS_custom (the custom kernel's headers-only build dir, laid out as the arch one),
# STANDIN_HTTP_DIR PACKAGING_REPO PACKAGING_TAG GIT_REPO GIT_TAG GIT_BRANCH GIT_COMMIT ARCH_CONFIG,
# FEDORA_HTTP_DIR (the folder served as https://kojipkgs.fedoraproject.org/) FEDORA_SRPM.
# Progress on stderr.
#
# Usage: tests/e2e/kernels.sh [--paths-file FILE]
# Environment: KFORGE_E2E_KERNELS (the kernels beyond arch and custom, which are always built:
# "git gitauto" for both; the git repository is made either way), KFORGE_E2E_CACHE, KFORGE_E2E_TARBALL (default /usr/src/linux-source-6.1.tar.xz),
# JOBS (default nproc). ccache is used when installed (its cache: $KFORGE_E2E_CACHE/ccache).
# shellcheck disable=SC2154,SC2317 # D_<case> set by eval; functions called by name (prep_*)
set -eu
# the whole script is one brace group: sh parses it before running it, so an edit or a checkout
# of this file during a run (they take minutes) does not change what the run does
{
top=$(cd "$(dirname "$0")/../.." && pwd)
E=${KFORGE_E2E_CACHE:-/var/cache/kforge-e2e}
K=$E/kernels
TARBALL=${KFORGE_E2E_TARBALL:-/usr/src/linux-source-6.1.tar.xz}
FRAG=$top/tests/e2e/kernel.config
V=6.1.192
KERNELS_VERSION=1
JOBS=${JOBS:-$(nproc)}
# the kernels built: arch, custom and fedora always, git and gitauto when named here
CASES="arch custom fedora"
for c in ${KFORGE_E2E_KERNELS:-}; do
	case $c in
	arch | custom | fedora) ;;
	git | gitauto) CASES="$CASES $c" ;;
	*) echo "kernels.sh: KFORGE_E2E_KERNELS: no kernel $c (arch, custom, fedora, git, gitauto)" >&2; exit 2 ;;
	esac
done
paths_copy=
while [ $# -gt 0 ]; do
	case $1 in
	--paths-file) paths_copy=$2; shift 2 ;;
	*) echo "usage: $0 [--paths-file FILE]" >&2; exit 2 ;;
	esac
done
# a make of our own, not a sub-make of a caller's jobserver
unset MAKEFLAGS MFLAGS MAKELEVEL 2>/dev/null || true

say() { echo "kernels.sh: $*" >&2; }
die() { say "$*"; exit 1; }
key() { sha256sum | cut -c1-16; } # a key from the inputs on stdin

if [ ! -f "$TARBALL" ]; then
	[ "$TARBALL" = /usr/src/linux-source-6.1.tar.xz ] || die "$TARBALL: no such file"
	say "installing linux-source-6.1 (scripts/deps.sh)"
	"$top/scripts/deps.sh" >/dev/null
	[ -f "$TARBALL" ] || die "scripts/deps.sh did not install $TARBALL"
fi
mkdir -p "$K"
exec 9>"$K/lock"
if ! flock -n 9; then
	say "waiting for another kernels.sh (lock $K/lock)"
	flock 9
fi
# what killed runs left under a temporary name (we hold the lock: no run is writing them)
rm -rf "$K"/*.partial-* "$K"/*/headers.partial-*

work=$(mktemp -d /tmp/kforge-kernels-XXXXXX)
trap 'rm -rf "$work"' EXIT

# deterministic builds and commits: the same inputs give the same files
export KBUILD_BUILD_USER=kforge KBUILD_BUILD_HOST=e2e KBUILD_BUILD_TIMESTAMP='Sat Nov  1 00:00:00 UTC 2025'
# no background `git gc --auto` after the big commit: it would race the repack below
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=gc.auto GIT_CONFIG_VALUE_0=0
export GIT_AUTHOR_NAME='kforge e2e' GIT_AUTHOR_EMAIL=kforge-e2e@localhost GIT_AUTHOR_DATE='2025-11-01T00:00:00Z'
export GIT_COMMITTER_NAME='kforge e2e' GIT_COMMITTER_EMAIL=kforge-e2e@localhost GIT_COMMITTER_DATE='2025-11-01T00:00:00Z'

if command -v ccache >/dev/null; then
	export CCACHE_DIR=$E/ccache CCACHE_BASEDIR=$K CCACHE_NOHASHDIR=1
	mkdir -p "$CCACHE_DIR"
	[ -f "$CCACHE_DIR/ccache.conf" ] || ccache -M 4G >/dev/null
	kmake() { nice -n 5 make ARCH=x86_64 "CC=ccache gcc" "HOSTCC=ccache gcc" "$@"; }
else
	kmake() { nice -n 5 make ARCH=x86_64 "$@"; }
fi

tsha=$(sha256sum "$TARBALL" | cut -d' ' -f1)

# the unpacked tarball, never built in: the other trees are hard-linked copies of it
SRC=$K/src-$(echo "src $KERNELS_VERSION $tsha" | key)
if [ ! -f "$SRC/Makefile" ]; then
	say "unpacking $TARBALL into $SRC"
	p=$SRC.partial-$$
	mkdir -p "$p"
	tar -xf "$TARBALL" -C "$p"
	set -- "$p"/*
	[ $# -eq 1 ] && [ -f "$1/Makefile" ] || die "$TARBALL: not one folder holding a kernel tree"
	mv "$1" "$SRC"
	rm -rf "$p"
fi
mkver=$(sed -n 's/^VERSION = //p; s/^PATCHLEVEL = //p; s/^SUBLEVEL = //p' "$SRC/Makefile" | paste -sd.)
[ "$mkver" = "$V" ] || die "$TARBALL is version $mkver, these fixtures are for $V"

# the stand-in Arch patch: what Arch's linux-vX.Y.Z-archN.patch does to the release (EXTRAVERSION),
# and a modinfo field in dummy.c so that a test can tell a module built from the patched tree
PATCH=$work/linux-v$V-arch1.patch
mkdir -p "$work/a/drivers/net" "$work/b/drivers/net"
cp "$SRC/Makefile" "$work/a/Makefile"
cp "$SRC/drivers/net/dummy.c" "$work/a/drivers/net/dummy.c"
sed 's/^EXTRAVERSION =.*$/EXTRAVERSION = -arch1/' "$SRC/Makefile" >"$work/b/Makefile"
sed "/^MODULE_LICENSE(\"GPL\");\$/a MODULE_INFO(archpatch, \"v$V-arch1\");" "$SRC/drivers/net/dummy.c" >"$work/b/drivers/net/dummy.c"
! cmp -s "$work/a/Makefile" "$work/b/Makefile" && ! cmp -s "$work/a/drivers/net/dummy.c" "$work/b/drivers/net/dummy.c" ||
	die "the stand-in Arch patch does not apply to $SRC (no EXTRAVERSION line or no MODULE_LICENSE in dummy.c)"
{
	printf 'From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\n'
	printf 'From: kforge e2e <kforge-e2e@localhost>\n'
	printf 'Subject: [PATCH] Arch Linux kernel v%s-arch1 (kforge test stand-in)\n\n' "$V"
	printf 'Sets EXTRAVERSION as the real patch does, and marks drivers/net/dummy.c.\n---\n'
	for f in Makefile drivers/net/dummy.c; do
		printf 'diff --git a/%s b/%s\n' "$f" "$f"
		(cd "$work" && diff -u --label "a/$f" --label "b/$f" "a/$f" "b/$f") || [ $? -eq 1 ]
	done
} >"$PATCH"

# hard-linked copy of the unpacked tarball (the build writes only new files into it)
copy_src() { # dest
	rm -rf "$1"
	cp -al "$SRC" "$1"
}

# config: tinyconfig, the fragment and EXTRA merged in, olddefconfig; every line checked
configure() { # tree extra-config-lines
	printf '%s\n' "$2" >"$work/extra.config"
	(cd "$1" && kmake -s tinyconfig &&
		scripts/kconfig/merge_config.sh -m .config "$FRAG" "$work/extra.config" &&
		kmake -s olddefconfig) >"$1/../config.log" 2>&1 || { cat "$1/../config.log" >&2; return 1; }
	# a symbol the extra lines set is checked as they set it (fedora's module compression)
	own=$(sed -n 's/^\(CONFIG_[A-Za-z0-9_]*\)=.*$/\1/p; s/^# \(CONFIG_[A-Za-z0-9_]*\) is not set$/\1/p' "$work/extra.config")
	{
		for sym in $own; do printf '%s\n' "$sym"; done >"$work/extra.syms"
		grep -hE '^(CONFIG_|# CONFIG_.* is not set$)' "$FRAG" | while IFS= read -r line; do
			sym=${line#\# }
			sym=${sym%%[= ]*}
			grep -qxF "$sym" "$work/extra.syms" || printf '%s\n' "$line"
		done
		grep -hE '^(CONFIG_|# CONFIG_.* is not set$)' "$work/extra.config"
	} | while IFS= read -r line; do
		case $line in
		'# '*) sym=${line#\# }; sym=${sym%% *}
			! grep -q "^$sym=" "$1/.config" || { say "$1/.config: $sym is set, the fragment says not"; exit 1; } ;;
		*) grep -qxF "$line" "$1/.config" || { say "$1/.config: no line $line (olddefconfig dropped it: a dependency is off)"; exit 1; } ;;
		esac
	done
}

# a real directory laid out like Arch's linux-headers package (usr/lib/modules/RELEASE/build):
# what `make -C BUILD M=DIR modules` needs, from an in-tree build
make_headers() { # tree dest
	t=$1 h=$2
	rm -rf "$h"
	mkdir -p "$h"
	(
		cd "$t" &&
			cp -a --parents .config Makefile Module.symvers System.map vmlinux version \
				kernel/Makefile arch/x86/Makefile arch/x86/kernel/asm-offsets.s "$h/" &&
			for f in localversion*; do [ ! -f "$f" ] || cp -a "$f" "$h/" || exit 1; done &&
			cp -a --parents scripts include arch/x86/include "$h/" &&
			{ [ ! -e tools/objtool/objtool ] || cp -a --parents tools/objtool/objtool "$h/"; } &&
			find . -path ./scripts -prune -o -name 'Kconfig*' -type f -print0 | xargs -0 cp -a --parents -t "$h/" &&
			find drivers/md net/mac80211 -maxdepth 1 -name '*.h' -print0 | xargs -0 cp -a --parents -t "$h/"
	)
}

# one kernel: its tree prepared by PREP, configured, built, checked, its modules installed
build_case() { # name key release prep extra-config [module-extension]
	name=$1 release=$3 prep=$4 extra=$5 ext=${6:-zst}
	d=$K/$name-$(printf '%s\n' "$2" "$release" "$extra" | key)
	eval "D_$name=\$d"
	if [ -f "$d/done" ]; then
		say "$name: $release cached in $d (built in $(cat "$d/build-seconds" 2>/dev/null || echo ?) s)"
		return 0
	fi
	mkdir -p "$d"
	if [ ! -f "$d/tree.ready" ]; then
		say "$name: preparing the tree $d/tree"
		rm -f "$d/config.ready"
		"$prep" "$d/tree" || die "$name: preparing $d/tree failed"
		: >"$d/tree.ready"
	fi
	if [ ! -f "$d/config.ready" ]; then
		configure "$d/tree" "$extra" || die "$name: the config of $d/tree is not what tests/e2e/kernel.config asks"
		cp "$d/tree/.config" "$d/config"
		: >"$d/config.ready"
	fi
	say "$name: building $release in $d/tree (make -j$JOBS bzImage modules, log $d/build.log)"
	t0=$(date +%s)
	if ! (cd "$d/tree" && kmake -j"$JOBS" bzImage modules) >"$d/build.log" 2>&1; then
		tail -n 30 "$d/build.log" >&2
		die "$name: the build failed (the tree stays; the next run continues it)"
	fi
	t1=$(date +%s)
	got=$(cat "$d/tree/include/config/kernel.release")
	uts=$(sed -n 's/^#define UTS_RELEASE "\(.*\)"$/\1/p' "$d/tree/include/generated/utsrelease.h")
	[ "$got" = "$release" ] && [ "$uts" = "$release" ] ||
		die "$name: built as $got (kernel.release) / $uts (utsrelease.h), want $release"
	# `version` as Arch's prepare() writes it (there before the build: CONFIG_LOCALVERSION is
	# only seen once include/config/auto.conf exists, and Arch's is empty)
	(cd "$d/tree" && kmake -s kernelrelease >version) && [ "$(cat "$d/tree/version")" = "$release" ] ||
		die "$name: make kernelrelease says $(cat "$d/tree/version"), want $release"
	rm -rf "$d/modules"
	(cd "$d/tree" && kmake -s modules_install INSTALL_MOD_PATH="$d/modules") >>"$d/build.log" 2>&1 ||
		die "$name: make modules_install failed (log $d/build.log)"
	# the links modules_install makes point into the cache: a --root must not follow them
	rm -f "$d/modules/lib/modules/$release/build" "$d/modules/lib/modules/$release/source"
	[ -f "$d/modules/lib/modules/$release/kernel/drivers/net/dummy.ko.$ext" ] &&
		grep -q "^kernel/drivers/net/dummy.ko.$ext:" "$d/modules/lib/modules/$release/modules.dep" ||
		die "$name: modules_install left no kernel/drivers/net/dummy.ko.$ext in modules.dep"
	cp "$d/tree/arch/x86/boot/bzImage" "$d/bzImage"
	case $name in
	arch) make_headers "$d/tree" "$d/headers" || die "$name: copying the headers into $d/headers failed" ;;
	fedora)
		# Fedora's kernel-devel: no vmlinux (kernel-debuginfo has it), no `version` file
		make_headers "$d/tree" "$d/devel" && rm -f "$d/devel/vmlinux" "$d/devel/version" ||
			die "$name: copying the kernel-devel files into $d/devel failed"
		;;
	esac
	echo $((t1 - t0)) >"$d/build-seconds"
	: >"$d/done"
	say "$name: $release built in $((t1 - t0)) s"
}

# arch: the patched tarball with the localversion files of Arch's prepare()
PKGBASE=linux PKGREL=1
prep_arch() {
	copy_src "$1"
	# the files the patch changes become the tree's own (not links into the unpacked tarball)
	for f in Makefile drivers/net/dummy.c; do
		cp "$1/$f" "$1/$f.own" && mv "$1/$f.own" "$1/$f"
	done
	(cd "$1" && patch -sNp1 <"$PATCH") || return 1
	echo "-$PKGREL" >"$1/localversion.10-pkgrel"
	echo "${PKGBASE#linux}" >"$1/localversion.20-pkgname"
}
prep_custom() { copy_src "$1"; }
# a git checkout (a clone sharing the repository's objects): setlocalversion asks git
prep_gitauto() {
	rm -rf "$1"
	git clone -q --shared --no-checkout "$GIT_REPO" "$1" && git -C "$1" checkout -q -B "$GIT_BRANCH" "$GIT_COMMIT"
}
prep_git() {
	rm -rf "$1.partial"
	mkdir -p "$1.partial"
	git --git-dir="$GIT_REPO" archive --format=tar "$GIT_TAG" | tar -xf - -C "$1.partial" || return 1
	rm -rf "$1"
	mv "$1.partial" "$1"
}

common=$(printf '%s\n' "kernels.sh $KERNELS_VERSION" "$tsha" "$(cat "$FRAG")")

# the kernel's git repository: the unpacked tree committed and tagged (annotated) v6.1.192
GIT_TAG=v$V
GIT_REPO=$K/linux-$(printf '%s\n' git "$KERNELS_VERSION" "$tsha" | key).git
if [ ! -f "$GIT_REPO/done" ]; then
	say "committing the $V tree into $GIT_REPO (75k files: minutes)"
	t0=$(date +%s)
	p=$GIT_REPO.partial-$$
	git init -q --bare -b master "$p"
	GIT_DIR=$p GIT_WORK_TREE=$SRC GIT_INDEX_FILE=$work/index git add -A -f
	GIT_DIR=$p GIT_WORK_TREE=$SRC GIT_INDEX_FILE=$work/index git commit -q -m "Linux $V"
	GIT_DIR=$p git tag -a "$GIT_TAG" -m "Linux $V"
	# one pack, no delta search (fast; kforge's libgit2 reads it like any other)
	GIT_DIR=$p git repack -a -d -q --window=0
	: >"$p/done"
	mv "$p" "$GIT_REPO"
	say "git repository ready in $(($(date +%s) - t0)) s"
fi
# one commit after the tag, on branch linux-6.1.y: a checkout of it with LOCALVERSION_AUTO is
# released as 6.1.192-00001-gHASH (HASH: the commit's first 12 hex digits). The ref is written last.
GIT_BRANCH=linux-6.1.y
if ! GIT_COMMIT=$(git --git-dir="$GIT_REPO" rev-parse -q --verify "refs/heads/$GIT_BRANCH"); then
	say "adding a commit after $GIT_TAG on $GIT_BRANCH"
	GIT_DIR=$GIT_REPO GIT_INDEX_FILE=$work/index-next git read-tree "$GIT_TAG^{tree}"
	blob=$(git --git-dir="$GIT_REPO" show "$GIT_TAG:drivers/net/dummy.c" |
		sed '/^MODULE_LICENSE("GPL");$/a MODULE_INFO(gitcommit, "linux-6.1.y +1");' | git --git-dir="$GIT_REPO" hash-object -w --stdin)
	GIT_DIR=$GIT_REPO GIT_INDEX_FILE=$work/index-next git update-index --cacheinfo "100644,$blob,drivers/net/dummy.c"
	tree=$(GIT_DIR=$GIT_REPO GIT_INDEX_FILE=$work/index-next git write-tree)
	GIT_COMMIT=$(git --git-dir="$GIT_REPO" commit-tree "$tree" -p "$GIT_TAG^{commit}" -m "net: dummy: one commit after $GIT_TAG (kforge test)")
	git --git-dir="$GIT_REPO" update-ref "refs/heads/$GIT_BRANCH" "$GIT_COMMIT"
fi

build_case arch "$(printf '%s\n' "$common" arch "$(cat "$PATCH")" "pkgbase=$PKGBASE pkgrel=$PKGREL" | key)" \
	"$V-arch1-$PKGREL" prep_arch 'CONFIG_LOCALVERSION=""'
build_case custom "$(printf '%s\n' "$common" custom | key)" "$V-custom" prep_custom 'CONFIG_LOCALVERSION="-custom"'
# git and gitauto only when asked (KFORGE_E2E_KERNELS): each kernel costs minutes on 2 cores,
# and the git-tag proof runs on the custom kernel too (its tree is the tag's)
case " $CASES " in *" git "*)
	build_case git "$(printf '%s\n' "$common" git "$GIT_REPO" | key)" "$V" prep_git 'CONFIG_LOCALVERSION=""' ;;
esac
case " $CASES " in *" gitauto "*)
	build_case gitauto "$(printf '%s\n' "$common" gitauto "$GIT_REPO" "$GIT_COMMIT" | key)" \
		"$V-00001-g$(echo "$GIT_COMMIT" | cut -c1-12)" prep_gitauto 'CONFIG_LOCALVERSION=""
CONFIG_LOCALVERSION_AUTO=y' ;;
esac

# the custom kernel as `make bindeb-pkg` or `make binrpm-pkg` would ship it: a headers-only build
# dir (the Arch layout), so that kforge must fetch kernel.org's tarball for its source. Made once
# beside the finished build (not part of its key: it is copied from the tree)
if [ ! -f "$D_custom/headers/Makefile" ]; then
	say "custom: copying the headers into $D_custom/headers"
	make_headers "$D_custom/tree" "$D_custom/headers.partial-$$" || die "custom: copying the headers failed"
	rm -rf "$D_custom/headers"
	mv "$D_custom/headers.partial-$$" "$D_custom/headers"
fi

# the stand-ins of the Arch sources: the HTTP folder and the packaging repository
S=$K/standin-$(printf '%s\n' standin "$KERNELS_VERSION" "$D_arch" "$(cat "$D_arch/config")" | key)
PACKAGING_TAG=$V.arch1-$PKGREL
if [ ! -f "$S/done" ]; then
	say "writing the stand-ins into $S"
	p=$S.partial-$$
	mkdir -p "$p/http" "$p/pkg"
	ln "$TARBALL" "$p/http/linux-$V.tar.xz" 2>/dev/null || ln -s "$TARBALL" "$p/http/linux-$V.tar.xz"
	zstd -q -19 --no-progress "$PATCH" -o "$p/http/linux-v$V-arch1.patch.zst"
	cp "$D_arch/config" "$p/pkg/config"
	sums() { # tool: the sums of the three sources, in source order
		for f in "$p/http/linux-$V.tar.xz" "$p/http/linux-v$V-arch1.patch.zst" "$p/pkg/config"; do
			"$1" "$f" | cut -d' ' -f1
		done
	}
	sha256=$(sums sha256sum) b2=$(sums b2sum)
	makedepends='bc cpio gettext libelf pahole perl python tar xz'
	# shellcheck disable=SC2016 # the PKGBUILD's own expansions
	{
		printf '# The stand-in packaging of pkgbase %s for the kforge e2e tests, modelled on\n' "$PKGBASE"
		printf "# Arch's linux PKGBUILD. kforge reads .SRCINFO; this file is for a reader.\n\n"
		printf 'pkgbase=%s\npkgver=%s.arch1\npkgrel=%s\n' "$PKGBASE" "$V" "$PKGREL"
		printf "pkgdesc='Linux'\nurl='https://github.com/archlinux/linux'\narch=(x86_64)\nlicense=(GPL-2.0-only)\n"
		printf 'makedepends=(\n'
		for m in $makedepends; do printf '  %s\n' "$m"; done
		printf ')\noptions=(\n  !debug\n  !strip\n)\n'
		printf '_srcname=linux-${pkgver%%.*}\n_srctag=v${pkgver%%.*}-${pkgver##*.}\n'
		printf 'source=(\n'
		printf '  https://cdn.kernel.org/pub/linux/kernel/v${pkgver%%%%.*}.x/${_srcname}.tar.xz\n'
		printf '  $url/releases/download/$_srctag/linux-$_srctag.patch.zst\n'
		printf '  config  # the kernel config\n)\n'
		printf 'sha256sums=(\n'
		for s in $sha256; do printf "  '%s'\n" "$s"; done
		printf ')\nb2sums=(\n'
		for s in $b2; do printf "  '%s'\n" "$s"; done
		printf ')\n\n'
		cat <<'PKGBUILD'
prepare() {
  cd $_srcname

  echo "Setting version..."
  echo "-$pkgrel" > localversion.10-pkgrel
  echo "${pkgbase#linux}" > localversion.20-pkgname

  local src
  for src in "${source[@]}"; do
    src="${src%%::*}"
    src="${src##*/}"
    src="${src%.zst}"
    [[ $src = *.patch ]] || continue
    echo "Applying patch $src..."
    patch -Np1 < "../$src"
  done

  echo "Setting config..."
  cp ../config .config
  make olddefconfig
  diff -u ../config .config || :

  make -s kernelrelease > version
  echo "Prepared $pkgbase version $(<version)"
}

build() {
  cd $_srcname
  make all
}

package_linux() {
  pkgdesc="The $pkgdesc kernel and modules"
  depends=(coreutils initramfs kmod)
  cd $_srcname
  local kver=$(<version)
  local moddir="$pkgdir/usr/lib/modules/$kver"
  install -Dm644 "$(make -s image_name)" "$moddir/vmlinuz"
  printf '%s\n' "$pkgbase" > "$moddir/pkgbase"
  make INSTALL_MOD_PATH="$pkgdir/usr" INSTALL_MOD_STRIP=1 DEPMOD=/bin/true modules_install
  rm -f "$moddir/build" "$moddir/source"
}

package_linux-headers() {
  pkgdesc="Headers and scripts for building modules for the $pkgdesc kernel"
  depends=(pahole)
  cd $_srcname
  local build="$pkgdir/usr/lib/modules/$(<version)/build"
  mkdir -p "$build"
  cp -a --parents .config Makefile Module.symvers System.map vmlinux version localversion.* \
    kernel/Makefile arch/x86/Makefile arch/x86/kernel/asm-offsets.s "$build/"
  cp -a --parents scripts include arch/x86/include "$build/"
  find . -name 'Kconfig*' -type f -exec cp --parents {} "$build/" \;
}

pkgname=("$pkgbase" "$pkgbase-headers")
PKGBUILD
	} >"$p/pkg/PKGBUILD"
	# .SRCINFO as `makepkg --printsrcinfo` writes it: pkgbase's keys indented by a tab, a blank
	# line, then each pkgname with the keys it overrides
	{
		printf 'pkgbase = %s\n' "$PKGBASE"
		printf '\tpkgdesc = Linux\n\tpkgver = %s.arch1\n\tpkgrel = %s\n' "$V" "$PKGREL"
		printf '\turl = https://github.com/archlinux/linux\n\tarch = x86_64\n\tlicense = GPL-2.0-only\n'
		for m in $makedepends; do printf '\tmakedepends = %s\n' "$m"; done
		printf '\toptions = !debug\n\toptions = !strip\n'
		printf '\tsource = https://cdn.kernel.org/pub/linux/kernel/v%s.x/linux-%s.tar.xz\n' "${V%%.*}" "$V"
		printf '\tsource = https://github.com/archlinux/linux/releases/download/v%s-arch1/linux-v%s-arch1.patch.zst\n' "$V" "$V"
		printf '\tsource = config\n'
		for s in $sha256; do printf '\tsha256sums = %s\n' "$s"; done
		for s in $b2; do printf '\tb2sums = %s\n' "$s"; done
		printf '\npkgname = %s\n' "$PKGBASE"
		printf '\tpkgdesc = The Linux kernel and modules\n\tdepends = coreutils\n\tdepends = initramfs\n\tdepends = kmod\n'
		printf '\npkgname = %s-headers\n' "$PKGBASE"
		printf '\tpkgdesc = Headers and scripts for building modules for the Linux kernel\n\tdepends = pahole\n'
	} >"$p/pkg/.SRCINFO"
	git init -q --bare -b main "$p/linux.git"
	GIT_DIR=$p/linux.git GIT_WORK_TREE=$p/pkg GIT_INDEX_FILE=$work/pkg-index git add -A -f
	GIT_DIR=$p/linux.git GIT_WORK_TREE=$p/pkg GIT_INDEX_FILE=$work/pkg-index git commit -q -m "$PACKAGING_TAG"
	GIT_DIR=$p/linux.git git tag -a "$PACKAGING_TAG" -m "$PACKAGING_TAG"
	: >"$p/done"
	mv "$p" "$S"
fi

# --- fedora: the stand-in kernel source RPM and the kernel built from the tree it prepares
FREL=300.fc39
FKVER=$V-$FREL.x86_64
FSPEC=$top/tests/e2e/fedora-kernel.spec
# the stand-in Fedora patch (Fedora's patch-X.Y-redhat.patch): a modinfo field in dummy.c, so
# that a test can tell a module built from the patched tree
FPATCH=$work/patch-6.1-redhat.patch
mkdir -p "$work/fa/drivers/net" "$work/fb/drivers/net"
cp "$SRC/drivers/net/dummy.c" "$work/fa/drivers/net/dummy.c"
sed "/^MODULE_LICENSE(\"GPL\");\$/a MODULE_INFO(fedorapatch, \"$V-$FREL\");" "$SRC/drivers/net/dummy.c" >"$work/fb/drivers/net/dummy.c"
! cmp -s "$work/fa/drivers/net/dummy.c" "$work/fb/drivers/net/dummy.c" ||
	die "the stand-in Fedora patch does not apply to $SRC (no MODULE_LICENSE in dummy.c)"
{
	printf 'From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\n'
	printf 'From: kforge e2e <kforge-e2e@localhost>\n'
	printf 'Subject: [PATCH] Fedora kernel %s (kforge test stand-in)\n\n' "$V-$FREL"
	printf 'Marks drivers/net/dummy.c, so that a module built from the patched tree says so.\n---\n'
	printf 'diff --git a/drivers/net/dummy.c b/drivers/net/dummy.c\n'
	(cd "$work/fa" && diff -u --label a/drivers/net/dummy.c --label b/drivers/net/dummy.c \
		drivers/net/dummy.c "$work/fb/drivers/net/dummy.c") || [ $? -eq 1 ]
} >"$FPATCH"

# as an unprivileged user: rpmbuild evaluates the spec (shell in %prep). As root: nobody, with no
# network where unshare can make a namespace; otherwise the caller itself (already unprivileged)
if [ "$(id -u)" -eq 0 ]; then
	if unshare -n true 2>/dev/null; then
		unpriv() { unshare -n runuser -u nobody -- "$@"; }
	else
		unpriv() { runuser -u nobody -- "$@"; }
	fi
	unpriv_dir() { chown -R nobody: "$1"; }
else
	unpriv() { "$@"; }
	unpriv_dir() { :; }
fi
# rpmbuild ARGS... with TOPDIR as its _topdir and HOME (nothing read from a real home)
rpmb() { # topdir args...
	tt=$1
	shift
	unpriv env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$tt" LC_ALL=C.UTF-8 \
		rpmbuild --define "_topdir $tt" "$@"
}
command -v rpmbuild >/dev/null || {
	say "installing rpm (rpmbuild: scripts/deps.sh)"
	"$top/scripts/deps.sh" >/dev/null
	command -v rpmbuild >/dev/null || die "scripts/deps.sh did not install rpmbuild"
}

FS=$K/standin-fedora-$(printf '%s\n' standin-fedora "$KERNELS_VERSION" "$tsha" "$(cat "$FSPEC")" "$(cat "$FPATCH")" | key)
FEDORA_SRPM=$FS/http/packages/kernel/$V/$FREL/src/kernel-$V-$FREL.src.rpm
if [ ! -f "$FS/done" ]; then
	say "building the stand-in kernel SRPM into $FS (rpmbuild -bs)"
	p=$FS.partial-$$
	t=$p/rpmbuild
	mkdir -p "$t/SOURCES" "$t/SPECS"
	chmod 755 "$p"
	ln "$TARBALL" "$t/SOURCES/linux-$V.tar.xz" 2>/dev/null || cp "$TARBALL" "$t/SOURCES/linux-$V.tar.xz"
	cp "$FPATCH" "$t/SOURCES/patch-6.1-redhat.patch"
	: >"$t/SOURCES/linux-kernel-test.patch"
	cp "$FSPEC" "$t/SPECS/kernel.spec"
	unpriv_dir "$t"
	# Fedora's payload is zstd (level 19 there: the level changes nothing a reader sees, and 19
	# takes 77 s on the 138 MB tarball here, 3 under a second)
	rpmb "$t" -bs --define '_source_payload w3.zstdio' "$t/SPECS/kernel.spec" >"$p/rpmbuild.log" 2>&1 ||
		{ cat "$p/rpmbuild.log" >&2; die "rpmbuild -bs of $FSPEC failed"; }
	mkdir -p "$p/$(dirname "${FEDORA_SRPM#"$FS"/}")"
	mv "$t/SRPMS/kernel-$V-$FREL.src.rpm" "$p/${FEDORA_SRPM#"$FS"/}" ||
		die "rpmbuild -bs wrote no SRPMS/kernel-$V-$FREL.src.rpm (log $p/rpmbuild.log)"
	rm -rf "$t"
	: >"$p/done"
	mv "$p" "$FS"
fi

# the tree Fedora's %prep makes: `rpmbuild -rp` of the SRPM (as the unprivileged user; --nodeps:
# the build requirements are Fedora packages this machine's rpm database does not list), then
# EXTRAVERSION as the spec's %build sets it
prep_fedora() {
	rm -rf "$1" "$1.rpm"
	mkdir -p "$1.rpm"
	unpriv_dir "$1.rpm"
	rpmb "$1.rpm" -rp --nodeps "$FEDORA_SRPM" >"$1.rpm.log" 2>&1 || { cat "$1.rpm.log" >&2; return 1; }
	mv "$1.rpm/BUILD/kernel-$V/linux-$FKVER" "$1" || return 1
	[ "$(id -u)" -ne 0 ] || chown -R 0:0 "$1"
	rm -rf "$1.rpm"
	sed -i "s/^EXTRAVERSION.*/EXTRAVERSION = -$FREL.x86_64/" "$1/Makefile"
	grep -qx "EXTRAVERSION = -$FREL.x86_64" "$1/Makefile"
}
build_case fedora "$(printf '%s\n' "$common" fedora "$(cat "$FSPEC")" "$(cat "$FPATCH")" | key)" "$FKVER" prep_fedora \
	'CONFIG_LOCALVERSION=""
# CONFIG_MODULE_COMPRESS_ZSTD is not set
CONFIG_MODULE_COMPRESS_XZ=y' xz

paths=$work/paths.sh
{
	echo "# written by tests/e2e/kernels.sh (KERNELS_VERSION $KERNELS_VERSION)"
	echo "CASES='$CASES'"
	for c in $CASES; do
		eval "d=\$D_$c"
		case $c in arch) build=$d/headers ;; fedora) build=$d/devel ;; *) build=$d/tree ;; esac
		echo "RELEASE_$c=$(cat "$d/tree/version")"
		echo "KERNEL_$c=$d/bzImage"
		echo "MODULES_$c=$d/modules"
		echo "BUILD_$c=$build"
		echo "TREE_$c=$d/tree"
	done
	echo "HEADERS_custom=$D_custom/headers"
	echo "ARCH_CONFIG=$S/pkg/config"
	echo "STANDIN_HTTP_DIR=$S/http"
	echo "PACKAGING_REPO=$S/linux.git"
	echo "PACKAGING_TAG=$PACKAGING_TAG"
	echo "GIT_REPO=$GIT_REPO"
	echo "GIT_TAG=$GIT_TAG"
	echo "GIT_BRANCH=$GIT_BRANCH"
	echo "GIT_COMMIT=$GIT_COMMIT"
	echo "FEDORA_HTTP_DIR=$FS/http"
	echo "FEDORA_SRPM=$FEDORA_SRPM"
} >"$paths"
cp "$paths" "$K/paths.sh.partial-$$" && mv "$K/paths.sh.partial-$$" "$K/paths.sh"
[ -z "$paths_copy" ] || cp "$paths" "$paths_copy"
cat "$paths"
exit 0
}
