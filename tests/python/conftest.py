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


# --------------------------------------------------------------------------- end-to-end fixtures
# The aibc binary against the fake ARM and a real Azurite (tests/python/e2e.py).


@pytest.fixture(scope="session")
def e2e_ca(tmp_path_factory) -> Path:
    import e2e
    ca_dir = tmp_path_factory.mktemp("ca")
    e2e.make_ca(ca_dir)
    return ca_dir


@pytest.fixture(scope="session")
def azurite(e2e_ca, tmp_path_factory, specs_dir):
    import e2e
    server = e2e.start_azurite(e2e_ca, tmp_path_factory.mktemp("azurite"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def aibc_bin() -> Path:
    import e2e
    return e2e.aibc_binary()


@pytest.fixture
def make_env(azurite, e2e_ca, aibc_bin, tmp_path, specs_dir):
    """`make_env(scenario)` starts a fake ARM (stopped after the test) and returns an e2e.Env."""
    import e2e
    from fake_arm import FakeArm
    started = []

    def make(scenario: dict | None = None) -> "e2e.Env":
        fake = FakeArm(tmp_path / f"fake{len(started)}", scenario or e2e.example_scenario(),
                       blob_endpoint=azurite.endpoint, ca_dir=e2e_ca)
        env = e2e.Env(aibc_bin, fake, tmp_path)
        started.append(env)
        return env

    yield make
    for env in started:
        issued = env.fake.issued()
        E2E_TRANSCRIPT.append(("\n".join(env.outputs), issued["tokens"] + issued["secrets"]))
        env.fake.stop()


# Everything the binary printed in the e2e tests, with what each fake issued; checked by
# test_e2e_zz_leaks.py, which runs after the other e2e files.
E2E_TRANSCRIPT: list[tuple[str, list[str]]] = []
