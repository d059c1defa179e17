#!/bin/sh
# plugin-abi.sh: plugins of two minors of the plugin ABI through the real kforge binary (TAP):
# the loader-test plugins v10 (laid out as ABI 1.0, with words past its descriptor that crash
# whoever reads them) and v11 (ABI 1.1, with [plugin.v11] settings), next to the built plugins.
set -u
NAME=plugin-abi
. "${top_srcdir:-$(dirname "$0")/..}/tests/suite.sh"

plugins=$builddir/tests/unit/plugins/.libs
if [ ! -f "$plugins/v10.so" ] || [ ! -f "$plugins/v11.so" ]; then
	echo "1..0 # SKIP the loader-test plugins are not built (cmocka missing)"
	exit 0
fi
export KFORGE_PLUGIN_PATH="$plugins:${KFORGE_PLUGIN_PATH:-}"
K=6.1.0-56-amd64
# a Debian root that says it is "oldos": only v10 claims it (vanilla falls back)
root=$tmp/oldos
cp -a "$R/debian" "$root"
printf 'ID=oldos\n' >"$root/etc/os-release"

p=$("$KFORGE" --root "$root" -k "$K" plugins --json 2>"$tmp/err")
check "plugins: v10 (ABI 1.0) is selected for oldos, v11 (ABI 1.1) loads beside it" sh -c '
	printf "%s" "$1" | jq -e "(.[] | select(.name == \"v10\") | .abi == \"1.0\" and .selected and .score == 100) and
		(.[] | select(.name == \"v11\") | .abi == \"1.1\" and .score == 0)"' _ "$p"
check "a 1.0 plugin's setup hook still decides where modules go" sh -c '
	"$1" --root "$2" -k "$3" info --json | jq -e ".plugin == \"v10\" and .module_dir == \"/usr/lib/modules/$3/updates/v10\""' \
	_ "$KFORGE" "$root" "$K"
p=$("$KFORGE" --root "$root" -k "$K" plan dummy --json --source "$srcdir/tests/src/linux-mini" 2>"$tmp/err")
check "a 1.0 plugin's step hook runs (and calls the core's default)" sh -c '
	printf "%s" "$1" | jq -e ".steps[0].plugin == \"v10\" and ([.steps[0].actions[].note] | any(. != null and test(\"^v10: a 1.0 plugin.s hook ran\"))) and
		([.steps[0].actions[].note] | any(. != null and test(\"built from drivers/net/\")))" ||
	{ printf "%s\n" "$1"; cat "$2"; false; }' _ "$p" "$tmp/err"

# [plugin.v11]: declared by the plugin, listed by kforge config with file:line, checked by the plugin
printf '[build]\njobs = 2\n\n[plugin.v11]\ncolour = red\n' >"$tmp/good.conf"
c=$(KFORGE_SYSTEM_CONFIG="$tmp/good.conf" "$KFORGE" --root "$root" config --json 2>"$tmp/err")
check "config lists plugin.v11.colour from the file (file:line) and plugin.v11.flavour's default" sh -c '
	printf "%s" "$1" | jq -e --arg o "$2:5" "(.values[] | select(.key == \"plugin.v11.colour\") | .value == \"red\" and .origin == \$o) and
		(.values[] | select(.key == \"plugin.v11.flavour\") | .value == \"v11\" and .origin == \"default\")"' _ "$c" "$tmp/good.conf"
check "config text form shows them too" sh -c '
	KFORGE_SYSTEM_CONFIG="$2" "$1" --root "$3" config | grep -qE "^plugin\.v11\.colour += red +# $2:5\$"' _ "$KFORGE" "$tmp/good.conf" "$root"
printf '[plugin.v11]\n\ncolour = purple\n' >"$tmp/bad.conf"
expect_fail "a value the plugin refuses: exit 2, file:line and its reason" 2 \
	"$tmp/bad.conf:3: plugin.v11.colour must be red, green or blue, not \"purple\"" \
	env KFORGE_SYSTEM_CONFIG="$tmp/bad.conf" "$KFORGE" --root "$root" config
expect_fail "the same error stops a job" 2 "$tmp/bad.conf:3: plugin.v11.colour must be" \
	env KFORGE_SYSTEM_CONFIG="$tmp/bad.conf" "$KFORGE" --root "$root" -k "$K" info
printf '[plugin.v11]\ncolor = red\n' >"$tmp/typo.conf"
expect_fail "a key the plugin does not declare: exit 2, file:line and the keys it knows" 2 \
	"$tmp/typo.conf:2: unknown key \"plugin.v11.color\": plugin v11 knows colour, flavour" \
	env KFORGE_SYSTEM_CONFIG="$tmp/typo.conf" "$KFORGE" --root "$root" config
printf '[plugin.v10]\ncolour = red\n' >"$tmp/v10.conf"
expect_fail "a section for a 1.0 plugin (no settings): exit 2" 2 \
	"$tmp/v10.conf:2: unknown key \"plugin.v10.colour\": plugin v10 has no settings" \
	env KFORGE_SYSTEM_CONFIG="$tmp/v10.conf" "$KFORGE" --root "$root" -k "$K" info
tap_done
