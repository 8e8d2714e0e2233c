#!/usr/bin/env python3
"""A counting HTTP proxy in front of an S3 server (s3rver), for
storage_requests_bench.sh: forwards every request unchanged and counts
requests by bucket and kind (LIST, GET, PUT, DELETE, POST, HEAD) with the
request and response body bytes. GET /__counts returns the counts as JSON;
POST /__reset zeroes them. Path-style only (http://host:port/BUCKET/KEY).

usage: s3_count_proxy.py LISTEN_PORT UPSTREAM_PORT
"""
import http.client
import http.server
import json
import sys
import threading
from urllib.parse import urlsplit, parse_qs

LOCK = threading.Lock()
COUNTS = {}


def kind_of(method, path):
    parts = urlsplit(path)
    segs = [s for s in parts.path.split("/") if s]
    q = parse_qs(parts.query, keep_blank_values=True)
    if method == "GET" and (len(segs) <= 1 or "list-type" in q or "prefix" in q):
        return "LIST"
    if method == "POST" and "delete" in q:
        return "DELETE"
    return method


def count(bucket, kind, up, down):
    with LOCK:
        b = COUNTS.setdefault(bucket, {})
        k = b.setdefault(kind, {"n": 0, "up": 0, "down": 0})
        k["n"] += 1
        k["up"] += up
        k["down"] += down


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _proxy(self):
        if self.path == "/__counts":
            with LOCK:
                body = json.dumps(COUNTS).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if self.path == "/__reset":
            with LOCK:
                COUNTS.clear()
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in ("connection", "keep-alive")}
        conn = http.client.HTTPConnection("127.0.0.1", UPSTREAM, timeout=120)
        conn.request(self.command, self.path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        self.send_response(resp.status, resp.reason)
        for k, v in resp.getheaders():
            if k.lower() in ("connection", "keep-alive", "transfer-encoding",
                             "content-length"):
                continue
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        conn.close()
        segs = [s for s in urlsplit(self.path).path.split("/") if s]
        count(segs[0] if segs else "", kind_of(self.command, self.path),
              len(body), len(data))

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _proxy


if __name__ == "__main__":
    UPSTREAM = int(sys.argv[2])
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])),
                                          Handler)
    print("proxy listening", flush=True)
    srv.serve_forever()
