#!/bin/sh
# e2e/dkms.sh: external modules and Debian's own *-dkms packages built by kforge for a real Debian
# kernel and loaded in it under qemu (TAP; the harness is lib.sh's, as run.sh's cases).
#
# 1. A/B/A: a folder built for kernel A (Debian's standard flavour), then for kernel B (its rt
#    flavour, then its cloud flavour: both fail at modpost, after every object was compiled for
#    them), then for A again (flavour-main.c changed, so A's build must really run): the module
#    installed for A is generation 2, says "standard", and loads in A. Why cloud: its headers
#    share A's common folder, so kbuild's command lines for A and cloud are the same and kbuild
#    alone cannot tell cloud's flavour.o from A's; in a folder shared between kernels A's second
#    build links cloud's flavour.o and fails (a call no kernel has), which is what the test
#    catches. rt's command lines differ from A's (its own common folder): kbuild would rebuild
#    after rt alone, so rt catches only a kforge that reuses or skips on its own (the
#    generation). The rt build comes first: in a shared folder it recompiles everything, so
#    that cloud's build compiles too.
# 2. Real bookworm *-dkms packages, fetched with `apt-get download` (cached under
#    $E/dkms, keyed by the package's version), unpacked with dpkg-deb -x, never installed:
#    `kforge install DIR/usr/src/NAME-VER` for each into one --install-mod-path tree, the modules
#    it installed named exactly as DKMS names them (issue10-dkms-notes.md §7), each with the
#    kernel's vermagic, and all loaded by modprobe in one boot of that kernel.
# 3. v4l2loopback for the cloud flavour, which has no CONFIG_VIDEO_DEV: skipped (exit 77, the
#    reason named), never failed, nothing installed.
#
# Builds use ccache when it is there (build.cc_launcher, its cache in $E/dkms/kforge) and start
# from an empty kforge work folder each run. Each step prints how long it took.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
e2e_name=dkms
. "$top/tests/e2e/lib.sh"
debian_kernels
mkdir -p "$E/dkms"

t_start=$(date +%s)
t_step=$t_start
took() { t_now=$(date +%s); echo "# $1: $((t_now - t_step)) s"; t_step=$t_now; }
show() { sed 's/^/# /' "$work/$1.out"; }
image "$KVER" || { echo "Bail out! cannot get linux-image-$KVER (apt-get download)"; exit 1; }
vermagic=$(modinfo -F vermagic "$E/image-$KVER/lib/modules/$KVER/kernel/drivers/net/dummy.ko")

# --- 1. build A, fail B, build A, load A -------------------------------------------------------
if want aba; then
	# kforge's work folder of its own (a fresh one: what is asserted is this run's builds)
	printf '[build]\ncache_dir = %s/aba-cache\n' "$work" >"$work/aba.conf"
	cp -r "$top/tests/src/flavour" "$work/flavour"
	d=$(modpath aba "$KVER")
	ko=$d/lib/modules/$KVER/updates/kforge_flavour.ko
	aba() { KFORGE_SYSTEM_CONFIG=$work/aba.conf install_case "$@"; }
	if aba aba-a1 "$KVER" "$work/flavour" --install-mod-path "$d" &&
		[ "$(modinfo -F kforge_flavour "$ko")" = standard ] && [ "$(modinfo -F version "$ko")" = 1 ]; then
		ok "A/B/A: built and installed for $KVER (A), flavour standard, generation 1"
	else
		not_ok "A/B/A: built and installed for $KVER (A), flavour standard, generation 1"
		show aba-a1
	fi
	for b in "$RT" "$CLOUD"; do
		mkdir -p "$work/aba-$b"
		aba "aba-$b" "$b" "$work/flavour" --install-mod-path "$work/aba-$b"
		rc=$?
		if [ $rc -ne 0 ] && grep -q 'kforge_flavour_not_in_any_kernel' "$work/aba-$b.out" &&
			[ -z "$(find "$work/aba-$b" -name '*.ko*')" ]; then
			ok "A/B/A: the build for $b (B) fails (exit $rc) at modpost, on the call only a build for B makes"
		else
			not_ok "A/B/A: the build for $b (B) fails at modpost, on the call only a build for B makes"
			echo "# exit $rc"
			show "aba-$b"
		fi
	done
	sed -i 's/#define GENERATION "1"/#define GENERATION "2"/' "$work/flavour/flavour-main.c"
	if aba aba-a2 "$KVER" "$work/flavour" --install-mod-path "$d" &&
		[ "$(modinfo -F kforge_flavour "$ko")" = standard ] && [ "$(modinfo -F version "$ko")" = 2 ] &&
		[ "$(modinfo -F vermagic "$ko")" = "$vermagic" ]; then
		ok "A/B/A: built again for A after B failed: generation 2, flavour standard (no object of B linked), A's vermagic"
		expect_loaded "A/B/A" "$KVER" "$d" "$(boot "$KVER" "$d" kforge_flavour)" kforge_flavour \
			"/lib/modules/$KVER/updates/kforge_flavour.ko"
	else
		not_ok "A/B/A: built again for A after B failed: generation 2, flavour standard (no object of B linked), A's vermagic"
		show aba-a2
		modinfo "$ko" 2>&1 | sed 's/^/# /'
		skip "A/B/A: load under qemu" "the second install for A failed"
	fi
	took "A/B/A"
fi

# --- 2. Debian's *-dkms packages ----------------------------------------------------------------
# each package and the modules DKMS 3.4 builds from it for Debian's kernel (its dkms.conf read by
# DKMS's own read_conf: issue10-dkms-notes.md §7), names as modprobe takes them
pkgs='tp-smapi-dkms:thinkpad_ec,tp_smapi,hdaps
v4l2loopback-dkms:v4l2loopback
ddcci-dkms:ddcci,ddcci-backlight
openvpn-dco-dkms:ovpn-dco-v2
iptables-netflow-dkms:ipt_NETFLOW
dm-writeboost-dkms:dm-writeboost
openrazer-driver-dkms:razerkbd,razermouse,razerkraken,razeraccessory
nat-rtsp-dkms:nf_nat_rtsp,nf_conntrack_rtsp
fixture-kfhdaps-1.0:kfbase,kfhdaps
fixture-kfpatch-1.2:kfpatch_renamed
fixture-kfvideo-0.3:kfvideo
fixture-kfwrap-2.1:kfwrap_a'
# and kforge's fixture packages (tests/dkms/pkgs, fixture-NAME-VER): a MAKE variable that adds a
# module, PATCH/PATCH_MATCH with MAKE_MATCH and DEST_MODULE_NAME (installed renamed), PRE_BUILD's
# configure, a wrapper with BUILT_MODULE_LOCATION sub-folders whose second module a per-module
# BUILD_EXCLUSIVE_CONFIG leaves out
# openrazer-driver-dkms 3.5.1+dfsg-2+deb12u1 is the one whose MAKE does not start with make
# (DKMS adds neither -j nor KERNELRELEASE); its source calls hid_report_raw_event with the five
# arguments of 6.1 before 6.1.192's hid.h took six, so it fails to compile against 6.1.0-56:
# so for that version the proof is that kforge fails it as DKMS's build fails (exit 4, the
# compiler's error in the log, nothing installed); any other version must build and load
broken='openrazer-driver-dkms=3.5.1+dfsg-2+deb12u1'
# the modules whose init refuses a machine without their hardware: thinkpad_ec checks DMI for a
# ThinkPad's embedded controller (-ENODEV); tp_smapi and hdaps need thinkpad_ec, so modprobe
# stops at it (with qemu's DMI made a ThinkPad's, thinkpad_ec's init goes on to read the embedded
# controller, which qemu has not: -ENXIO; tried, no further)
nodev='thinkpad_ec tp_smapi hdaps'

# the package's .deb for its candidate version: from the cache, else `apt-get download`
deb_of() { # package
	ver=$(apt-cache show --no-all-versions "$1" 2>/dev/null | sed -n 's/^Version: //p' | head -n 1)
	[ -n "$ver" ] || { echo "apt-cache knows no $1 (apt-get update?)" >"$work/$1.out"; return 1; }
	fv=$(printf '%s' "$ver" | sed 's/:/%3a/')
	deb=$(ls "$E/dkms/$1_${fv}_"*.deb 2>/dev/null | head -n 1)
	if [ -z "$deb" ]; then
		(cd "$E/dkms" && apt-get download "$1=$ver") >"$work/$1.out" 2>&1
		deb=$(ls "$E/dkms/$1_${fv}_"*.deb 2>/dev/null | head -n 1)
	fi
	[ -n "$deb" ]
}

# the package fetched and unpacked under $X (its folder in $src); a TAP failure when it cannot be
unpack() { # package
	if ! deb_of "$1"; then
		not_ok "$1: apt-get download"
		show "$1"
		return 1
	fi
	rm -rf "${X:?}/$1"
	dpkg-deb -x "$deb" "$X/$1"
	src=$(ls -d "$X/$1"/usr/src/*-*/ 2>/dev/null | head -n 1)
	src=${src%/}
	[ -n "$src" ] && [ -f "$src/dkms.conf" ] && return 0
	not_ok "$1: $(basename "$deb") holds /usr/src/NAME-VER/dkms.conf"
	return 1
}

# builds from an empty kforge work folder at a fixed path, so that ccache's keys (paths relative
# to the kernel's build dir) stay the same from run to run; ccache's own cache beside it, in the
# folder kforge's builds may write
kc=$E/dkms/kforge
# those fixed paths are this suite's alone while it runs: a second run on the machine waits
mkdir -p "$E/dkms"
exec 9>"$E/dkms/.lock"
flock 9
rm -rf "$kc/work"
mkdir -p "$kc"
if command -v ccache >/dev/null; then
	export CCACHE_DIR="$kc/ccache" CCACHE_BASEDIR=/ CCACHE_NOHASHDIR=1
	[ -f "$CCACHE_DIR/ccache.conf" ] || { mkdir -p "$CCACHE_DIR" && ccache -M 2G >/dev/null; }
	printf '[build]\ncache_dir = %s\ncc_launcher = ccache\n' "$kc" >"$work/pkg.conf"
else
	printf '[build]\ncache_dir = %s\n' "$kc" >"$work/pkg.conf"
fi
# the packages unpacked afresh, at a fixed path too (kforge's work folder is named after it)
X=$E/dkms/x
rm -rf "$X"
mkdir -p "$X"
chmod 755 "$E/dkms" "$X"

if want packages; then
	D=$(modpath pkgs "$KVER")
	M=$D/lib/modules/$KVER
	loaded_mods=
	installed=$work/installed # "module path-under-D" a line
	: >"$installed"
	for line in $pkgs; do
		pkg=${line%%:*}
		want_mods=$(echo "${line#*:}" | tr , '\n' | sort | tr '\n' ' ')
		case $pkg in
		fixture-*)
			# kforge's own fixture packages (tests/dkms/pkgs), copied as a package manager would put them
			src=$X/fixtures/${pkg#fixture-}
			rm -rf "$src"
			mkdir -p "$X/fixtures"
			cp -a "$top/tests/dkms/pkgs/${pkg#fixture-}" "$src"
			ver=
			;;
		*) unpack "$pkg" || continue ;;
		esac
		touch "$work/stamp"
		t0=$(date +%s)
		if [ "$broken" = "$pkg=$ver" ]; then
			KFORGE_SYSTEM_CONFIG=$work/pkg.conf install_case "$pkg" "$KVER" "$src" --install-mod-path "$D"
			rc=$?
			log=$(sed -n 's/.*see \(\/[^ ]*\.log\).*/\1/p' "$work/$pkg.out" | tail -n 1)
			if [ "$rc" -eq 4 ] && [ -z "$(find "$M" -name '*.ko*' -newer "$work/stamp")" ] &&
				cat "$work/$pkg.out" ${log:+"$log"} | grep -q "too few arguments to function .hid_report_raw_event"; then
				ok "$pkg $ver: does not compile against $KVER (hid_report_raw_event's sixth argument): exit 4, the compiler's error shown, nothing installed"
			else
				not_ok "$pkg $ver: does not compile against $KVER (hid_report_raw_event's sixth argument): exit 4, the compiler's error shown, nothing installed"
				show "$pkg"
			fi
			continue
		fi
		if KFORGE_SYSTEM_CONFIG=$work/pkg.conf install_case "$pkg" "$KVER" "$src" --install-mod-path "$D"; then
			ok "$pkg: kforge -k $KVER install ${src#"$X/$pkg"} ($(($(date +%s) - t0)) s)"
		else
			not_ok "$pkg: kforge -k $KVER install ${src#"$X/$pkg"} ($(($(date +%s) - t0)) s)"
			show "$pkg"
			continue
		fi
		# what this install put into the tree (the image's own modules are older hard links)
		files=$(find "$M" -name '*.ko*' -newer "$work/stamp" | sort)
		got_mods=$(for f in $files; do b=${f##*/}; echo "${b%%.ko*}"; done | sort | tr '\n' ' ')
		if [ "$got_mods" = "$want_mods" ]; then
			ok "$pkg: installed the modules DKMS builds, named as DKMS names them: $want_mods"
		else
			not_ok "$pkg: installed the modules DKMS builds, named as DKMS names them: $want_mods"
			echo "# installed: $got_mods"
			echo "$files" | sed "s|^$D|# |"
		fi
		bad=
		for f in $files; do
			v=$(modinfo -F vermagic "$f" 2>&1)
			[ "$v" = "$vermagic" ] || bad="$bad ${f##*/} ($v)"
			b=${f##*/}
			echo "${b%%.ko*} ${f#"$D"}" >>"$installed"
		done
		if [ -n "$files" ] && [ -z "$bad" ]; then
			ok "$pkg: each module carries $KVER's vermagic ($vermagic)"
		else
			not_ok "$pkg: each module carries $KVER's vermagic ($vermagic)"
			echo "# wrong:$bad"
		fi
		for m in $want_mods; do grep -q "^$m " "$installed" && loaded_mods="$loaded_mods $m"; done
	done
	took "the packages fetched and built"

	# one boot for every module installed; modprobe each
	if [ -n "$loaded_mods" ]; then
		# shellcheck disable=SC2086 # the module names
		report=$(boot "$KVER" "$D" $loaded_mods)
		took "one boot of $KVER, modprobe of$loaded_mods"
		complaint='Exec format error|Unknown symbol|disagrees about version|Invalid module format|Bad address|no symbol version'
		for m in $loaded_mods; do
			rel=$(awk -v m="$m" '$1 == m {print $2}' "$installed")
			case " $nodev " in
			*" $m "*)
				# the kernel took the module when modprobe's error is the init's -ENODEV: vermagic,
				# symbols and relocations are checked before the init runs
				fail=$(printf '%s\n' "$report" | grep "^KFORGE-FAILED $m: ")
				ec=$(awk '$1 == "thinkpad_ec" {print $2}' "$installed")
				if printf '%s\n' "$fail" | grep -qE "insmod $ec( |\$)" && printf '%s\n' "$fail" | grep -q 'No such device' &&
					printf '%s\n' "$report" | grep -q 'thinkpad_ec: no ThinkPad embedded controller!' &&
					! printf '%s\n' "$report" | grep -qE "$complaint"; then
					if [ "$m" = thinkpad_ec ]; then
						ok "$m: no ThinkPad in qemu: the kernel accepted $rel and ran its init, which refused (No such device), no loader complaint"
					else
						ok "$m: no ThinkPad in qemu: modprobe stops at its dependency thinkpad_ec ($ec), whose init refused (No such device), no loader complaint"
					fi
				else
					not_ok "$m: no ThinkPad in qemu: the kernel accepted the module and its init refused (No such device), no loader complaint"
					printf '%s\n' "$report" | sed 's/^/# guest: /'
				fi
				;;
			*) expect_loaded "$m" "$KVER" "$D" "$report" "$m" "$rel" ;;
			esac
		done
	else
		skip "the packages' modules under qemu" "no package installed a module"
	fi
fi

# --- 3. a kernel the package excludes ----------------------------------------------------------
if ! want excluded; then :; elif [ ! -f "/usr/src/linux-headers-$CLOUD/.config" ]; then
	not_ok "v4l2loopback on $CLOUD: skipped: no linux-headers-$CLOUD (scripts/deps.sh installs it)"
elif grep -q '^CONFIG_VIDEO_DEV=' "/usr/src/linux-headers-$CLOUD/.config"; then
	not_ok "v4l2loopback on $CLOUD: skipped: the premise fails, $CLOUD has CONFIG_VIDEO_DEV"
elif unpack v4l2loopback-dkms; then
	mkdir -p "$work/cloud"
	KFORGE_SYSTEM_CONFIG=$work/pkg.conf install_case v4l-cloud "$CLOUD" "$src" --install-mod-path "$work/cloud"
	rc=$?
	if [ $rc -eq 77 ] && grep -q 'CONFIG_VIDEO_DEV' "$work/v4l-cloud.out" && [ -z "$(find "$work/cloud" -name '*.ko*')" ]; then
		ok "v4l2loopback on $CLOUD (no CONFIG_VIDEO_DEV): skipped, exit 77, the reason named, nothing installed"
	else
		not_ok "v4l2loopback on $CLOUD (no CONFIG_VIDEO_DEV): skipped, exit 77, the reason named, nothing installed"
		echo "# exit $rc"
		show v4l-cloud
	fi
	took "the excluded kernel"
fi
echo "# all: $(($(date +%s) - t_start)) s"
tap_done
