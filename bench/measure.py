#!/usr/bin/env python3
"""measure.py CMD...: runs CMD, its output thrown away, and prints "WALL USER SYS PEAK_KIB": the
wall-clock seconds, the CPU seconds of CMD and everything it waited for, and the peak resident
memory of the largest of those processes (getrusage's RUSAGE_CHILDREN). Exits with CMD's status."""
import resource
import subprocess
import sys
import time

t0 = time.monotonic()
r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
t1 = time.monotonic()
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{t1 - t0:.4f} {u.ru_utime:.4f} {u.ru_stime:.4f} {u.ru_maxrss}")
sys.exit(r.returncode)
