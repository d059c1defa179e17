#!/bin/sh
# fetch.sh: the fetcher for real (TAP): kforge_fetch() through `kforge cache fetch` (libcurl) against
# the stand-in server tests/lib/httpd.py on 127.0.0.1 and file:// URLs, every URL of the recipe
# pointing at https://cdn.kernel.org and sent to the stand-in by [sources] rewrite, under a copy of
# a fixture root: verified fetches (sha256, b2), the cache serving a second fetch with the server
# gone, resume after a cut connection and after a stall (Range seen by the server), a server that
# ignores Range, a wrong checksum and a 404 leaving nothing, an unreachable server naming the URL
# and the rewrite in force, a stall reported as a timeout, a damaged cached file fetched again,
# two runs fetching one file, plan mode, and `kforge cache list|prune`.
set -u
NAME=fetch
. "${top_srcdir:-$(dirname "$0")/..}/tests/suite.sh"

if ! command -v python3 >/dev/null; then
	echo "1..0 # SKIP python3 runs the stand-in server"
	exit 0
fi
# nothing between kforge and the stand-in
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

srv_pid=
stop_server() {
	if [ -n "$srv_pid" ]; then
		kill "$srv_pid" 2>/dev/null
		wait "$srv_pid" 2>/dev/null
	fi
	srv_pid=
}
trap 'stop_server; [ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

root=$tmp/root
cp -a "$R/unknown" "$root"
kver=6.6.1-custom
cache=$root/var/cache/kforge
# there already, so that kforge takes it (a user who cannot write the cache gets ~/.cache/kforge)
mkdir -p "$cache"
srv=$tmp/srv
pub=$srv/pub/linux/kernel/v6.x
mkdir -p "$pub"
CDN=https://cdn.kernel.org/pub/linux/kernel/v6.x
sha() { sha256sum "$1" | cut -d' ' -f1; }
# the files the stand-in serves: random, so that a sum can only match the right bytes
for f in linux-6.6.1.tar.xz patch-6.6.2.xz linux-6.6.3.tar.xz linux-6.6.4.tar.xz linux-6.6.5.tar.xz \
	linux-6.6.6.tar.xz linux-6.6.7.tar.xz linux-6.6.8.tar.xz linux-6.6.9.tar.xz linux-6.6.10.tar.xz \
	linux-6.6.11.tar.xz linux-6.6.12.tar.xz; do
	head -c 200000 /dev/urandom >"$pub/$f"
done

# MODE: the stand-in (again) on a port of its own, its requests logged to $tmp/requests
start_server() {
	stop_server
	rm -f "$tmp/port"
	: >"$tmp/requests"
	python3 "$srcdir/tests/lib/httpd.py" "$srv" --mode "$1" --log "$tmp/requests" >"$tmp/port" &
	srv_pid=$!
	if ! wait_until 60 test -s "$tmp/port"; then
		echo "Bail out! tests/lib/httpd.py did not start"
		exit 1
	fi
	port=$(cat "$tmp/port")
	printf '[sources]\nrewrite = https://cdn.kernel.org/ http://127.0.0.1:%s/\ntimeout = 2\nconnect_timeout = 20\n' \
		"$port" >"$tmp/kforge.conf"
}
kf() { KFORGE_SYSTEM_CONFIG="$tmp/kforge.conf" "$KFORGE" --root "$root" -k "$kver" "$@"; }
# fetch NAME SUM [OPTIONS]: kforge cache fetch of $CDN/NAME; its path in $tmp/out, its messages in $tmp/err, $rc
fetch() {
	f_name=$1 f_sum=$2
	shift 2
	kf "$@" cache fetch "$CDN/$f_name" "$f_name" ${f_sum:+"$f_sum"} >"$tmp/out" 2>"$tmp/err"
	rc=$?
}
show() { sed 's/^/# /' "$tmp/err" "$tmp/out" "$tmp/requests"; }
no_partial() { [ -z "$(find "$cache/downloads" -name '*.partial' 2>/dev/null)" ]; }

start_server normal

# --- a fetch that succeeds: through the rewrite, verified, kept by its sum
S1=$(sha "$pub/linux-6.6.1.tar.xz")
fetch linux-6.6.1.tar.xz "sha256:$S1"
if [ "$rc" -eq 0 ] && [ "$(cat "$tmp/out")" = "$cache/downloads/sha256/$S1" ] &&
	cmp -s "$cache/downloads/sha256/$S1" "$pub/linux-6.6.1.tar.xz"; then
	ok "a fetch is verified and kept as downloads/sha256/HEX"
else
	not_ok "a fetch is verified and kept as downloads/sha256/HEX"
	show
fi
check "the rewrite sent https://cdn.kernel.org/... to the stand-in on 127.0.0.1, which saw one GET" sh -c '
	[ "$(cat "$1")" = "GET /pub/linux/kernel/v6.x/linux-6.6.1.tar.xz -" ] &&
	grep -q "fetching linux-6.6.1.tar.xz from http://127.0.0.1:$2/pub/linux/kernel/v6.x/linux-6.6.1.tar.xz" "$3"' \
	_ "$tmp/requests" "$port" "$tmp/err"
log=$(ls -t "$root"/var/log/kforge/*fetch* 2>/dev/null | head -n 1)
check "the job's log has the fetch: the URL, the rewrite in force, the bytes" sh -c '
	grep -q "^fetch https://cdn.kernel.org/pub/linux/kernel/v6.x/linux-6.6.1.tar.xz (rewritten to http://127.0.0.1:$2/.* by the rewrite https://cdn.kernel.org/ http://127.0.0.1:$2/ of \[sources\] rewrite, set by $3:2)" "$1" &&
	grep -q "^fetched http://127.0.0.1:$2/pub/linux/kernel/v6.x/linux-6.6.1.tar.xz: 200000 bytes" "$1"' \
	_ "${log:-/nonexistent}" "$port" "$tmp/kforge.conf"

# --- a redirect is followed
S8=$(sha "$pub/linux-6.6.8.tar.xz")
: >"$tmp/requests"
kf cache fetch "https://cdn.kernel.org/redirect/pub/linux/kernel/v6.x/linux-6.6.8.tar.xz" linux-6.6.8.tar.xz "sha256:$S8" \
	>"$tmp/out" 2>"$tmp/err"
rc=$?
check "a redirect (302) is followed to the file, verified" sh -c '
	[ "$1" -eq 0 ] && [ "$(sed -n 2p "$2")" = "GET /pub/linux/kernel/v6.x/linux-6.6.8.tar.xz -" ] && cmp -s "$3/downloads/sha256/$4" "$5"' \
	_ "$rc" "$tmp/requests" "$cache" "$S8" "$pub/linux-6.6.8.tar.xz"

# --- the second fetch is served from the cache, with the server stopped
stop_server
fetch linux-6.6.1.tar.xz "sha256:$S1"
check "with the server gone, the second fetch is served (verified) from the cache" sh -c '
	[ "$1" -eq 0 ] && [ "$(cat "$2")" = "$3/downloads/sha256/$4" ] && grep -q "linux-6.6.1.tar.xz: in the cache" "$5"' \
	_ "$rc" "$tmp/out" "$cache" "$S1" "$tmp/err"
start_server normal

# --- BLAKE2b-512, as Arch's b2sums
B2=$(b2sum "$pub/patch-6.6.2.xz" | cut -d' ' -f1)
fetch patch-6.6.2.xz "b2:$B2"
check "a b2 (BLAKE2b-512) checksum is verified, kept as downloads/b2/HEX" sh -c '
	[ "$1" -eq 0 ] && [ "$(cat "$2")" = "$3/downloads/b2/$4" ] && cmp -s "$3/downloads/b2/$4" "$5"' \
	_ "$rc" "$tmp/out" "$cache" "$B2" "$pub/patch-6.6.2.xz"

# --- a cut connection: resumed at once with a Range request
start_server cut
S3=$(sha "$pub/linux-6.6.3.tar.xz")
fetch linux-6.6.3.tar.xz "sha256:$S3"
if [ "$rc" -eq 0 ] && cmp -s "$cache/downloads/sha256/$S3" "$pub/linux-6.6.3.tar.xz" &&
	[ "$(sed -n 2p "$tmp/requests")" = "GET /pub/linux/kernel/v6.x/linux-6.6.3.tar.xz bytes=100000-" ] && no_partial; then
	ok "a connection cut after half the file: resumed (the server saw Range: bytes=100000-), verified"
else
	not_ok "a connection cut after half the file: resumed (the server saw Range: bytes=100000-), verified"
	show
fi

# --- a stall: a timeout after [sources] timeout = 2 s, the part kept and resumed by the next run
start_server stall
S4=$(sha "$pub/linux-6.6.4.tar.xz")
fetch linux-6.6.4.tar.xz "sha256:$S4"
if [ "$rc" -eq 3 ] && grep -q "cannot fetch linux-6.6.4.tar.xz from $CDN/linux-6.6.4.tar.xz (rewritten to http://127.0.0.1:$port/pub/linux/kernel/v6.x/linux-6.6.4.tar.xz by the rewrite https://cdn.kernel.org/ http://127.0.0.1:$port/ of \[sources\] rewrite, set by $tmp/kforge.conf:2): timed out: no data for 2 s (\[sources\] timeout = 2)" "$tmp/err" &&
	grep -q "raise \[sources\] timeout" "$tmp/err" && [ "$(stat -c %s "$cache/downloads/sha256/$S4.partial")" -eq 16 ] &&
	[ ! -e "$cache/downloads/sha256/$S4" ]; then
	ok "a server that stalls: a timeout (exit 3) naming the URL, the rewrite, [sources] timeout; 16 bytes kept as .partial"
else
	not_ok "a server that stalls: a timeout (exit 3) naming the URL, the rewrite, [sources] timeout; 16 bytes kept as .partial"
	show
fi
start_server normal
fetch linux-6.6.4.tar.xz "sha256:$S4"
check "the next run resumes the partial download (Range: bytes=16-) and verifies it" sh -c '
	[ "$1" -eq 0 ] && [ "$(cat "$2")" = "GET /pub/linux/kernel/v6.x/linux-6.6.4.tar.xz bytes=16-" ] &&
	cmp -s "$3/downloads/sha256/$4" "$5" && [ ! -e "$3/downloads/sha256/$4.partial" ]' \
	_ "$rc" "$tmp/requests" "$cache" "$S4" "$pub/linux-6.6.4.tar.xz"

# --- a server that ignores Range: the download starts over
S5=$(sha "$pub/linux-6.6.5.tar.xz")
head -c 1000 "$pub/linux-6.6.5.tar.xz" >"$cache/downloads/sha256/$S5.partial"
start_server norange
fetch linux-6.6.5.tar.xz "sha256:$S5"
check "a server that answers a Range with the whole file (200): fetched from the start, verified" sh -c '
	[ "$1" -eq 0 ] && grep -q "bytes=1000-" "$2" && [ "$(sed -n 2p "$2")" = "GET /pub/linux/kernel/v6.x/linux-6.6.5.tar.xz -" ] &&
	cmp -s "$3/downloads/sha256/$4" "$5" && grep -q "fetching it from the start" "$6"' \
	_ "$rc" "$tmp/requests" "$cache" "$S5" "$pub/linux-6.6.5.tar.xz" "$tmp/err"
# a kept part that is not the file's own beginning: the sum finds it, fetched once more from the start
start_server normal
S6=$(sha "$pub/linux-6.6.6.tar.xz")
head -c 5000 /dev/urandom >"$cache/downloads/sha256/$S6.partial"
fetch linux-6.6.6.tar.xz "sha256:$S6"
check "a kept part of another file: the resumed sum differs, fetched once more from the start, verified" sh -c '
	[ "$1" -eq 0 ] && [ "$(cat "$2" | wc -l)" -eq 2 ] && grep -q " bytes=5000-$" "$2" && cmp -s "$3/downloads/sha256/$4" "$5"' \
	_ "$rc" "$tmp/requests" "$cache" "$S6" "$pub/linux-6.6.6.tar.xz"

# a part as long as the file, left by a run stopped before its rename: taken as it is when its sum matches
S10=$(sha "$pub/linux-6.6.10.tar.xz")
cp "$pub/linux-6.6.10.tar.xz" "$cache/downloads/sha256/$S10.partial"
: >"$tmp/requests"
fetch linux-6.6.10.tar.xz "sha256:$S10"
check "a complete part kept from an interrupted run: verified and taken, no request" sh -c '
	[ "$1" -eq 0 ] && [ ! -s "$2" ] && cmp -s "$3/downloads/sha256/$4" "$5" && [ ! -e "$3/downloads/sha256/$4.partial" ]' \
	_ "$rc" "$tmp/requests" "$cache" "$S10" "$pub/linux-6.6.10.tar.xz"
# longer than the file: the server answers the Range with 416, the download starts over
S11=$(sha "$pub/linux-6.6.11.tar.xz")
{ cat "$pub/linux-6.6.11.tar.xz"; printf 'more'; } >"$cache/downloads/sha256/$S11.partial"
fetch linux-6.6.11.tar.xz "sha256:$S11"
check "a kept part longer than the file (HTTP 416 to its Range): fetched from the start, verified" sh -c '
	[ "$1" -eq 0 ] && [ "$(sed -n 1p "$2")" = "GET /pub/linux/kernel/v6.x/linux-6.6.11.tar.xz bytes=200004-" ] &&
	[ "$(sed -n 2p "$2")" = "GET /pub/linux/kernel/v6.x/linux-6.6.11.tar.xz -" ] && cmp -s "$3/downloads/sha256/$4" "$5"' \
	_ "$rc" "$tmp/requests" "$cache" "$S11" "$pub/linux-6.6.11.tar.xz"

# --- a wrong checksum: refused with both sums, nothing left in downloads/
S7=$(sha "$pub/linux-6.6.7.tar.xz")
WRONG=$(printf 'another file' | sha256sum | cut -d' ' -f1)
fetch linux-6.6.7.tar.xz "sha256:$WRONG"
if [ "$rc" -eq 5 ] && grep -q "linux-6.6.7.tar.xz from $CDN/linux-6.6.7.tar.xz (rewritten to .*) does not match its checksum: expected sha256:$WRONG, got sha256:$S7; nothing was kept in the cache" "$tmp/err" &&
	[ -z "$(find "$cache/downloads" -name "*$WRONG*" -o -name "*$S7*")" ] && no_partial; then
	ok "a wrong checksum: refused (exit 5) naming the file, the expected and the actual sums; nothing left in downloads/"
else
	not_ok "a wrong checksum: refused (exit 5) naming the file, the expected and the actual sums; nothing left in downloads/"
	show
	find "$cache/downloads" | sed 's/^/# /'
fi

# --- a file the server does not have
fetch linux-9.9.tar.xz "sha256:$WRONG"
check "HTTP 404: exit 3, named, nothing kept" sh -c '
	[ "$1" -eq 3 ] && grep -q "cannot fetch linux-9.9.tar.xz from .*: the server answered HTTP 404 not found" "$2" && [ ! -e "$3/downloads/sha256/$4.partial" ]' \
	_ "$rc" "$tmp/err" "$cache" "$WRONG"

# --- an unreachable server, through --source-rewrite (before the file's pair of the same FROM)
dead=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
fetch linux-6.6.12.tar.xz "sha256:$(sha "$pub/linux-6.6.12.tar.xz")" --source-rewrite "https://cdn.kernel.org/=http://127.0.0.1:$dead/"
if [ "$rc" -eq 3 ] && grep -q "cannot fetch linux-6.6.12.tar.xz from $CDN/linux-6.6.12.tar.xz (rewritten to http://127.0.0.1:$dead/pub/linux/kernel/v6.x/linux-6.6.12.tar.xz by the rewrite https://cdn.kernel.org/ http://127.0.0.1:$dead/ of \[sources\] rewrite, set by command line: --source-rewrite, before the pairs of $tmp/kforge.conf:2): cannot connect to the server (libcurl: .*) (fix: check the URL and the network, or set \[sources\] rewrite / --source-rewrite to a mirror)" "$tmp/err"; then
	ok "an unreachable server: exit 3 naming the URL, the URL after the rewrite, the rewrite in force (--source-rewrite) and the fix"
else
	not_ok "an unreachable server: exit 3 naming the URL, the URL after the rewrite, the rewrite in force (--source-rewrite) and the fix"
	show
fi
check "--source-rewrite and the file's pairs in kforge config, in order, with their origins" sh -c '
	KFORGE_SYSTEM_CONFIG="$1" "$2" --source-rewrite "https://cdn.kernel.org/=http://x/" config --json |
	jq -e --arg v "https://cdn.kernel.org/ http://x/ https://cdn.kernel.org/ http://127.0.0.1:$3/" --arg o "command line: --source-rewrite, before the pairs of $1:2" \
		".values[] | select(.key == \"sources.rewrite\") | .value == \$v and .origin == \$o" >/dev/null &&
	KFORGE_SYSTEM_CONFIG="$1" "$2" config | grep -qE "^sources.timeout += 2 +# $1:3\$"' _ "$tmp/kforge.conf" "$KFORGE" "$port"
printf '[sources]\nrewrite = https://a/ http://b/ https://c/\n' >"$tmp/odd.conf"
check "an odd count of words in [sources] rewrite: exit 2 naming file:line" sh -c '
	out=$(KFORGE_SYSTEM_CONFIG="$1" "$2" config 2>&1); [ $? -eq 2 ] &&
	printf "%s" "$out" | grep -q "$1:2: sources.rewrite needs pairs of URL prefixes, FROM TO \[FROM TO ...\], not 3 words"' \
	_ "$tmp/odd.conf" "$KFORGE"
check "a --source-rewrite without FROM=TO: exit 2" sh -c '
	out=$("$1" --source-rewrite https://a/ config 2>&1); [ $? -eq 2 ] && printf "%s" "$out" | grep -q "give FROM=TO"' _ "$KFORGE"

# --- file:// URLs, no server at all
printf 'a local file\n' >"$tmp/local.patch"
L=$(sha "$tmp/local.patch")
kf cache fetch "file://$tmp/local.patch" local.patch "sha256:$L" >"$tmp/out" 2>"$tmp/err"
rc=$?
check "a file:// URL is fetched with libcurl too, verified" sh -c '
	[ "$1" -eq 0 ] && [ "$(cat "$2")" = "$3/downloads/sha256/$4" ] && cmp -s "$3/downloads/sha256/$4" "$5"' \
	_ "$rc" "$tmp/out" "$cache" "$L" "$tmp/local.patch"
kf cache fetch "file://$tmp/local.patch" local.patch >"$tmp/out" 2>"$tmp/err"
rc=$?
U=$(cat "$tmp/out")
printf 'changed\n' >"$tmp/local.patch"
kf cache fetch "file://$tmp/local.patch" local.patch >"$tmp/out2" 2>>"$tmp/err"
rc2=$?
check "without a checksum: kept under downloads/url/ by the URL's hash, and found there again" sh -c '
	[ "$1" -eq 0 ] && [ "$2" -eq 0 ] && case "$3" in "$4"/downloads/url/*) true ;; *) false ;; esac &&
	[ "$(cat "$5")" = "$3" ] && [ "$(cat "$3")" = "a local file" ] && grep -q "in the cache" "$6"' \
	_ "$rc" "$rc2" "$U" "$cache" "$tmp/out2" "$tmp/err"

# --- a damaged cached file: removed with a warning, fetched again
printf 'XXXX' | dd of="$cache/downloads/sha256/$S1" bs=1 seek=100 conv=notrunc 2>/dev/null
: >"$tmp/requests"
fetch linux-6.6.1.tar.xz "sha256:$S1"
check "a damaged file in the cache: a warning with both sums, fetched again, verified" sh -c '
	[ "$1" -eq 0 ] && grep -q "warning: .*downloads/sha256/$2 (linux-6.6.1.tar.xz) in the download cache is damaged: its sha256 is [0-9a-f]*, not $2: removed, fetching it again" "$3" &&
	[ "$(wc -l <"$4")" -eq 1 ] && cmp -s "$5/downloads/sha256/$2" "$6"' \
	_ "$rc" "$S1" "$tmp/err" "$tmp/requests" "$cache" "$pub/linux-6.6.1.tar.xz"

# --- two kforge runs fetch one file: one download, both get the verified file
S9=$(sha "$pub/linux-6.6.9.tar.xz")
: >"$tmp/requests"
kf cache fetch "$CDN/linux-6.6.9.tar.xz" linux-6.6.9.tar.xz "sha256:$S9" >"$tmp/p1" 2>"$tmp/e1" &
p1=$!
kf cache fetch "$CDN/linux-6.6.9.tar.xz" linux-6.6.9.tar.xz "sha256:$S9" >"$tmp/p2" 2>"$tmp/e2"
rc2=$?
wait "$p1"
rc1=$?
check "two runs fetching one file at once: both get it, the server sends it once" sh -c '
	[ "$1" -eq 0 ] && [ "$2" -eq 0 ] && [ "$(cat "$3")" = "$5/downloads/sha256/$6" ] && [ "$(cat "$4")" = "$(cat "$3")" ] &&
	[ "$(grep -c linux-6.6.9 "$7")" -eq 1 ]' _ "$rc1" "$rc2" "$tmp/p1" "$tmp/p2" "$cache" "$S9" "$tmp/requests"

# --- plan mode: says what and from where, fetches nothing
: >"$tmp/requests"
PLAN_SUM=$(printf 'planned' | sha256sum | cut -d' ' -f1)
kf --dry-run cache fetch "$CDN/linux-6.7.tar.xz" linux-6.7.tar.xz "sha256:$PLAN_SUM" >"$tmp/out" 2>"$tmp/err"
rc=$?
check "plan mode: \"fetch URL (via REWRITTEN) into PATH\", nothing fetched" sh -c '
	[ "$1" -eq 0 ] && grep -qF "# fetch $2/linux-6.7.tar.xz (via http://127.0.0.1:$3/pub/linux/kernel/v6.x/linux-6.7.tar.xz) into $4/downloads/sha256/$5" "$6" &&
	[ ! -s "$7" ] && [ ! -e "$4/downloads/sha256/$5" ] && [ ! -e "$4/downloads/sha256/$5.partial" ]' \
	_ "$rc" "$CDN" "$port" "$cache" "$PLAN_SUM" "$tmp/out" "$tmp/requests"
stop_server

# --- kforge cache list and prune
mkdir -p "$cache/git/store.git/objects" "$cache/src/linux-6.6.1-1-2" "$tmp/outside"
printf 'x' >"$cache/git/store.git/objects/pack"
printf 'tree' >"$cache/src/linux-6.6.1-1-2/Makefile"
printf 'not the cache' >"$tmp/outside/keep"
ln -s "$tmp/outside" "$cache/src/elsewhere"
kf cache list >"$tmp/out" 2>"$tmp/err"
rc=$?
check "cache list: each download with its size, age, name and URL; the git store; the source trees" sh -c '
	[ "$1" -eq 0 ] && grep -qE "^download +195\.3 KiB +[0-9]+m  downloads/sha256/$3  linux-6.6.1.tar.xz  https://cdn.kernel.org/pub/linux/kernel/v6.x/linux-6.6.1.tar.xz$" "$2" &&
	grep -qE "^download .* downloads/b2/$4  patch-6.6.2.xz  " "$2" && grep -qE "^git .*  git/store.git$" "$2" &&
	grep -qE "^src .*  src/linux-6.6.1-1-2$" "$2" && ! grep -q elsewhere "$2"' _ "$rc" "$tmp/out" "$S1" "$B2"
check "cache list --json" sh -c '
	"$1" --root "$2" -k "$3" cache list --json | jq -e --arg p "$4/downloads/sha256/$5" \
		"[.entries[] | select(.kind == \"download\" and .name == \"linux-6.6.1.tar.xz\" and .path == \$p and .size == 200000)] | length == 1" >/dev/null' \
	_ "$KFORGE" "$root" "$kver" "$cache" "$S1"
touch -d '40 days ago' "$cache/downloads/sha256/$S3" "$cache/src/linux-6.6.1-1-2" "$cache/git/store.git"
kf cache prune --older-than 30 >"$tmp/out" 2>"$tmp/err"
rc=$?
check "cache prune --older-than 30: what was not used for 40 days goes, the rest and the git store stay" sh -c '
	[ "$1" -eq 0 ] && [ ! -e "$3/downloads/sha256/$4" ] && [ ! -e "$3/src/linux-6.6.1-1-2" ] && [ -e "$3/downloads/sha256/$5" ] &&
	[ -d "$3/git/store.git" ] && grep -q "^removed downloads/sha256/$4 (linux-6.6.3.tar.xz, 195.3 KiB)" "$2" &&
	grep -q "^freed .* in 2 entries of $3" "$2" && ! grep -q "linux-6.6.3.tar.xz" "$3/downloads/names"' \
	_ "$rc" "$tmp/out" "$cache" "$S3" "$S1"
kf cache prune --all >"$tmp/out" 2>"$tmp/err"
rc=$?
check "cache prune --all: every entry goes, the git store too; it says what it freed" sh -c '
	[ "$1" -eq 0 ] && [ ! -e "$3/downloads/sha256/$4" ] && [ ! -e "$3/git/store.git" ] &&
	[ -z "$(find "$3/downloads" -type f ! -name names)" ] && grep -q "^removed downloads/sha256/$4 (linux-6.6.1.tar.xz, " "$2" &&
	grep -q "^removed git/store.git" "$2" && grep -q "^freed " "$2" &&
	"$5" --root "$6" -k "$7" cache list | grep -qx "the cache $3 holds no sources"' \
	_ "$rc" "$tmp/out" "$cache" "$S1" "$KFORGE" "$root" "$kver"
check "prune never leaves the cache: a link in it to another folder is not followed" sh -c '
	[ "$(cat "$1/keep")" = "not the cache" ]' _ "$tmp/outside"
check "cache prune without --all or --older-than: exit 2; cache --help" sh -c '
	"$1" --root "$2" -k "$3" cache prune 2>/dev/null; [ $? -eq 2 ] &&
	"$1" cache --help | grep -q "^Usage: kforge cache list|prune" && "$1" --help | grep -q -- "--source-rewrite FROM=TO"' \
	_ "$KFORGE" "$root" "$kver"
tap_done
