#!/bin/sh
# packaging.sh: what the packages ship, checked without building them (TAP; tests/e2e/packages.sh
# builds and installs them). The man pages lint clean with mandoc and document every command and
# option of kforge --help, every setting of kforge config and every field of the plugin
# descriptor; the PKGBUILD's .SRCINFO is the one generated from it; every packaging states the
# version configure.ac does; the boot-time unit passes systemd-analyze verify and runs autoinstall
# for the running kernel; the logrotate rule removes job logs and creates nothing.
set -u
NAME=packaging
. "${top_srcdir:-$(dirname "$0")/..}/tests/suite.sh"

man1=$srcdir/core/kforge.1
man5=$srcdir/core/kforge.conf.5
man7=$srcdir/sdk/kforge-plugin.7

# --- man pages
if command -v mandoc >/dev/null; then
	for m in "$man1" "$man5" "$man7"; do
		check "mandoc -T lint $(basename "$m"): no message" sh -c 'out=$(mandoc -T lint "$1" 2>&1); [ -z "$out" ] || { echo "$out"; false; }' _ "$m"
	done
else
	skip "mandoc -T lint of the man pages" "mandoc is not installed (scripts/deps.sh installs it)"
fi
# the text of a man page as its reader sees it: escapes of dashes undone
plain() { sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\(dq/"/g' "$1"; }
missing=
for c in $("$KFORGE" --help | sed -n '/^Commands:/,/^$/p' | awk 'NF && !/^Commands:/ {print $1}'); do
	plain "$man1" | grep -qE "^\.B $c( |\$)" || missing="$missing $c"
done
check "kforge.1 has an entry for each command of kforge --help" sh -c '[ -z "$1" ] || { echo "missing:$1"; false; }' _ "$missing"
missing=
for o in $("$KFORGE" --help | sed -n '/^Options:/,/^$/p' | grep -oE -- '--[a-z][a-z-]*' | sort -u); do
	plain "$man1" | grep -qE -- "^\.B[IR]? .*$o([ \"]|\$)" || missing="$missing $o"
done
check "kforge.1 has an entry for each option of kforge --help" sh -c '[ -z "$1" ] || { echo "missing:$1"; false; }' _ "$missing"
check "kforge.1 lists the exit codes 0 to 6 and 77" sh -c '
	for c in 0 1 2 3 4 5 6 77; do sed -n "/^\.SH EXIT STATUS/,/^\.SH /p" "$1" | grep -A1 "^\.TP" | grep -qx "\.B $c" || { echo "no $c"; exit 1; }; done' _ "$man1"
# every setting, core and plugins', with its default, in its section
"$KFORGE" config --json >"$tmp/config.json"
missing=
for kv in $(jq -r '.values[] | "\(.key)=\(.value)"' "$tmp/config.json" | tr ' ' '\001'); do
	kv=$(printf '%s' "$kv" | tr '\001' ' ')
	key=${kv%%=*} value=${kv#*=}
	case $key in
	plugin.*)
		p=${key#plugin.}
		line=".B [plugin.${p%%.*}] ${p#*.} =${value:+ $value}"
		plain "$man5" | grep -qxF -- "$line" || missing="$missing $key"
		;;
	*)
		line=".B ${key#*.} =${value:+ $value}"
		plain "$man5" | sed -n "/^\.SH \[${key%%.*}\]\$/,/^\.SH /p" | grep -qxF -- "$line" || missing="$missing $key"
		;;
	esac
done
check "kforge.conf.5 documents each of the $(jq '.values | length' "$tmp/config.json") settings of kforge config, with its default, in its section" \
	sh -c '[ -z "$1" ] && [ "$2" -ge 30 ] || { echo "missing or wrong:$1"; false; }' _ "$missing" "$(jq '.values | length' "$tmp/config.json")"
# the fields: "type name;" and "type (*name)(...);", comments left out
fields=$(sed -n '/^struct kforge_plugin {/,/^};/p' "$srcdir/sdk/include/kforge/plugin.h" | grep -v '^[[:space:]]*/\{0,1\}\*' |
	sed 's|/\*.*||' | grep -oE '\(\*[a-z_]+\)|[a-z_]+;' | tr -d '(*);')
missing=
for f in $fields; do plain "$man7" | grep -qw -- "$f" || missing="$missing $f"; done
check "kforge-plugin.7 names each of the $(echo $fields | wc -w) fields of struct kforge_plugin" sh -c '
	[ -z "$1" ] && [ "$2" -ge 15 ] || { echo "missing:$1 (of $2)"; false; }' _ "$missing" "$(echo $fields | wc -w)"

# --- packaging files
check "packaging/arch/.SRCINFO is what scripts/mksrcinfo.sh makes of the PKGBUILD" sh -c '
	bash "$1/scripts/mksrcinfo.sh" "$1/packaging/arch/PKGBUILD" | diff - "$1/packaging/arch/.SRCINFO"' _ "$srcdir"
v=$("$KFORGE" --version | awk '{print $2}')
check "the version ($v) is the same in kforge --version, debian/changelog, kforge.spec and the PKGBUILD" sh -c '
	d=$(sed -n "1s/^kforge (\([^)-]*\).*/\1/p" "$2/debian/changelog")
	r=$(sed -n "s/^Version: *//p" "$2/kforge.spec")
	a=$(sed -n "s/^pkgver=//p" "$2/packaging/arch/PKGBUILD")
	[ "$d" = "$1" ] && [ "$r" = "$1" ] && [ "$a" = "$1" ] || { echo "debian $d, rpm $r, arch $a"; false; }' _ "$v" "$srcdir"

# --- the boot-time unit
unit=$builddir/data/kforge-autoinstall.service
check "kforge-autoinstall.service: a oneshot that runs kforge autoinstall for the running kernel (%v), wanted at boot" sh -c '
	grep -qx "Type=oneshot" "$1" && grep -qE "^ExecStart=/.*/kforge autoinstall -k %v\$" "$1" &&
	grep -qx "WantedBy=multi-user.target" "$1" && grep -qx "ConditionDirectoryNotEmpty=/var/lib/kforge/records" "$1"' _ "$unit"
if command -v systemd-analyze >/dev/null; then
	# verified as installed: its ExecStart names the kforge it was built with
	mkdir -p "$tmp/unit"
	sed "s|^ExecStart=[^ ]*|ExecStart=$KFORGE|" "$unit" >"$tmp/unit/kforge-autoinstall.service"
	check "systemd-analyze verify kforge-autoinstall.service: no message" sh -c '
		out=$(systemd-analyze verify --man=no "$1" 2>&1 | grep -v "^$"); [ -z "$out" ] || { echo "$out"; false; }' _ "$tmp/unit/kforge-autoinstall.service"
else
	skip "systemd-analyze verify kforge-autoinstall.service" "systemd is not installed"
fi

# --- the logrotate rule: job logs 30 days old are removed, younger ones kept, nothing created
if command -v logrotate >/dev/null && [ "$(id -u)" -eq 0 ]; then
	mkdir -p "$tmp/log"
	sed "s|/var/log/kforge/|$tmp/log/|g" "$srcdir/data/kforge.logrotate" >"$tmp/logrotate.conf"
	old=20261001-101010-install-hello-6.1.0-56-amd64-1
	echo "# kforge install hello for 6.1.0-56-amd64 (root /)" >"$tmp/log/$old.log"
	echo "# kforge install hello for 6.1.0-56-amd64 (root /)" >"$tmp/log/$old.log.2"
	echo "# kforge status for 6.1.0-56-amd64 (root /)" >"$tmp/log/20261120-101011-status-6.1.0-56-amd64-2.log"
	echo keep >"$tmp/log/notes.txt"
	touch -d "40 days ago" "$tmp/log/$old.log" "$tmp/log/$old.log.2" "$tmp/log/notes.txt"
	touch -d "3 days ago" "$tmp/log/20261120-101011-status-6.1.0-56-amd64-2.log"
	# as the daily run finds them: each last looked at two days ago (logrotate's state)
	d=$(date -d "2 days ago" +%Y-%-m-%-d-%-H:%-M:%-S)
	{
		echo "logrotate state -- version 2"
		for f in "$tmp"/log/*; do printf '"%s" %s\n' "$f" "$d"; done
	} >"$tmp/logrotate.state"
	logrotate -s "$tmp/logrotate.state" "$tmp/logrotate.conf" >"$tmp/logrotate.out" 2>&1
	check "logrotate with the rule: the job logs 40 days old are removed, one 3 days old kept, nothing created, other files untouched" sh -c '
		[ "$2" -eq 0 ] && [ "$(ls "$1" | sort | tr "\n" " ")" = "20261120-101011-status-6.1.0-56-amd64-2.log notes.txt " ] ||
		{ ls -l "$1"; cat "$3"; false; }' _ "$tmp/log" "$?" "$tmp/logrotate.out"
else
	skip "logrotate removes job logs" "needs root and logrotate"
fi
tap_done
