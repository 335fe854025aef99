"""The fake ARM itself: it must reject what ARM rejects, or the end-to-end tests prove little."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request

import pytest

import e2e

pytestmark = pytest.mark.e2e


@pytest.fixture
def env(make_env):
    env = make_env(e2e.example_scenario(retry_after=0, lro={"default": {"polls": 1, "retry_after": 0}}))
    env.rg("rg-fake")
    return env


def raw(env, method: str, path: str, body=None, token: str | None = None, api: str | None = "2025-04-01"):
    url = env.info["endpoint"] + path + (f"?api-version={api}" if api else "")
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=None if body is None else json.dumps(body).encode(), method=method,
                                 headers=headers)
    ctx = ssl.create_default_context(cafile=env.info["ca_file"])
    try:
        with urllib.request.urlopen(req, context=ctx) as r:
            return r.status, dict(r.headers), json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), json.loads(e.read() or b"null")


def rg_path(env) -> str:
    return f"/subscriptions/{env.subscription}/resourceGroups/rg-fake"


def test_a_token_is_required(env):
    status, headers, body = raw(env, "GET", rg_path(env))
    assert status == 401 and body["error"]["code"] == "AuthenticationFailed"


def test_a_forged_token_is_refused(env):
    token = env.token()
    head, payload, _ = token.split(".")
    status, _, body = raw(env, "GET", rg_path(env), token=f"{head}.{payload}.c2lnbmF0dXJl")
    assert status == 401


def test_api_version_is_required_and_checked(env):
    status, _, body = raw(env, "GET", rg_path(env), token=env.token(), api=None)
    assert status == 400 and body["error"]["code"] == "MissingApiVersionParameter"
    status, _, body = raw(env, "GET", rg_path(env) + "/providers/Microsoft.Compute/galleries/g", token=env.token(),
                          api="1999-01-01")
    assert status == 400 and "1999-01-01" in body["error"]["message"]


def test_unknown_properties_and_wrong_types_are_400(env):
    path = rg_path(env) + "/providers/Microsoft.Compute/galleries/gal_ok"
    status, _, body = raw(env, "PUT", path, {"location": "westeurope", "properties": {"descripton": "typo"}},
                          token=env.token(), api="2025-03-03")
    assert status == 400 and body["error"]["code"] == "InvalidRequestContent", body
    assert "descripton" in json.dumps(body)
    status, _, body = raw(env, "PUT", path, {"location": "westeurope", "properties": {"description": 42}},
                          token=env.token(), api="2025-03-03")
    assert status == 400, body


def test_an_image_template_cannot_be_updated(env):
    rg = rg_path(env)
    identity = rg + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-x"
    env.put(identity, {"location": "westeurope"}, "2024-11-30")
    gallery = rg + "/providers/Microsoft.Compute/galleries/gal_x"
    env.put(gallery, {"location": "westeurope"}, "2025-03-03")
    env.put(gallery + "/images/img", {"location": "westeurope", "properties": {
        "osType": "Linux", "osState": "Generalized", "hyperVGeneration": "V2",
        "identifier": {"publisher": "p", "offer": "o", "sku": "s"}}}, "2025-03-03")
    body = {"location": "westeurope", "identity": {"type": "UserAssigned", "userAssignedIdentities": {identity: {}}},
            "properties": {"source": {"type": "PlatformImage", "publisher": "Canonical", "offer": "ubuntu-24_04-lts",
                                      "sku": "server", "version": "latest"},
                           "distribute": [{"type": "SharedImage", "runOutputName": "x",
                                           "galleryImageId": gallery + "/images/img",
                                           "targetRegions": [{"name": "westeurope"}]}]}}
    path = rg + "/providers/Microsoft.VirtualMachineImages/imageTemplates/t1"
    env.put(path, body, "2025-10-01")
    body["properties"]["buildTimeoutInMinutes"] = 100
    status, _, out = raw(env, "PUT", path, body, token=env.token(), api="2025-10-01")
    assert status == 409, out


def test_long_running_puts_answer_with_a_status_url(env):
    status, headers, _ = raw(env, "PUT", rg_path(env) + "/providers/Microsoft.Compute/galleries/gal_lro",
                             {"location": "westeurope"}, token=env.token(), api="2025-03-03")
    assert status in (200, 201) and ("Azure-AsyncOperation" in headers or "Location" in headers)
    assert "Retry-After" in headers and "x-ms-request-id" in headers


def test_a_scripted_429_carries_retry_after_once(env):
    env.fake.update_scenario({"faults": [{"method": "GET", "path": "*/rg-fake", "status": 429, "retry_after": 7}]})
    first = raw(env, "GET", rg_path(env), token=env.token())
    second = raw(env, "GET", rg_path(env), token=env.token())
    assert first[0] == 429 and first[1].get("Retry-After") == "7"
    assert second[0] == 200
