#!/bin/sh
# e2e/packages.sh: kforge as the distributions ship it (TAP). From the release tarball (make
# dist): dpkg-buildpackage builds kforge, libkforge0 and libkforge-dev, lintian finds no error,
# and apt-get installs the first two on this machine. The installed kforge installs a module
# for a real Debian kernel (its headers installed), the header_postinst.d hook (as run-parts runs
# it) rebuilds it for a second installed kernel's headers, the packages are removed (modules,
# records and inert hooks stay), installed again (kforge status still reads them), the prerm.d
# hook removes the second kernel's module, and a purge, asking nothing, leaves what the
# description says. rpmbuild -bb --nodeps builds kforge.spec from the same tarball, and its three
# packages hold the same files as Debian's three, the distributions' own paths and hooks aside.
#
# The machine's kforge state is not touched: the test runs in a mount namespace of its own with
# scratch folders over /var/lib/kforge, /var/cache and /var/log (apt's and dpkg's logs and caches
# there are scratch too). What it changes outside them (dpkg's database, /etc, /usr, the module
# files in /lib/modules/KVER/updates) it undoes, at its end or when it stops.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/tap.sh"
[ "$(id -u)" -eq 0 ] || { echo "1..0 # SKIP needs root (apt-get install)"; exit 0; }
if [ -z "${KFORGE_PKG_NS:-}" ]; then
	exec env KFORGE_PKG_NS=1 unshare -m --propagation private sh "$0" "$@"
fi
for t in dpkg-buildpackage lintian rpmbuild run-parts; do
	command -v "$t" >/dev/null || { echo "1..0 # SKIP $t is not installed (scripts/deps.sh installs it)"; exit 0; }
done
for p in kforge libkforge0 libkforge-dev; do
	if dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q installed; then
		echo "1..0 # SKIP package $p is installed on this machine: this test would replace and purge it"
		exit 0
	fi
done
K=
for d in /usr/src/linux-headers-6.1.0-*-amd64; do
	case $d in *-rt-amd64 | *-cloud-amd64) continue ;; esac
	[ -f "$d/.kernelvariables" ] && K=${d#/usr/src/linux-headers-}
done
K2=${K%-amd64}-cloud-amd64
[ -n "$K" ] && [ -d "/usr/src/linux-headers-$K2" ] ||
	{ echo "1..0 # SKIP needs linux-headers-6.1.0-N-amd64 and -cloud-amd64 (scripts/deps.sh installs them)"; exit 0; }
for k in "$K" "$K2"; do
	[ ! -e "/lib/modules/$k/updates/hello.ko" ] ||
		{ echo "1..0 # SKIP /lib/modules/$k/updates/hello.ko exists already: this test installs a module of that name"; exit 0; }
done

# the installed kforge, as a user runs it: its own plugins and /etc/kforge/kforge.conf
unset KFORGE_PLUGIN_PATH KFORGE_SYSTEM_CONFIG
tmp=$(mktemp -d /var/tmp/kforge-packages-XXXXXX)
# what /lib/modules/KVER held before: the test's depmod runs leave nothing new there
before=$(ls -d "/lib/modules/$K"/* "/lib/modules/$K2"/* 2>/dev/null)
chmod 755 "$tmp"
installed=
cleanup() {
	if [ -n "$installed" ]; then
		DEBIAN_FRONTEND=noninteractive apt-get purge -y -q kforge libkforge0 >/dev/null 2>&1 </dev/null
	fi
	rm -f "/lib/modules/$K/updates/hello.ko" "/lib/modules/$K2/updates/hello.ko"
	for f in "/lib/modules/$K"/* "/lib/modules/$K2"/*; do
		printf '%s\n' "$before" | grep -qxF "$f" && continue
		case $f in */modules.* | */updates) rm -rf "$f" ;; esac
	done
	umount /var/log /var/cache /var/lib/kforge 2>/dev/null
	[ -z "${made_varlib:-}" ] || rmdir /var/lib/kforge 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# --- the release tarball, and the packages built from it
(cd "$top/_build" && rm -f kforge-*.tar.xz && make dist >"$tmp/dist.log" 2>&1) ||
	{ echo "Bail out! make dist failed: $(tail -5 "$tmp/dist.log")"; exit 1; }
tarball=$(ls "$top"/_build/kforge-*.tar.xz)
version=$(basename "$tarball" .tar.xz)
version=${version#kforge-}
mkdir -p "$tmp/deb"
tar -C "$tmp/deb" -xf "$tarball"
(cd "$tmp/deb/kforge-$version" && dpkg-buildpackage -us -uc -b -j"$(nproc)" >"$tmp/dpkg-buildpackage.log" 2>&1)
check "dpkg-buildpackage -us -uc -b builds kforge, libkforge0 and libkforge-dev $version" sh -c '
	[ "$1" -eq 0 ] && for p in kforge libkforge0 libkforge-dev; do [ -f "$2/${p}_$3_amd64.deb" ] || exit 1; done ||
	{ tail -30 "$4"; false; }' _ "$?" "$tmp/deb" "$version" "$tmp/dpkg-buildpackage.log"
lintian "$tmp/deb/kforge_${version}_amd64.changes" >"$tmp/lintian.out" 2>&1
grep -E '^[EW]:' "$tmp/lintian.out" | sed 's/^/# lintian: /'
check "lintian: no error" sh -c '! grep -q "^E:" "$1"' _ "$tmp/lintian.out"
files() { dpkg-deb -c "$1" | awk '$1 !~ /^d/ {print $6}' | sed 's|^\./|/|' | sort; }
for p in kforge libkforge0 libkforge-dev; do files "$tmp/deb/${p}_${version}_amd64.deb" >"$tmp/deb-$p.list"; done
check "kforge: the command, the Debian kernel hooks, the unit, completions, man pages 1 and 5, logrotate, kforge.conf" sh -c '
	for f in /usr/bin/kforge /etc/kernel/postinst.d/50-kforge /etc/kernel/header_postinst.d/50-kforge \
		/etc/kernel/prerm.d/50-kforge /lib/systemd/system/kforge-autoinstall.service \
		/usr/share/bash-completion/completions/kforge /usr/share/zsh/vendor-completions/_kforge \
		/usr/share/man/man1/kforge.1.gz /usr/share/man/man5/kforge.conf.5.gz /etc/logrotate.d/kforge /etc/kforge/kforge.conf; do
		grep -qx "$f" "$1" || { echo "no $f"; exit 1; }
	done
	! grep -qE "libalpm|install.d/40-kforge|pacman-hook" "$1"' _ "$tmp/deb-kforge.list"
check "libkforge0: libkforge.so.0 and the four plugins; libkforge-dev: the headers, the .pc, kforge-plugin(7)" sh -c '
	grep -qE "^/usr/lib/x86_64-linux-gnu/libkforge\.so\.0$" "$1" &&
	[ "$(grep -cE "^/usr/lib/x86_64-linux-gnu/kforge/plugins/(arch|debian|fedora|vanilla)\.so$" "$1")" -eq 4 ] &&
	grep -qx /usr/include/kforge/kforge.h "$2" && grep -qx /usr/lib/x86_64-linux-gnu/pkgconfig/kforge-plugin.pc "$2" &&
	grep -qx /usr/share/man/man7/kforge-plugin.7.gz "$2" && grep -qx /usr/lib/x86_64-linux-gnu/libkforge.so "$2"' _ \
	"$tmp/deb-libkforge0.list" "$tmp/deb-libkforge-dev.list"

# --- Fedora's packages, from the same tarball
mkdir -p "$tmp/rpm/SOURCES"
cp "$tarball" "$tmp/rpm/SOURCES/"
rpmbuild -bb --nodeps --define "_topdir $tmp/rpm" "$top/kforge.spec" >"$tmp/rpmbuild.log" 2>&1
check "rpmbuild -bb --nodeps kforge.spec builds kforge, kforge-libs and kforge-devel" sh -c '
	[ "$1" -eq 0 ] && for p in kforge kforge-libs kforge-devel; do ls "$2"/RPMS/*/"$p-$3"-*.rpm >/dev/null || exit 1; done ||
	{ tail -30 "$4"; false; }' _ "$?" "$tmp/rpm" "$version" "$tmp/rpmbuild.log"
# each package's files as one name: the distributions' folders mapped to one spelling, their
# kernel hooks to HOOK, docs and build-ids left out
norm() {
	sed -e 's|^/usr/lib/x86_64-linux-gnu/|LIBDIR/|' -e 's|^/usr/lib64/|LIBDIR/|' \
		-e 's|^/lib/systemd/system/|/usr/lib/systemd/system/|' -e 's|/zsh/vendor-completions/|/zsh/site-functions/|' \
		-e 's|\.gz$||' \
		-e 's|^/etc/kernel/.*|HOOK|' -e 's|^/usr/lib/kernel/install\.d/.*|HOOK|' \
		-e 's|^/usr/lib/systemd/system-preset/.*|PRESET|' |
		grep -vE '^/usr/share/doc/|^/usr/lib/\.build-id/|^PRESET$' | sort -u
}
rpmfiles() { rpm -qp --qf '[%{FILEMODES:perms} %{FILENAMES}\n]' "$1" 2>/dev/null | awk '$1 !~ /^d/ {print $2}'; }
same=ok
for pair in kforge:kforge libkforge0:kforge-libs libkforge-dev:kforge-devel; do
	d=${pair%%:*} r=${pair#*:}
	norm <"$tmp/deb-$d.list" >"$tmp/n-deb-$d"
	rpmfiles "$(ls "$tmp"/rpm/RPMS/*/"$r-$version"-*.rpm)" | norm >"$tmp/n-rpm-$r"
	if ! diff "$tmp/n-deb-$d" "$tmp/n-rpm-$r" >"$tmp/diff-$d"; then
		same=
		sed "s/^/# $d vs $r: /" "$tmp/diff-$d"
	fi
done
check "the RPMs hold the files the .debs hold, package for package (Debian's hooks and Fedora's kernel-install plugin aside)" \
	[ -n "$same" ]

# --- Arch's package: the PKGBUILD's build() and package() run as makepkg runs them (srcdir,
# pkgdir, the tarball unpacked in srcdir), here without makepkg: the package holds the pacman
# hooks, whose Exec names the script it installs, and nothing of Debian's or kernel-install's
mkdir -p "$tmp/arch/src" "$tmp/arch/pkg"
tar -C "$tmp/arch/src" -xf "$tarball"
(
	cd "$tmp/arch" && srcdir=$tmp/arch/src pkgdir=$tmp/arch/pkg bash -e -c '
		. "$1"; cd "$srcdir"; build; cd "$srcdir"; package' _ "$top/packaging/arch/PKGBUILD"
) >"$tmp/arch.log" 2>&1
check "the PKGBUILD's build() and package() make the package: kforge, its plugins, the pacman hooks and their script, the unit" sh -c '
	[ "$1" -eq 0 ] && p=$2 && [ -x "$p/usr/bin/kforge" ] && [ "$(ls "$p"/usr/lib/kforge/plugins/*.so | wc -l)" -eq 4 ] &&
	[ -f "$p/usr/share/libalpm/hooks/60-kforge.hook" ] && [ -f "$p/usr/share/libalpm/hooks/60-kforge-remove.hook" ] &&
	exec=$(sed -n "s/^Exec = \([^ ]*\).*/\1/p" "$p/usr/share/libalpm/hooks/60-kforge.hook") && [ -x "$p$exec" ] &&
	[ -f "$p/usr/lib/systemd/system/kforge-autoinstall.service" ] && [ ! -e "$p/etc/kernel" ] &&
	[ ! -e "$p/usr/lib/kernel" ] && [ ! -e "$p/usr/lib/libkforge.la" ] &&
	grep -q "^ExecStart=/usr/bin/kforge autoinstall" "$p/usr/lib/systemd/system/kforge-autoinstall.service" ||
	{ tail -20 "$3"; find "$p" -type f | sed "s|^$p||" | sort; false; }' _ "$?" "$tmp/arch/pkg" "$tmp/arch.log"

# --- installed, used, removed, installed again, purged
# kforge's state folders, and apt's and dpkg's caches and logs, scratch in this namespace
mkdir -p "$tmp/varlib" "$tmp/cache/apt/archives/partial" "$tmp/log/apt"
[ -d /var/lib/kforge ] || { mkdir /var/lib/kforge && made_varlib=1; }
mount --bind "$tmp/varlib" /var/lib/kforge && mount --bind "$tmp/cache" /var/cache && mount --bind "$tmp/log" /var/log ||
	{ echo "Bail out! cannot mount the scratch folders"; exit 1; }
apt_get() { DEBIAN_FRONTEND=noninteractive apt-get -y -q "$@" </dev/null >>"$tmp/apt.log" 2>&1; }
installed=1
apt_get install "$tmp/deb/kforge_${version}_amd64.deb" "$tmp/deb/libkforge0_${version}_amd64.deb"
check "apt-get install ./kforge_*.deb ./libkforge0_*.deb: /usr/bin/kforge $version with its plugins" sh -c '
	[ "$1" -eq 0 ] && /usr/bin/kforge --version | grep -q "^kforge $2 " &&
	[ "$(/usr/bin/kforge plugins --json | jq length)" -eq 4 ] || tail -20 "$3"' _ "$?" "$version" "$tmp/apt.log"
check "the kernel hooks are active (postinst.d, header_postinst.d, prerm.d) and kforge-autoinstall.service is enabled" sh -c '
	for d in postinst.d header_postinst.d prerm.d; do [ -x /etc/kernel/$d/50-kforge ] || exit 1; done &&
	[ "$(systemctl is-enabled kforge-autoinstall.service 2>/dev/null)" = enabled ]'
kforge -q -k "$K" install "$top/tests/src/hello" >"$tmp/install.out" 2>&1
check "the installed kforge installs hello for $K" sh -c '
	[ "$1" -eq 0 ] && [ -f "/lib/modules/$2/updates/hello.ko" ] && kforge -k "$2" status | grep -qE "^$2 +hello +ok " ||
	cat "$3"' _ "$?" "$K" "$tmp/install.out"
check "the installed bash completion completes uninstall <TAB> with hello" sh -c '
	[ "$(bash -c ". /usr/share/bash-completion/completions/kforge; COMP_WORDS=(kforge -k $1 uninstall \"\"); COMP_CWORD=4; _kforge; echo \"\${COMPREPLY[*]}\"")" = hello ]' _ "$K"
# a second kernel's headers arrive: their package's postinst runs header_postinst.d
(cd / && run-parts --report --exit-on-error --regex '^50-kforge$' \
	--arg="$K2" /etc/kernel/header_postinst.d) >"$tmp/hook.out" 2>&1
check "header_postinst.d for $K2 (run-parts, as its headers' postinst runs it): hello rebuilt and installed for $K2" sh -c '
	[ "$1" -eq 0 ] && [ -f "/lib/modules/$2/updates/hello.ko" ] && kforge -k "$2" status | grep -qE "^$2 +hello +ok " ||
	cat "$3"' _ "$?" "$K2" "$tmp/hook.out"
apt_get remove kforge libkforge0
check "apt-get remove: the command is gone; the modules, their records and the (inert) hooks stay" sh -c '
	[ "$1" -eq 0 ] && [ ! -e /usr/bin/kforge ] && [ -f "/lib/modules/$2/updates/hello.ko" ] &&
	[ -f "/lib/modules/$3/updates/hello.ko" ] && [ -f "/var/lib/kforge/records/$2/hello.conf" ] &&
	[ -x /etc/kernel/postinst.d/50-kforge ] && out=$(/etc/kernel/postinst.d/50-kforge "$3" 2>&1) && [ -z "$out" ]' _ "$?" "$K" "$K2"
apt_get install "$tmp/deb/kforge_${version}_amd64.deb" "$tmp/deb/libkforge0_${version}_amd64.deb"
check "installed again: kforge status reads both modules, ok" sh -c '
	kforge status >"$3" && grep -qE "^$1 +hello +ok " "$3" && grep -qE "^$2 +hello +ok " "$3" || cat "$3"' _ "$K" "$K2" "$tmp/status.out"
# the second kernel is removed: its image's prerm runs prerm.d
(cd / && run-parts --report --exit-on-error --regex '^50-kforge$' \
	--arg="$K2" --arg="/boot/vmlinuz-$K2" /etc/kernel/prerm.d) >"$tmp/prerm.out" 2>&1
check "prerm.d for $K2: its hello is removed, with its record; $K keeps its own" sh -c '
	[ "$1" -eq 0 ] && [ ! -e "/lib/modules/$2/updates/hello.ko" ] && [ ! -e "/var/lib/kforge/records/$2/hello.conf" ] &&
	[ -f "/lib/modules/$3/updates/hello.ko" ] || cat "$4"' _ "$?" "$K2" "$K" "$tmp/prerm.out"
kforge log --last >"$tmp/log.out" 2>&1
kforge log >"$tmp/loglist.out" 2>&1
check "kforge log --last shows the prerm hook's job, and kforge log lists it with its result, ok" sh -c '
	grep -q "^# kforge uninstall for $3" "$1" && grep -q "^# result: ok\$" "$1" &&
	grep -E "uninstall for $3 +ok " "$2"' _ "$tmp/log.out" "$tmp/loglist.out" "$K2"
apt_get purge kforge libkforge0
rc=$?
installed=
check "apt-get purge, asking nothing (no terminal): /etc/kforge, the hooks, the unit, logs and cache gone; the module and its record stay" sh -c '
	[ "$1" -eq 0 ] && [ ! -e /etc/kforge ] && [ ! -e /etc/kernel/postinst.d/50-kforge ] && [ ! -e /etc/kernel/prerm.d/50-kforge ] &&
	[ ! -e /lib/systemd/system/kforge-autoinstall.service ] && [ ! -e /var/log/kforge ] && [ ! -e /var/cache/kforge ] &&
	[ -f "/lib/modules/$2/updates/hello.ko" ] && [ -f "/var/lib/kforge/records/$2/hello.conf" ] &&
	! dpkg-query -W -f "\${Status}" kforge 2>/dev/null | grep -q installed' _ "$rc" "$K"
check "the description says what a purge leaves behind" sh -c '
	dpkg-deb -f "$1" Description | tr "\n" " " | grep -q "Removing or purging this package leaves in place the modules kforge *installed"' _ \
	"$tmp/deb/kforge_${version}_amd64.deb"
tap_done
