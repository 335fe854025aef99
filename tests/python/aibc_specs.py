"""Locate the read-only Azure specs folder shared by the Python cross-checks.

Policy (same for every tool under tests/python/):
  1. `AIBC_AZURE_SPECS` env var, if set, names the folder (must exist).
  2. Otherwise the sibling `../shared/azure-specs` of the repository root.
  3. If neither exists: under `CI=true` that is a failure (CI must never pass by
     skipping the check); elsewhere the tool says plainly that it SKIPPED and
     exits 0, so a developer without the folder is not blocked.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# tests/python/aibc_specs.py -> repository root is two levels up.
REPO_ROOT = Path(__file__).resolve().parents[2]
ENV_VAR = "AIBC_AZURE_SPECS"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def candidate_paths() -> list[Path]:
    env = os.environ.get(ENV_VAR)
    if env:
        # An explicit setting wins outright: silently falling back to the sibling
        # folder would hide a typo in the variable.
        return [Path(env)]
    return [REPO_ROOT.parent / "shared" / "azure-specs"]


def find_specs() -> Path | None:
    """Return the specs folder, or None when it is not present."""
    for path in candidate_paths():
        if (path / "arm-schemas").is_dir():
            return path.resolve()
    return None


def specs_or_exit(tool: str) -> Path:
    """Return the specs folder, or end the process according to the policy above."""
    found = find_specs()
    if found is not None:
        return found
    where = ", ".join(str(p) for p in candidate_paths())
    if in_ci():
        print(f"{tool}: FAILED: Azure specs folder not found (looked at {where}; "
              f"set {ENV_VAR}). CI=true, so a missing folder is an error.", file=sys.stderr)
        sys.exit(2)
    print(f"{tool}: SKIPPED: Azure specs folder not found (looked at {where}; set {ENV_VAR} to run this check).")
    sys.exit(0)
