#!/bin/sh
# json.sh: every --json output of kforge against its JSON Schema (TAP). The schemas in doc/schema
# (draft 2020-12) are checked as schemas; then the real output of the built binary validates
# against them, through /usr/bin/python3's jsonschema (Debian's python3-jsonschema): info for
# every kernel of every fixture root, plugins, config (defaults, and values from files and the
# command line), plan (external, named and in-tree modules, and folders whose names are not
# UTF-8 or hold quotes and control characters: their bytes come back through surrogateescape),
# and, in a copy of the Debian fixture root where modules are installed for real (tests/synth.sh),
# status (with DKMS's tree beside), cache list and log, whose text form and errors are checked too.
# Each schema is shown to bite: its real output with any member removed, retyped, or one member
# added, fails. A command whose --help offers --json without a schema fails here.
set -u
NAME=json
. "${top_srcdir:-$(dirname "$0")/..}/tests/suite.sh"
. "$srcdir/tests/synth.sh"
schemas=$srcdir/doc/schema
# tests/lib/strictjson.py: how every JSON here is read
PYTHONPATH=$srcdir/tests/lib${PYTHONPATH:+:$PYTHONPATH}
export PYTHONPATH
if ! /usr/bin/python3 -c 'from jsonschema import Draft202012Validator' 2>/dev/null; then
	echo "1..0 # SKIP /usr/bin/python3 has no jsonschema with Draft202012Validator (Debian: python3-jsonschema)"
	exit 0
fi
K=6.1.0-56-amd64
# no configuration file but those a check writes
KFORGE_SYSTEM_CONFIG=$tmp/no-such.conf XDG_CONFIG_HOME=$tmp/no-such
export KFORGE_SYSTEM_CONFIG XDG_CONFIG_HOME

# validate SCHEMA FILE: FILE holds one JSON document (UTF-8, no member twice, no NaN) that
# doc/schema/SCHEMA.schema.json, itself a valid draft 2020-12 schema, accepts; else each error
# with its path
validate() {
	/usr/bin/python3 - "$schemas/$1.schema.json" "$2" <<'EOF'
import json, sys
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from strictjson import strict, no_constant

with open(sys.argv[1], encoding="utf-8") as f:
    schema = json.load(f)
try:
    Draft202012Validator.check_schema(schema)
except SchemaError as e:
    print("%s: not a valid draft 2020-12 schema: %s" % (sys.argv[1], e.message))
    sys.exit(1)
with open(sys.argv[2], "rb") as f:
    raw = f.read()
try:
    doc = json.loads(raw.decode("utf-8"), object_pairs_hook=strict, parse_constant=no_constant)
except ValueError as e:
    print("%s is not one JSON document: %s" % (sys.argv[2], e))
    print(raw[:2000])
    sys.exit(1)
errors = sorted(Draft202012Validator(schema).iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path])
for e in errors:
    print("/%s: %s" % ("/".join(str(p) for p in e.absolute_path), e.message))
sys.exit(1 if errors else 0)
EOF
}

# jcheck DESC OUT SCHEMA CMD...: CMD exits 0 and its stdout (kept in $tmp/OUT.json) validates
# against SCHEMA; the exit, the errors and CMD's stderr shown when not
jcheck() {
	jdesc=$1 jfile=$tmp/$2.json jschema=$3
	shift 3
	"$@" >"$jfile" 2>"$tmp/jcheck.err"
	jrc=$?
	if [ "$jrc" -eq 0 ] && jerr=$(validate "$jschema" "$jfile" 2>&1); then ok "$jdesc"; else
		not_ok "$jdesc"
		echo "# exit $jrc"
		[ "$jrc" -ne 0 ] || printf '%s\n' "$jerr" | sed 's/^/# /'
		sed 's/^/# /' "$tmp/jcheck.err"
	fi
}

# jtest DESC FILE EXPR [ARG...]: the Python expression EXPR is true of the JSON document in FILE
# (d: the document, a: the ARGs, b(s): a string's bytes, through surrogateescape)
jtest() {
	jdesc=$1 jfile=$2 jexpr=$3
	shift 3
	check "$jdesc" /usr/bin/python3 -c '
import json, os, sys
d = json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))
a = sys.argv[3:]
b = lambda s: s.encode("utf-8", "surrogateescape")
if not eval("(" + sys.argv[2] + "\n)"):
    print("false: " + sys.argv[2])
    print(json.dumps(d)[:3000])
    sys.exit(1)' "$jfile" "$jexpr" "$@"
}

# bites SCHEMA FILE [OPTIONAL...]: FILE validates against SCHEMA, and stops validating with any
# member of any object taken out (but the OPTIONAL ones: a member's name, or PATH/ for the
# members of the object at PATH), any member or array item replaced by an object of the wrong
# shape, or a member added to any object
bites() {
	bschema=$1 bfile=$2
	shift 2
	/usr/bin/python3 - "$schemas/$bschema.schema.json" "$bfile" "$bschema" "$@" <<'EOF'
import copy, json, sys
from jsonschema import Draft202012Validator

schema = json.load(open(sys.argv[1], encoding="utf-8"))
doc = json.loads(open(sys.argv[2], "rb").read().decode("utf-8"))
optional = set(sys.argv[4:])
v = Draft202012Validator(schema)
if not v.is_valid(doc):
    print("the output itself does not validate")
    sys.exit(1)

def nodes(node, path=()):
    yield path, node
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for k, x in items:
        yield from nodes(x, path + (k,))

def at(d, path):
    for k in path:
        d = d[k]
    return d

def show(path):
    return "/" + "/".join(str(p) for p in path)

missed, tried = [], 0
def expect_invalid(what, path, change):
    global tried
    d = copy.deepcopy(doc)
    change(at(d, path))
    tried += 1
    if v.is_valid(d):
        missed.append(what)

for path, node in list(nodes(doc)):
    if isinstance(node, dict):
        for k in list(node):
            if k not in optional and show(path)[1:] + "/" not in optional:
                expect_invalid("without " + show(path + (k,)), path, lambda o, k=k: o.pop(k))
            expect_invalid("a wrong " + show(path + (k,)), path, lambda o, k=k: o.__setitem__(k, {"__wrong__": []}))
        expect_invalid("an unexpected member in " + show(path), path, lambda o: o.__setitem__("__unexpected__", 1))
    elif isinstance(node, list):
        for i in range(len(node)):
            expect_invalid("a wrong " + show(path + (i,)), path, lambda o, i=i: o.__setitem__(i, {"__wrong__": []}))
if missed or tried < 10:
    print("%s accepts %d of %d broken copies of %s:" % (sys.argv[3], len(missed), tried, sys.argv[2]))
    for m in missed[:40]:
        print("  " + m)
    sys.exit(1)
EOF
}

# --- the schemas themselves
n_schemas=0
for f in "$schemas"/*.schema.json; do
	[ -f "$f" ] || continue
	n_schemas=$((n_schemas + 1))
	check "$(basename "$f"): a valid draft 2020-12 schema with its \$id, title, and a description of every property" \
		/usr/bin/python3 - "$f" <<'EOF'
import json, os, sys
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError, RefResolutionError

path = sys.argv[1]
base = os.path.basename(path)
from strictjson import strict
s = json.load(open(path, encoding="utf-8"), object_pairs_hook=strict)
problems = []
try:
    Draft202012Validator.check_schema(s)
except SchemaError as e:
    problems.append("not a valid draft 2020-12 schema: %s (at %s)" % (e.message, "/".join(str(p) for p in e.absolute_path)))
if s.get("$schema") != "https://json-schema.org/draft/2020-12/schema":
    problems.append("$schema is not draft 2020-12's")
if s.get("$id") != "https://kforge.invalid/schema/" + base:
    problems.append("$id is not https://kforge.invalid/schema/" + base)
for k in ("title", "description"):
    if not isinstance(s.get(k), str) or not s[k].strip():
        problems.append("no " + k)
resolver = Draft202012Validator(s).resolver

def walk(node, where):
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            try:
                resolver.resolve(node["$ref"])
            except RefResolutionError as e:
                problems.append("%s: $ref %s does not resolve: %s" % (where, node["$ref"], e))
        props = node.get("properties")
        if isinstance(props, dict):
            if "$ref" not in node and node.get("additionalProperties") is not False:
                problems.append(where + ": an object with properties, not additionalProperties: false")
            for k in node.get("required", []):
                if k not in props:
                    problems.append("%s: required names %s, no property" % (where, k))
            for k, x in props.items():
                if not isinstance(x, dict) or not isinstance(x.get("description"), str) or not x["description"].strip():
                    problems.append("%s/properties/%s: no description" % (where, k))
        for k, x in node.items():
            if k in ("enum", "const"):
                continue
            if k == "properties" and isinstance(x, dict):
                for pk, px in x.items():
                    walk(px, where + "/properties/" + pk)
            else:
                walk(x, where + "/" + k)
    elif isinstance(node, list):
        for i, x in enumerate(node):
            walk(x, where + "/" + str(i))
walk(s, "#")
for p in problems:
    print(p)
sys.exit(1 if problems else 0)
EOF
done
check "doc/schema holds the eight schemas" sh -c '[ "$1" -ge 8 ]' _ "$n_schemas"

# every command whose help offers --json has a schema: COMMAND.schema.json, or COMMAND-SUB for a
# subcommand's (cache list); the --json option's own list names each ("cache list": cache-list);
# and no schema is left of a command that lost its --json
json_cmds=$("$KFORGE" --help | sed -n '/^Commands:/,/^$/p' | awk 'NF && !/^Commands:/ {print $1}' |
	while read -r c; do "$KFORGE" "$c" --help 2>/dev/null | grep -q -- --json && echo "$c"; done)
listed=$("$KFORGE" --help | grep -E '^ +--json ' | sed -n 's/.*(\(.*\)).*/\1/p' | tr ',' '\n' | sed 's/^ *//; s/ *$//; s/ /-/g')
check "kforge --help: each command that offers --json ($(echo $json_cmds)) has its schema in doc/schema" sh -c '
	dir=$1; shift
	[ $# -ge 7 ] || { echo "only $# commands with --json found: $*"; exit 1; }
	for c; do
		set -- "$dir/$c".schema.json "$dir/$c"-*.schema.json
		[ -f "$1" ] || [ -f "$2" ] || { echo "kforge $c offers --json: no doc/schema/$c.schema.json or $c-*.schema.json"; exit 1; }
	done' _ "$schemas" $json_cmds
check "kforge --help's --json names its outputs ($(echo $listed)): each has its schema" sh -c '
	dir=$1; shift
	[ $# -ge 7 ] || { echo "the --json option lists only: $*"; exit 1; }
	for c; do [ -f "$dir/$c.schema.json" ] || { echo "--json names $c: no doc/schema/$c.schema.json"; exit 1; }; done' \
	_ "$schemas" $listed
check "each schema in doc/schema is of a command that offers --json" sh -c '
	cmds=$1; shift
	for f; do
		c=$(basename "$f" .schema.json); c=${c%%-*}
		printf "%s\n" $cmds | grep -qx -- "$c" || { echo "$(basename "$f"): kforge $c offers no --json"; exit 1; }
	done' _ "$json_cmds" "$schemas"/*.schema.json

# --- info: every kernel of every fixture root, and with a plugin forced
for r in "$R"/*; do
	[ -d "$r" ] || continue
	rn=$(basename "$r")
	kernels=$(for d in "$r"/lib/modules/* "$r"/usr/lib/modules/*; do [ -d "$d" ] && basename "$d"; done | sort -u)
	[ -n "$kernels" ] || continue
	for k in $kernels; do
		jcheck "info --json: $rn $k" "info-$rn-$k" info "$KFORGE" --root "$r" -k "$k" info --json
	done
done
jtest "info --json: the debian root's $K, as it is" "$tmp/info-debian-$K.json" '
	d["plugin"] == "debian" and d["kernel"]["release"] == a[0] and d["root"] == a[1] and d["os"] == "debian" and
	d["build_dir"] == "/usr/src/linux-headers-" + a[0] and d["modversions"] is True and d["facts"] == {}' "$K" "$R/debian"
jtest "info --json: the arch root's facts are text" "$tmp/info-arch-6.6.1-arch1-1.json" '
	d["facts"].get("arch.pkgbase") == "linux" and d["kernel"]["extraversion"] == "-arch1"'
jcheck "info --json with --plugin vanilla forced on the debian root" info-forced info \
	"$KFORGE" --root "$R/debian" -k "$K" --plugin vanilla info --json
jtest "... whose plugin is vanilla" "$tmp/info-forced.json" 'd["plugin"] == "vanilla"'

# --- plugins: probed on the debian root, and on a root without os-release
jcheck "plugins --json on the debian root" plugins plugins "$KFORGE" --root "$R/debian" -k "$K" plugins --json
jtest "... the four plugins, debian the one selected" "$tmp/plugins.json" '
	sorted(p["name"] for p in d) == ["arch", "debian", "fedora", "vanilla"] and [p["name"] for p in d if p["selected"]] == ["debian"]'
mkdir -p "$tmp/bare/etc"
jcheck "plugins --json on a root without os-release" plugins-bare plugins "$KFORGE" --root "$tmp/bare" plugins --json
jtest "... vanilla the one selected" "$tmp/plugins-bare.json" '[p["name"] for p in d if p["selected"]] == ["vanilla"]'

# --- config: the defaults; values from the system file, the user's and the command line; no user file
jcheck "config --json, the defaults" config config "$KFORGE" --root "$R/debian" config --json
jtest "... every origin default, the files those of the environment" "$tmp/config.json" '
	d["system_file"] == a[0] and d["user_file"] == a[1] and len(d["values"]) >= 20 and
	all(x["origin"] == "default" for x in d["values"])' "$tmp/no-such.conf" "$tmp/no-such/kforge/kforge.conf"
printf '# kforge.conf\n[build]\njobs = 3\n\n[plugin.arch]\npackaging_ref = tag=x\n' >"$tmp/sys.conf"
mkdir -p "$tmp/xdg/kforge"
printf '[sources]\ntimeout = 61\n' >"$tmp/xdg/kforge/kforge.conf"
jcheck "config --json with a system file, a user file, --source-rewrite and -v" config-set config env \
	KFORGE_SYSTEM_CONFIG="$tmp/sys.conf" XDG_CONFIG_HOME="$tmp/xdg" \
	"$KFORGE" --root "$R/debian" --source-rewrite https://a.invalid/=https://b.invalid/ -v config --json
jtest "... each origin FILE:LINE or the option" "$tmp/config-set.json" '
	(lambda o: o["build.jobs"] == ("3", a[0] + ":3") and o["plugin.arch.packaging_ref"] == ("tag=x", a[0] + ":6") and
	 o["sources.timeout"] == ("61", a[1] + ":2") and o["log.level"] == ("debug", "command line: -v") and
	 o["sources.rewrite"] == ("https://a.invalid/ https://b.invalid/", "command line: --source-rewrite"))(
	{x["key"]: (x["value"], x["origin"]) for x in d["values"]}) and d["system_file"] == a[0] and d["user_file"] == a[1]' \
	"$tmp/sys.conf" "$tmp/xdg/kforge/kforge.conf"
jcheck "config --json without HOME or XDG_CONFIG_HOME: no user file" config-nouser config \
	env -u HOME -u XDG_CONFIG_HOME "$KFORGE" --root "$R/debian" config --json
jtest "... user_file null" "$tmp/config-nouser.json" 'd["user_file"] is None'

# --- plan: an external module, a module by name, an in-tree one from a source tree (headers and
# full), and folders whose names are not UTF-8 or hold quotes, backslashes and control characters
hello=$srcdir/tests/src/hello
jcheck "plan DIR --json: tests/src/hello on the debian root" plan-hello plan \
	"$KFORGE" --root "$R/debian" -k "$K" plan "$hello" --json
jtest "... the seven steps; commands with the folder they run in" "$tmp/plan-hello.json" '
	d["module"] == a[0] and d["kernel"] == a[1] and d["strategy"] == "headers" and
	any("cwd" in x for s in d["steps"] for x in s["actions"])' "$hello" "$K"
jcheck "plan btrfs --json on the debian root (from linux-source's tarball)" plan-btrfs plan \
	"$KFORGE" --root "$R/debian" -k "$K" plan btrfs --json
jtest "... btrfs, located by the debian plugin" "$tmp/plan-btrfs.json" 'd["module"] == "btrfs" and d["steps"][0]["plugin"] == "debian"'
jcheck "plan dummy --json --source tests/src/linux-mini on the arch root" plan-arch plan \
	"$KFORGE" --root "$R/arch" -k 6.6.1-arch1-1 plan dummy --json --source "$srcdir/tests/src/linux-mini"
jcheck "plan dummy --json --source ... --set CONFIG_DUMMY=m on the arch root" plan-full plan \
	"$KFORGE" --root "$R/arch" -k 6.6.1-arch1-1 plan dummy --json --source "$srcdir/tests/src/linux-mini" --set CONFIG_DUMMY=m
jtest "... the full strategy" "$tmp/plan-full.json" 'd["strategy"] == "full"'
jcheck "plan DIR --json on the fedora root" plan-fedora plan \
	"$KFORGE" --root "$R/fedora" -k 6.5.6-300.fc39.x86_64 plan "$hello" --json
ff=$tmp/$(printf 'hel\377lo')
odd=$tmp/$(printf 'a"b\\c\td\033e\177f\ng\377h\303\251\342\202\254\360\237\230\200\355\240\200\340\200\257z')
for d in "$ff" "$odd"; do mkdir -p "$d" && cp -r "$hello/." "$d/"; done
jcheck "plan DIR --json, DIR's name holding the byte 0xff: UTF-8 JSON that validates" plan-ff plan \
	"$KFORGE" --root "$R/debian" -k "$K" plan "$ff" --json
jtest "... its module, encoded back with surrogateescape, is the folder's bytes (0xff as U+DCFF); the notes name it so too" \
	"$tmp/plan-ff.json" '
	b(d["module"]) == os.fsencode(a[0]) and d["module"].endswith("hel\udcfflo") and
	any(os.fsencode(a[0]) in b(x.get("note", x.get("command"))) for s in d["steps"] for x in s["actions"])' "$ff"
jcheck "plan DIR --json, DIR's name holding a quote, a backslash, a tab, ESC, DEL, a newline, 0xff, UTF-8 and bytes that only look like it" \
	plan-odd plan "$KFORGE" --root "$R/debian" -k "$K" plan "$odd" --json
jtest "... its module gives the folder's bytes back" "$tmp/plan-odd.json" 'b(d["module"]) == os.fsencode(a[0])' "$odd"
if command -v jq >/dev/null 2>&1; then
	check "jq accepts both" sh -c 'jq -e .module "$1" >/dev/null && jq -e .module "$2" >/dev/null' _ "$tmp/plan-ff.json" "$tmp/plan-odd.json"
else
	skip "jq accepts both" "jq is not installed"
fi

# --- status, cache list and log, in a copy of the debian root where modules are installed for real
if [ -z "$synth_host" ]; then
	skip "status, cache list and log --json of real installs" "no linux-headers-6.1.0-N-amd64 installed (scripts/deps.sh installs one)"
else
	root=$tmp/root
	cp -a "$R/debian" "$root"
	synth "$root/usr/src/linux-headers-$K" "$K"
	printf '[build]\ncache_dir = /var/cache/kforge-json\n' >"$tmp/cache.conf"
	kr() { KFORGE_SYSTEM_CONFIG=$tmp/cache.conf "$KFORGE" --root "$root" "$@"; }
	logdir=$root/var/log/kforge

	jcheck "status --json, nothing installed" status-empty status kr status --json
	jtest "... no module, nothing repaired, no DKMS tree" "$tmp/status-empty.json" '
		d["modules"] == [] and d["repaired"] is None and d["dkms"]["found"] is False and d["dkms"]["packages"] == []'
	jcheck "cache list --json, an empty cache" cache-empty cache-list kr cache list --json
	jtest "... no entry, the cache build.cache_dir under the root" "$tmp/cache-empty.json" '
		d["entries"] == [] and d["size"] == 0 and d["cache_dir"] == a[0]' "$root/var/cache/kforge-json"
	jcheck "log --json, no log yet" log-empty log-list kr log --json
	jtest "... no log, the folder log.dir under the root" "$tmp/log-empty.json" 'd["logs"] == [] and d["dir"] == a[0]' "$logdir"
	expect_fail "log --last without a log: exit 3, said" 3 "no job log yet" kr log --last

	cp -r "$hello" "$tmp/hello"
	check "install hello for $K into the root (for what follows)" kr -k "$K" -q install "$tmp/hello"
	jcheck "status --json, hello installed" status status kr status --json
	jtest "... lists hello for $K, state ok, as installed" "$tmp/status.json" '
		[(m["module"], m["kernel"], m["state"], m["path"], m["spec"], m["kind"], m["install_dir"], m["set"], m["replaced"])
		 for m in d["modules"]] ==
		[("hello", a[0], "ok", "/usr/lib/modules/" + a[0] + "/updates/hello.ko", a[1], "external", "updates", [], [])]' \
		"$K" "$tmp/hello"

	# DKMS's tree beside: dkfake installed by DKMS, dkadded built for no kernel, dkdangle whose
	# source is gone, and a folder whose name DKMS could not have made
	tree=$root/var/lib/dkms
	ko=$root/usr/lib/modules/$K/updates/hello.ko
	dkms_pkg() { # NAME [built]: NAME/1.0 and its source link; built: built for K, its kernel link made
		mkdir -p "$tree/$1/1.0"
		ln -s "/usr/src/$1-1.0" "$tree/$1/1.0/source"
		[ $# -gt 1 ] || return 0
		mkdir -p "$tree/$1/1.0/$K/x86_64/module"
		cp "$ko" "$tree/$1/1.0/$K/x86_64/module/$1.ko"
		ln -s "1.0/$K/x86_64" "$tree/$1/kernel-$K-x86_64"
	}
	mkdir -p "$root/usr/src/dkfake-1.0" "$root/usr/src/dkadded-1.0" "$root/usr/lib/modules/$K/updates/dkms" "$tree/bad name"
	dkms_pkg dkfake built
	cp "$ko" "$root/usr/lib/modules/$K/updates/dkms/dkfake.ko"
	dkms_pkg dkadded
	dkms_pkg dkdangle built
	jcheck "status --json with DKMS's tree beside" status-dkms status kr status --json
	jtest "... DKMS's packages: installed; added, for no kernel; broken, with its problem; the odd folder a problem" \
		"$tmp/status-dkms.json" '
		(lambda p: sorted(p) == ["dkadded", "dkdangle", "dkfake"] and
		 p["dkfake"]["state"] == "installed" and p["dkfake"]["installed"] is True and
		 p["dkfake"]["modules"][0]["path"] == "/lib/modules/%s/updates/dkms/dkfake.ko" % a[0] and
		 p["dkadded"]["state"] == "added" and p["dkadded"]["kernel"] is None and p["dkadded"]["arch"] is None and
		 p["dkdangle"]["state"] == "broken" and "dangles" in p["dkdangle"]["problem"] and
		 p["dkdangle"]["modules"][0]["path"] is None)({x["package"]: x for x in d["dkms"]["packages"]}) and
		d["dkms"]["found"] is True and len(d["dkms"]["problems"]) == 1 and "bad name" in d["dkms"]["problems"][0]' "$K"
	# kforge installs its own dkfake: DKMS's copy is moved aside, kept, and listed as replaced
	mkdir -p "$tmp/dkfake"
	echo 'obj-m += dkfake.o' >"$tmp/dkfake/Kbuild"
	printf '// SPDX-License-Identifier: GPL-2.0\n#include <linux/module.h>\nstatic int __init m_init(void) { return 0; }\nmodule_init(m_init);\nMODULE_LICENSE("GPL");\n' \
		>"$tmp/dkfake/dkfake.c"
	check "install dkfake, which DKMS installed too, for $K (for what follows)" kr -k "$K" -q install "$tmp/dkfake"
	jcheck "status --json, dkfake replacing DKMS's copy" status-replaced status kr status --json
	jtest "... dkfake's record lists DKMS's file it replaced and the copy kept" "$tmp/status-replaced.json" '
		(lambda r: len(r) == 1 and r[0]["path"] == "/usr/lib/modules/%s/updates/dkms/dkfake.ko" % a[0] and
		 r[0]["backup"].startswith("/var/lib/kforge/backups/"))(
		[x for m in d["modules"] if m["module"] == "dkfake" for x in m["replaced"]]) and
		[m["state"] for m in d["modules"]] == ["ok", "ok"]' "$K"

	echo "a download" >"$tmp/blob.txt"
	sha=$(sha256sum "$tmp/blob.txt" | cut -d' ' -f1)
	check "cache fetch file://.../blob.txt into the cache (for what follows)" kr cache fetch "file://$tmp/blob.txt" blob.txt "sha256:$sha"
	jcheck "cache list --json after the installs and the fetch" cache cache-list kr cache list --json
	jtest "... the build folders, the kept builds and the download, with its name and URL; size their sum" "$tmp/cache.json" '
		{"work", "build", "download"} <= {e["kind"] for e in d["entries"]} and d["size"] == sum(e["size"] for e in d["entries"]) and
		[(e["name"], e["url"]) for e in d["entries"] if e["kind"] == "download"] == [("blob.txt", "file://" + a[0])] and
		all(e["path"] == d["cache_dir"] + "/" + e["key"] for e in d["entries"])' "$tmp/blob.txt"

	# two logs older than the jobs': one without kforge's first line, in bytes that are not UTF-8,
	# and one whose characters straddle json_file's 64 KiB reads, with a NUL and broken sequences
	garbage=20200101-000000-garbage.log
	boundary=20200102-000000-install-boundary-$K-1.log
	printf '\377\376 not a kforge log\n' >"$logdir/$garbage"
	/usr/bin/python3 - "$logdir/$boundary" "$K" <<'EOF'
import sys
head = ("# kforge install /src/boundary for %s (root /)\n" % sys.argv[2]).encode()
text = head + b"x" * (65538 - len(head)) + "\U0001f600".encode()
text += ("\u00e9\u20ac\U0001f600".encode() + b"\xff\xfe\xc3(\xed\xa0\x80\x00 ok\n") * 9000
text += b"# result: ok through step 7, refresh initramfs\n"
open(sys.argv[1], "wb").write(text)
EOF
	touch -d '2020-01-01 00:00:00' "$logdir/$garbage"
	touch -d '2020-01-02 00:00:00' "$logdir/$boundary"
	newest=$(ls -t "$logdir" | head -n1)
	jcheck "log --json: the job logs" log-list log-list kr log --json
	jtest "... oldest first, each with its size; hello's install with its job and result; job and result null for the garbage" \
		"$tmp/log-list.json" '
		(lambda t: t == sorted(t))([__import__("datetime").datetime.strptime(x["time"], "%Y-%m-%dT%H:%M:%S%z") for x in d["logs"]]) and
		all(x["size"] == os.path.getsize(os.path.join(d["dir"], x["name"])) for x in d["logs"]) and
		(d["logs"][0]["name"], d["logs"][0]["job"], d["logs"][0]["result"]) == (a[3], None, None) and
		any(x["job"] == "install %s for %s" % (a[0], a[1]) and x["result"] == "ok through step 7, refresh initramfs" for x in d["logs"]) and
		d["dir"] == a[2] and len(d["logs"]) >= 5' "$tmp/hello" "$K" "$logdir" "$garbage"
	jcheck "log --last --json: the newest log" log-last log kr log --last --json
	jtest "... $newest: its path, its text the file's bytes" "$tmp/log-last.json" '
		d["name"] == a[0] and d["path"] == a[1] + "/" + a[0] and b(d["text"]) == open(d["path"], "rb").read()' "$newest" "$logdir"
	jcheck "log install-hello --json (a unique part of the name)" log-hello log kr log install-hello --json
	jtest "... hello's install: its job, its result, its text" "$tmp/log-hello.json" '
		d["job"] == "install %s for %s" % (a[0], a[1]) and d["result"] == "ok through step 7, refresh initramfs" and
		b(d["text"]) == open(d["path"], "rb").read() and d["text"].startswith("# kforge install " + a[0])' "$tmp/hello" "$K"
	jcheck "log boundary --json: characters across json_file's reads, bytes that are not UTF-8, a NUL" log-boundary log \
		kr log boundary --json
	jtest "... its text gives the file's bytes back" "$tmp/log-boundary.json" '
		b(d["text"]) == open(a[0], "rb").read() and d["job"] == "install /src/boundary for " + a[1] and
		d["result"] == "ok through step 7, refresh initramfs"' "$logdir/$boundary" "$K"
	jcheck "log garbage --json" log-garbage log kr log garbage --json
	jtest "... job and result null, the text its bytes" "$tmp/log-garbage.json" '
		d["job"] is None and d["result"] is None and b(d["text"]) == b"\xff\xfe not a kforge log\n"'

	# the log command's text and errors
	kr log >"$tmp/log.txt" 2>&1
	check "log lists the job logs, oldest first: time, job, result, name" sh -c '
		grep -qE "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} +install $2 for $3 +ok through step 7, refresh initramfs +[0-9]{8}-[0-9]{6}-install-hello-$3-[0-9]+\.log\$" "$1" &&
		[ "$(sed -n 2p "$1" | awk "{print \$NF}")" = "$5" ] && grep -q "^# in $4; " "$1"' \
		_ "$tmp/log.txt" "$tmp/hello" "$K" "$logdir" "$garbage" || sed 's/^/# /' "$tmp/log.txt"
	kr log --last >"$tmp/last.txt" 2>"$tmp/last.err"
	check "log --last prints the newest log ($newest), whole" cmp "$tmp/last.txt" "$logdir/$newest"
	expect_fail "log NOSUCH: exit 3, said" 3 "NOSUCH: no job log of that name" kr log NOSUCH
	expect_fail "log --last X: exit 2, said" 2 "log takes one JOB" kr log --last X
	expect_fail "log with a part of several names: exit 2, said" 2 "install is part of" kr log install

	# an uninstall killed once its journal is saved: the next status rolls it back and says so
	(KFORGE_TEST_KILL_AT=2 kr -k "$K" -q uninstall dkfake) >/dev/null 2>&1
	jcheck "status --json after an uninstall killed in its transaction" status-repaired status kr status --json
	jtest "... repaired says what it rolled back; dkfake and hello still ok" "$tmp/status-repaired.json" '
		"uninstall of dkfake for " + a[0] in d["repaired"] and "rolled it back" in d["repaired"] and
		[(m["module"], m["state"]) for m in d["modules"]] == [("dkfake", "ok"), ("hello", "ok")]' "$K"

	check "status.schema.json bites: the real output with a member taken out, retyped or added fails" \
		bites status "$tmp/status-repaired.json"
	check "cache-list.schema.json bites" bites cache-list "$tmp/cache.json" ccache
	check "log-list.schema.json bites" bites log-list "$tmp/log-list.json"
	check "log.schema.json bites" bites log "$tmp/log-hello.json"
fi

# --- the schemas bite: their real output broken in any one place does not validate
check "info.schema.json bites: the real output with a member taken out, retyped or added fails" \
	bites info "$tmp/info-arch-6.6.1-arch1-1.json" facts/
check "plugins.schema.json bites" bites plugins "$tmp/plugins.json"
check "config.schema.json bites" bites config "$tmp/config-set.json"
check "plan.schema.json bites" bites plan "$tmp/plan-hello.json" cwd

if command -v jq >/dev/null 2>&1; then
	check "jq accepts every output validated here" sh -c 'for f; do jq . "$f" >/dev/null || { echo "jq refuses $f"; exit 1; }; done' \
		_ "$tmp"/*.json
else
	skip "jq accepts every output validated here" "jq is not installed"
fi
tap_done
