#!/bin/sh
# Regenerates the build system from configure.ac and Makefile.am.
set -e
cd "$(dirname "$0")"
autoreconf --force --install
# automake ships the TAP driver but does not install it by itself
am=$(automake --print-libdir)
cp -f "$am/tap-driver.sh" build-aux/tap-driver.sh
