#!/bin/sh
# fedora-srpm.sh: the kernel's source package on a Fedora fixture root, for real (TAP). A stand-in
# kernel-6.1.192-300.fc39.src.rpm is built here with rpmbuild -bs from a small 6.1.192 tree and a
# spec that applies patch-6.1-redhat.patch (ApplyOptionalPatch, through a %define, as Fedora's
# does) and an empty linux-kernel-test.patch; tests/lib/httpd.py serves it at Koji's path through
# [sources] rewrite. kforge plan says what would be fetched and fetches nothing; kforge install
# fetches it, reads it with libarchive, prepares the tree with rpmbuild -bp (unprivileged, no
# network) and with the spec's lines read as data, sets EXTRAVERSION as the spec's InitBuildVars
# does, and installs dummy.ko.xz (the patched code) whose vermagic is exactly the release. Also
# prep = rpmspec (rpm's rpmspec -P in the sandbox, its patches applied as data), dnf download
# --source as the build user where the root has dnf (and the URL when dnf has no such package), and
# source = ark (the kernel-ark tag through libgit2 from a file:// stand-in). A
# corrupt SRPM and a file that is no rpm are refused naming the file; an unreachable server is
# named with the rewrite.
set -u
NAME=fedora-srpm
. "${top_srcdir:-$(dirname "$0")/..}/tests/suite.sh"
need_headers
for c in rpmbuild tar xz modinfo python3; do
	command -v $c >/dev/null || { echo "1..0 # SKIP $c is needed (scripts/deps.sh installs rpm)"; exit 0; }
done
K=6.1.192-300.fc39.x86_64
KOJI=https://kojipkgs.fedoraproject.org/packages/kernel/
SRPM_PATH=6.1.192/300.fc39/src/kernel-6.1.192-300.fc39.src.rpm

# the source package: a 6.1.192 tree in which dummy is a real module, Fedora's patch, the spec
t=$tmp/linux-6.1.192
mkdir -p "$t/fs/btrfs" "$tmp/rpm/SOURCES" "$tmp/rpm/SPECS"
mini_tree "$t" 6.1.192 "upstream dummy"
echo 'obj-$(CONFIG_BTRFS_FS) += btrfs.o' >"$t/fs/btrfs/Makefile"
tar -C "$tmp" -cJf "$tmp/rpm/SOURCES/linux-6.1.192.tar.xz" linux-6.1.192
cp -a "$t" "$tmp/patched"
# more than 9 lines: Fedora's ApplyOptionalPatch leaves shorter ones out
sed -i 's/upstream dummy/dummy as Fedora patched it/; s#^\(// SPDX.*\)#\1\n/* Fedora */#' "$tmp/patched/drivers/net/dummy.c"
(cd "$tmp" && diff -ruN linux-6.1.192 patched) | sed 's#^--- linux-6.1.192/#--- a/#; s#^+++ patched/#+++ b/#' \
	>"$tmp/rpm/SOURCES/patch-6.1-redhat.patch"
: >"$tmp/rpm/SOURCES/linux-kernel-test.patch"
cat >"$tmp/rpm/SPECS/kernel.spec" <<'EOF'
%define patchversion 6.1
%define specrpmversion 6.1.192
Name: kernel
Version: %{specrpmversion}
Release: 300.fc39
Summary: The Linux kernel (a stand-in)
License: GPL-2.0-only
Source0: linux-%{specrpmversion}.tar.xz
Patch1: patch-%{patchversion}-redhat.patch
Patch999999: linux-kernel-test.patch

%description
A stand-in of Fedora's kernel source package for kforge's tests.

%prep
ApplyPatch() { patch -p1 -F1 -s < "$RPM_SOURCE_DIR/$1"; }
ApplyOptionalPatch() { if [ "$(wc -l < "$RPM_SOURCE_DIR/$1")" -gt 9 ]; then ApplyPatch "$1"; fi; }
%setup -q -n kernel-%{specrpmversion} -c
mv linux-%{specrpmversion} linux-%{specrpmversion}-%{release}.x86_64
cd linux-%{specrpmversion}-%{release}.x86_64
ApplyOptionalPatch patch-%{patchversion}-redhat.patch
ApplyOptionalPatch linux-kernel-test.patch

%build
%files
EOF
if ! rpmbuild -bs --define "_topdir $tmp/rpm" "$tmp/rpm/SPECS/kernel.spec" >"$tmp/rpmbuild.out" 2>&1; then
	echo "Bail out! rpmbuild -bs could not build the stand-in SRPM"
	sed 's/^/# /' "$tmp/rpmbuild.out"
	exit 1
fi
srpm=$(ls "$tmp"/rpm/SRPMS/kernel-6.1.192-300.fc39.src.rpm)
srv=$tmp/srv
mkdir -p "$srv/good/$(dirname $SRPM_PATH)" "$srv/corrupt/$(dirname $SRPM_PATH)" "$srv/norpm/$(dirname $SRPM_PATH)"
cp "$srpm" "$srv/good/$SRPM_PATH"
# a damaged copy: bytes near the end of the compressed payload changed (the compressor's check fails)
cp "$srpm" "$srv/corrupt/$SRPM_PATH"
size=$(stat -c %s "$srpm")
printf 'kforge damaged this' | dd of="$srv/corrupt/$SRPM_PATH" bs=1 seek=$((size - 60)) conv=notrunc 2>/dev/null
cp "$tmp/rpm/SOURCES/linux-6.1.192.tar.xz" "$srv/norpm/$SRPM_PATH"

serve "$srv"
conf() { # NAME FOLDER PREP: Koji is the stand-in's FOLDER
	printf '[sources]\nrewrite = %s http://127.0.0.1:%s/%s/\n[install]\ninitramfs = never\n[plugin.fedora]\nprep = %s\n' \
		"$KOJI" "$port" "$2" "$3" >"$tmp/$1.conf"
}
conf good good rpmbuild
conf data good data
conf corrupt corrupt data
conf norpm norpm data
printf '[sources]\nrewrite = %s http://127.0.0.1:1/\n[install]\ninitramfs = never\n' "$KOJI" >"$tmp/down.conf"

mkroot() { # NAME: the fedora fixture, its kernel as $K, kernel-devel's build dir made from the host's headers
	r=$tmp/$1
	cp -a "$R/fedora" "$r"
	m=$r/usr/lib/modules
	mv "$m/6.5.6-300.fc39.x86_64" "$m/$K"
	rm -rf "$r/usr/src/kernels/6.5.6-300.fc39.x86_64" "$m/$K/build"
	mv "$r/boot/config-6.5.6-300.fc39.x86_64" "$r/boot/config-$K"
	synth "$r/usr/src/kernels/$K" "$K"
	ln -s "/usr/src/kernels/$K" "$m/$K/build"
}
kf() { # CONF ROOT args...
	c=$1 r=$2
	shift 2
	KFORGE_SYSTEM_CONFIG="$tmp/$c.conf" "$KFORGE" --root "$r" -k "$K" "$@"
}
cache=var/cache/kforge
ko() { echo "$tmp/$1/usr/lib/modules/$K/updates/dummy.ko.xz"; }
vermagic_ok() { # KO.XZ: the patched code, vermagic exactly $K
	xz -dc "$1" >"$tmp/dummy.ko" 2>/dev/null &&
		[ "$(modinfo -F description "$tmp/dummy.ko")" = "dummy as Fedora patched it" ] &&
		modinfo -F vermagic "$tmp/dummy.ko" | grep -q "^$K "
}

# installs CONF NAME WHAT: kforge install dummy (headers) on the root NAME; the test WHAT passes when
# it exits 0 and dummy.ko.xz is the patched code, vermagic exactly $K. Sets rc and log (the job's)
installs() {
	kf "$1" "$tmp/$2" install dummy --strategy headers >"$tmp/out" 2>"$tmp/err"
	rc=$?
	log=$(sed -n 's/^kforge: log: //p' "$tmp/err" | head -n 1)
	if [ $rc -eq 0 ] && vermagic_ok "$(ko "$2")"; then ok "$3"; else
		not_ok "$3"
		sed 's/^/# /' "$tmp/err"
	fi
}

# plan: names Koji's URL and the stand-in after the rewrite, fetches nothing
mkroot plan
: >"$tmp/requests"
out=$(kf good "$tmp/plan" plan dummy --strategy headers 2>&1)
check "plan: locate source [fedora] names Koji's SRPM and where the rewrite sends it, and rpmbuild -bp" sh -c '
	printf "%s" "$1" | grep -q "locate source \[fedora\]" &&
	printf "%s" "$1" | grep -qF "$2$3 (via http://127.0.0.1:$4/good/$3" &&
	printf "%s" "$1" | grep -q "rpmbuild -bp, unprivileged, no network"' _ "$out" "$KOJI" "$SRPM_PATH" "$port"
[ $? -eq 0 ] || printf '%s\n' "$out" | sed 's/^/# /'
check "plan: nothing was requested from the server, nothing written in the cache" sh -c '
	[ ! -s "$1" ] && ! ls "$2/'"$cache"'/src" 2>/dev/null | grep -q .' _ "$tmp/requests" "$tmp/plan"

# install with rpmbuild -bp, headers strategy
mkroot good
if kf good "$tmp/good" install dummy --strategy headers >"$tmp/out" 2>"$tmp/err"; then
	ok "install dummy from the SRPM prepared by rpmbuild -bp (headers strategy)"
else
	not_ok "install dummy from the SRPM prepared by rpmbuild -bp (headers strategy)"
	sed 's/^/# /' "$tmp/err"
fi
log=$(sed -n 's/^kforge: log: //p' "$tmp/err" | head -n 1)
check "dummy.ko.xz in updates/ is the patched code, vermagic exactly $K" vermagic_ok "$(ko good)"
check "rpmbuild -bp ran unprivileged without network (setpriv to the build user, bwrap or unshare --net)" sh -c '
	grep -q "^\$ .*setpriv --reuid=[0-9]* --regid=[0-9]* --clear-groups --no-new-privs -- .*rpmbuild -bp --nodeps" "$1" &&
	grep -q "^\$ .*\(bwrap --unshare-all\|unshare --net\)" "$1"' _ "${log:-/dev/null}"
tree=$(ls -d "$tmp/good/$cache/src/fedora-$K-rpmbuild"* 2>/dev/null | head -n 1)
check "the tree: patched by %prep, EXTRAVERSION -300.fc39.x86_64 set as InitBuildVars does, a stamp written last" sh -c '
	[ -n "$1" ] && grep -q "dummy as Fedora patched it" "$1/drivers/net/dummy.c" &&
	grep -qx "EXTRAVERSION = -300.fc39.x86_64" "$1/Makefile" && [ -f "$1/.kforge-fedora-tree" ] &&
	[ "$(stat -c %u "$1/Makefile")" = "$(id -u)" ]' _ "$tree"
check "nothing half-done is left (no .tmp-PID in the cache, no /tmp/kforge-fedora-* of this run)" sh -c '
	! ls -d "$1"/*.tmp-* 2>/dev/null | grep -q . && ! grep -o "/tmp/kforge-fedora-[A-Za-z0-9]*" "$2" | sort -u | xargs -r ls -d 2>/dev/null | grep -q .' \
	_ "$tmp/good/$cache/src" "${log:-/dev/null}"
# the next run (a root whose modules.dep still lists dummy in kernel/, the same cache)
mkroot again
rm -rf "$tmp/again/$cache"
mkdir -p "$tmp/again/var/cache"
cp -a "$tmp/good/$cache" "$tmp/again/$cache"
out=$(kf good "$tmp/again" plan dummy --strategy headers 2>&1)
check "the next run finds the tree ready and fetches nothing" sh -c '
	printf "%s" "$1" | grep -q "tree .* is ready from an earlier run"' _ "$out"

# the spec's lines read as data: no rpmbuild runs; the empty optional patch is left out
mkroot data
installs data data "prep = data: installed, the patched code, vermagic exactly $K"
check "prep = data: no rpmbuild ran; patch-6.1-redhat.patch applied with patch -p1, the empty linux-kernel-test.patch left out" sh -c '
	! grep -q "rpmbuild" "$1" && grep -q "^\$ patch -N -p1 .*patch-6.1-redhat.patch" "$1" &&
	grep -q "linux-kernel-test.patch is empty (ApplyOptionalPatch, line 22): not applied" "$1"' _ "${log:-/dev/null}"

# the full strategy: the whole tree's Makefile says the release; the mini tree has no kbuild, so
# the build stops at make olddefconfig, after derive version accepted the tree
mkroot full
kf data "$tmp/full" install dummy --strategy full >"$tmp/out" 2>"$tmp/err"
rc=$?
log=$(sed -n 's/^kforge: log: //p' "$tmp/err" | head -n 1)
check "full: derive version reads release $K from the prepared tree (no KERNELRELEASE)" sh -c '
	[ "$1" -eq 4 ] && grep -q "release $3: 6.1.192 + EXTRAVERSION \"-300.fc39.x86_64\" (the Makefile, as InitBuildVars sets it)" "$2" &&
	! grep -q "KERNELRELEASE=" "$2"' _ $rc "${log:-/dev/null}" "$K"
[ $rc -eq 4 ] || sed 's/^/# /' "$tmp/err"
# the whole tree it prepared serves the headers strategy next: nothing fetched or prepared again
out=$(kf data "$tmp/full" plan dummy --strategy headers 2>&1)
check "the headers strategy takes the whole tree the full strategy prepared, ready from the earlier run" sh -c '
	printf "%s" "$1" | grep -q "tree .*/src/fedora-$2-data is ready from an earlier run" &&
	! printf "%s" "$1" | grep -q "fetch\|rpmbuild -bp" || { printf "%s\n" "$1"; false; }' _ "$out" "$K"

# prep = rpmspec (rpm's own rpmspec -P expands the spec's macros, in the sandbox): the patches of
# the expanded %prep are applied as data; rpmbuild never runs
conf spec good rpmspec
mkroot spec
installs spec spec "prep = rpmspec: installed, the patched code, vermagic exactly $K"
check "prep = rpmspec: rpmspec -P ran unprivileged without network, no rpmbuild; the expanded patch-6.1-redhat.patch applied" sh -c '
	grep -q "^\$ .*setpriv --reuid=[0-9]* .*-- .*rpmspec -P --define .\?_topdir " "$1" &&
	grep -q "^\$ .*\(bwrap --unshare-all\|unshare --net\)" "$1" && ! grep -q "rpmbuild -bp" "$1" &&
	grep -q "^\$ patch -N -p1 .*patch-6.1-redhat.patch" "$1" || { grep "^\\$" "$1" | sed "s/^/# /"; false; }' _ "${log:-/dev/null}"

# dnf download --source where the root has dnf: a stand-in dnf (on kforge's PATH, which the build
# user's sandbox keeps) records who ran it with what, and writes the SRPM where --destdir says.
# Koji's URL is unreachable here: the SRPM can only have come from dnf
dnf=$(mktemp -d /tmp/kforge-fedora-srpm-dnf-XXXXXX)
chmod 755 "$dnf"
cp "$srpm" "$dnf/srpm"
: >"$dnf/calls"
chmod 644 "$dnf/srpm"
chmod 666 "$dnf/calls"
cat >"$dnf/dnf" <<EOF
#!/bin/sh
echo "\$(id -un) dnf \$*" >>$dnf/calls
[ -e $dnf/fail ] && { echo "No package \${*##* } available." >&2; exit 1; }
dest=.
for a; do case \$a in --destdir=*) dest=\${a#--destdir=} ;; esac; done
for a; do pkg=\$a; done
cp $dnf/srpm "\$dest/\$pkg.src.rpm"
EOF
chmod 755 "$dnf/dnf"
printf '[sources]\nrewrite = %s http://127.0.0.1:1/\n[install]\ninitramfs = never\n[plugin.fedora]\nprep = data\n' "$KOJI" \
	>"$tmp/dnf.conf"
conf dnfgood good data
for v in dnf dnffail; do
	mkroot $v
	mkdir -p "$tmp/$v/usr/bin"
	printf '#!/bin/sh\nexit 1\n' >"$tmp/$v/usr/bin/dnf"
	chmod 755 "$tmp/$v/usr/bin/dnf"
done
ls -d /tmp/kforge-dnf-* 2>/dev/null | sort >"$tmp/dnf-before"
: >"$tmp/requests"
PATH="$dnf:$PATH"
installs dnf dnf "dnf: installed from the SRPM dnf download --source gave, vermagic exactly $K"
PATH=${PATH#"$dnf:"}
check "dnf: run once as the build user (kforge-build): download --source, its cache and destdir in a folder of its own, --installroot the root, kernel-6.1.192-300.fc39" sh -c '
	[ "$(wc -l <"$1")" -eq 1 ] &&
	grep -qx "kforge-build dnf download --source --setopt=cachedir=/tmp/kforge-dnf-[A-Za-z0-9]*/cache --destdir=/tmp/kforge-dnf-[A-Za-z0-9]* --installroot=$2 kernel-6.1.192-300.fc39" "$1" ||
	{ cat "$1"; false; }' _ "$dnf/calls" "$tmp/dnf"
ls -d /tmp/kforge-dnf-* 2>/dev/null | sort >"$tmp/dnf-after"
check "dnf: its folder is removed after use" cmp -s "$tmp/dnf-before" "$tmp/dnf-after"
# dnf has no such package: the URL (the stand-in Koji) instead, and the plan said so
touch "$dnf/fail"
: >"$dnf/calls"
out=$(PATH="$dnf:$PATH" kf dnfgood "$tmp/dnffail" plan dummy --strategy headers 2>&1)
check "dnf: plan says dnf download --source runs first, then the URL if that fails; nothing run" sh -c '
	printf "%s" "$1" | grep -q "dnf download --source kernel-6.1.192-300.fc39 as the build user (\[build\] user) into a temporary folder" &&
	[ ! -s "$2" ]' _ "$out" "$dnf/calls"
PATH="$dnf:$PATH" kf dnfgood "$tmp/dnffail" install dummy --strategy headers >"$tmp/out" 2>"$tmp/err"
rc=$?
check "dnf: no such package: kforge says so, fetches Koji's URL through the rewrite, installs" sh -c '
	[ "$1" -eq 0 ] && grep -q "kforge-build dnf download" "$2" && grep -q "$3" "$4" &&
	grep -q "gave no kernel-6.1.192-300.fc39.src.rpm: the URL instead" "$5"' _ $rc "$dnf/calls" "$SRPM_PATH" "$tmp/requests" \
	"$(sed -n 's/^kforge: log: //p' "$tmp/err" | head -n 1)"
[ $rc -eq 0 ] || sed 's/^/# /' "$tmp/err"
rm -rf "$dnf"

# source = ark: the kernel-ark git tag kernel-VER-REL (its tree is the patched one) through
# libgit2, the repository a file:// stand-in through the rewrite; no SRPM, nothing over HTTP
ark=$tmp/ark-git
git init -q -b os-build "$ark/work"
cp -a "$tmp/patched/." "$ark/work/"
(cd "$ark/work" && git add -A && git -c user.name=t -c user.email=t@t commit -qm "kernel-6.1.192-300.fc39" &&
	git tag kernel-6.1.192-300.fc39 && git clone -q --bare . "$ark/kernel-ark.git")
printf '[sources]\nrewrite = https://gitlab.com/cki-project/kernel-ark.git file://%s/kernel-ark.git\n[install]\ninitramfs = never\n[plugin.fedora]\nsource = ark\n' \
	"$ark" >"$tmp/ark.conf"
mkroot ark
out=$(kf ark "$tmp/ark" plan dummy --strategy headers 2>&1)
check "ark: plan names kernel-ark's URL, its rewrite and the tag kernel-6.1.192-300.fc39; fetches nothing" sh -c '
	printf "%s" "$1" | grep -q "kernel-ark https://gitlab.com/cki-project/kernel-ark.git at tag=kernel-6.1.192-300.fc39" &&
	! ls -d "$2"/git 2>/dev/null | grep -q .' _ "$out" "$tmp/ark/$cache"
[ $? -eq 0 ] || printf '%s\n' "$out" | sed 's/^/# /'
: >"$tmp/requests"
installs ark ark "ark: installed from the tag's tree, the patched code, vermagic exactly $K"
tree=$(ls -d "$tmp/ark/$cache/src/fedora-$K-ark"* 2>/dev/null | head -n 1)
check "ark: the tree is the tag's, EXTRAVERSION set to -300.fc39.x86_64; no SRPM fetched, nothing over HTTP" sh -c '
	[ -n "$1" ] && grep -qx "EXTRAVERSION = -300.fc39.x86_64" "$1/Makefile" && [ ! -s "$2" ] &&
	! grep -q "src.rpm" "$3"' _ "$tree" "$tmp/requests" "$(sed -n 's/^kforge: log: //p' "$tmp/err" | head -n 1)"

# bad input: a corrupt SRPM, a file that is no rpm, a server that cannot be reached
for v in corrupt norpm; do
	mkroot $v
	kf $v "$tmp/$v" install dummy --strategy headers >"$tmp/out" 2>"$tmp/err"
	rc=$?
	case $v in
	corrupt) what="a damaged SRPM is refused before it is read: rpm's digests, naming the file (exit 5), nothing installed"
		needle="kernel-6.1.192-300.fc39.src.rpm (.*) is damaged: its digests do not match" ;;
	norpm) what="a file that is no rpm is refused naming the file (exit 5), nothing installed" needle="is no" ;;
	esac
	check "$what" sh -c '[ "$1" -eq 5 ] && grep -q "kernel-6.1.192-300.fc39.src.rpm" "$2" && grep -q "$3" "$2" &&
		[ ! -e "$4" ] && ! ls -d "$5"/fedora-* 2>/dev/null | grep -q . || { echo "exit $1"; cat "$2"; false; }' \
		_ $rc "$tmp/err" "$needle" "$(ko $v)" "$tmp/$v/$cache/src"
done
mkroot down
expect_fail "an unreachable server: exit 3 naming Koji's URL and the rewrite to 127.0.0.1:1" 3 "http://127.0.0.1:1/$SRPM_PATH" \
	kf down "$tmp/down" install dummy --strategy headers
check "  ... and Koji's URL as given" grep -qF "$KOJI$SRPM_PATH" "$tmp/err"
tap_done
