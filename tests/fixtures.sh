#!/bin/sh
# fixtures.sh: drives the real kforge binary against the fixture roots in tests/rootfs (TAP).
# Needs jq. Run by `make check` with KFORGE_PLUGIN_PATH pointing at the built plugins.
set -u
NAME=fixtures
. "${top_srcdir:-$(dirname "$0")/..}/tests/suite.sh"

# info --json against every fixture: plugin and release parts, build dir, config, facts
# root|kver|plugin|version|extraversion|localversion|override|modversions|compression|initramfs|module_dir|build_dir
while IFS='|' read -r root kver plugin version extra local override mv comp initramfs moddir build; do
	[ -n "$root" ] || continue
	want=$(jq -cn --arg p "$plugin" --arg v "$version" --arg e "$extra" --arg l "$local" --arg o "$override" \
		--argjson mv "$mv" --arg c "$comp" --arg i "$initramfs" --arg m "$moddir" --arg b "$build" --arg k "$kver" \
		'{plugin:$p,release:$k,version:$v,extraversion:$e,localversion:$l,override:$o,modversions:$mv,compression:$c,initramfs:$i,module_dir:$m,build_dir:$b}')
	got=$("$KFORGE" --root "$R/$root" -k "$kver" info --json 2>"$tmp/err" | jq -c \
		'{plugin,release:.kernel.release,version:.kernel.version,extraversion:.kernel.extraversion,localversion:.kernel.localversion,override:.kernel.override,modversions,compression,initramfs,module_dir,build_dir}')
	if [ "$got" = "$want" ]; then ok "info $root $kver"; else
		not_ok "info $root $kver"; echo "# want $want"; echo "# got  $got"; sed 's/^/# /' "$tmp/err"; fi
done <<'TABLE'
arch|6.6.1-arch1-1|arch|6.6.1|-arch1|-1|none|false|zstd|mkinitcpio|/usr/lib/modules/6.6.1-arch1-1/updates|/usr/lib/modules/6.6.1-arch1-1/build
arch-lts|6.6.63-1-lts|arch|6.6.63||-1-lts|none|false|zstd|mkinitcpio|/usr/lib/modules/6.6.63-1-lts/updates|/usr/lib/modules/6.6.63-1-lts/build
arch-zen|6.12.1-zen1-1-zen|arch|6.12.1|-zen1|-1-zen|none|false|zstd|mkinitcpio|/usr/lib/modules/6.12.1-zen1-1-zen/updates|/usr/lib/modules/6.12.1-zen1-1-zen/build
manjaro|6.12.63-1-MANJARO|arch|6.12.63||-1-MANJARO|none|false|zstd|booster|/usr/lib/modules/6.12.63-1-MANJARO/updates|/usr/lib/modules/6.12.63-1-MANJARO/build
debian|6.1.0-56-amd64|debian|6.1.192|||KERNELRELEASE|true|none|initramfs-tools|/usr/lib/modules/6.1.0-56-amd64/updates|/usr/src/linux-headers-6.1.0-56-amd64
debian|6.1.0-56-rt-amd64|debian|6.1.192|||KERNELRELEASE|true|none|initramfs-tools|/usr/lib/modules/6.1.0-56-rt-amd64/updates|/usr/src/linux-headers-6.1.0-56-rt-amd64
ubuntu|6.8.0-51-generic|debian|6.8.12|||KERNELVERSION|true|zstd|initramfs-tools|/usr/lib/modules/6.8.0-51-generic/updates|/usr/src/linux-headers-6.8.0-51-generic
fedora|6.5.6-300.fc39.x86_64|fedora|6.5.6|-300.fc39.x86_64||none|false|xz|dracut|/usr/lib/modules/6.5.6-300.fc39.x86_64/updates|/usr/src/kernels/6.5.6-300.fc39.x86_64
rocky|4.18.0-513.5.1.el8_9.x86_64|fedora|4.18.0|-513.5.1.el8_9.x86_64||none|true|xz|dracut|/usr/lib/modules/4.18.0-513.5.1.el8_9.x86_64/updates|/usr/src/kernels/4.18.0-513.5.1.el8_9.x86_64
unknown|6.6.1-custom|vanilla|6.6.1||-custom|none|false|gzip|none|/lib/modules/6.6.1-custom/updates|/usr/src/linux-6.6.1
TABLE

# the text form says the same as the JSON
out=$("$KFORGE" --root "$R/debian" -k 6.1.0-56-amd64 info)
check "info text lists the release parts" sh -c 'printf "%s\n" "$1" | grep -qx "kernel.version: *6.1.192" &&
	printf "%s\n" "$1" | grep -qx "config: */usr/src/linux-headers-6.1.0-56-amd64/.config"' _ "$out"

# probing: os-release ID/ID_LIKE -> plugin, through `kforge plugins --json`
while read -r id like want; do
	[ -n "$id" ] || continue
	d="$tmp/probe-$id"
	mkdir -p "$d/etc"
	if [ "$id" != "-" ]; then
		printf 'ID=%s\n' "$id" >"$d/etc/os-release"
		[ "$like" = "-" ] || printf 'ID_LIKE="%s"\n' "$(echo "$like" | tr , ' ')" >>"$d/etc/os-release"
	fi
	got=$("$KFORGE" --root "$d" plugins --json | jq -r '.[] | select(.selected) | .name')
	if [ "$got" = "$want" ]; then ok "probe ID=$id ID_LIKE=$like -> $want"; else
		not_ok "probe ID=$id ID_LIKE=$like -> $want"; echo "# got: $got"; fi
done <<'TABLE'
arch - arch
manjaro arch arch
endeavouros arch arch
cachyos arch arch
debian - debian
ubuntu debian debian
linuxmint ubuntu,debian debian
pop ubuntu,debian debian
fedora - fedora
rhel fedora fedora
centos rhel,fedora fedora
rocky rhel,centos,fedora fedora
almalinux rhel,centos,fedora fedora
opensuse-tumbleweed suse,opensuse vanilla
gentoo - vanilla
- - vanilla
TABLE

plugins=$("$KFORGE" --root "$R/debian" plugins --json)
check "plugins lists the four with abi and score" sh -c '
	test "$(printf "%s" "$1" | jq -r "[.[].name] | sort | join(\",\")" | grep -o "arch,debian,fedora,vanilla")" = arch,debian,fedora,vanilla &&
	test "$(printf "%s" "$1" | jq -r ".[] | select(.name==\"vanilla\") | .score")" = 1 &&
	test "$(printf "%s" "$1" | jq -r ".[] | select(.name==\"debian\") | \"\(.score) \(.abi) \(.selected)\"")" = "100 1.1 true"' _ "$plugins"
check "--plugin forces one" sh -c '"$1" --root "$2/debian" -k 6.1.0-56-amd64 --plugin vanilla info --json | jq -e ".plugin == \"vanilla\""' _ "$KFORGE" "$R"

# plan: the seven steps, their owners, the exact commands
plan() { "$KFORGE" --root "$R/$1" -k "$2" plan "$3" --json --source "$srcdir/tests/src/linux-mini" 2>"$tmp/err"; }
p=$(plan arch 6.6.1-arch1-1 dummy)
check "plan arch: seven steps in order" sh -c 'test "$(printf "%s" "$1" | jq -r "[.steps[].step] | join(\",\")")" = \
	"locate source,derive version,configure,prepare,compile,install,refresh initramfs"' _ "$p"
check "plan arch: dummy from drivers/net, headers, compiled against the build dir" sh -c '
	printf "%s" "$1" | jq -e ".strategy == \"headers\"" &&
	printf "%s" "$1" | jq -e "[.steps[0].actions[].note] | any(. != null and test(\"built from drivers/net/\"))" &&
	printf "%s" "$1" | jq -e --arg b "$2/arch/usr/lib/modules/6.6.1-arch1-1/build" \
		"[.steps[4].actions[].command] | any(. != null and ((\" \" + .) | contains(\" make -C \" + \$b + \" M=\")))"' _ "$p" "$R"
check "plan arch: mkinitcpio -p linux by the arch plugin" sh -c '
	printf "%s" "$1" | jq -e ".steps[6].plugin == \"arch\" and ([.steps[6].actions[].command] | index(\"mkinitcpio -p linux\") != null)"' _ "$p"
p=$(plan manjaro 6.12.63-1-MANJARO btrfs)
check "plan manjaro: booster for the linux612 image" sh -c '
	printf "%s" "$1" | jq -e "[.steps[6].actions[].command] | index(\"booster build --force --kernel-version 6.12.63-1-MANJARO /boot/booster-linux612.img\") != null"' _ "$p"
p=$("$KFORGE" --root "$R/debian" -k 6.1.0-56-amd64 plan btrfs --set CONFIG_BTRFS_DEBUG=y --json --source "$srcdir/tests/src/linux-mini")
check "plan debian --set: full tree, release reproduced, Module.symvers copied" sh -c '
	printf "%s" "$1" | jq -e ".strategy == \"full\"" &&
	printf "%s" "$1" | jq -e "[.steps[3].actions[].command] | any(. != null and test(\"KERNELRELEASE=6.1.0-56-amd64 modules_prepare\$\"))" &&
	printf "%s" "$1" | jq -e "[.steps[3].actions[].command] | any(. != null and test(\"Module.symvers\"))" &&
	printf "%s" "$1" | jq -e "[.steps[2].actions[].command] | any(. != null and test(\"--enable BTRFS_DEBUG\"))" &&
	printf "%s" "$1" | jq -e "[.steps[6].actions[].command] | index(\"update-initramfs -u -k 6.1.0-56-amd64\") != null"' _ "$p"
p=$(plan fedora 6.5.6-300.fc39.x86_64 dummy)
check "plan fedora: dracut --kver, after lsinitrd" sh -c '
	printf "%s" "$1" | jq -e "([.steps[6].actions[].command] | any(. != null and startswith(\"lsinitrd \"))) and ([.steps[6].actions[].command] | index(\"dracut -f --kver 6.5.6-300.fc39.x86_64\") != null)"' _ "$p"
p=$(plan ubuntu 6.8.0-51-generic dummy)
check "plan ubuntu: update-initramfs -u -k, after lsinitramfs" sh -c '
	printf "%s" "$1" | jq -e "([.steps[6].actions[].command] | any(. != null and startswith(\"lsinitramfs \"))) and ([.steps[6].actions[].command] | index(\"update-initramfs -u -k 6.8.0-51-generic\") != null)"' _ "$p"
p=$(plan unknown 6.6.1-custom dummy)
check "plan unknown: vanilla runs every step, no initramfs" sh -c '
	test "$(printf "%s" "$1" | jq -r "[.steps[].plugin] | unique | join(\",\")")" = vanilla &&
	printf "%s" "$1" | jq -e "[.steps[6].actions[].note] | any(. != null and test(\"no initramfs generator\"))"' _ "$p"
cp -r "$srcdir/tests/src/hello" "$tmp/hello"
p=$("$KFORGE" --root "$R/debian" -k 6.1.0-56-amd64 plan "$tmp/hello" --json)
check "plan external dir: built in kforge's copy (work/KVER/NAME-HASH), make run there, no make clean" sh -c '
	w=$3/debian/var/cache/kforge/work/6.1.0-56-amd64
	printf "%s" "$1" | jq -e --arg w "$w" --arg h "$2/hello" "[.steps[3].actions[].note] | any(. != null and startswith(\"copy \" + \$h + \" into \" + \$w + \"/hello-\"))" &&
	printf "%s" "$1" | jq -e --arg w "$w" --arg b "$3/debian/usr/src/linux-headers-6.1.0-56-amd64" \
		"[.steps[4].actions[] | select(.command and (.command | test(\"(^| )make \")))] | length == 1 and (.[0].command | test(\"(^| -- )make -C \" + \$b + \" M=\" + \$w + \"/hello-[0-9a-f]{8} -j[0-9]+ (.CC=ccache [^ ]*. )?modules\$\")) and (.[0] as \$a | \$a.command | contains(\"M=\" + \$a.cwd + \" \"))"' _ "$p" "$tmp" "$R"
# runs nothing: each command of the plan is a spy first on PATH that notes its call. (The fixture's
# build dir cannot compile anything, so no *.o would show a build that did run.)
mkdir -p "$tmp/spy"
printf '#!/bin/sh\necho "$(basename "$0") $*" >>"%s/spied"\nexit 1\n' "$tmp" >"$tmp/spy/spy"
chmod +x "$tmp/spy/spy"
printf '%s' "$p" | jq -r '.steps[].actions[].command | select(.) | split(" ")[0]' | sort -u | while read -r c; do
	ln -sf spy "$tmp/spy/$c"
done
# make itself, run behind the sandbox's own commands (setpriv, bwrap) when kforge is root
ln -sf spy "$tmp/spy/make"
check "build --dry-run prints the plan and runs none of its commands" sh -c '
	[ -e "$3/spy/make" ] && PATH="$3/spy:$PATH" "$1" --root "$2/debian" -k 6.1.0-56-amd64 build "$3/hello" --dry-run >"$3/dry" &&
	grep -q "^5. compile \[core\]" "$3/dry" && { [ ! -e "$3/spied" ] || { echo "it ran:"; cat "$3/spied"; false; }; }' _ "$KFORGE" "$R" "$tmp"
check "plan text form numbers the steps" sh -c '"$1" --root "$2/debian" -k 6.1.0-56-amd64 plan "$3/hello" | grep -q "^7. refresh initramfs \[core\]"' _ "$KFORGE" "$R" "$tmp"

# errors: the cause, the fix, the documented exit code
expect_fail "a kernel without build dir: exit 3, lists the ones with one" 3 \
	"no build directory for 9.9.9-1-amd64: install linux-headers-9.9.9-1-amd64; kernels with one: 6.1.0-56-amd64, 6.1.0-56-rt-amd64" \
	"$KFORGE" --root "$R/debian" -k 9.9.9-1-amd64 info
expect_fail "not a release: exit 2" 2 '"linux" is no kernel release' "$KFORGE" --root "$R/debian" -k linux info
expect_fail "builtin module refused" 1 "ext4 is built into 6.1.0-56-amd64 (modules.builtin): only a kernel rebuild" \
	"$KFORGE" --root "$R/debian" -k 6.1.0-56-amd64 plan ext4
expect_fail "no source (core default): exit 3, says --source" 3 "no kernel source for 6.1.0-56-amd64: pass --source PATH" \
	"$KFORGE" --root "$R/debian" -k 6.1.0-56-amd64 --plugin vanilla plan btrfs
expect_fail "missing module dir: exit 2" 2 "./no-such-driver: no such directory" \
	"$KFORGE" --root "$R/debian" -k 6.1.0-56-amd64 plan ./no-such-driver
mkdir -p "$tmp/empty"
expect_fail "dir without Kbuild or Makefile: exit 2" 2 "has neither a Kbuild file nor a Makefile" \
	"$KFORGE" --root "$R/debian" -k 6.1.0-56-amd64 plan "$tmp/empty"
expect_fail "--set on an external module: exit 2" 2 "--set changes the kernel configuration" \
	"$KFORGE" --root "$R/debian" -k 6.1.0-56-amd64 plan "$tmp/hello" --set CONFIG_X=y
expect_fail "plan without a module: exit 2" 2 "plan needs a module" "$KFORGE" --root "$R/debian" plan
expect_fail "unknown command: exit 2" 2 'unknown command "frobnicate"' "$KFORGE" frobnicate
expect_fail "unknown option: exit 2" 2 "unknown" "$KFORGE" --frob info
expect_fail "--json where there is none: exit 2" 2 "build has no --json output" "$KFORGE" build x --json
expect_fail "--plugin that does not exist: exit 2" 2 'no plugin named "nosuch"' \
	"$KFORGE" --root "$R/debian" --plugin nosuch info
expect_fail "bad --strategy: exit 2" 2 "build.strategy must be one of auto,headers,full" \
	"$KFORGE" --root "$R/debian" --strategy fast plan x
check "status where kforge never installed anything: says so, creates nothing" sh -c '
	"$1" --root "$2" -k 6.1.0-56-amd64 status | grep -qx "kforge installed no module for 6.1.0-56-amd64 under $2" && [ ! -e "$2/var/lib/kforge" ]' _ "$KFORGE" "$R/debian"
printf '[build]\njobs = 3\n[log]\nverbosity = 2\n' >"$tmp/bad.conf"
expect_fail "bad config file: exit 2, file:line" 2 "$tmp/bad.conf:4: unknown key \"log.verbosity\"" \
	env KFORGE_SYSTEM_CONFIG="$tmp/bad.conf" "$KFORGE" config

# debian: the source is the linux-source package of the kernel's own version (dpkg status under the root)
p=$("$KFORGE" --root "$R/debian" -k 6.1.0-56-amd64 plan btrfs --json)
check "debian: linux-source-6.1 of the kernel's version, only fs/btrfs of it unpacked once into the cache (in-process, no tar)" sh -c '
	printf "%s" "$1" | jq -e ".steps[0].plugin == \"debian\"" &&
	printf "%s" "$1" | jq -e "[.steps[0].actions[].note] | any(. != null and test(\"linux-source-6.1 6.1.192-2 is the source of 6.1.0-56-amd64 \\\\(linux-image-6.1.0-56-amd64 6.1.192-2\\\\)\"))" &&
	printf "%s" "$1" | jq -e --arg t "$2/debian/usr/src/linux-source-6.1.tar.xz" "[.steps[0].actions[].note] | any(. != null and startswith(\"unpack only fs/btrfs \") and contains(\" of \" + \$t + \" once into the cache \"))" &&
	printf "%s" "$1" | jq -e "[.steps[].actions[].command] | all(. == null or (startswith(\"tar \") | not))"' _ "$p" "$R"
deb_variant() { # name: a copy of the debian fixture to change
	rm -rf "$tmp/$1"
	cp -a "$R/debian" "$tmp/$1"
	echo "$tmp/$1"
}
v=$(deb_variant deb-old-source)
sed -i '/^Package: linux-source-6.1$/,/^$/ s/^Version: .*/Version: 6.1.190-1/' "$v/var/lib/dpkg/status"
expect_fail "debian: a linux-source of another version is refused (exit 3)" 3 \
	"linux-source-6.1 is 6.1.190-1 but 6.1.0-56-amd64 is 6.1.192-2: the source must be the kernel's own; run apt-get install linux-source-6.1=6.1.192-2" \
	"$KFORGE" --root "$v" -k 6.1.0-56-amd64 plan btrfs
v=$(deb_variant deb-src)
sed -i '/^Package: linux-source-6.1$/,$d' "$v/var/lib/dpkg/status"
printf 'deb-src http://deb.debian.org/debian bookworm main\n' >>"$v/etc/apt/sources.list"
p=$("$KFORGE" --root "$v" -k 6.1.0-56-amd64 plan btrfs --json)
check "debian: without linux-source but with deb-src, apt-get source linux=VERSION" sh -c '
	printf "%s" "$1" | jq -e "[.steps[0].actions[].command] | index(\"apt-get source --only-source linux=6.1.192-2\") != null"' _ "$p"
sed -i '/^deb-src/d' "$v/etc/apt/sources.list"
expect_fail "debian: no source at all says which package to install (exit 3)" 3 \
	"no source for 6.1.0-56-amd64: install linux-source-6.1 (apt-get install linux-source-6.1=6.1.192-2)" \
	"$KFORGE" --root "$v" -k 6.1.0-56-amd64 plan btrfs
p=$("$KFORGE" --root "$R/debian" -k 6.1.0-56-amd64 plan dummy --json --source "$srcdir/tests/src/linux-mini")
check "plan install: validate, write under a temporary name into updates/, depmod -b the root" sh -c '
	printf "%s" "$1" | jq -e "[.steps[5].actions[].note] | any(. != null and test(\"^validate: vermagic 6.1.0-56-amd64, every imported symbol\"))" &&
	printf "%s" "$1" | jq -e "[.steps[5].actions[].note] | any(. != null and test(\"back up what /usr/lib/modules/6.1.0-56-amd64/updates/dummy.ko replaces; write it under a temporary name \\\\(debug info stripped, compression none\\\\), record it, commit\"))" &&
	printf "%s" "$1" | jq -e --arg r "$2/debian" "[.steps[5].actions[].command] | index(\"depmod -b \" + \$r + \" 6.1.0-56-amd64\") != null"' _ "$p" "$R"
p=$("$KFORGE" --root "$R/debian" -k 6.1.0-56-amd64 plan dummy --json --source "$srcdir/tests/src/linux-mini" --install-mod-path "$tmp/imp")
check "plan --install-mod-path: depmod -b DIR, no initramfs" sh -c '
	printf "%s" "$1" | jq -e --arg d "$2/imp" "[.steps[5].actions[].command] | index(\"depmod -b \" + \$d + \" 6.1.0-56-amd64\") != null" &&
	printf "%s" "$1" | jq -e "[.steps[6].actions[].note] | any(. != null and test(\"not the system.s initramfs\"))"' _ "$p" "$tmp"
p=$("$KFORGE" --root "$R/debian" -k 6.1.0-56-amd64 plan dummy_irq --json --source "$srcdir/tests/src/linux-mini" 2>&1)
check "a module the config does not build is found in the Makefiles and built with --set" sh -c '
	printf "%s" "$1" | jq -e ".strategy == \"full\"" &&
	printf "%s" "$1" | jq -e "[.steps[0].actions[].note] | any(. != null and test(\"CONFIG_DUMMY_IRQ is not set .* --set CONFIG_DUMMY_IRQ=m\"))" &&
	printf "%s" "$1" | jq -e "[.steps[2].actions[].command] | any(. != null and test(\"--module DUMMY_IRQ\"))"' _ "$p"

# config shows each value's origin
printf '[build]\n\njobs = 3\n' >"$tmp/good.conf"
c=$(KFORGE_SYSTEM_CONFIG="$tmp/good.conf" "$KFORGE" config --json)
check "config: file:line origins" sh -c 'printf "%s" "$1" | jq -e --arg o "$2:3" ".values[] | select(.key==\"build.jobs\") | .value == \"3\" and .origin == \$o"' _ "$c" "$tmp/good.conf"
c=$(KFORGE_SYSTEM_CONFIG="$tmp/good.conf" "$KFORGE" -j 5 config --json)
check "config: the command line wins" sh -c 'printf "%s" "$1" | jq -e ".values[] | select(.key==\"build.jobs\") | .value == \"5\" and .origin == \"command line: -j\""' _ "$c"

# every command has --help; --help and --version exit 0
for cmd in info plugins config plan build install uninstall status; do
	check "$cmd --help" sh -c '"$1" "$2" --help | grep -q "^Usage: kforge $2"' _ "$KFORGE" "$cmd"
done
check "kforge --help documents the exit codes" sh -c '"$1" --help | grep -q "5 refused by validation; 6 install failed and rolled back"' _ "$KFORGE"
check "kforge --version" sh -c '"$1" --version | grep -q "^kforge [0-9]"' _ "$KFORGE"

# colour: only when asked or on a terminal, never with NO_COLOR
printf '[log]\ncolor = always\n' >"$tmp/color.conf"
check "colour when log.color = always" sh -c '
	env -u NO_COLOR KFORGE_SYSTEM_CONFIG="$2" "$1" --root /nonexistent info 2>&1 | grep -q "^kforge: $(printf "\033")\[[0-9;]*merror:"' _ "$KFORGE" "$tmp/color.conf"
check "no colour with NO_COLOR" sh -c '
	out=$(KFORGE_SYSTEM_CONFIG="$2" NO_COLOR=1 "$1" --root "$3" -k 9.9 info 2>&1)
	printf "%s\n" "$out" | grep -q "^kforge: error: no build directory for 9.9" && ! printf "%s" "$out" | grep -q "$(printf "\033")"' \
	_ "$KFORGE" "$tmp/color.conf" "$R/debian"

# settings that change what a job does
printf '[build]\ncc_launcher = ccache\n[install]\ninitramfs = never\n' >"$tmp/settings.conf"
p=$(KFORGE_SYSTEM_CONFIG="$tmp/settings.conf" "$KFORGE" --root "$R/debian" -k 6.1.0-56-amd64 plan "$tmp/hello" --json)
check "build.cc_launcher: CC=ccache COMPILER on make's command line" sh -c '
	printf "%s" "$1" | jq -e "[.steps[4].actions[].command] | any(. != null and test(\" .CC=ccache gcc. \"))"' _ "$p"
check "install.initramfs = never: no lister, no generator, a note says why" sh -c '
	printf "%s" "$1" | jq -e "(.steps[6].actions | map(select(.command)) | length == 0) and (.steps[6].actions[0].note | test(\"never\"))"' _ "$p"
printf '[install]\ninitramfs = always\n' >"$tmp/always.conf"
p=$(KFORGE_SYSTEM_CONFIG="$tmp/always.conf" "$KFORGE" --root "$R/debian" -k 6.1.0-56-amd64 plan "$tmp/hello" --json)
check "install.initramfs = always: the generator runs without asking the lister" sh -c '
	printf "%s" "$1" | jq -e "[.steps[6].actions[].command | select(.)] == [\"update-initramfs -u -k 6.1.0-56-amd64\"]"' _ "$p"

# a real build and install: an external module of two files and include/ against installed Debian headers
. "$srcdir/tests/synth.sh"
kver=${synth_host#/usr/src/linux-headers-}
if [ -n "$synth_host" ] && command -v modinfo >/dev/null; then
	cp -r "$srcdir/tests/src/hello" "$tmp/hello-build"
	ko=$tmp/imp-real/lib/modules/$kver/updates/hello.ko
	if "$KFORGE" -k "$kver" -q install "$tmp/hello-build" --install-mod-path "$tmp/imp-real" >"$tmp/out" 2>&1 &&
		[ "$(modinfo -F vermagic "$ko" | cut -d' ' -f1)" = "$kver" ] &&
		modprobe --dump-modversions "$ko" | grep -q "_printk" &&
		grep -q "^updates/hello.ko:" "$tmp/imp-real/lib/modules/$kver/modules.dep"; then
		ok "install an external module for $kver: vermagic, CRCs, depmod"
	else
		not_ok "install an external module for $kver: vermagic, CRCs, depmod"
		sed 's/^/# /' "$tmp/out"
	fi
	cp -r "$srcdir/tests/src/pair" "$tmp/pair"
	d=$tmp/imp-pair/lib/modules/$kver
	if "$KFORGE" -k "$kver" -q install "$tmp/pair" --install-mod-path "$tmp/imp-pair" --install-dir extra/kforge >"$tmp/out" 2>&1 &&
		[ -f "$d/extra/kforge/kforge_one.ko" ] && [ -f "$d/extra/kforge/kforge_two.ko" ] &&
		grep -q "^extra/kforge/kforge_two.ko:" "$d/modules.dep"; then
		ok "install two modules from one folder into --install-dir extra/kforge"
	else
		not_ok "install two modules from one folder into --install-dir extra/kforge"
		sed 's/^/# /' "$tmp/out"
	fi
else
	skip "install two modules from one folder" "no linux-headers-6.1.0-N-amd64 installed"
	skip "install an external module for a Debian kernel" "no linux-headers-6.1.0-N-amd64 installed (scripts/deps.sh installs one)"
fi
tap_done
