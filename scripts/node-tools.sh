#!/usr/bin/env bash
# Install (or reuse) the npm packages the release tests need, pinned, into target/node-tools:
#   azure-pipelines-task-lib + azure-pipelines-tool-lib  the Azure DevOps task's runtime and its
#                                                         mock test runner
#   tfx-cli                                               packages the extension into a .vsix
#   @microsoft/jest-sarif                                 ships the SARIF 2.1.0 JSON Schema
# and, apart in target/node-tools/task, only the task's runtime packages: what goes into the
# extension's .vsix beside the task's code.
# Idempotent: a stamp records the pinned set. The prefix is the last line on stdout.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runtime=(azure-pipelines-task-lib@5.281.0 azure-pipelines-tool-lib@2.279.1)
packages=("${runtime[@]}" tfx-cli@0.23.1 @microsoft/jest-sarif@1.0.0-beta.0)
prefix="$repo_root/target/node-tools"
stamp="$prefix/.aibc-$(printf '%s\n' "${packages[@]}" | sha256sum | cut -c1-16)"
if [[ -f "$stamp" ]]; then
  echo "$prefix"
  exit 0
fi
if ! command -v npm >/dev/null; then
  "$repo_root/scripts/node-env.sh" >/dev/null # installs Node.js from the distribution when it can
fi
mkdir -p "$prefix"
echo "node-tools: installing ${packages[*]} into $prefix" >&2
npm install --prefix "$prefix" --no-audit --no-fund --silent --no-save "${packages[@]}" >&2
mkdir -p "$prefix/task"
npm install --prefix "$prefix/task" --no-audit --no-fund --silent --no-save --omit=dev "${runtime[@]}" >&2
touch "$stamp"
echo "$prefix"
