"""`aibc deploy` end to end: the built binary against the fake ARM and Azurite.

Asserted through the fake's request log: what the binary asked ARM to do, what changed, and
that nothing secret it was given ever appears in its output.
"""

from __future__ import annotations

import json
import re
import shutil
import uuid
from pathlib import Path

import pytest

import e2e

pytestmark = pytest.mark.e2e

EXAMPLES = sorted(p for p in (e2e.REPO / "examples").glob("*/*.yaml"))


def deploy(env: e2e.Env, spec: Path | str, rg: str, *extra: str, **kw) -> e2e.Result:
    return env.aibc("deploy", str(spec), "-g", rg, "--role-wait", "0s", *extra, **kw)


def client_writes(requests: list[dict]) -> list[dict]:
    return [r for r in requests if r.get("source") == "client" and r["method"] in ("PUT", "POST", "PATCH", "DELETE")
            and r["status"] < 400]


@pytest.fixture
def env(make_env):
    env = make_env(e2e.example_scenario(retry_after=0, lro={"default": {"polls": 1, "retry_after": 0}}))
    e2e.seed_example_prerequisites(env)
    return env


@pytest.mark.parametrize("spec", EXAMPLES, ids=lambda p: p.parent.name)
def test_every_example_deploys(env, spec):
    r = deploy(env, spec.relative_to(e2e.REPO), f"rg-e2e-{spec.parent.name}")
    assert r.code == 0, r.output
    assert "is ready" in r.stderr
    templates = [q for q in env.requests() if q.get("source") == "deployment"
                 and "/providers/Microsoft.VirtualMachineImages/imageTemplates/" in q["path"] and q["status"] < 400]
    assert templates, "no image template was written"
    assert "signed in with service principal with a client secret" in r.stderr


def unique_copy(tmp_path: Path, example: str) -> Path:
    """An example whose local files are new bytes (Azurite is shared by the whole run)."""
    folder = tmp_path / example
    shutil.copytree(e2e.REPO / "examples" / example, folder)
    for f in folder.rglob("*"):
        if f.is_file() and f.suffix in (".sh", ".ps1", ".txt"):
            f.write_text(f.read_text() + f"\n# {uuid.uuid4()}\n")
    return folder / "image.yaml"


def test_local_files_are_uploaded_once_and_redeploy_is_a_no_op(env, tmp_path):
    spec = unique_copy(tmp_path, "ubuntu-2404-apt")
    first = deploy(env, spec, "rg-idem")
    assert first.code == 0, first.output
    assert re.search(r"uploaded \S+ as \S+ \(\d+ bytes\)", first.stderr), first.stderr
    env.fake.reset_log()

    second = deploy(env, spec, "rg-idem", "--image-version", re.search(r"image version (\S+):", first.stderr).group(1))
    assert second.code == 0, second.output
    log = env.requests()
    assert client_writes(log) == [], json.dumps(client_writes(log), indent=1)[:2000]
    assert not [q for q in log if q.get("source") == "deployment"], "the deployment ran again"
    assert "unchanged" in second.stderr and "already uploaded" in second.stderr


def test_a_changed_spec_creates_a_new_template(env, tmp_path):
    spec_dir = tmp_path / "ubuntu"
    shutil.copytree(e2e.REPO / "examples" / "ubuntu-2404-apt", spec_dir)
    spec = spec_dir / "image.yaml"
    first = deploy(env, spec, "rg-change")
    assert first.code == 0, first.output
    name1 = re.search(r"image template (\S+) is ready", first.stderr).group(1)
    spec.write_text(spec.read_text().replace("buildTimeoutInMinutes: 90", "buildTimeoutInMinutes: 120")
                    if "buildTimeoutInMinutes: 90" in spec.read_text()
                    else spec.read_text() + "\nbuild:\n  timeoutMinutes: 123\n")
    check = env.aibc("validate", str(spec))
    if check.code != 0:  # the example sets build: already; change its VM size instead
        spec.write_text(spec.read_text().rsplit("\nbuild:\n", 1)[0] + "\n")
        text = spec.read_text()
        spec.write_text(re.sub(r"vmSize: \S+", "vmSize: Standard_D4s_v5", text) if "vmSize:" in text
                        else text.replace("customize:", "build:\n  vmSize: Standard_D4s_v5\ncustomize:", 1))
        assert env.aibc("validate", str(spec)).code == 0
    second = deploy(env, spec, "rg-change")
    assert second.code == 0, second.output
    name2 = re.search(r"image template (\S+) is ready", second.stderr).group(1)
    assert name1 != name2
    listed = env.get(f"/subscriptions/{env.subscription}/resourceGroups/rg-change/providers/"
                     "Microsoft.VirtualMachineImages/imageTemplates", "2025-10-01")
    names = sorted(t["name"] for t in listed["value"])
    assert names == sorted([name1, name2])

    cleaned = env.aibc("clean", str(spec), "-g", "rg-change", "--yes")
    assert cleaned.code == 0, cleaned.output
    listed = env.get(f"/subscriptions/{env.subscription}/resourceGroups/rg-change/providers/"
                     "Microsoft.VirtualMachineImages/imageTemplates", "2025-10-01")
    assert [t["name"] for t in listed["value"]] == [name2]


def test_a_failing_deployment_names_the_resource_and_exits_3(env):
    env.fake.update_scenario({"resource_failures": [{
        "type": "Microsoft.Compute/galleries/images", "name": "*", "phase": "put",
        "code": "GalleryImageQuotaExceeded", "message": "The gallery has reached its image definition quota."}]})
    r = deploy(env, "examples/ubuntu-2404-apt/image.yaml", "rg-fail")
    assert r.code == 3, r.output
    assert "Microsoft.Compute/galleries/images" in r.stderr
    assert "GalleryImageQuotaExceeded" in r.stderr and "image definition quota" in r.stderr
    assert "correlation id" in r.stderr


def test_throttling_and_transient_errors_are_survived(env):
    env.fake.update_scenario({"faults": [
        {"method": "PUT", "path": "*/deployments/aibc-*", "status": 429, "retry_after": 1, "times": 1},
        {"method": "GET", "path": "*/resourceGroups/rg-flaky", "status": 503, "times": 2},
    ]})
    r = deploy(env, "examples/ubuntu-2404-apt/image.yaml", "rg-flaky")
    assert r.code == 0, r.output
    statuses = [q["status"] for q in env.requests() if q.get("source") == "client"]
    assert 429 in statuses and statuses.count(503) == 2


def test_an_expired_token_is_refreshed(make_env):
    env = make_env(e2e.example_scenario(retry_after=0, token_lifetime_seconds=2,
                                        lro={"default": {"polls": 1, "retry_after": 0}}))
    e2e.seed_example_prerequisites(env)
    env.fake.update_scenario({"lro": {"Microsoft.Resources/deployments": {"seconds": 4, "retry_after": 1}}})
    r = deploy(env, "examples/ubuntu-2404-apt/image.yaml", "rg-refresh")
    assert r.code == 0, r.output
    log = env.requests()
    arm_grants = [q for q in log if q.get("source") == "entra" and "management" in (q["body"].get("scope") or "")]
    # Blob uploads need a storage token of their own; only ARM-scope grants show a refresh.
    assert len(arm_grants) >= 2, "the credential should have signed in again after the token expired"
    assert not [q for q in log if q.get("source") == "client" and q["status"] == 401], \
        "no request may go out with the expired token"


def test_what_if_prints_the_change_set_and_changes_nothing(env):
    r = deploy(env, "examples/ubuntu-2404-apt/image.yaml", "rg-whatif", "--what-if")
    assert r.code == 0, r.output
    assert "what-if:" in r.stderr and "Create" in r.stderr
    writes = [q for q in client_writes(env.requests()) if "/deployments/" in q["path"]]
    assert [w["method"] for w in writes] == ["POST"], writes


@pytest.mark.parametrize("auth", ["workload-identity", "pipelines", "cli", "managed-identity"])
def test_every_sign_in_method_reaches_arm(env, auth):
    # Managed identity signs in as the agent's identity, which needs its own roles in
    # real Azure; the fake does not check the deployer's RBAC, so all four can deploy.
    r = env.aibc("status", "examples/ubuntu-2404-apt/image.yaml", "-g", "rg-none", auth=auth)
    assert "signed in with" in r.stderr, r.output
    assert r.code == 64 and "not deployed" in r.stderr, r.output


def test_auto_picks_the_pipeline_connection_first(env):
    extra = {"AZURE_CLIENT_SECRET": env.info["client_secret"], "AZURE_CLIENT_ID": env.info["client_id"],
             "AZURE_TENANT_ID": env.info["tenant_id"]}
    r = env.aibc("status", "examples/ubuntu-2404-apt/image.yaml", "-g", "rg-none", auth="pipelines",
                 extra_env=dict(extra, AIBC_AUTH="auto"))
    assert "Azure Pipelines service connection" in r.stderr and "(--auth auto)" in r.stderr, r.output


def test_nothing_secret_is_ever_printed(env):
    # Runs with --verbose (every request logged) and a failure, then greps everything the
    # binary printed in this test for the tokens and secrets the fake issued.
    deploy(env, "examples/ubuntu-2404-apt/image.yaml", "rg-secret", "--verbose")
    env.fake.update_scenario({"resource_failures": [{"type": "*", "name": "*", "phase": "put",
                                                     "code": "Boom", "message": "failed"}]})
    deploy(env, "examples/windows-2022-iis/image.yaml", "rg-secret2", "--verbose", auth="cli")
    env.aibc("status", "examples/ubuntu-2404-apt/image.yaml", "-g", "rg-secret", "--verbose", auth="pipelines")
    issued = env.fake.issued()
    secrets = [s for s in issued["tokens"] + issued["secrets"] if s]
    assert len(secrets) >= 3
    printed = "\n".join(env.outputs)
    assert "[http]" in printed
    for s in secrets:
        assert s not in printed
        # Nor a recognisable piece of a JWT (its signature).
        if s.count(".") == 2:
            assert s.rsplit(".", 1)[1] not in printed


def test_replace_refuses_while_building_then_deletes_the_old_template(make_env, tmp_path):
    env = make_env(e2e.example_scenario(retry_after=0, lro={"default": {"polls": 1, "retry_after": 0}},
                                        runs={"default": {"polls_per_step": 50}}))
    e2e.seed_example_prerequisites(env)
    spec = unique_copy(tmp_path, "ubuntu-2404-apt")
    first = deploy(env, spec, "rg-replace", "--image-version", "1.0.0")
    assert first.code == 0, first.output
    old = re.search(r"image template (\S+) is ready", first.stderr).group(1)
    assert env.aibc("run", str(spec), "-g", "rg-replace", "--no-wait").code == 0
    refused = deploy(env, spec, "rg-replace", "--image-version", "1.0.1", "--replace")
    assert refused.code == 1 and "a build is running on" in refused.stderr, refused.output
    assert env.aibc("cancel", str(spec), "-g", "rg-replace").code == 0
    replaced = deploy(env, spec, "rg-replace", "--image-version", "1.0.1", "--replace")
    assert replaced.code == 0, replaced.output
    assert f"deleting the older image template {old}" in replaced.stderr
    listed = env.get(f"/subscriptions/{env.subscription}/resourceGroups/rg-replace/providers/"
                     "Microsoft.VirtualMachineImages/imageTemplates", "2025-10-01")
    new = re.search(r"image template (\S+) is ready", replaced.stderr).group(1)
    assert [t["name"] for t in listed["value"]] == [new]


def test_new_role_assignments_get_time_to_propagate(env):
    r = env.aibc("deploy", "examples/ubuntu-2404-apt/image.yaml", "-g", "rg-roles", "--role-wait", "1s")
    assert r.code == 0, r.output
    assert re.search(r"\d+ new role assignment\(s\): waiting 1 s for them to propagate", r.stderr), r.stderr
    # The template comes after the wait: its PUT is the last deployment write.
    writes = [q["path"] for q in env.requests() if q.get("source") == "deployment" and q["status"] < 400]
    roles = [i for i, p in enumerate(writes) if "/roleAssignments/" in p]
    template = [i for i, p in enumerate(writes) if "/imageTemplates/" in p]
    assert roles and template and max(roles) < min(template)
    # A second deploy creates no role assignment, so it does not wait.
    again = env.aibc("deploy", "examples/ubuntu-2404-apt/image.yaml", "-g", "rg-roles", "--role-wait", "1s", "--force",
                     "--image-version", re.search(r"image version (\S+):", r.stderr).group(1))
    assert again.code == 0, again.output
    assert "waiting" not in again.stderr
