#!/bin/sh
# post-remove: runs in the package folder, writes beside the build copy
echo "post-remove in $(pwd) as $(id -u)" >"$1/post-remove.ran"
