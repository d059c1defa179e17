#!/bin/sh
# bad-input.sh: what a crash or an attacker leaves for kforge to read (FIFOs, folders, huge or
# damaged files, odd releases, paths of the wrong kind), driven through the real binary: each is
# reported with its cause and fix and the documented exit code, and nothing hangs (TAP).
# Run by `make check` with KFORGE_PLUGIN_PATH pointing at the built plugins.
set -u
NAME=bad-input
. "${top_srcdir:-$(dirname "$0")/..}/tests/suite.sh"

# Every run is guarded: a regression that blocks on a FIFO fails its test (exit 124) instead of
# hanging the suite.
guard() { timeout -k 5 20 "$@"; }

# expect NAME CODE NEEDLE CMD...: CMD exits CODE and its stderr holds NEEDLE (fixed string)
expect() {
	name=$1 code=$2 needle=$3
	shift 3
	guard "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
	if [ "$rc" -eq "$code" ] && { [ -z "$needle" ] || grep -qF -- "$needle" "$tmp/err"; }; then ok "$name"; else
		not_ok "$name"; echo "# exit $rc (want $code)"; sed 's/^/# /' "$tmp/err"; fi
}

KVER=6.1.0-56-amd64
# a copy of the debian fixture to damage
deb_copy() {
	rm -rf "$tmp/$1"
	cp -a "$R/debian" "$tmp/$1"
	echo "$tmp/$1"
}

# --- files read back are read only when they are regular files, and at most 64 MiB

# os-release: a FIFO is skipped with a warning, the fallback or "unknown" is used
d="$tmp/fifo-os"
mkdir -p "$d/etc" "$d/usr/lib"
mkfifo "$d/etc/os-release"
expect "a FIFO as /etc/os-release: warned and skipped, no hang" 0 \
	"$d/etc/os-release is not a regular file: ignored, as if there were no /etc/os-release (fix: make it a regular file" \
	"$KFORGE" --root "$d" plugins --json
check "a FIFO as /etc/os-release: the vanilla fallback is selected" sh -c 'test -s "$1" && jq -e "[.[] | select(.selected) | .name] == [\"vanilla\"]" "$1"' _ "$tmp/out"
printf 'ID=debian\n' >"$d/usr/lib/os-release"
expect "a FIFO as /etc/os-release: /usr/lib/os-release is read instead" 0 "is not a regular file: ignored" \
	"$KFORGE" --root "$d" plugins --json
check "a FIFO as /etc/os-release, ID=debian in /usr/lib/os-release: debian is selected" sh -c 'test -s "$1" && jq -e "[.[] | select(.selected) | .name] == [\"debian\"]" "$1"' _ "$tmp/out"
v=$(deb_copy deb-fifo-os)
rm -f "$v/etc/os-release"
mkfifo "$v/etc/os-release"
expect "a FIFO as /etc/os-release of a Debian root: info still answers" 0 "is not a regular file" \
	"$KFORGE" --root "$v" -k "$KVER" info

# the configuration files: a clear error (exit 2), never a wait for a writer
mkfifo "$tmp/conf.fifo"
expect "a FIFO as the system configuration file: exit 2, names it" 2 \
	"$tmp/conf.fifo is not a regular file: kforge reads its configuration only from a plain file (fix: " \
	env KFORGE_SYSTEM_CONFIG="$tmp/conf.fifo" "$KFORGE" config
mkdir -p "$tmp/xdg/kforge"
mkfifo "$tmp/xdg/kforge/kforge.conf"
expect "a FIFO as the user's configuration file: exit 2, names it" 2 \
	"$tmp/xdg/kforge/kforge.conf is not a regular file" \
	env XDG_CONFIG_HOME="$tmp/xdg" "$KFORGE" config
mkdir -p "$tmp/conf.dir"
expect "a folder as the configuration file: exit 2" 2 "$tmp/conf.dir is not a regular file" \
	env KFORGE_SYSTEM_CONFIG="$tmp/conf.dir" "$KFORGE" config
printf '[build]\njobs = 2\n\0\0\0\0' >"$tmp/conf.nul"
expect "a configuration file with NUL bytes (damaged): exit 2" 2 "$tmp/conf.nul holds a NUL byte: it is damaged" \
	env KFORGE_SYSTEM_CONFIG="$tmp/conf.nul" "$KFORGE" config
truncate -s 65M "$tmp/conf.big"
expect "a configuration file above 64 MiB: exit 2" 2 "$tmp/conf.big is larger than 64 MiB" \
	env KFORGE_SYSTEM_CONFIG="$tmp/conf.big" "$KFORGE" config

# the kernel's own files under the root: a FIFO is as good as missing, never waited on
v=$(deb_copy deb-fifo-kernel)
rm "$v/usr/lib/modules/$KVER/modules.dep" "$v/usr/src/linux-headers-$KVER/.kernelvariables"
mkfifo "$v/usr/lib/modules/$KVER/modules.dep"
mkfifo "$v/usr/src/linux-headers-$KVER/.kernelvariables"
expect "FIFOs as modules.dep and the build dir's .kernelvariables: info answers" 0 "" \
	"$KFORGE" --root "$v" -k "$KVER" info --json
check "FIFOs as modules.dep and .kernelvariables: the release and modversions still found" sh -c 'test -s "$1" && jq -e ".kernel.release == \"$2\" and .modversions == true" "$1"' _ "$tmp/out" "$KVER"
v=$(deb_copy deb-fifo-index)
mkfifo "$v/usr/lib/modules/$KVER/modules.dep.bin"
expect "a FIFO as modules.dep.bin (libkmod's index): plan btrfs answers from modules.dep" 0 "" \
	"$KFORGE" --root "$v" -k "$KVER" plan btrfs --json --source "$srcdir/tests/src/linux-mini"
check "a FIFO as modules.dep.bin: btrfs still found in fs/btrfs" sh -c 'test -s "$1" && jq -e "[.steps[0].actions[].note] | any(. != null and test(\"fs/btrfs\"))" "$1"' _ "$tmp/out"

# --- kernel releases: they become folder names under lib/modules, so each odd one is a usage
# error (exit 2) that says why; none reaches a path
long=$(printf '%0256d' 0 | tr 0 a)
expect "-k with 256 characters: exit 2, longer than 64 characters" 2 \
	'" is no kernel release (like 6.1.0-56-amd64 or 6.6.1-arch1-1): longer than 64 characters' \
	"$KFORGE" --root "$R/debian" -k "$long" info
expect "-k with 65 characters: exit 2" 2 "longer than 64 characters" \
	"$KFORGE" --root "$R/debian" -k "6.1.0-$(printf '%059d' 0)" info
expect "-k '': exit 2, empty" 2 '"" is no kernel release (like 6.1.0-56-amd64 or 6.6.1-arch1-1): it is empty' \
	"$KFORGE" --root "$R/debian" -k "" info
expect "-k with a '/': exit 2" 2 "\"6.1.0-56-amd64/../../../etc\" is no kernel release (like 6.1.0-56-amd64 or 6.6.1-arch1-1): it holds a '/'" \
	"$KFORGE" --root "$R/debian" -k "6.1.0-56-amd64/../../../etc" info
expect "-k with '..': exit 2" 2 "\"6.1..0\" is no kernel release (like 6.1.0-56-amd64 or 6.6.1-arch1-1): it holds \"..\"" \
	"$KFORGE" --root "$R/debian" -k "6.1..0" info
expect "-k ..: exit 2" 2 'it holds ".."' "$KFORGE" --root "$R/debian" -k ".." info
expect "-k with a space: exit 2" 2 "\"6.1.0 amd64\" is no kernel release (like 6.1.0-56-amd64 or 6.6.1-arch1-1): it holds a space" \
	"$KFORGE" --root "$R/debian" -k "6.1.0 amd64" info
esc=$(printf '\033')
expect "-k with a control character: exit 2, shown as \\x1b" 2 \
	'"6.1.0-\x1b[31mred" is no kernel release (like 6.1.0-56-amd64 or 6.6.1-arch1-1): it holds a control character' \
	"$KFORGE" --root "$R/debian" -k "6.1.0-${esc}[31mred" info
check "-k with a control character: no escape byte reaches the terminal" sh -c '! grep -q "$(printf "\033")" "$1"' _ "$tmp/err"
expect "autoinstall -k with a '/': exit 2" 2 "it holds a '/'" \
	"$KFORGE" --root "$R/debian" autoinstall -k "6.1.0/../x" --install-mod-path "$tmp/imp"

# --- paths on the command line, by kind: a clear error (2 usage, 3 missing) before anything
# reads or writes them
: >"$tmp/a-file"
mkfifo "$tmp/a-fifo"
cp -r "$srcdir/tests/src/hello" "$tmp/hello"
expect "--root that does not exist: exit 2, cause and fix" 2 \
	"--root $tmp/no-such-root: No such file or directory: give the folder that holds the target system" \
	"$KFORGE" --root "$tmp/no-such-root" -k "$KVER" info
expect "--root that is a file: exit 2, cause and fix" 2 \
	"--root $tmp/a-file: not a directory: give the folder that holds the target system" \
	"$KFORGE" --root "$tmp/a-file" -k "$KVER" info
expect "--root that is a FIFO: exit 2" 2 "--root $tmp/a-fifo: not a directory" \
	"$KFORGE" --root "$tmp/a-fifo" -k "$KVER" info
expect "--install-mod-path that is a file: exit 2, cause and fix" 2 \
	"--install-mod-path $tmp/a-file is not a directory: give a folder to install under" \
	"$KFORGE" --root "$R/debian" -k "$KVER" plan "$tmp/hello" --install-mod-path "$tmp/a-file"
expect "--install-mod-path under a file: exit 2" 2 \
	"--install-mod-path $tmp/a-file/sub has a file where a folder belongs on its way" \
	"$KFORGE" --root "$R/debian" -k "$KVER" build "$tmp/hello" --dry-run --install-mod-path "$tmp/a-file/sub"
expect "--install-mod-path that does not exist yet: fine (created by the install)" 0 "" \
	"$KFORGE" --root "$R/debian" -k "$KVER" plan "$tmp/hello" --install-mod-path "$tmp/new-tree"
expect "--source that is a FIFO: exit 2, no hang" 2 \
	"--source $tmp/a-fifo is neither a directory nor a regular file: give a kernel source tree or a tarball of one" \
	"$KFORGE" --root "$R/debian" -k "$KVER" plan btrfs --source "$tmp/a-fifo"
expect "--source that does not exist: exit 3 (missing)" 3 "--source $tmp/no-such-source: No such file or directory" \
	"$KFORGE" --root "$R/debian" -k "$KVER" plan btrfs --source "$tmp/no-such-source"
expect "--extra-symbols that is a FIFO: exit 2, says so" 2 \
	"--extra-symbols $tmp/a-fifo is not a regular file: name the Module.symvers" \
	"$KFORGE" --root "$R/debian" -k "$KVER" plan "$tmp/hello" --extra-symbols "$tmp/a-fifo"
expect "--extra-symbols that is a directory: exit 2, names the file to give" 2 \
	"--extra-symbols $tmp/hello is a directory: name the Module.symvers file in it (--extra-symbols $tmp/hello/Module.symvers)" \
	"$KFORGE" --root "$R/debian" -k "$KVER" plan "$tmp/hello" --extra-symbols "$tmp/hello"
# a name chosen to steer the terminal is shown escaped in every message
evil="$tmp/evil-${esc}[2J"
mkfifo "$evil"
expect "a path with an escape sequence: shown as \\x1b in the message" 2 "evil-\x1b[2J is not a regular file" \
	"$KFORGE" --root "$R/debian" -k "$KVER" plan "$tmp/hello" --extra-symbols "$evil"
check "a path with an escape sequence: no escape byte reaches the terminal" sh -c '! grep -q "$(printf "\033")" "$1"' _ "$tmp/err"

# --- a plugin whose probe crashes (or hangs) is named and skipped; the others still work
crash_so="$builddir/tests/unit/plugins/.libs/crashprobe.so"
if [ -f "$crash_so" ]; then
	mkdir -p "$tmp/crashplugins"
	cp "$crash_so" "$tmp/crashplugins/"
	chmod 0755 "$tmp/crashplugins/crashprobe.so"
	expect "a plugin that crashes in its probe: kforge plugins names it and goes on" 0 \
		"plugin crashprobe crashed in its probe (signal 11, " \
		env KFORGE_PLUGIN_PATH="$tmp/crashplugins:$KFORGE_PLUGIN_PATH" "$KFORGE" --root "$R/debian" plugins --json
	check "a plugin that crashes in its probe: the others are listed and debian is selected" sh -c '
		test -s "$1" && jq -e "([.[].name] | sort) == [\"arch\",\"crashprobe\",\"debian\",\"fedora\",\"vanilla\"] and
			([.[] | select(.selected) | .name] == [\"debian\"]) and
			(.[] | select(.name == \"crashprobe\") | .score == 0)" "$1"' _ "$tmp/out"
	expect "a plugin that crashes in its probe: info works with the plugin selected" 0 "crashed in its probe" \
		env KFORGE_PLUGIN_PATH="$tmp/crashplugins:$KFORGE_PLUGIN_PATH" "$KFORGE" --root "$R/debian" -k "$KVER" info
	check "a plugin that crashes in its probe: info names the debian plugin" grep -qx "plugin: *debian" "$tmp/out"
	expect "--plugin naming the plugin whose probe crashed: exit 1, says so" 1 \
		"plugin crashprobe cannot be used: its probe failed" \
		env KFORGE_PLUGIN_PATH="$tmp/crashplugins:$KFORGE_PLUGIN_PATH" "$KFORGE" --root "$R/debian" -k "$KVER" --plugin crashprobe info
	expect "a plugin whose probe never returns: killed after 10 s, named, the others go on" 0 \
		"plugin crashprobe did not finish its probe within 10 s: skipped" \
		env CRASHPROBE=hang KFORGE_PLUGIN_PATH="$tmp/crashplugins:$KFORGE_PLUGIN_PATH" "$KFORGE" --root "$R/debian" plugins --json
else
	skip "a plugin that crashes in its probe" "no tests/unit/plugins/.libs/crashprobe.so (built with cmocka)"
fi

tap_done
