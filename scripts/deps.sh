#!/bin/sh
# deps.sh: installs everything kforge needs to build, test and run on Debian/Ubuntu (apt-get). Also
# installs a real Debian 6.1 kernel's headers (the newest linux-headers-6.1.0-N-amd64 in the
# archive, and its rt-amd64 and cloud-amd64 flavours: tests/e2e/dkms.sh builds for all three),
# Debian's kernel source (linux-source-6.1), qemu and busybox for the end-to-end tests, clang with
# its sanitizer runtimes and libFuzzer for the sanitizer and fuzz builds. Prints that kernel's
# release.
set -eu
[ "$(id -u)" -eq 0 ] && SUDO= || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive

pkgs="build-essential autoconf automake libtool libltdl-dev pkg-config libkmod-dev libgit2-dev libarchive-dev git
libinih-dev libcmocka-dev zlib1g-dev liblzma-dev libzstd-dev jq kmod bc flex bison libelf-dev libssl-dev xz-utils zstd cpio openssl python3
ovmf mtools dosfstools
qemu-system-x86 busybox-static linux-source-6.1 procps binutils
libcurl4-openssl-dev bubblewrap ccache distcc patch rpm
libxtables-dev
debhelper lintian mandoc python3-jsonschema zsh logrotate systemd"

missing() {
	for p in "$@"; do
		dpkg-query -W -f '${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
	done
}

# one apt-get update, and only when the package lists cannot answer
if [ -z "$(apt-cache policy libkmod-dev 2>/dev/null | grep 'Candidate: [0-9]')" ] ||
	[ -z "$(apt-cache search --names-only '^linux-headers-6\.1\.0-[0-9]+-amd64$' 2>/dev/null)" ]; then
	$SUDO apt-get update -qq >&2
fi
kver=$(apt-cache search --names-only '^linux-headers-6\.1\.0-[0-9]+-amd64$' | cut -d' ' -f1 |
	sed 's/^linux-headers-//' | sort -V | tail -n 1)
[ -n "$kver" ] || { echo "deps.sh: no linux-headers-6.1.0-N-amd64 in the package lists: add Debian 12's archive to /etc/apt/sources.list" >&2; exit 3; }
# the sanitizer build and the fuzzers (test.sh): gcc's ASan and UBSan come with build-essential;
# clang's runtimes and libFuzzer are in libclang-rt-N-dev on Debian 12 (N: the default clang's
# version; libclang-common-N-dev held them before), llvm brings llvm-symbolizer for the reports
clang_v=$(apt-cache depends clang 2>/dev/null | sed -n 's/^ *Depends: clang-\([0-9][0-9]*\)$/\1/p' | head -n 1)
clang_rt=libclang-rt-${clang_v:-14}-dev
apt-cache show "$clang_rt" >/dev/null 2>&1 || clang_rt=libclang-common-${clang_v:-14}-dev
pkgs="$pkgs clang llvm $clang_rt"
# tests/e2e/dkms.sh builds Debian's *-dkms packages: iptables-netflow-dkms's configure (its PRE_BUILD)
# needs libxtables-dev and pkg-config, as the package's Depends say
# shellcheck disable=SC2086
need=$(missing $pkgs "linux-headers-$kver" "linux-headers-${kver%-amd64}-rt-amd64" \
	"linux-headers-${kver%-amd64}-cloud-amd64")
if [ -n "$need" ]; then
	echo "deps.sh: installing" $need >&2
	# shellcheck disable=SC2086
	$SUDO apt-get install -y -qq --no-install-recommends $need >&2
fi
echo "$kver"
