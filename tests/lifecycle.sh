#!/bin/sh
# lifecycle.sh: install -> status -> uninstall for real, against the installed Debian headers, into
# scratch --install-mod-path trees (TAP): records, backups restored byte for byte, the states status
# reports, compression with the libraries, the per-root lock, and the kill test: the install (and the
# uninstall) killed with SIGKILL at every checkpoint of its transaction never leaves a partial or
# missing module, and the next kforge run reports and repairs.
set -u
NAME=lifecycle
. "${top_srcdir:-$(dirname "$0")/..}/tests/suite.sh"

need_headers
kver=${synth_host#/usr/src/linux-headers-}
sha() { sha256sum "$1" 2>/dev/null | cut -d' ' -f1; }
kf() { "$KFORGE" -k "$kver" "$@"; }

# the modules the tests install: two from one folder (kforge_one, kforge_two)
cp -r "$srcdir/tests/src/pair" "$tmp/pair"
cp -r "$srcdir/tests/src/hello" "$tmp/hello"
kf -q build "$tmp/hello" >"$tmp/built" 2>"$tmp/build.out" || { echo "Bail out! kforge build hello failed"; cat "$tmp/build.out"; exit 1; }
# built in kforge's copy of the folder: build prints where the module is
hello_ko=$(head -n1 "$tmp/built")
# two different real modules stand in for what was there before kforge: a vendor's kforge_one in
# updates/ (the same path kforge installs to) and a DKMS kforge_two in updates/dkms/ (another path
# depmod ranks as high, so it must be moved aside)
cp "$hello_ko" "$tmp/orig1"
strip --strip-debug -o "$tmp/orig2" "$hello_ko"
O1=$(sha "$tmp/orig1")
O2=$(sha "$tmp/orig2")

fresh() { # dir: a tree holding the two originals, indexed by depmod
	rm -rf "$1"
	m=$1/lib/modules/$kver
	mkdir -p "$m/updates/dkms"
	cp "$tmp/orig1" "$m/updates/kforge_one.ko"
	cp "$tmp/orig2" "$m/updates/dkms/kforge_two.ko"
	depmod -b "$1" "$kver" 2>/dev/null
}
quiet_depmod() { depmod -b "$1" "$kver" 2>/dev/null; }

# --- install, status, uninstall
D=$tmp/life
M=$D/lib/modules/$kver
fresh "$D"
if kf -q install "$tmp/pair" --install-mod-path "$D" >"$tmp/out" 2>&1 && [ -f "$M/updates/kforge_one.ko" ] &&
	[ -f "$M/updates/kforge_two.ko" ] && [ ! -e "$M/updates/dkms/kforge_two.ko" ] &&
	grep -q "^updates/kforge_two.ko:" "$M/modules.dep"; then
	ok "install replaces updates/kforge_one.ko and moves the DKMS kforge_two aside"
else
	not_ok "install replaces updates/kforge_one.ko and moves the DKMS kforge_two aside"
	sed 's/^/# /' "$tmp/out"
fi
N1=$(sha "$M/updates/kforge_one.ko")
N2=$(sha "$M/updates/kforge_two.ko")
rec=$D/var/lib/kforge/records/$kver/kforge_one.conf
check "the record names module, kernel, spec, strategy, path, sha256 and the backup" sh -c '
	grep -qx "module = kforge_one" "$1" && grep -qx "kernel = $2" "$1" && grep -qx "spec = $3" "$1" &&
	grep -qx "strategy = headers" "$1" && grep -qx "path = /lib/modules/$2/updates/kforge_one.ko" "$1" &&
	grep -qx "sha256 = $4" "$1" && grep -qx "\[replaced\]" "$1" && grep -qx "sha256 = $5" "$1" &&
	b=$(sed -n "s/^backup = //p" "$1") && [ "$(sha256sum "$6$b" | cut -d" " -f1)" = "$5" ]' _ \
	"$rec" "$kver" "$tmp/pair" "$N1" "$O1" "$D"
out=$(kf status --json --install-mod-path "$D" 2>&1)
check "status --json: both ok, with what each replaced" sh -c '
	printf "%s" "$1" | jq -e --arg k "$2" "[.modules[] | select(.kernel == \$k and .state == \"ok\")] | length == 2" >/dev/null &&
	printf "%s" "$1" | jq -e ".modules[] | select(.module == \"kforge_two\") | .replaced[0].path | endswith(\"updates/dkms/kforge_two.ko\")" >/dev/null' _ "$out" "$kver"

# a second install over kforge's own keeps what the first replaced: uninstall still restores the originals
kf -q install "$tmp/pair" --install-mod-path "$D" >"$tmp/out" 2>&1
rc=$?
check "a second install keeps the first install's backups in its record" sh -c '
	[ "$3" -eq 0 ] && [ "$(grep -c "^\[replaced\]" "$1")" -eq 1 ] && grep -qx "sha256 = $2" "$1" || { cat "$4"; false; }' \
	_ "$rec" "$O1" "$rc" "$tmp/out"

# states: modified, missing, superseded
cp "$M/updates/kforge_one.ko" "$tmp/keep1"
printf 'x' >>"$M/updates/kforge_one.ko"
check "status: a file changed since the install is modified" sh -c \
	'"$1" -k "$2" status --install-mod-path "$3" | grep -E "^$2 +kforge_one +modified "' _ "$KFORGE" "$kver" "$D"
out=$(kf uninstall kforge_one --install-mod-path "$D" 2>&1)
rc=$?
check "uninstall leaves a modified file alone (exit 1, says --force)" sh -c \
	'[ "$1" -eq 1 ] && printf "%s" "$2" | grep -q "changed since kforge installed it.*--force" && [ -f "$3/var/lib/kforge/records/$4/kforge_one.conf" ]' \
	_ "$rc" "$out" "$D" "$kver"
cp "$tmp/keep1" "$M/updates/kforge_one.ko"
mv "$M/updates/kforge_two.ko" "$tmp/keep2"
check "status: a deleted file is missing" sh -c \
	'"$1" -k "$2" status --install-mod-path "$3" | grep -E "^$2 +kforge_two +missing "' _ "$KFORGE" "$kver" "$D"
mv "$tmp/keep2" "$M/updates/kforge_two.ko"
# a same-named module in a folder depmod ranks higher (depmod.d: search other updates built-in)
mkdir -p "$M/other" "$D/etc/depmod.d"
cp "$tmp/orig2" "$M/other/kforge_two.ko"
echo "search other updates built-in" >"$D/etc/depmod.d/other.conf"
depmod -b "$D" -C "$D/etc/depmod.d" "$kver" 2>/dev/null
check "status: intact, but depmod resolves the name to another file: superseded" sh -c \
	'grep -q "^other/kforge_two.ko:" "$4/modules.dep" && "$1" -k "$2" status --install-mod-path "$3" | grep -E "^$2 +kforge_two +superseded "' \
	_ "$KFORGE" "$kver" "$D" "$M"
rm -r "$M/other" "$D/etc/depmod.d"
quiet_depmod "$D"

if kf -q uninstall kforge_one --install-mod-path "$D" >"$tmp/out" 2>&1 && kf -q uninstall kforge_two --install-mod-path "$D" >>"$tmp/out" 2>&1 &&
	cmp -s "$tmp/orig1" "$M/updates/kforge_one.ko" && cmp -s "$tmp/orig2" "$M/updates/dkms/kforge_two.ko" &&
	[ ! -e "$M/updates/kforge_two.ko" ] && grep -q "^updates/dkms/kforge_two.ko:" "$M/modules.dep" &&
	[ -z "$(ls "$D/var/lib/kforge/backups/$kver" 2>/dev/null)" ] && [ ! -e "$rec" ]; then
	ok "uninstall puts both originals back byte for byte, depmod sees them, records and backups are gone"
else
	not_ok "uninstall puts both originals back byte for byte, depmod sees them, records and backups are gone"
	sed 's/^/# /' "$tmp/out"
	find "$D" -type f | sed 's/^/# /'
fi
out=$(kf uninstall kforge_one --install-mod-path "$D" 2>&1)
rc=$?
check "uninstall of what kforge did not install: exit 1, points at status" sh -c \
	'[ "$1" -eq 1 ] && printf "%s" "$2" | grep -q "kforge installed no module kforge_one.*kforge status"' _ "$rc" "$out"

# --- compression with zlib, liblzma and libzstd: each decompresses, with the system's tools, to the
# very bytes of the uncompressed install; xz carries the CRC32 check the kernel's decompressor needs;
# depmod indexes it when the system's kmod reads that format (Debian 12's kmod lacks zlib)
D=$tmp/plain
fresh "$D"
kf -q install "$tmp/hello" --install-mod-path "$D" >"$tmp/out" 2>&1
plain=$D/lib/modules/$kver/updates/hello.ko
for c in gzip:gz:"gzip -dc" xz:xz:"xz -dc" zstd:zst:"zstd -dcq"; do
	name=${c%%:*} rest=${c#*:}
	suffix=${rest%%:*} tool=${rest#*:}
	case $name in gzip) feature=ZLIB ;; xz) feature=XZ ;; *) feature=ZSTD ;; esac
	printf '[install]\ncompression = %s\n' "$name" >"$tmp/$name.conf"
	D=$tmp/c-$name
	fresh "$D"
	f=$D/lib/modules/$kver/updates/hello.ko.$suffix
	if KFORGE_SYSTEM_CONFIG=$tmp/$name.conf "$KFORGE" -k "$kver" -q install "$tmp/hello" --install-mod-path "$D" >"$tmp/out" 2>&1 &&
		[ -f "$f" ] && $tool "$f" | cmp -s - "$plain" &&
		{ ! kmod --version | grep -q "+$feature" || grep -q "^updates/hello.ko.$suffix:" "$D/lib/modules/$kver/modules.dep"; } &&
		{ [ "$name" != xz ] || xz --robot --list "$f" | grep -q "CRC32"; }; then
		ok "install.compression = $name: hello.ko.$suffix decompresses to the installed bytes"
	else
		not_ok "install.compression = $name: hello.ko.$suffix decompresses to the installed bytes"
		sed 's/^/# /' "$tmp/out"
	fi
done

# --- the gate reads the target's own modules even compressed (gzip: Debian's libkmod cannot):
# a reference module whose vermagic says another flag refuses the install, naming both strings
for c in gzip:gz:"gzip -9c" xz:xz:"xz -c --check=crc32" zstd:zst:"zstd -qc"; do
	name=${c%%:*} rest=${c#*:}
	suffix=${rest%%:*} tool=${rest#*:}
	D=$tmp/ref-$name
	rm -rf "$D"
	mkdir -p "$D/lib/modules/$kver/kernel/drivers"
	sed 's/mod_unload modversions/mod_unload modversionz/' "$tmp/orig1" | $tool >"$D/lib/modules/$kver/kernel/drivers/ref.ko.$suffix"
	echo "kernel/drivers/ref.ko.$suffix:" >"$D/lib/modules/$kver/modules.dep"
	kf install "$tmp/hello" --install-mod-path "$D" >"$tmp/out" 2>&1
	rc=$?
	check "gate: the target's own module as .ko.$suffix is read; its other vermagic refuses (exit 5)" sh -c '
		[ "$1" -eq 5 ] && grep -q "differs from the target.s own modules. \"$2 SMP preempt mod_unload modversionz" "$3" &&
		[ ! -e "$4/lib/modules/$2/updates/hello.ko" ]' _ "$rc" "$kver" "$tmp/out" "$D"
done

# --- one lock per root: the second run waits and says so, or fails at once with --no-wait.
# The test itself holds the lock (fd 9 on the state's lock file, as another program would) and
# lets go of it only when kforge is blocked waiting for it: no timing decides these results.
D=$tmp/lock
fresh "$D"
mkdir -p "$D/var/lib/kforge"
lock=$D/var/lib/kforge/lock
exec 9>"$lock"
flock -n 9 || { echo "Bail out! cannot lock $lock"; exit 1; }
# the lock is held throughout: kforge can only fail at once (the timeout ends a wait that never would)
out=$(timeout 600 "$KFORGE" -k "$kver" install "$tmp/hello" --install-mod-path "$D" --no-wait 2>&1 9>&-)
rc=$?
check "--no-wait: another holder of the lock fails the install at once (exit 1), nothing written" sh -c \
	'[ "$1" -eq 1 ] && printf "%s" "$2" | grep -q "holds .*/var/lib/kforge/lock.*without --no-wait" && [ ! -e "$3/lib/modules/$4/updates/hello.ko" ]' \
	_ "$rc" "$out" "$D" "$kver"
"$KFORGE" -k "$kver" install "$tmp/hello" --install-mod-path "$D" >"$tmp/wait.out" 2>&1 9>&- &
pid=$!
# the handshake: kforge said it waits and is blocked in flock(2) on the lock (the build comes first)
waiting() { grep -q "waiting for another program that holds .*/var/lib/kforge/lock" "$tmp/wait.out" && flock_waiter "$lock"; }
wait_until 900 eval 'waiting || ! running $pid'
blocked=no
waiting && running $pid && [ ! -e "$D/lib/modules/$kver/updates/hello.ko" ] && blocked=yes
flock -u 9
exec 9>&-
wait $pid
rc=$?
check "without --no-wait the install says it waits for the lock, blocks (nothing written), then installs" sh -c \
	'[ "$1" = yes ] && [ "$2" -eq 0 ] && grep -q "waiting for another program that holds .*/var/lib/kforge/lock" "$3" &&
	[ -f "$4/lib/modules/$5/updates/hello.ko" ] || { echo "blocked on the lock while held: $1; exit $2"; cat "$3"; false; }' \
	_ "$blocked" "$rc" "$tmp/wait.out" "$D" "$kver"

# --- a killed kforge takes every command it started with it, grandchildren too (make's $(shell),
# compilers, modpost): none goes on writing into a module folder
mkdir -p "$tmp/slow"
# a sleep of this run's own (no other test run has it), long enough never to end by itself
nap=3600.$$
napping() { pgrep -f "^sleep $nap\$" >/dev/null; }
printf 'obj-m := slow.o\n$(shell sleep %s)\n' "$nap" >"$tmp/slow/Kbuild"
: >"$tmp/slow/slow.c"
"$KFORGE" -k "$kver" build "$tmp/slow" >/dev/null 2>&1 &
pid=$!
wait_until 900 eval 'napping || ! running $pid'
before=$(pgrep -f "^sleep $nap\$" | wc -l)
kill -9 $pid
wait $pid 2>/dev/null
wait_until 300 eval '! napping'
after=$(pgrep -f "^sleep $nap\$" | wc -l)
check "kforge killed during a build: the command's grandchild (make's \$(shell sleep)) dies with it" \
	sh -c '[ "$1" -ge 1 ] && [ "$2" -eq 0 ] || { echo "sleep $3 running before the kill: $1, after: $2"; false; }' _ "$before" "$after" "$nap"
for p in $(pgrep -f "^sleep $nap\$"); do kill "$p"; done

# --- the kill test
D=$tmp/kill
M=$D/lib/modules/$kver
fresh "$D"
KFORGE_TEST_CHECKPOINTS=1 kf -q install "$tmp/pair" --install-mod-path "$D" >"$tmp/ref.out" 2>&1
grep "checkpoint" "$tmp/ref.out" | sed 's/^kforge: checkpoint [0-9]*: //' >"$tmp/points"
NI=$(wc -l <"$tmp/points")
N1=$(sha "$M/updates/kforge_one.ko")
N2=$(sha "$M/updates/kforge_two.ko")
KFORGE_TEST_CHECKPOINTS=1 kf -q uninstall kforge_one --install-mod-path "$D" >"$tmp/ref-un.out" 2>&1
grep "checkpoint" "$tmp/ref-un.out" | sed 's/^kforge: checkpoint [0-9]*: //' >"$tmp/points-un"
NU=$(wc -l <"$tmp/points-un")
kf -q uninstall kforge_two --install-mod-path "$D" >/dev/null 2>&1
if [ "$NI" -ge 20 ] && cmp -s "$tmp/orig1" "$M/updates/kforge_one.ko"; then
	ok "the install has $NI kill points, the uninstall $NU"
else
	not_ok "the install has $NI kill points (at least 20 wanted), the uninstall $NU"
	sed 's/^/# /' "$tmp/ref.out"
fi

# old or new, whole: every module file present is one of the four known contents, and each module is there
whole() {
	s1=$(sha "$M/updates/kforge_one.ko")
	s2u=$(sha "$M/updates/kforge_two.ko")
	s2d=$(sha "$M/updates/dkms/kforge_two.ko")
	{ [ "$s1" = "$O1" ] || [ "$s1" = "$N1" ]; } || { echo "kforge_one: $s1"; return 1; }
	{ [ -z "$s2u" ] || [ "$s2u" = "$N2" ]; } || { echo "updates/kforge_two: $s2u"; return 1; }
	{ [ -z "$s2d" ] || [ "$s2d" = "$O2" ]; } || { echo "dkms/kforge_two: $s2d"; return 1; }
	[ -n "$s2u$s2d" ] || { echo "kforge_two is missing"; return 1; }
	for f in $(find "$M" -name '*.ko*' ! -name '.*'); do
		case $(sha "$f") in "$O1" | "$O2" | "$N1" | "$N2") ;; *) echo "unknown file $f"; return 1 ;; esac
	done
}
# after the repair: kforge_one all old (no record) or all new (its record ok); kforge_two goes with it in
# an install, and stays installed through an uninstall of kforge_one; modules.dep names only files there
consistent() { # op
	R=$D/var/lib/kforge/records/$kver
	st=$(kf status --install-mod-path "$D" --json)
	ok_of() { printf "%s" "$st" | jq -r --arg m "$1" '[.modules[] | select(.module == $m)][0].state // "none"'; }
	case $(sha "$M/updates/kforge_one.ko") in
	"$N1") state=new; [ "$(ok_of kforge_one)" = ok ] || { echo "kforge_one new, its record $(ok_of kforge_one)"; return 1; } ;;
	"$O1") state=old; [ ! -e "$R/kforge_one.conf" ] || { echo "kforge_one old with a record"; return 1; } ;;
	*) echo "kforge_one is neither"; return 1 ;;
	esac
	two=$state
	[ "$1" = uninstall ] && two=new
	if [ $two = new ]; then
		[ "$(sha "$M/updates/kforge_two.ko")" = "$N2" ] && [ ! -e "$M/updates/dkms/kforge_two.ko" ] &&
			[ "$(ok_of kforge_two)" = ok ] || {
			echo "kforge_two is not wholly new: updates/ $(sha "$M/updates/kforge_two.ko"), dkms/ $(sha "$M/updates/dkms/kforge_two.ko"), record $(ok_of kforge_two)"
			return 1
		}
	else
		[ "$(sha "$M/updates/dkms/kforge_two.ko")" = "$O2" ] && [ ! -e "$M/updates/kforge_two.ko" ] &&
			[ ! -e "$R/kforge_two.conf" ] || { echo "kforge_two is not wholly old"; return 1; }
	fi
	for f in $(cut -d: -f1 "$M/modules.dep"); do [ -e "$M/$f" ] || { echo "modules.dep names $f"; return 1; }; done
	[ -z "$(find "$M" -name '.*kforge-*')" ] || { echo "temporary files left:" $(find "$M" -name '.*kforge-*'); return 1; }
}
kill_case() { # op n what
	op=$1 n=$2 what=$3
	if [ "$op" = install ]; then
		KFORGE_TEST_KILL_AT=$n kf -q install "$tmp/pair" --install-mod-path "$D" >"$tmp/k.out" 2>&1
	else
		KFORGE_TEST_KILL_AT=$n kf -q uninstall kforge_one --install-mod-path "$D" >"$tmp/k.out" 2>&1
	fi
	rc=$?
	why=$(whole)
	w=$?
	journal=no
	[ -e "$D/var/lib/kforge/transaction" ] && journal=yes
	kf status --install-mod-path "$D" >"$tmp/s.out" 2>&1
	said=yes
	[ $journal = no ] || grep -q "was interrupted .*: \(finished it\|rolled it back\)" "$tmp/s.out" || said=no
	consistent "$op" >"$tmp/why2"
	c=$?
	why2=$(cat "$tmp/why2")
	if [ $rc -eq 137 ] && [ $w -eq 0 ] && [ $said = yes ] && [ $c -eq 0 ] && [ ! -e "$D/var/lib/kforge/transaction" ]; then
		ok "$op killed at $n ($what): old or new, never partial; status repaired it to $state"
	else
		not_ok "$op killed at $n ($what): old or new, never partial; status repaired it"
		echo "# exit $rc; whole: $why; journal $journal, said so: $said; after: $why2"
		sed 's/^/# status: /' "$tmp/s.out"
	fi
}
# after WHAT: uninstalling both puts the originals back, so the next case starts from them (a
# case that started from anything else would prove nothing: a failure here is one of the test's)
reset_old() { # what
	kf -q uninstall kforge_one --install-mod-path "$D" >/dev/null 2>&1
	kf -q uninstall kforge_two --install-mod-path "$D" >/dev/null 2>&1
	cmp -s "$tmp/orig1" "$M/updates/kforge_one.ko" && cmp -s "$tmp/orig2" "$M/updates/dkms/kforge_two.ko" &&
		[ ! -e "$M/updates/kforge_two.ko" ] ||
		not_ok "after $1, uninstalling kforge_one and kforge_two puts both originals back"
}
n=0
while IFS= read -r what; do
	n=$((n + 1))
	kill_case install $n "$what"
	reset_old "the install killed at $n"
done <"$tmp/points"
n=0
while IFS= read -r what; do
	n=$((n + 1))
	kf -q install "$tmp/pair" --install-mod-path "$D" >/dev/null 2>&1
	kill_case uninstall $n "$what"
	reset_old "the uninstall killed at $n"
done <"$tmp/points-un"

# and killed from outside (kill -9) at times spread over a whole install, the build included
kf -q install "$tmp/pair" --install-mod-path "$D" >/dev/null 2>&1
reset_old "an install"
start=$(date +%s%N)
kf -q install "$tmp/pair" --install-mod-path "$D" >/dev/null 2>&1
span=$((($(date +%s%N) - start) / 1000000))
reset_old "the install that measured the span"
for i in 1 2 3 4 5 6 7 8; do
	# when the kill comes decides nothing: any moment must leave the module old or new
	ms=$((span * i / 9))
	"$KFORGE" -k "$kver" -q install "$tmp/pair" --install-mod-path "$D" >/dev/null 2>&1 &
	pid=$!
	sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	# 137: SIGKILL ended it; else it had finished before the kill
	[ $? -eq 137 ] && killed="killed from outside" || killed="not killed (it had finished)"
	# the commands kforge ran die with it (its watchdogs, PR_SET_PDEATHSIG): wait until none is left
	# (the grandchild test above decides whether they die with it; one still there after the
	# generous bound fails this case too)
	left=none
	wait_until 300 eval '! pgrep -f -- "$D|$tmp/pair" >/dev/null' || left=$(pgrep -af -- "$D|$tmp/pair")
	why=$(whole)
	w=$?
	kf status --install-mod-path "$D" >"$tmp/s.out" 2>&1
	consistent install >"$tmp/why2"
	c=$?
	if [ $w -eq 0 ] && [ $c -eq 0 ] && [ "$left" = none ]; then
		ok "install $killed after ${ms} ms of ${span}: old or new, never partial; repaired to $state"
	else
		not_ok "install $killed after ${ms} ms of ${span}: old or new, never partial"
		echo "# whole: $why; after: $(cat "$tmp/why2"); still running: $left"
	fi
	reset_old "the install killed after ${ms} ms"
done
tap_done
