'use strict';
// setup-aibc: install the pinned aibc release, checksum-verified, into the runner's tool
// cache, put it on PATH and set the step's outputs.

const lib = require('./lib');

function input(name, fallback) {
  const v = process.env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`];
  return v === undefined || v === '' ? fallback : v.trim();
}

async function main() {
  try {
    const version = input('version', '0.1.0');
    const result = await lib.install({
      version,
      sha256: input('sha256', ''),
      downloadUrl: input('download-url', 'https://github.com/aibc-dev/aibc/releases/download/v{version}'),
    });
    lib.appendFileCommand('GITHUB_PATH', `${result.dir}\n`);
    lib.appendFileCommand('GITHUB_OUTPUT', `path=${result.binary}\nversion=${version}\ncache-hit=${result.cacheHit}\n`);
    console.log(`aibc ${version} ${result.cacheHit ? 'from the tool cache' : 'installed'}: ${result.binary}`);
  } catch (err) {
    console.log(`::error title=setup-aibc::${String(err.message).replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A')}`);
    process.exitCode = 1;
  }
}

main();
