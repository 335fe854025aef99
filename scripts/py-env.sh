#!/usr/bin/env bash
# Create (or reuse) the Python venv used by tests/python/ at target/pyenv.
#
# Idempotent: a stamp file inside the venv records a hash of
# tests/python/requirements.txt plus the interpreter version; when both still
# match, the script does nothing but print the venv's python path. Any change
# rebuilds the venv from scratch (--clear) so removed pins do not linger.
#
# Output contract: the venv python path is the LAST line on stdout, and the only
# line on stdout, so callers can do  PY="$(scripts/py-env.sh)".  Progress and
# pip output go to stderr.
#
# Env: PYTHON  interpreter used to create the venv (default: python3).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
req="$repo_root/tests/python/requirements.txt"
venv="$repo_root/target/pyenv"
stamp="$venv/.aibc-requirements.stamp"
base_python="${PYTHON:-python3}"

if ! command -v "$base_python" >/dev/null 2>&1; then
  echo "py-env: '$base_python' not found; install Python 3.9+ or set PYTHON" >&2
  exit 1
fi
if ! "$base_python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 9) else 1)'; then
  echo "py-env: $("$base_python" --version 2>&1) is too old; need Python 3.9+" >&2
  exit 1
fi

# The key covers the requirements bytes and the exact base interpreter, since a
# venv is tied to the interpreter it was made from.
key="$( { cat "$req"; "$base_python" -c 'import sys; print(sys.version)'; } | sha256sum | cut -d' ' -f1 )"

up_to_date() {
  [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$key" ]]
}

if up_to_date; then
  echo "$venv/bin/python"
  exit 0
fi

mkdir -p "$repo_root/target"
# Serialise concurrent runs (e.g. two test scripts started in parallel) so they
# do not build the same venv at once. flock is optional.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$repo_root/target/pyenv.lock"
  flock 9
  # Another run may have finished the job while we waited.
  if up_to_date; then
    echo "$venv/bin/python"
    exit 0
  fi
fi

echo "py-env: creating $venv" >&2
rm -f "$stamp"
"$base_python" -m venv --clear "$venv" >&2
# --no-input: never hang waiting for a prompt in CI.
"$venv/bin/python" -m pip install --no-input --disable-pip-version-check -q -r "$req" >&2
# Sanity-import what the tools need, so a broken wheel fails here, not mid-test.
"$venv/bin/python" -c 'import jsonschema, referencing, tree_sitter, tree_sitter_bicep, pycep, pytest
from tree_sitter import Language, Parser
Parser(Language(tree_sitter_bicep.language())).parse(b"param x string\n")' >&2
echo "$key" >"$stamp"
echo "py-env: ready" >&2
echo "$venv/bin/python"
