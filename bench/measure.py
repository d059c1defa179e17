#!/usr/bin/env python3
"""measure.py CMD...: runs CMD, its output thrown away, and prints "WALL USER SYS PEAK_KIB BUSY":
the wall-clock seconds, the CPU seconds of CMD and everything it waited for, the peak resident
memory of the largest of those processes (getrusage's RUSAGE_CHILDREN), and the CPU seconds the
whole machine was busy meanwhile (/proc/stat: what a sandbox's processes spent too, which a pid
namespace keeps out of RUSAGE_CHILDREN; on an otherwise idle machine, CMD's). Exits with CMD's
status."""
import os
import resource
import subprocess
import sys
import time


def busy():
    """The CPU seconds all cores spent busy since boot (user, nice, system, irq, softirq, steal)."""
    with open("/proc/stat", encoding="ascii") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / os.sysconf("SC_CLK_TCK")


b0 = busy()
t0 = time.monotonic()
r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
t1 = time.monotonic()
b1 = busy()
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{t1 - t0:.4f} {u.ru_utime:.4f} {u.ru_stime:.4f} {u.ru_maxrss} {b1 - b0:.4f}")
sys.exit(r.returncode)
