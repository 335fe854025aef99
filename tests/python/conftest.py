"""Shared pytest setup for tests/python: import path and the Azure specs policy."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import aibc_specs  # noqa: E402


@pytest.fixture(scope="session")
def specs_dir() -> Path:
    """The Azure specs folder; skipped (or, under CI=true, failed) when absent."""
    found = aibc_specs.find_specs()
    if found is None:
        where = ", ".join(str(p) for p in aibc_specs.candidate_paths())
        message = f"Azure specs folder not found (looked at {where}; set {aibc_specs.ENV_VAR})"
        if aibc_specs.in_ci():
            pytest.fail(message + "; CI=true, so this is an error", pytrace=False)
        pytest.skip("SKIPPED: " + message)
    return found


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    return HERE / "samples"
