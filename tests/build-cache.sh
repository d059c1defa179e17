#!/bin/sh
# build-cache.sh: nothing built twice (TAP), for real against the host's Debian headers in a copy of
# the Debian fixture root. An external module installed once is kept in CACHE/builds/KEY; installing
# it again with nothing changed runs no make (the job's log lists every command run) and still goes
# through the gate and the install; a changed source, a changed kernel .config or --rebuild builds
# again; an entry damaged on disk is removed and rebuilt, never installed; `kforge cache list` shows
# the kept builds and `cache prune` frees them. A re-install that changes nothing commits nothing.
# Two kforge instances, each with its own --root, share one cache folder: the second reuses the build.
set -u
NAME=build-cache
. "${top_srcdir:-$(dirname "$0")/..}/tests/suite.sh"
A=6.1.0-56-amd64
B=6.1.0-58-amd64
dkms_root "$A" "$B"
# two more roots as they are now, for (j): two kforge instances sharing one cache
cp -a "$root" "$tmp/root1"
cp -a "$root" "$tmp/root2"
kf() { "$KFORGE" --root "$root" -k "$A" "$@"; }
cache=$root/var/cache/kforge
builds=$cache/builds
logs=$root/var/log/kforge
# the makes the last job ran, from its log (the runner writes "$ CMD" for each command)
last_log() { ls -t "$logs"/*.log 2>/dev/null | head -n1; }
makes() { grep -c '^\$ .*\bmake\b' "$(last_log)" 2>/dev/null; }
entries() { find "$builds" -mindepth 1 -maxdepth 1 -type d ! -name '.*' 2>/dev/null | wc -l; }
installed() { find "$root/lib/modules/$A" -name "$1" 2>/dev/null | head -n1; }

u=$tmp/hello
mkdir -p "$u"
echo 'obj-m += hello.o' >"$u/Kbuild"
cat >"$u/hello.c" <<'EOF'
// SPDX-License-Identifier: GPL-2.0
#include <linux/module.h>
static int __init hello_init(void) { pr_info("hello: one\n"); return 0; }
static void __exit hello_exit(void) { }
module_init(hello_init);
module_exit(hello_exit);
MODULE_LICENSE("GPL");
EOF

# (a) the first install builds, and keeps the build
if kf install "$u" >"$tmp/out" 2>&1 && [ "$(makes)" -ge 1 ] && [ "$(entries)" = 1 ]; then
	ok "a first install runs make and keeps the build in builds/"
else
	not_ok "a first install runs make and keeps the build in builds/"
	sed 's/^/# /' "$tmp/out"
fi
key=$(basename "$(find "$builds" -mindepth 1 -maxdepth 1 -type d ! -name '.*' | head -n1)")
check "the entry holds hello.ko, Module.symvers and a manifest whose sums are the files'" sh -c '
	e=$1/$2; [ -f "$e/files/hello.ko" ] && [ -f "$e/files/Module.symvers" ] &&
	grep -qx "$(sha256sum <"$e/files/hello.ko" | cut -d" " -f1) hello.ko" "$e/manifest" &&
	grep -qx "symvers $(sha256sum <"$e/files/Module.symvers" | cut -d" " -f1)" "$e/manifest"' _ "$builds" "$key"
check "the job's log names the key and what it hashed (release, .config, sources)" sh -c '
	grep -q "^# build key $2 of:" "$1" && grep -q "^release $3" "$1" && grep -q "^file .config [0-9a-f]\{64\}" "$1" &&
	grep -q "^src hello.c - [0-9a-f]\{64\}" "$1"' _ "$(last_log)" "$key" "$A"

# (b) the same install again: no make, the build reused, gate and install still run
ko=$(installed hello.ko)
rm -f "$ko"
if kf install "$u" >"$tmp/out" 2>&1 && [ "$(makes)" = 0 ] && grep -q "built before with the same sources" "$tmp/out" &&
	ko=$(installed hello.ko) && [ -n "$ko" ] && [ "$(modinfo -F vermagic "$ko" | cut -d' ' -f1)" = "$A" ]; then
	ok "the same install again runs no make and installs the kept module (its file was removed: put back)"
else
	not_ok "the same install again runs no make and installs the kept module (its file was removed: put back)"
	sed 's/^/# /' "$tmp/out"
fi
check "the reused build went through the gate (validated: vermagic and CRCs)" grep -q "validated hello.ko: vermagic $A" "$tmp/out"
check "kforge status says the reinstalled module is ok" sh -c '
	"$1" --root "$2" -k "$3" status --json | jq -e "[.modules[] | select(.module == \"hello\")][0].state == \"ok\""' \
	_ "$KFORGE" "$root" "$A"

# (c) a re-install that changes nothing commits nothing: no depmod, the module file untouched
before=$(stat -c %i.%Y.%y "$(installed hello.ko)")
if kf install "$u" >"$tmp/out" 2>&1 && [ "$(makes)" = 0 ] && ! grep -q '^\$ .*depmod' "$(last_log)" &&
	[ "$(stat -c %i.%Y.%y "$(installed hello.ko)")" = "$before" ] && grep -q "already installed" "$tmp/out"; then
	ok "a re-install that changes nothing runs no make and no depmod, and leaves the file as it was"
else
	not_ok "a re-install that changes nothing runs no make and no depmod, and leaves the file as it was"
	sed 's/^/# /' "$tmp/out"
fi

# (d) a changed source misses: make runs and the new module is installed
sed -i 's/hello: one/hello: two/' "$u/hello.c"
if kf install "$u" >"$tmp/out" 2>&1 && [ "$(makes)" -ge 1 ] && [ "$(entries)" = 2 ] &&
	strings "$(installed hello.ko)" | grep -q "hello: two"; then
	ok "a changed source misses: make runs, a second entry is kept, the new module is installed"
else
	not_ok "a changed source misses: make runs, a second entry is kept, the new module is installed"
	sed 's/^/# /' "$tmp/out"
fi
# (e) a mode change (a script made executable) is part of the sources too
chmod +x "$u/hello.c"
check "a source whose execute bit changed misses" sh -c '"$@" build "$0" >/dev/null 2>&1' "$u" "$KFORGE" --root "$root" -k "$A"
check "... and that build ran make" sh -c '[ "$(grep -c "^\$ .*\bmake\b" "$(ls -t "$1"/*.log | head -n1)")" -ge 1 ]' _ "$logs"
chmod -x "$u/hello.c"

# (f) the kernel's .config changed (same release): a miss
cfg=$root/usr/src/linux-headers-$A/.config
if [ -f "$cfg" ] && [ ! -L "$cfg" ]; then
	cp "$cfg" "$tmp/config.saved"
	echo '# CONFIG_KFORGE_TEST_CHANGE is not set' >>"$cfg"
	check "a changed kernel .config misses: make runs" sh -c '
		"$1" --root "$2" -k "$3" build "$4" >/dev/null 2>&1 && [ "$(grep -c "^\$ .*\bmake\b" "$(ls -t "$5"/*.log | head -n1)")" -ge 1 ]' \
		_ "$KFORGE" "$root" "$A" "$u" "$logs"
	cp "$tmp/config.saved" "$cfg"
else
	# synth links the host's files: change a copy
	cp --remove-destination "$(readlink -f "$cfg")" "$cfg"
	echo '# CONFIG_KFORGE_TEST_CHANGE is not set' >>"$cfg"
	check "a changed kernel .config misses: make runs" sh -c '
		"$1" --root "$2" -k "$3" build "$4" >/dev/null 2>&1 && [ "$(grep -c "^\$ .*\bmake\b" "$(ls -t "$5"/*.log | head -n1)")" -ge 1 ]' \
		_ "$KFORGE" "$root" "$A" "$u" "$logs"
	sed -i '$d' "$cfg"
fi
check "the .config as it was: the earlier build is reused (no make)" sh -c '
	"$1" --root "$2" -k "$3" build "$4" >/dev/null 2>&1 && [ "$(grep -c "^\$ .*\bmake\b" "$(ls -t "$5"/*.log | head -n1)")" = 0 ]' \
	_ "$KFORGE" "$root" "$A" "$u" "$logs"

# another make on PATH (a wrapper that changes what is built) is another build
mkdir -p "$tmp/mk"
printf '#!/bin/sh\nexec /usr/bin/make "$@"\n' >"$tmp/mk/make"
chmod 755 "$tmp/mk" "$tmp/mk/make"
check "another make on PATH misses: make runs" sh -c '
	PATH="$6:$PATH" "$1" --root "$2" -k "$3" build "$4" >/dev/null 2>&1 && [ "$(grep -c "^\$ .*\bmake\b" "$(ls -t "$5"/*.log | head -n1)")" -ge 1 ]' \
	_ "$KFORGE" "$root" "$A" "$u" "$logs" "$tmp/mk"

# (g) --rebuild builds even on a hit, and plan says what a hit would do
check "plan says the build cache holds the build and no make runs" sh -c '
	"$1" --root "$2" -k "$3" plan "$4" 2>&1 | grep -q "the build cache holds this build"' _ "$KFORGE" "$root" "$A" "$u"
check "--rebuild runs make although the build is kept" sh -c '
	"$1" --root "$2" -k "$3" --rebuild build "$4" >/dev/null 2>&1 && [ "$(grep -c "^\$ .*\bmake\b" "$(ls -t "$5"/*.log | head -n1)")" -ge 1 ]' \
	_ "$KFORGE" "$root" "$A" "$u" "$logs"

# (h) an entry damaged on disk: removed with a warning, built again, the right module installed
# the entry the current sources use: the key the last build's log names
kf build "$u" >/dev/null 2>&1
cur() { sed -n 's/^# build key \([0-9a-f]\{64\}\) of:$/\1/p' "$(last_log)" | head -n1; }
e=$builds/$(cur)
printf 'X' | dd of="$e/files/hello.ko" bs=1 seek=100 conv=notrunc 2>/dev/null
if kf install "$u" >"$tmp/out" 2>&1 && grep -q "is damaged" "$tmp/out" && [ "$(makes)" -ge 1 ] &&
	strings "$(installed hello.ko)" | grep -q "hello: two" && modinfo "$(installed hello.ko)" >/dev/null 2>&1; then
	ok "a damaged entry is removed with a warning and the module built again"
else
	not_ok "a damaged entry is removed with a warning and the module built again"
	sed 's/^/# /' "$tmp/out"
fi
# a manifest that names a path outside the entry is damage too
e=$builds/$(cur)
sed -i '1s| .*| ../../../../etc/passwd.ko|' "$e/manifest"
check "a manifest naming ../ is damage: removed with a warning, built again, never read through" sh -c '
	"$1" --root "$2" -k "$3" build "$4" >"$6/out" 2>&1 && grep -q "is damaged" "$6/out" && [ -f "$5/manifest" ] &&
	! grep -q "\.\./" "$5/manifest"' _ "$KFORGE" "$root" "$A" "$u" "$e" "$tmp"

# (i) cache list shows the kept builds; prune --all frees them
check "cache list shows each kept build as kind build" sh -c '
	"$1" --root "$2" -k "$3" cache list --json | jq -e "[.entries[] | select(.kind == \"build\")] | length >= 1 and all(.key | startswith(\"builds/\"))"' \
	_ "$KFORGE" "$root" "$A"
check "cache prune --all removes them" sh -c '
	"$1" --root "$2" -k "$3" cache prune --all >/dev/null 2>&1 && [ -z "$(find "$4" -mindepth 1 -maxdepth 1 -type d 2>/dev/null)" ]' \
	_ "$KFORGE" "$root" "$A" "$builds"

# (k) a module whose imports another external module exports (found through kforge's registry of
# what it built, no --extra-symbols): reused, it passes the gate as the build did
x=$tmp/exporter
i=$tmp/importer
exporter_pair "$x" "$i"
kf -q install "$x" >/dev/null 2>&1
kf -q install "$i" >"$tmp/out" 2>&1
rm -f "$(installed kfimp.ko)"
if kf install "$i" >"$tmp/out" 2>&1 && [ "$(makes)" = 0 ] && grep -q "built before with the same sources" "$tmp/out" &&
	grep -q "validated kfimp.ko" "$tmp/out" && [ -n "$(installed kfimp.ko)" ]; then
	ok "an importer of another external module's symbol, reused: the gate checks its CRC against the exporter's, installed"
else
	not_ok "an importer of another external module's symbol, reused: the gate checks its CRC against the exporter's, installed"
	sed 's/^/# /' "$tmp/out"
fi

# (l) a build that leaves no Module.symvers at the top (a manifest's "symvers -") is a hit too
kf build "$u" >/dev/null 2>&1
e=$builds/$(cur)
rm -f "$e/files/Module.symvers"
sed -i 's/^symvers .*/symvers -/' "$e/manifest"
check "an entry without Module.symvers (symvers -) is reused, not taken for damage" sh -c '
	"$1" --root "$2" -k "$3" build "$4" >"$5/out" 2>&1 && grep -q "built before with the same sources" "$5/out" &&
	! grep -q "is damaged" "$5/out"' _ "$KFORGE" "$root" "$A" "$u" "$tmp"

# (m) a re-install whose staging fails (strip exits 1): the install fails and rolls back, the
# module installed before is left whole (never an empty file)
kf -q install "$u" >/dev/null 2>&1
good=$(sha256sum <"$(installed hello.ko)")
mkdir -p "$tmp/badbin"
printf '#!/bin/sh\nexit 1\n' >"$tmp/badbin/strip"
chmod +x "$tmp/badbin/strip"
PATH="$tmp/badbin:$PATH" kf install "$u" >"$tmp/out" 2>&1
rc=$?
check "a re-install whose strip fails: exit non-zero, the installed module as it was" sh -c '
	[ "$1" -ne 0 ] && [ "$(sha256sum <"$2")" = "$3" ]' _ "$rc" "$(installed hello.ko)" "$good" || sed 's/^/# /' "$tmp/out"

# (j) two instances, each with its own --root, sharing one cache (as machines share a path): the
# second reuses the first's build. Each root's cache folder is the shared one, bound in a mount
# namespace of the run's own (unshare -m), so nothing outside the test sees the mount.
shared=$tmp/shared
mkdir -p "$shared"
chmod 755 "$shared"
in_root() { # ROOT args...: kforge --root ROOT with ROOT/var/cache/kforge the shared folder
	r=$1
	shift
	mkdir -p "$r/var/cache/kforge"
	unshare -m sh -c 'mount --bind "$1" "$2/var/cache/kforge" && shift 2 && exec "$@"' _ "$shared" "$r" \
		"$KFORGE" --root "$r" -k "$A" "$@"
}
if ! unshare -m sh -c 'mount --bind "$1" "$1"' _ "$shared" 2>/dev/null; then
	skip "two --root instances share one cache" "no mount namespace here (unshare -m, mount --bind)"
else
	in_root "$tmp/root1" install "$u" >"$tmp/out1" 2>&1
	rc1=$?
	l1=$(ls -t "$tmp/root1/var/log/kforge"/*.log | head -n1)
	in_root "$tmp/root2" install "$u" >"$tmp/out2" 2>&1
	rc2=$?
	l2=$(ls -t "$tmp/root2/var/log/kforge"/*.log | head -n1)
	if [ $rc1 -eq 0 ] && [ $rc2 -eq 0 ] && [ "$(grep -c '^\$ .*\bmake\b' "$l1")" -ge 1 ] &&
		[ "$(grep -c '^\$ .*\bmake\b' "$l2")" = 0 ] && grep -q "built before with the same sources" "$tmp/out2" &&
		[ -n "$(find "$tmp/root2/lib/modules/$A" -name hello.ko)" ] && [ -n "$(ls "$shared/builds")" ]; then
		ok "two --root instances share one cache: the first builds, the second installs the first's build, no make"
	else
		not_ok "two --root instances share one cache: the first builds, the second installs the first's build, no make"
		sed 's/^/# 1: /' "$tmp/out1"
		sed 's/^/# 2: /' "$tmp/out2"
	fi
fi
# (k) a named module's folder is kept between builds for the same target: an edit rebuilds only
# what changed (no make clean); a changed target (the build dir's .config) starts over
mini_tree "$tmp/tree" 6.1.192 "named one"
chmod -R go+rX "$tmp/tree"
w=$cache/work/$A/dummy
desc() { modinfo -F description "$(find "$root/lib/modules/$A/updates" -name "dummy.ko*" | head -n1)"; }
if kf install dummy --source "$tmp/tree" >"$tmp/out" 2>&1 && [ "$(makes)" -ge 1 ] && [ "$(desc)" = "named one" ]; then
	ok "install dummy --source TREE builds the named module"
else
	not_ok "install dummy --source TREE builds the named module"
	sed 's/^/# /' "$tmp/out"
fi
# markers where no source is (the work folder's top, a name kbuild would have written)
touch "$w/.kf-marker" "$w/drivers/net/kfmarker.o"
check "the same named install again runs no make (its kept objects are not sources of the key)" sh -c '
	"$1" --root "$2" -k "$3" install dummy --source "$4" >/dev/null 2>&1 &&
	[ "$(grep -c "^\$ .*\bmake\b" "$(ls -t "$2"/var/log/kforge/*.log | head -n1)")" = 0 ]' \
	_ "$KFORGE" "$root" "$A" "$tmp/tree" || sed 's/^/# /' "$(last_log)"
sed -i 's/named one/named two/' "$tmp/tree/drivers/net/dummy.c"
kf install dummy --source "$tmp/tree" >"$tmp/out" 2>&1
rc=$?
check "an edited source: built again in the folder kept (no make clean, the marker planted there stays), the edit installed" sh -c '
	[ "$1" -eq 0 ] && [ -e "$2/.kf-marker" ] && [ -e "$2/drivers/net/kfmarker.o" ] && grep -q "kept from the last build" "$3" &&
	! grep -q "make.* clean" "$3" && [ "$4" = "named two" ]' _ "$rc" "$w" "$(last_log)" "$(desc)" || sed 's/^/# /' "$tmp/out"
echo "# changed" >>"$root/usr/src/linux-headers-$A/.config"
kf install dummy --source "$tmp/tree" >"$tmp/out" 2>&1
rc=$?
check "a changed target (the build dir's .config): the folder starts over, the marker gone" sh -c '
	[ "$1" -eq 0 ] && [ ! -e "$2/.kf-marker" ] && grep -q "starting over" "$3"' _ "$rc" "$w" "$(last_log)" ||
	sed 's/^/# /' "$tmp/out"

tap_done
