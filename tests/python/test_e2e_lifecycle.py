"""Image templates across builds (ADR 13), end to end: the fake ARM refuses what AIB refuses
(tests/python/test_fake_aib_rules.py), and aibc's deploy/run keep clear of it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

import e2e

pytestmark = pytest.mark.e2e

AIB = "2025-10-01"
RUN_LRO = "Microsoft.VirtualMachineImages/imageTemplates:run"


@pytest.fixture
def env(make_env):
    env = make_env(e2e.example_scenario(
        retry_after=0, lro={"default": {"polls": 1, "retry_after": 0}, RUN_LRO: {"polls": 1, "retry_after": 0}},
        runs={"default": {"polls_per_step": 1}}, replication={"polls": 1}))
    e2e.seed_example_prerequisites(env)
    return env


def copy_example(tmp_path: Path, example: str) -> Path:
    folder = tmp_path / example
    shutil.copytree(e2e.REPO / "examples" / example, folder)
    return folder / "image.yaml"


def deploy(env, spec: Path, rg: str, *extra: str) -> e2e.Result:
    return env.aibc("deploy", str(spec), "-g", rg, "--role-wait", "0s", *extra)


def run(env, spec: Path, rg: str) -> e2e.Result:
    return env.aibc("run", str(spec), "-g", rg, "--metadata", str(env.work / f"{rg}.json"),
                    "--logs-dir", str(env.work / "logs"))


def ready(result: e2e.Result) -> str:
    return re.search(r"image template (\S+) is ready", result.stderr).group(1)


def templates(env, rg: str) -> list[dict]:
    listed = env.get(f"/subscriptions/{env.subscription}/resourceGroups/{rg}/providers/"
                     "Microsoft.VirtualMachineImages/imageTemplates", AIB)
    return listed["value"]


def test_two_builds_with_a_fixed_staging_group(env, tmp_path):
    spec = copy_example(tmp_path, "private-subnet")
    staging = f"/subscriptions/{env.subscription}/resourceGroups/rg-image-build-staging-ubuntu2404"
    first = deploy(env, spec, "rg-life-staging")
    assert first.code == 0, first.output
    t1 = ready(first)
    built = run(env, spec, "rg-life-staging")
    assert built.code == 0, built.output

    second = deploy(env, spec, "rg-life-staging")
    assert second.code == 0, second.output
    t2 = ready(second)
    assert t2 != t1, "a new version makes a new template"
    assert f"deleting the superseded image template {t1}" in second.stderr
    assert [t["name"] for t in templates(env, "rg-life-staging")] == [t2]
    assert env.get(staging, "2025-04-01")["tags"]["imageTemplateName"] == t2

    again = run(env, spec, "rg-life-staging")
    assert again.code == 0, again.output


def test_a_changed_spec_leaves_one_source_image_trigger(env, tmp_path):
    spec = copy_example(tmp_path, "from-gallery-version")
    first = deploy(env, spec, "rg-life-trigger")
    assert first.code == 0, first.output
    t1 = ready(first)
    spec.write_text(spec.read_text().replace("dotnet --list-runtimes", "dotnet --list-runtimes\n      dotnet --info"))
    second = deploy(env, spec, "rg-life-trigger")
    assert second.code == 0, second.output
    t2 = ready(second)
    assert t2 != t1
    names = [t["name"] for t in templates(env, "rg-life-trigger")]
    assert names == [t2], names
    triggers = env.get(f"/subscriptions/{env.subscription}/resourceGroups/rg-life-trigger/providers/"
                       f"Microsoft.VirtualMachineImages/imageTemplates/{t2}/triggers", AIB)["value"]
    assert [t["properties"]["kind"] for t in triggers] == ["SourceImage"]


def test_run_refuses_a_version_that_exists_before_starting(env, tmp_path):
    spec = copy_example(tmp_path, "ubuntu-2404-apt")
    assert deploy(env, spec, "rg-life-exists", "--image-version", "1.4.0").code == 0
    assert run(env, spec, "rg-life-exists").code == 0
    env.fake.reset_log()
    refused = run(env, spec, "rg-life-exists")
    assert refused.code == 3, refused.output
    assert "the gallery image version 1.4.0" in refused.stderr and "already exists" in refused.stderr
    assert "`aibc deploy` again" in refused.stderr
    assert not [q for q in env.requests() if q["method"] == "POST" and q["path"].endswith("/run")], \
        "no build may start"


# ----------------------------------------------------------------------------- permissions

SUB_RG = f"/subscriptions/{e2e.EXAMPLES_SUBSCRIPTION}/resourceGroups"
AUTHZ = "2022-04-01"


def assignments(env, scope: str) -> list[dict]:
    listed = env.get(scope + "/providers/Microsoft.Authorization/roleAssignments", AUTHZ)
    return [a for a in listed["value"] if a["properties"]["scope"].lower() == scope.lower()]


def test_a_vhd_to_a_custom_container_gets_write_on_that_container(env, tmp_path):
    account = f"{SUB_RG}/rg-image-build/providers/Microsoft.Storage/storageAccounts/stimgbuildweu01"
    container = account + "/blobServices/default/containers/vhd-exports"
    env.put(account + "/blobServices/default", {"properties": {}}, "2025-06-01")
    env.put(container, {"properties": {}}, "2025-06-01")
    spec = copy_example(tmp_path, "ubuntu-2404-apt")
    spec.write_text(spec.read_text().replace("distribute:\n", (
        "distribute:\n  - vhd:\n      uri: https://stimgbuildweu01.blob.core.windows.net/vhd-exports/base.vhd\n"
        f"      storageAccount: {account}\n"), 1))
    assert deploy(env, spec, "rg-life-vhd", "--image-version", "1.0.0").code == 0
    granted = assignments(env, container)
    assert [a["properties"]["roleDefinitionId"].rsplit("/", 1)[-1] for a in granted] == \
        ["ba92f5b4-2d11-453d-a403-e96b0029c9fe"], granted  # Storage Blob Data Contributor, on the container only
    built = run(env, spec, "rg-life-vhd")
    assert built.code == 0, built.output


def test_windows_on_a_vnet_in_an_existing_staging_group_grants_aibs_first_party_principal(make_env, tmp_path):
    from fake_arm import aib
    env = make_env(e2e.example_scenario(
        retry_after=0, lro={"default": {"polls": 1, "retry_after": 0}, RUN_LRO: {"polls": 1, "retry_after": 0}},
        runs={"default": {"polls_per_step": 1}}, replication={"polls": 1},
        principals=[{"object_id": aib.FIRST_PARTY_OBJECT_ID, "type": "ServicePrincipal"}]))
    e2e.seed_example_prerequisites(env)
    spec = copy_example(tmp_path, "windows-2022-iis")
    staging = f"{SUB_RG}/rg-image-build-staging-ubuntu2404"
    subnet = (f"{SUB_RG}/rg-image-build-network/providers/Microsoft.Network/virtualNetworks/vnet-image-build-weu/"
              "subnets/snet-build-vms")
    spec.write_text(spec.read_text().replace("  timeoutMinutes: 240\n", (
        f"  timeoutMinutes: 240\n  stagingResourceGroup: {staging}\n  subnet: {subnet}\n"), 1))
    missing = deploy(env, spec, "rg-life-win")
    assert missing.code != 0 and "imageBuilderPrincipalId" in missing.stderr, missing.output
    deployed = deploy(env, spec, "rg-life-win", "--param", f"imageBuilderPrincipalId={aib.FIRST_PARTY_OBJECT_ID}")
    assert deployed.code == 0, deployed.output
    granted = [a for a in assignments(env, staging) if a["properties"]["principalId"] == aib.FIRST_PARTY_OBJECT_ID]
    assert [a["properties"]["roleDefinitionId"].rsplit("/", 1)[-1] for a in granted] == \
        ["b24988ac-6180-42a0-ab88-20f7382dd24c"], granted  # Contributor on the staging group
    built = run(env, spec, "rg-life-win")
    assert built.code == 0, built.output


def test_an_identity_with_rights_managed_elsewhere_gets_no_role_writes(env, tmp_path):
    spec = copy_example(tmp_path, "private-subnet")
    spec.write_text(spec.read_text().replace("identity:\n", "identity:\n  assignRoles: false\n", 1))
    checked = env.aibc("validate", str(spec))
    assert checked.code == 0 and "AIB210" in checked.stderr, checked.output
    assert "Contributor on resource group `rg-image-build-staging-ubuntu2404`" in checked.stderr
    # Whoever manages the identity granted it what validate listed (here: Owner on the subscription).
    identity = f"{SUB_RG}/rg-image-build/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-aib-platform"
    principal = env.get(identity, "2024-11-30")["properties"]["principalId"]
    # Owner grants no data actions: blob reads need their own role (Storage Blob Data Reader).
    for assignment, role in [("5b0c3f8e-1d2a-4c3b-9e8f-7a6b5c4d3e2f", "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"),
                             ("6c1d4a9f-2e3b-4d4c-8f9a-8b7c6d5e4f3a", "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1")]:
        env.put(f"/subscriptions/{e2e.EXAMPLES_SUBSCRIPTION}/providers/Microsoft.Authorization/roleAssignments/"
                f"{assignment}", {"properties": {
                    "roleDefinitionId": f"/subscriptions/{e2e.EXAMPLES_SUBSCRIPTION}/providers/"
                                        f"Microsoft.Authorization/roleDefinitions/{role}",
                    "principalId": principal, "principalType": "ServicePrincipal"}}, AUTHZ)
    env.fake.reset_log()
    deployed = deploy(env, spec, "rg-life-external")
    assert deployed.code == 0, deployed.output
    role_writes = [q for q in env.requests() if q["method"] == "PUT" and "/providers/Microsoft.Authorization/" in q["path"]]
    assert role_writes == [], role_writes
    built = run(env, spec, "rg-life-external")
    assert built.code == 0, built.output


def test_a_script_gets_the_blob_url_of_a_large_artifact(env, tmp_path):
    import hashlib
    (tmp_path / "installers").mkdir()
    payload = b"a large installer\n" * 1000
    (tmp_path / "installers" / "agent-2.1.bin").write_bytes(payload)
    vm_identity = f"{SUB_RG}/rg-image-build/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-build-vm-kv-reader"
    spec = tmp_path / "image.yaml"
    spec.write_text(
        "name: artifact-url\nos: linux\nlocation: westeurope\n"
        "source:\n  platform: Canonical:ubuntu-24_04-lts:server:latest\n"
        f"build:\n  vmIdentities: [{vm_identity}]\n"
        "customize:\n  - type: Shell\n    artifacts: [installers/agent-2.1.bin]\n    inline: |\n"
        "      curl -fsS -H \"Authorization: Bearer $TOKEN\" \"$AIBC_ARTIFACT_AGENT_2_1_BIN\" -o /tmp/agent.bin\n"
        "distribute:\n  - vhd: {}\n")
    deployed = deploy(env, spec, "rg-life-artifact")
    assert deployed.code == 0, deployed.output
    uploaded = re.search(r"uploaded installers/agent-2\.1\.bin as (\S+)", deployed.stderr)
    assert uploaded, deployed.stderr
    template = env.get(f"/subscriptions/{env.subscription}/resourceGroups/rg-life-artifact/providers/"
                       f"Microsoft.VirtualMachineImages/imageTemplates/{ready(deployed)}", AIB)
    inline = template["properties"]["customize"][0]["inline"]
    url = re.match(r"export AIBC_ARTIFACT_AGENT_2_1_BIN='(https://[^']+)'$", inline[0])
    assert url and url.group(1).endswith("/" + uploaded.group(1)), inline
    assert inline[1] == f"export AIBC_ARTIFACT_AGENT_2_1_BIN_SHA256='{hashlib.sha256(payload).hexdigest()}'"
    assert inline[2].startswith("curl ")
    # The build VM's identity may read the container the URL points into, and only that.
    vm_principal = env.get(vm_identity, "2024-11-30")["properties"]["principalId"]
    container = f"/subscriptions/{env.subscription}/resourceGroups/rg-life-artifact/providers/Microsoft.Storage/"
    readers = [q for q in env.requests() if q["method"] == "PUT" and "/roleAssignments/" in q["path"]
               and (q.get("body") or {}).get("properties", {}).get("principalId") == vm_principal]
    paths = {q["path"] for q in readers}  # both phases put it
    assert len(paths) == 1 and readers[0]["path"].startswith(container) and "/containers/" in readers[0]["path"], paths
    assert readers[0]["body"]["properties"]["roleDefinitionId"].endswith("2a2b9908-6ea1-4ae2-8e65-a410df84e7d1")


def test_a_distribution_is_switched_per_deploy(env, tmp_path):
    spec = copy_example(tmp_path, "multi-distribution")
    off = deploy(env, spec, "rg-life-switch", "--param", "publishManagedImage=false", "--image-version", "1.0.0")
    assert off.code == 0, off.output
    template = env.get(f"/subscriptions/{env.subscription}/resourceGroups/rg-life-switch/providers/"
                       f"Microsoft.VirtualMachineImages/imageTemplates/{ready(off)}", AIB)
    assert [d["type"] for d in template["properties"]["distribute"]] == ["SharedImage", "VHD"]
    on = deploy(env, spec, "rg-life-switch", "--image-version", "1.0.0")
    assert on.code == 0, on.output
    template = env.get(f"/subscriptions/{env.subscription}/resourceGroups/rg-life-switch/providers/"
                       f"Microsoft.VirtualMachineImages/imageTemplates/{ready(on)}", AIB)
    assert [d["type"] for d in template["properties"]["distribute"]] == ["SharedImage", "ManagedImage", "VHD"]


def test_a_running_build_on_the_superseded_template_is_not_deleted(make_env, tmp_path):
    env = make_env(e2e.example_scenario(
        retry_after=0, lro={"default": {"polls": 1, "retry_after": 0}, RUN_LRO: {"polls": 1, "retry_after": 0}},
        runs={"default": {"polls_per_step": 50}}, replication={"polls": 1}))
    e2e.seed_example_prerequisites(env)
    spec = copy_example(tmp_path, "private-subnet")
    first = deploy(env, spec, "rg-life-busy", "--image-version", "1.0.0")
    assert first.code == 0, first.output
    old = ready(first)
    assert env.aibc("run", str(spec), "-g", "rg-life-busy", "--no-wait").code == 0
    refused = deploy(env, spec, "rg-life-busy", "--image-version", "1.0.1")
    assert refused.code == 1, refused.output
    assert f"the image template {old} must be deleted" in refused.stderr and "a build is running on it" in refused.stderr
    assert [t["name"] for t in templates(env, "rg-life-busy")] == [old], "the running build's template stays"
    assert env.aibc("cancel", str(spec), "-g", "rg-life-busy").code == 0
    replaced = deploy(env, spec, "rg-life-busy", "--image-version", "1.0.1")
    assert replaced.code == 0, replaced.output
    assert [t["name"] for t in templates(env, "rg-life-busy")] == [ready(replaced)]


def test_two_groups_deploying_one_spec_keep_their_own_nested_deployments(env, tmp_path):
    """The source image's group is shared: each deploying group leaves its own deployment
    record there (named with a hash of the deploying group), and a redeploy reuses its name."""
    spec = copy_example(tmp_path, "from-gallery-version")
    shared = "/resourcegroups/rg-images-shared/providers/microsoft.resources/deployments/"

    def in_shared_group(rg: str) -> list[str]:
        """The nested deployments the group's deployment wrote into the shared group."""
        ops = env.get(f"/subscriptions/{env.subscription}/resourceGroups/{rg}/providers/Microsoft.Resources/"
                      "deployments/aibc-orders-api-ubuntu2404/operations", "2025-04-01")["value"]
        ids = [(o["properties"].get("targetResource") or {}).get("id", "") for o in ops]
        return sorted({i.rsplit("/", 1)[-1] for i in ids if shared in i.lower()})

    for rg in ("rg-life-team-a", "rg-life-team-b"):
        r = deploy(env, spec, rg)
        assert r.code == 0, r.output
    a, b = in_shared_group("rg-life-team-a"), in_shared_group("rg-life-team-b")
    assert a and b and not set(a) & set(b), (a, b)
    again = deploy(env, spec, "rg-life-team-a", "--force")
    assert again.code == 0, again.output
    assert in_shared_group("rg-life-team-a") == a, "a redeploy reuses its names"
