#!/bin/sh
# pre-install: runs in the package folder, writes beside the build copy
echo "pre-install in $(pwd) as $(id -u)" >"$1/pre-install.ran"
