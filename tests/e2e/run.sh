#!/bin/sh
# e2e/run.sh: kforge against real Debian kernels, proved by loading what it installed into the
# very kernel it was built for, booted under qemu (TAP).
#
# Each case installs into its own --install-mod-path holding the kernel image's own modules
# (hard links from the linux-image package, as on a real system), so depmod sees what a real
# system has and updates/ must win over kernel/. The initramfs holds busybox, kmod's modprobe,
# the module asked for and what modules.dep says it needs. In the guest `modprobe -v` loads it;
# the harness asserts that the file the kernel loaded is byte for byte the one kforge installed.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
e2e_name=debian
. "$top/tests/e2e/lib.sh"
debian_kernels

# the same under UEFI Secure Boot, the way a Debian machine boots: OVMF with Microsoft's keys,
# Debian's signed shim and grub on an EFI system partition, the signed kernel; VARS is OVMF's
# variable store (where MokList lives)
sb_boot() { # vars kver modpath mods...
	vars=$1 k=$2
	shift
	esp=$work/esp-$$.img
	img=$work/initrd-sb-$$.cpio.gz
	initrd "$img" "$@"
	printf 'set timeout=0\nlinux /vmlinuz console=ttyS0 panic=-1 quiet loglevel=3\ninitrd /initrd.gz\nboot\n' >"$work/grub.cfg"
	rm -f "$esp"
	mkfs.vfat -C "$esp" 65536 >/dev/null &&
		mmd -i "$esp" ::/EFI ::/EFI/BOOT ::/EFI/debian &&
		mcopy -i "$esp" "$E/sb/usr/lib/shim/shimx64.efi.signed" ::/EFI/BOOT/BOOTX64.EFI &&
		mcopy -i "$esp" "$E/sb/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed" ::/EFI/BOOT/grubx64.efi &&
		mcopy -i "$esp" "$work/grub.cfg" ::/EFI/BOOT/grub.cfg &&
		mcopy -i "$esp" "$work/grub.cfg" ::/EFI/debian/grub.cfg &&
		mcopy -i "$esp" "$E/image-$k/boot/vmlinuz-$k" ::/vmlinuz &&
		mcopy -i "$esp" "$img" ::/initrd.gz || return 1
	timeout 600 qemu-system-x86_64 -accel tcg -cpu max -m 1024 -machine q35,smm=on -nographic -no-reboot -net none \
		-global driver=cfi.pflash01,property=secure,value=on \
		-drive if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.ms.fd \
		-drive if=pflash,format=raw,unit=1,file="$vars" -drive file="$esp",format=raw,if=ide \
		</dev/null 2>&1 | tr -d '\r' | grep -aoE 'KFORGE-.*'
	rm -f "$img" "$esp"
}

# one case: install, then boot and load
load_case() { # name kver mod rel kforge-args...
	n=$1 k=$2 mod=$3 rel=$4
	shift 4
	want "$n" || return 0
	d=$(modpath "$n" "$k")
	if install_case "$n" "$k" "$@" --install-mod-path "$d"; then
		ok "$n: kforge install $*"
		expect_loaded "$n" "$k" "$d" "$(boot "$k" "$d" "$mod")" "$mod" "$rel"
	else
		not_ok "$n: kforge install $*"
		sed 's/^/# /' "$work/$n.out"
		skip "$n: load under qemu" "the install failed"
	fi
}

image "$KVER" || { echo "Bail out! cannot get linux-image-$KVER (apt-get download)"; exit 1; }
U=/lib/modules/$KVER/updates

load_case dummy-headers "$KVER" dummy "$U/dummy.ko" dummy --strategy headers
load_case dummy-full "$KVER" dummy "$U/dummy.ko" dummy --strategy full
load_case btrfs "$KVER" btrfs "$U/btrfs.ko" btrfs
load_case aria-set "$KVER" aria_generic "$U/aria_generic.ko" aria_generic --set CONFIG_CRYPTO_ARIA=m
# a header outside the module's folder (-I$(srctree)/drivers/media/common/siano): the headers
# strategy cannot see it, kforge says so and builds against the full tree
load_case headers-fallback "$KVER" smsusb "$U/smsusb.ko" smsusb
if ! want headers-fallback; then :; elif grep -q "which is outside drivers/media/usb/siano: building against the full source tree instead" "$work/headers-fallback.out"; then
	ok "headers-fallback: kforge said why it fell back to the full tree"
else
	not_ok "headers-fallback: kforge said why it fell back to the full tree"
	sed 's/^/# /' "$work/headers-fallback.out"
fi
cp -r "$top/tests/src/hello" "$work/hello-src"
load_case external-two-files "$KVER" hello "$U/hello.ko" "$work/hello-src"

# two external modules: the second imports what the first exports (KBUILD_EXTRA_SYMBOLS by kforge)
cp -r "$top/tests/src/exporter" "$work/exporter-src"
cp -r "$top/tests/src/importer" "$work/importer-src"
d=$(modpath symbols "$KVER")
if ! want symbols; then :; elif install_case exporter "$KVER" "$work/exporter-src" --install-mod-path "$d" &&
	install_case importer "$KVER" "$work/importer-src" --install-mod-path "$d"; then
	ok "symbols: the importer builds against the exporter kforge built before"
	report=$(boot "$KVER" "$d" kforge_importer)
	expect_loaded "symbols-importer" "$KVER" "$d" "$report" kforge_importer "$U/kforge_importer.ko"
	if printf '%s\n' "$report" | grep -q "KFORGE-LOADED kforge_importer" && modprobe -d "$d" -S "$KVER" --show-depends kforge_importer | grep -q "$U/kforge_exporter.ko"; then
		ok "symbols: depmod made the importer depend on the exporter, modprobe loaded both"
	else
		not_ok "symbols: depmod made the importer depend on the exporter, modprobe loaded both"
	fi
else
	not_ok "symbols: the importer builds against the exporter kforge built before"
	sed 's/^/# /' "$work/exporter.out" "$work/importer.out"
fi

# the lifecycle on the real kernel: install over the distribution's own dummy.ko (its very path),
# status, uninstall; the kernel loads kforge's file, then the package's original, byte for byte
d=$(modpath lifecycle "$KVER")
K=/lib/modules/$KVER/kernel/drivers/net/dummy.ko
orig=$(sha256sum "$E/image-$KVER$K" | cut -d' ' -f1)
if ! want lifecycle; then :; elif install_case lifecycle "$KVER" dummy --install-dir kernel/drivers/net --install-mod-path "$d"; then
	ok "lifecycle: kforge install dummy --install-dir kernel/drivers/net (over the package's file)"
	expect_loaded "lifecycle-installed" "$KVER" "$d" "$(boot "$KVER" "$d" dummy)" dummy "$K"
	st=$("$KFORGE" -k "$KVER" status --json --install-mod-path "$d" 2>&1)
	if printf '%s' "$st" | jq -e --arg o "$orig" --arg p "$K" '.modules | length == 1 and .[0].state == "ok" and .[0].path == $p and .[0].replaced[0].sha256 == $o' >/dev/null; then
		ok "lifecycle: status says ok and names the package's file it replaced"
	else
		not_ok "lifecycle: status says ok and names the package's file it replaced"
		printf '%s\n' "$st" | sed 's/^/# /'
	fi
	if "$KFORGE" -k "$KVER" uninstall dummy --install-mod-path "$d" >"$work/lifecycle-un.out" 2>&1 &&
		[ "$(sha256sum "$d$K" | cut -d' ' -f1)" = "$orig" ]; then
		ok "lifecycle: uninstall puts the package's dummy.ko back byte for byte"
		report=$(boot "$KVER" "$d" dummy)
		expect_loaded "lifecycle-restored" "$KVER" "$d" "$report" dummy "$K"
		if printf '%s\n' "$report" | grep -q "^KFORGE-LOADED dummy $K $orig "; then
			ok "lifecycle: after uninstall the kernel loads the original (sha256 of the linux-image package's file)"
		else
			not_ok "lifecycle: after uninstall the kernel loads the original (sha256 of the linux-image package's file)"
		fi
	else
		not_ok "lifecycle: uninstall puts the package's dummy.ko back byte for byte"
		sed 's/^/# /' "$work/lifecycle-un.out"
	fi
else
	not_ok "lifecycle: kforge install dummy --install-dir kernel/drivers/net (over the package's file)"
	sed 's/^/# /' "$work/lifecycle.out"
fi

# signing, proved by the real kernel under Secure Boot: a key from kforge keygen, enrolled as a
# machine owner key (MokList, what mokutil --import and MokManager leave); the kernel locks down,
# loads the certificate, loads the module kforge signed without the E taint, and refuses one
# installed unsigned
sbfiles() {
	[ -f "$E/sb/usr/lib/shim/shimx64.efi.signed" ] && [ -f "$E/sb/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed" ] &&
		return 0
	(cd "$E" && apt-get download shim-signed grub-efi-amd64-signed >/dev/null 2>&1) || return 1
	for deb in "$E"/shim-signed_*.deb "$E"/grub-efi-amd64-signed_*.deb; do dpkg-deb -x "$deb" "$E/sb" || return 1; done
}
if ! want secureboot; then :; elif sbfiles && [ -f /usr/share/OVMF/OVMF_CODE_4M.ms.fd ] && command -v mcopy >/dev/null && command -v mkfs.vfat >/dev/null; then
	d=$(modpath secureboot "$KVER")
	mkdir -p "$work/sbroot"
	"$KFORGE" --root "$work/sbroot" -k "$KVER" keygen >"$work/keygen.out" 2>&1
	key=$work/sbroot/var/lib/kforge/mok
	printf '[install]\nsign_key = %s/MOK.priv\nsign_cert = %s/MOK.der\n' "$key" "$key" >"$work/sign.conf"
	printf '[install]\nsign = never\n' >"$work/nosign.conf"
	cp -r "$top/tests/src/hello" "$work/hello-unsigned"
	if KFORGE_SYSTEM_CONFIG=$work/sign.conf "$KFORGE" -k "$KVER" install dummy --install-mod-path "$d" >"$work/secureboot.out" 2>&1 &&
		KFORGE_SYSTEM_CONFIG=$work/nosign.conf "$KFORGE" -k "$KVER" install "$work/hello-unsigned" --install-mod-path "$d" \
			>"$work/secureboot-unsigned.out" 2>&1 &&
		python3 "$top/tests/e2e/mok-vars.py" /usr/share/OVMF/OVMF_VARS_4M.ms.fd "$work/vars.fd" "$key/MOK.der"; then
		ok "secureboot: kforge keygen, install dummy signed with that key (and hello unsigned), the key enrolled in MokList"
		report=$(sb_boot "$work/vars.fd" "$KVER" "$d" dummy hello)
		expect_loaded "secureboot-signed" "$KVER" "$d" "$report" dummy "$U/dummy.ko"
		taint=$(printf '%s\n' "$report" | sed -n 's/^KFORGE-LOADED dummy .* tainted=\([0-9]*\)$/\1/p')
		if printf '%s\n' "$report" | grep -q "^KFORGE-SECUREBOOT 1\$" &&
			printf '%s\n' "$report" | grep -q "^KFORGE-LOCKDOWN .*\[integrity\]" &&
			printf '%s\n' "$report" | grep -q "^KFORGE-CERT .*Loaded X.509 cert 'kforge module signing key" &&
			[ -n "$taint" ] && [ $((taint & 8192)) -eq 0 ]; then
			ok "secureboot: Secure Boot on, lockdown on, the kforge certificate loaded from MokList, the signed module loaded without the E taint (tainted=$taint)"
		else
			not_ok "secureboot: Secure Boot on, lockdown on, the kforge certificate loaded from MokList, the signed module loaded without the E taint"
			printf '%s\n' "$report" | sed 's/^/# guest: /'
		fi
		if printf '%s\n' "$report" | grep -q "^KFORGE-FAILED hello: .*\(Key was rejected\|not permitted\|Required key not available\)"; then
			ok "secureboot: the module installed unsigned is refused by the locked-down kernel"
		else
			not_ok "secureboot: the module installed unsigned is refused by the locked-down kernel"
			printf '%s\n' "$report" | grep hello | sed 's/^/# guest: /'
		fi
	else
		not_ok "secureboot: kforge keygen, install dummy signed with that key (and hello unsigned), the key enrolled in MokList"
		sed 's/^/# /' "$work/keygen.out" "$work/secureboot.out" "$work/secureboot-unsigned.out"
	fi
else
	skip "secureboot" "shim-signed, grub-efi-amd64-signed (apt-get download), ovmf, mtools or dosfstools missing"
fi

if ! want rt-flavour; then :; elif image "$RT" && [ -f "/usr/src/linux-headers-$RT/Makefile" ]; then
	load_case rt-flavour "$RT" dummy "/lib/modules/$RT/updates/dummy.ko" dummy
else
	skip "rt-flavour" "linux-headers-$RT or linux-image-$RT is not available"
fi

# the source cache: an unpack killed half-way is cleaned up, and two kforge runs at once share one
# unpack. The unpack runs in kforge itself (libarchive), so handshakes, not timing: the test freezes
# kforge (SIGSTOP) once its partial folder has files and the finished folder is not there, so the
# kill always lands mid-unpack and the second run always finds the first unpacking.
if want source-cache; then
	cache=$work/cache
	printf '[build]\ncache_dir = %s\n' "$cache" >"$work/cache.conf"
	# a file written into a partial folder; the finished folder (only drivers/net of the tarball: headers)
	partial_files() { find "$cache"/src/*.partial-* -type f 2>/dev/null | head -n 1; }
	unpacked() { ls -d "$cache"/src/linux-source-6.1-* 2>/dev/null | grep -v '\.partial-'; }
	KFORGE_SYSTEM_CONFIG=$work/cache.conf "$KFORGE" -q -k "$KVER" build dummy >/dev/null 2>&1 &
	pid=$!
	# the partial folder has grown: frozen there, kforge cannot finish before the kill
	wait_until 900 eval '[ -n "$(partial_files)" ] || ! running $pid'
	kill -STOP $pid 2>/dev/null
	midway=no
	running $pid && [ -n "$(partial_files)" ] && [ -z "$(unpacked)" ] && midway=yes
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	left=$(ls -d "$cache"/src/*.partial-* 2>/dev/null | wc -l)
	KFORGE_SYSTEM_CONFIG=$work/cache.conf "$KFORGE" -k "$KVER" build dummy >"$work/cache1.out" 2>&1 &
	p1=$!
	# the first run holds the cache's lock and unpacks: frozen until the second run waits
	wait_until 900 eval 'grep -q "^kforge: unpacking " "$work/cache1.out" || ! running $p1'
	kill -STOP $p1 2>/dev/null
	frozen=no
	running $p1 && [ -z "$(unpacked)" ] && frozen=yes
	KFORGE_SYSTEM_CONFIG=$work/cache.conf "$KFORGE" -k "$KVER" build dummy >"$work/cache2.out" 2>&1 &
	p2=$!
	wait_until 900 eval 'grep -q "waiting for another kforge that is unpacking" "$work/cache2.out" || ! running $p2'
	kill -CONT $p1 2>/dev/null
	wait $p2
	r2=$?
	wait $p1
	r1=$?
	unpacks=$(cat "$work/cache1.out" "$work/cache2.out" | grep -c "^kforge: unpacking ")
	if [ $midway = yes ] && [ $frozen = yes ] && [ "$left" -ge 1 ] && [ $r1 -eq 0 ] && [ $r2 -eq 0 ] && [ "$unpacks" -eq 1 ] &&
		grep -q "left by an interrupted unpack" "$work/cache1.out" &&
		grep -q "waiting for another kforge that is unpacking" "$work/cache2.out" &&
		[ -n "$(unpacked)" ] && [ -z "$(ls -d "$cache"/src/*.partial-* 2>/dev/null)" ]; then
		ok "source cache: a killed unpack is removed, two runs at once unpack once"
	else
		not_ok "source cache: a killed unpack is removed, two runs at once unpack once"
		echo "# killed mid-unpack: $midway; partial dirs after the kill: $left; first run frozen mid-unpack: $frozen; exits $r1 $r2; unpacks $unpacks"
		sed 's/^/# 1: /' "$work/cache1.out"
		sed 's/^/# 2: /' "$work/cache2.out"
	fi
fi

# the gate: modules made wrong on purpose never reach the disk (exit 5)
refused() { # name action needle
	n=$1 action=$2 needle=$3
	want "$n" || return 0
	d=$work/refused-$n
	mkdir -p "$d"
	cp -r "$top/tests/src/hello" "$work/hello-$n"
	# make runs as the build user in kforge's sandbox: a cleared environment, its own /tmp. The
	# shim is found on kforge's PATH, so a make of the case's own (in the cache, which the build
	# user reads) sets the action and runs it; a substitute is copied there too
	sd=$(mktemp -d "$E/shim-XXXXXX")
	chmod 755 "$sd"
	case $action in substitute:*) cp "${action#substitute:}" "$sd/substitute.ko" && action=substitute:$sd/substitute.ko ;; esac
	# the shim itself copied there too: the source tree may be under /tmp, which the sandbox hides
	cp "$top/tests/e2e/shim/make" "$sd/shim-make"
	printf '#!/bin/sh\nKFORGE_SHIM_ACTION=%s exec %s "$@"\n' "$action" "$sd/shim-make" >"$sd/make"
	chmod 755 "$sd/make" "$sd/shim-make" "$sd"/*.ko 2>/dev/null
	PATH="$sd:$PATH" "$KFORGE" -k "$KVER" install "$work/hello-$n" --install-mod-path "$d" >"$work/$n.out" 2>&1
	rc=$?
	rm -rf "$sd"
	if [ $rc -eq 5 ] && grep -qF -- "$needle" "$work/$n.out" && [ -z "$(find "$d" -name '*.ko*')" ]; then
		ok "gate refuses $n (exit 5), nothing reaches the disk"
	else
		not_ok "gate refuses $n (exit 5), nothing reaches the disk"
		echo "# exit $rc"
		sed 's/^/# /' "$work/$n.out"
		find "$d" -name '*.ko*' | sed 's/^/# on disk: /'
	fi
}
refused no-crcs strip-versions "carries no symbol CRCs"
refused wrong-crc flip-crc "in the module but"
rtko=$(find "$work/rt-flavour/lib/modules/$RT/updates" -name dummy.ko 2>/dev/null | head -n 1)
if ! want rt-module-for-amd64; then :; elif [ -n "$rtko" ]; then
	refused rt-module-for-amd64 "substitute:$rtko" "is for another kernel, the target is $KVER"
else
	skip "gate refuses an rt-amd64 module for amd64" "no rt build"
fi
tap_done
