#!/bin/sh
# build.sh: configures and builds kforge out of tree in _build/ (the source tree stays clean
# for `make distcheck` and for the SDK test's own build).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
[ -x configure ] && [ configure -nt configure.ac ] && [ Makefile.in -nt Makefile.am ] || ./autogen.sh >/dev/null 2>&1 ||
	{ echo "build.sh: autogen.sh failed: run it by hand to see why" >&2; exit 1; }
mkdir -p _build
cd _build
[ -f Makefile ] || ../configure -q 2>&1 | grep -v "cannot remove 'core'" >&2 || true
[ -f Makefile ] || { echo "build.sh: configure failed: see _build/config.log" >&2; exit 1; }
make -j"$(nproc)" >make.log 2>&1 || { tail -40 make.log >&2; echo "build.sh: make failed: see _build/make.log" >&2; exit 1; }
