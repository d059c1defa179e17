#!/usr/bin/env python3
"""layers.py: the core's layers, checked on the built objects (nm): every call between two files of
core/ goes down the layers base < kernel < source < txn < pipeline < dkms < cli (or stays in one), and no two files
call each other in a circle. TAP output; run by make check as tests/layers.sh.

Usage: layers.py BUILDDIR  (the objects are BUILDDIR/core/LAYER/[.libs/]*.o, as libtool leaves them)
"""
import glob
import os
import subprocess
import sys

LAYERS = ["base", "kernel", "source", "txn", "pipeline", "dkms", "cli"]


def symbols(obj):
    out = subprocess.run(["nm", "-P", obj], check=True, capture_output=True, text=True).stdout
    defined, undefined = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        name, kind = parts[0], parts[1]
        if kind == "U":
            undefined.add(name)
        elif kind in "TDBRW" or kind in "VG":
            defined.add(name)
    return defined, undefined


def source_name(obj):
    # core/pipeline/libkforge_internal_la-job-state.o -> pipeline/job-state.c ; core/cli/kforge-main.o -> cli/main.c
    d = os.path.dirname(obj)
    if os.path.basename(d) == ".libs":
        d = os.path.dirname(d)
    layer = os.path.basename(d)
    leaf = os.path.basename(obj)[: -len(".o")]
    for prefix in ("libkforge_internal_la-", "kforge-"):
        if leaf.startswith(prefix):
            leaf = leaf[len(prefix):]
    return layer, "%s/%s.c" % (layer, leaf)


def main():
    build = sys.argv[1]
    objs = sorted(glob.glob(os.path.join(build, "core", "*", "*.o")) + glob.glob(os.path.join(build, "core", "*", ".libs", "*.o")))
    files, owner = {}, {}
    for obj in objs:
        layer, name = source_name(obj)
        if layer not in LAYERS:
            continue
        d, u = symbols(obj)
        files[name] = (layer, u)
        for s in d:
            owner[s] = name
    n = 0
    failed = 0
    edges = {f: set() for f in files}
    for f, (layer, undefined) in sorted(files.items()):
        up = []
        for s in sorted(undefined):
            g = owner.get(s)
            if not g or g == f:
                continue
            edges[f].add(g)
            if LAYERS.index(files[g][0]) > LAYERS.index(layer):
                up.append("%s (%s)" % (s, g))
        n += 1
        if up:
            failed += 1
            print("not ok %d - %s calls only its own layer and those below" % (n, f))
            for x in up:
                print("# calls up into %s" % x)
        else:
            print("ok %d - %s calls only its own layer and those below" % (n, f))
    # circles: strongly connected components of more than one file (Tarjan)
    index, low, stack, on, comps = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    n += 1
    if comps:
        failed += 1
        print("not ok %d - no two files of core/ call each other in a circle" % n)
        for c in comps:
            print("# circle: %s" % " <-> ".join(c))
    else:
        print("ok %d - no two files of core/ call each other in a circle" % n)
    n += 1
    if len(files) < 20:
        failed += 1
        print("not ok %d - the objects of core/ were found (%d files under %s/core)" % (n, len(files), build))
    else:
        print("ok %d - the objects of core/ were found (%d files)" % (n, len(files)))
    print("1..%d" % n)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
