#!/bin/sh
# arch-sandbox.sh: a PKGBUILD without .SRCINFO is evaluated by bash as an unprivileged user with
# no network, never in kforge's own process (TAP). Its global scope tries what a hostile recipe
# would: find out who it is, reach a listener on 127.0.0.1 that this test started, write to /tmp
# and next to itself. Each attempt's outcome comes back through pkgver/pkgrel, as data.
set -u
NAME=arch-sandbox
. "${top_srcdir:-$(dirname "$0")/..}/tests/suite.sh"

eval_bin=$builddir/tests/arch/pkgbuild-eval
if [ ! -x "$eval_bin" ]; then
	echo "1..0 # SKIP tests/arch/pkgbuild-eval was not built (cmocka missing)"
	exit 0
fi
if ! command -v python3 >/dev/null; then
	echo "1..0 # SKIP python3 is needed for the listener"
	exit 0
fi

# a listener on 127.0.0.1 that counts connections: the sandbox must not reach it
start_listener || { echo "1..0 # SKIP the listener did not start"; exit 0; }
port=$(cat "$tmp/port")

# the control: outside any sandbox the listener is reachable (so a failure below means something)
if bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null && wait_until 20 test -s "$tmp/conns"; then
	ok "control: 127.0.0.1:$port is reachable from outside the sandbox"
else
	not_ok "control: 127.0.0.1:$port is reachable from outside the sandbox"
fi
before=$(cat "$tmp/conns" 2>/dev/null || echo 0)

mkdir -p "$tmp/rootonly"
chmod 755 "$tmp/rootonly"
cat >"$tmp/PKGBUILD" <<PKG
# global scope: runs when the PKGBUILD is sourced
touch /tmp/pwned-\$\$ && t=tmpw || t=tmpro
pkgrel=\$(id -u)
if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then net=netok; else net=netno; fi
touch "$tmp/rootonly/pwned" 2>/dev/null && w=hostw || w=hostro
touch ./pwned 2>/dev/null && h=herew || h=herero
pkgbase=linux
pkgver=6.6.1.\${net}_\${w}_\${h}
epoch=1
source=("linux-6.6.1.tar.xz::https://cdn.kernel.org/pub/linux/kernel/v6.x/linux-6.6.1.tar.xz" config)
source_x86_64=(extra.patch)
sha256sums=('$(printf 'a%.0s' $(seq 64))' SKIP)
sha256sums_x86_64=('$(printf 'b%.0s' $(seq 64))')
validpgpkeys=(ABAF11C65A2970B130ABE3C479BE3E4300411886)
echo "printed by the PKGBUILD: not data"
PKG

run_eval() { "$eval_bin" "$R/arch" 6.6.1-arch1-1 "$tmp/PKGBUILD" "$@" >"$tmp/out" 2>"$tmp/err"; }
field() { sed -n "s/^$1=//p" "$tmp/out"; }

for mode in bwrap no-bwrap; do
	if [ $mode = bwrap ] && ! command -v bwrap >/dev/null; then
		skip "bwrap: the PKGBUILD runs as nobody, without network" "bubblewrap is not installed (scripts/deps.sh)"
		continue
	fi
	ls /tmp/pwned-* >"$tmp/pwned-before" 2>/dev/null
	if run_eval $([ $mode = no-bwrap ] && echo --no-bwrap); then
		ok "$mode: the PKGBUILD was evaluated and its variables read back"
	else
		not_ok "$mode: the PKGBUILD was evaluated and its variables read back"
		sed 's/^/# /' "$tmp/err"
		continue
	fi
	uid=$(field pkgrel)
	check "$mode: its global scope ran as an unprivileged user (id -u = $uid), not root" \
		sh -c '[ -n "$1" ] && [ "$1" -ne 0 ] && [ "$1" = "$(id -u nobody)" ]' _ "$uid"
	check "$mode: 127.0.0.1:$port was out of its reach (no network), and the listener saw no connection" \
		sh -c 'case $1 in *netno*) ;; *) exit 1;; esac; [ "$(cat "$2" 2>/dev/null || echo 0)" = "$3" ]' \
		_ "$(field pkgver)" "$tmp/conns" "$before"
	check "$mode: it could not write into a folder of root's, nor beside the PKGBUILD" \
		sh -c 'case $1 in *_hostro_herero) ;; *) exit 1;; esac; [ ! -e "$2/rootonly/pwned" ]' _ "$(field pkgver)" "$tmp"
	if [ $mode = bwrap ]; then
		check "bwrap: its /tmp was its own: no /tmp/pwned-* appeared on the host" \
			sh -c 'ls /tmp/pwned-* 2>/dev/null | cmp -s - "$1"' _ "$tmp/pwned-before"
	fi
	check "$mode: the arrays came back as .SRCINFO data: sources paired with their sums, source_x86_64 after" sh -c '
		grep -qx "pkgbase=linux" "$1" && grep -qx "epoch=1" "$1" && grep -qx "sources=3" "$1" && grep -qx "keys=1" "$1" &&
		grep -qx "source=linux-6.6.1.tar.xz https://cdn.kernel.org/pub/linux/kernel/v6.x/linux-6.6.1.tar.xz $(printf "a%.0s" $(seq 64))" "$1" &&
		grep -qx "source=config - SKIP" "$1" &&
		grep -qx "source=extra.patch - $(printf "b%.0s" $(seq 64))" "$1"' _ "$tmp/out"
done
rm -f /tmp/pwned-* 2>/dev/null

# what it prints is not read as data; a value with a newline is refused, not split
printf 'pkgbase=linux\npkgver=1\npkgrel=1\nsource=("a\nb")\n' >"$tmp/PKGBUILD"
if run_eval; then not_ok "a source with a newline in it is refused"; else
	check "a source with a newline in it is refused" grep -q "the PKGBUILD could not be evaluated" "$tmp/err"
fi
# the global scope failing (a command not found under set -e, exit) fails the evaluation with the reason
printf 'pkgbase=linux\npkgver=1\npkgrel=1\nexit 7\n' >"$tmp/PKGBUILD"
if run_eval; then not_ok "a PKGBUILD that exits in its global scope fails the evaluation"; else
	check "a PKGBUILD that exits in its global scope fails the evaluation" grep -q "exit 7" "$tmp/err"
fi
# a build user that is root is refused before anything runs
printf 'pkgbase=linux\npkgver=1\npkgrel=1\ntouch %s/ran\n' "$tmp" >"$tmp/PKGBUILD"
if run_eval --user root; then not_ok "build_user root is refused"; else
	check "build_user root is refused, and nothing ran" sh -c 'grep -q "\[plugin.arch\] build_user root is root: a recipe.s code never runs as root" "$1" && [ ! -e "$2/ran" ]' \
		_ "$tmp/err" "$tmp"
fi
tap_done
