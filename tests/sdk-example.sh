#!/bin/sh
# sdk-example.sh: installs kforge into a scratch prefix, checks the installed layout, builds the
# example vendor plugin out of tree with pkg-config against that SDK, drops it into the prefix's
# /etc/kforge/plugins.d and checks that it replaces the debian plugin (TAP).
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

# what it exports, read for certain (no list at all would have no other symbol either)
syms=$(nm -D --defined-only "$prefix/lib/libkforge.so.0" | awk '{print $3}')
others=$(printf '%s\n' "$syms" | grep -v '^kforge_' | grep -v '^$')
printf '%s\n' "$syms" | grep -qx kforge_ctx_new || others="(no kforge_ctx_new among its exports: ${syms:-none read})"
if [ -z "$others" ]; then ok "libkforge.so exports only kforge_* (the SDK)"; else
	not_ok "libkforge.so exports only kforge_* (the SDK)"; echo "$others" | sed 's/^/# /'; fi
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
	[ -f "$prefix/etc/kforge/plugins.d/debian.so" ]; then
	ok "example vendor plugin builds out of tree with pkg-config kforge-plugin and installs into plugins.d"
else
	not_ok "example vendor plugin builds out of tree with pkg-config kforge-plugin and installs into plugins.d"
	sed 's/^/# /' "$tmp/vendor.log"
fi

K="$prefix/bin/kforge"
R="$srcdir/tests/rootfs/debian"
plugins=$("$K" --root "$R" plugins --json 2>"$tmp/err")
if printf '%s' "$plugins" | jq -e --arg p "$prefix/etc/kforge/plugins.d/debian.so" \
	'[.[] | select(.name == "debian")] | length == 1 and .[0].path == $p and .[0].selected and (.[0].description | test("ACME"))' >/dev/null; then
	ok "the vendor's debian.so replaces the distribution's by name"
else
	not_ok "the vendor's debian.so replaces the distribution's by name"
	echo "# $plugins"
	sed 's/^/# /' "$tmp/err"
fi
n=$(printf '%s' "$plugins" | jq '[.[] | select(.path | startswith($p))] | length' --arg p "$prefix/lib/kforge/plugins/")
[ "$n" = 3 ] && ok "the other three installed plugins still load" || not_ok "the other three installed plugins still load (got $n)"

moddir=$("$K" --root "$R" -k 6.1.0-56-amd64 info --json | jq -r .module_dir)
[ "$moddir" = /usr/lib/modules/6.1.0-56-amd64/updates/acme ] && ok "the vendor's setup hook decides where modules go" ||
	not_ok "the vendor's setup hook decides where modules go (got $moddir)"
plan=$("$K" --root "$R" -k 6.1.0-56-amd64 plan dummy --json --source "$srcdir/tests/src/linux-mini")
if printf '%s' "$plan" | jq -e '.steps[0].plugin == "debian" and ([.steps[0].actions[].note] | any(. != null and test("built from drivers/net/")) and any(. != null and test("^ACME: ")))' >/dev/null; then
	ok "the vendor's locate-source hook calls the core default and adds its own"
else
	not_ok "the vendor's locate-source hook calls the core default and adds its own"
	echo "# $plan"
fi
tap_done
