#!/bin/sh
# dkms-import.sh: a way off DKMS (TAP), for real against the host's Debian headers, in a copy of the
# Debian fixture root holding a DKMS tree laid out as DKMS lays it (dkms.in:1270, 1700, 1918): kforge
# status lists DKMS's module as DKMS's; installing a module of the same name warns; kforge dkms import
# builds and installs kforge's copy and, with --remove, asks DKMS (a stand-in that records its
# arguments) to remove its own, never after a failed import; damaged trees are reported, not followed.
set -u
NAME=dkms-import
. "${top_srcdir:-$(dirname "$0")/..}/tests/suite.sh"
need_headers
A=6.1.0-56-amd64
root=$tmp/root
chmod 755 "$tmp" # the build user reads the packages made under it
cp -a "$R/debian" "$root"
synth "$root/usr/src/linux-headers-$A" "$A"
kf() { "$KFORGE" --root "$root" -k "$A" "$@"; }
# run_import ARGS...: kforge dkms import ARGS, its stdout in $tmp/out, stderr in $tmp/err, exit in $rc
run_import() { kf dkms import "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?; }
vermagic() { modinfo -F vermagic "$1" 2>/dev/null | cut -d' ' -f1; }
tree=$root/var/lib/dkms
record=$root/var/lib/kforge/records/$A
# show FILE...: after a check that failed, its files as diagnostics
seen=0
show() { [ "$tap_failed" -eq "$seen" ] || sed 's/^/# /' "$@"; seen=$tap_failed; }

# the stand-in dkms, first on kforge's PATH: it records its arguments, one call a line
mkdir -p "$tmp/bin"
printf '#!/bin/sh\necho "$*" >>"%s/dkms-calls"\n' "$tmp" >"$tmp/bin/dkms"
chmod +x "$tmp/bin/dkms"
PATH=$tmp/bin:$PATH
export PATH
: >"$tmp/dkms-calls"

# module_src DIR MOD: an external module MOD whose Kbuild says obj-m += MOD.o, with the dkms.conf
# a package of it would ship
module_src() {
	mkdir -p "$1"
	echo "obj-m += $2.o" >"$1/Kbuild"
	cat >"$1/$2.c" <<EOF
// SPDX-License-Identifier: GPL-2.0
#include <linux/module.h>
static int __init m_init(void) { return 0; }
static void __exit m_exit(void) { }
module_init(m_init);
module_exit(m_exit);
MODULE_LICENSE("GPL");
EOF
	printf 'PACKAGE_NAME="%s"\nPACKAGE_VERSION="1.0"\nBUILT_MODULE_NAME[0]="%s"\nDEST_MODULE_LOCATION[0]="/updates/dkms"\nAUTOINSTALL="yes"\n' \
		"$2" "$2" >"$1/dkms.conf"
}

# dkms_package NAME MOD KO: DKMS's `dkms install NAME/1.0 -k A` as it leaves the tree: the source
# link, the built module KO in A/x86_64/module, the make.log, the kernel-A-x86_64 link, and the
# copy in lib/modules/A/updates/dkms
dkms_package() {
	t=$tree/$1/1.0
	mkdir -p "$t/build" "$t/$A/x86_64/module" "$t/$A/x86_64/log"
	ln -s "/usr/src/$1-1.0" "$t/source"
	cp "$3" "$t/$A/x86_64/module/$2.ko"
	echo "DKMS (dkms-3.4.3) make.log for $1/1.0 for kernel $A (x86_64)" >"$t/$A/x86_64/log/make.log"
	ln -s "1.0/$A/x86_64" "$tree/$1/kernel-$A-x86_64"
	mkdir -p "$root/lib/modules/$A/updates/dkms"
	cp "$3" "$root/lib/modules/$A/updates/dkms/$2.ko"
}

# dkhello: built for real as DKMS builds it (make in a copy of the source, M= that copy)
module_src "$root/usr/src/dkhello-1.0" dkhello
mkdir -p "$tmp/dkmsbuild"
cp -a "$root/usr/src/dkhello-1.0/." "$tmp/dkmsbuild/"
if ! make -s -C "$root/usr/src/linux-headers-$A" M="$tmp/dkmsbuild" modules >"$tmp/make.out" 2>&1; then
	echo "Bail out! the fixture module does not build against the synthesized headers"
	sed 's/^/# /' "$tmp/make.out"
	exit 1
fi
dkms_package dkhello dkhello "$tmp/dkmsbuild/dkhello.ko"
# dkfail: DKMS built it once; its source no longer compiles
module_src "$root/usr/src/dkfail-1.0" dkfail
echo '#error "broken on purpose"' >>"$root/usr/src/dkfail-1.0/dkfail.c"
dkms_package dkfail dkfail "$tmp/dkmsbuild/dkhello.ko"
# dkmiss: DKMS's tree lists the module dkmiss, its folder now builds another (renamed upstream)
module_src "$root/usr/src/dkmiss-1.0" dkrenamed
dkms_package dkmiss dkmiss "$tmp/dkmsbuild/dkhello.ko"
# dkdangle: its source folder is gone (the package was purged behind DKMS's back)
dkms_package dkdangle dkdangle "$tmp/dkmsbuild/dkhello.ko"
# dkescape: its source link leads outside /usr/src, to a folder that would build
module_src "$tmp/outside" dkescape
dkms_package dkescape dkescape "$tmp/dkmsbuild/dkhello.ko"
rm "$tree/dkescape/1.0/source"
ln -s "$tmp/outside" "$tree/dkescape/1.0/source"

# (1) kforge status lists DKMS's modules as DKMS's, read-only
kf status >"$tmp/st" 2>"$tmp/st.err"
check "kforge status lists dkhello as DKMS's: installed, package dkhello/1.0, its file in updates/dkms" sh -c '
	grep -q "^DKMS.s modules (read-only" "$1" &&
	grep -qE "^$2 +dkhello +installed +dkhello/1.0 +/lib/modules/$2/updates/dkms/dkhello.ko\$" "$1"' _ "$tmp/st" "$A"
show "$tmp/st" "$tmp/st.err"
check "kforge status shows the damaged packages as broken, with the reason" sh -c '
	grep -qE "^$2 +dkdangle +broken +dkdangle/1.0" "$1" && grep -q "its source link dangles: /usr/src/dkdangle-1.0 is no folder" "$1" &&
	grep -qE "^$2 +dkescape +broken" "$1" && grep -q "outside /usr/src: not followed" "$1"' _ "$tmp/st" "$A"
check "kforge status --json: the DKMS module under .dkms.packages, managed_by dkms, with its path" sh -c '
	"$1" --root "$2" -k "$3" status --json 2>/dev/null | jq -e --arg k "$3" "
		.modules == [] and .dkms.tree == \"/var/lib/dkms\" and
		([.dkms.packages[] | select(.package == \"dkhello\")] | length == 1 and .[0].managed_by == \"dkms\" and
		 .[0].state == \"installed\" and .[0].version == \"1.0\" and .[0].kernel == \$k and
		 .[0].modules[0].path == \"/lib/modules/\" + \$k + \"/updates/dkms/dkhello.ko\")"' _ "$KFORGE" "$root" "$A"
check "status changed nothing in DKMS's tree and ran no dkms" sh -c '[ ! -s "$1" ] && [ -L "$2/dkhello/kernel-$3-x86_64" ]' \
	_ "$tmp/dkms-calls" "$tree" "$A"

# (2) installing a module of the same name warns, naming the package and both ways out
module_src "$tmp/mine" dkhello
kf install "$tmp/mine" >"$tmp/out" 2>"$tmp/err"
rc=$?
# (kforge's install moves DKMS's copy aside, backed up: its record lists it as replaced)
check "kforge install of a module DKMS installed too: succeeds and warns with the package and both commands" sh -c '
	[ "$1" -eq 0 ] && grep -qF "DKMS has installed dkhello for $3 too (package dkhello/1.0)" "$2" &&
	grep -qF "\`dkms remove dkhello/1.0 --all\`" "$2" && grep -qF "\`kforge -k $3 dkms import --remove dkhello/1.0\`" "$2"' \
	_ "$rc" "$tmp/err" "$A"
show "$tmp/err"
kf -q uninstall dkhello >/dev/null 2>&1
# a module DKMS does not manage: no warning
module_src "$tmp/other" otherkmod
kf install "$tmp/other" >/dev/null 2>"$tmp/err"
check "kforge install of a module DKMS does not have: no DKMS warning" sh -c '! grep -q DKMS "$1"' _ "$tmp/err"

# (3) --dry-run says what would be done and does nothing
run_import --dry-run --remove dkhello
check "dkms import --dry-run --remove: lists the install and the dkms remove, runs nothing" sh -c '
	[ "$1" -eq 0 ] && grep -qE "^dkhello/1.0 +$3 +planned +kforge -k $3 install /usr/src/dkhello-1.0\$" "$2" &&
	grep -qE "^dkhello/1.0 +- +planned +then dkms remove dkhello/1.0 --all" "$2" &&
	[ ! -e "$4/dkhello.conf" ] && [ ! -s "$5" ]' _ "$rc" "$tmp/out" "$A" "$record" "$tmp/dkms-calls"
show "$tmp/out" "$tmp/err"

# (4) a package whose build fails: reported failed, exit non-zero, DKMS not asked to remove it
run_import --remove dkfail
check "dkms import --remove of a package whose build fails: exit 1, failed with the reason, dkms not called" sh -c '
	[ "$1" -eq 1 ] && grep -qE "^dkfail/1.0 +$3 +failed +the build or install failed \(exit 4\)" "$2" &&
	grep -qE "^dkfail/1.0 +- +skipped +not removed from DKMS: the import failed for 1 of its 1 kernels" "$2" &&
	[ ! -s "$4" ] && [ ! -e "$5/dkfail.conf" ]' _ "$rc" "$tmp/out" "$A" "$tmp/dkms-calls" "$record"
show "$tmp/out" "$tmp/err"

# (4b) a build that makes none of the modules DKMS built: failed by the check, not removed from DKMS
run_import --remove dkmiss
check "dkms import --remove of a package that no longer builds DKMS's module: exit 1, the check names it, dkms not called" sh -c '
	[ "$1" -eq 1 ] && grep -qE "^dkmiss/1.0 +$3 +failed +DKMS built dkmiss, but kforge installed no module of that name" "$2" &&
	[ ! -s "$4" ]' _ "$rc" "$tmp/out" "$A" "$tmp/dkms-calls"
show "$tmp/out" "$tmp/err"

# (5) import without --remove: kforge's copy installed and verified, a warning that both manage it
run_import dkhello
ko=$(sed -n 's/^path = //p' "$record/dkhello.conf" 2>/dev/null | head -n1)
check "dkms import dkhello: exit 0, imported, kforge's record and module (vermagic $A) in kforge's placement" sh -c '
	[ "$1" -eq 0 ] && grep -qE "^dkhello/1.0 +$3 +imported +dkhello -> $4\$" "$2" &&
	[ "${4%/lib/modules/$3/updates/dkhello.ko}" != "$4" ] && [ "$(modinfo -F vermagic "$5$4" | cut -d" " -f1)" = "$3" ] &&
	grep -qx "spec = $5/usr/src/dkhello-1.0" "$6/dkhello.conf"' _ "$rc" "$tmp/out" "$A" "$ko" "$root" "$record"
show "$tmp/out" "$tmp/err"
check "without --remove: progress per package and kernel, a warning that both tools manage it, dkms not called, DKMS's copy kept aside in the record" sh -c '
	grep -qF "dkhello/1.0 for $2: building /usr/src/dkhello-1.0" "$1" &&
	grep -qF "dkhello/1.0: kforge and DKMS both manage its modules now; finish with \`kforge dkms import --remove dkhello/1.0\` (or \`dkms remove dkhello/1.0 --all\`)" "$1" &&
	[ ! -s "$3" ] && grep -qx "path = /usr/lib/modules/$2/updates/dkms/dkhello.ko" "$4/dkhello.conf"' _ "$tmp/err" "$A" "$tmp/dkms-calls" "$record"
show "$tmp/err"

# (6) import --remove: then DKMS is asked to remove its copies, with its tree under the root named
run_import --remove dkhello
check "dkms import --remove dkhello: exit 0, dkms called once with remove dkhello/1.0 --all and the root's trees" sh -c '
	[ "$1" -eq 0 ] && [ "$(wc -l <"$2")" -eq 1 ] &&
	grep -qx "remove dkhello/1.0 --all --dkmstree $4/var/lib/dkms --sourcetree $4/usr/src --installtree $4/lib/modules" "$2" &&
	grep -qE "^dkhello/1.0 +- +imported +removed from DKMS" "$3"' _ "$rc" "$tmp/dkms-calls" "$tmp/out" "$root"
show "$tmp/out" "$tmp/err" "$tmp/dkms-calls"
# DKMS removed its copy: kforge's record forgets it, and an uninstall does not bring it back
kf -q uninstall dkhello >"$tmp/un" 2>&1
unrc=$?
check "after import --remove, the record forgets DKMS's copy: uninstall leaves updates/dkms/dkhello.ko gone" sh -c '
	[ "$1" -eq 0 ] && [ ! -e "$2/usr/lib/modules/$3/updates/dkms/dkhello.ko" ] && [ ! -e "$2/lib/modules/$3/updates/dkms/dkhello.ko" ] &&
	[ ! -e "$4/dkhello.conf" ]' _ "$unrc" "$root" "$A" "$record"
show "$tmp/un"

# (7) damaged trees: reported, not followed, nothing built from outside /usr/src
run_import --remove dkdangle dkescape
check "damaged packages: exit 1, each failed with the tree's damage named, dkms not called again" sh -c '
	[ "$1" -eq 1 ] && grep -qE "^dkdangle/1.0 +$3 +failed +DKMS.s tree is damaged: its source link dangles" "$2" &&
	grep -qE "^dkescape/1.0 +$3 +failed +DKMS.s tree is damaged: its source link leads to .*, outside /usr/src: not followed" "$2" &&
	[ "$(wc -l <"$4")" -eq 1 ]' _ "$rc" "$tmp/out" "$A" "$tmp/dkms-calls"
show "$tmp/out" "$tmp/err"
check "the folder outside /usr/src was not built or recorded" sh -c '
	[ -z "$(find "$1" -name "*.o" -o -name "*.ko")" ] && [ ! -e "$2/dkescape.conf" ]' _ "$tmp/outside" "$record"
# a garbage name and a link at the top of the tree: said, skipped
mkdir -p "$tree/bad name"
ln -s "$tmp/outside" "$tree/sneaky"
run_import --dry-run
check "dkms import warns about a garbage name and a link in DKMS's tree and skips them" sh -c '
	grep -qF "DKMS'"'"'s tree: /var/lib/dkms/bad name: not a package folder of DKMS'"'"'s: skipped" "$1" &&
	grep -qF "/var/lib/dkms/sneaky: not a package folder of DKMS'"'"'s: skipped (a link, not followed)" "$1" &&
	! grep -q "sneaky" "$2"' _ "$tmp/err" "$tmp/out"
show "$tmp/err"
expect_fail "dkms import of a package DKMS does not have: exit 1, said" 1 "nosuch: failed: DKMS has no such package" \
	kf dkms import nosuch
expect_fail "dkms with no subcommand: exit 2, names import" 2 "dkms needs a subcommand: import" kf dkms

# (8) dkms not installed: said, DKMS's tree left alone
rm "$tmp/bin/dkms"
if command -v dkms >/dev/null; then
	skip "dkms import --remove without dkms installed" "the host has dkms installed"
else
	run_import --remove dkhello
	check "dkms import --remove without dkms: exit 0, says dkms is not installed, DKMS's tree left as it was" sh -c '
		[ "$1" -eq 0 ] && grep -qE "^dkhello/1.0 +- +skipped +dkms is not installed" "$2" &&
		[ -L "$3/dkhello/kernel-$4-x86_64" ] && [ -f "$3/dkhello/1.0/$4/x86_64/module/dkhello.ko" ]' \
		_ "$rc" "$tmp/out" "$tree" "$A"
show "$tmp/out" "$tmp/err"
fi
tap_done
