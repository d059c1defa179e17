#!/bin/sh
# escape.sh: what the build user leaves in its build folder is data that root never follows (TAP).
# Real builds against the host's Debian headers in a copy of the Debian fixture root: a DKMS
# package whose module is a link out of the copy, one whose POST_BUILD links Module.symvers to a
# file only root may read, and an external folder whose Makefile plants a link where kforge
# writes its temporary copy of a source file.
set -u
NAME=escape
. "${top_srcdir:-$(dirname "$0")/..}/tests/suite.sh"
A=6.1.0-56-amd64
B=6.1.0-58-amd64
dkms_root "$A" "$B"
kf() { "$KFORGE" --root "$root" -k "$A" "$@"; }
installed() { find "$root/usr/lib/modules/$A" -name "$1" 2>/dev/null | head -n1; }
show() { for f; do sed 's/^/# /' "$f"; done; }
pkg() { # DIR LINES...: tests/src/hello with a dkms.conf of LINES
	d=$1
	shift
	cp -r "$srcdir/tests/src/hello" "$d" && chmod -R u+w,go+rX "$d"
	printf '%s\n' "$@" >"$d/dkms.conf"
}

# (1) BUILT_MODULE_NAME's file is a link to a file outside the copy: refused, nothing installed
pkg "$tmp/kfhost-1.0" PACKAGE_NAME=kfhost PACKAGE_VERSION=1.0 'MAKE[0]="ln -sf /etc/hostname kfhost.ko"' \
	'BUILT_MODULE_NAME[0]=kfhost' 'DEST_MODULE_LOCATION[0]=/updates/dkms'
expect_fail "a built module that is a link out of the copy: exit 5, refused, said" 5 \
	"kfhost/1.0: kfhost.ko in " kf install "$tmp/kfhost-1.0"
check "... and nothing installed" test -z "$(installed 'kfhost.ko*')"

# (2) POST_BUILD links Module.symvers to a file only root reads: the module is installed, the
# file's content reaches no file of kforge's
secret=$tmp/secret
printf '0xdeadbeef\tkf_secret_symbol\tvmlinux\tEXPORT_SYMBOL\t\n' >"$secret"
chmod 600 "$secret"
pkg "$tmp/kfln-1.0" PACKAGE_NAME=kfln PACKAGE_VERSION=1.0 'BUILT_MODULE_NAME[0]=hello' 'DEST_MODULE_NAME[0]=kfln' \
	'DEST_MODULE_LOCATION[0]=/updates/dkms' POST_BUILD=post-build.sh
printf '#!/bin/sh\nln -sf %s Module.symvers\n' "$secret" >"$tmp/kfln-1.0/post-build.sh"
chmod 755 "$tmp/kfln-1.0/post-build.sh"
kf install "$tmp/kfln-1.0" >"$tmp/out" 2>"$tmp/err"
rc=$?
check "POST_BUILD's Module.symvers link to a root-only file: installed, and its content copied nowhere" sh -c '
	[ "$1" -eq 0 ] && [ -n "$2" ] && ! grep -rqs kf_secret_symbol "$3/var/cache/kforge" "$3/var/lib/kforge"' \
	_ "$rc" "$(installed 'kfln.ko*')" "$root" || show "$tmp/err"

# (3) an external folder whose Kbuild plants a link at the name of kforge's temporary copy of a
# source file; the source changes and is installed again: the link's target is not written
victim=$tmp/victim
echo "untouched" >"$victim"
chmod 644 "$victim"
ext=$tmp/ext
cp -r "$srcdir/tests/src/hello" "$ext" && chmod -R u+w,go+rX "$ext"
printf '$(shell ln -sfn %s $(src)/hello-main.c.kforge-tmp)\n' "$victim" >>"$ext/Kbuild"
kf install "$ext" >"$tmp/out" 2>"$tmp/err" || show "$tmp/err"
echo '/* changed */' >>"$ext/hello-main.c"
kf install "$ext" >"$tmp/out2" 2>"$tmp/err2"
rc=$?
copy=$(find "$root/var/cache/kforge/work/$A" -maxdepth 1 -type d -name 'ext-*' | head -n1)
check "the planted link's target is not written; the changed source is copied and built (exit 0)" sh -c '
	[ "$1" -eq 0 ] && [ "$(cat "$2")" = untouched ] && grep -q "changed" "$3/hello-main.c"' _ "$rc" "$victim" "$copy" ||
	show "$tmp/err2"
check "the copy's manifest is beside it, out of the build user's folder" sh -c '
	[ -f "$1.kforge-mirror" ] && [ ! -e "$1/.kforge-mirror" ]' _ "$copy"
tap_done
