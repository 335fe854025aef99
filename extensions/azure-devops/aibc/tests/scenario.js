'use strict';
// One run of the task under the task library's mock runner. The scenario comes from the
// test (AIBC_SCENARIO, JSON): inputs, the service connection, files standing in for the
// release download, and aibc's exit code. Downloads are mocked (no network); hashing,
// argument building and result mapping are the task's own.

const path = require('path');
const tmrm = require('azure-pipelines-task-lib/mock-run');

const s = JSON.parse(process.env.AIBC_SCENARIO);
const tmr = new tmrm.TaskMockRunner(path.join(__dirname, '..', 'index.js'));

for (const [k, v] of Object.entries(s.inputs)) {
  tmr.setInput(k, v);
}
if (s.connection) {
  const id = s.connection.id;
  process.env[`ENDPOINT_AUTH_SCHEME_${id}`] = s.connection.scheme;
  process.env[`ENDPOINT_AUTH_PARAMETER_${id}_TENANTID`] = 'tenant-1';
  process.env[`ENDPOINT_AUTH_PARAMETER_${id}_SERVICEPRINCIPALID`] = 'client-1';
  process.env[`ENDPOINT_AUTH_PARAMETER_${id}_SERVICEPRINCIPALKEY`] = 'not-a-real-secret';
  process.env[`ENDPOINT_DATA_${id}_SUBSCRIPTIONID`] = '00000000-1111-4222-8333-444444444444';
  process.env['ENDPOINT_AUTH_PARAMETER_SYSTEMVSSCONNECTION_ACCESSTOKEN'] = 'system-token';
}

tmr.registerMock('azure-pipelines-tool-lib/tool', {
  findLocalTool: () => s.cachedDir || '',
  downloadTool: async (url) => {
    console.log(`download ${url}`);
    return url.endsWith('/SHA256SUMS') ? s.sumsFile : s.archiveFile;
  },
  extractTar: async (file) => {
    console.log(`extract ${path.basename(file)}`);
    return s.extractDir;
  },
  extractZip: async (file) => {
    console.log(`extract ${path.basename(file)}`);
    return s.extractDir;
  },
  cacheDir: async (dir, tool, version) => {
    console.log(`cache ${path.basename(dir)} as ${tool} ${version}`);
    return s.cacheDir;
  },
  prependPath: (dir) => console.log(`prepend ${dir}`),
});

const exe = path.join(s.cachedDir || s.cacheDir, process.platform === 'win32' ? 'aibc.exe' : 'aibc');
tmr.setAnswers({
  checkPath: { [s.inputs.spec]: true, [exe]: true },
  rmRF: { [s.archiveFile]: { success: true } },
  which: { [exe]: exe },
  exec: { [`${exe} ${s.expectArgs}`]: { code: s.code, stdout: `aibc ran (exit ${s.code})` } },
});
tmr.run();
