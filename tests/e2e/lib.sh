# e2e/lib.sh: the boot harness the e2e cases share (sourced, after tests/tap.sh).
# A busybox initramfs holding kmod's modprobe and the modules asked for, a kernel booted with it
# under qemu (TCG: on this project's machines /dev/kvm exists but a guest spins in it; TCG boots in
# ~10 s), and the assertion that the kernel loaded the very file that was installed.
# The caller sets `work` (a temporary folder it removes) and may set E (the e2e cache,
# default $KFORGE_E2E_CACHE or /var/cache/kforge-e2e).
# shellcheck shell=sh disable=SC2154 # work: the caller's
E=${E:-${KFORGE_E2E_CACHE:-/var/cache/kforge-e2e}}

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
	# kmod's modprobe (busybox installed its own applet into /bin)
	if /sbin/modprobe -v \$m >/tmp/out 2>&1 && [ -d /sys/module/\$m ]; then
		f=\$(awk '\$1 == "insmod" {f = \$2} END {print f}' /tmp/out)
		[ -n "\$f" ] || f=/nonexistent
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
