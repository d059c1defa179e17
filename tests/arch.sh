#!/bin/sh
# arch.sh: the arch plugin on the Arch fixture roots (TAP): the kernel's package from pkgbase and
# pacman's database, its packaging repository and tag (info facts, and the plan's first note,
# said before anything is fetched), the settings of [plugin.arch], damaged or missing databases
# refused with the reason, the release derivation in a full-strategy plan. Nothing is fetched
# here: the fetcher's own suites and the end-to-end tests cover the way to the sources.
set -u
NAME=arch
. "${top_srcdir:-$(dirname "$0")/..}/tests/suite.sh"

ARCH_URL=https://gitlab.archlinux.org/archlinux/packaging/packages

# info: what the plugin found, as facts; plan: the same as the first note of locate source
# root|kver|module|pkgbase|version|url|tag
while IFS='|' read -r root kver module pkgbase version url tag; do
	[ -n "$root" ] || continue
	want=$(jq -cn --arg p "$pkgbase" --arg v "$pkgbase $version" --arg u "$url" --arg r "tag=$tag" --arg k "$kver" \
		'{"arch.pkgbase":$p,"arch.package":$v,"arch.packaging_url":$u,"arch.packaging_ref":$r,"arch.package_release":$k}')
	got=$("$KFORGE" --root "$R/$root" -k "$kver" info --json 2>"$tmp/err" | jq -c .facts)
	if [ "$got" = "$want" ]; then ok "info $root: $pkgbase $version, $url at $tag"; else
		not_ok "info $root: $pkgbase $version, $url at $tag"; echo "# want $want"; echo "# got  $got"; sed 's/^/# /' "$tmp/err"; fi
	p=$("$KFORGE" --root "$R/$root" -k "$kver" plan "$module" --json 2>"$tmp/err")
	check "plan $root: the packaging repository and tag are said first, before any fetch" sh -c '
		printf "%s" "$1" | jq -e --arg n "$2" ".steps[0].plugin == \"arch\" and (.steps[0].actions[0].note | startswith(\$n))"' \
		_ "$p" "$pkgbase $version (pacman's database) built $kver: packaging repository $url at tag=$tag"
done <<TABLE
arch|6.6.1-arch1-1|dummy|linux|6.6.1.arch1-1|$ARCH_URL/linux.git|6.6.1.arch1-1
arch-lts|6.6.63-1-lts|dummy|linux-lts|6.6.63-1|$ARCH_URL/linux-lts.git|6.6.63-1
arch-zen|6.12.1-zen1-1-zen|dummy|linux-zen|6.12.1.zen1-1|$ARCH_URL/linux-zen.git|6.12.1.zen1-1
manjaro|6.12.63-1-MANJARO|btrfs|linux612|6.12.63-1|https://gitlab.manjaro.org/packages/core/linux612.git|6.12.63-1
TABLE

# the core's default where the plugin has nothing to add: --source given, an external module
p=$("$KFORGE" --root "$R/arch" -k 6.6.1-arch1-1 plan dummy --source "$srcdir/tests/src/linux-mini" --json 2>"$tmp/err")
check "plan with --source: the tree given, no packaging repository" sh -c '
	printf "%s" "$1" | jq -e "[.steps[0].actions[].note | select(.)] | all(test(\"packaging repository\") | not)" &&
	printf "%s" "$1" | jq -e "[.steps[0].actions[].note | select(.)] | any(test(\"kernel source tree\"))"' _ "$p"
cp -r "$srcdir/tests/src/hello" "$tmp/hello"
p=$("$KFORGE" --root "$R/arch" -k 6.6.1-arch1-1 plan "$tmp/hello" --json 2>"$tmp/err")
check "plan of an external module: no packaging repository" sh -c '
	printf "%s" "$1" | jq -e "[.steps[0].actions[].note | select(.)] | all(test(\"packaging repository\") | not)"' _ "$p"

# [plugin.arch] settings: another repository, another ref; bad values named with file:line
printf '[plugin.arch]\npackaging_url = file:///srv/mirror/%%s.git\npackaging_ref = branch=main\n' >"$tmp/mirror.conf"
p=$(KFORGE_SYSTEM_CONFIG=$tmp/mirror.conf "$KFORGE" --root "$R/arch" -k 6.6.1-arch1-1 plan dummy --json 2>"$tmp/err")
check "packaging_url and packaging_ref from kforge.conf" sh -c '
	printf "%s" "$1" | jq -e ".steps[0].actions[0].note | endswith(\"packaging repository file:///srv/mirror/linux.git at branch=main\")"' _ "$p"
check "kforge config lists [plugin.arch]'s keys with their defaults" sh -c '
	"$1" --root "$2/arch" config --json | jq -e "[.values[] | select(.key | startswith(\"plugin.arch.\")) | .key] | sort ==
		[\"plugin.arch.build_user\", \"plugin.arch.keyring\", \"plugin.arch.packaging_ref\", \"plugin.arch.packaging_url\"]" &&
	"$1" --root "$2/arch" config --json | jq -e ".values[] | select(.key == \"plugin.arch.packaging_url\") | .value == \"$3/%s.git\""' \
	_ "$KFORGE" "$R" "$ARCH_URL"
while IFS='|' read -r key value needle; do
	[ -n "$key" ] || continue
	printf '[plugin.arch]\n# line 2\n%s = %s\n' "$key" "$value" >"$tmp/bad.conf"
	expect_fail "[plugin.arch] $key = $value is refused, with file:line" 2 "$tmp/bad.conf:3: $needle" \
		env KFORGE_SYSTEM_CONFIG="$tmp/bad.conf" "$KFORGE" --root "$R/arch" -k 6.6.1-arch1-1 info
done <<'TABLE'
packaging_url|https://x/linux.git|plugin.arch.packaging_url must hold %s once
packaging_url|https://x/%s/%d.git|plugin.arch.packaging_url: %d is not allowed
packaging_ref|master|plugin.arch.packaging_ref must be empty
build_user|root|plugin.arch.build_user must name an unprivileged user
keyring|keys/arch.gpg|plugin.arch.keyring must be an absolute path
TABLE

# an epoch: pacman's folder and version have "1:", the packaging tag "1-" (devtools' tags)
cp -a "$R/arch" "$tmp/epoch"
L=$tmp/epoch/var/lib/pacman/local
mv "$L/linux-6.6.1.arch1-1" "$L/linux-1:6.6.1.arch1-1"
sed -i 's/^6\.6\.1\.arch1-1$/1:6.6.1.arch1-1/' "$L/linux-1:6.6.1.arch1-1/desc"
p=$("$KFORGE" --root "$tmp/epoch" -k 6.6.1-arch1-1 plan dummy --json 2>"$tmp/err")
check "an epoch: linux 1:6.6.1.arch1-1 is tagged 1-6.6.1.arch1-1; the release stays 6.6.1-arch1-1" sh -c '
	printf "%s" "$1" | jq -e ".steps[0].actions[0].note | test(\"^linux 1:6.6.1.arch1-1 .* at tag=1-6.6.1.arch1-1\$\")"' _ "$p"

# pacman's database damaged, doubled, missing, or at another version: refused with the reason
cp -a "$R/arch" "$tmp/damaged"
printf '%%NAME%%\nlinux\n\n%%BASE%%\nlinux\n' >"$tmp/damaged/var/lib/pacman/local/linux-6.6.1.arch1-1/desc"
expect_fail "a damaged desc: refused, named, with the fix" 3 \
	"linux-6.6.1.arch1-1/desc is damaged: no %VERSION% section: reinstall the package (pacman -S linux) or check the database with pacman -Dk" \
	"$KFORGE" --root "$tmp/damaged" -k 6.6.1-arch1-1 plan dummy
check "a damaged desc: info still works and says why the package is unknown" sh -c '
	"$1" --root "$2" -k 6.6.1-arch1-1 info --json | jq -e ".facts[\"arch.package\"] | test(\"no %VERSION% section\")"' \
	_ "$KFORGE" "$tmp/damaged"
cp -a "$R/arch" "$tmp/twice"
cp -a "$tmp/twice/var/lib/pacman/local/linux-6.6.1.arch1-1" "$tmp/twice/var/lib/pacman/local/linux-6.6.2.arch1-1"
sed -i 's/^6\.6\.1\.arch1-1$/6.6.2.arch1-1/' "$tmp/twice/var/lib/pacman/local/linux-6.6.2.arch1-1/desc"
expect_fail "two versions of linux in pacman's database: refused" 3 "lists linux twice" \
	"$KFORGE" --root "$tmp/twice" -k 6.6.1-arch1-1 plan dummy
rm -r "$tmp/twice/var/lib/pacman/local/linux-6.6.1.arch1-1"
expect_fail "pacman has another version than the target: both releases named" 3 \
	'the release linux 6.6.2.arch1-1 builds is "6.6.2-arch1-1", the target kernel is "6.6.1-arch1-1"' \
	"$KFORGE" --root "$tmp/twice" -k 6.6.1-arch1-1 plan dummy
rm -r "$tmp/twice/var/lib/pacman"
expect_fail "no pacman database: refused, --source named as the way out" 3 \
	"belongs to the package linux, but there is no pacman database (/var/lib/pacman/local) under the root: pass --source" \
	"$KFORGE" --root "$tmp/twice" -k 6.6.1-arch1-1 plan dummy

# the full strategy: the release as the PKGBUILD's prepare() makes it, no KERNELRELEASE override
p=$("$KFORGE" --root "$R/arch-zen" -k 6.12.1-zen1-1-zen plan dummy --strategy full --json 2>"$tmp/err")
check "plan arch-zen, full: EXTRAVERSION -zen1 from the patch, localversion files -1 and -zen, no KERNELRELEASE" sh -c '
	printf "%s" "$1" | jq -e "[.steps[1].actions[].note | select(.)] | any(. == \"release 6.12.1-zen1-1-zen: 6.12.1 + EXTRAVERSION \\\"-zen1\\\" (the patch) + localversion.10-pkgrel \\\"-1\\\" + localversion.20-pkgname \\\"-zen\\\" + CONFIG_LOCALVERSION \\\"\\\": no KERNELRELEASE needed\")" &&
	printf "%s" "$1" | jq -e "[.steps[].actions[].command | select(.)] | all(test(\"KERNELRELEASE\") | not)" &&
	printf "%s" "$1" | jq -e "[.steps[2].actions[].note | select(.)] | any(test(\"^configuration: the packaging repository.s config once fetched\"))"' _ "$p"
p=$("$KFORGE" --root "$R/manjaro" -k 6.12.63-1-MANJARO plan btrfs --strategy full --json 2>"$tmp/err")
check "plan manjaro, full: EXTRAVERSION=-1 on make's command line (prepare() puts pkgrel there), -MANJARO from the config" sh -c '
	printf "%s" "$1" | jq -e "[.steps[3].actions[].command | select(.)] | any(test(\" EXTRAVERSION=-1 modules_prepare\$\"))" &&
	printf "%s" "$1" | jq -e "[.steps[].actions[].command | select(.)] | all(test(\"KERNELRELEASE\") | not)" &&
	printf "%s" "$1" | jq -e "[.steps[1].actions[].note | select(.)] | any(test(\"CONFIG_LOCALVERSION .-MANJARO.\"))"' _ "$p"
p=$("$KFORGE" --root "$R/arch" -k 6.6.1-arch1-1 plan dummy --strategy headers --json 2>"$tmp/err")
check "plan --strategy headers: the tree holds drivers/net only (a cache entry of its own)" sh -c '
	printf "%s" "$1" | jq -e "[.steps[0].actions[].note | select(.)] | any(test(\"/src/arch-linux-6.6.1.arch1-1-only-drivers_net\$\"))"' _ "$p"

# install: the packaging repository cannot be had (nothing there): the error names it, nothing
# is installed
cp -a "$R/arch" "$tmp/install"
printf '[plugin.arch]\npackaging_url = file://%s/nowhere/%%s.git\n' "$tmp" >"$tmp/nowhere.conf"
expect_fail "install, packaging repository unreachable: refused naming it, nothing installed" 3 \
	"file://$tmp/nowhere/linux.git" \
	env KFORGE_SYSTEM_CONFIG="$tmp/nowhere.conf" "$KFORGE" --root "$tmp/install" -k 6.6.1-arch1-1 install dummy
check "  ... and updates/ stays empty" sh -c '[ -z "$(ls -A "$1/usr/lib/modules/6.6.1-arch1-1/updates" 2>/dev/null)" ]' \
	_ "$tmp/install"
tap_done
