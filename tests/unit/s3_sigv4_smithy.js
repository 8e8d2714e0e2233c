// Signs requests with the AWS SDK for JavaScript's signer (@smithy/signature-v4)
// for the cross-check in s3_sigv4_test.cc. Input: a file of JSON lines, one
// request each; output: one JSON line per request with the canonical request
// and the Authorization header the SDK computed.
//   node s3_sigv4_smithy.js NODE_MODULES_DIR REQUESTS.jsonl
"use strict";
const path = require("path");
const fs = require("fs");
const crypto = require("crypto");

const modules = process.argv[2];
const { SignatureV4 } = require(path.join(modules, "@smithy/signature-v4"));
const { escapeUriPath } = require(path.join(modules, "@smithy/core/protocols"));

// The SDK's hash interface over node's crypto.
class Sha256 {
  constructor(secret) {
    this.h = secret ? crypto.createHmac("sha256", secret) : crypto.createHash("sha256");
  }
  update(data) { this.h.update(data); }
  async digest() { return new Uint8Array(this.h.digest()); }
}

async function main() {
  const lines = fs.readFileSync(process.argv[3], "utf8").split("\n").filter((l) => l.length);
  const out = [];
  for (const line of lines) {
    const r = JSON.parse(line);
    const signer = new SignatureV4({
      credentials: { accessKeyId: r.akid, secretAccessKey: r.secret,
                     sessionToken: r.token || undefined },
      region: r.region, service: "s3", sha256: Sha256,
      uriEscapePath: false,  // S3: the path is encoded once, by the caller
      applyChecksum: true,
    });
    let canonical = null;
    const orig = signer.createCanonicalRequest.bind(signer);
    signer.createCanonicalRequest = (req, headers, hash) => {
      canonical = orig(req, headers, hash);
      return canonical;
    };
    const headers = { host: r.host };
    for (const [k, v] of r.headers) headers[k] = v;
    if (!r.hashed) headers["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD";
    const query = {};
    for (const [k, v] of r.query) query[k] = v;
    const request = {
      method: r.method, protocol: "https:", hostname: r.host,
      path: escapeUriPath(r.path), query, headers,
      body: r.hashed ? Buffer.from(r.body_b64, "base64") : undefined,
    };
    const signed = await signer.sign(request, { signingDate: new Date(r.time * 1000) });
    out.push(JSON.stringify({ canonical, authorization: signed.headers.authorization }));
  }
  process.stdout.write(out.join("\n") + "\n");
}

main().catch((e) => { console.error(e); process.exit(1); });
