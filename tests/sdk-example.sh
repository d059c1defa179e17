#!/bin/sh
# sdk-example.sh: installs kforge into a scratch prefix, checks the installed layout, builds the
# example vendor plugin out of tree with pkg-config against that SDK, drops it into the prefix's
# /etc/kforge/plugins.d and checks that it claims the Debian fixture's -rt- kernel above the
# debian plugin, which keeps the other, and that it reads its own [plugin.acme] section (TAP).
set -u
srcdir=$(cd "$(dirname "$0")/.." && pwd)
. "$srcdir/tests/tap.sh"
tmp=$(mktemp -d /tmp/kforge-sdk-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/inst
unset KFORGE_PLUGIN_PATH
export NO_COLOR=1

mkdir "$tmp/build"
if (cd "$tmp/build" && "$srcdir/configure" -q --prefix="$prefix" --sysconfdir="$prefix/etc" >"$tmp/configure.log" 2>&1 &&
	make -j"$(nproc)" >"$tmp/make.log" 2>&1 && make install >"$tmp/install.log" 2>&1); then
	ok "configure, make, make install into a scratch prefix"
else
	not_ok "configure, make, make install into a scratch prefix"
	tail -30 "$tmp"/*.log | sed 's/^/# /'
	tap_done
	exit 1
fi

layout_ok=true
for f in bin/kforge lib/libkforge.so.0 lib/kforge/plugins/arch.so lib/kforge/plugins/debian.so \
	lib/kforge/plugins/fedora.so lib/kforge/plugins/vanilla.so include/kforge/kforge.h include/kforge/plugin.h \
	include/kforge/frontend.h \
	include/kforge/version.h include/kforge/records.h lib/pkgconfig/kforge-plugin.pc etc/kforge/kforge.conf \
	share/man/man1/kforge.1 etc/kernel/postinst.d/50-kforge etc/kernel/header_postinst.d/50-kforge \
	lib/kernel/install.d/40-kforge.install share/libalpm/hooks/60-kforge.hook libexec/kforge/pacman-hook; do
	[ -e "$prefix/$f" ] || { echo "# missing: $f"; layout_ok=false; }
done
ls "$prefix"/lib/kforge/plugins/*.la >/dev/null 2>&1 && { echo "# .la files installed"; layout_ok=false; }
[ -d "$prefix/etc/kforge/plugins.d" ] || { echo "# no etc/kforge/plugins.d"; layout_ok=false; }
grep -q "^Exec = $prefix/libexec/kforge/pacman-hook\$" "$prefix/share/libalpm/hooks/60-kforge.hook" ||
	{ echo "# the pacman hook does not name the installed script"; layout_ok=false; }
$layout_ok && ok "installed layout (with the kernel hooks)" || not_ok "installed layout (with the kernel hooks)"

# what it exports, read for certain (no list at all would have no other symbol either), each versioned
syms=$(nm -D --defined-only "$prefix/lib/libkforge.so.0" | awk '$2 != "A" {print $3}')
others=$(printf '%s\n' "$syms" | grep -v '^kforge_[a-z0-9_]*@@LIBKFORGE_[0-9.]*$' | grep -v '^$')
printf '%s\n' "$syms" | grep -q '^kforge_ctx_new@@' || others="(no kforge_ctx_new among its exports: ${syms:-none read})"
if [ -z "$others" ]; then ok "the installed libkforge.so exports only kforge_* (the SDK), each versioned"; else
	not_ok "the installed libkforge.so exports only kforge_* (the SDK), each versioned"; echo "$others" | sed 's/^/# /'; fi
# every plugin counts (a bad one is not forgotten when the next is good), and there is one at least
exports_ok=true
n_plugins=0
for p in "$prefix"/lib/kforge/plugins/*.so; do
	[ -e "$p" ] || continue
	n_plugins=$((n_plugins + 1))
	exp=$(nm -D --defined-only "$p" | awk '{print $3}' | grep -v '^$' | tr '\n' ' ')
	[ "$exp" = "kforge_plugin_descriptor " ] || { echo "# $p exports: $exp"; exports_ok=false; }
done
[ "$exports_ok" = true ] && [ "$n_plugins" -gt 0 ] && ok "plugins export only their descriptor ($n_plugins)" ||
	not_ok "plugins export only their descriptor ($n_plugins)"

cp -r "$srcdir/sdk/examples/vendor-plugin" "$tmp/vendor"
if PKG_CONFIG_PATH="$prefix/lib/pkgconfig" make -C "$tmp/vendor" install >"$tmp/vendor.log" 2>&1 &&
	[ -f "$prefix/etc/kforge/plugins.d/acme.so" ]; then
	ok "example vendor plugin builds out of tree with pkg-config kforge-plugin and installs into plugins.d"
else
	not_ok "example vendor plugin builds out of tree with pkg-config kforge-plugin and installs into plugins.d"
	sed 's/^/# /' "$tmp/vendor.log"
fi

K="$prefix/bin/kforge"
R="$srcdir/tests/rootfs/debian"
# the probe sees the target kernel: acme claims the -rt- flavour above debian, debian keeps the others
plugins=$("$K" --root "$R" -k 6.1.0-56-rt-amd64 plugins --json 2>"$tmp/err")
if printf '%s' "$plugins" | jq -e --arg p "$prefix/etc/kforge/plugins.d/acme.so" \
	'(.[] | select(.name == "acme") | .path == $p and .abi == "1.1" and .score == 200 and .selected and (.description | test("ACME"))) and
	 (.[] | select(.name == "debian") | .score == 100 and (.selected | not))' >/dev/null; then
	ok "-k 6.1.0-56-rt-amd64: the vendor's acme (from plugins.d) is selected, above debian"
else
	not_ok "-k 6.1.0-56-rt-amd64: the vendor's acme (from plugins.d) is selected, above debian"
	echo "# $plugins"
	sed 's/^/# /' "$tmp/err"
fi
plugins=$("$K" --root "$R" -k 6.1.0-56-amd64 plugins --json 2>"$tmp/err")
if printf '%s' "$plugins" | jq -e '(.[] | select(.name == "acme") | .score == 0 and (.selected | not)) and
	(.[] | select(.name == "debian") | .selected)' >/dev/null; then
	ok "-k 6.1.0-56-amd64: acme does not claim it, debian is selected"
else
	not_ok "-k 6.1.0-56-amd64: acme does not claim it, debian is selected"
	echo "# $plugins"
fi
n=$(printf '%s' "$plugins" | jq '[.[] | select(.path | startswith($p))] | length' --arg p "$prefix/lib/kforge/plugins/")
[ "$n" = 4 ] && ok "the four installed plugins load beside it" || not_ok "the four installed plugins load beside it (got $n)"
"$K" --root "$R" -k 6.1.0-56-rt-amd64 plugins | grep -q "^# probed for kernel 6.1.0-56-rt-amd64" &&
	ok "plugins says which kernel it probed for" || not_ok "plugins says which kernel it probed for"

info=$("$K" --root "$R" -k 6.1.0-56-rt-amd64 info --json)
if printf '%s' "$info" | jq -e '.plugin == "acme" and .module_dir == "/usr/lib/modules/6.1.0-56-rt-amd64/updates/acme" and
	.initramfs == "initramfs-tools"' >/dev/null; then
	ok "acme's setup hook decides where modules go ([plugin.acme] install_dir); the initramfs generator comes from debian"
else
	not_ok "acme's setup hook decides where modules go ([plugin.acme] install_dir); the initramfs generator comes from debian"
	echo "# $info"
fi
info=$("$K" --root "$R" -k 6.1.0-56-amd64 info --json)
printf '%s' "$info" | jq -e '.plugin == "debian" and .module_dir == "/usr/lib/modules/6.1.0-56-amd64/updates"' >/dev/null &&
	ok "the other kernel: debian's, modules in updates/" || { not_ok "the other kernel: debian's, modules in updates/"; echo "# $info"; }
plan=$("$K" --root "$R" -k 6.1.0-56-rt-amd64 plan dummy --json --source "$srcdir/tests/src/linux-mini")
if printf '%s' "$plan" | jq -e '.steps[0].plugin == "acme" and ([.steps[0].actions[].note] | any(. != null and test("built from drivers/net/")) and any(. != null and test("^ACME: ")))' >/dev/null; then
	ok "the vendor's locate-source hook calls the core default and adds its own"
else
	not_ok "the vendor's locate-source hook calls the core default and adds its own"
	echo "# $plan"
fi
"$K" --root "$R" -k 6.1.0-57-rt-amd64 info >"$tmp/out" 2>&1
rc=$?
if [ $rc -eq 3 ] && grep -qF "no build directory for 6.1.0-57-rt-amd64: install acme-headers-6.1.0-57-rt-amd64 from ACME's repository" "$tmp/out"; then
	ok "an ACME kernel without headers: acme's hint names its package (exit 3)"
else
	not_ok "an ACME kernel without headers: acme's hint names its package (exit 3)"
	sed 's/^/# /' "$tmp/out"
fi

# [plugin.acme]: its own section of kforge.conf, checked by it, listed by kforge config
printf '[plugin.acme]\nflavour = cloud\n' >"$tmp/cloud.conf"
c=$(KFORGE_SYSTEM_CONFIG="$tmp/cloud.conf" "$K" --root "$R" config --json)
if printf '%s' "$c" | jq -e --arg o "$tmp/cloud.conf:2" '(.values[] | select(.key == "plugin.acme.flavour") | .value == "cloud" and .origin == $o) and
	(.values[] | select(.key == "plugin.acme.install_dir") | .value == "updates/acme" and .origin == "default")' >/dev/null; then
	ok "kforge config lists [plugin.acme] flavour (file:line) and install_dir (default)"
else
	not_ok "kforge config lists [plugin.acme] flavour (file:line) and install_dir (default)"
	echo "# $c"
fi
sel=$(KFORGE_SYSTEM_CONFIG="$tmp/cloud.conf" "$K" --root "$R" -k 6.1.0-56-rt-amd64 plugins --json | jq -r '.[] | select(.selected) | .name')
[ "$sel" = debian ] && ok "flavour = cloud: acme's probe reads it and leaves the -rt- kernel to debian" ||
	not_ok "flavour = cloud: acme's probe reads it and leaves the -rt- kernel to debian (got $sel)"
printf '[plugin.acme]\ninstall_dir = /opt/acme\n' >"$tmp/bad.conf"
KFORGE_SYSTEM_CONFIG="$tmp/bad.conf" "$K" --root "$R" -k 6.1.0-56-rt-amd64 info >"$tmp/out" 2>&1
rc=$?
if [ $rc -eq 2 ] && grep -qF "$tmp/bad.conf:2: plugin.acme.install_dir must be a folder under lib/modules/KVER" "$tmp/out"; then
	ok "a value acme refuses: exit 2 with file:line and its reason"
else
	not_ok "a value acme refuses: exit 2 with file:line and its reason"
	sed 's/^/# /' "$tmp/out"
fi
printf '[plugin.acme]\nflavor = rt\n' >"$tmp/typo.conf"
KFORGE_SYSTEM_CONFIG="$tmp/typo.conf" "$K" --root "$R" config >"$tmp/out" 2>&1
rc=$?
if [ $rc -eq 2 ] && grep -qF "$tmp/typo.conf:2: unknown key \"plugin.acme.flavor\": plugin acme knows flavour, install_dir" "$tmp/out"; then
	ok "a key acme does not know: exit 2 with file:line"
else
	not_ok "a key acme does not know: exit 2 with file:line"
	sed 's/^/# /' "$tmp/out"
fi
tap_done
