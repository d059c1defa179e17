#!/bin/sh
# hooks.sh: kernel upgrades (TAP). In copies of the Debian, Fedora and Arch fixture roots, modules
# are installed for real for one kernel (tests/synth.sh makes its build dir), a second kernel
# arrives, and the distribution's hook (as `make` generates it) runs as the package manager would
# run it: kforge autoinstall rebuilds and installs the recorded modules for the new kernel, skips
# with a one-line reason what cannot apply, reports a failed build with its log, and the hook
# always exits 0.
set -u
NAME=hooks
. "${top_srcdir:-$(dirname "$0")/..}/tests/suite.sh"
need_headers

# the hooks call $KFORGE (their documented override): here kforge inside the fixture root
cat >"$tmp/kforge-in-root" <<EOF
#!/bin/sh
exec "$KFORGE" --root "\$HOOK_ROOT" "\$@"
EOF
chmod +x "$tmp/kforge-in-root"
export KFORGE_HOOK_BIN="$tmp/kforge-in-root"

# a root from FIXTURE with hello installed for OLD, and a kernel NEW beside it
setup() { # name fixture old new
	root=$tmp/$1
	cp -a "$R/$2" "$root"
	bd=$("$KFORGE" --root "$root" -k "$3" info --json 2>/dev/null | jq -r .build_dir)
	synth "$root$bd" "$3"
	synth_kernel "$root" "$3" "$4"
	rm -rf "$tmp/hello-$1"
	cp -r "$srcdir/tests/src/hello" "$tmp/hello-$1"
	"$KFORGE" --root "$root" -k "$3" -q install "$tmp/hello-$1" >"$tmp/setup.out" 2>&1 ||
		{ echo "Bail out! installing hello into the $1 root failed"; cat "$tmp/setup.out"; exit 1; }
}
# run_hook NAME ROOT CMD...: the hook as the package manager runs it
run_hook() {
	n=$1 r=$2
	shift 2
	HOOK_ROOT=$r KFORGE=$KFORGE_HOOK_BIN "$@" >"$tmp/$n.out" 2>&1
}
installed_for() { # root kver file
	"$KFORGE" --root "$1" -k "$2" status 2>/dev/null | grep -qE "^$2 +hello +ok +.* $3\$"
}

# --- Debian and Ubuntu: /etc/kernel/postinst.d and header_postinst.d (one script)
hook=$builddir/plugins/debian/hooks/kernel-hook
setup debian debian 6.1.0-56-amd64 6.1.0-57-amd64
root=$tmp/debian
# two more recorded modules: one whose folder is gone, one that no longer compiles
cp -r "$srcdir/tests/src/pair" "$tmp/gone"
cp -r "$srcdir/tests/src/exporter" "$tmp/exporter"
cp -r "$srcdir/tests/src/importer" "$tmp/broken"
for m in gone exporter; do
	"$KFORGE" --root "$root" -k 6.1.0-56-amd64 -q install "$tmp/$m" >"$tmp/setup.out" 2>&1 || cat "$tmp/setup.out"
done
# kforge built the exporter in its copy of the folder (work/KVER/NAME-HASH): its Module.symvers is there
exp_symvers=$(ls "$root"/var/cache/kforge/work/6.1.0-56-amd64/exporter-*/Module.symvers | head -n1)
"$KFORGE" --root "$root" -k 6.1.0-56-amd64 -q install "$tmp/broken" --extra-symbols "$exp_symvers" >"$tmp/setup.out" 2>&1 ||
	cat "$tmp/setup.out"
rm -rf "$tmp/gone"
echo "this is not C;" >>"$tmp/broken/kforge_importer.c"
run_hook postinst "$root" "$hook" 6.1.0-57-amd64 /boot/vmlinuz-6.1.0-57-amd64
rc=$?
pout=$tmp/postinst.out
if [ $rc -eq 0 ] && installed_for "$root" 6.1.0-57-amd64 /usr/lib/modules/6.1.0-57-amd64/updates/hello.ko &&
	installed_for "$root" 6.1.0-56-amd64 /usr/lib/modules/6.1.0-56-amd64/updates/hello.ko; then
	ok "debian postinst.d: hello rebuilt and installed for the new kernel 6.1.0-57-amd64, the old one kept"
else
	not_ok "debian postinst.d: hello rebuilt and installed for the new kernel 6.1.0-57-amd64, the old one kept"
	echo "# exit $rc"
	sed 's/^/# /' "$pout"
fi
check "debian postinst.d: a module whose folder is gone is skipped with a one-line reason" \
	grep -q "^kforge: $tmp/gone: skipped for 6.1.0-57-amd64: its folder $tmp/gone is gone\$" "$pout"
check "debian postinst.d: a build failure is reported with its log, and the hook still exits 0" sh -c '
	[ "$1" -eq 0 ] && grep -q "^kforge: error: $2/broken: the rebuild for 6.1.0-57-amd64 failed (exit 4): see .*autoinstall.*\.log\$" "$3" &&
	grep -q "rebuilding modules for 6.1.0-57-amd64 failed .*the kernel.s installation goes on" "$3" &&
	grep -q "autoinstall for 6.1.0-57-amd64: 2 rebuilt, 1 skipped, 1 failed" "$3"' _ "$rc" "$tmp" "$pout"
# the headers arrive after the image: postinst.d finds no build dir, header_postinst.d does the work
synth_kernel "$root" 6.1.0-56-amd64 6.1.0-58-amd64
mv "$root/usr/lib/modules/6.1.0-58-amd64/build" "$tmp/build-58"
run_hook postinst-nohdr "$root" "$hook" 6.1.0-58-amd64 /boot/vmlinuz-6.1.0-58-amd64
rc=$?
check "debian postinst.d before the headers: says so, installs nothing, exits 0" sh -c '
	[ "$1" -eq 0 ] && grep -q "6.1.0-58-amd64 has no build directory yet" "$2" && [ ! -e "$3/usr/lib/modules/6.1.0-58-amd64/updates" ]' \
	_ "$rc" "$tmp/postinst-nohdr.out" "$root"
mv "$tmp/build-58" "$root/usr/lib/modules/6.1.0-58-amd64/build"
printf '[autoinstall]\nexclude = kforge_importer\n' >"$tmp/exclude.conf"
# the exporter comes first (installed first): its exports for the new kernel are what the importer uses
KFORGE_SYSTEM_CONFIG=$tmp/exclude.conf run_hook header "$root" "$hook" 6.1.0-58-amd64
rc=$?
check "debian header_postinst.d: hello installed for 6.1.0-58-amd64; autoinstall.exclude skips with its reason" sh -c '
	[ "$1" -eq 0 ] && grep -q "broken: skipped for 6.1.0-58-amd64: excluded by autoinstall.exclude in kforge.conf" "$2"' \
	_ "$rc" "$tmp/header.out"
installed_for "$root" 6.1.0-58-amd64 /usr/lib/modules/6.1.0-58-amd64/updates/hello.ko &&
	ok "debian header_postinst.d: status shows hello ok for 6.1.0-58-amd64" ||
	not_ok "debian header_postinst.d: status shows hello ok for 6.1.0-58-amd64"
run_hook again "$root" "$hook" 6.1.0-57-amd64
check "autoinstall again: what is installed and intact is left alone" \
	grep -q "^kforge: $tmp/hello-debian: already installed for 6.1.0-57-amd64\$" "$tmp/again.out"
# a DKMS package whose dkms.conf excludes a kernel without CONFIG_VIDEO_DEV: the headers of such a
# kernel arrive (apt-get install linux-headers-...-cloud-amd64, which DKMS fails): a skip, exit 0
cp -a "$srcdir/tests/dkms/pkgs/kfvideo-0.3" "$root/usr/src/" && chmod -R u+w "$root/usr/src/kfvideo-0.3"
"$KFORGE" --root "$root" -k 6.1.0-56-amd64 -q install kfvideo/0.3 >"$tmp/setup.out" 2>&1 || cat "$tmp/setup.out"
synth_kernel "$root" 6.1.0-56-amd64 6.1.0-59-amd64
for f in "$root/usr/lib/modules/6.1.0-59-amd64/build/.config" "$root/usr/lib/modules/6.1.0-59-amd64/build/include/config/auto.conf"; do
	[ -f "$f" ] && sed -i '/^CONFIG_VIDEO_DEV=/d' "$f"
done
KFORGE_SYSTEM_CONFIG=$tmp/exclude.conf run_hook novideo "$root" "$hook" 6.1.0-59-amd64
rc=$?
check "debian header_postinst.d, a kernel without CONFIG_VIDEO_DEV: kfvideo/0.3 skipped with its BUILD_EXCLUSIVE reason, counted skipped, the hook exits 0" sh -c '
	[ "$1" -eq 0 ] && grep -q "kfvideo/0.3 skipped for 6.1.0-59-amd64.*BUILD_EXCLUSIVE_KERNEL.*REQUIRES CONFIG_VIDEO_DEV" "$2" &&
	grep -q "autoinstall for 6.1.0-59-amd64: 2 rebuilt, 3 skipped, 0 failed" "$2" && ! grep -q "error" "$2"' \
	_ "$rc" "$tmp/novideo.out" || sed 's/^/# /' "$tmp/novideo.out"
check "... kfvideo stays installed for 6.1.0-56-amd64, nothing of it for 6.1.0-59-amd64" sh -c '
	[ -n "$(find "$1/usr/lib/modules/6.1.0-56-amd64/updates" -name "kfvideo.ko*")" ] &&
	[ -z "$(find "$1/usr/lib/modules/6.1.0-59-amd64" -name "kfvideo.ko*")" ]' _ "$root"

# the kernel 6.1.0-57-amd64 is removed: its image's prerm runs prerm.d (kforge uninstall --all)
hook=$builddir/plugins/debian/hooks/kernel-prerm
run_hook prerm "$root" "$hook" 6.1.0-57-amd64 /boot/vmlinuz-6.1.0-57-amd64
rc=$?
check "debian prerm.d: every module kforge installed for the removed kernel is gone, files, records and the folders they emptied; exit 0" sh -c '
	[ "$1" -eq 0 ] && grep -q "uninstall --all for 6.1.0-57-amd64: 2 of 2 modules removed" "$2" &&
	[ ! -e "$3/usr/lib/modules/6.1.0-57-amd64/updates" ] && [ ! -e "$3/var/lib/kforge/records/6.1.0-57-amd64" ] &&
	! "$4" --root "$3" -k 6.1.0-57-amd64 status | grep -q "^6.1.0-57-amd64 "' _ "$rc" "$tmp/prerm.out" "$root" "$KFORGE" ||
	sed 's/^/# /' "$tmp/prerm.out"
check "debian prerm.d: ... the other kernels keep theirs" sh -c '
	installed_for() { "$1" --root "$2" -k "$3" status 2>/dev/null | grep -qE "^$3 +hello +ok "; }
	installed_for "$1" "$2" 6.1.0-56-amd64 && installed_for "$1" "$2" 6.1.0-58-amd64' _ "$KFORGE" "$root"
# 6.1.0-57-amd64 boots without the modules (its hook failed, or they were removed):
# kforge-autoinstall.service's ExecStart, %v the running kernel, as systemd runs it
cmd=$(sed -n 's/^ExecStart=[^ ]* //p' "$builddir/data/kforge-autoinstall.service" | sed 's/%v/6.1.0-57-amd64/g')
# shellcheck disable=SC2086
HOOK_ROOT=$root KFORGE_SYSTEM_CONFIG=$tmp/exclude.conf "$KFORGE_HOOK_BIN" $cmd >"$tmp/unit.out" 2>&1
rc=$?
check "kforge-autoinstall.service at boot of 6.1.0-57-amd64: the missing hello and exporter are built and installed" sh -c '
	installed_for() { "$1" --root "$2" -k "$3" status 2>/dev/null | grep -qE "^$3 +$4 +ok "; }
	[ "$3" -eq 0 ] && installed_for "$1" "$2" 6.1.0-57-amd64 hello && installed_for "$1" "$2" 6.1.0-57-amd64 kforge_exporter' \
	_ "$KFORGE" "$root" "$rc" || sed 's/^/# /' "$tmp/unit.out"
# shellcheck disable=SC2086
HOOK_ROOT=$root KFORGE_SYSTEM_CONFIG=$tmp/exclude.conf "$KFORGE_HOOK_BIN" $cmd >"$tmp/unit2.out" 2>&1
check "... at the next boot, nothing is missing: nothing is built" sh -c '
	[ "$2" -eq 0 ] && grep -q "hello-debian: already installed for 6.1.0-57-amd64" "$1" &&
	grep -q "autoinstall for 6.1.0-57-amd64: 0 rebuilt" "$1" && ! grep -q "\[4/7\] compile" "$1"' _ "$tmp/unit2.out" "$?" ||
	sed 's/^/# /' "$tmp/unit2.out"
# a kernel package's upgrade (DEB_MAINT_PARAMS "upgrade ...": kernels of `make bindeb-pkg`): nothing removed
DEB_MAINT_PARAMS="upgrade 6.1.0-58-amd64" run_hook prerm-upgrade "$root" "$hook" 6.1.0-58-amd64 /boot/vmlinuz-6.1.0-58-amd64
check "debian prerm.d on an upgrade (DEB_MAINT_PARAMS=upgrade): nothing removed, exit 0" sh -c '
	[ "$1" -eq 0 ] && [ -e "$2/usr/lib/modules/6.1.0-58-amd64/updates/hello.ko" ] && [ ! -s "$3" ]' _ "$?" "$root" "$tmp/prerm-upgrade.out"
run_hook prerm-none "$root" "$hook" 6.1.0-99-amd64 /boot/vmlinuz-6.1.0-99-amd64
check "debian prerm.d of a kernel kforge knows nothing of: exit 0, nothing removed" sh -c '
	[ "$1" -eq 0 ] && grep -q "uninstall --all for 6.1.0-99-amd64: 0 of 0 modules removed" "$2" && ! grep -q "^kforge: removed" "$2"' \
	_ "$?" "$tmp/prerm-none.out"

# --- Fedora and systemd systems: the kernel-install plugin
hook=$builddir/plugins/fedora/hooks/40-kforge.install
setup fedora fedora 6.5.6-300.fc39.x86_64 6.5.7-300.fc39.x86_64
run_hook ki-remove "$tmp/fedora" "$hook" remove 6.5.7-300.fc39.x86_64
check "kernel-install remove of a kernel kforge installed nothing for: nothing rebuilt, nothing removed, exit 0" sh -c '
	[ "$3" -eq 0 ] && grep -q "uninstall --all for 6.5.7-300.fc39.x86_64: 0 of 0 modules removed" "$1" &&
	[ ! -e "$2/usr/lib/modules/6.5.7-300.fc39.x86_64/updates" ]' _ "$tmp/ki-remove.out" "$tmp/fedora" "$?"
run_hook ki-add "$tmp/fedora" "$hook" add 6.5.7-300.fc39.x86_64 /boot/efi/x /usr/lib/modules/6.5.7-300.fc39.x86_64/vmlinuz
rc=$?
if [ $rc -eq 0 ] && installed_for "$tmp/fedora" 6.5.7-300.fc39.x86_64 /usr/lib/modules/6.5.7-300.fc39.x86_64/updates/hello.ko.xz; then
	ok "kernel-install add: hello.ko.xz rebuilt and installed for 6.5.7-300.fc39.x86_64"
else
	not_ok "kernel-install add: hello.ko.xz rebuilt and installed for 6.5.7-300.fc39.x86_64"
	sed 's/^/# /' "$tmp/ki-add.out"
fi

run_hook ki-remove2 "$tmp/fedora" "$hook" remove 6.5.7-300.fc39.x86_64
check "kernel-install remove: hello.ko.xz removed for 6.5.7-300.fc39.x86_64, kept for 6.5.6-300.fc39.x86_64" sh -c '
	[ "$3" -eq 0 ] && [ ! -e "$2/usr/lib/modules/6.5.7-300.fc39.x86_64/updates/hello.ko.xz" ] &&
	[ -e "$2/usr/lib/modules/6.5.6-300.fc39.x86_64/updates/hello.ko.xz" ]' _ "$tmp/ki-remove2.out" "$tmp/fedora" "$?" ||
	sed 's/^/# /' "$tmp/ki-remove2.out"

# --- Arch: the pacman hook (targets on stdin, once per kernel)
setup arch arch 6.6.1-arch1-1 6.6.2-arch1-1
hook=$builddir/plugins/arch/hooks/pacman-hook
printf 'usr/lib/modules/6.6.2-arch1-1/vmlinuz\nusr/lib/modules/6.6.2-arch1-1/build/Makefile\n' >"$tmp/targets"
HOOK_ROOT=$tmp/arch KFORGE=$KFORGE_HOOK_BIN "$hook" <"$tmp/targets" >"$tmp/pacman.out" 2>&1
rc=$?
if [ $rc -eq 0 ] && installed_for "$tmp/arch" 6.6.2-arch1-1 /usr/lib/modules/6.6.2-arch1-1/updates/hello.ko.zst &&
	[ "$(grep -c "rebuilding for 6.6.2-arch1-1" "$tmp/pacman.out")" -eq 1 ]; then
	ok "pacman hook: hello.ko.zst rebuilt and installed for 6.6.2-arch1-1, once for two targets"
else
	not_ok "pacman hook: hello.ko.zst rebuilt and installed for 6.6.2-arch1-1, once for two targets"
	sed 's/^/# /' "$tmp/pacman.out"
fi
printf 'usr/lib/modules/6.6.2-arch1-1/vmlinuz\n' >"$tmp/targets"
HOOK_ROOT=$tmp/arch KFORGE=$KFORGE_HOOK_BIN "$hook" remove <"$tmp/targets" >"$tmp/pacman-remove.out" 2>&1
check "pacman hook remove (60-kforge-remove.hook): hello.ko.zst removed for 6.6.2-arch1-1, kept for 6.6.1-arch1-1" sh -c '
	[ "$3" -eq 0 ] && [ ! -e "$2/usr/lib/modules/6.6.2-arch1-1/updates/hello.ko.zst" ] &&
	[ -e "$2/usr/lib/modules/6.6.1-arch1-1/updates/hello.ko.zst" ]' _ "$tmp/pacman-remove.out" "$tmp/arch" "$?" ||
	sed 's/^/# /' "$tmp/pacman-remove.out"
check "60-kforge-remove.hook: on a kernel's removal, before the transaction, with its targets" sh -c '
	grep -qx "Operation = Remove" "$1" && grep -qx "Target = usr/lib/modules/\*/vmlinuz" "$1" &&
	grep -qx "When = PreTransaction" "$1" && grep -qx "NeedsTargets" "$1" && grep -q "^Exec = /.*/pacman-hook remove\$" "$1"' \
	_ "$builddir/plugins/arch/hooks/60-kforge-remove.hook"
# an upgrade of linux on a system with that one kernel (6.6.1 to 6.6.3): pacman runs the removal
# hook for the old kernel's vmlinuz before the transaction, the install hook for the new one after
synth_kernel "$tmp/arch" 6.6.1-arch1-1 6.6.3-arch1-1
printf 'usr/lib/modules/6.6.1-arch1-1/vmlinuz\n' >"$tmp/targets"
HOOK_ROOT=$tmp/arch KFORGE=$KFORGE_HOOK_BIN "$hook" remove <"$tmp/targets" >"$tmp/upgrade-pre.out" 2>&1
rc=$?
check "pacman upgrade, before: the old kernel's hello is removed, its record kept in retired/ (no other kernel records it)" sh -c '
	[ "$3" -eq 0 ] && [ ! -e "$2/usr/lib/modules/6.6.1-arch1-1/updates/hello.ko.zst" ] &&
	[ "$(ls "$2/var/lib/kforge/retired" | grep -c "^hello-[0-9a-f]*\.conf\$")" -eq 1 ] &&
	grep -q "1 module recorded only for 6.6.1-arch1-1: its record kept in" "$1" &&
	"$4" --root "$2" status | grep -qE "^6.6.1-arch1-1 +hello +retired "' _ "$tmp/upgrade-pre.out" "$tmp/arch" "$rc" "$KFORGE" ||
	sed 's/^/# /' "$tmp/upgrade-pre.out"
rm -rf "$tmp/arch/usr/lib/modules/6.6.1-arch1-1"
printf 'usr/lib/modules/6.6.3-arch1-1/vmlinuz\n' >"$tmp/targets"
HOOK_ROOT=$tmp/arch KFORGE=$KFORGE_HOOK_BIN "$hook" <"$tmp/targets" >"$tmp/upgrade-post.out" 2>&1
rc=$?
check "pacman upgrade, after: hello.ko.zst built and installed for the new 6.6.3-arch1-1 from the kept record, which is then forgotten" sh -c '
	[ "$3" -eq 0 ] && [ -e "$2/usr/lib/modules/6.6.3-arch1-1/updates/hello.ko.zst" ] &&
	"$4" --root "$2" -k 6.6.3-arch1-1 status | grep -qE "^6.6.3-arch1-1 +hello +ok " &&
	[ -z "$(ls "$2/var/lib/kforge/retired")" ] && ! "$4" --root "$2" status | grep -q " retired "' \
	_ "$tmp/upgrade-post.out" "$tmp/arch" "$rc" "$KFORGE" || sed 's/^/# /' "$tmp/upgrade-post.out"

# a kforge that fails: every hook says so and still exits 0, so the package manager goes on
for h in debian/hooks/kernel-hook debian/hooks/kernel-prerm fedora/hooks/40-kforge.install arch/hooks/pacman-hook; do
	case $h in
	*40-kforge.install) args="add 6.6.3-arch1-1" ;;
	*) args=6.6.3-arch1-1 ;;
	esac
	# shellcheck disable=SC2086
	echo usr/lib/modules/6.6.3-arch1-1/vmlinuz | KFORGE=false "$builddir/plugins/$h" $args >"$tmp/fail.out" 2>&1
	check "$(basename "$h") with a kforge that fails: exit 0, and it says what failed" sh -c '
		[ "$1" -eq 0 ] && grep -q "^kforge: .* 6.6.3-arch1-1 .*goes on" "$2"' _ "$?" "$tmp/fail.out"
done

# pacman runs the PostTransaction hooks in the order of their file names: the name `make install`
# gives kforge's must sort before mkinitcpio's (90-mkinitcpio-install.hook)
alpm_name=$(env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$builddir" -n install-exec-local DESTDIR=/nonexistent 2>/dev/null |
	sed -n 's|^.* plugins/arch/hooks/60-kforge\.hook /nonexistent/.*/libalpm/hooks/\([^/ ]*\)$|\1|p')
check "pacman hook: triggers on the kernel and on its headers, runs after the transaction, before mkinitcpio's" sh -c '
	grep -qx "Target = usr/lib/modules/\*/vmlinuz" "$1" && grep -qx "Target = usr/lib/modules/\*/build/Makefile" "$1" &&
	grep -qx "When = PostTransaction" "$1" && grep -qx "NeedsTargets" "$1" && grep -q "^Exec = /.*/pacman-hook\$" "$1" &&
	[ -n "$2" ] && [ "$(printf "%s\n" 90-mkinitcpio-install.hook "$2" | LC_ALL=C sort | head -n 1)" = "$2" ] &&
	[ "$2" != 90-mkinitcpio-install.hook ] || { echo "installed as: ${2:-?}"; false; }' _ "$builddir/plugins/arch/hooks/60-kforge.hook" "$alpm_name"
tap_done
