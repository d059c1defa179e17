#!/bin/sh
# quickstart.sh: sets everything up on a fresh Debian machine and runs kforge's main job on an
# installed Debian kernel: it rebuilds the in-tree btrfs module from Debian's own kernel source
# (linux-source-6.1, found by the debian plugin) and installs it, validated, into a scratch
# --install-mod-path (so the demo changes nothing else on the system), then prints the
# installed module's vermagic beside the kernel's release.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
kver=$("$top/scripts/deps.sh")
"$top/scripts/build.sh"
export KFORGE_PLUGIN_PATH="$top/_build/plugins/arch/.libs:$top/_build/plugins/debian/.libs:$top/_build/plugins/fedora/.libs:$top/_build/plugins/vanilla/.libs"
kforge="$top/_build/kforge"
demo=$top/_build/demo-root
echo "== kforge -k $kver info"
"$kforge" -k "$kver" info
echo
echo "== kforge -k $kver install btrfs --install-mod-path $demo"
rm -rf "$demo"
"$kforge" -k "$kver" install btrfs --install-mod-path "$demo"
ko=$demo/lib/modules/$kver/updates/btrfs.ko
echo
echo "installed:        $ko"
echo "module vermagic:  $(modinfo -F vermagic "$ko")"
echo "kernel release:   $kver (UTS_RELEASE $(sed -n 's/.*UTS_RELEASE "\(.*\)"/\1/p' "/usr/src/linux-headers-$kver/include/generated/utsrelease.h"))"
echo "symbol CRCs:      $(modprobe --dump-modversions "$ko" | wc -l), each checked against $kver's Module.symvers before install"
echo "modules.dep:      $(grep -c '^updates/btrfs.ko:' "$demo/lib/modules/$kver/modules.dep") entry for updates/btrfs.ko (the scratch tree holds no"
echo "                  other module, so its dependencies raid6_pq, xor, ... are listed on a real system only)"
echo
echo "== kforge -k $kver status --install-mod-path $demo   (undo it: kforge -k $kver uninstall btrfs --install-mod-path $demo)"
"$kforge" -k "$kver" status --install-mod-path "$demo"
