'use strict';
// setup-aibc end to end on this machine: `node index.js` as the runner starts it (INPUT_*
// variables, RUNNER_TOOL_CACHE, GITHUB_PATH and GITHUB_OUTPUT files) against a local HTTP
// server standing in for the release (a redirect, then the archive and SHA256SUMS).

const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');
const { execFile, execFileSync } = require('child_process');
const lib = require('../lib');

const target = lib.targetFor(process.platform, process.arch);
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'setup-aibc-test-'));

// A release archive holding a stand-in aibc that prints its version.
const stage = path.join(root, 'stage', `aibc-${target}`);
fs.mkdirSync(stage, { recursive: true });
fs.writeFileSync(path.join(stage, 'aibc'), '#!/bin/sh\necho "aibc 9.9.9"\n', { mode: 0o755 });
fs.writeFileSync(path.join(stage, 'LICENSE'), 'MIT\n');
const archive = path.join(root, lib.archiveName(target));
execFileSync('tar', ['-czf', archive, '-C', path.dirname(stage), path.basename(stage)]);
const bytes = fs.readFileSync(archive);
const sums = `${lib.sha256(Buffer.from('other'))}  aibc-other.zip\n${lib.sha256(bytes)}  ${path.basename(archive)}\n`;

const hits = [];
const server = http.createServer((req, res) => {
  hits.push(req.url);
  if (req.url.startsWith('/releases/')) {
    res.writeHead(302, { Location: req.url.replace('/releases/', '/storage/') });
    res.end();
  } else if (req.url === `/storage/v9.9.9/${path.basename(archive)}`) {
    res.end(bytes);
  } else if (req.url === '/storage/v9.9.9/SHA256SUMS') {
    res.end(sums);
  } else {
    res.writeHead(404);
    res.end();
  }
});

// Asynchronous: the server answering the action runs in this process.
async function runAction(inputs, name) {
  const dir = path.join(root, name);
  fs.mkdirSync(dir, { recursive: true });
  const env = Object.assign({}, process.env, {
    RUNNER_TOOL_CACHE: path.join(root, 'tool-cache'),
    RUNNER_TEMP: dir,
    GITHUB_PATH: path.join(dir, 'path'),
    GITHUB_OUTPUT: path.join(dir, 'output'),
  });
  for (const [k, v] of Object.entries(inputs)) {
    env[`INPUT_${k.toUpperCase()}`] = v;
  }
  const p = await new Promise((resolve) => {
    execFile(process.execPath, [path.join(__dirname, '..', 'index.js')], { env, encoding: 'utf8' }, (err, stdout) =>
      resolve({ status: err ? err.code : 0, stdout })
    );
  });
  const read = (f) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '');
  return { code: p.status, stdout: p.stdout, path: read(env.GITHUB_PATH), output: read(env.GITHUB_OUTPUT) };
}

test('setup-aibc', { skip: process.platform === 'win32' && 'the stand-in binary is a shell script' }, async (t) => {
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}/releases/v{version}`;
  t.after(() => server.close());

  await t.test('a checksum mismatch is refused and nothing is cached', async () => {
    const r = await runAction({ version: '9.9.9', sha256: 'ab'.repeat(32), 'download-url': url }, 'mismatch');
    assert.strictEqual(r.code, 1, r.stdout);
    assert.match(r.stdout, /^::error title=setup-aibc::.*refusing to install it/m);
    assert.strictEqual(r.path, '');
    assert.ok(!fs.existsSync(lib.cacheDir(path.join(root, 'tool-cache'), '9.9.9', process.arch)));
  });

  await t.test('installs from SHA256SUMS through a redirect, on PATH, with outputs', async () => {
    hits.length = 0;
    const r = await runAction({ version: '9.9.9', 'download-url': url }, 'fresh');
    assert.strictEqual(r.code, 0, r.stdout);
    const dir = r.path.trim();
    assert.strictEqual(dir, lib.cacheDir(path.join(root, 'tool-cache'), '9.9.9', process.arch));
    assert.strictEqual(execFileSync(path.join(dir, 'aibc')).toString().trim(), 'aibc 9.9.9');
    assert.match(r.output, /^version=9\.9\.9$/m);
    assert.match(r.output, /^cache-hit=false$/m);
    assert.ok(hits.includes('/storage/v9.9.9/SHA256SUMS'), hits.join(' '));
  });

  await t.test('the tool cache is reused without a download', async () => {
    hits.length = 0;
    const r = await runAction({ version: '9.9.9', 'download-url': url }, 'cached');
    assert.strictEqual(r.code, 0, r.stdout);
    assert.match(r.output, /^cache-hit=true$/m);
    assert.deepStrictEqual(hits, []);
  });

  await t.test('a version the release does not have fails plainly', async () => {
    const r = await runAction({ version: '0.0.1', 'download-url': url }, 'missing');
    assert.strictEqual(r.code, 1);
    assert.match(r.stdout, /HTTP 404/);
  });
});

test('lib: targets and SHA256SUMS', () => {
  assert.strictEqual(lib.targetFor('linux', 'arm64'), 'aarch64-unknown-linux-musl');
  assert.strictEqual(lib.targetFor('darwin', 'x64'), undefined);
  assert.strictEqual(lib.checksumFrom(`${'c'.repeat(64)}  aibc-a.tar.gz\n`, 'aibc-b.tar.gz'), undefined);
});
