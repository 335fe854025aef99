"""After every other e2e test: nothing the fakes issued (access tokens, federated tokens,
client secrets, the pipeline's access token) appears in anything the binary printed."""

from __future__ import annotations

import pytest

import conftest

pytestmark = pytest.mark.e2e


def test_no_issued_secret_appears_in_any_output_of_the_suite():
    transcript = conftest.E2E_TRANSCRIPT
    if not transcript:
        pytest.skip("no e2e test ran in this session (run the whole tests/python folder)")
    checked = 0
    for printed, secrets in transcript:
        for s in filter(None, secrets):
            checked += 1
            assert s not in printed
            if s.count(".") == 2:  # a JWT: not even its signature
                assert s.rsplit(".", 1)[1] not in printed
    assert checked > len(transcript)
