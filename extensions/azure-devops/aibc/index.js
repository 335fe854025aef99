'use strict';
// The aibc Azure Pipelines task: install the pinned aibc release (SHA-256 checked, kept in
// the agent's tool cache), sign in through the service connection, run one command, and
// turn its exit code into the task result.

const path = require('path');
const fs = require('fs');
const tl = require('azure-pipelines-task-lib/task');
const toolLib = require('azure-pipelines-tool-lib/tool');
const lib = require('./lib');

tl.setResourcePath(path.join(__dirname, 'task.json'));

async function install(version, urlTemplate, expectedSha) {
  const target = lib.targetFor(process.platform, process.arch);
  if (!target) {
    throw new Error(tl.loc('UnsupportedAgent', process.platform, process.arch));
  }
  const exe = process.platform === 'win32' ? 'aibc.exe' : 'aibc';
  let dir = toolLib.findLocalTool('aibc', version);
  if (!dir) {
    const base = lib.releaseBase(urlTemplate, version);
    const name = lib.archiveName(target);
    let expected = (expectedSha || '').trim().toLowerCase();
    if (!expected) {
      const sums = fs.readFileSync(await toolLib.downloadTool(`${base}/SHA256SUMS`), 'utf8');
      expected = lib.checksumFrom(sums, name);
      if (!expected) {
        throw new Error(tl.loc('NoChecksum', version, name));
      }
    }
    const archive = await toolLib.downloadTool(`${base}/${name}`);
    const actual = lib.sha256File(archive);
    if (actual !== expected) {
      tl.rmRF(archive);
      throw new Error(tl.loc('ChecksumMismatch', name, actual, expected));
    }
    const extracted = name.endsWith('.zip') ? await toolLib.extractZip(archive) : await toolLib.extractTar(archive);
    dir = await toolLib.cacheDir(path.join(extracted, `aibc-${target}`), 'aibc', version);
  }
  toolLib.prependPath(dir);
  return path.join(dir, exe);
}

// Environment for `aibc --auth pipelines` (workload identity federation: aibc asks Azure
// DevOps for the connection's OIDC token itself) or `--auth client-secret`.
function signIn(connection) {
  const scheme = tl.getEndpointAuthorizationScheme(connection, false);
  const env = {
    AZURE_SUBSCRIPTION_ID: tl.getEndpointDataParameter(connection, 'subscriptionid', true) || '',
  };
  const tenant = tl.getEndpointAuthorizationParameter(connection, 'tenantid', false);
  const client = tl.getEndpointAuthorizationParameter(connection, 'serviceprincipalid', false);
  if ((scheme || '').toLowerCase() === 'workloadidentityfederation') {
    Object.assign(env, {
      AZURESUBSCRIPTION_TENANT_ID: tenant,
      AZURESUBSCRIPTION_CLIENT_ID: client,
      AZURESUBSCRIPTION_SERVICE_CONNECTION_ID: connection,
      SYSTEM_ACCESSTOKEN: tl.getEndpointAuthorizationParameter('SYSTEMVSSCONNECTION', 'AccessToken', false),
      SYSTEM_OIDCREQUESTURI: tl.getVariable('System.OidcRequestUri') || '',
    });
    return { auth: 'pipelines', env };
  }
  if ((scheme || '').toLowerCase() === 'serviceprincipal') {
    const secret = tl.getEndpointAuthorizationParameter(connection, 'serviceprincipalkey', false);
    tl.setSecret(secret);
    Object.assign(env, { AZURE_TENANT_ID: tenant, AZURE_CLIENT_ID: client, AZURE_CLIENT_SECRET: secret });
    return { auth: 'client-secret', env };
  }
  throw new Error(tl.loc('UnsupportedScheme', connection, scheme));
}

async function run() {
  try {
    const command = tl.getInput('command', true);
    const binary = await install(
      tl.getInput('aibcVersion', true),
      tl.getInput('downloadUrl', true),
      tl.getInput('sha256', false)
    );
    const inputs = {
      command,
      spec: tl.getPathInput('spec', true, true),
      resourceGroup: tl.getInput('resourceGroup', false),
      outputFolder: tl.getInput('outputFolder', false),
      imageVersion: tl.getInput('imageVersion', false),
      keep: tl.getInput('keep', false),
      arguments: tl.getInput('arguments', false),
      auth: 'auto',
    };
    let env = {};
    if (lib.AZURE_COMMANDS.has(command)) {
      const signed = signIn(tl.getInput('azureSubscription', true));
      inputs.auth = signed.auth;
      env = signed.env;
    }
    const code = await tl
      .tool(binary)
      .arg(lib.aibcArgs(inputs))
      .execAsync({ ignoreReturnCode: true, env: Object.assign({}, process.env, env) });
    tl.setVariable('AIBC_EXIT_CODE', String(code), false, true);
    const { result, meaning } = lib.resultFor(code);
    tl.setResult(tl.TaskResult[result], tl.loc('ExitCode', command, code, meaning));
  } catch (err) {
    tl.setResult(tl.TaskResult.Failed, err.message);
  }
}

run();
