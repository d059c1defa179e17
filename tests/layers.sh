#!/bin/sh
# layers.sh: the core's layers checked on the built objects (tests/layers.py): calls go down
# base < kernel < txn < pipeline < cli, and no two files of core/ call each other in a circle.
NAME=layers
. "$(cd "${top_srcdir:-$(dirname "$0")/..}" && pwd -P)/tests/suite.sh"
python3 "$srcdir/tests/layers.py" "$builddir"
