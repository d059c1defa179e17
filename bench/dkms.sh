#!/bin/sh
# bench/dkms.sh: kforge against DKMS on Debian's real *-dkms packages, each case measured
# alternating in one run (the machine is shared and noisy: ratios, never a verdict from one time),
# with the peak memory of each beside it (bench/measure.py):
#   install:     a first install of v4l2loopback-dkms (PKG=NAME: another of the six) for KVER
#                (kforge install PKGDIR --rebuild into a tree of its own) vs `dkms install` of the
#                same package (its build removed first), the bare make beside. Target: <= 0.65.
#                CASES=install measures this one alone.
#   autoinstall: six packages installed for KVER, rebuilt for a second kernel (KVER's cloud
#                flavour): `kforge autoinstall -k K2 --rebuild` vs `dkms autoinstall -k K2`, and
#                kforge's CPU-bound limit (user+sys)/cores beside (the machine's busy CPU time
#                over the run, bench/measure.py: the sandboxed makes' is not in kforge's rusage). Targets: dkms/kforge >= 1.8,
#                kforge within 10% of its limit.
# DKMS runs in a mount namespace of its own: /etc/dkms (its trees and signing key under the work
# folder), /var/lib/dkms and /lib/modules are the bench's, so the machine's are never touched.
# Needs root, dkms (apt-get install dkms: for this bench only) and the packages' .debs (apt-get
# download, cached in /var/cache/kforge-e2e/dkms as the e2e suite caches them).
# Prints each ratio with its target, "ok" or "MISSED"; exits 1 when one is missed.
set -eu
. "$(dirname "$0")/common.sh" 3
command -v dkms >/dev/null || { echo "bench: needs dkms (apt-get install dkms)" >&2; exit 3; }
K2=${KVER%-amd64}-cloud-amd64
[ -d "/usr/src/linux-headers-$K2" ] || { echo "bench: needs linux-headers-$K2" >&2; exit 3; }
w=$(mktemp -d /var/tmp/kforge-dkms-bench-XXXXXX)
chmod 755 "$w"
trap 'rm -rf "$w"' EXIT
M="python3 $top/bench/measure.py"
fail=0
cores=$(nproc)
mean() { awk -v c="$2" '{ s += $c; n++ } END { printf "%.4f", s / n }' "$1"; }
most() { awk -v c="$2" '$c > m { m = $c } END { printf "%d", m }' "$1"; }
verdict() { if [ "$(echo "$2" | bc -l)" = 1 ]; then echo "$1 ok"; else echo "$1 MISSED"; fail=1; fi; }

# the packages, unpacked: $w/pkgs/NAME-VER
E=/var/cache/kforge-e2e/dkms
mkdir -p "$E" "$w/pkgs" "$w/x"
pkgs="v4l2loopback-dkms tp-smapi-dkms ddcci-dkms openvpn-dco-dkms dm-writeboost-dkms nat-rtsp-dkms"
for p in $pkgs; do
	deb=$(ls "$E/${p}_"*.deb 2>/dev/null | head -n1)
	[ -n "$deb" ] || { (cd "$E" && apt-get download -q "$p" >/dev/null 2>&1); deb=$(ls "$E/${p}_"*.deb | head -n1); }
	dpkg-deb -x "$deb" "$w/x/$p"
	src=$(ls -d "$w/x/$p"/usr/src/*-*/ | head -n1)
	cp -a "${src%/}" "$w/pkgs/"
done
chmod -R go+rX "$w/pkgs"
# the package of the install case: PKG (a source folder name's start), v4l2loopback by default
v4l=$(basename "$(ls -d "$w"/pkgs/"${PKG:-v4l2loopback}"-* | head -n1)")

# DKMS's world: its framework.conf pointing at the bench's trees, a signing key of its own
mkdir -p "$w/etc-dkms/framework.conf.d" "$w/var-lib-dkms" "$w/lib-modules/$KVER" "$w/lib-modules/$K2" "$w/dsrc"
cp /etc/dkms/framework.conf "$w/etc-dkms/"
printf 'source_tree="%s/dsrc"\nmok_signing_key="%s/mok.key"\nmok_certificate="%s/mok.pub"\n' "$w" "$w" "$w" \
	>"$w/etc-dkms/framework.conf.d/bench.conf"
ln -s "/usr/src/linux-headers-$KVER" "$w/lib-modules/$KVER/build"
ln -s "/usr/src/linux-headers-$K2" "$w/lib-modules/$K2/build"
cp -a "$w"/pkgs/* "$w/dsrc/"
openssl req -new -x509 -nodes -days 36500 -subj "/CN=kforge bench/" -newkey rsa:2048 -keyout "$w/mok.key" \
	-outform DER -out "$w/mok.pub" >/dev/null 2>&1
# dkms CMD...: DKMS in its own mount namespace, the bench's folders in place of the machine's
cat >"$w/dkms-ns" <<EOF
#!/bin/sh
mount --bind "$w/etc-dkms" /etc/dkms && mount --bind "$w/var-lib-dkms" /var/lib/dkms &&
mount --bind "$w/lib-modules" /lib/modules && exec dkms "\$@"
EOF
chmod 755 "$w/dkms-ns"
dk() { unshare -m "$w/dkms-ns" "$@"; }

# kforge's: its cache, logs and key in the work folder, the modules into trees of their own; no
# ccache (DKMS has none, and a warm one would make a repeated round no first install)
printf '[build]\ncache_dir = %s/cache\nccache = no\n[log]\ndir = %s/log\n[install]\ninitramfs = never\nsign_key = %s/mok.key\nsign_cert = %s/mok.pub\n' \
	"$w" "$w" "$w" "$w" >"$w/kforge.conf"
export KFORGE_SYSTEM_CONFIG=$w/kforge.conf

# --- install --------------------------------------------------------------------------------------
n=${v4l%%-[0-9]*}
ver=${v4l#"$n"-}
dk add -m "$n" -v "$ver" >/dev/null
: >"$w/inst-kf"
: >"$w/inst-dk"
: >"$w/inst-mk"
for i in $(seq "$ROUNDS"); do
	rm -rf "$w/kimp"
	$M "$KFORGE" -q -k "$KVER" --rebuild install "$w/pkgs/$v4l" --install-mod-path "$w/kimp" >>"$w/inst-kf"
	dk remove -m "$n" -v "$ver" -k "$KVER" >/dev/null 2>&1 || true
	$M unshare -m "$w/dkms-ns" install -m "$n" -v "$ver" -k "$KVER" >>"$w/inst-dk"
	# the bare make both wrap, in a fresh copy: the limit of either
	rm -rf "$w/bare"
	cp -a "$w/pkgs/$v4l" "$w/bare"
	$M make -j"$cores" KERNELRELEASE="$KVER" -C "$BUILD" M="$w/bare" modules >>"$w/inst-mk"
done
[ -n "$(find "$w/kimp" -name '*.ko*')" ] && [ -n "$(find "$w/lib-modules/$KVER" -name '*.ko*')" ] ||
	{ echo "bench: an install of $v4l made no module" >&2; exit 1; }
kf=$(mean "$w/inst-kf" 1)
dm=$(mean "$w/inst-dk" 1)
r=$(echo "$kf / $dm" | bc -l)
printf 'install %s for %s, %s rounds alternating:\n' "$v4l" "$KVER" "$ROUNDS"
printf '  kforge install PKGDIR --rebuild: %7.3f s, peak %6d KiB\n' "$kf" "$(most "$w/inst-kf" 4)"
printf '  dkms install -m -v -k:           %7.3f s, peak %6d KiB\n' "$dm" "$(most "$w/inst-dk" 4)"
mk=$(mean "$w/inst-mk" 1)
printf '  make -C BUILD M=COPY (the limit): %7.3f s, peak %6d KiB; make/dkms = %5.3f\n' "$mk" "$(most "$w/inst-mk" 4)" \
	"$(echo "$mk / $dm" | bc -l)"
verdict "$(printf '  ratio install = %5.3f (target <= 0.65)' "$r")" "$r <= 0.65"

# --- autoinstall ----------------------------------------------------------------------------------
[ "${CASES:-install autoinstall}" != install ] || exit $fail
rm -rf "$w/kimp"
for p in "$w"/pkgs/*; do
	"$KFORGE" -q -k "$KVER" install "$p" --install-mod-path "$w/kimp" >/dev/null
	b=$(basename "$p")
	[ "$b" = "$v4l" ] && continue
	dk add -m "${b%%-[0-9]*}" -v "${b#"${b%%-[0-9]*}"-}" >/dev/null
	dk install -m "${b%%-[0-9]*}" -v "${b#"${b%%-[0-9]*}"-}" -k "$KVER" >/dev/null
done
cp -a "$w/kimp" "$w/kimp-a"
: >"$w/auto-kf"
: >"$w/auto-dk"
for i in $(seq "$ROUNDS"); do
	rm -rf "$w/kimp-r"
	cp -a "$w/kimp-a" "$w/kimp-r"
	$M "$KFORGE" -q -k "$K2" --rebuild autoinstall --install-mod-path "$w/kimp-r" >>"$w/auto-kf" || true
	for p in "$w"/pkgs/*; do
		b=$(basename "$p")
		dk remove -m "${b%%-[0-9]*}" -v "${b#"${b%%-[0-9]*}"-}" -k "$K2" >/dev/null 2>&1 || true
	done
	# a package that does not build for K2 fails DKMS's autoinstall (and kforge's): counted below
	$M unshare -m "$w/dkms-ns" autoinstall -k "$K2" >>"$w/auto-dk" || true
done
nk=$(find "$w/kimp-r/lib/modules/$K2" -name '*.ko*' | wc -l)
nd=$(find "$w/lib-modules/$K2" -name '*.ko*' | wc -l)
kf=$(mean "$w/auto-kf" 1)
dm=$(mean "$w/auto-dk" 1)
# the CPU kforge's run kept busy, all its processes (the sandboxed makes too): the machine's, idle otherwise
limit=$(awk -v c="$cores" '{ s += $5; n++ } END { printf "%.4f", s / n / c }' "$w/auto-kf")
r=$(echo "$dm / $kf" | bc -l)
l=$(echo "$kf / $limit" | bc -l)
printf 'autoinstall of 6 packages for %s (installed for %s), %s rounds alternating, %s cores:\n' "$K2" "$KVER" "$ROUNDS" "$cores"
printf '  kforge autoinstall --rebuild: %7.3f s, peak %6d KiB, %d modules; CPU-bound limit (user+sys)/cores %7.3f s\n' \
	"$kf" "$(most "$w/auto-kf" 4)" "$nk" "$limit"
dlimit=$(awk -v c="$cores" '{ s += $5; n++ } END { printf "%.4f", s / n / c }' "$w/auto-dk")
printf '  dkms autoinstall:             %7.3f s, peak %6d KiB, %d modules; (user+sys)/cores %7.3f s\n' "$dm" \
	"$(most "$w/auto-dk" 4)" "$nd" "$dlimit"
# no tool doing kforge's compiles can beat its CPU-bound limit: dkms/limit is the best ratio here
printf '  the best any tool could: dkms/(kforge limit) = %5.3f\n' "$(echo "$dm / $limit" | bc -l)"
verdict "$(printf '  ratio dkms/kforge = %5.3f (target >= 1.8)' "$r")" "$r >= 1.8"
verdict "$(printf '  kforge/limit = %5.3f (target <= 1.10)' "$l")" "$l <= 1.10"
exit $fail
