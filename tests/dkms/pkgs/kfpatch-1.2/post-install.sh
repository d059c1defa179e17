#!/bin/sh
# post-install: runs in the package folder, writes beside the build copy
echo "post-install in $(pwd) as $(id -u)" >"$1/post-install.ran"
