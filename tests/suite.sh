# suite.sh: what every shell suite run by `make check` starts with (sourced, after NAME is set):
# srcdir and builddir (from make's top_srcdir/top_builddir, else this checkout), the TAP helpers,
# KFORGE (the built binary), R (the fixture roots), a scratch folder $tmp removed at exit unless
# KEEP is set, and no colour.
srcdir=$(cd "${top_srcdir:-$(dirname "$0")/..}" && pwd -P)
builddir=${top_builddir:-$srcdir}
. "$srcdir/tests/tap.sh"
KFORGE="$builddir/kforge"
R="$srcdir/tests/rootfs"
tmp=$(mktemp -d "/tmp/kforge-$NAME-XXXXXX")
# builds run as the build user ([build] user), who must pass through the fixture root to read it
chmod 755 "$tmp"
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
export NO_COLOR=1

# the suites that build for real need the host's Debian headers (tests/synth.sh finds them)
need_headers() {
	. "$srcdir/tests/synth.sh"
	if [ -z "$synth_host" ]; then
		echo "1..0 # SKIP no linux-headers-6.1.0-N-amd64 installed (scripts/deps.sh installs one)"
		exit 0
	fi
}

# dkms_root A B: $root, a copy of the Debian fixture root with kernel A (its build dir the host's
# headers, synthesized) and B; $tmp traversable by the build user. Skips without headers
dkms_root() {
	need_headers
	chmod 755 "$tmp"
	root=$tmp/root
	cp -a "$R/debian" "$root"
	synth "$root/usr/src/linux-headers-$1" "$1"
	synth_kernel "$root" "$1" "$2"
}

# expect_fail NAME CODE NEEDLE CMD...: CMD exits CODE and its stderr holds NEEDLE (a fixed string);
# otherwise the exit and the stderr are shown
expect_fail() { # name code needle cmd...
	name=$1 code=$2 needle=$3
	shift 3
	"$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -eq "$code" ] && grep -qF -- "$needle" "$tmp/err"; then ok "$name"; else
		not_ok "$name"; echo "# exit $rc (want $code)"; sed 's/^/# /' "$tmp/err"; fi
}

# mini_tree DIR VERSION.PATCHLEVEL.SUBLEVEL DESCRIPTION: a small kernel tree (its top Makefile and
# drivers/net) in which dummy is a real module whose MODULE_DESCRIPTION is DESCRIPTION
mini_tree() {
	mkdir -p "$1/drivers/net"
	# shellcheck disable=SC2046 # the version's three numbers
	printf 'VERSION = %s\nPATCHLEVEL = %s\nSUBLEVEL = %s\nEXTRAVERSION =\nNAME = Hurr durr I'"'"'ma ninja sloth\n' \
		$(echo "$2" | tr . ' ') >"$1/Makefile"
	echo 'obj-$(CONFIG_DUMMY) += dummy.o' >"$1/drivers/net/Makefile"
	cat >"$1/drivers/net/dummy.c" <<EOF
// SPDX-License-Identifier: GPL-2.0
#include <linux/module.h>
static int __init dummy_init(void) { return 0; }
static void __exit dummy_exit(void) { }
module_init(dummy_init);
module_exit(dummy_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("$3");
EOF
}

# start_listener: tests/lib/listener.py on 127.0.0.1, its port in $tmp/port once it listens, the
# connections it accepted counted in $tmp/conns; stopped (and $tmp removed) at exit. Fails when it
# did not start
start_listener() {
	python3 "$srcdir/tests/lib/listener.py" "$tmp/port" "$tmp/conns" &
	listener=$!
	trap 'kill $listener 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
	wait_until 20 test -s "$tmp/port"
}

# serve DIR: tests/lib/httpd.py serves DIR on 127.0.0.1 (the requests logged in $tmp/requests), its
# port in $port; stopped at exit (stop_server stops it earlier), the scratch folder removed then
srv_pid=
stop_server() { [ -z "$srv_pid" ] || { kill "$srv_pid" 2>/dev/null; wait "$srv_pid" 2>/dev/null; srv_pid=; }; }
serve() {
	trap 'stop_server; [ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
	python3 "$srcdir/tests/lib/httpd.py" "$1" --log "$tmp/requests" >"$tmp/port" &
	srv_pid=$!
	wait_until 60 test -s "$tmp/port" || { echo "Bail out! tests/lib/httpd.py did not start"; exit 1; }
	port=$(cat "$tmp/port")
}

# exporter_pair X I: two external module folders, X's kfexp exporting kfexp_value, I's kfimp calling it
exporter_pair() {
	mkdir -p "$1" "$2"
	echo 'obj-m += kfexp.o' >"$1/Kbuild"
	echo 'obj-m += kfimp.o' >"$2/Kbuild"
	printf '// SPDX-License-Identifier: GPL-2.0\n#include <linux/module.h>\nint kfexp_value(void) { return 42; }\nEXPORT_SYMBOL_GPL(kfexp_value);\nMODULE_LICENSE("GPL");\n' >"$1/kfexp.c"
	printf '// SPDX-License-Identifier: GPL-2.0\n#include <linux/module.h>\nint kfexp_value(void);\nstatic int __init kfimp_init(void) { return kfexp_value() == 42 ? 0 : -EINVAL; }\nmodule_init(kfimp_init);\nMODULE_LICENSE("GPL");\n' >"$2/kfimp.c"
}
