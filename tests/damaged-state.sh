#!/bin/sh
# damaged-state.sh: what kforge reads back (records, the journal, the modules tree) damaged by a crash
# or forged: every case is reported with its fix, nothing outside the install tree is touched, nothing
# crashes (no exit by a signal) or hangs (each command under timeout). Real installs of the hello
# module against the installed Debian headers, into scratch --install-mod-path trees (TAP).
set -u
NAME=damaged-state
. "${top_srcdir:-$(dirname "$0")/..}/tests/suite.sh"

need_headers
kver=${synth_host#/usr/src/linux-headers-}
kf() { timeout 120 "$KFORGE" -k "$kver" "$@"; }
# an exit code kforge chose itself: not killed by a signal (>128) nor by timeout (124)
chosen() { [ "$1" -ge 1 ] && [ "$1" -le 6 ]; }

cp -r "$srcdir/tests/src/hello" "$tmp/hello"
kf -q build "$tmp/hello" >"$tmp/build.out" 2>&1 || { echo "Bail out! kforge build hello failed"; cat "$tmp/build.out"; exit 1; }

# A: a tree where kforge installed hello over an earlier hello (so the record has a [replaced] entry)
A=$tmp/a
M=$A/lib/modules/$kver
mkdir -p "$M/updates"
printf 'the vendor hello\n' >"$M/updates/hello.ko"
kf -q install "$tmp/hello" --install-mod-path "$A" >"$tmp/out" 2>&1 || { echo "Bail out! install failed"; cat "$tmp/out"; exit 1; }
rec=$A/var/lib/kforge/records/$kver/hello.conf
copy() { rm -rf "$2"; cp -a "$1" "$2"; }

# --- uninstall when the backup was removed: refused, nothing changed (it used to read freed memory)
B=$tmp/b
copy "$A" "$B"
rm -f "$B"/var/lib/kforge/backups/"$kver"/*
before=$(sha256sum "$B/lib/modules/$kver/updates/hello.ko")
out=$(kf uninstall hello --install-mod-path "$B" 2>&1)
rc=$?
check "uninstall with its backup gone: exit 1, says the backup is missing, nothing changed" sh -c '
	[ "$1" -eq 1 ] && printf "%s" "$2" | grep -q "backup .* is missing or damaged" &&
	[ "$(sha256sum "$3/lib/modules/$4/updates/hello.ko")" = "$5" ] && [ -f "$3/var/lib/kforge/records/$4/hello.conf" ]' \
	_ "$rc" "$out" "$B" "$kver" "$before"

# --- a record value that ends in a lone % escape: reported as damaged by every reader
B=$tmp/c
copy "$A" "$B"
r=$B/var/lib/kforge/records/$kver/hello.conf
sed -i 's/^sha256 = \(..\).*/sha256 = \1%/' "$r"
for cmd in "status" "status --json" "autoinstall" "uninstall hello"; do
	# shellcheck disable=SC2086
	out=$(kf $cmd --install-mod-path "$B" 2>&1)
	rc=$?
	check "a record ending in a lone %: $cmd reports it damaged (exit $rc), no crash" sh -c '
		{ [ "$1" -eq 0 ] || [ "$1" -eq 1 ]; } && printf "%s" "$2" | grep -q "record .*hello.conf is damaged"' _ "$rc" "$out"
done

# --- a [replaced] entry without its sha256
B=$tmp/d
copy "$A" "$B"
r=$B/var/lib/kforge/records/$kver/hello.conf
awk '/^\[replaced\]/ { inr = 1 } !(inr && /^sha256 = /)' "$r" >"$r.new" && mv "$r.new" "$r"
out=$(kf uninstall hello --install-mod-path "$B" 2>&1)
rc=$?
check "a [replaced] entry with no sha256: uninstall says the record is damaged and how to go on (exit 1)" sh -c '
	[ "$1" -eq 1 ] && printf "%s" "$2" | grep -q "damaged (a \[replaced\] entry lacks" &&
	printf "%s" "$2" | grep -q "delete it"' _ "$rc" "$out"
out=$(kf status --install-mod-path "$B" 2>&1)
rc=$?
check "... and status lists it as damaged, exit 0" sh -c '[ "$1" -eq 0 ] && printf "%s" "$2" | grep -q "is damaged"' _ "$rc" "$out"

# --- a record whose path climbs out of the install tree: never acted on
B=$tmp/e
copy "$A" "$B"
mkdir -p "$B/etc"
printf 'keep me\n' >"$B/etc/precious"
r=$B/var/lib/kforge/records/$kver/hello.conf
sed -i "s|^path = .*|path = /lib/modules/$kver/../../../etc/precious|" "$r"
sed -i "/^\[replaced\]/,\$ s|^path = .*|path = /lib/modules/$kver/../../../etc/precious|" "$r"
out=$(kf uninstall hello --install-mod-path "$B" 2>&1)
rc=$?
check "a record with /../ in its paths: uninstall refuses it (exit 1), the file outside is untouched" sh -c '
	[ "$1" -eq 1 ] && printf "%s" "$2" | grep -q "outside the modules tree" && [ "$(cat "$3/etc/precious")" = "keep me" ]' \
	_ "$rc" "$out" "$B"

# --- a journal value ending in a lone %: recovery says the journal is damaged, does nothing
B=$tmp/f
copy "$A" "$B"
printf '[transaction]\nop = install\nkernel = %s\nmodule = hello%%\npid = 1\nphase = commit\n[rename]\n[remove]\n[created]\n' \
	"$kver" >"$B/var/lib/kforge/transaction"
out=$(kf status --install-mod-path "$B" 2>&1)
rc=$?
check "a journal ending in a lone %: status says it is damaged and what to do (exit 1), no crash" sh -c '
	[ "$1" -eq 1 ] && printf "%s" "$2" | grep -q "transaction is damaged" && printf "%s" "$2" | grep -q "delete it"' \
	_ "$rc" "$out"

# --- a journal that names a file outside: refused, the file stays
B=$tmp/g
copy "$A" "$B"
mkdir -p "$B/etc"
printf 'keep me\n' >"$B/etc/precious"
printf '[transaction]\nop = install\nkernel = %s\nmodule = hello\npid = 1\nphase = commit\n[rename]\n[remove]\npath = /lib/modules/%s/../../../etc/precious\n[created]\n' \
	"$kver" "$kver" >"$B/var/lib/kforge/transaction"
out=$(kf status --install-mod-path "$B" 2>&1)
rc=$?
check "a journal that removes a file outside the tree: refused (exit 1), the file is untouched" sh -c '
	[ "$1" -eq 1 ] && printf "%s" "$2" | grep -q "outside the modules tree" && [ "$(cat "$3/etc/precious")" = "keep me" ]' \
	_ "$rc" "$out" "$B"

# --- installing twice with --install-dir extra/ keeps the module (it used to delete it, exit 0)
B=$tmp/h
mkdir -p "$B/lib/modules/$kver"
kf -q install "$tmp/hello" --install-mod-path "$B" --install-dir extra/ >"$tmp/out1" 2>&1
rc1=$?
kf -q install "$tmp/hello" --install-mod-path "$B" --install-dir extra/ >"$tmp/out2" 2>&1
rc2=$?
check "install twice with --install-dir extra/: the module is there after the second (exit 0 both)" sh -c '
	[ "$1" -eq 0 ] && [ "$2" -eq 0 ] && [ -f "$3/lib/modules/$4/extra/hello.ko" ] &&
	grep -qx "path = /lib/modules/$4/extra/hello.ko" "$3/var/lib/kforge/records/$4/hello.conf"' _ "$rc1" "$rc2" "$B" "$kver"

# --- a FIFO in place of the destination module: refused at once, the lock is free after
B=$tmp/i
mkdir -p "$B/lib/modules/$kver/updates"
mkfifo "$B/lib/modules/$kver/updates/hello.ko"
out=$(kf install "$tmp/hello" --install-mod-path "$B" 2>&1)
rc=$?
check "a FIFO where the module goes: the install fails (exit 6) saying it is not a regular file, no hang" sh -c '
	[ "$1" -eq 6 ] && printf "%s" "$2" | grep -q "not a regular file"' _ "$rc" "$out"
out=$(kf status --no-wait --install-mod-path "$B" 2>&1)
rc=$?
check "... and the lock is free afterwards (status --no-wait exit 0)" sh -c '[ "$1" -eq 0 ]' _ "$rc" "$out"

# --- depmod failing after the commit: the module is in place, the fix names the exact command
B=$tmp/j
mkdir -p "$B/lib/modules/$kver" "$tmp/fakebin"
printf '#!/bin/sh\necho "depmod: simulated failure" >&2\nexit 1\n' >"$tmp/fakebin/depmod"
chmod +x "$tmp/fakebin/depmod"
out=$(PATH="$tmp/fakebin:$PATH" kf install "$tmp/hello" --install-mod-path "$B" 2>&1)
rc=$?
check "depmod failing after the commit: exit 1, the module is installed, the message names depmod -b DIR KVER" sh -c '
	[ "$1" -eq 1 ] && [ -f "$3/lib/modules/$4/updates/hello.ko" ] &&
	printf "%s" "$2" | grep -qF "run depmod -b $3 $4 by hand"' _ "$rc" "$out" "$B" "$kver"
out=$(kf status --install-mod-path "$B" 2>&1)
rc=$?
check "... and the next run, with depmod working, finishes the job (exit 0, the journal gone)" sh -c '
	[ "$1" -eq 0 ] && [ ! -e "$3/var/lib/kforge/transaction" ] && grep -q "updates/hello.ko" "$3/lib/modules/$4/modules.dep"' \
	_ "$rc" "$out" "$B" "$kver"

tap_done
