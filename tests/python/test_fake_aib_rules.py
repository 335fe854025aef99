"""The fake's Azure Image Builder rules that aibc's template lifecycle relies on (ADR 13): each
request AIB would reject is rejected, with AIB's status and error code."""

from __future__ import annotations

import pytest

import e2e

pytestmark = pytest.mark.e2e

AIB = "2025-10-01"
GALLERY = "2025-03-03"


@pytest.fixture
def env(make_env):
    env = make_env(e2e.example_scenario(retry_after=0, lro={"default": {"polls": 1, "retry_after": 0}},
                                        aib={"check_permissions": False}))
    env.rg("rg-aib")
    env.rg("rg-aib-staging")
    return env


def base(env) -> str:
    return f"/subscriptions/{env.subscription}/resourceGroups"


def prerequisites(env) -> tuple[str, str]:
    """An identity and an image definition; returns their ids."""
    rg = base(env) + "/rg-aib"
    identity = rg + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-aib"
    env.put(identity, {"location": "westeurope"}, "2024-11-30")
    gallery = rg + "/providers/Microsoft.Compute/galleries/gal_aib"
    env.put(gallery, {"location": "westeurope"}, GALLERY)
    env.put(gallery + "/images/img", {"location": "westeurope", "properties": {
        "osType": "Linux", "osState": "Generalized", "hyperVGeneration": "V2",
        "identifier": {"publisher": "p", "offer": "o", "sku": "s"}}}, GALLERY)
    return identity, gallery + "/images/img"


def template_body(identity: str, gallery_image_id: str, staging: str | None = None, source: dict | None = None):
    props = {"source": source or {"type": "PlatformImage", "publisher": "Canonical", "offer": "ubuntu-24_04-lts",
                                  "sku": "server", "version": "latest"},
             "distribute": [{"type": "SharedImage", "runOutputName": "out", "galleryImageId": gallery_image_id,
                             "targetRegions": [{"name": "westeurope"}]}]}
    if staging:
        props["stagingResourceGroup"] = staging
    return {"location": "westeurope", "identity": {"type": "UserAssigned", "userAssignedIdentities": {identity: {}}},
            "properties": props}


def template_path(env, name: str) -> str:
    return f"{base(env)}/rg-aib/providers/Microsoft.VirtualMachineImages/imageTemplates/{name}"


def build(env, path: str) -> dict:
    """Runs a build to its end (each GET of the template advances it one sub-state)."""
    status, _, out = env.call("POST", path + "/run", api=AIB)
    assert status == 202, out
    for _ in range(40):
        run = env.get(path, AIB)["properties"]["lastRunStatus"]
        if run["runState"] not in ("Running", "Canceling"):
            return run
    raise AssertionError("the build did not finish")


def test_a_staging_group_associated_with_another_template_is_refused(env):
    identity, definition = prerequisites(env)
    staging = base(env) + "/rg-aib-staging"
    env.put(template_path(env, "t1"), template_body(identity, definition, staging), AIB)
    first = env.get(template_path(env, "t1"), AIB)
    assert first["properties"]["provisioningState"] == "Succeeded", first
    tags = env.get(staging, "2025-04-01")["tags"]
    assert tags["imageTemplateName"] == "t1" and tags["imageTemplateResourceGroupName"] == "rg-aib"
    assert "usedBy" in tags

    env.put(template_path(env, "t2"), template_body(identity, definition, staging), AIB)
    second = env.get(template_path(env, "t2"), AIB)["properties"]
    assert second["provisioningState"] == "Failed"
    assert second["provisioningError"]["provisioningErrorCode"] == "BadStagingResourceGroup"
    assert "cannot be associated with another image template" in second["provisioningError"]["message"]


def test_the_association_tags_outlive_the_template_and_block_the_next_one(env):
    """Deleting the template empties the group (documented) but the tags stay (not documented
    either way: the fake takes the worst case, so aibc must hand the group back itself)."""
    identity, definition = prerequisites(env)
    staging = base(env) + "/rg-aib-staging"
    env.put(template_path(env, "t1"), template_body(identity, definition, staging), AIB)
    leftover = staging + "/providers/Microsoft.Storage/storageAccounts/stleftover01"
    env.put(leftover, {"location": "westeurope", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}}, "2025-06-01")
    status, _, _ = env.call("DELETE", template_path(env, "t1"), api=AIB)
    assert status in (200, 202, 204)
    assert env.get(leftover, "2025-06-01") is None, "resources in the staging group go with the template"
    assert env.get(staging, "2025-04-01")["tags"]["imageTemplateName"] == "t1"
    env.put(template_path(env, "t2"), template_body(identity, definition, staging), AIB)
    assert env.get(template_path(env, "t2"), AIB)["properties"]["provisioningState"] == "Failed"


def test_a_build_whose_staging_tags_do_not_match_fails(env):
    identity, definition = prerequisites(env)
    staging = base(env) + "/rg-aib-staging"
    env.put(template_path(env, "t1"), template_body(identity, definition, staging), AIB)
    env.put(staging, {"location": "westeurope", "tags": {"imageTemplateName": "someone-else",
                                                         "imageTemplateResourceGroupName": "rg-aib"}}, "2025-04-01")
    run = build(env, template_path(env, "t1"))
    assert run["runState"] == "Failed" and "do not match" in run["message"], run


def test_a_template_holds_one_source_image_trigger(env):
    identity, definition = prerequisites(env)
    source = {"type": "SharedImageVersion", "imageVersionId": definition + "/versions/latest"}
    path = template_path(env, "t1")
    env.put(path, template_body(identity, definition, source=source), AIB)
    env.put(path + "/triggers/source-image", {"properties": {"kind": "SourceImage"}}, AIB)
    status, _, out = env.call("PUT", path + "/triggers/another", {"properties": {"kind": "SourceImage"}}, AIB)
    assert status == 400 and out["error"]["code"] == "BadRequest", out


def test_a_build_to_an_existing_gallery_version_fails_at_distribution(env):
    identity, definition = prerequisites(env)
    env.put(definition + "/versions/1.0.0", {"location": "westeurope", "properties": {
        "publishingProfile": {"targetRegions": [{"name": "westeurope"}]},
        "storageProfile": {"source": {"id": base(env) + "/rg-aib/providers/Microsoft.Compute/images/seed"}}}},
        GALLERY)
    path = template_path(env, "t1")
    env.put(path, template_body(identity, definition + "/versions/1.0.0"), AIB)
    run = build(env, path)
    assert run["runState"] == "Failed" and run["runSubState"] == "Distributing", run
    assert "already exists" in run["message"]


# ----------------------------------------------------------------------------- permissions

AUTHZ = "2022-04-01"


@pytest.fixture
def strict(make_env):
    """AIB's permission checks on (the default)."""
    env = make_env(e2e.example_scenario(retry_after=0, lro={"default": {"polls": 1, "retry_after": 0}}))
    env.rg("rg-aib")
    env.rg("rg-aib-staging")
    return env


def grant(env, scope: str, principal: str, actions: list[str], data_actions: list[str] | None = None) -> None:
    """A custom role with exactly these actions, assigned to `principal` at `scope`."""
    import uuid
    role = str(uuid.uuid4())
    rg = base(env) + "/rg-aib"
    env.put(f"{rg}/providers/Microsoft.Authorization/roleDefinitions/{role}", {"properties": {
        "roleName": f"test {role}", "type": "CustomRole", "assignableScopes": [f"/subscriptions/{env.subscription}"],
        "permissions": [{"actions": actions, "notActions": [], "dataActions": data_actions or []}]}}, AUTHZ)
    env.put(f"{scope}/providers/Microsoft.Authorization/roleAssignments/{uuid.uuid4()}", {"properties": {
        "roleDefinitionId": f"/subscriptions/{env.subscription}/providers/Microsoft.Authorization/roleDefinitions/{role}",
        "principalId": principal, "principalType": "ServicePrincipal"}}, AUTHZ)


def principal_of(env, identity: str) -> str:
    return env.get(identity, "2024-11-30")["properties"]["principalId"]


IMAGE_ACTIONS = ["Microsoft.Compute/galleries/images/read", "Microsoft.Compute/galleries/images/versions/read",
                 "Microsoft.Compute/galleries/images/versions/write"]


def test_gallery_read_on_an_image_definition_does_not_reach_the_gallery(strict):
    env = strict
    identity, definition = prerequisites(env)
    principal = principal_of(env, identity)
    grant(env, definition, principal, ["Microsoft.Compute/galleries/read"] + IMAGE_ACTIONS)
    path = template_path(env, "t1")
    env.put(path, template_body(identity, definition), AIB)
    run = build(env, path)
    gallery = definition.rsplit("/images/", 1)[0]
    assert run["runState"] == "Failed" and "'Microsoft.Compute/galleries/read'" in run["message"], run
    assert f"over scope '{gallery}'" in run["message"]

    grant(env, gallery, principal, ["Microsoft.Compute/galleries/read"])
    assert build(env, path)["runState"] == "Succeeded"


def test_a_vhd_uri_needs_blob_write_on_its_container(strict):
    env = strict
    identity, definition = prerequisites(env)
    principal = principal_of(env, identity)
    account = base(env) + "/rg-aib/providers/Microsoft.Storage/storageAccounts/stvhdexport01"
    env.put(account, {"location": "westeurope", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}}, "2025-06-01")
    container = account + "/blobServices/default/containers/vhds"
    env.put(account + "/blobServices/default", {"properties": {}}, "2025-06-01")
    env.put(container, {"properties": {}}, "2025-06-01")
    body = template_body(identity, definition)
    body["properties"]["distribute"] = [{"type": "VHD", "runOutputName": "vhd",
                                         "uri": "https://stvhdexport01.blob.core.windows.net/vhds/img.vhd"}]
    path = template_path(env, "t1")
    env.put(path, body, AIB)
    run = build(env, path)
    assert run["runState"] == "Failed" and "blobs/write" in run["message"] and container in run["message"], run

    grant(env, container, principal, [], ["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write"])
    assert build(env, path)["runState"] == "Succeeded"


def test_windows_on_a_vnet_in_an_existing_staging_group_needs_the_first_party_grant(strict):
    from fake_arm import aib
    env = strict
    identity, definition = prerequisites(env)
    principal = principal_of(env, identity)
    staging = base(env) + "/rg-aib-staging"
    vnet = base(env) + "/rg-aib/providers/Microsoft.Network/virtualNetworks/vnet-aib"
    env.put(vnet, {"location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}}},
            "2024-05-01")
    env.put(vnet + "/subnets/build", {"properties": {"addressPrefix": "10.0.1.0/24"}}, "2024-05-01")
    grant(env, base(env) + "/rg-aib", principal, ["*"])
    grant(env, staging, principal, ["*"])
    body = template_body(identity, definition, staging, source={
        "type": "PlatformImage", "publisher": "MicrosoftWindowsServer", "offer": "WindowsServer",
        "sku": "2022-datacenter-azure-edition", "version": "latest"})
    body["properties"]["vmProfile"] = {"vnetConfig": {"subnetId": vnet + "/subnets/build"}}
    path = template_path(env, "t1")
    env.put(path, body, AIB)
    run = build(env, path)
    assert run["runState"] == "Failed", run
    assert aib.FIRST_PARTY_APP_ID in run["message"] and "'Microsoft.Compute/disks/write'" in run["message"]
    assert "proxyVmDiskWin_" in run["message"]

    env.fake.update_scenario({"principals": [{"object_id": aib.FIRST_PARTY_OBJECT_ID, "type": "ServicePrincipal"}]})
    env.put(f"{staging}/providers/Microsoft.Authorization/roleAssignments/{aib.FIRST_PARTY_OBJECT_ID}", {"properties": {
        "roleDefinitionId": f"/subscriptions/{env.subscription}/providers/Microsoft.Authorization/roleDefinitions/"
                            "b24988ac-6180-42a0-ab88-20f7382dd24c",
        "principalId": aib.FIRST_PARTY_OBJECT_ID, "principalType": "ServicePrincipal"}}, AUTHZ)
    assert build(env, path)["runState"] == "Succeeded"


def test_target_regions_must_include_the_gallery_region(env):
    identity, definition = prerequisites(env)
    body = template_body(identity, definition)
    body["properties"]["distribute"][0]["targetRegions"] = [{"name": "northeurope"}]
    path = template_path(env, "t1")
    env.put(path, body, AIB)
    props = env.get(path, AIB)["properties"]
    assert props["provisioningState"] == "Failed"
    assert props["provisioningError"]["provisioningErrorCode"] == "BadSharedImageDistribute"
    assert "One of the regions must be the region where the Gallery is deployed" in props["provisioningError"]["message"]
