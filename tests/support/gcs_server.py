#!/usr/bin/env python3
"""A small Google Cloud Storage JSON-API server for litekeep's tests.

It serves one or more buckets from a data directory (objects survive a
restart) on 127.0.0.1: objects.list (prefix, pageToken, maxResults),
objects.get (metadata, or alt=media with Range and ifGenerationMatch),
objects.insert (uploadType=media, multipart and resumable, ifGenerationMatch,
md5Hash/crc32c checks), objects.delete; an OAuth token endpoint that checks
RS256 service-account JWTs against a public key, a GCE metadata token
endpoint, bearer-token checks on every storage request, and a control
endpoint for faults (503s, truncated bodies) and counters. It is held to
Google's own Node client (@google-cloud/storage) by the tests
(docs/config.md "Google Cloud Storage").
"""

import argparse
import base64
import hashlib
import json
import os
import re
import secrets
import sys
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CRC32C_MAX = 4 << 20  # larger objects are stored without a crc32c
_CRC_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _CRC_TABLE.append(_c)


def crc32c(data):
    crc = 0xFFFFFFFF
    table = _CRC_TABLE
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def b64(raw):
    return base64.b64encode(raw).decode()


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % (
        int(t * 1000) % 1000)


class State:
    """Objects, upload sessions and tokens on disk; counters and faults in memory."""

    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.data = args.data
        for sub in ("objects", "uploads"):
            os.makedirs(os.path.join(self.data, sub), exist_ok=True)
        for bucket in args.bucket:
            os.makedirs(self.bucket_dir(bucket), exist_ok=True)
        self.public_key = None
        if args.public_key:
            from cryptography.hazmat.primitives import serialization
            with open(args.public_key, "rb") as f:
                self.public_key = serialization.load_pem_public_key(f.read())
        self.stats = {"list": 0, "get": 0, "meta": 0, "insert": 0,
                      "resumable_chunks": 0, "delete": 0, "tokens_issued": 0,
                      "jwt_verified": 0, "jwt_rejected": 0,
                      "metadata_tokens": 0, "unauthorized": 0, "faults": 0}
        self.faults = []  # [{"count", "status", "match", "mode"}]

    # ---- storage ----
    def bucket_dir(self, bucket):
        return os.path.join(self.data, "objects", urllib.parse.quote(bucket, safe=""))

    def object_path(self, bucket, name):
        return os.path.join(self.bucket_dir(bucket), urllib.parse.quote(name, safe=""))

    def read_meta(self, bucket, name):
        try:
            with open(self.object_path(bucket, name) + ".json") as f:
                return json.load(f)
        except FileNotFoundError:
            return None

    def read_data(self, bucket, name):
        with open(self.object_path(bucket, name) + ".bin", "rb") as f:
            return f.read()

    def write_object(self, bucket, name, data, resource):
        base = self.object_path(bucket, name)
        now = time.time()
        meta = {
            "kind": "storage#object",
            "bucket": bucket,
            "name": name,
            "id": "%s/%s" % (bucket, name),
            "size": str(len(data)),
            "generation": str(time.time_ns()),
            "metageneration": "1",
            "contentType": resource.get("contentType") or "application/octet-stream",
            "md5Hash": b64(hashlib.md5(data).digest()),
            "timeCreated": rfc3339(now),
            "updated": rfc3339(now),
            "storageClass": "STANDARD",
        }
        # CRC32C in pure Python is slow (~4 MB/s): large objects go without
        # it and clients check their MD5 instead.
        if len(data) <= CRC32C_MAX:
            meta["crc32c"] = b64(crc32c(data).to_bytes(4, "big"))
        meta["etag"] = meta["md5Hash"]
        if resource.get("metadata"):
            meta["metadata"] = {k: str(v) for k, v in resource["metadata"].items()}
        # Atomic: data first, then the metadata that makes it visible.
        for suffix, content in ((".bin", data), (".json", json.dumps(meta).encode())):
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(base))
            with os.fdopen(fd, "wb") as f:
                f.write(content)
            os.replace(tmp, base + suffix)
        return meta

    def delete_object(self, bucket, name):
        base = self.object_path(bucket, name)
        if not os.path.exists(base + ".json"):
            return False
        os.unlink(base + ".json")
        try:
            os.unlink(base + ".bin")
        except FileNotFoundError:
            pass
        return True

    def list_names(self, bucket):
        names = []
        for entry in os.listdir(self.bucket_dir(bucket)):
            if entry.endswith(".json"):
                names.append(urllib.parse.unquote(entry[:-5]))
        return sorted(names)

    # ---- tokens ----
    def tokens_file(self):
        return os.path.join(self.data, "tokens.json")

    def load_tokens(self):
        try:
            with open(self.tokens_file()) as f:
                return json.load(f)
        except (FileNotFoundError, ValueError):
            return {}

    def issue_token(self):
        token = "ya29.test-" + secrets.token_hex(24)
        with self.lock:
            tokens = self.load_tokens()
            now = time.time()
            tokens = {k: v for k, v in tokens.items() if v > now}
            tokens[token] = now + self.args.token_lifetime
            with open(self.tokens_file(), "w") as f:
                json.dump(tokens, f)
            self.stats["tokens_issued"] += 1
        return {"access_token": token, "expires_in": self.args.token_lifetime,
                "token_type": "Bearer"}

    def token_valid(self, token):
        with self.lock:
            expiry = self.load_tokens().get(token)
        return expiry is not None and expiry > time.time()

    def take_fault(self, kind):
        with self.lock:
            for fault in self.faults:
                if fault["count"] > 0 and (not fault.get("match") or fault["match"] == kind):
                    fault["count"] -= 1
                    self.stats["faults"] += 1
                    return fault
        return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "gcs-test-server"

    def log_message(self, fmt, *args):  # quiet: tests read the log on failure
        if self.server.state.args.verbose:
            sys.stderr.write("%s\n" % (fmt % args))

    # ---- plumbing ----
    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                line = self.rfile.readline().strip()
                size = int(line.split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline().strip():
                        pass
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def send(self, status, body=b"", headers=None, content_type="application/json"):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        self.send_response(status)
        if body or status not in (204, 304):
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def error(self, status, reason, message):
        self.send(status, {"error": {"code": status, "message": message,
                                     "errors": [{"domain": "global", "reason": reason,
                                                 "message": message}]}})

    def authorized(self):
        args = self.server.state.args
        if not args.require_token:
            return True
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer ") and self.server.state.token_valid(auth[7:]):
            return True
        with self.server.state.lock:
            self.server.state.stats["unauthorized"] += 1
        self.error(401, "authError", "Invalid Credentials")
        return False

    def fault(self, kind):
        f = self.server.state.take_fault(kind)
        if f is None:
            return None
        if f.get("mode") == "status":
            self.error(f.get("status", 503), "backendError", "injected fault")
            return "done"
        return f  # a body fault the handler applies

    def route(self):
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        path = url.path
        # As other GCS emulators: the JSON API also without its /storage/v1
        # prefix (the Node client's STORAGE_EMULATOR_HOST base URL).
        if path.startswith("/b/"):
            path = "/storage/v1" + path
        return path, q

    # ---- methods ----
    def do_GET(self):
        path, q = self.route()
        if path == "/_control/stats":
            with self.server.state.lock:
                return self.send(200, dict(self.server.state.stats))
        if path == "/computeMetadata/v1/instance/service-accounts/default/token":
            if self.headers.get("Metadata-Flavor") != "Google":
                return self.error(403, "forbidden", "Missing Metadata-Flavor: Google")
            with self.server.state.lock:
                self.server.state.stats["metadata_tokens"] += 1
            return self.send(200, self.server.state.issue_token())
        m = re.fullmatch(r"/storage/v1/b/([^/]+)/o", path)
        if m:
            return self.list_objects(urllib.parse.unquote(m.group(1)), q)
        m = re.fullmatch(r"/storage/v1/b/([^/]+)/o/(.+)", path)
        if m:
            return self.get_object(urllib.parse.unquote(m.group(1)),
                                   urllib.parse.unquote(m.group(2)), q)
        m = re.fullmatch(r"/download/storage/v1/b/([^/]+)/o/(.+)", path)
        if m:
            return self.get_object(urllib.parse.unquote(m.group(1)),
                                   urllib.parse.unquote(m.group(2)), q)
        self.error(404, "notFound", "No such route: " + path)

    def do_DELETE(self):
        path, q = self.route()
        m = re.fullmatch(r"/storage/v1/b/([^/]+)/o/(.+)", path)
        if not m:
            return self.error(404, "notFound", "No such route")
        self.read_body()
        if not self.authorized() or self.fault("delete"):
            return
        bucket, name = urllib.parse.unquote(m.group(1)), urllib.parse.unquote(m.group(2))
        state = self.server.state
        with state.lock:
            state.stats["delete"] += 1
        if not os.path.isdir(state.bucket_dir(bucket)):
            return self.error(404, "notFound", "The specified bucket does not exist.")
        if not state.delete_object(bucket, name):
            return self.error(404, "notFound", "No such object: %s/%s" % (bucket, name))
        self.send(204)

    def do_POST(self):
        path, q = self.route()
        body = self.read_body()
        if path == "/token":
            return self.token(body)
        if path == "/_control/fault":
            fault = json.loads(body or b"{}")
            fault.setdefault("count", 1)
            fault.setdefault("mode", "status")
            with self.server.state.lock:
                self.server.state.faults.append(fault)
            return self.send(200, {"ok": True})
        m = re.fullmatch(r"/upload/storage/v1/b/([^/]+)/o", path)
        if m:
            return self.insert(urllib.parse.unquote(m.group(1)), q, body)
        self.error(404, "notFound", "No such route: " + path)

    def do_PUT(self):
        path, q = self.route()
        body = self.read_body()
        m = re.fullmatch(r"/upload/storage/v1/b/([^/]+)/o", path)
        if self.server.state.args.verbose:
            sys.stderr.write("PUT Content-Range=%r len=%d\n" % (self.headers.get("Content-Range"), len(body)))
        if m and q.get("upload_id"):
            return self.resumable_chunk(q["upload_id"], body)
        self.error(404, "notFound", "No such route: " + path)

    # ---- handlers ----
    def token(self, body):
        state = self.server.state
        form = dict(urllib.parse.parse_qsl(body.decode()))
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return self.send(400, {"error": "unsupported_grant_type"})
        try:
            head, claims, sig = form["assertion"].split(".")
            header = json.loads(b64url_decode(head))
            payload = json.loads(b64url_decode(claims))
            if header.get("alg") != "RS256" or state.public_key is None:
                raise ValueError("alg")
            from cryptography.hazmat.primitives import hashes
            from cryptography.hazmat.primitives.asymmetric import padding
            state.public_key.verify(b64url_decode(sig), (head + "." + claims).encode(),
                                    padding.PKCS1v15(), hashes.SHA256())
            now = time.time()
            expected_aud = "http://127.0.0.1:%d/token" % state.args.port
            if payload.get("aud") != expected_aud:
                raise ValueError("aud")
            if not (payload.get("iat", 0) - 60 <= now < payload.get("exp", 0)):
                raise ValueError("time")
            if "devstorage" not in payload.get("scope", ""):
                raise ValueError("scope")
            if state.args.client_email and payload.get("iss") != state.args.client_email:
                raise ValueError("iss")
        except Exception as e:  # any malformed or wrongly signed assertion
            with state.lock:
                state.stats["jwt_rejected"] += 1
            sys.stderr.write("token: rejected assertion (%s)\n" % type(e).__name__)
            return self.send(400, {"error": "invalid_grant",
                                   "error_description": "Invalid JWT Signature."})
        with state.lock:
            state.stats["jwt_verified"] += 1
        self.send(200, state.issue_token())

    def list_objects(self, bucket, q):
        state = self.server.state
        if not self.authorized() or self.fault("list"):
            return
        with state.lock:
            state.stats["list"] += 1
        if not os.path.isdir(state.bucket_dir(bucket)):
            return self.error(404, "notFound", "The specified bucket does not exist.")
        prefix = q.get("prefix", "")
        max_results = int(q.get("maxResults") or 1000)
        start = q.get("pageToken")
        start = base64.urlsafe_b64decode(start).decode() if start else ""
        names = [n for n in state.list_names(bucket) if n.startswith(prefix) and n >= start]
        delimiter = q.get("delimiter")
        items, prefixes = [], set()
        next_token = None
        for name in names:
            if delimiter:
                rest = name[len(prefix):]
                if delimiter in rest:
                    prefixes.add(prefix + rest[:rest.index(delimiter) + len(delimiter)])
                    continue
            if len(items) >= max_results:
                next_token = base64.urlsafe_b64encode(name.encode()).decode()
                break
            meta = state.read_meta(bucket, name)
            if meta is not None:
                items.append(meta)
        out = {"kind": "storage#objects"}
        if items:
            out["items"] = items
        if prefixes:
            out["prefixes"] = sorted(prefixes)
        if next_token:
            out["nextPageToken"] = next_token
        self.send(200, out)

    def get_object(self, bucket, name, q):
        state = self.server.state
        media = q.get("alt") == "media"
        if not self.authorized():
            return
        f = self.fault("get" if media else "meta")
        if f == "done":
            return
        with state.lock:
            state.stats["get" if media else "meta"] += 1
        if not os.path.isdir(state.bucket_dir(bucket)):
            return self.error(404, "notFound", "The specified bucket does not exist.")
        meta = state.read_meta(bucket, name)
        if meta is None:
            return self.error(404, "notFound", "No such object: %s/%s" % (bucket, name))
        if "ifGenerationMatch" in q and q["ifGenerationMatch"] != meta["generation"]:
            return self.error(412, "conditionNotMet", "At least one of the pre-conditions you specified did not hold.")
        if not media:
            return self.send(200, meta)
        data = state.read_data(bucket, name)
        headers = {"x-goog-generation": meta["generation"],
                   "x-goog-metageneration": "1",
                   "x-goog-stored-content-length": str(len(data)),
                   "x-goog-hash": ("crc32c=%s," % meta["crc32c"] if "crc32c" in meta else "")
                   + "md5=" + meta["md5Hash"],
                   "ETag": meta["etag"], "Accept-Ranges": "bytes"}
        status = 200
        rng = self.headers.get("Range")
        if rng:
            m = re.fullmatch(r"bytes=(\d*)-(\d*)", rng.strip())
            if not m:
                return self.error(400, "invalid", "Bad Range")
            if m.group(1) == "":
                n = int(m.group(2))
                a, b = max(0, len(data) - n), len(data) - 1
            else:
                a = int(m.group(1))
                b = int(m.group(2)) if m.group(2) else len(data) - 1
            if a >= len(data):
                return self.send(416, {"error": {"code": 416, "message": "Requested range not satisfiable"}},
                                 {"Content-Range": "bytes */%d" % len(data)})
            b = min(b, len(data) - 1)
            headers["Content-Range"] = "bytes %d-%d/%d" % (a, b, len(data))
            data = data[a:b + 1]
            status = 206
        if isinstance(f, dict) and f.get("mode") == "truncate":
            # Announce every byte, send half, then drop the connection.
            self.send_response(status)
            self.send_header("Content-Type", meta["contentType"])
            self.send_header("Content-Length", str(len(data)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data[:len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.send(status, data, headers, content_type=meta["contentType"])

    def check_preconditions(self, bucket, name, q):
        meta = self.server.state.read_meta(bucket, name)
        if "ifGenerationMatch" in q:
            want = q["ifGenerationMatch"]
            have = meta["generation"] if meta else "0"
            if want != have:
                self.error(412, "conditionNotMet",
                           "At least one of the pre-conditions you specified did not hold.")
                return False
        return True

    def finish_insert(self, bucket, name, data, resource, q):
        state = self.server.state
        if resource.get("md5Hash") and resource["md5Hash"] != b64(hashlib.md5(data).digest()):
            return self.error(400, "invalid", "Provided MD5 hash does not match the object data.")
        if resource.get("crc32c") and resource["crc32c"] != b64(crc32c(data).to_bytes(4, "big")):
            return self.error(400, "invalid", "Provided CRC32C does not match the object data.")
        with state.lock:
            if not self.check_preconditions(bucket, name, q):
                return None
            meta = state.write_object(bucket, name, data, resource)
        self.send(200, meta)

    def insert(self, bucket, q, body):
        state = self.server.state
        if not self.authorized() or self.fault("insert"):
            return
        with state.lock:
            state.stats["insert"] += 1
        if not os.path.isdir(state.bucket_dir(bucket)):
            return self.error(404, "notFound", "The specified bucket does not exist.")
        kind = q.get("uploadType", "media")
        if kind == "media":
            name = q.get("name", "")
            if not name:
                return self.error(400, "required", "Required parameter: name")
            return self.finish_insert(bucket, name, body, {"contentType": self.headers.get("Content-Type")}, q)
        if kind == "multipart":
            m = re.search(r'boundary="?([^";]+)"?', self.headers.get("Content-Type", ""))
            if not m:
                return self.error(400, "invalid", "multipart without boundary")
            delim = b"--" + m.group(1).encode()
            parts = body.split(delim)
            # ['', part1, part2, '--\r\n']
            if len(parts) < 4:
                return self.error(400, "invalid", "multipart needs metadata and media")

            def part_body(p):
                head, _, content = p.partition(b"\r\n\r\n")
                if content.endswith(b"\r\n"):
                    content = content[:-2]
                return content
            resource = json.loads(part_body(parts[1]) or b"{}")
            data = part_body(parts[2])
            name = resource.get("name") or q.get("name", "")
            if not name:
                return self.error(400, "required", "Required parameter: name")
            return self.finish_insert(bucket, name, data, resource, q)
        if kind == "resumable":
            resource = json.loads(body or b"{}")
            name = resource.get("name") or q.get("name", "")
            if not name:
                return self.error(400, "required", "Required parameter: name")
            upload_id = secrets.token_hex(16)
            session = {"bucket": bucket, "name": name, "resource": resource,
                       "query": {k: v for k, v in q.items() if k.startswith("if")}}
            udir = os.path.join(state.data, "uploads")
            with open(os.path.join(udir, upload_id + ".json"), "w") as f:
                json.dump(session, f)
            open(os.path.join(udir, upload_id + ".bin"), "wb").close()
            host = self.headers.get("Host", "127.0.0.1:%d" % state.args.port)
            location = "http://%s/upload/storage/v1/b/%s/o?uploadType=resumable&upload_id=%s" % (
                host, urllib.parse.quote(bucket, safe=""), upload_id)
            return self.send(200, b"", {"Location": location, "X-GUploader-UploadID": upload_id})
        self.error(400, "invalid", "Unknown uploadType " + kind)

    def resumable_chunk(self, upload_id, body):
        state = self.server.state
        if not re.fullmatch(r"[0-9a-f]{32}", upload_id):
            return self.error(404, "notFound", "No such upload")
        udir = os.path.join(state.data, "uploads")
        try:
            with open(os.path.join(udir, upload_id + ".json")) as f:
                session = json.load(f)
        except FileNotFoundError:
            return self.error(404, "notFound", "No such upload")
        if session.get("done"):
            meta = state.read_meta(session["bucket"], session["name"])
            return self.send(200, meta or {})
        if self.fault("chunk"):
            return
        with state.lock:
            state.stats["resumable_chunks"] += 1
        path = os.path.join(udir, upload_id + ".bin")
        have = os.path.getsize(path)
        cr = self.headers.get("Content-Range", "")
        m = re.fullmatch(r"bytes (\*|(\d+)-(\d+|\*))/(\*|\d+)", cr.strip()) if cr else None
        if cr and not m:
            return self.error(400, "invalid", "Bad Content-Range " + cr)
        total = None
        if m and m.group(4) != "*":
            total = int(m.group(4))
        if m and m.group(3) == "*":
            # "bytes A-*/T": this body is the rest of the object (one-request
            # upload of unknown length, as Google's Node client sends).
            first = int(m.group(2))
            if first > have:
                return self.error(400, "invalid", "Chunk starts past the bytes received")
            with open(path, "ab") as f:
                f.write(body[have - first:])
            have = os.path.getsize(path)
            total = have if total is None else total
        elif m and m.group(1) != "*":
            first = int(m.group(2))
            if first > have:
                return self.error(400, "invalid", "Chunk starts past the bytes received")
            # Bytes already held are not written twice.
            with open(path, "ab") as f:
                f.write(body[have - first:])
            have = os.path.getsize(path)
        elif not cr:
            with open(path, "ab") as f:
                f.write(body)
            have = os.path.getsize(path)
            total = have
        if total is not None and have >= total:
            with open(path, "rb") as f:
                data = f.read()[:total]
            q = session.get("query", {})
            resource = session["resource"]
            with state.lock:
                if not self.check_preconditions(session["bucket"], session["name"], q):
                    return None
                meta = state.write_object(session["bucket"], session["name"], data, resource)
            session["done"] = True
            with open(os.path.join(udir, upload_id + ".json"), "w") as f:
                json.dump(session, f)
            return self.send(200, meta)
        headers = {}
        if have > 0:
            headers["Range"] = "bytes=0-%d" % (have - 1)
        self.send(308, b"", headers, content_type="text/plain")


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--bucket", action="append", default=[])
    p.add_argument("--require-token", action="store_true")
    p.add_argument("--public-key", default="")
    p.add_argument("--client-email", default="")
    p.add_argument("--token-lifetime", type=int, default=3600)
    p.add_argument("--verbose", action="store_true")
    args = p.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.state = State(args)
    print("gcs test server listening on http://127.0.0.1:%d" % args.port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
