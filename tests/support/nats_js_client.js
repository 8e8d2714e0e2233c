// Drives the official NATS JavaScript client (npm `nats`, v2) and its
// JetStream object store against nats-server for the tests: reads a JSON
// object {server, bucket, commands} from the file argv[2], runs the
// commands (put, get, list, delete) in order, and prints one JSON array of
// results. nats.js writes and reads objects as nats.go does (chunks, meta
// message, SHA-256 digest it checks on every get).
'use strict';
const fs = require('fs');
const {connect, headers} = require('nats');

function streamOf(bytes) {
  return new ReadableStream({
    start(controller) {
      for (let i = 0; i < bytes.length; i += 100000) {
        controller.enqueue(bytes.subarray(i, i + 100000));
      }
      controller.close();
    },
  });
}

async function readAll(stream) {
  const parts = [];
  const reader = stream.getReader();
  for (;;) {
    const {done, value} = await reader.read();
    if (done) break;
    parts.push(Buffer.from(value));
  }
  return Buffer.concat(parts);
}

// The Litestream-Timestamp header of a listed object (a record of arrays
// in the meta JSON, or MsgHdrs).
function timestampOf(h) {
  if (!h) return '';
  if (typeof h.get === 'function') return h.get('Litestream-Timestamp');
  const v = h['Litestream-Timestamp'];
  return Array.isArray(v) ? v[0] : (v || '');
}

async function run(os, cmd) {
  switch (cmd.op) {
    case 'put': {
      const h = headers();
      for (const [k, v] of Object.entries(cmd.headers || {})) h.set(k, v);
      const info = await os.put({name: cmd.name, headers: h},
                                streamOf(fs.readFileSync(cmd.file)));
      return {ok: true, size: info.size, chunks: info.chunks};
    }
    case 'get': {
      const r = await os.get(cmd.name);
      if (r === null) return {ok: false, missing: true};
      const data = await readAll(r.data);
      const err = await r.error;  // a digest mismatch lands here
      if (err) return {ok: false, error: String(err)};
      fs.writeFileSync(cmd.file, data);
      return {ok: true, size: data.length};
    }
    case 'list': {
      const list = await os.list();
      return {
        ok: true,
        objects: list.map((i) => ({
          name: i.name,
          size: i.size,
          chunks: i.chunks,
          timestamp: timestampOf(i.headers),
        })),
      };
    }
    case 'delete':
      await os.delete(cmd.name);
      return {ok: true};
    default:
      throw new Error('unknown op ' + cmd.op);
  }
}

async function main() {
  const spec = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const nc = await connect({servers: spec.server});
  const os = await nc.jetstream().views.os(spec.bucket);
  const out = [];
  for (const cmd of spec.commands) {
    try {
      out.push(await run(os, cmd));
    } catch (e) {
      out.push({ok: false, error: String(e && e.message || e)});
    }
  }
  await nc.drain();
  process.stdout.write(JSON.stringify(out));
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack || e) + '\n');
  process.exit(1);
});
