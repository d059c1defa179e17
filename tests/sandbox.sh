#!/bin/sh
# sandbox.sh: builds never run as root (TAP). A module's Makefile, built for real against the
# host's Debian headers in a copy of the Debian fixture root, runs as the build user ([build]
# user, created on first use), inside bubblewrap ([build] sandbox = auto, bwrap), with only
# unshare --net where bubblewrap is missing, and with neither under [build] sandbox = none:
# (a) `id -u` prints the build user's uid, never 0; (b) a write outside its folder does not
# happen, and fails the build when a rule makes it; (c) no connection reaches a listener on
# 127.0.0.1; (d) a file in /root cannot be read. A build user that is root, a missing one, and
# a required bubblewrap that is missing are refused with their messages.
set -u
NAME=sandbox
. "${top_srcdir:-$(dirname "$0")/..}/tests/suite.sh"
need_headers
if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP not running as root: kforge drops to the build user only as root"
	exit 0
fi
command -v bwrap >/dev/null || { echo "1..0 # SKIP bubblewrap (bwrap) is not installed"; exit 0; }
A=6.1.0-56-amd64
root=$tmp/root
cp -a "$R/debian" "$root"
synth "$root/usr/src/linux-headers-$A" "$A"
work=$root/var/cache/kforge/work/$A
# a fresh build user, removed at exit with the secret in /root and what an escape left
user=kfsbx$$
tag=$(basename "$tmp")
secret=/root/kforge-secret-$tag
esc=/var/tmp/kforge-escape-$tag
echo "the secret $tag" >"$secret"
chmod 600 "$secret"
start_listener || { echo "Bail out! the listener did not start"; exit 1; }
trap 'kill $listener 2>/dev/null; userdel "$user" 2>/dev/null; rm -f "$secret" "$esc" "$esc-rule"; [ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
port=$(cat "$tmp/port")

# conf MODE [USER]: kforge.conf with [build] sandbox = MODE and user = USER (default: the fresh one)
conf() { printf '[build]\nuser = %s\nsandbox = %s\n[install]\ninitramfs = never\n' "${2:-$user}" "$1" >"$tmp/$1.conf"; }
conf auto
conf bwrap
conf none
kf() { # mode args... (--rebuild: the same folder is built in each mode, past the build cache)
	m=$1
	shift
	KFORGE_SYSTEM_CONFIG=$tmp/$m.conf "$KFORGE" --root "$root" -k "$A" --rebuild "$@"
}

# the module: what the Makefile tries, written where its copy is (its own folder)
mkdir -p "$tmp/m"
cat >"$tmp/m/Makefile" <<EOF
obj-m += sbx.o
\$(shell id -u > \$(src)/uid.txt)
\$(shell touch $esc)
\$(shell touch $root/escape-shell)
\$(shell cat $secret > \$(src)/secret.txt 2>&1)
\$(shell python3 -c 'import socket; socket.create_connection(("127.0.0.1", $port), 2)' > \$(src)/net.txt 2>&1)
EOF
cat >"$tmp/m/sbx.c" <<'EOF'
// SPDX-License-Identifier: GPL-2.0
#include <linux/module.h>
static int __init sbx_init(void) { return 0; }
static void __exit sbx_exit(void) { }
module_init(sbx_init);
module_exit(sbx_exit);
MODULE_LICENSE("GPL");
EOF
# a module whose build rule writes outside its folder, into TARGET
rule_module() { # dir target
	mkdir -p "$1"
	cp "$tmp/m/sbx.c" "$1/esc.c"
	printf 'obj-m += esc.o\n$(obj)/esc.o: %s\n%s:\n\ttouch $@\n' "$2" "$2" >"$1/Makefile"
}
copy() { ls -d "$work"/m-* 2>/dev/null | head -n1; }

# probe MIN MAX: a connection from here, then the listener has counted between MIN and MAX:
# a build's own connections, made before it, were accepted first and are counted too
probe() {
	python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 2)" &&
		wait_until 20 test -s "$tmp/conns" && wait_until 20 sh -c '[ "$(cat "$1")" -ge "$2" ]' _ "$tmp/conns" "$1" &&
		seen=$(cat "$tmp/conns") &&
		{ [ "$seen" -le "$2" ] || { echo "counted $seen, want $1 to $2"; false; }; }
}
check "the listener on 127.0.0.1:$port counts a connection made from outside the sandbox" probe 1 1

# the first build creates the fresh build user
if kf auto -v build "$tmp/m" >"$tmp/out" 2>&1; then ok "a build with [build] user = $user (missing) succeeds"; else
	not_ok "a build with [build] user = $user (missing) succeeds"
	sed 's/^/# /' "$tmp/out"
fi
uid=$(id -u "$user" 2>/dev/null)
check "the build user was created on first use: a system user, no home, no login shell, and said so" sh -c '
	getent passwd "$1" | grep -q ":/nonexistent:/usr/sbin/nologin$" && [ "$2" -lt 1000 ] &&
	grep -q "creating the build user $1" "$3"' _ "$user" "${uid:-1000}" "$tmp/out"
# sandboxed MODE: (a) to (d) for the build that just ran under MODE
sandboxed() {
	c=$(copy)
	check "$1: (a) id -u in the build prints the build user's uid ($uid), not 0" sh -c '[ "$(cat "$1/uid.txt")" = "$2" ]' \
		_ "$c" "$uid"
	check "$1: (b) \$(shell touch) into the fixture root wrote nothing there (the Makefile ran)" sh -c '
		[ -s "$1/uid.txt" ] && [ ! -e "$2/escape-shell" ]' _ "$c" "$root"
	check "$1: (d) a file in /root cannot be read" sh -c '[ -s "$1/secret.txt" ] && ! grep -q "the secret" "$1/secret.txt"' \
		_ "$c"
}
sandboxed auto
check "auto: (b) \$(shell touch $esc) wrote nothing (the system is read-only)" sh -c '[ -s "$1/uid.txt" ] && [ ! -e "$2" ]' \
	_ "$(copy)" "$esc"
check "auto: (c) the build reached no listener on 127.0.0.1 (and tried: net.txt holds the error)" sh -c '[ -s "$1/net.txt" ]' _ "$(copy)"
check "auto: (c) the listener counted only the probe after it" probe 2 2
check "auto: the build ran in bubblewrap, as the build user" grep -q "setpriv --reuid=$uid .* bwrap --unshare-all" \
	"$root"/var/log/kforge/*build-m-*.log

rule_module "$tmp/r1" "$esc-rule"
expect_fail "bwrap: a build rule that writes $esc-rule fails the build, naming the folder" 4 "/var/tmp" \
	kf bwrap build "$tmp/r1"
check "bwrap: and $esc-rule is not there" test ! -e "$esc-rule"

# [build] sandbox = none: no namespace, no bubblewrap, and still the build user
rm -rf "$work"
if kf none build "$tmp/m" >"$tmp/out" 2>&1; then ok "[build] sandbox = none: the build succeeds"; else
	not_ok "[build] sandbox = none: the build succeeds"
	sed 's/^/# /' "$tmp/out"
fi
sandboxed none
probe 4 99
check "none: the network is the host's (documented): the build's connections and the probe counted" test "$seen" -ge 4
check "none: no bubblewrap, no unshare, setpriv to the build user" sh -c '
	grep -h "setpriv --reuid=$1 " "$2"/var/log/kforge/*build-m-*.log | tail -n1 | grep -qv "bwrap\|unshare"' _ "$uid" "$root"
rule_module "$tmp/r2" "$root/escape-rule"
expect_fail "none: a build rule that writes into the fixture root fails the build, naming the folder" 4 "$root" \
	kf none build "$tmp/r2"
check "none: and the fixture root holds no escape-rule" test ! -e "$root/escape-rule"

# auto without bubblewrap: unshare --net, then the build user
mkdir -p "$tmp/nobwrap"
for f in /usr/local/sbin/* /usr/local/bin/* /usr/sbin/* /usr/bin/* /sbin/* /bin/*; do
	b=${f##*/}
	[ "$b" = bwrap ] || [ -e "$tmp/nobwrap/$b" ] || ln -s "$f" "$tmp/nobwrap/$b"
done
rm -rf "$work"
if PATH=$tmp/nobwrap kf auto build "$tmp/m" >"$tmp/out" 2>&1; then ok "auto without bubblewrap: the build succeeds"; else
	not_ok "auto without bubblewrap: the build succeeds"
	sed 's/^/# /' "$tmp/out"
fi
sandboxed "auto without bubblewrap"
check "auto without bubblewrap: (c) the build reached no listener (unshare --net): only the probe counted" probe $((seen + 1)) $((seen + 1))
expect_fail "[build] sandbox = bwrap without bubblewrap: refused, naming the setting and the fix" 3 \
	"[build] sandbox = bwrap, and bubblewrap is not installed: install it" env PATH="$tmp/nobwrap" \
	KFORGE_SYSTEM_CONFIG="$tmp/bwrap.conf" "$KFORGE" --root "$root" -k "$A" --rebuild build "$tmp/m"

# a build user that is root is refused before anything runs
conf auto root
rm -rf "$work"
expect_fail "[build] user = root: refused, naming the setting" 2 "[build] user root is root" kf auto build "$tmp/m"
check "and nothing was built" sh -c '[ -z "$1" ] || [ ! -e "$1/uid.txt" ]' _ "$(copy)"

# a folder above the build the build user cannot pass through: an early error naming it and the fix
conf auto
mkdir -p "$tmp/closed"
cp -a "$tmp/m" "$tmp/closed/m"
chmod 700 "$tmp/closed"
expect_fail "a module folder under a 0700 folder: refused early, naming the folder and chmod" 1 \
	"$tmp/closed (mode 0700) is closed to it. Fix: chmod o+x $tmp/closed" kf auto build "$tmp/closed/m"
tap_done
