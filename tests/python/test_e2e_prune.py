"""`aibc prune` end to end: old gallery versions go, never `latest`, never one a template
builds from; `--dry-run` deletes nothing."""

from __future__ import annotations

import pytest

import e2e

pytestmark = pytest.mark.e2e

SPEC = "examples/ubuntu-2404-apt/image.yaml"


@pytest.fixture
def gallery(make_env):
    env = make_env(e2e.example_scenario(retry_after=0, lro={"default": {"polls": 1, "retry_after": 0}}))
    e2e.seed_example_prerequisites(env)
    assert env.aibc("deploy", SPEC, "-g", "rg-prune", "--role-wait", "0s", "--image-version", "2.0.0").code == 0
    definition = (f"/subscriptions/{env.subscription}/resourceGroups/rg-prune/providers/Microsoft.Compute/"
                  "galleries/gal_platform_images/images/ubuntu-2404-base")
    for v, excluded in [("1.0.0", False), ("1.0.1", False), ("1.0.2", False), ("1.1.0", False), ("1.2.0", True)]:
        env.put(f"{definition}/versions/{v}", {"location": "westeurope", "properties": {
            "publishingProfile": {"targetRegions": [{"name": "westeurope"}], "excludeFromLatest": excluded},
            "storageProfile": {"source": {"id": f"/subscriptions/{env.subscription}/resourceGroups/rg-prune/"
                                                "providers/Microsoft.Compute/images/seed"}}}}, "2025-03-03")
    # A template in the group builds from 1.0.0: it must stay.
    identity = (f"/subscriptions/{env.subscription}/resourceGroups/rg-prune/providers/"
                "Microsoft.ManagedIdentity/userAssignedIdentities/id-ubuntu-2404-base")
    env.put(f"/subscriptions/{env.subscription}/resourceGroups/rg-prune/providers/"
            "Microsoft.VirtualMachineImages/imageTemplates/child-layer", {
                "location": "westeurope",
                "identity": {"type": "UserAssigned", "userAssignedIdentities": {identity: {}}},
                "properties": {"source": {"type": "SharedImageVersion", "imageVersionId": f"{definition}/versions/1.0.0"},
                               "distribute": [{"type": "ManagedImage", "runOutputName": "child",
                                               "imageId": f"/subscriptions/{env.subscription}/resourceGroups/rg-prune/"
                                                          "providers/Microsoft.Compute/images/child",
                                               "location": "westeurope"}]}}, "2025-10-01")
    return env, definition


def versions(env, definition) -> list[str]:
    return sorted(v["name"] for v in env.get(f"{definition}/versions", "2025-03-03")["value"])


def test_dry_run_deletes_nothing(gallery):
    env, definition = gallery
    before = versions(env, definition)
    r = env.aibc("prune", SPEC, "-g", "rg-prune", "--keep", "1", "--dry-run")
    assert r.code == 0, r.output
    assert "would delete" in r.stderr
    assert versions(env, definition) == before


def test_keeps_latest_the_newest_and_what_a_template_uses(gallery):
    env, definition = gallery
    r = env.aibc("prune", SPEC, "-g", "rg-prune", "--keep", "2", "--yes")
    assert r.code == 0, r.output
    # 1.2.0 is the newest but excluded from latest, so latest is 1.1.0; --keep 2 keeps
    # those two; 1.0.0 is the source of child-layer. 1.0.1 and 1.0.2 go.
    assert versions(env, definition) == ["1.0.0", "1.1.0", "1.2.0"]
    assert "keep 1.0.0 (the source of image template child-layer)" in r.stderr
    assert "keep 1.1.0 (latest)" in r.stderr
    assert "deleted 2 of 5 version(s)" in r.stderr
