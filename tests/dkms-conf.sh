#!/bin/sh
# dkms-conf.sh: the core's dkms.conf reader (core/dkms/conf.c) on the fixture packages of
# tests/dkms/, through a real job: each conf is sourced by bash as the build user without network,
# as DKMS 3.4 sources it (its variables, the second expansion), and read back as data (TAP).
set -u
NAME=dkms-conf
. "${top_srcdir:-$(dirname "$0")/..}/tests/suite.sh"

bin=$builddir/tests/dkms/conf-read
if [ ! -x "$bin" ]; then
	echo "1..0 # SKIP tests/dkms/conf-read was not built (cmocka missing)"
	exit 0
fi
K=6.1.0-56-amd64
D=$srcdir/tests/dkms
# the build user reaches what the test makes under $tmp (its folder is 0700 otherwise)
chmod 755 "$tmp"
tree=$tmp/tree
mkdir -p "$tree" "$tmp/ksrc-full" "$tmp/ksrc-cloud" "$tmp/ksrc-nousb"
printf 'CONFIG_USB=y\nCONFIG_I2C=m\nCONFIG_VIDEO_DEV=m\n' >"$tmp/ksrc-full/.config"
printf 'CONFIG_USB=y\n# CONFIG_I2C is not set\n' >"$tmp/ksrc-cloud/.config"
printf 'CONFIG_I2C=y\nCONFIG_VIDEO_DEV=y\n' >"$tmp/ksrc-nousb/.config"

# read NAME KSRC [ARGS...]: the reader on tests/dkms/NAME/dkms.conf; its output in $tmp/out
read_conf() {
	conf=$1 ksrc=$2
	shift 2
	case $conf in /*) ;; *) conf=$D/$conf/dkms.conf ;; esac
	"$bin" "$R/debian" "$K" "$conf" "$ksrc" "$tree" "$@" >"$tmp/out" 2>"$tmp/err"
}
# has NAME LINE...: every LINE is a line of the output
has() {
	name=$1
	shift
	for l in "$@"; do
		if ! grep -qxF -- "$l" "$tmp/out"; then
			not_ok "$name"
			echo "# missing: $l"
			sed 's/^/# out: /' "$tmp/out"
			sed 's/^/# err: /' "$tmp/err"
			return
		fi
	done
	ok "$name"
}

read_conf hdaps "$tmp/ksrc-full"
has "a MAKE that passes HDAPS=1 is kept whole, the leading make rewritten as DKMS does" \
	"name=fx-smapi" "version=0.9" \
	"make=make -j2 KERNELRELEASE=$K -C $tmp/ksrc-full M=$tree/fx-smapi/0.9/build HDAPS=1" \
	"clean=make -C $tmp/ksrc-full M=$tree/fx-smapi/0.9/build clean"
has "three modules with their names, destinations, and STRIP[0]=no as the default of the others" \
	"module=fx_ec -> /extra/fx_ec strip=no" "module=fx_smapi -> /extra/fx-smapi strip=no" \
	"module=fx_hdaps -> /updates/fx_hdaps strip=yes" "autoinstall=yes"
check "fx-smapi: nothing excluded" sh -c '! grep -q excluded "$1"' _ "$tmp/out"

read_conf subdirs "$tmp/ksrc-full"
has "modules in BUILT_MODULE_LOCATION subfolders ('/' appended); \$kernelver and \$dkms_tree in MAKE" \
	"make=make -j2 KERNELRELEASE=$K KVER=$K -C $tree/fx-bus/0.4.2/build" \
	"module=fx-bus/fx-bus -> /updates/dkms/fx-bus strip=yes" \
	"module=fx-bus-backlight/fx-bus-backlight -> /updates/dkms/fx-bus-backlight strip=yes"
check "fx-bus: built where the kernel has I2C" sh -c '! grep -q excluded "$1"' _ "$tmp/out"
read_conf subdirs "$tmp/ksrc-cloud"
has "fx-bus: a kernel without I2C (the conf's own grep of .config) is excluded, with the rule" \
	"excluded=BUILD_EXCLUSIVE_ARCH '^do_not_build\$' does not match x86_64"

read_conf videodev "$tmp/ksrc-full"
has "fxloop: BUILT_MODULE_NAME from \$PACKAGE_NAME, built where VIDEO_DEV and USB are set" \
	"module=fxloop -> /kernel/drivers/media/video//fxloop strip=yes" \
	"make=make -j2 KERNELRELEASE=$K KERNEL_DIR=$tmp/ksrc-full all"
check "fxloop: not excluded" sh -c '! grep -q excluded "$1"' _ "$tmp/out"
read_conf videodev "$tmp/ksrc-cloud"
has "fxloop: a kernel without VIDEO_DEV is excluded by the impossible KERNEL string the conf sets" \
	"excluded=BUILD_EXCLUSIVE_KERNEL 'REQUIRES CONFIG_VIDEO_DEV' does not match $K"
read_conf videodev "$tmp/ksrc-nousb"
has "fxloop: a kernel without USB is excluded by BUILD_EXCLUSIVE_CONFIG" \
	"excluded=BUILD_EXCLUSIVE_CONFIG: CONFIG_USB is not y or m"

read_conf treevars "$tmp/ksrc-full"
has "DKMS's variables reach the second expansion: single-quoted \$kernelver, \$dkms_tree, \$source_tree, \$install_tree" \
	"version=2.1" "make=make -j2 KERNELRELEASE=$K KVER=$K TREE=$tree SRC=/usr/src INST=/lib/modules"
has "BASH_SOURCE is the conf's path; \$arch; the second expansion removes quotes (POST_BUILD='x \"y\"')" \
	"pre_build=./configure --from=$D/treevars --arch=x86_64 --pkg=fx-vars-2.1" "post_build=x y"
has "PATCH_MATCH picks the 6.1 patch; a CRLF line loses its CR; BUILD_DEPENDS read" \
	"patch=all.patch" "patch=six.patch" "module=fx_vars -> /updates/fx_vars strip=yes" "build_depends=fx-base"
check "what the conf prints is not data" sh -c '! grep -q "printed by the conf" "$1"' _ "$tmp/out"
read_conf treevars "$tmp/ksrc-full" --kernelver 5.10.0-9-amd64
has "on a 5.x kernel: MAKE_MATCH[1] wins, its escaped \\\$PWD expanded in the second pass (the conf's folder)" \
	"make=make -j2 KERNELRELEASE=5.10.0-9-amd64 -C $tmp/ksrc-full M=$D/treevars OLD=1" \
	"patch=all.patch" "patch=old.patch"

read_conf presets "$tmp/ksrc-full" --module fx-pre 3.0
has "read as NAME/VER: PACKAGE_NAME and PACKAGE_VERSION preset from it, installed_modules_dir is kforge's folder" \
	"name=fx-pre" "version=3.0" "make=make -j2 KERNELRELEASE=$K NAME=fx-pre VER=3.0 DEST=/lib/modules/$K/updates"
read_conf treevars "$tmp/ksrc-full" --module other 9
has "a conf's own PACKAGE_NAME and PACKAGE_VERSION win over the preset ones" "name=fx-vars" "version=2.1"
expect_fail "read from its folder alone, a conf without PACKAGE_NAME is refused as DKMS refuses it" 5 \
	"$D/presets/dkms.conf: PACKAGE_NAME is not set: DKMS refuses the file too" read_conf presets "$tmp/ksrc-full"

expect_fail "a hole in the module arrays and AUTOINSTALL=true are refused, naming file, variable and fix" 5 \
	"$D/holes/dkms.conf: BUILT_MODULE_NAME[0] is not set" read_conf holes "$tmp/ksrc-full"
check "the refusal also names BUILT_MODULE_NAME[2], DEST_MODULE_LOCATION[0] and AUTOINSTALL" sh -c '
	grep -qF "BUILT_MODULE_NAME[2] is not set" "$1" && grep -qF "DEST_MODULE_LOCATION[0] is not set" "$1" &&
	grep -qF "AUTOINSTALL is '"'true'"': DKMS accepts only yes or no" "$1"' _ "$tmp/err"

# the hostile conf, copied beside its port and the folder of root's it tries
if ! command -v python3 >/dev/null; then
	skip "hostile conf" "python3 is needed for the listener"
	tap_done
	exit
fi
start_listener || { not_ok "the listener started"; tap_done; exit; }
if bash -c "exec 3<>/dev/tcp/127.0.0.1/$(cat "$tmp/port")" 2>/dev/null && wait_until 20 test -s "$tmp/conns"; then
	ok "control: the listener is reachable from outside the sandbox"
else
	not_ok "control: the listener is reachable from outside the sandbox"
fi
before=$(cat "$tmp/conns" 2>/dev/null || echo 0)
mkdir -p "$tmp/hostile" "$tmp/rootonly"
chmod 755 "$tmp/hostile" "$tmp/rootonly"
cp "$D/hostile/dkms.conf" "$tmp/hostile/"
cp "$tmp/port" "$tmp/hostile/port"
echo "$tmp/rootonly" >"$tmp/hostile/rootonly"
for mode in bwrap no-bwrap; do
	if [ $mode = bwrap ] && ! command -v bwrap >/dev/null; then
		skip "bwrap: the hostile conf" "bubblewrap is not installed (scripts/deps.sh)"
		continue
	fi
	if read_conf "$tmp/hostile/dkms.conf" "$tmp/ksrc-full" $([ $mode = no-bwrap ] && echo --no-bwrap); then
		ok "$mode: the hostile conf was evaluated and read back"
	else
		not_ok "$mode: the hostile conf was evaluated and read back"
		sed 's/^/# /' "$tmp/err"
		continue
	fi
	# [build] user (kforge-build), created by the first sandboxed run when it was missing
	buid=$(id -u kforge-build 2>/dev/null || echo missing)
	if [ "$(id -u)" -eq 0 ]; then
		has "$mode: it ran as the build user (id -u = kforge-build's $buid, not root), without network, writing nothing" \
			"pre_build=uid=$buid netno etcro herero hostro"
	else
		has "$mode: it ran without network and wrote nothing outside (not root: the uid is this user's)" \
			"pre_build=uid=$(id -u) netno etcro herero hostro"
	fi
	check "$mode: the listener saw no connection, and no file appeared" sh -c '
		[ "$(cat "$1" 2>/dev/null || echo 0)" = "$2" ] && [ ! -e /etc/fx-pwned ] && [ ! -e "$3/hostile/pwned" ] &&
		[ ! -e "$3/rootonly/pwned" ]' _ "$tmp/conns" "$before" "$tmp"
done
if [ "$(id -u)" -eq 0 ]; then
	expect_fail "a build user that is root is refused before anything runs" 2 "--user root is root" \
		read_conf "$tmp/hostile/dkms.conf" "$tmp/ksrc-full" --user root
else
	skip "a build user that is root is refused" "not running as root"
fi
# a user the caller names is never created (only [build] user is: tests/sandbox.sh)
expect_fail "a build user that does not exist is refused, naming it and the setting" 3 \
	"the build user kforge-no-such-user does not exist: set --user to an unprivileged user" \
	read_conf "$tmp/hostile/dkms.conf" "$tmp/ksrc-full" --user kforge-no-such-user
tap_done
