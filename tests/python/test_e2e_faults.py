"""A flaky Azure, end to end: the fake ARM produces each fault (tests/fake_arm/faults.py) and the
real binary must come through it, or fail at once saying what happened and what to do.

The first tests check the fake itself: each fault and each rule the binary relies on
(DeploymentActive, the CAE claims challenge) is produced the way Azure produces it.
"""

from __future__ import annotations

import base64
import http.client
import json
import re
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import e2e
from fake_arm import certs

pytestmark = pytest.mark.e2e

SPEC = "examples/ubuntu-2404-apt/image.yaml"
DEPLOYMENTS = "Microsoft.Resources/deployments"
JWT_SHAPE = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


def fast(**extra) -> dict:
    extra.setdefault("lro", {"default": {"polls": 1, "retry_after": 0}})
    return e2e.example_scenario(retry_after=0, **extra)


@pytest.fixture
def env(make_env):
    env = make_env(fast())
    e2e.seed_example_prerequisites(env)
    return env


def deploy(env: e2e.Env, rg: str, *extra: str, spec: str | Path = SPEC, **kw) -> e2e.Result:
    return env.aibc("deploy", str(spec), "-g", rg, "--role-wait", "0s", *extra, **kw)


def command(env: e2e.Env, *args: str) -> list[str]:
    return [str(env.binary), *args, "--arm-endpoint", env.info["endpoint"], "--authority-host",
            env.info["authority_host"], "--subscription", env.subscription]


def slow_env(make_env, seconds: int, **extra) -> e2e.Env:
    """Seeded, with deployments that take `seconds` on the fake's clock (`env.fake.advance`)."""
    env = make_env(fast(lro={"default": {"polls": 1, "retry_after": 0},
                             DEPLOYMENTS: {"seconds": seconds, "retry_after": 1}}, **extra))
    e2e.seed_example_prerequisites(env)
    return env


def start(env: e2e.Env, *args: str) -> subprocess.Popen:
    return subprocess.Popen(command(env, *args), cwd=e2e.REPO, env=env.env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def wait_for(env: e2e.Env, what, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if any(what(q) for q in env.requests()):
            return
        time.sleep(0.2)
    raise AssertionError("the binary never sent the request waited for")


def deployment_put(q: dict) -> bool:
    return q["method"] == "PUT" and "/deployments/aibc-" in q["path"] and q.get("source") == "client" \
        and q["status"] in (200, 201)


def unique_copy(tmp_path: Path) -> Path:
    """The example with new file bytes (Azurite is shared by the whole run), so it uploads."""
    folder = tmp_path / f"spec-{uuid.uuid4().hex[:6]}"
    shutil.copytree(e2e.REPO / "examples" / "ubuntu-2404-apt", folder)
    for f in folder.rglob("*"):
        if f.is_file() and f.suffix in (".sh", ".ps1", ".txt"):
            f.write_text(f.read_text() + f"\n# {uuid.uuid4()}\n")
    return folder / "image.yaml"


def raw(env: e2e.Env, method: str, path: str, body=None, token: str | None = None, api: str = "2025-04-01"):
    conn = http.client.HTTPSConnection("127.0.0.1", int(env.info["endpoint"].rsplit(":", 1)[1]), timeout=5,
                                       context=ssl.create_default_context(cafile=env.info["ca_file"]))
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token or env.token()}"}
    conn.request(method, f"{path}?api-version={api}", body=None if body is None else json.dumps(body), headers=headers)
    r = conn.getresponse()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()


def assert_nothing_leaked(env: e2e.Env, *planted: str) -> None:
    issued = env.fake.issued()
    printed = "\n".join(env.outputs)
    for secret in [s for s in issued["tokens"] + issued["secrets"] if s] + list(planted):
        assert secret not in printed, "a secret was printed"
    assert not JWT_SHAPE.search(printed), JWT_SHAPE.search(printed).group(0)[:20]
    for token in issued["tokens"] + [p for p in planted if p.count(".") == 2]:
        for part in token.split("."):
            assert len(part) < 12 or part not in printed, "a piece of a token was printed"


# ----------------------------------------------------------------------------- the fake's rules

def test_fake_refuses_a_second_put_of_a_running_deployment(make_env):
    env = make_env(fast(lro={"default": {"polls": 1, "retry_after": 0}, DEPLOYMENTS: {"seconds": 3600}}))
    env.rg("rg-active")
    path = f"/subscriptions/{env.subscription}/resourceGroups/rg-active/providers/{DEPLOYMENTS}/d1"
    body = {"properties": {"mode": "Incremental", "template": {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0", "resources": []}}}
    assert raw(env, "PUT", path, body)[0] == 201
    status, _, out = raw(env, "PUT", path, body)
    assert status == 409 and json.loads(out)["error"]["code"] == "DeploymentActive", out
    assert "is still active" in json.loads(out)["error"]["message"]
    env.fake.advance(3601)
    env._token = None  # the clock moved past the token's lifetime
    assert raw(env, "PUT", path, body)[0] == 201, "a finished deployment may be deployed again"


def test_fake_answers_a_revoked_token_with_a_claims_challenge(env):
    old = env.token()
    rg = f"/subscriptions/{env.subscription}/resourceGroups/rg-image-build"
    assert raw(env, "GET", rg, token=old)[0] == 200
    env.fake._call("POST", "/_fake/revoke", {})
    status, headers, out = raw(env, "GET", rg, token=old)
    assert status == 401 and json.loads(out)["error"]["code"] == "InvalidAuthenticationToken"
    challenge = headers["www-authenticate"]
    assert 'error="insufficient_claims"' in challenge
    claims = json.loads(base64.b64decode(re.search(r'claims="([^"]+)"', challenge).group(1)))
    assert claims["access_token"]["nbf"]["essential"] is True
    env._token = None
    assert raw(env, "GET", rg)[0] == 200, "a token issued after the revocation is accepted"


@pytest.mark.parametrize("kind", ["html", "reset", "truncate", "stall"])
def test_fake_produces_each_wire_fault(env, kind):
    rg = f"/subscriptions/{env.subscription}/resourceGroups/rg-image-build"
    env.fake.update_scenario({"faults": [{"method": "GET", "path": rg, "kind": kind, "seconds": 8}]})
    if kind == "html":
        status, headers, out = raw(env, "GET", rg)
        assert status == 200 and headers["content-type"].startswith("text/html") and out.startswith(b"<!DOCTYPE")
        return
    with pytest.raises((ConnectionError, http.client.IncompleteRead, socket.timeout, ssl.SSLError, OSError)):
        raw(env, "GET", rg)
    assert raw(env, "GET", rg)[0] == 200, "the fault was for one request"


def test_fake_proxies_blobs_and_fails_them_on_request(make_env):
    env = make_env(fast(storage={"proxy": True}))
    env.fake.update_scenario({"faults": [{"method": "GET", "path": "/_blob/*", "status": 500}]})
    url = env.info["endpoint"] + "/_blob/devstoreaccount1/nothing?restype=container"
    conn = http.client.HTTPSConnection("127.0.0.1", int(env.info["endpoint"].rsplit(":", 1)[1]), timeout=5,
                                       context=ssl.create_default_context(cafile=env.info["ca_file"]))
    conn.request("GET", url[len(env.info["endpoint"]):])
    r = conn.getresponse()
    assert r.status == 500 and b"<Code>InternalError</Code>" in r.read()
    conn.request("GET", url[len(env.info["endpoint"]):])
    assert conn.getresponse().status in (401, 403, 404), "the next request reached Azurite"


# ----------------------------------------------------------------------------- bounded waits

def test_deploy_timeout_exits_9_and_says_what_goes_on(make_env):
    env = slow_env(make_env, 3600)
    started = time.time()
    r = deploy(env, "rg-timeout", "--timeout", "3s")
    assert r.code == 9, r.output
    assert time.time() - started < 30
    assert "deploy timed out after 3 s (--timeout)" in r.stderr, r.stderr
    assert "was sent to ARM and goes on there" in r.stderr and "`aibc deploy` again picks up" in r.stderr


def test_a_long_running_operation_is_polled_for_a_bounded_time(make_env):
    env = slow_env(make_env, 3600)
    r = deploy(env, "rg-lro", extra_env={"AIBC_OPERATION_TIMEOUT": "2s"})
    assert r.code == 9, r.output
    assert "timed out: PUT /subscriptions/" in r.stderr and "was still running after 2 s" in r.stderr, r.stderr
    assert "AIBC_OPERATION_TIMEOUT" in r.stderr


# ----------------------------------------------------------------------------- SIGTERM

def test_sigterm_during_deploy_says_where_it_stands_and_a_rerun_finishes(make_env):
    env = slow_env(make_env, 3600)
    p = start(env, "deploy", SPEC, "-g", "rg-term", "--role-wait", "0s")
    wait_for(env, deployment_put)
    time.sleep(0.5)
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=30)
    env.outputs.append(out + err)
    assert p.returncode == 143, err
    assert "terminated (SIGTERM): deployment aibc-ubuntu-2404-base (identity, roles, storage, gallery) was sent " \
           "to ARM and goes on there" in err, err
    assert "`aibc deploy` again picks up from there" in err
    # ARM finishes what was sent; deploying again completes the image.
    env.fake.advance(3601)
    env.fake.update_scenario({"lro": {DEPLOYMENTS: {"seconds": 0, "retry_after": 0}}})
    again = deploy(env, "rg-term")
    assert again.code == 0 and "is ready" in again.stderr, again.output


def test_sigterm_during_run_leaves_the_build_running(make_env):
    env = make_env(fast(runs={"default": {"polls_per_step": 40}}))
    e2e.seed_example_prerequisites(env)
    assert deploy(env, "rg-run-term", "--image-version", "1.0.0").code == 0
    p = start(env, "run", SPEC, "-g", "rg-run-term", "--metadata", str(env.work / "v.json"))
    wait_for(env, lambda q: q["method"] == "POST" and q["path"].endswith("/run"))
    time.sleep(1)
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=30)
    env.outputs.append(out + err)
    assert p.returncode == 143, err
    assert "terminated (SIGTERM): the build goes on in Azure (it is not canceled)" in err, err
    assert "`aibc status`" in err and "`aibc cancel` stops it" in err
    assert not [q for q in env.requests() if q["path"].endswith("/cancel")], "SIGTERM must not cancel the build"
    status = env.aibc("status", SPEC, "-g", "rg-run-term")
    assert status.code == 0 and "Running" in status.stderr, status.output


# ----------------------------------------------------------------------------- sign-in

def test_a_revoked_token_is_replaced_once_honouring_the_claims_challenge(make_env):
    env = slow_env(make_env, 3600, token_lifetime_seconds=86_400)
    p = start(env, "deploy", SPEC, "-g", "rg-cae", "--role-wait", "0s")
    wait_for(env, deployment_put)
    env.fake._call("POST", "/_fake/revoke", {})  # e.g. the service principal's secret was rotated
    env.fake.update_scenario({"lro": {DEPLOYMENTS: {"seconds": 0, "retry_after": 0}}})
    env.fake.advance(3601)
    out, err = p.communicate(timeout=90)
    env.outputs.append(out + err)
    assert p.returncode == 0, err
    assert "ARM refused the access token (insufficient_claims); signing in again" in err, err
    log = env.requests()
    refused = [q for q in log if q.get("source") == "client" and q["status"] == 401]
    assert refused, "the revoked token was never refused"
    grants = [q for q in log if q.get("source") == "entra" and "management" in (q["body"].get("scope") or "")]
    assert len(grants) >= 2


def test_a_token_the_server_thinks_expired_is_replaced_once(make_env):
    """Clock skew: ARM's clock says the token expired, the client's says it is valid."""
    env = slow_env(make_env, 3600)
    p = start(env, "deploy", SPEC, "-g", "rg-skew", "--role-wait", "0s")
    wait_for(env, deployment_put)
    env.fake.update_scenario({"lro": {DEPLOYMENTS: {"seconds": 0, "retry_after": 0}}})
    env.fake.advance(3700)  # past the token's lifetime on ARM's clock only
    out, err = p.communicate(timeout=90)
    env.outputs.append(out + err)
    assert p.returncode == 0, err
    assert "ARM refused the access token (invalid_token); signing in again" in err, err
    assert [q for q in env.requests() if q.get("source") == "client" and q["status"] == 401]


def test_a_token_refused_again_after_signing_in_again_fails_clearly(make_env):
    env = make_env(fast(cae={"challenge_all": True}))
    r = env.aibc("status", SPEC, "-g", "rg-none")
    assert r.code == 3, r.output
    assert "InvalidAuthenticationToken" in r.stderr
    assert "aibc signed in again and ARM refused the new token too" in r.stderr, r.stderr
    assert "claims challenge" in r.stderr and "Conditional Access" in r.stderr
    log = env.requests()
    grants = [q for q in log if q.get("source") == "entra"]
    assert len(grants) == 2, "exactly one sign-in again"
    assert len([q for q in log if q.get("source") == "client"]) == 2


# ----------------------------------------------------------------------------- answers that are not ARM's

def test_a_proxy_page_on_an_operation_poll_is_retried(make_env):
    env = make_env(fast())
    e2e.seed_example_prerequisites(env)
    env.fake.update_scenario({"faults": [{"method": "GET", "path": "/_operations/*", "kind": "html", "times": 2}]})
    r = deploy(env, "rg-html", "--verbose")
    assert r.code == 0, r.output
    assert "200 with a body that is not JSON (text/html" in r.stderr and "reading again (1 of 3)" in r.stderr


def test_a_proxy_page_that_stays_is_shown_redacted_and_clipped(make_env):
    env = make_env(fast())
    e2e.seed_example_prerequisites(env)
    jwt = env.token()
    # The token straddles the 300-character cut: it must be masked whole, not cut in half.
    page = ("<html><body><h1>Proxy authentication required</h1>"
            "<a href='https://proxy.example/login?sig=planted-signature-value&amp;u=1'>login</a><p>session "
            + jwt + "</p>" + "<p>filler</p>" * 400 + "</body></html>")
    env.fake.update_scenario({"faults": [{"method": "GET", "path": "/_operations/*", "kind": "html",
                                          "times": "always", "body": page}]})
    r = deploy(env, "rg-html2")
    assert r.code == 1, r.output
    assert "unexpected answer from Azure: GET /_operations/" in r.stderr, r.stderr
    assert "200 with a body that is not JSON (text/html" in r.stderr and "Proxy authentication required" in r.stderr
    assert "(4 tries; a proxy or firewall" in r.stderr and "HTTPS_PROXY" in r.stderr
    assert "sig=***" in r.stderr and " …" in r.stderr and len(r.stderr) < 4000
    assert_nothing_leaked(env, jwt, "planted-signature-value")


# ----------------------------------------------------------------------------- TLS

def other_ca(tmp_path: Path, hosts: tuple[str, ...]) -> Path:
    folder = tmp_path / f"ca-{uuid.uuid4().hex[:6]}"
    folder.mkdir()
    certs.generate(folder / "ca.pem", folder, hosts=hosts)
    return folder


def test_an_untrusted_certificate_fails_at_once_naming_the_fix(env, tmp_path):
    stranger = other_ca(tmp_path, ("127.0.0.1", "localhost"))
    started = time.time()
    r = env.aibc("status", SPEC, "-g", "rg-none", extra_env={"SSL_CERT_FILE": str(stranger / "ca.pem")})
    elapsed = time.time() - started
    assert r.code in (1, 3), r.output
    assert "TLS certificate problem" in r.stderr and "does not trust" in r.stderr, r.stderr
    assert "SSL_CERT_FILE" in r.stderr and "proxy" in r.stderr
    assert elapsed < 15, f"retried for {elapsed:.0f} s"


def test_a_certificate_for_another_host_fails_at_once(env, tmp_path):
    wrong = other_ca(tmp_path, ("login.wrong.example",))

    class Quiet(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(500)
            self.end_headers()

        do_POST = do_GET

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(wrong / "server-cert.pem", wrong / "server-key.pem")
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"https://127.0.0.1:{server.server_address[1]}/"
        started = time.time()
        p = subprocess.run([str(env.binary), "status", SPEC, "-g", "rg-none", "--arm-endpoint", url,
                            "--authority-host", url, "--subscription", env.subscription], cwd=e2e.REPO,
                           env=env.env(extra={"SSL_CERT_FILE": str(wrong / "ca.pem")}), capture_output=True,
                           text=True, timeout=60)
        env.outputs.append(p.stdout + p.stderr)
        assert p.returncode in (1, 3), p.stderr
        assert "TLS certificate problem" in p.stderr and "is not valid for the name 127.0.0.1" in p.stderr, p.stderr
        assert time.time() - started < 15
    finally:
        server.shutdown()


# ----------------------------------------------------------------------------- concurrent deploys

def test_a_second_deploy_waits_for_the_first_and_finds_nothing_to_do(make_env, tmp_path):
    env = slow_env(make_env, 3)
    spec = unique_copy(tmp_path)
    args = ("deploy", str(spec), "-g", "rg-twice", "--role-wait", "0s", "--image-version", "2.0.0")
    first = start(env, *args)
    wait_for(env, deployment_put)
    second = deploy(env, "rg-twice", "--image-version", "2.0.0", spec=spec)
    out, err = first.communicate(timeout=120)
    env.outputs.append(out + err)
    assert first.returncode == 0, err
    assert second.code == 0, second.output
    assert "another deploy of this image is running" in second.stderr, second.stderr
    assert "unchanged" in second.stderr, second.stderr
    log = env.requests()
    assert not [q for q in log if q["status"] == 409], "nothing is refused: the second deploy waited"
    puts = [q for q in log if deployment_put(q)]
    assert len(puts) == 2, "both phases, once: the second deploy sent nothing"


def test_two_deploys_started_together_both_succeed(make_env, tmp_path):
    env = slow_env(make_env, 2)
    spec = unique_copy(tmp_path)
    args = ("deploy", str(spec), "-g", "rg-together", "--role-wait", "0s", "--image-version", "3.0.0")
    procs = [start(env, *args) for _ in range(2)]
    results = [p.communicate(timeout=180) for p in procs]
    for p, (out, err) in zip(procs, results):
        env.outputs.append(out + err)
        assert p.returncode == 0, err
    both = "\n".join(err for _, err in results)
    assert "another deploy of this image" in both, both
    templates = env.get(f"/subscriptions/{env.subscription}/resourceGroups/rg-together/providers/"
                        "Microsoft.VirtualMachineImages/imageTemplates", "2025-10-01")
    assert len(templates["value"]) == 1


# ----------------------------------------------------------------------------- faults that are survived

WIRE_FAULTS = {
    "connection reset mid-body on an operation poll": {"method": "GET", "path": "/_operations/*", "kind": "reset"},
    "truncated body of a deployment read": {"method": "GET", "path": "*/deployments/aibc-*", "kind": "truncate"},
    "stalled response": {"method": "GET", "path": "*/resourceGroups/rg-wire", "kind": "stall", "seconds": 10},
    "500 on an operation poll": {"method": "GET", "path": "/_operations/*", "status": 500, "times": 2},
    "503 on an operation poll": {"method": "GET", "path": "/_operations/*", "status": 503, "retry_after": 1,
                                 "times": 2},
}


@pytest.mark.parametrize("fault", list(WIRE_FAULTS), ids=lambda f: f.replace(" ", "-"))
def test_wire_faults_are_survived(env, fault):
    env.fake.update_scenario({"faults": [WIRE_FAULTS[fault]]})
    r = deploy(env, "rg-wire", "--verbose", extra_env={"AIBC_HTTP_TIMEOUT": "2s"})
    assert r.code == 0, r.output
    assert "is ready" in r.stderr
    faulted = [q for q in env.requests() if q.get("fault")]
    assert faulted, "the fault never happened"
    if "stall" in fault:
        assert "no complete answer from 127.0.0.1 within 2 s (AIBC_HTTP_TIMEOUT)" in r.stderr, r.stderr
    elif "reset" in fault or "truncate" in fault:
        assert re.search(r"-> error after \d+ ms", r.stderr), r.stderr


@pytest.mark.parametrize("fault", [
    {"method": "PUT", "path": "/_blob/*", "status": 500, "times": 1},
    {"method": "PUT", "path": "/_blob/*", "kind": "reset", "times": 1},
    {"method": "PUT", "path": "/_blob/*", "kind": "truncate", "times": 1},
    {"method": "HEAD", "path": "/_blob/*", "status": 503, "times": 1},
], ids=["500-on-upload", "reset-after-upload", "truncated-upload-answer", "503-on-properties"])
def test_faults_during_blob_upload_are_survived(make_env, tmp_path, fault):
    env = make_env(fast(storage={"proxy": True}))
    e2e.seed_example_prerequisites(env)
    env.fake.update_scenario({"faults": [fault]})
    spec = unique_copy(tmp_path)
    r = deploy(env, "rg-blob", spec=spec)
    assert r.code == 0, r.output
    assert re.search(r"uploaded \S+ as \S+ \(\d+ bytes\)", r.stderr), r.stderr
    blob = [q for q in env.requests() if q.get("source") == "blob"]
    assert [q for q in blob if q.get("fault")], "the fault never happened"
    assert [q for q in blob if q["method"] == "PUT" and q["status"] == 201 and not q.get("fault")]
    version = re.search(r"image version (\S+):", r.stderr).group(1)
    again = deploy(env, "rg-blob", "--force", "--image-version", version, spec=spec)
    assert again.code == 0 and "already uploaded" in again.stderr, again.output


def test_a_storage_failure_that_stays_fails_with_the_blob_named(make_env, tmp_path):
    env = make_env(fast(storage={"proxy": True}))
    e2e.seed_example_prerequisites(env)
    env.fake.update_scenario({"faults": [{"method": "PUT", "path": "/_blob/*", "status": 403, "times": "always"}]})
    r = deploy(env, "rg-blob-403", spec=unique_copy(tmp_path))
    assert r.code == 3, r.output
    assert "upload blob `" in r.stderr and "Storage Blob Data Contributor" in r.stderr, r.stderr


# ----------------------------------------------------------------------------- redaction

def test_nothing_secret_is_printed_through_any_fault(make_env, tmp_path):
    """Every fault above with --verbose, plus a page carrying every secret shape: the output
    shows the keys with masked values, and no token, secret or piece of a token."""
    env = make_env(fast(token_lifetime_seconds=86_400, storage={"proxy": True}))
    e2e.seed_example_prerequisites(env)
    jwt = env.token()
    planted = {
        "AZURE_CLIENT_SECRET=": "planted-env-secret", "clientSecret=": "planted-client-secret",
        "password: ": "planted-password", "sig: ": "planted-sig", "&sig%3D": "planted-encoded-sig",
        "x-ms-encryption-key: ": "planted-encryption-key", "key=": jwt,
    }
    page = " ".join(f"{k}{v}" for k, v in planted.items())
    env.fake.update_scenario({"faults": [
        {"method": "GET", "path": "*/resourceGroups/rg-leak", "kind": "reset"},
        {"method": "PUT", "path": "/_blob/*", "kind": "reset"},
        {"method": "GET", "path": "/_operations/*", "kind": "html", "times": "always", "body": page},
    ]})
    r = deploy(env, "rg-leak", "--verbose", spec=unique_copy(tmp_path))
    assert r.code == 1 and "not JSON" in r.stderr, r.output
    for key in planted:
        assert f"{key}***" in r.stderr, (key, r.stderr[-1500:])
    env.fake.set_scenario(fast(cae={"challenge_all": True}))
    refused = env.aibc("status", SPEC, "-g", "rg-leak", "--verbose")
    assert refused.code == 3 and "[http]" in refused.stderr, refused.output
    assert_nothing_leaked(env, *planted.values())
