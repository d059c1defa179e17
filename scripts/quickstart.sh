#!/bin/sh
# quickstart.sh: sets everything up on a fresh Debian machine and runs kforge's main job on an
# installed Debian kernel: it rebuilds the in-tree btrfs module from Debian's own kernel source
# (linux-source-6.1) for that kernel and shows the module's vermagic beside the kernel's.
# This version builds; installing (behind the validation gate) follows with the next issue.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
kver=$("$top/scripts/deps.sh")
[ "$(id -u)" -eq 0 ] && SUDO= || SUDO=sudo
# the kernel's own source, as Debian ships it (the same package version as the headers)
if ! dpkg-query -W -f '${Status}' linux-source-6.1 2>/dev/null | grep -q "install ok installed"; then
	echo "quickstart: installing linux-source-6.1 (Debian's kernel source, ~140 MB)" >&2
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends linux-source-6.1 >&2
fi
"$top/scripts/build.sh"
export KFORGE_PLUGIN_PATH="$top/_build/plugins/arch/.libs:$top/_build/plugins/debian/.libs:$top/_build/plugins/fedora/.libs:$top/_build/plugins/vanilla/.libs"
kforge="$top/_build/kforge"
echo "== kforge -k $kver info"
"$kforge" -k "$kver" info
echo
echo "== kforge -k $kver plan fs/btrfs --source /usr/src/linux-source-6.1.tar.xz"
"$kforge" -k "$kver" plan fs/btrfs --source /usr/src/linux-source-6.1.tar.xz
echo
echo "== kforge -k $kver build fs/btrfs --source /usr/src/linux-source-6.1.tar.xz"
"$kforge" -k "$kver" build fs/btrfs --source /usr/src/linux-source-6.1.tar.xz
ko=$("$kforge" -k "$kver" plan fs/btrfs --source /usr/src/linux-source-6.1.tar.xz --json |
	jq -r '[.steps[4].actions[].command | select(. != null) | capture("M=(?<m>[^ ]+)").m][0]')/btrfs.ko
echo
echo "module:           $ko"
echo "module vermagic:  $(modinfo -F vermagic "$ko")"
echo "kernel release:   $kver (UTS_RELEASE $(sed -n 's/.*UTS_RELEASE "\(.*\)"/\1/p' "/usr/src/linux-headers-$kver/include/generated/utsrelease.h"))"
echo "symbol CRCs:      $(modprobe --dump-modversions "$ko" | wc -l) imported, checked by the kernel at load (CONFIG_MODVERSIONS)"
