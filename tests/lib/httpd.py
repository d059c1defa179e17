#!/usr/bin/env python3
"""httpd.py: the tests' stand-in for a tarball server (kernel.org, a mirror), python3's standard library only.

Usage: httpd.py DIR [--mode MODE] [--log FILE]

Binds 127.0.0.1 on a port the system picks, writes the port on stdout (one line), and serves the
files under DIR, with Range requests (206 and Content-Range; 416 past the end). Runs until killed
(the test's trap). MODE:
  normal     every file as it is (the default)
  cut        the first response for each file sends only the first half of its body (with the
             whole Content-Length), then closes the connection; later ones are whole
  stall      sends the headers and a few bytes of the body, then nothing
  status404  answers 404 to everything
  norange    ignores Range: 200 and the whole file, as some servers do
A path under /redirect/ answers 302 to the same path without that prefix (in every mode).
--log FILE: one line per request, written before the answer: "METHOD PATH RANGE" (RANGE is the
Range header, or "-").
"""
import argparse
import http.server
import os
import posixpath
import sys
import threading
import urllib.parse


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--mode", default="normal", choices=["normal", "cut", "stall", "status404", "norange"])
    ap.add_argument("--log")
    args = ap.parse_args()
    root = os.path.realpath(args.dir)
    cut_done = set()
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        # HTTP/1.0: one request per connection, so "close the connection" ends a response
        protocol_version = "HTTP/1.0"

        def log_message(self, fmt, *a):
            pass

        def note(self):
            if not args.log:
                return
            with lock, open(args.log, "a") as f:
                f.write("%s %s %s\n" % (self.command, self.path, self.headers.get("Range") or "-"))

        def file_of(self):
            path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
            parts = [p for p in posixpath.normpath(path).split("/") if p and p != "."]
            if ".." in parts:
                return None
            full = os.path.join(root, *parts)
            return full if os.path.isfile(full) else None

        def do_HEAD(self):
            self.serve(body=False)

        def do_GET(self):
            self.serve(body=True)

        def serve(self, body):
            self.note()
            if self.path.startswith("/redirect/"):
                self.send_response(302)
                self.send_header("Location", self.path[len("/redirect"):])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            full = self.file_of()
            if args.mode == "status404" or full is None:
                self.send_error(404, "Not Found")
                return
            with open(full, "rb") as f:
                data = f.read()
            size = len(data)
            start, end, status = 0, size - 1, 200
            rng = self.headers.get("Range")
            if rng and args.mode != "norange" and rng.startswith("bytes="):
                a, _, b = rng[len("bytes="):].partition("-")
                try:
                    start = int(a) if a else 0
                    end = min(int(b), size - 1) if b else size - 1
                except ValueError:
                    start, end = 0, size - 1
                if start >= size:
                    self.send_response(416)
                    self.send_header("Content-Range", "bytes */%d" % size)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                status = 206
            part = data[start:end + 1]
            self.send_response(status)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(part)))
            self.send_header("Accept-Ranges", "none" if args.mode == "norange" else "bytes")
            if status == 206:
                self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end, size))
            self.end_headers()
            if not body:
                return
            if args.mode == "stall":
                self.wfile.write(part[:16])
                self.wfile.flush()
                threading.Event().wait()  # nothing more, until the test kills the server
                return
            if args.mode == "cut":
                with lock:
                    first = full not in cut_done
                    cut_done.add(full)
                if first:
                    self.wfile.write(part[: len(part) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
            self.wfile.write(part)

    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True

    srv = Server(("127.0.0.1", 0), Handler)
    sys.stdout.write("%d\n" % srv.server_address[1])
    sys.stdout.flush()
    srv.serve_forever()


if __name__ == "__main__":
    main()
