#!/bin/sh
# git-source.sh: the SDK's source functions (kforge/fetch.h) through libkforge.so (tests/source-tool)
# and `--source git+URL#...` through kforge: the one git store (fetch by tag, annotated tag, commit,
# branch, HEAD; a tag in the store needs no network; two URLs share one store; the store's lock),
# reading and exporting trees (modes, symlinks, hostile tree entries refused), tarballs unpacked
# in-process (gzip, xz, zstd; a subdir only; hostile tarballs refused, nothing written outside),
# decompression by magic. Fixture repositories are made here with the git CLI (TAP).
set -u
NAME=git-source
. "${top_srcdir:-$(dirname "$0")/..}/tests/suite.sh"

TOOL=$builddir/tests/source-tool
if ! command -v git >/dev/null || ! command -v python3 >/dev/null; then
	echo "1..0 # SKIP git and python3 are needed to make the fixtures (scripts/deps.sh installs them)"
	exit 0
fi
[ -x "$TOOL" ] || { echo "Bail out! $TOOL is not built (make check builds it)"; exit 1; }

# git for the fixtures only: no user or system configuration, a fixed identity
export HOME=$tmp GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=kforge GIT_AUTHOR_EMAIL=kforge@example.org \
	GIT_COMMITTER_NAME=kforge GIT_COMMITTER_EMAIL=kforge@example.org
g() { git -C "$@"; }

# a target system with its own cache (build.cache_dir is resolved under the root)
KVER=6.6.1-custom
root=$tmp/root
cp -a "$R/unknown" "$root"
# made now: a user who cannot write a cache folder gets ~/.cache/kforge instead
mkdir -p "$root/cache"
store=$root/cache/git/store.git
printf '[build]\ncache_dir = /cache\n' >"$tmp/kforge.conf"
export KFORGE_SYSTEM_CONFIG=$tmp/kforge.conf
src() { "$TOOL" "$root" "$KVER" /cache "$@"; }
kf() { "$KFORGE" --root "$root" -k "$KVER" "$@"; }

# --- the fixture: a tiny kernel tree with tags v6.7-rc5 (light) and v6.7 (annotated), two commits after
# v6.7 on master (mid, tip) and a branch stable
L=$tmp/linux
mkdir -p "$L"
cp -r "$srcdir/tests/src/linux-mini/." "$L/"
printf 'VERSION = 6\nPATCHLEVEL = 7\nSUBLEVEL = 0\nEXTRAVERSION = -rc5\nNAME = Hurr durr\n' >"$L/Makefile"
mkdir -p "$L/fs/foo"
printf 'obj-$(CONFIG_FOO) += foo.o\n' >"$L/fs/foo/Makefile"
printf 'int foo;\n' >"$L/fs/foo/foo.c"
printf '#!/bin/sh\necho built\n' >"$L/fs/foo/gen.sh"
chmod +x "$L/fs/foo/gen.sh"
ln -s foo.c "$L/fs/foo/alias.c"
ln -s ../../drivers/net/dummy.c "$L/fs/foo/dummy-link.c"
printf 'config FOO\n' >"$L/fs/Kconfig"
{
	g "$L" init -q -b master && g "$L" add -A && g "$L" commit -qm "Linux 6.7-rc5" && g "$L" tag v6.7-rc5 &&
		sed -i 's/^EXTRAVERSION = -rc5$/EXTRAVERSION =/' "$L/Makefile" && g "$L" commit -qam "Linux 6.7" &&
		g "$L" tag -a -m "Linux 6.7" v6.7 &&
		echo "/* mid */" >>"$L/fs/foo/foo.c" && g "$L" commit -qam mid &&
		echo "/* tip */" >>"$L/fs/foo/foo.c" && g "$L" commit -qam tip &&
		g "$L" branch stable v6.7 && g "$L" checkout -q stable && echo "/* stable */" >>"$L/fs/foo/foo.c" &&
		g "$L" commit -qam stable && g "$L" checkout -q master
} >"$tmp/fixture.out" 2>&1 || { echo "Bail out! cannot make the fixture repository"; cat "$tmp/fixture.out"; exit 1; }
rev() { g "$L" rev-parse "$1^{commit}"; }
RC5=$(rev v6.7-rc5) V67=$(rev v6.7) MID=$(rev master~1) TIP=$(rev master) STABLE=$(rev stable)
URL=file://$L

# --- fetch
out=$(src fetch "$URL" commit="$(printf %.12s "$MID")" 2>&1)
check "fetch commit=12 hex digits of a commit no ref points at: found among the remote's branches, the store created" sh -c '
	[ "$(printf "%s\n" "$1" | tail -n 1)" = "$2" ] && [ -f "$3/HEAD" ] && [ -d "$3/objects" ] && [ ! -d "$3/.git" ]' _ "$out" "$MID" "$store"
got=$(src fetch "$URL" tag=v6.7-rc5 2>/dev/null)
check "fetch tag=v6.7-rc5 (a lightweight tag): its commit" test "$got" = "$RC5"
out=$(src fetch "$URL" tag=v6.7 2>&1)
check "fetch tag=v6.7 (an annotated tag): peeled to its commit, not the tag object" sh -c '
	[ "$(printf "%s\n" "$1" | tail -n 1)" = "$2" ] && [ "$2" != "$(git -C "$3" rev-parse v6.7)" ]' _ "$out" "$V67" "$L"
got=$(src fetch "$URL" branch=stable 2>/dev/null)
check "fetch branch=stable: the branch's tip" test "$got" = "$STABLE"
got=$(src fetch "$URL" - 2>/dev/null)
check "fetch without a ref: the remote's HEAD (master)" test "$got" = "$TIP"
check "the remote's refs are kept apart: refs/kforge/<hash of the URL>/tags/v6.7, .../heads/stable, no refs/tags" sh -c '
	refs=$(git -C "$1" for-each-ref --format="%(refname)")
	printf "%s\n" "$refs" | grep -qE "^refs/kforge/[0-9a-f]{16}/tags/v6.7$" &&
	printf "%s\n" "$refs" | grep -qE "^refs/kforge/[0-9a-f]{16}/heads/stable$" &&
	! printf "%s\n" "$refs" | grep -q "^refs/tags/" &&
	[ "$(git -C "$1" config --get-regexp "^remote\..*\.url$" | cut -d" " -f2)" = "$2" ]' _ "$store" "$URL"
out=$(src fetch "$URL" commit=0123456789abcdef 2>&1)
rc=$?
check "fetch commit= of a commit the remote does not have: fails naming the URL and the commit" sh -c '
	[ "$1" -eq 1 ] && printf "%s" "$2" | grep -q "$3 has no commit 0123456789abcdef on its branches and tags"' _ "$rc" "$out" "$URL"
out=$(src fetch "$URL" tag=v9.9 2>&1)
rc=$?
check "fetch a tag the remote does not have: fails naming the URL, the tag and how to list them" sh -c '
	[ "$1" -eq 1 ] && printf "%s" "$2" | grep -q "$3 has no tag v9.9: check the name (git ls-remote"' _ "$rc" "$out" "$URL"
out=$(src fetch "$URL" "tag=bad:name" 2>&1)
rc=$?
check "a ref that is no git name: refused before any fetch" sh -c '[ "$1" -ne 0 ] && printf "%s" "$2" | grep -q "not a valid git tag name"' _ "$rc" "$out"

# a tag (or commit) in the store needs no network: the remote gone, it still answers
mv "$L" "$L.away"
out=$(src fetch "$URL" tag=v6.7 2>&1)
rc=$?
check "fetch tag=v6.7 again with the remote gone: the store answers, nothing fetched" sh -c '
	[ "$1" -eq 0 ] && [ "$(printf "%s\n" "$2" | tail -n 1)" = "$3" ] && printf "%s" "$2" | grep -q "is in the git store already"' _ "$rc" "$out" "$V67"
got=$(src fetch "$URL" commit="$MID" 2>/dev/null)
check "fetch commit= again with the remote gone: the store answers" test "$got" = "$MID"
out=$(src fetch "$URL" branch=stable 2>&1)
rc=$?
check "a branch moves: fetched each time; with the remote gone a clear error (URL, ref, the fix)" sh -c '
	[ "$1" -eq 1 ] && printf "%s" "$2" | grep -q "cannot fetch $3 (branch stable): .*: check the URL .*set \[sources\] rewrite / --source-rewrite to a mirror"' \
	_ "$rc" "$out" "$URL"
mv "$L.away" "$L"

# a second repository (another URL, a newer version) shares the one store
N=$tmp/linux-next
git clone -q --bare "$L" "$N" && g "$N" tag -d v6.7-rc5 >/dev/null &&
	tree=$(g "$N" rev-parse master^{tree}) && NEXT=$(g "$N" commit-tree -p master -m "Linux 6.8-rc1" "$tree") &&
	g "$N" tag v6.8-rc1 "$NEXT"
got=$(src fetch "file://$N" tag=v6.8-rc1 2>/dev/null)
check "a second URL's tag: fetched into the same store, both versions in it, refs under two remotes" sh -c '
	[ "$5" = "$2" ] &&
	[ "$(ls "$3/..")" = store.git ] &&
	git -C "$3" cat-file -e "$2^{commit}" && git -C "$3" cat-file -e "$4^{commit}" &&
	[ "$(git -C "$3" for-each-ref --format="%(refname)" refs/kforge | cut -d/ -f3 | sort -u | wc -l)" -eq 2 ] &&
	[ "$(find "$3/.." -maxdepth 1 -name "*.partial-*" | wc -l)" -eq 0 ]' _ "$N" "$NEXT" "$store" "$V67" "$got"

# two fetches at once: the second waits for the store's lock (held here by a stand-in)
mkdir -p "$root/cache/locks"
python3 -c '
import fcntl, os, sys, time
f = open(sys.argv[1], "a")
fcntl.flock(f, fcntl.LOCK_EX)
open(sys.argv[2], "w").close()
while not os.path.exists(sys.argv[3]):
    time.sleep(0.05)' "$root/cache/locks/git-store.lock" "$tmp/locked" "$tmp/release" &
holder=$!
wait_until 60 test -e "$tmp/locked"
src fetch "$URL" branch=master >"$tmp/waiter.out" 2>&1 &
waiter=$!
wait_until 60 eval 'grep -q "waiting for another kforge that is fetching" "$tmp/waiter.out" || ! running $waiter'
waited=no
grep -q "waiting for another kforge that is fetching $URL into the git store" "$tmp/waiter.out" && waited=yes
ended_early=no
running $waiter || ended_early=yes
touch "$tmp/release"
wait $holder
wait $waiter
rc=$?
check "a fetch waits while another holds the store's lock, then completes" sh -c '
	[ "$1" = yes ] && [ "$2" = no ] && [ "$3" -eq 0 ] && [ "$(tail -n 1 "$4")" = "$5" ]' _ "$waited" "$ended_early" "$rc" "$tmp/waiter.out" "$TIP"

# --- read
src read "$V67" Makefile >"$tmp/read.out" 2>/dev/null
check "read Makefile of v6.7's commit: the file's bytes" sh -c '
	[ $1 -eq 0 ] && git -C "$3" show v6.7:Makefile | cmp -s - "$2/read.out"' _ $? "$tmp" "$L"
src read "$V67" no/such/file >/dev/null 2>&1
check "read a file the commit does not have: -ENOENT, the job not failed" test $? -eq 3
out=$(src read 0123456789abcdef0123456789abcdef01234567 Makefile 2>&1)
rc=$?
check "read from a commit the store lacks: fails saying to fetch it" sh -c '[ "$1" -eq 1 ] && printf "%s" "$2" | grep -q "is not in the git store: fetch it first"' _ "$rc" "$out"

# --- export
mkdir -p "$tmp/ref"
g "$L" archive v6.7 | tar -x -C "$tmp/ref"
src export "$V67" - "$tmp/whole" >"$tmp/export.out" 2>&1
rc=$?
check "export v6.7's whole tree: the same files as git archive, no .git, nothing left half-done" sh -c '
	[ "$1" -eq 0 ] && diff -r --no-dereference "$2/ref" "$2/whole" && [ ! -e "$2/whole/.git" ] && [ -z "$(ls -d "$2"/whole.partial-* 2>/dev/null)" ]' _ "$rc" "$tmp"
check "export keeps modes (gen.sh 0755, foo.c 0644) and symlinks as symlinks" sh -c '
	[ "$(stat -c %a "$1/whole/fs/foo/gen.sh")" = 755 ] && [ "$(stat -c %a "$1/whole/fs/foo/foo.c")" = 644 ] &&
	[ "$(readlink "$1/whole/fs/foo/alias.c")" = foo.c ] && [ "$(readlink "$1/whole/fs/foo/dummy-link.c")" = ../../drivers/net/dummy.c ]' _ "$tmp"
src export "$V67" fs/foo "$tmp/sub" >/dev/null 2>&1
rc=$?
check "export only fs/foo: at its path, nothing else of the tree" sh -c '
	[ "$1" -eq 0 ] && diff -r --no-dereference "$2/ref/fs/foo" "$2/sub/fs/foo" &&
	[ "$(cd "$2/sub" && find . | sort | tr "\n" " ")" = ". ./fs ./fs/foo ./fs/foo/Makefile ./fs/foo/alias.c ./fs/foo/dummy-link.c ./fs/foo/foo.c ./fs/foo/gen.sh " ]' _ "$rc" "$tmp"
src export "$V67" fs/nope "$tmp/nope" >"$tmp/nope.out" 2>&1
rc=$?
check "export a folder the commit does not have: fails, names it, writes nothing" sh -c '
	[ "$1" -eq 1 ] && grep -q "has no folder fs/nope" "$2/nope.out" && [ -z "$(ls -d "$2"/nope* 2>/dev/null | grep -v nope.out)" ]' _ "$rc" "$tmp"
src export "$V67" - "$tmp/whole" >"$tmp/again.out" 2>&1
check "export into a DEST that exists: refused, DEST untouched" sh -c '[ $1 -eq 1 ] && grep -q "exists" "$2/again.out" && diff -r --no-dereference "$2/ref" "$2/whole"' _ $? "$tmp"

# hostile trees: git's plumbing writes what git itself would never check out (hash-object --literally)
H=$tmp/hostile.git
git init -q --bare "$H"
blob=$(echo evil | git -C "$H" hash-object -w --stdin)
hostile_commit() { # MODE NAME BLOB: a commit whose tree holds one entry
	python3 -c 'import sys, binascii; sys.stdout.buffer.write(sys.argv[1].encode() + b" " + sys.argv[2].encode() + b"\0" + binascii.unhexlify(sys.argv[3]))' "$1" "$2" "$3" |
		git -C "$H" hash-object -t tree -w --literally --stdin 2>/dev/null | xargs -r git -C "$H" commit-tree -m hostile 2>/dev/null
}
escape=$(printf '../../../../evil-dir' | git -C "$H" hash-object -w --stdin)
mkdir -p "$tmp/evil-dir"
n=0
for spec in "100644 .. $blob" "100644 .git $blob" "100644 a/b $blob" "100644 .GIT $blob" "120000 esc $escape"; do
	set -- $spec
	n=$((n + 1))
	c=$(hostile_commit "$1" "$2" "$3")
	if [ -z "$c" ]; then
		skip "export refuses a tree entry \"$2\"" "git cannot write such a tree here"
		continue
	fi
	g "$H" update-ref "refs/tags/h$n" "$c"
	fetched=$(src fetch "file://$H" "tag=h$n" 2>/dev/null)
	src export "$fetched" - "$tmp/hx$n" >"$tmp/hx$n.out" 2>&1
	check "export refuses a tree entry \"$2\" (mode $1): exit 1, nothing written, the reason said" sh -c '
		[ $1 -eq 1 ] && [ "$2" = "$3" ] && grep -q "refused" "$4/hx$5.out" && [ -z "$(ls -d "$4/hx$5" "$4/hx$5".partial-* 2>/dev/null)" ] &&
		[ -z "$(ls -A "$4/evil-dir")" ] && [ ! -e "$4/evil" ]' _ $? "$fetched" "$c" "$tmp" "$n"
done

# --- kforge --source git+URL
printf '[build]\ncache_dir = /fresh-cache\n' >"$tmp/fresh.conf"
p=$(KFORGE_SYSTEM_CONFIG=$tmp/fresh.conf kf plan dummy --source "git+$URL#tag=v6.7" --json 2>"$tmp/plan.err")
check "plan --source git+URL#tag=v6.7 (nothing fetched yet): says what it would fetch and export, fetches nothing" sh -c '
	printf "%s" "$1" | jq -e --arg u "$2" "[.steps[0].actions[].note] | any(. != null and startswith(\"git: fetch \" + \$u + \" (tag v6.7) into the store \"))" >/dev/null &&
	printf "%s" "$1" | jq -e "[.steps[0].actions[].note] | any(. != null and startswith(\"export only drivers/net \"))" >/dev/null &&
	[ ! -e "$3/fresh-cache" ]' _ "$p" "$URL" "$root"
p=$(kf plan dummy --source "git+$URL#tag=v6.7" --json 2>"$tmp/plan.err")
check "plan with the tag in the store: names its commit, nothing to fetch" sh -c '
	printf "%s" "$1" | jq -e --arg c "$2" "[.steps[0].actions[].note] | any(. != null and contains(\"tag v6.7 is commit \" + \$c + \", in the store\"))" >/dev/null' _ "$p" "$V67"
out=$(kf plan dummy --source "git+$URL#tug=v6.7" 2>&1)
check "--source git+URL#tug=v6.7: exit 2, says the forms" sh -c '[ $1 -eq 2 ] && printf "%s" "$2" | grep -q "expected tag=NAME, commit=HEX or branch=NAME"' _ $? "$out"

# a build takes only the module's folder (headers) from the git tree; it stops at compile (the
# fixture's build dir compiles nothing): what is checked is what locate source left in the cache
kf build dummy --source "git+$URL#tag=v6.7" >"$tmp/build.out" 2>&1
check "build dummy --source git+URL#tag=v6.7 (headers): only drivers/net (and the top's files) exported into the cache, no .git" sh -c '
	d=$(ls -d "$1"/cache/src/git-"$2"-drivers_net-* 2>/dev/null) && [ -f "$d/drivers/net/dummy.c" ] && [ -f "$d/Makefile" ] &&
	[ ! -e "$d/fs" ] && [ ! -e "$d/.git" ] && [ ! -e "$1/cache/src/git-$2" ] && grep -q "exporting drivers/net of commit $2" "$3"' _ "$root" "$V67" "$tmp/build.out"
# the option unset in the target's config: the full strategy, from the whole tree
cp -a "$root" "$tmp/root2"
sed -i '/^CONFIG_DUMMY=/d' "$tmp/root2/usr/src/linux-6.6.1/.config"
"$KFORGE" --root "$tmp/root2" -k "$KVER" build dummy --source "git+$URL#tag=v6.7" >"$tmp/build2.out" 2>&1
check "the module's option unset: the full strategy, the whole tree exported (git-<commit>) besides the folder" sh -c '
	[ -f "$1/cache/src/git-$2/fs/foo/foo.c" ] && [ -f "$1/cache/src/git-$2/drivers/net/dummy.c" ] &&
	grep -q "exporting commit $2 of" "$3"' _ "$tmp/root2" "$V67" "$tmp/build2.out"

# --- tarballs, unpacked in-process
mkdir -p "$tmp/tb"
g "$L" archive --prefix=linux-6.7/ v6.7 >"$tmp/tb/linux-6.7.tar"
gzip -c "$tmp/tb/linux-6.7.tar" >"$tmp/tb/linux-6.7.tar.gz"
xz -c "$tmp/tb/linux-6.7.tar" >"$tmp/tb/linux-6.7.tar.xz"
for z in gz xz zst; do
	if [ $z = zst ]; then
		command -v zstd >/dev/null || { skip "unpack .tar.zst" "no zstd to make the fixture"; continue; }
		zstd -q -c "$tmp/tb/linux-6.7.tar" >"$tmp/tb/linux-6.7.tar.zst"
	fi
	src unpack "$tmp/tb/linux-6.7.tar.$z" - "$tmp/u-$z" >/dev/null 2>&1 &&
		src unpack "$tmp/tb/linux-6.7.tar.$z" fs/foo "$tmp/s-$z" >/dev/null 2>&1
	check "unpack .tar.$z: the first component dropped, modes and links kept; only fs/foo when asked" sh -c '
		[ $1 -eq 0 ] && diff -r --no-dereference "$2/ref" "$2/u-$3" && [ "$(readlink "$2/u-$3/fs/foo/alias.c")" = foo.c ] &&
		[ "$(stat -c %a "$2/u-$3/fs/foo/gen.sh")" = 755 ] &&
		diff -r --no-dereference "$2/ref/fs/foo" "$2/s-$3/fs/foo" && [ "$(ls "$2/s-$3")" = fs ] && [ "$(ls "$2/s-$3/fs")" = foo ] &&
		[ -z "$(ls -d "$2"/u-$3.partial-* "$2"/s-$3.partial-* 2>/dev/null)" ]' _ $? "$tmp" $z
done

# hostile tarballs: each refused, nothing written in DEST's place or outside it
mkdir -p "$tmp/outside"
python3 - "$tmp" <<'EOF'
import io, sys, tarfile
tmp = sys.argv[1]
def mk(name, entries):
    with tarfile.open("%s/%s.tar.gz" % (tmp, name), "w:gz") as t:
        for kind, path, data in [("d", "linux/", None), ("f", "linux/Makefile", b"VERSION = 6\n")] + entries:
            ti = tarfile.TarInfo(path)
            if kind == "f":
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
                continue
            ti.type = {"d": tarfile.DIRTYPE, "l": tarfile.SYMTYPE, "h": tarfile.LNKTYPE}[kind]
            ti.linkname = data or ""
            t.addfile(ti)
mk("dotdot", [("f", "linux/../../evil", b"evil\n")])
mk("dotdot-top", [("f", "../evil", b"evil\n")])
mk("absolute", [("f", tmp + "/outside/abs-evil", b"evil\n")])
mk("link-abs", [("l", "linux/esc", tmp + "/outside"), ("f", "linux/esc/evil", b"evil\n")])
mk("link-up", [("l", "linux/esc", "../../outside"), ("f", "linux/esc/evil", b"evil\n")])
mk("link-inside", [("d", "linux/sub/", None), ("l", "linux/d", "sub"), ("f", "linux/d/x", b"evil\n")])
mk("hardlink", [("h", "linux/hh", "../../outside/x")])
EOF
for h in dotdot dotdot-top absolute link-abs link-up link-inside hardlink; do
	src unpack "$tmp/$h.tar.gz" - "$tmp/h-$h" >"$tmp/h-$h.out" 2>&1
	check "unpack refuses a hostile tarball ($h): exit 1, the entry named, nothing written" sh -c '
		[ $1 -eq 1 ] && grep -q "refused\|through symlink" "$2/h-$3.out" &&
		[ -z "$(ls -d "$2/h-$3" "$2/h-$3".partial-* 2>/dev/null)" ] && [ -z "$(ls -A "$2/outside")" ] && [ ! -e "$2/evil" ]' _ $? "$tmp" "$h"
done

# a build from a tarball takes only the module's folder, in-process, under the cache's lock
cp "$tmp/tb/linux-6.7.tar.xz" "$tmp/linux-6.7.tar.xz"
kf build dummy --source "$tmp/linux-6.7.tar.xz" >"$tmp/tbuild.out" 2>&1
check "build dummy --source linux-6.7.tar.xz (headers): only drivers/net unpacked into the cache, no tar run" sh -c '
	d=$(ls -d "$1"/cache/src/linux-6.7-*-drivers_net-* 2>/dev/null) && [ -f "$d/drivers/net/dummy.c" ] && [ -f "$d/Makefile" ] &&
	[ ! -e "$d/fs" ] && grep -q "^kforge: unpacking drivers/net of $2 into " "$3" && ! grep -q "^\$ tar \|^tar " "$3"' _ "$root" "$tmp/linux-6.7.tar.xz" "$tmp/tbuild.out"

# --- decompress, by magic
seq 1 20000 >"$tmp/p.txt"
gzip -c "$tmp/p.txt" >"$tmp/p.gz"
xz -c "$tmp/p.txt" >"$tmp/p.xz"
if command -v zstd >/dev/null; then zstd -q -c "$tmp/p.txt" >"$tmp/p.zst"; fi
for z in gz xz zst; do
	[ -f "$tmp/p.$z" ] || { skip "decompress .$z" "no zstd to make the fixture"; continue; }
	src decompress "$tmp/p.$z" "$tmp/p.$z.out" >/dev/null 2>&1
	check "decompress .$z: the original bytes, no temporary left" sh -c '[ $1 -eq 0 ] && cmp -s "$2/p.txt" "$2/p.$3.out" && [ -z "$(ls "$2"/p.$3.out.partial-* 2>/dev/null)" ]' _ $? "$tmp" $z
done
head -c 200 "$tmp/p.xz" >"$tmp/cut.xz"
src decompress "$tmp/cut.xz" "$tmp/cut.out" >"$tmp/cut.log" 2>&1
check "decompress a truncated .xz: exit 1, says damaged, no DEST" sh -c '[ $1 -eq 1 ] && grep -q "damaged or truncated" "$2/cut.log" && [ ! -e "$2/cut.out" ]' _ $? "$tmp"
src decompress "$tmp/p.txt" "$tmp/plain.out" >"$tmp/plain.log" 2>&1
check "decompress plain text: refused (neither zstd, xz nor gzip)" sh -c '[ $1 -eq 1 ] && grep -q "neither zstd, xz nor gzip" "$2/plain.log" && [ ! -e "$2/plain.out" ]' _ $? "$tmp"
out=$(src --plan decompress "$tmp/p.xz" "$tmp/planned.out" 2>&1)
check "decompress in plan mode: a note, nothing written" sh -c 'printf "%s" "$1" | grep -q "^note: decompress " && [ ! -e "$2/planned.out" ]' _ "$out" "$tmp"

tap_done
