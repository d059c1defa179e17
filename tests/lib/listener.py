#!/usr/bin/env python3
"""listener.py PORTFILE CONNSFILE: listens on 127.0.0.1 (a free port, written to PORTFILE once
bound) and writes the number of connections it accepted to CONNSFILE after each one. The tests
start it to show that a sandboxed child cannot reach the network."""
import os
import socket
import sys

s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
n = 0
while True:
    c, _ = s.accept()
    n += 1
    with open(sys.argv[2], "w") as f:
        f.write(str(n))
    c.close()
