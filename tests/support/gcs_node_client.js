// Drives Google's official Node client (@google-cloud/storage) against the
// GCS test server for the tests: reads a JSON array of commands from argv[2]
// (upload, list, download, delete, exists), runs them in order against the
// bucket argv[3], and prints one JSON array of results. The endpoint comes
// from STORAGE_EMULATOR_HOST, as the client library reads it.
'use strict';
const fs = require('fs');
const {Storage} = require('@google-cloud/storage');

async function run(bucket, cmd) {
  const file = cmd.name ? bucket.file(cmd.name) : null;
  switch (cmd.op) {
    case 'upload':
      await bucket.upload(cmd.file, {
        destination: cmd.name,
        resumable: !!cmd.resumable,
        chunkSize: cmd.chunkSize,
        validation: 'md5',
        metadata: {metadata: cmd.metadata || {}},
        preconditionOpts: cmd.ifGenerationMatch !== undefined ?
            {ifGenerationMatch: cmd.ifGenerationMatch} : undefined,
      });
      return {ok: true};
    case 'list': {
      // Page by page (maxResults per page), following nextPageToken.
      let query = {prefix: cmd.prefix, maxResults: cmd.maxResults,
        autoPaginate: false};
      const files = [];
      let pages = 0;
      while (query) {
        const [page, next] = await bucket.getFiles(query);
        files.push(...page);
        pages++;
        query = next;
      }
      process.stderr.write('list pages: ' + pages + '\n');
      return files.map((f) => ({
        name: f.name,
        size: Number(f.metadata.size),
        md5: f.metadata.md5Hash,
        metadata: f.metadata.metadata || {},
      }));
    }
    case 'download': {
      const opts = {destination: cmd.file};
      if (cmd.start !== undefined) {
        opts.start = cmd.start;
        opts.end = cmd.end;
      }
      await file.download(opts);
      return {ok: true, bytes: fs.statSync(cmd.file).size};
    }
    case 'delete':
      await file.delete();
      return {ok: true};
    case 'exists':
      return {exists: (await file.exists())[0]};
    default:
      throw new Error('unknown op ' + cmd.op);
  }
}

(async () => {
  const cmds = JSON.parse(process.argv[2]);
  const storage = new Storage({projectId: 'litekeep-test'});
  const bucket = storage.bucket(process.argv[3]);
  const out = [];
  for (const cmd of cmds) {
    try {
      out.push(await run(bucket, cmd));
    } catch (e) {
      out.push({error: String(e.code || '') + ' ' + e.message});
    }
  }
  process.stdout.write(JSON.stringify(out) + '\n');
})().catch((e) => {
  process.stderr.write(String(e.stack || e) + '\n');
  process.exit(1);
});
