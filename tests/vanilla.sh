#!/bin/sh
# vanilla.sh: a kernel.org kernel with a LOCALVERSION (6.1.192-custom) on a system no distribution
# plugin claims (TAP). The vanilla plugin fetches kernel.org's sha256sums.asc and linux-6.1.192.tar.xz
# through [sources] rewrite from the stand-in server (tests/lib/httpd.py on 127.0.0.1), verifies
# the tarball against the list, unpacks only the module's folder and builds dummy against a build
# dir made from the host's Debian headers: the installed module's vermagic is exactly 6.1.192-custom.
# A tarball whose sum the list contradicts is refused with both sums, a release the list does not
# know is refused with the way out.
set -u
NAME=vanilla
. "${top_srcdir:-$(dirname "$0")/..}/tests/suite.sh"
need_headers
K=6.1.192-custom

# kernel.org's v6.x folder: a small 6.1.192 tree (the version of the host's headers, which the
# build dir is made from) in which dummy is a real module, and the list of sums
srv=$tmp/srv
t=$tmp/linux-6.1.192
mkdir -p "$srv/good" "$srv/bad" "$srv/unlisted"
mini_tree "$t" 6.1.192 "kernel.org dummy"
tar -C "$tmp" -cJf "$srv/good/linux-6.1.192.tar.xz" linux-6.1.192
sum=$(sha256sum "$srv/good/linux-6.1.192.tar.xz" | cut -d' ' -f1)
wrong=$(printf '0%.0s' $(seq 64))
sums() { # SUM-OF-6.1.192 [NAME]: a clearsigned list as kernel.org writes it (the signature is not checked here)
	printf -- '-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n'
	printf '%s  linux-6.5.tar.xz\n' "$(printf 'a%.0s' $(seq 64))"
	printf '%s  %s\n' "$1" "${2:-linux-6.1.192.tar.xz}"
	printf -- '-----BEGIN PGP SIGNATURE-----\n\nnone\n-----END PGP SIGNATURE-----\n'
}
sums "$sum" >"$srv/good/sha256sums.asc"
cp "$srv/good/linux-6.1.192.tar.xz" "$srv/bad/"
sums "$wrong" >"$srv/bad/sha256sums.asc"
cp "$srv/good/linux-6.1.192.tar.xz" "$srv/unlisted/"
sums "$sum" linux-6.1.191.tar.xz >"$srv/unlisted/sha256sums.asc"

serve "$srv"
conf() { # FOLDER: kernel.org's v6.x is the stand-in's FOLDER
	printf '[sources]\nrewrite = https://cdn.kernel.org/pub/linux/kernel/v6.x/ http://127.0.0.1:%s/%s/\n[install]\ninitramfs = never\n' \
		"$port" "$1" >"$tmp/$1.conf"
}
conf good
conf bad
conf unlisted
mkroot() { # NAME: the unknown fixture, its kernel as $K with a headers-only build dir (not a whole tree)
	r=$tmp/$1
	cp -a "$R/unknown" "$r"
	mv "$r/lib/modules/6.6.1-custom" "$r/lib/modules/$K"
	rm -f "$r/lib/modules/$K/build"
	synth "$r/lib/modules/$K/build" "$K"
}
kf() { # CONF ROOT RELEASE args...
	c=$1 r=$2 k=$3
	shift 3
	KFORGE_SYSTEM_CONFIG="$tmp/$c.conf" "$KFORGE" --root "$r" -k "$k" "$@"
}

mkroot plan
out=$(kf good "$tmp/plan" $K plan dummy 2>&1)
check "plan: the vanilla plugin names kernel.org's tarball and the list of sums, after the rewrite" sh -c '
	printf "%s" "$1" | grep -q "locate source \[vanilla\]" &&
	printf "%s" "$1" | grep -q "kernel.org.s linux-6.1.192.tar.xz, built with the local version -custom" &&
	printf "%s" "$1" | grep -q "https://cdn.kernel.org/pub/linux/kernel/v6.x/sha256sums.asc (via http://127.0.0.1:$2/good/sha256sums.asc" &&
	printf "%s" "$1" | grep -q "linux-6.1.192.tar.xz is verified against the sha256 that sha256sums.asc lists"' _ "$out" "$port"
check "plan: nothing fetched" sh -c '! [ -s "$1" ] && ! [ -d "$2/var/cache/kforge/downloads" ]' _ "$tmp/requests" "$tmp/plan"

mkroot good
kf good "$tmp/good" $K install dummy >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 0 ] || sed 's/^/# /' "$tmp/err"
check "install dummy: fetched through the rewrite, verified against sha256sums.asc, installed" test $rc -eq 0
ko=$(ls "$tmp/good/lib/modules/$K/updates/dummy.ko"* 2>/dev/null | head -n 1)
case $ko in *.gz) gzip -dc "$ko" >"$tmp/dummy.ko" ;; *) cp "$ko" "$tmp/dummy.ko" 2>/dev/null ;; esac
check "the module is kernel.org's code, vermagic exactly $K" sh -c '
	[ "$(modinfo -F description "$1")" = "kernel.org dummy" ] && modinfo -F vermagic "$1" | grep -q "^$2 "' _ "$tmp/dummy.ko" $K
check "the server was asked for the list and the tarball, once each" sh -c '
	[ "$(grep -c "GET /good/sha256sums.asc" "$1")" -eq 1 ] && [ "$(grep -c "GET /good/linux-6.1.192.tar.xz" "$1")" -eq 1 ]' \
	_ "$tmp/requests"
check "the tarball is kept by its sha256 in the cache" test -f "$tmp/good/var/cache/kforge/downloads/sha256/$sum"
: >"$tmp/requests"
kf good "$tmp/good" $K install dummy >"$tmp/out" 2>"$tmp/err2"
check "a second install fetches the tarball no more" sh -c '[ $1 -eq 0 ] && ! grep -q "linux-6.1.192.tar.xz" "$2"' _ $? "$tmp/requests"

mkroot bad
kf bad "$tmp/bad" $K install dummy >"$tmp/out" 2>"$tmp/err"
rc=$?
check "a tarball the list contradicts: refused (exit 5) naming the file and both sums, nothing installed" sh -c '
	[ $1 -eq 5 ] && grep -q "linux-6.1.192.tar.xz" "$2" && grep -q "$3" "$2" && grep -q "$4" "$2" &&
	! ls "$5"/lib/modules/6.1.192-custom/updates/dummy.ko* >/dev/null 2>&1' _ $rc "$tmp/err" "$sum" "$wrong" "$tmp/bad"

mkroot unlisted
kf unlisted "$tmp/unlisted" $K install dummy >"$tmp/out" 2>"$tmp/err"
rc=$?
check "a release the list does not know: exit 3, naming the list, the file and --source" sh -c '
	[ $1 -eq 3 ] && grep -q "sha256sums.asc lists no linux-6.1.192.tar.xz" "$2" && grep -q -- "--source" "$2"' _ $rc "$tmp/err"

tap_done
