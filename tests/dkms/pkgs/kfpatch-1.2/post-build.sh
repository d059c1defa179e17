#!/bin/sh
# POST_BUILD: runs in the build copy
echo "post-build in $(pwd) as $(id -u)" >post-build.ran
