#!/bin/sh
# signing.sh: module signing (TAP), in copies of the Debian fixture root whose build dir is the
# host's Debian headers (CONFIG_MODULE_SIG=y, sha256, scripts/sign-file): kforge keygen, the key
# found where kforge or a distribution keeps one, the signature checked with openssl against the
# certificate, signing before compressing, and the refusal (with the steps) when the kernel
# enforces signatures and no key exists.
set -u
NAME=signing
. "${top_srcdir:-$(dirname "$0")/..}/tests/suite.sh"
need_headers
K=6.1.0-56-amd64
cp -r "$srcdir/tests/src/hello" "$tmp/hello"

newroot() { # name: a Debian root with the host's real headers as its build dir
	root=$tmp/$1
	cp -a "$R/debian" "$root"
	synth "$root/usr/src/linux-headers-$K" "$K"
}
kf() { "$KFORGE" --root "$root" -k "$K" "$@"; }

# verify FILE CERT: the appended PKCS#7 signature verifies the module's bytes with CERT
verify() {
	python3 - "$1" "$tmp/mod" "$tmp/sig" <<'PY' || return 1
import struct, sys
data = open(sys.argv[1], 'rb').read()
magic = b"~Module signature appended~\n"
if not data.endswith(magic):
    sys.exit("no signature appended")
info = data[-len(magic) - 12:-len(magic)]
sig_len = struct.unpack(">I", info[8:12])[0]
end = len(data) - len(magic) - 12
open(sys.argv[2], 'wb').write(data[:end - sig_len])
open(sys.argv[3], 'wb').write(data[end - sig_len:end])
PY
	openssl x509 -inform DER -in "$2" -out "$tmp/cert.pem" &&
		openssl cms -verify -binary -inform DER -in "$tmp/sig" -content "$tmp/mod" -certfile "$tmp/cert.pem" \
			-nointern -noverify -out /dev/null 2>/dev/null
}

newroot keygen
if kf keygen >"$tmp/out" 2>&1 && [ -f "$root/var/lib/kforge/mok/MOK.priv" ] && [ -f "$root/var/lib/kforge/mok/MOK.der" ] &&
	grep -q "mokutil --import /var/lib/kforge/mok/MOK.der" "$tmp/out" &&
	[ "$(stat -c %a "$root/var/lib/kforge/mok/MOK.priv")" = 600 ]; then
	ok "keygen: MOK.priv (mode 600) and MOK.der in /var/lib/kforge/mok, and the mokutil command that enrolls it"
else
	not_ok "keygen: MOK.priv (mode 600) and MOK.der in /var/lib/kforge/mok, and the mokutil command that enrolls it"
	sed 's/^/# /' "$tmp/out"
fi
before=$(sha256sum "$root/var/lib/kforge/mok/MOK.priv")
kf keygen >"$tmp/out" 2>&1
rc=$?
check "keygen again: refuses to overwrite the key (exit 2)" sh -c \
	'[ "$1" -eq 2 ] && grep -q "already holds a key pair" "$2" && [ "$(sha256sum "$3/var/lib/kforge/mok/MOK.priv")" = "$4" ]' \
	_ "$rc" "$tmp/out" "$root" "$before"
p=$(kf plan "$tmp/hello" --json)
check "plan: sign with the build dir's sign-file, the kernel's hash, the key kforge keygen made" sh -c '
	printf "%s" "$1" | jq -e "[.steps[5].actions[].note] | any(. != null and test(\"^sign with /usr/src/linux-headers-$2/scripts/sign-file sha256 /var/lib/kforge/mok/MOK.priv /var/lib/kforge/mok/MOK.der\"))"' _ "$p" "$K"
ko=$root/usr/lib/modules/$K/updates/hello.ko
if kf -q install "$tmp/hello" >"$tmp/out" 2>&1 && [ "$(modinfo -F signer "$ko")" = "kforge module signing key" ] &&
	verify "$ko" "$root/var/lib/kforge/mok/MOK.der"; then
	ok "install: hello.ko signed by the kforge key; openssl verifies the signature with its certificate"
else
	not_ok "install: hello.ko signed by the kforge key; openssl verifies the signature with its certificate"
	sed 's/^/# /' "$tmp/out"
fi
# the signature is over what is installed: a byte changed after signing fails the check
cp "$ko" "$tmp/tampered"
printf 'X' | dd of="$tmp/tampered" bs=1 seek=100 conv=notrunc 2>/dev/null
check "the check can fail: one byte changed in the module, openssl refuses it" sh -c '! verify "$1" "$2"' _ "$tmp/tampered" "$root/var/lib/kforge/mok/MOK.der"

# signed before compressing (the kernel checks the signature of the decompressed module)
printf '[install]\ncompression = xz\n' >"$tmp/xz.conf"
KFORGE_SYSTEM_CONFIG=$tmp/xz.conf kf -q install "$tmp/hello" >"$tmp/out" 2>&1
xz -dc "$ko.xz" >"$tmp/plain.ko" 2>/dev/null
check "xz: the module inside the .ko.xz carries the signature" verify "$tmp/plain.ko" "$root/var/lib/kforge/mok/MOK.der"

# the key where Ubuntu's shim-signed keeps its MOK
newroot ubuntu-key
mkdir -p "$root/var/lib/shim-signed/mok"
cp "$tmp/keygen/var/lib/kforge/mok/MOK.priv" "$tmp/keygen/var/lib/kforge/mok/MOK.der" "$root/var/lib/shim-signed/mok/"
p=$(kf plan "$tmp/hello" --json)
check "a MOK in /var/lib/shim-signed/mok (Ubuntu) is found and used" sh -c '
	printf "%s" "$1" | jq -e "[.steps[5].actions[].note] | any(. != null and test(\"/var/lib/shim-signed/mok/MOK.priv /var/lib/shim-signed/mok/MOK.der\"))"' _ "$p"

# a kernel that enforces signatures, no key: refused before anything is built into the system
newroot force
sed -i 's/^# CONFIG_MODULE_SIG_FORCE is not set/CONFIG_MODULE_SIG_FORCE=y/' "$root/usr/src/linux-headers-$K/.config"
kf install "$tmp/hello" >"$tmp/out" 2>&1
rc=$?
check "MODULE_SIG_FORCE and no key: exit 3 with the steps (keygen, mokutil, reboot), nothing installed" sh -c '
	[ "$1" -eq 3 ] && grep -q "refuses unsigned modules (CONFIG_MODULE_SIG_FORCE=y) and no signing key was found" "$2" &&
	grep -q "kforge keygen" "$2" && grep -q "mokutil --import /var/lib/kforge/mok/MOK.der" "$2" &&
	[ ! -e "$3/usr/lib/modules/$4/updates/hello.ko" ]' _ "$rc" "$tmp/out" "$root" "$K"
newroot lockdown
mkdir -p "$root/sys/kernel/security"
echo "none [integrity] confidentiality" >"$root/sys/kernel/security/lockdown"
kf install "$tmp/hello" >"$tmp/out" 2>&1
rc=$?
check "kernel lockdown and no key: refused the same way (exit 3)" sh -c \
	'[ "$1" -eq 3 ] && grep -q "refuses unsigned modules (kernel lockdown)" "$2"' _ "$rc" "$tmp/out"
newroot never
mkdir -p "$root/var/lib/kforge"
cp -r "$tmp/keygen/var/lib/kforge/mok" "$root/var/lib/kforge/"
printf '[install]\nsign = never\n' >"$tmp/never.conf"
KFORGE_SYSTEM_CONFIG=$tmp/never.conf kf -q install "$tmp/hello" >"$tmp/out" 2>&1
check "install.sign = never: a key is there, the module is installed unsigned" sh -c \
	'[ -f "$1" ] && [ -z "$(modinfo -F signer "$1")" ]' _ "$root/usr/lib/modules/$K/updates/hello.ko"
newroot unsigned
kf install "$tmp/hello" >"$tmp/out" 2>&1
rc=$?
check "MODULE_SIG not enforced, no key: installed unsigned, and kforge says so" sh -c '
	[ "$1" -eq 0 ] && [ -z "$(modinfo -F signer "$2")" ] && ! tail -c 28 "$2" | grep -q "Module signature appended" &&
	grep -q "not signing: no key found" "$3"' _ "$rc" "$root/usr/lib/modules/$K/updates/hello.ko" "$tmp/out"
tap_done
