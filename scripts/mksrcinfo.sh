#!/bin/bash
# mksrcinfo.sh PKGBUILD: prints the .SRCINFO of PKGBUILD, as makepkg --printsrcinfo does (the
# fields in its order, arrays one line per element), for a machine without makepkg. Reads only
# kforge's own PKGBUILD (packaging/arch): the file is sourced by bash.
set -eu
pkgbuild=${1:?usage: mksrcinfo.sh PKGBUILD}
# shellcheck disable=SC1090
. "$pkgbuild"
field() { # name values...
	local name=$1 v
	shift
	for v in "$@"; do
		[ -n "$v" ] && printf '\t%s = %s\n' "$name" "$v"
	done
	return 0
}
printf 'pkgbase = %s\n' "${pkgbase:-${pkgname[0]}}"
field pkgdesc "${pkgdesc:-}"
field pkgver "$pkgver"
field pkgrel "$pkgrel"
field epoch "${epoch:-}"
field url "${url:-}"
field install "${install:-}"
field changelog "${changelog:-}"
for a in arch groups license checkdepends makedepends depends optdepends provides conflicts replaces \
	noextract options backup source validpgpkeys md5sums sha1sums sha224sums sha256sums sha384sums \
	sha512sums b2sums; do
	declare -n ref=$a 2>/dev/null || true
	if declare -p "$a" >/dev/null 2>&1; then
		field "$a" "${ref[@]}"
	fi
	unset -n ref
done
for p in "${pkgname[@]}"; do
	printf '\npkgname = %s\n' "$p"
done
