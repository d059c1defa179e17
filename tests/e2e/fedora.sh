#!/bin/sh
# e2e/fedora.sh: the Fedora proof on a real kernel (TAP). kernels.sh built 6.1.192-300.fc39.x86_64
# from the tree `rpmbuild -rp` prepares from a stand-in kernel SRPM (Fedora's shape: the tarball,
# patch-6.1-redhat.patch applied by ApplyOptionalPatch, EXTRAVERSION set as the spec's %build
# does; modules .ko.xz, no MODVERSIONS). Around it a fixture Fedora 39 root (fedora-root.sh:
# kernel-core, kernel-modules, kernel-devel in /usr/src/kernels/KVER, dracut). kforge finds the
# source the way the fedora plugin does on a real Fedora system without dnf: the SRPM of the exact
# release from Koji, https://kojipkgs.fedoraproject.org/packages/kernel/6.1.192/300.fc39/src/
# kernel-6.1.192-300.fc39.src.rpm, here through `[sources] rewrite` from a stand-in HTTP server on
# 127.0.0.1 (tests/lib/httpd.py). It builds dummy with each strategy (headers: against kernel-devel;
# full: in the prepared tree), installs dummy.ko.xz into updates/, runs `dracut -f --kver KVER`
# (the shim records it: the image lists dummy), and the kernel booted under qemu loads that file.
# Then the same with `[plugin.fedora] prep = data` (the spec's patch lines read as data, no
# rpmbuild), `--source` the prepared tree, and `[plugin.fedora] srpm = PATH` (an SRPM already
# under the root): no download at all.
# Each kforge run's output is kept in the test's folder and shown when a case fails.
# shellcheck disable=SC1091,SC2154 # kernels.sh's paths.sh, the variables fedora-root.sh prints
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
e2e_name=fedora
. "$top/tests/e2e/lib.sh"

e2e_kernels
[ -n "${RELEASE_fedora:-}" ] || { echo "Bail out! kernels.sh built no fedora kernel"; exit 1; }
K=$RELEASE_fedora
V=6.1.192 R=300.fc39
KOJI=https://kojipkgs.fedoraproject.org/
SRPM_PATH=packages/kernel/$V/$R/src/kernel-$V-$R.src.rpm

# Koji's folder on 127.0.0.1: the stand-in SRPM at its Koji path
serve_standin "$FEDORA_HTTP_DIR"
# kernel.org too, to a folder the stand-in does not have: a kforge that looked anywhere but Koji
# (the vanilla plugin's tarball) fails here, visibly, instead of reaching the real host
REWRITE=$(printf 'rewrite = %s %s\n  %s %s' "$KOJI" "http://127.0.0.1:$port/" \
	https://cdn.kernel.org/ "http://127.0.0.1:$port/not-koji/cdn.kernel.org/")
printf '[sources]\n%s\n' "$REWRITE" >"$work/kforge.conf"

# kforge with configuration CONF (default the stand-in's); output in $work/NAME.out
kf() { # name conf kforge-args...
	n=$1 c=$2
	shift 2
	KFORGE_SYSTEM_CONFIG=$c "$KFORGE" -j "$(nproc)" "$@" >"$work/$n.out" 2>&1
}
show() { sed 's/^/# /' "$work/$1.out"; }

# the module kforge installed for K under ROOT, uncompressed into $work/NAME.ko; prints its path
# in the root
installed() { # name root
	f=$(ls "$2/lib/modules/$K/updates/dummy.ko"* 2>/dev/null | head -n 1)
	rm -f "$work/$1.ko"
	case $f in
	*.ko.xz) xz -dc "$f" >"$work/$1.ko" ;;
	*) return 1 ;;
	esac
	echo "/lib/modules/$K/updates/dummy.ko.xz"
}

# install with STRATEGY, then: dummy.ko.xz (xz with CRC32, as Fedora's modules) in updates/, its
# vermagic exactly K, built from the patched tree, dracut run, and the kernel loads that file
prove() { # name root conf strategy kforge-args...
	n=$1 r=$2 c=$3 s=$4
	shift 4
	export KFORGE_SHIM_LOG=$work/$n.shim
	if PATH="$r.bin:$PATH" kf "$n" "$c" --root "$r" -k "$K" install dummy --strategy "$s" "$@"; then
		ok "$n: kforge install dummy --strategy $s $*"
	else
		not_ok "$n: kforge install dummy --strategy $s $*"
		show "$n"
		skip "$n: the installed module" "nothing installed"
		skip "$n: boot" "nothing installed"
		return 1
	fi
	rel=$(installed "$n" "$r") || rel=/nonexistent
	vm=$(modinfo -F vermagic "$work/$n.ko" 2>/dev/null)
	if [ "$vm" = "$K mod_unload " ] && xz -lv --robot "$r$rel" | grep -q '^stream.*CRC32' &&
		[ "$(modinfo -F fedorapatch "$work/$n.ko")" = "$V-$R" ]; then
		ok "$n: $rel (xz, CRC32) has the vermagic \"$vm\" and the stand-in Fedora patch's modinfo"
	else
		not_ok "$n: $rel (xz, CRC32) has the vermagic \"$K mod_unload \" and the stand-in Fedora patch's modinfo"
		echo "# got \"$vm\", fedorapatch \"$(modinfo -F fedorapatch "$work/$n.ko" 2>/dev/null)\""
		ls -l "$r/lib/modules/$K/updates/" 2>&1 | sed 's/^/# /'
	fi
	check "$n: the dracut shim recorded dracut -f --kver $K (the image lists dummy)" \
		grep -qx "dracut -f --kver $K" "$KFORGE_SHIM_LOG"
	expect_loaded "$n" "$K" "$r" "$(boot_kernel "$KERNEL_fedora" "$K" "$r" dummy)" dummy "$rel"
}

# a Fedora 39 root $work/NAME around K (fedora-root.sh with ARGS), its initramfs holding dummy: sets
# root; the stand-in's request log starts empty
fedora_root() { # name fedora-root.sh-args...
	root=$work/$1
	shift
	: >"$work/requests"
	eval "$("$top/tests/e2e/fedora-root.sh" --root "$root" "$@" \
		--image-holds "usr/lib/modules/$K/kernel/drivers/net/dummy.ko.xz" 2>"$root.err")" || sed 's/^/# /' "$root.err"
}

# --- the SRPM from Koji (the stand-in), with each strategy
root=$work/fedora
if eval "$("$top/tests/e2e/fedora-root.sh" --root "$root" \
	--image-holds "usr/lib/modules/$K/kernel/drivers/net/dummy.ko.xz" 2>"$work/fedora-root.err")"; then
	ok "fedora-root.sh: a Fedora 39 root around $K, its initramfs holding dummy"
else
	not_ok "fedora-root.sh: a Fedora 39 root around $K"
	sed 's/^/# /' "$work/fedora-root.err"
fi
kf plan "$work/kforge.conf" --root "$root" -k "$K" plan dummy --strategy full
check "plan: names the fedora plugin, the Koji URL of kernel-$V-$R.src.rpm and its rewrite, fetches nothing" sh -c '
	grep -q "fedora" "$1" && grep -qF "$2" "$1" && grep -qF "127.0.0.1:$3" "$1" && ! [ -s "$4" ] || { cat "$1"; exit 1; }' \
	_ "$work/plan.out" "$KOJI$SRPM_PATH" "$port" "$work/requests"
check "plan: says dracut -f --kver $K will refresh the image" grep -qF "dracut -f --kver $K" "$work/plan.out"
check "plan: prepares the tree with rpmbuild -bp (rpmbuild is installed here: scripts/deps.sh)" \
	grep -q "rpmbuild -bp" "$work/plan.out"
# full first: the whole tree it prepares serves the headers strategy after it (one rpmbuild -bp)
for s in full headers; do
	prove "koji-$s" "$root" "$work/kforge.conf" "$s"
done
check "koji: rpmbuild -bp ran once, for the full strategy; the headers strategy took that tree" sh -c '
	[ "$(cat "$1"/var/log/kforge/*.log | grep -c "rpmbuild -bp --nodeps")" -eq 1 ] &&
	grep -q "tree .*/src/fedora-$2-rpmbuild is ready from an earlier run" "$1"/var/log/kforge/*.log ||
	{ grep -h "rpmbuild -bp --nodeps\|ready from" "$1"/var/log/kforge/*.log; exit 1; }' _ "$root" "$K"
check "koji: the SRPM was fetched from the stand-in once, over both strategies; nothing from kernel.org" sh -c '
	[ "$(grep -c "^GET /$2 " "$1")" -eq 1 ] && ! grep -q "^GET /not-koji/" "$1" || { cat "$1"; exit 1; }' \
	_ "$work/requests" "$SRPM_PATH"
kf status "$work/kforge.conf" --root "$root" -k "$K" status
check "koji: kforge status lists dummy installed for $K" sh -c 'grep -q dummy "$1" && grep -qF "$2" "$1" || { cat "$1"; exit 1; }' \
	_ "$work/status.out" "$K"

# --- the same SRPM with its spec read as data ([plugin.fedora] prep = data: what kforge does where
# neither rpmbuild nor rpmspec is installed): the full strategy needs the tree's release exact
fedora_root fedora-data --link-build
printf '[sources]\n%s\n[plugin.fedora]\nprep = data\n' "$REWRITE" >"$work/data.conf"
if prove "data-full" "$root" "$work/data.conf" full; then
	check "data: the SRPM fetched once; no rpmbuild -bp in the run's log" sh -c '
		[ "$(grep -c "^GET /$2 " "$1")" -eq 1 ] && ! grep -q "rpmbuild -bp" "$3" && ! grep -rqs "rpmbuild -bp" "$4" ||
		{ cat "$1" "$3"; exit 1; }' _ "$work/requests" "$SRPM_PATH" "$work/data-full.out" "$root/var/log/kforge"
else
	skip "data: the SRPM fetched once; no rpmbuild -bp in the run's log" "nothing installed"
fi

# --- --source: the tree rpmbuild -rp prepared (the one the kernel was built from), headers
# strategy: every step but the fedora plugin's own source location (its hooks are not involved)
fedora_root fedora-tree --link-build
if prove "tree-headers" "$root" "$work/kforge.conf" headers --source "$TREE_fedora"; then
	check "tree: --source a prepared tree: nothing fetched" sh -c '! [ -s "$1" ] || { cat "$1"; exit 1; }' _ "$work/requests"
else
	skip "tree: --source a prepared tree: nothing fetched" "nothing installed"
fi

# --- [plugin.fedora] srpm = a file under the root: nothing fetched
fedora_root fedora-local --build-link abs
mkdir -p "$root/var/tmp"
cp "$FEDORA_SRPM" "$root/var/tmp/kernel-$V-$R.src.rpm"
# prep = data: the headers strategy then unpacks drivers/net/ alone (what the SRPM is read from is
# the point here; rpmbuild -bp is proved above)
printf '[sources]\n%s\n[plugin.fedora]\nsrpm = /var/tmp/kernel-%s-%s.src.rpm\nprep = data\n' "$REWRITE" "$V" "$R" >"$work/local.conf"
if prove "local-headers" "$root" "$work/local.conf" headers; then
	check "local: [plugin.fedora] srpm under the root (its build link absolute, as Fedora's): nothing fetched" \
		sh -c '! [ -s "$1" ] || { cat "$1"; exit 1; }' _ "$work/requests"
else
	skip "local: [plugin.fedora] srpm under the root: nothing fetched" "nothing installed"
fi

tap_done
