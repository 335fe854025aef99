#!/usr/bin/env bash
# Install (or reuse) Azurite, the Azure Storage emulator, from npm into target/node.
# Idempotent: a stamp records the pinned version. The azurite-blob path is the last line on
# stdout; progress goes to stderr.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
version="3.37.0"
prefix="$repo_root/target/node"
bin="$prefix/node_modules/.bin/azurite-blob"
stamp="$prefix/.aibc-azurite-$version"
if [[ -x "$bin" && -f "$stamp" ]]; then
  echo "$bin"
  exit 0
fi
if ! command -v npm >/dev/null; then
  # A fresh Debian/Ubuntu machine: take Node.js from the distribution when we may.
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "node-env: installing nodejs and npm with apt-get" >&2
    (apt-get update -qq && apt-get install -y -qq nodejs npm) >&2
  else
    echo "node-env: npm not found; install Node.js 18+ (Debian: apt-get install nodejs npm)" >&2
    exit 1
  fi
fi
mkdir -p "$prefix"
echo "node-env: installing azurite@$version into $prefix" >&2
npm install --prefix "$prefix" --no-audit --no-fund --silent "azurite@$version" >&2
touch "$stamp"
echo "$bin"
