'use strict';
// The Azure DevOps task under azure-pipelines-task-lib's mock test runner (node --test):
// success, exit codes mapped to task results, a checksum mismatch refused, the tool cache
// reused, and the command lines the task builds. Run by tests/python/test_release.py with
// NODE_PATH pointing at the packages scripts/node-tools.sh installed.

const test = require('node:test');
const assert = require('node:assert');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { MockTestRunner } = require('azure-pipelines-task-lib/mock-test');
const lib = require('../lib');

const target = lib.targetFor(process.platform, process.arch);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'aibc-task-'));
const archive = path.join(work, lib.archiveName(target));
fs.writeFileSync(archive, 'pretend archive bytes');
const digest = crypto.createHash('sha256').update(fs.readFileSync(archive)).digest('hex');
const sums = path.join(work, 'SHA256SUMS');
fs.writeFileSync(sums, `${'0'.repeat(64)}  aibc-other.tar.gz\n${digest}  ${path.basename(archive)}\n`);
const cacheDir = path.join(work, 'cache');

async function runTask(scenario) {
  process.env.AIBC_SCENARIO = JSON.stringify(
    Object.assign({ archiveFile: archive, sumsFile: sums, extractDir: work, cacheDir }, scenario)
  );
  const tr = new MockTestRunner(path.join(__dirname, 'scenario.js'), path.join(__dirname, '..', 'task.json'));
  // Run with this Node (the runner would otherwise download the handler's Node version).
  tr.nodePath = process.execPath;
  await tr.runAsync();
  return tr;
}

const base = { aibcVersion: '0.1.0', downloadUrl: 'https://example.invalid/releases/v{version}', spec: 'images/web.yaml' };

test('validate: checksum from SHA256SUMS, cached, run, succeeded', async () => {
  const tr = await runTask({ inputs: Object.assign({ command: 'validate' }, base), code: 0, expectArgs: 'validate images/web.yaml' });
  assert.ok(tr.succeeded, tr.stdout + tr.stderr);
  assert.ok(tr.stdout.includes('download https://example.invalid/releases/v0.1.0/SHA256SUMS'), tr.stdout);
  assert.ok(tr.stdout.includes(`cache aibc-${target} as aibc 0.1.0`), tr.stdout);
  assert.strictEqual(tr.invokedToolCount, 1);
});

test('run with workload identity federation: --auth pipelines; exit 5 is SucceededWithIssues', async () => {
  const tr = await runTask({
    inputs: Object.assign({ command: 'run', resourceGroup: 'rg-img', azureSubscription: 'sc1' }, base),
    connection: { id: 'sc1', scheme: 'WorkloadIdentityFederation' },
    code: 5,
    expectArgs: 'run images/web.yaml --resource-group rg-img --auth pipelines',
  });
  assert.strictEqual(tr.invokedToolCount, 1, tr.stdout);
  assert.ok(tr.stdout.includes('##vso[task.complete result=SucceededWithIssues;]'), tr.stdout);
  assert.ok(tr.stdout.includes('partially succeeded'), tr.stdout);
});

test('exit 3 fails the task with what it means', async () => {
  const tr = await runTask({
    inputs: Object.assign({ command: 'deploy', resourceGroup: 'rg-img', azureSubscription: 'sc1', imageVersion: '1.2.3' }, base),
    connection: { id: 'sc1', scheme: 'ServicePrincipal' },
    code: 3,
    expectArgs: 'deploy images/web.yaml --resource-group rg-img --auth client-secret --image-version 1.2.3',
  });
  assert.ok(tr.failed, tr.stdout);
  assert.ok(tr.stdout.includes('Azure refused a request'), tr.stdout);
  // The agent masks the connection's secrets in every line (the task library's own debug
  // line names it); the task adds it as a secret and prints it nowhere else.
  const leaks = tr.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.includes('not-a-real-secret') && !l.startsWith('##vso[task.debug]sc1 auth param'));
  assert.deepStrictEqual(leaks, ['##vso[task.setsecret]not-a-real-secret']);
});

test('a checksum mismatch is refused and aibc never runs', async () => {
  const tr = await runTask({
    inputs: Object.assign({ command: 'validate', sha256: 'ab'.repeat(32) }, base),
    code: 0,
    expectArgs: 'validate images/web.yaml',
  });
  assert.ok(tr.failed, tr.stdout);
  assert.strictEqual(tr.invokedToolCount, 0);
  // The mock runner prints message keys (loc_mock_KEY) with their arguments.
  assert.ok(tr.stdout.includes(`ChecksumMismatch ${path.basename(archive)} ${digest} ${'ab'.repeat(32)}`), tr.stdout);
  assert.ok(!tr.stdout.includes('SHA256SUMS'), 'an explicit sha256 needs no SHA256SUMS');
});

test('a cached release is not downloaded again; prune confirms with --yes', async () => {
  const tr = await runTask({
    inputs: Object.assign({ command: 'prune', resourceGroup: 'rg-img', azureSubscription: 'sc1', keep: '3' }, base),
    connection: { id: 'sc1', scheme: 'WorkloadIdentityFederation' },
    cachedDir: cacheDir,
    code: 0,
    expectArgs: 'prune images/web.yaml --resource-group rg-img --auth pipelines --keep 3 --yes',
  });
  assert.ok(tr.succeeded, tr.stdout + tr.stderr);
  assert.ok(!tr.stdout.includes('download '), tr.stdout);
});

test('lib: targets, SHA256SUMS lines, arguments, exit codes', () => {
  assert.strictEqual(lib.targetFor('linux', 'x64'), 'x86_64-unknown-linux-musl');
  assert.strictEqual(lib.targetFor('win32', 'x64'), 'x86_64-pc-windows-msvc');
  assert.strictEqual(lib.targetFor('sunos', 'x64'), undefined);
  assert.strictEqual(lib.archiveName('x86_64-pc-windows-msvc'), 'aibc-x86_64-pc-windows-msvc.zip');
  assert.strictEqual(lib.checksumFrom(`${'A'.repeat(64)} *aibc-x.zip\n`, 'aibc-x.zip'), 'a'.repeat(64));
  assert.strictEqual(lib.checksumFrom('garbage\n', 'aibc-x.zip'), undefined);
  assert.deepStrictEqual(lib.splitArgs(`--timeout 4h --param "NAME=a b"`), ['--timeout', '4h', '--param', 'NAME=a b']);
  assert.strictEqual(lib.resultFor(0).result, 'Succeeded');
  assert.strictEqual(lib.resultFor(99).result, 'Failed');
});
