#!/bin/sh
# abi.sh: libkforge.so's exported surface is a promise (TAP): `nm -D --defined-only` lists exactly
# the functions the public headers declare (parsed by the compiler: gcc -aux-info over every
# header in sdk/include/kforge), each with a version of core/libkforge.sym; the soname follows
# -version-info; the kforge command uses only versioned symbols; plugins export their descriptor
# alone. The comparison is shown to fail on a leaked private symbol and a missing public one.
set -u
NAME=abi
. "${top_srcdir:-$(dirname "$0")/..}/tests/suite.sh"

lib=$builddir/core/.libs/libkforge.so
if [ ! -f "$lib" ]; then
	echo "1..0 # SKIP no shared libkforge.so was built"
	exit 0
fi

# the functions the public headers declare, as the compiler sees them
# (-aux-info is gcc's: it writes every function declared, with the header and line it came from)
if ! command -v gcc >/dev/null; then
	echo "1..0 # SKIP gcc is needed to list the headers' declarations (-aux-info)"
	exit 0
fi
for h in "$srcdir"/sdk/include/kforge/*.h; do echo "#include <kforge/$(basename "$h")>"; done >"$tmp/all.c"
if gcc -I"$srcdir/sdk/include" -I"$builddir/sdk/include" -fsyntax-only -aux-info "$tmp/aux" "$tmp/all.c" 2>"$tmp/cc.err"; then
	grep "/sdk/include/kforge/[a-z]*\.h:" "$tmp/aux" |
		sed -E 's/^\/\*[^*]*\*\/ extern [^(]*[ *]([A-Za-z_][A-Za-z0-9_]*) \(.*/\1/' | sort -u >"$tmp/declared"
fi
n=$(wc -l <"$tmp/declared" 2>/dev/null || echo 0)
if [ "$n" -ge 100 ] && ! grep -qv '^kforge_' "$tmp/declared"; then
	ok "the public headers declare $n functions, all kforge_*"
else
	not_ok "the public headers declare $n functions, all kforge_*"
	sed 's/^/# /' "$tmp/cc.err" "$tmp/declared" 2>/dev/null | head -20
fi

nm -D --defined-only "$lib" >"$tmp/nm"
# compare DECLARED NM: what is exported that no header declares, what is declared and not
# exported, and what is exported without a version (nm prints NAME@@VERSION)
compare() {
	awk '$2 != "A" {print $3}' "$2" | sed 's/@.*//' | sort -u >"$tmp/exported"
	comm -13 "$1" "$tmp/exported" | sed 's/^/leaked: /'
	comm -23 "$1" "$tmp/exported" | sed 's/^/missing: /'
	awk '$2 != "A" && $3 !~ /@@LIBKFORGE_[0-9.]+$/ {print "unversioned: " $3}' "$2"
}
compare "$tmp/declared" "$tmp/nm" >"$tmp/diff"
if [ ! -s "$tmp/diff" ]; then
	ok "nm -D --defined-only libkforge.so: exactly the $n declared functions, each @@LIBKFORGE_*"
else
	not_ok "nm -D --defined-only libkforge.so: exactly the $n declared functions, each @@LIBKFORGE_*"
	sed 's/^/# /' "$tmp/diff"
fi
versions=$(awk '$2 == "A" {print $3}' "$tmp/nm" | paste -sd, -)
check "the version nodes defined are those of core/libkforge.sym ($versions)" sh -c '
	test "$(awk "\$2 == \"A\" {print \$3}" "$1" | sort)" = "$(grep -oE "^LIBKFORGE_[0-9.]+" "$2" | sort)"' _ "$tmp/nm" "$srcdir/core/libkforge.sym"
check "core/libkforge.sym lists what the headers declare, nothing more" sh -c '
	test "$(grep -oE "^[[:space:]]+kforge_[a-z0-9_]+;" "$2" | tr -d " \t;" | sort)" = "$(cat "$1")"' _ "$tmp/declared" "$srcdir/core/libkforge.sym"

# the check can fail: a private symbol that leaks, a public one that goes missing
{
	grep -v ' kforge_job_run@@' "$tmp/nm"
	echo "0000000000001234 T kf_job_setup@@LIBKFORGE_0.1"
	echo "0000000000001235 T kforge_unversioned"
} >"$tmp/nm-bad"
echo kforge_unversioned >>"$tmp/declared-bad"
sort -u "$tmp/declared" "$tmp/declared-bad" >"$tmp/declared-bad2"
compare "$tmp/declared-bad2" "$tmp/nm-bad" >"$tmp/diff-bad"
check "the comparison reports a leaked private symbol, a missing public one and an unversioned one" sh -c '
	grep -qx "leaked: kf_job_setup" "$1" && grep -qx "missing: kforge_job_run" "$1" &&
	grep -qx "unversioned: kforge_unversioned" "$1"' _ "$tmp/diff-bad"

# the soname is libkforge.so.(current - age) of -version-info
vi=$(sed -n 's/^LIBKFORGE_LT_VERSION = //p' "$builddir/Makefile")
cur=${vi%%:*} age=${vi##*:}
check "soname libkforge.so.$((cur - age)) (-version-info $vi)" sh -c '
	readelf -d "$1" | grep -q "Library soname: \[libkforge.so.$2\]"' _ "$lib" "$((cur - age))"

# what uses the library binds to versioned symbols
check "the kforge command imports libkforge's functions by version" sh -c '
	u=$(nm -D --undefined-only "$1/.libs/kforge" 2>/dev/null || nm -D --undefined-only "$1/kforge")
	printf "%s\n" "$u" | grep -q "kforge_job_new@LIBKFORGE_0.1" &&
	! printf "%s\n" "$u" | grep -E " kforge_" | grep -qv "@LIBKFORGE_"' _ "$builddir"
bad=
for p in "$builddir"/plugins/*/.libs/*.so; do
	exp=$(nm -D --defined-only "$p" | awk '{print $3}' | tr '\n' ' ')
	[ "$exp" = "kforge_plugin_descriptor " ] || bad="$bad $p:[$exp]"
done
[ -z "$bad" ] && ok "each built plugin exports its descriptor alone" || { not_ok "each built plugin exports its descriptor alone"; echo "#$bad"; }
tap_done
