# synth.sh: kernels for the fixture roots that kforge can really build for (sourced).
# The host's installed Debian headers, copied and made to say another release (utsrelease.h,
# KERNELRELEASE): a module built against them carries that release in its vermagic and passes
# the gate, so a fixture root of any distribution gets a real build, install and depmod.
synth_host=
for d in /usr/src/linux-headers-6.1.0-*-amd64; do
	case $d in *-rt-amd64 | *-cloud-amd64) continue ;; esac
	[ -f "$d/.kernelvariables" ] && synth_host=$d
done
synth_kbuild=
[ -n "$synth_host" ] && synth_kbuild=$(readlink -f "$synth_host/scripts")

# synth DIR RELEASE: DIR becomes a build dir for RELEASE
synth() {
	rm -rf "$1"
	mkdir -p "$1"
	cp -a "$synth_host/." "$1/"
	rm -f "$1/scripts" "$1/tools"
	ln -s "$synth_kbuild" "$1/scripts"
	ln -s "$(dirname "$synth_kbuild")/tools" "$1/tools"
	sed -i "s/^override KERNELRELEASE = .*/override KERNELRELEASE = $2/" "$1/.kernelvariables"
	echo "#define UTS_RELEASE \"$2\"" >"$1/include/generated/utsrelease.h"
}

# synth_kernel ROOT OLD NEW: a second kernel NEW in ROOT, its modules folder cloned from OLD's
# (without what kforge installed there) and a build dir of its own
synth_kernel() {
	m=$1/usr/lib/modules
	rm -rf "$m/$3"
	cp -a "$m/$2" "$m/$3"
	rm -rf "$m/$3/updates" "$m/$3/build"
	synth "$m/$3/build" "$3"
}
