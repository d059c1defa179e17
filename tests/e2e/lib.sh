# e2e/lib.sh: the boot harness the e2e cases share (sourced; it sources tests/tap.sh).
# A busybox initramfs holding kmod's modprobe and the modules asked for, a kernel booted with it
# under qemu (TCG: on this project's machines /dev/kvm exists but a guest spins in it; TCG boots in
# ~10 s), and the assertion that the kernel loaded the very file that was installed.
# The caller sets `top` (the source tree) and `e2e_name`; lib.sh makes `work`, a scratch folder
# /tmp/kforge-e2e-NAME-XXXXXX removed at exit (with the stand-in server stopped). E is the e2e
# cache: $KFORGE_E2E_CACHE, else /var/cache/kforge-e2e.
# shellcheck shell=sh disable=SC2154 # top and e2e_name: the caller's
. "$top/tests/tap.sh"
E=${KFORGE_E2E_CACHE:-/var/cache/kforge-e2e}
mkdir -p "$E"
work=$(mktemp -d "/tmp/kforge-e2e-$e2e_name-XXXXXX")
# builds run as the build user ([build] user), who must pass through it to read what it holds
chmod 755 "$work"
trap 'stop_server; rm -rf "$work"' EXIT
# traversable: kforge's build user (not root) reads the sources the cases put here
chmod 755 "$work"

# the kforge under test and its plugins (the build tree's, unless the caller names others)
KFORGE=${KFORGE:-$top/_build/kforge}
export KFORGE_PLUGIN_PATH=${KFORGE_PLUGIN_PATH:-$top/_build/plugins/arch/.libs:$top/_build/plugins/debian/.libs:$top/_build/plugins/fedora/.libs:$top/_build/plugins/vanilla/.libs}
export NO_COLOR=1

# the small kernels and stand-ins of kernels.sh, built or cached; their paths sourced (a TAP line;
# bails out when they cannot be had). DETAILS shows kernels.sh's progress as diagnostics.
e2e_kernels() { # [details]
	ek_t0=$(date +%s)
	if "$top/tests/e2e/kernels.sh" --paths-file "$work/paths.sh" >/dev/null 2>"$work/kernels.err"; then
		ok "kernels.sh: the kernels and the stand-ins are built or cached ($(($(date +%s) - ek_t0)) s)"
		[ -z "${1:-}" ] || sed 's/^/# /' "$work/kernels.err"
	else
		not_ok "kernels.sh: the kernels and the stand-ins are built or cached"
		sed 's/^/# /' "$work/kernels.err"
		echo "Bail out! kernels.sh failed"
		exit 1
	fi
	# shellcheck disable=SC1091 # kernels.sh's output
	. "$work/paths.sh"
}

# a stand-in server (tests/lib/httpd.py) for DIR on 127.0.0.1: its port in $port, each request
# logged in $work/requests; stop_server ends it (the caller's trap calls it)
srv_pid=
stop_server() { [ -z "$srv_pid" ] || { kill "$srv_pid" 2>/dev/null; wait "$srv_pid" 2>/dev/null; srv_pid=; }; }
serve_standin() { # dir
	: >"$work/requests"
	rm -f "$work/port"
	python3 "$top/tests/lib/httpd.py" "$1" --log "$work/requests" >"$work/port" &
	srv_pid=$!
	wait_until 60 test -s "$work/port" || { echo "Bail out! tests/lib/httpd.py did not start"; exit 1; }
	port=$(cat "$work/port")
}

# an initramfs at OUT for kernel K with modules from D: busybox, kmod's modprobe, each of MODS and
# what modules.dep says it needs; its init modprobes them and reports what the kernel did
initrd() { # out kver modpath mods...
	out=$1 k=$2 d=$3
	shift 3
	r=$work/initrd-$$-$(date +%s%N)
	mkdir -p "$r/bin" "$r/sbin" "$r/proc" "$r/sys" "$r/dev" "$r/tmp" "$r/lib/modules/$k"
	cp /bin/busybox "$r/bin/busybox"
	cp /usr/bin/kmod "$r/bin/kmod"
	for lib in $(ldd /usr/bin/kmod | grep -o '/[^ ]*'); do
		mkdir -p "$r$(dirname "$lib")"
		cp -L "$lib" "$r$lib"
	done
	for t in modprobe insmod lsmod modinfo; do ln -s /bin/kmod "$r/sbin/$t"; done
	cp "$d/lib/modules/$k"/modules.* "$r/lib/modules/$k/"
	# efivarfs too: the init reads the SecureBoot variable with it (when the kernel has it as a
	# module: kernels.sh's small kernels do not)
	for m in "$@" efivarfs; do
		[ "$m" != efivarfs ] || [ -n "$(find "$d/lib/modules/$k/" -name 'efivarfs.ko*' | head -n 1)" ] || continue
		modprobe -d "$d" -S "$k" --show-depends "$m" | awk '$1 == "insmod" {print $2}' | while read -r f; do
			rel=${f#"$d"}
			mkdir -p "$r$(dirname "$rel")"
			cp "$f" "$r$rel"
		done
	done
	cat >"$r/init" <<INIT
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t securityfs securityfs /sys/kernel/security 2>/dev/null
echo KFORGE-BOOTED \$(uname -r)
echo KFORGE-LOCKDOWN \$(cat /sys/kernel/security/lockdown 2>/dev/null)
[ -d /sys/firmware/efi ] && /sbin/modprobe efivarfs && mount -t efivarfs efivarfs /sys/firmware/efi/efivars &&
	set -- \$(od -An -tu1 /sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c) &&
	echo KFORGE-SECUREBOOT \$5 # 4 bytes of attributes, then the value
dmesg | grep "Loaded X.509 cert 'kforge" | sed 's/^/KFORGE-CERT /'
for m in $*; do
	# kmod's modprobe (busybox installed its own applet into /bin); /sys/module has the name the
	# module was built as (a DKMS DEST_MODULE_NAME renames only its file), with _ for -
	# (dm-writeboost is dm_writeboost)
	f=
	/sbin/modprobe -v \$m >/tmp/out 2>&1 && f=\$(awk '\$1 == "insmod" {f = \$2} END {print f}' /tmp/out)
	[ -n "\$f" ] || f=/nonexistent
	if [ -f "\$f" ] && [ -d /sys/module/\$(/sbin/modinfo -F name \$f | tr - _) ]; then
		echo KFORGE-LOADED \$m \$f \$(sha256sum \$f </dev/null | cut -d' ' -f1) tainted=\$(cat /proc/sys/kernel/tainted)
	else
		echo KFORGE-FAILED \$m: \$(cat /tmp/out)
		dmesg | tail -5
	fi
done
echo KFORGE-DONE
poweroff -f
INIT
	chmod +x "$r/init"
	(cd "$r" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$out"
	rm -rf "$r"
}

# boot the kernel IMAGE (released as K) with modules from D, modprobe each of MODS; prints the
# guest's report lines (KFORGE-BOOTED, KFORGE-LOADED, KFORGE-FAILED, ...) and the kernel's messages
boot_kernel() { # image kver modpath mods...
	bk_image=$1
	shift
	img=$work/initrd-$$-$(date +%s%N).cpio.gz
	initrd "$img" "$@"
	timeout 300 qemu-system-x86_64 -accel tcg -cpu max -m 1024 -smp 2 -nographic -no-reboot -net none \
		-kernel "$bk_image" -initrd "$img" \
		-append "console=ttyS0 panic=-1 quiet loglevel=3" </dev/null 2>&1 | tr -d '\r' | grep -aoE 'KFORGE-.*|^\[.*'
	rm -f "$img"
}

# boot Debian's kernel K (its linux-image package unpacked under $E by image()) the same way
boot() { # kver modpath mods...
	boot_kernel "$E/image-$1/boot/vmlinuz-$1" "$@"
}

# asserts that MOD was loaded by kernel K from the file kforge installed at REL under D (WHAT names
# that file in the test's description)
expect_loaded() { # test-name kver modpath report mod rel [what]
	name=$1 k=$2 d=$3 report=$4 mod=$5 rel=$6 what=${7:-the file kforge installed}
	line=$(printf '%s\n' "$report" | grep "^KFORGE-LOADED $mod ")
	want_sha=$(sha256sum "$d$rel" 2>/dev/null | cut -d' ' -f1)
	got_path=$(echo "$line" | cut -d' ' -f3)
	got_sha=$(echo "$line" | cut -d' ' -f4)
	if printf '%s\n' "$report" | grep -q "^KFORGE-BOOTED $k\$" && [ "$got_path" = "$rel" ] && [ -n "$want_sha" ] &&
		[ "$got_sha" = "$want_sha" ]; then
		ok "$name: $k loaded $rel, $what"
	else
		not_ok "$name: $k loaded $rel, $what"
		echo "# want $rel sha256 $want_sha"
		printf '%s\n' "$report" | sed 's/^/# guest: /'
	fi
}

# KVER: the newest Debian 6.1 kernel whose headers are installed, RT and CLOUD its rt and cloud
# flavours (bails out when there is none)
debian_kernels() {
	KVER=
	for d in /usr/src/linux-headers-6.1.0-*-amd64; do
		case $d in *-rt-amd64 | *-cloud-amd64) continue ;; esac
		[ -f "$d/.kernelvariables" ] && KVER=${d#/usr/src/linux-headers-}
	done
	[ -n "$KVER" ] || { echo "Bail out! no linux-headers-6.1.0-N-amd64: run scripts/deps.sh"; exit 1; }
	RT=${KVER%-amd64}-rt-amd64
	CLOUD=${KVER%-amd64}-cloud-amd64
}

# RUN_ONLY: space-separated shell patterns; only the cases whose names match run (all when empty),
# e.g. RUN_ONLY='dummy-* symbols' tests/e2e/run.sh, RUN_ONLY=aba tests/e2e/dkms.sh
want() { # case-name
	[ -z "${RUN_ONLY:-}" ] && return 0
	set -f
	for want_p in $RUN_ONLY; do
		# shellcheck disable=SC2254 # a pattern
		case $1 in $want_p) set +f; return 0 ;; esac
	done
	set +f
	return 1
}

# KVM is not used: on this project's machines /dev/kvm exists but a guest spins in it; TCG boots in ~10 s
# the kernel image packages, downloaded once and unpacked once
image() {
	k=$1
	if [ ! -f "$E/image-$k/boot/vmlinuz-$k" ]; then
		deb=$(ls "$E"/linux-image-"$k"_*.deb 2>/dev/null | tail -n 1)
		[ -n "$deb" ] || (cd "$E" && apt-get download "linux-image-$k" >/dev/null 2>&1)
		deb=$(ls "$E"/linux-image-"$k"_*.deb 2>/dev/null | tail -n 1)
		[ -n "$deb" ] || return 1
		rm -rf "$E/image-$k.partial"
		dpkg-deb -x "$deb" "$E/image-$k.partial" && mv "$E/image-$k.partial" "$E/image-$k"
	fi
	[ -f "$E/image-$k/boot/vmlinuz-$k" ]
}

# a fresh INSTALL_MOD_PATH holding kernel K's own modules, as installed systems have them
modpath() { # name kver
	d=$work/$1
	mkdir -p "$d/lib/modules"
	cp -al "$E/image-$2/lib/modules/$2" "$d/lib/modules/$2"
	depmod -b "$d" "$2"
	echo "$d"
}

# kforge install, quietly, its output kept for the failure message
install_case() { # name kver args...
	n=$1 k=$2
	shift 2
	"$KFORGE" -k "$k" -j "$(nproc)" install "$@" >"$work/$n.out" 2>&1
}
