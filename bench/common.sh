# bench/common.sh: what every benchmark starts with (sourced, after set -eu): top, KFORGE and its
# plugins (the build in _build/), ROUNDS (default $1), and KVER, the newest installed Debian 6.1
# standard-flavour headers' release, with BUILD its build dir (exits 3 when there is none).
top=$(cd "$(dirname "$0")/.." && pwd)
KFORGE=${KFORGE:-$top/_build/kforge}
export KFORGE_PLUGIN_PATH=${KFORGE_PLUGIN_PATH:-$top/_build/plugins/debian/.libs:$top/_build/plugins/vanilla/.libs}
ROUNDS=${ROUNDS:-$1}
KVER=
for d in /usr/src/linux-headers-6.1.0-*-amd64; do
	case $d in *-rt-amd64 | *-cloud-amd64) continue ;; esac
	[ -f "$d/.kernelvariables" ] && KVER=${d#/usr/src/linux-headers-}
done
[ -n "$KVER" ] || { echo "bench: needs linux-headers-6.1.0-N-amd64 (scripts/deps.sh installs it)" >&2; exit 3; }
BUILD=/usr/src/linux-headers-$KVER
