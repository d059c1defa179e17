#!/bin/sh
# external.sh: external module folders built the way their authors expect (TAP), for real against
# the host's Debian headers, in a copy of the Debian fixture root: make runs in kforge's copy of the
# folder (work/KVER/NAME-HASH) with PWD set to it, the user's folder is never written, the copy of
# one kernel is never touched by a build for another (build A, fail B, build A: A's module), and a
# folder that builds nothing gets an error naming the make command and what the folder holds.
set -u
NAME=external
. "${top_srcdir:-$(dirname "$0")/..}/tests/suite.sh"
need_headers
A=6.1.0-56-amd64
B=6.1.0-58-amd64
root=$tmp/root
cp -a "$R/debian" "$root"
synth "$root/usr/src/linux-headers-$A" "$A"
synth_kernel "$root" "$A" "$B"
kf() { k=$1; shift; "$KFORGE" --root "$root" -k "$k" "$@"; }
work=$root/var/cache/kforge/work
listing() { (cd "$1" && find . -printf '%p %y %s %T@\n' | sort); }
vermagic() { modinfo -F vermagic "$1" 2>/dev/null | cut -d' ' -f1; }
installed() { find "$root/lib/modules/$1" "$root/usr/lib/modules/$1" -name "$2" 2>/dev/null | head -n1; }

# (a) a Makefile that reads $(PWD): the header is found through -I$(PWD)/include
u=$tmp/pw
mkdir -p "$u/include"
printf 'ccflags-y := -I$(PWD)/include\nobj-m += pwmod.o\n' >"$u/Makefile"
echo '#define PW_MSG "pw: loaded"' >"$u/include/pw.h"
echo '#define PW_OLD 1' >"$u/include/old.h"
cat >"$u/pwmod.c" <<'EOF'
// SPDX-License-Identifier: GPL-2.0
#include <linux/module.h>
#include <pw.h>
static int __init pw_init(void) { pr_info(PW_MSG "\n"); return 0; }
static void __exit pw_exit(void) { }
module_init(pw_init);
module_exit(pw_exit);
MODULE_LICENSE("GPL");
EOF
# a build the user ran by hand left objects in the folder: they are not taken into the copy
echo stale >"$u/pwmod.o"
echo stale >"$u/.pwmod.o.cmd"
listing "$u" >"$tmp/before"
if kf "$A" -q install "$u" >"$tmp/out" 2>&1 && ko=$(installed "$A" pwmod.ko) && [ -n "$ko" ] &&
	[ "$(vermagic "$ko")" = "$A" ]; then
	ok "a Makefile with ccflags-y := -I\$(PWD)/include builds and installs"
else
	not_ok "a Makefile with ccflags-y := -I\$(PWD)/include builds and installs"
	sed 's/^/# /' "$tmp/out"
fi
# (b) the user's folder is as it was: no object, .cmd, .ko or stamp written there
listing "$u" >"$tmp/after"
if cmp -s "$tmp/before" "$tmp/after"; then ok "the user's folder is unchanged by the build (listing, sizes, mtimes)"; else
	not_ok "the user's folder is unchanged by the build (listing, sizes, mtimes)"
	diff "$tmp/before" "$tmp/after" | sed 's/^/# /'
fi
copy=$(ls -d "$work/$A"/pw-* 2>/dev/null | head -n1)
check "the build ran in kforge's copy work/$A/pw-HASH: objects there, the user's stale ones not copied" sh -c '
	[ -n "$1" ] && [ -f "$1/pwmod.ko" ] && [ -f "$1/include/pw.h" ] && ! grep -q stale "$1/pwmod.o" "$1/.pwmod.o.cmd"' _ "$copy"
record=$root/var/lib/kforge/records/$A/pwmod.conf
check "the record and status --json name the user's folder, not the copy" sh -c '
	grep -qx "spec = $2" "$1" && "$3" --root "$4" -k "$5" status --json 2>/dev/null | jq -e --arg u "$2" \
		"[.modules[] | select(.module == \"pwmod\")] | length == 1 and .[0].spec == \$u"' _ "$record" "$u" "$KFORGE" "$root" "$A"

# incremental: nothing changed, nothing rebuilt; a file gone from the source is gone from the copy
o1=$(stat -c %Y.%y "$copy/pwmod.o" 2>/dev/null)
h1=$(stat -c %y "$copy/include/pw.h" 2>/dev/null)
rm "$u/include/old.h"
sleep 1
check "a second build copies nothing unchanged (mtimes kept) and kbuild rebuilds nothing" sh -c '
	"$1" --root "$2" -k "$3" -q build "$4" >/dev/null 2>"$5/err" &&
	[ "$(stat -c %Y.%y "$6/pwmod.o")" = "$7" ] && [ "$(stat -c %y "$6/include/pw.h")" = "$8" ]' \
	_ "$KFORGE" "$root" "$A" "$u" "$tmp" "$copy" "$o1" "$h1"
check "a header removed from the source is removed from the copy" test ! -e "$copy/include/old.h"
sed -i 's/pw: loaded/pw: changed/' "$u/include/pw.h"
check "a changed header is copied and the module rebuilt" sh -c '
	"$1" --root "$2" -k "$3" -q build "$4" >/dev/null 2>&1 && grep -q "pw: changed" "$5/include/pw.h" &&
	[ "$(stat -c %Y.%y "$5/pwmod.o")" != "$6" ]' _ "$KFORGE" "$root" "$A" "$u" "$copy" "$o1"

# (c) build for A, a failed build for B (its headers break every compile), build for A again:
# A's copy is untouched by B's build, and the second install is A's module
h=$tmp/hello
cp -r "$srcdir/tests/src/hello" "$h"
echo '#error "headers broken for the test"' >>"$root/usr/lib/modules/$B/build/include/generated/autoconf.h" 2>/dev/null ||
	echo '#error "headers broken for the test"' >>"$root/lib/modules/$B/build/include/generated/autoconf.h"
kf "$A" -q install "$h" >"$tmp/a1" 2>&1
ca=$(ls -d "$work/$A"/hello-* 2>/dev/null | head -n1)
la=$( [ -n "$ca" ] && listing "$ca")
kf "$B" -q install "$h" >"$tmp/b" 2>&1
rb=$?
check "the build for $B fails (exit 4) in its own copy" sh -c '[ "$1" -eq 4 ] && ls -d "$2"/hello-* >/dev/null 2>&1' _ "$rb" "$work/$B"
check "the build for $B left $A's copy as it was" sh -c '[ -n "$1" ] && [ "$(cd "$1" && find . -printf "%p %y %s %T@\n" | sort)" = "$2" ]' _ "$ca" "$la"
if kf "$A" -q install "$h" >"$tmp/a2" 2>&1 && ko=$(installed "$A" hello.ko) && [ -n "$ko" ] &&
	[ "$(vermagic "$ko")" = "$A" ] && [ ! -e "$h/hello.o" ] && [ ! -e "$h/.kforge-built-for" ]; then
	ok "build A, failed build B, build A again: succeeds, the module's vermagic is A's"
else
	not_ok "build A, failed build B, build A again: succeeds, the module's vermagic is A's"
	sed 's/^/# /' "$tmp/a1" "$tmp/b" "$tmp/a2"
fi

# a module NAME whose init prints MSG (a C expression), with INCLUDE lines before
modsrc() { # name msg [include]
	printf '// SPDX-License-Identifier: GPL-2.0\n#include <linux/module.h>\n%s\n' "${3:-}"
	printf 'static int __init %s_init(void) { pr_info(%s "\\n"); return 0; }\n' "$1" "$2"
	printf 'static void __exit %s_exit(void) { }\nmodule_init(%s_init);\nmodule_exit(%s_exit);\nMODULE_LICENSE("GPL");\n' "$1" "$1" "$1"
}
# (d) wrapper Makefiles, driven through their own default target once kbuild built nothing there.
# Like ddcci-dkms: a top Makefile without obj-m whose target runs make in each sub-folder, whose
# Makefiles read KVER and KERNEL_DIR themselves; and like openvpn-dco-dkms: a target that first
# writes a header, then calls kbuild with KERNEL_SRC and M=$(PWD)
w=$tmp/ddc
mkdir -p "$w/one" "$w/two"
printf 'MODULES := one two\ntwo: one\nall: $(MODULES)\n$(MODULES):\n\t$(MAKE) -C "$@"\n.PHONY: all $(MODULES)\n' >"$w/Makefile"
for m in one two; do
	printf 'KVER ?= $(shell uname -r)\nKDIR := /nonexistent/$(KVER)\nifneq ($(KERNEL_DIR),)\nKDIR := $(KERNEL_DIR)\nendif\nobj-m := w%s.o\nall:\n\t$(MAKE) -C $(KDIR) M=$(CURDIR) modules\n' "$m" >"$w/$m/Makefile"
	modsrc "w$m" '"w: loaded"' >"$w/$m/w$m.c"
done
if kf "$A" -q install "$w" >"$tmp/out" 2>&1 && a=$(installed "$A" wone.ko) && b=$(installed "$A" wtwo.ko) &&
	[ -n "$a" ] && [ -n "$b" ] && [ "$(vermagic "$a")" = "$A" ] && [ "$(vermagic "$b")" = "$A" ]; then
	ok "a wrapper Makefile that runs make in sub-folders (KVER, KERNEL_DIR passed): both modules installed, A's vermagic"
else
	not_ok "a wrapper Makefile that runs make in sub-folders (KVER, KERNEL_DIR passed): both modules installed, A's vermagic"
	sed 's/^/# /' "$tmp/out"
fi
g=$tmp/gen
mkdir -p "$g/include"
cat >"$g/Makefile" <<'EOF'
KERNEL_SRC ?= /lib/modules/$(shell uname -r)/build
ifneq ($(KERNELRELEASE),)
obj-$(CONFIG_GENMOD) += genmod.o
ccflags-y := -I$(src)/include
else
all: config
	$(MAKE) -C $(KERNEL_SRC) M=$(PWD) CONFIG_GENMOD=m modules
config:
	./gen.sh $(PWD)/include/gen.h
endif
EOF
printf '#!/bin/sh\necho "#define GEN_MSG \\"gen: made by the wrapper as uid $(id -u)\\"" >"$1"\n' >"$g/gen.sh"
chmod +x "$g/gen.sh"
modsrc genmod GEN_MSG '#include <gen.h>' >"$g/genmod.c"
if kf "$A" -q install "$g" >"$tmp/out" 2>&1 && ko=$(installed "$A" genmod.ko) && [ -n "$ko" ] &&
	strings "$ko" | grep -q "gen: made by the wrapper as uid $(id -u kforge-build)\$" && [ ! -e "$g/include/gen.h" ]; then
	ok "a wrapper whose target writes a header first, then kbuild with KERNEL_SRC and M=\$(PWD): built in the copy, as the build user"
else
	not_ok "a wrapper whose target writes a header first, then kbuild with KERNEL_SRC and M=\$(PWD): built in the copy, as the build user"
	sed 's/^/# /' "$tmp/out"
fi

# (e) a wrapper whose target builds nothing: the error names both make commands and what the folder holds
w=$tmp/wrapper
mkdir -p "$w/src"
printf 'all:\n\t@echo nothing to build here\nnever:\n\t$(MAKE) -C $(KDIR) M=$(PWD)/src modules\n' >"$w/Makefile"
echo 'obj-m += wrapped.o' >"$w/src/Kbuild"
kf "$A" build "$w" >"$tmp/out" 2>"$tmp/err"
rc=$?
check "a folder that builds no module: exit 4, names both make commands, the copy, and what the folder holds" sh -c '
	[ "$1" -eq 4 ] && grep -qF "\`make -C $4/usr/src/linux-headers-$5 M=$6/$5/wrapper-" "$2" &&
	grep -qF "then its wrapper Makefile'"'"'s own target \`make -C $6/$5/wrapper-" "$2" &&
	grep -qF "KERNELRELEASE=$5 KVER=$5 KERNEL_DIR=" "$2" &&
	grep -qF "run in kforge'"'"'s copy of $3, built no module: it has a Makefile and no Kbuild file, no obj-m line" "$2" &&
	grep -qF "runs \$(MAKE) -C itself" "$2" && grep -qF "obj-m is set in src" "$2"' \
	_ "$rc" "$tmp/err" "$w" "$root" "$A" "$work" || sed 's/^/# /' "$tmp/err"
# (f) --extra-symbols DIR/Module.symvers of a folder kforge built: kforge never writes DIR, so the
# file is taken from the registry of what it built for that kernel; for a folder it never built,
# the error says why the file is missing and what to do
x=$tmp/exporter
i=$tmp/importer
exporter_pair "$x" "$i"
kf "$A" build --extra-symbols "$x/Module.symvers" "$i" >"$tmp/out" 2>"$tmp/err"
rc=$?
check "--extra-symbols DIR/Module.symvers of a folder kforge never built: exit 2, says build it with kforge first" sh -c '
	[ "$1" -eq 2 ] && grep -qF "build that folder for $3 with kforge first" "$2"' _ "$rc" "$tmp/err" "$A" ||
	sed 's/^/# /' "$tmp/err"
kf "$A" -q build "$x" >"$tmp/out" 2>&1 && [ ! -e "$x/Module.symvers" ]
xb=$?
kf "$A" build --extra-symbols "$x/Module.symvers" "$i" >"$tmp/out" 2>"$tmp/err"
rc=$?
check "after kforge built it, --extra-symbols DIR/Module.symvers takes the copy's symbols: kfimp builds, its CRC of kfexp_value is the exporter's" sh -c '
	[ "$1" -eq 0 ] && [ "$2" -eq 0 ] && grep -qF "the folder was built by kforge for $4" "$3" &&
	c=$(ls -d "$5"/importer-*/kfimp.ko | head -n1) && e=$(ls -d "$5"/exporter-*/Module.symvers | head -n1) &&
	crc=$(awk "\$2 == \"kfexp_value\" {print \$1}" "$e") && [ -n "$crc" ] &&
	/sbin/modprobe --dump-modversions "$c" | grep -qiE "^$crc[[:space:]]+kfexp_value$"' _ "$xb" "$rc" "$tmp/err" "$A" "$work/$A" ||
	sed 's/^/# /' "$tmp/out" "$tmp/err"

# (g) kforge cache list and prune know the build folders under work/: a folder whose build holds
# its lock is kept (every build lock held here by a holder that runs prune while holding them)
kf "$A" cache list >"$tmp/out" 2>&1
check "cache list shows each build folder as work: work/$A/pw-HASH among them" sh -c '
	grep -qE "^work .*  work/$2/pw-[0-9a-f]{8}\$" "$1"' _ "$tmp/out" "$A" || sed 's/^/# /' "$tmp/out"
python3 -c '
import fcntl, glob, subprocess, sys
held = [open(f, "a") for f in glob.glob(sys.argv[1] + "/locks/*.lock")]
for f in held:
    fcntl.flock(f, fcntl.LOCK_EX)
sys.exit(subprocess.run(sys.argv[2:], stdout=open(sys.argv[1] + "/../prune.out", "w"), stderr=subprocess.STDOUT).returncode)
' "$root/var/cache/kforge" "$KFORGE" --root "$root" -k "$A" cache prune --all
rc=$?
check "cache prune --all while their builds hold them: every build folder kept, said in use" sh -c '
	[ "$1" -eq 0 ] && [ -d "$(ls -d "$3"/pw-* | head -n1)" ] && grep -qE "work/$4/pw-[0-9a-f]{8} is in use" "$2"' \
	_ "$rc" "$root/var/cache/prune.out" "$work/$A" "$A" || sed 's/^/# /' "$root/var/cache/prune.out"
kf "$A" cache prune --all >"$tmp/out" 2>&1
rc=$?
check "cache prune --all: the build folders go (work/KVER/NAME-HASH), the next build starts afresh" sh -c '
	[ "$1" -eq 0 ] && ! ls -d "$3"/pw-* >/dev/null 2>&1 && grep -qE "^removed work/$4/pw-[0-9a-f]{8}" "$2" &&
	"$5" --root "$6" -k "$4" -q build "$7" >/dev/null 2>&1 && ls -d "$3"/pw-* >/dev/null 2>&1' \
	_ "$rc" "$tmp/out" "$work/$A" "$A" "$KFORGE" "$root" "$u" || sed 's/^/# /' "$tmp/out"

tap_done
