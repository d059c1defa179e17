#!/bin/sh
# arch-abs.sh: the ABS way on an Arch fixture root, for real (TAP). A local packaging repository
# tagged 6.6.1.arch1-1 with its .SRCINFO (or only a PKGBUILD), a kernel tarball and an Arch patch
# (.patch.zst) behind file:// URLs: kforge fetches and verifies them, unpacks, patches, writes the
# localversion files as prepare() does, builds dummy (headers strategy) against a build dir made
# from the host's Debian headers, and installs a dummy.ko.zst whose code is the patched one and
# whose vermagic is 6.6.1-arch1-1. A wrong checksum, a SKIP nothing else verifies and an Arch
# patch that does not set the package's EXTRAVERSION are refused with nothing installed.
set -u
NAME=arch-abs
. "${top_srcdir:-$(dirname "$0")/..}/tests/suite.sh"
need_headers
for c in git tar xz zstd sha256sum b2sum modinfo; do
	command -v $c >/dev/null || { echo "1..0 # SKIP $c is needed to build the stand-in sources"; exit 0; }
done
K=6.6.1-arch1-1

kf() { # CONF kforge-args...
	c=$1
	shift
	env KFORGE_SYSTEM_CONFIG="$c" "$KFORGE" "$@"
}

# the kernel.org tarball: a small tree at 6.6.1 in which dummy is a real module
srv=$tmp/srv
t=$tmp/linux-6.6.1
mkdir -p "$srv" "$t/fs/btrfs"
mini_tree "$t" 6.6.1 "upstream dummy"
echo 'obj-$(CONFIG_BTRFS_FS) += btrfs.o' >"$t/fs/btrfs/Makefile"
tar -C "$tmp" -cJf "$srv/linux-6.6.1.tar.xz" linux-6.6.1

# an Arch patch, as git format-patch writes it: EXTRAVERSION and dummy's description
mkpatch() { # EXTRAVERSION OUT.zst
	g=$tmp/g
	rm -rf "$g"
	cp -a "$t" "$g"
	(cd "$g" && git init -q && git add -A && git -c user.name=t -c user.email=t@t commit -qm base &&
		sed -i "s/^EXTRAVERSION =.*/EXTRAVERSION = $1/" Makefile &&
		sed -i 's/upstream dummy/dummy as Arch patched it/' drivers/net/dummy.c &&
		git -c user.name=t -c user.email=t@t commit -qam "Arch Linux $1" && git format-patch -1 --stdout) >"$tmp/p.patch"
	zstd -q -f "$tmp/p.patch" -o "$2"
}
mkpatch -arch1 "$srv/linux-v6.6.1-arch1.patch.zst"
mkdir -p "$srv/arch2"
mkpatch -arch2 "$srv/arch2/linux-v6.6.1-arch1.patch.zst"
cp "$R/arch/usr/lib/modules/$K/build/.config" "$tmp/config"
sha() { sha256sum "$1" | cut -d' ' -f1; }
b2() { b2sum "$1" | cut -d' ' -f1; }

# a packaging repository (bare, at DIR/linux.git) whose tag 6.6.1.arch1-1 holds FILES; a later
# commit moves on, as the real ones do
mkrepo() { # DIR with-srcinfo|pkgbuild-only PATCHDIR TARBALL_SHA256 TARBALL_B2 [SIGDIR FINGERPRINT]
	w=$tmp/w
	rm -rf "$w"
	mkdir -p "$w"
	cp "$tmp/config" "$w/config"
	psum=$(sha "$3/linux-v6.6.1-arch1.patch.zst")
	cat >"$w/PKGBUILD" <<EOF
pkgbase=linux
pkgname=(linux linux-headers)
pkgver=6.6.1.arch1
pkgrel=1
_srctag=v\${pkgver%.*}-\${pkgver##*.}
source=("file://$srv/linux-\${pkgver%.*}.tar.xz" "file://$3/linux-\$_srctag.patch.zst" config)
sha256sums=('$4' '$psum' '$(sha "$tmp/config")')
prepare() { echo "never run by kforge"; }
EOF
	if [ "$2" = with-srcinfo ]; then
		cat >"$w/.SRCINFO" <<EOF
pkgbase = linux
	pkgdesc = Linux
	pkgver = 6.6.1.arch1
	pkgrel = 1
	arch = x86_64
	source = file://$srv/linux-6.6.1.tar.xz
	source = file://$3/linux-v6.6.1-arch1.patch.zst
	source = config
$([ -n "${6:-}" ] && printf '\tsource = file://%s/linux-v6.6.1-arch1.patch.zst.sig\n' "$6")
$([ -f "${6:-/nonexistent}/linux-6.6.1.tar.sign" ] && printf '\tsource = file://%s/linux-6.6.1.tar.sign\n' "$6")
	validpgpkeys = ${7:-ABAF11C65A2970B130ABE3C479BE3E4300411886}
	sha256sums = $4
	sha256sums = $psum
	sha256sums = $(sha "$tmp/config")
$([ -n "${6:-}" ] && printf '\tsha256sums = SKIP\n')
$([ -f "${6:-/nonexistent}/linux-6.6.1.tar.sign" ] && printf '\tsha256sums = SKIP\n')
	b2sums = $5
	b2sums = $(b2 "$3/linux-v6.6.1-arch1.patch.zst")
	b2sums = $(b2 "$tmp/config")
$([ -n "${6:-}" ] && printf '\tb2sums = SKIP\n')
$([ -f "${6:-/nonexistent}/linux-6.6.1.tar.sign" ] && printf '\tb2sums = SKIP\n')

pkgname = linux

pkgname = linux-headers
EOF
	fi
	(cd "$w" && git init -q && git add -A && git -c user.name=t -c user.email=t@t commit -qm 6.6.1.arch1-1 &&
		git tag 6.6.1.arch1-1 && echo '# 6.6.2.arch1-1 comes here' >>PKGBUILD &&
		git -c user.name=t -c user.email=t@t commit -qam 6.6.2.arch1-1) &&
		git clone -q --bare "$w" "$1/linux.git"
}
good_sha=$(sha "$srv/linux-6.6.1.tar.xz") good_b2=$(b2 "$srv/linux-6.6.1.tar.xz")
mkrepo "$tmp/pkg-good" with-srcinfo "$srv" "$good_sha" "$good_b2"
mkrepo "$tmp/pkg-pkgbuild" pkgbuild-only "$srv" "$good_sha" "$good_b2"
# kforge_fetch verifies one sum, BLAKE2b when the package has one: both are wrong here
mkrepo "$tmp/pkg-badsum" with-srcinfo "$srv" "$(printf '0%.0s' $(seq 64))" "$(printf '0%.0s' $(seq 128))"
mkrepo "$tmp/pkg-skip" with-srcinfo "$srv" SKIP SKIP
mkrepo "$tmp/pkg-arch2" with-srcinfo "$srv/arch2" "$good_sha" "$good_b2"
# signatures: a key of the test's own signs the Arch patch; another file's signature is a bad one
sigs=
if command -v gpg >/dev/null && command -v gpgv >/dev/null; then
	export GNUPGHOME="$tmp/gnupg"
	mkdir -m 700 "$GNUPGHOME"
	if gpg --batch -q --pinentry-mode loopback --passphrase '' --quick-gen-key 'kforge test <test@kforge.invalid>' \
		ed25519 sign never 2>/dev/null; then
		fpr=$(gpg --with-colons --list-keys 2>/dev/null | awk -F: '$1 == "fpr" {print $10; exit}')
		mkdir -p "$srv/sig-good" "$srv/sig-bad"
		gpg --batch -q --yes --detach-sign -o "$srv/sig-good/linux-v6.6.1-arch1.patch.zst.sig" \
			"$srv/linux-v6.6.1-arch1.patch.zst"
		gpg --batch -q --yes --detach-sign -o "$srv/sig-bad/linux-v6.6.1-arch1.patch.zst.sig" "$tmp/config"
		# kernel.org signs the uncompressed tar: linux-6.6.1.tar.sign is checked against the .tar in the .tar.xz
		xz -dc "$srv/linux-6.6.1.tar.xz" | gpg --batch -q --yes --detach-sign -o "$srv/sig-good/linux-6.6.1.tar.sign"
		gpg --batch -q --export >"$tmp/keyring.gpg"
		mkrepo "$tmp/pkg-sig-good" with-srcinfo "$srv" "$good_sha" "$good_b2" "$srv/sig-good" "$fpr"
		mkrepo "$tmp/pkg-sig-bad" with-srcinfo "$srv" "$good_sha" "$good_b2" "$srv/sig-bad" "$fpr"
		sigs="sig-good sig-bad"
	fi
fi
for v in good pkgbuild badsum skip arch2 $sigs; do
	printf '[plugin.arch]\npackaging_url = file://%s/pkg-%s/%%s.git\n[install]\ninitramfs = never\n' "$tmp" $v >"$tmp/$v.conf"
done
for v in $sigs; do
	printf '[plugin.arch]\nkeyring = /etc/kforge/arch-keyring.gpg\n' >>"$tmp/$v.conf"
done

mkroot() { # NAME: the arch fixture with a build dir kforge can really build against
	cp -a "$R/arch" "$tmp/$1"
	synth "$tmp/$1/usr/lib/modules/$K/build" "$K"
}
cache=var/cache/kforge/src

# .SRCINFO, headers strategy: fetched, verified, only drivers/net unpacked and patched, built, installed
mkroot good
if kf "$tmp/good.conf" --root "$tmp/good" -k $K install dummy --strategy headers >"$tmp/out" 2>"$tmp/err"; then
	ok "install dummy through the packaging repository's .SRCINFO (headers strategy)"
else
	not_ok "install dummy through the packaging repository's .SRCINFO (headers strategy)"
	sed 's/^/# /' "$tmp/err"
fi
log=$(sed -n 's/^kforge: log: //p' "$tmp/err" | head -n 1)
check "without a keyring, the log says signatures are not checked" \
	grep -q "signatures are not checked (no keyring: set \[plugin.arch\] keyring" "$log"
ko=$tmp/good/usr/lib/modules/$K/updates/dummy.ko.zst
zstd -dcq "$ko" >"$tmp/dummy.ko" 2>/dev/null
check "dummy.ko.zst in updates/ is the patched code, vermagic exactly $K" sh -c '
	[ "$(modinfo -F description "$1")" = "dummy as Arch patched it" ] && modinfo -F vermagic "$1" | grep -q "^$2 "' \
	_ "$tmp/dummy.ko" $K
tree=$tmp/good/$cache/arch-linux-6.6.1.arch1-1-only-drivers_net
check "the tree holds drivers/net only, patched, with prepare()'s localversion files and a stamp written last" sh -c '
	grep -q "dummy as Arch patched it" "$1/drivers/net/dummy.c" && [ ! -e "$1/Makefile" ] && [ ! -e "$1/fs" ] &&
	[ "$(cat "$1/localversion.10-pkgrel")" = -1 ] && [ "$(cat "$1/localversion.20-pkgname")" = "" ] &&
	[ -f "$1/.kforge-arch-tree" ]' _ "$tree"
check "nothing half-done is left beside it (no .tmp-PID, no .work-PID)" sh -c '
	! ls -d "$1"/*.tmp-* "$1"/*.work-* 2>/dev/null | grep -q .' _ "$tmp/good/$cache"
p=$(kf "$tmp/good.conf" --root "$tmp/good" -k $K plan dummy --strategy headers --json 2>"$tmp/err")
check "the next run finds the tree ready and fetches nothing" sh -c '
	printf "%s" "$1" | jq -e "[.steps[0].actions[].note | select(.)] | any(test(\"tree .* is ready from an earlier run\"))"' _ "$p"

# the full strategy: the whole tree, the release as prepare() makes it; the mini tree has no
# kbuild, so the build stops at make olddefconfig, after derive version accepted the tree
mkroot full
kf "$tmp/good.conf" --root "$tmp/full" -k $K install dummy --strategy full >"$tmp/out" 2>"$tmp/err"
rc=$?
tree=$tmp/full/$cache/arch-linux-6.6.1.arch1-1
check "full: the whole tree, EXTRAVERSION -arch1 from the patch, localversion -1 and \"\", the package's config" sh -c '
	grep -qx "EXTRAVERSION = -arch1" "$1/Makefile" && [ -d "$1/fs/btrfs" ] &&
	[ "$(cat "$1/localversion.10-pkgrel")" = -1 ] && [ "$(cat "$1/localversion.20-pkgname")" = "" ] &&
	cmp -s "$1/.kforge-arch-config" "$2"' _ "$tree" "$tmp/config"
log=$(sed -n 's/^kforge: log: //p' "$tmp/err" | head -n 1)
check "full: derive version accepted it (release $K, no KERNELRELEASE) and configure used the package's config" sh -c '
	[ "$1" -eq 4 ] && grep -q "make olddefconfig failed" "$2" &&
	grep -q "release $4: 6.6.1 + EXTRAVERSION \"-arch1\" (the patch) + localversion.10-pkgrel \"-1\" + localversion.20-pkgname \"\" + CONFIG_LOCALVERSION \"\": no KERNELRELEASE needed" "$3" &&
	grep -q "configuration: the packaging repository.s config" "$3" && ! grep -q KERNELRELEASE= "$3"' \
	_ "$rc" "$tmp/err" "$log" $K

# a patch that does not set the package's EXTRAVERSION: refused, naming both
mkroot arch2
kf "$tmp/arch2.conf" --root "$tmp/arch2" -k $K install dummy --strategy full >"$tmp/out" 2>"$tmp/err"
check "full: an Arch patch setting -arch2 for pkgver 6.6.1.arch1 is refused, both named" sh -c '
	grep -q "Makefile is \"-arch2\", the package.s _srctag.s is \"-arch1\"" "$1" && ! grep -q olddefconfig "$1"' _ "$tmp/err"

# only a PKGBUILD: evaluated in the sandbox, the same sources, the same module
mkroot pkgbuild
kf "$tmp/pkgbuild.conf" --root "$tmp/pkgbuild" -k $K install dummy --strategy headers >"$tmp/out" 2>"$tmp/err"
rc=$?
zstd -dcq "$tmp/pkgbuild/usr/lib/modules/$K/updates/dummy.ko.zst" >"$tmp/dummy2.ko" 2>/dev/null
check "no .SRCINFO: the PKGBUILD evaluated unprivileged gives the sources; dummy built from them" sh -c '
	[ "$1" -eq 0 ] && [ "$(modinfo -F description "$2")" = "dummy as Arch patched it" ]' _ "$rc" "$tmp/dummy2.ko"
[ "$rc" -eq 0 ] || sed 's/^/# /' "$tmp/err"

# a wrong checksum, and a SKIP nothing else verifies: refused, nothing unpacked, nothing installed
for v in badsum skip; do
	mkroot $v
	kf "$tmp/$v.conf" --root "$tmp/$v" -k $K install dummy --strategy headers >"$tmp/out" 2>"$tmp/err"
	rc=$?
	case $v in
	badsum) what="a wrong checksum: refused naming the file and the sums" needle="0000000000000000" ;;
	skip) what="SKIP for the tarball, no keyring: refused" needle="has no checksum in linux 6.6.1.arch1-1's sources (SKIP)" ;;
	esac
	check "$what; no tree, nothing installed" sh -c '
		[ "$1" -ne 0 ] && grep -q "linux-6.6.1.tar.xz" "$2" && grep -qF -- "$3" "$2" &&
		! ls -d "$4"/'"$cache"'/arch-linux-* 2>/dev/null | grep -q . && [ ! -e "$4/usr/lib/modules/$5/updates/dummy.ko.zst" ]' \
		_ "$rc" "$tmp/err" "$needle" "$tmp/$v" $K
done
# a keyring under the root: gpgv checks the patch's signature against validpgpkeys
if [ -z "$sigs" ]; then
	skip "a good signature by a key validpgpkeys names: installed" "gpg could not make a key here"
	skip "a signature that does not verify: refused, nothing installed" "gpg could not make a key here"
fi
for v in $sigs; do
	mkroot $v
	mkdir -p "$tmp/$v/etc/kforge"
	cp "$tmp/keyring.gpg" "$tmp/$v/etc/kforge/arch-keyring.gpg"
	kf "$tmp/$v.conf" --root "$tmp/$v" -k $K install dummy --strategy headers >"$tmp/out" 2>"$tmp/err"
	rc=$?
	log=$(sed -n 's/^kforge: log: //p' "$tmp/err" | head -n 1)
	if [ $v = sig-good ]; then
		check "good signatures by the key validpgpkeys names (the patch's, the tarball's .tar inside .tar.xz): dummy installed" sh -c '
			[ "$1" -eq 0 ] &&
			[ "$(grep -c "^\$ gpgv --status-fd 1 --keyring $2/etc/kforge/arch-keyring.gpg " "$3")" -eq 2 ] &&
			grep -q "^\$ gpgv --status-fd 1 --keyring $2/etc/kforge/arch-keyring.gpg .*/linux-6.6.1.tar\$" "$3" &&
			[ "$(grep -c "^gpgv: Good signature from" "$3")" -eq 2 ] &&
			[ -f "$2/usr/lib/modules/$4/updates/dummy.ko.zst" ]' _ "$rc" "$tmp/$v" "$log" $K
	else
		check "a signature that does not verify: refused naming both files, nothing installed" sh -c '
			[ "$1" -eq 5 ] &&
			grep -q "the signature linux-v6.6.1-arch1.patch.zst.sig of linux-v6.6.1-arch1.patch.zst does not verify" "$2" &&
			[ ! -e "$3/usr/lib/modules/$4/updates/dummy.ko.zst" ]' _ "$rc" "$tmp/err" "$tmp/$v" $K
	fi
	[ "$rc" -eq 0 ] || [ $v = sig-bad ] || sed 's/^/# /' "$tmp/err"
done
tap_done
