#!/usr/bin/env bash
# Run the Python cross-checks: the unit tests under tests/python/ and, for each DIR
# given, the ARM schema check of every azuredeploy.json under it.
#
#   scripts/py-test.sh                 # pytest only
#   scripts/py-test.sh out/ examples/  # pytest, then arm_schema.py on those folders
#
# The Azure specs folder is found as described in tests/python/aibc_specs.py
# (AIBC_AZURE_SPECS, else ../shared/azure-specs); without it the schema tests SKIP,
# or FAIL when CI=true.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
py="$("$repo_root/scripts/py-env.sh")"
export PYTHONDONTWRITEBYTECODE=1  # keep __pycache__ out of the source tree

"$py" -m pytest "$repo_root/tests/python" -q
if [[ $# -gt 0 ]]; then
  "$py" "$repo_root/tests/python/arm_schema.py" "$@"
fi
