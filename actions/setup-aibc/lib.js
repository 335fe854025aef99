'use strict';
// targetFor, archiveName and checksumFrom are also in extensions/azure-devops/aibc/lib.js: the task ships in a
// .vsix and the action runs from its own folder, so neither can load the other's file.
// Both are tested against the same release layout (release/package.py).
// setup-aibc's logic, on Node's standard library only (an action runs from its checkout
// with no npm install): the runner's release target, SHA256SUMS, downloading over HTTPS
// with redirects, the tool cache layout, and the runner's file commands.

const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const https = require('https');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');

const TARGETS = {
  'linux x64': 'x86_64-unknown-linux-musl',
  'linux arm64': 'aarch64-unknown-linux-musl',
  'win32 x64': 'x86_64-pc-windows-msvc',
  'darwin arm64': 'aarch64-apple-darwin',
};

function targetFor(platform, arch) {
  return TARGETS[`${platform} ${arch}`];
}

function archiveName(target) {
  return `aibc-${target}.${target.includes('windows') ? 'zip' : 'tar.gz'}`;
}

function checksumFrom(sums, name) {
  for (const line of sums.split(/\r?\n/)) {
    const m = /^([0-9a-fA-F]{64}) [ *](.+)$/.exec(line.trim());
    if (m && m[2] === name) {
      return m[1].toLowerCase();
    }
  }
  return undefined;
}

function sha256(buffer) {
  return crypto.createHash('sha256').update(buffer).digest('hex');
}

// GET with up to five redirects (release downloads redirect to a storage host).
function download(url, redirects = 5) {
  return new Promise((resolve, reject) => {
    const client = url.startsWith('https:') ? https : http;
    client
      .get(url, { headers: { 'User-Agent': 'setup-aibc' } }, (res) => {
        if ([301, 302, 303, 307, 308].includes(res.statusCode) && res.headers.location && redirects > 0) {
          res.resume();
          resolve(download(new URL(res.headers.location, url).toString(), redirects - 1));
          return;
        }
        if (res.statusCode !== 200) {
          res.resume();
          reject(new Error(`GET ${url}: HTTP ${res.statusCode}`));
          return;
        }
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks)));
      })
      .on('error', reject);
  });
}

// $RUNNER_TOOL_CACHE/aibc/<version>/<arch>, as actions/tool-cache lays it out; the
// `.complete` marker says a copy finished.
function cacheDir(toolCache, version, arch) {
  return path.join(toolCache, 'aibc', version, arch);
}

function appendFileCommand(variable, text) {
  const file = process.env[variable];
  if (file) {
    fs.appendFileSync(file, text);
  }
}

async function install({ version, sha256: expectedInput, downloadUrl }, env = process.env, platform = process.platform, arch = process.arch) {
  const target = targetFor(platform, arch);
  if (!target) {
    throw new Error(`no aibc release for ${platform} ${arch}`);
  }
  const exe = platform === 'win32' ? 'aibc.exe' : 'aibc';
  const toolCache = env.RUNNER_TOOL_CACHE || path.join(os.tmpdir(), 'tool-cache');
  const dir = cacheDir(toolCache, version, arch);
  if (fs.existsSync(`${dir}.complete`) && fs.existsSync(path.join(dir, exe))) {
    return { dir, binary: path.join(dir, exe), cacheHit: true };
  }
  const base = downloadUrl.replace(/\{version\}/g, version).replace(/\/+$/, '');
  const name = archiveName(target);
  let expected = (expectedInput || '').trim().toLowerCase();
  if (!expected) {
    const sums = (await download(`${base}/SHA256SUMS`)).toString('utf8');
    expected = checksumFrom(sums, name);
    if (!expected) {
      throw new Error(`SHA256SUMS of aibc ${version} has no entry for ${name}`);
    }
  }
  const archive = await download(`${base}/${name}`);
  const actual = sha256(archive);
  if (actual !== expected) {
    throw new Error(`${name} has SHA-256 ${actual}, expected ${expected}: refusing to install it`);
  }
  const work = fs.mkdtempSync(path.join(env.RUNNER_TEMP || os.tmpdir(), 'setup-aibc-'));
  const file = path.join(work, name);
  fs.writeFileSync(file, archive);
  // bsdtar (Windows, macOS) and GNU tar (Linux) both read .tar.gz; bsdtar also reads .zip.
  execFileSync('tar', ['-xf', file, '-C', work]);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  fs.cpSync(path.join(work, `aibc-${target}`), dir, { recursive: true });
  fs.writeFileSync(`${dir}.complete`, '');
  fs.rmSync(work, { recursive: true, force: true });
  return { dir, binary: path.join(dir, exe), cacheHit: false };
}

module.exports = { targetFor, archiveName, checksumFrom, sha256, download, cacheDir, install, appendFileCommand };
