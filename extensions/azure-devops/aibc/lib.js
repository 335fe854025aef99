'use strict';
// targetFor, archiveName and checksumFrom are also in actions/setup-aibc/lib.js: the task ships in a
// .vsix and the action runs from its own folder, so neither can load the other's file.
// Both are tested against the same release layout (release/package.py).
// The task's decisions, kept free of the task library so they are tested directly:
// which release archive fits the agent, reading SHA256SUMS, hashing a file, aibc's
// command line, and what each aibc exit code means for the task result.

const crypto = require('crypto');
const fs = require('fs');

// (Node's process.platform, process.arch) -> the release target.
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

function releaseBase(template, version) {
  return template.replace(/\{version\}/g, version).replace(/\/+$/, '');
}

// `sha256sum` format: "<64 hex>  <name>" (a `*` before the name marks binary mode).
function checksumFrom(sums, name) {
  for (const line of sums.split(/\r?\n/)) {
    const m = /^([0-9a-fA-F]{64}) [ *](.+)$/.exec(line.trim());
    if (m && m[2] === name) {
      return m[1].toLowerCase();
    }
  }
  return undefined;
}

function sha256File(path) {
  return crypto.createHash('sha256').update(fs.readFileSync(path)).digest('hex');
}

// Commands that reach Azure need the connection and the resource group.
const AZURE_COMMANDS = new Set(['deploy', 'run', 'status', 'cancel', 'logs', 'prune', 'clean', 'smoke-test']);

// Splits "More arguments" like a shell would for plain words and quotes (no expansion).
function splitArgs(text) {
  const out = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  let m;
  while ((m = re.exec(text || '')) !== null) {
    out.push(m[1] ?? m[2] ?? m[3]);
  }
  return out;
}

function aibcArgs(inputs) {
  const args = [inputs.command, inputs.spec];
  if (AZURE_COMMANDS.has(inputs.command)) {
    args.push('--resource-group', inputs.resourceGroup, '--auth', inputs.auth);
  }
  if (inputs.command === 'compile' && inputs.outputFolder) {
    args.push('--out', inputs.outputFolder);
  }
  if ((inputs.command === 'deploy' || inputs.command === 'smoke-test') && inputs.imageVersion) {
    args.push('--image-version', inputs.imageVersion);
  }
  if (inputs.command === 'prune') {
    // A pipeline has no terminal to answer aibc's question: the task is the confirmation.
    args.push('--keep', String(inputs.keep || 5), '--yes');
  }
  if (inputs.command === 'clean') {
    args.push('--yes');
  }
  return args.concat(splitArgs(inputs.arguments));
}

// docs/exit-codes.md
const EXIT_CODES = {
  0: ['Succeeded', 'success'],
  1: ['Failed', 'unexpected failure (a file could not be read or written)'],
  2: ['Failed', 'the spec is invalid'],
  3: ['Failed', 'Azure refused a request'],
  4: ['Failed', 'the image build failed'],
  5: ['SucceededWithIssues', 'the build partially succeeded: at least one distribution failed'],
  6: ['Failed', 'following the build timed out; it may still be running'],
  7: ['Failed', 'the build was canceled'],
  10: ['Failed', 'a deletion was not confirmed'],
  64: ['Failed', 'the command line is wrong'],
  130: ['Failed', 'interrupted'],
};

function resultFor(code) {
  const [result, meaning] = EXIT_CODES[code] || ['Failed', 'unknown exit code'];
  return { result, meaning };
}

module.exports = { targetFor, archiveName, releaseBase, checksumFrom, sha256File, aibcArgs, splitArgs, resultFor, AZURE_COMMANDS };
