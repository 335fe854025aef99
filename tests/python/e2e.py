"""End-to-end harness: the real aibc binary against the fake ARM (tests/fake_arm) and a real
Azurite, over HTTPS with a CA made for the run. The binary is pointed at them the way a user
points it at a sovereign cloud: --arm-endpoint, --authority-host and SSL_CERT_FILE.
"""

from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "tests"))

from fake_arm import FakeArm, certs, stop_process  # noqa: E402

# The subscription the examples' existing-resource ids name.
EXAMPLES_SUBSCRIPTION = "7d1e3c52-4b8a-4f0e-9c61-2a5b8e0f3d94"


def aibc_binary() -> Path:
    """The debug binary `cargo test` builds; built here when missing (no-op when fresh)."""
    subprocess.run(["cargo", "build", "--quiet", "--bin", "aibc"], cwd=REPO, check=True)
    return REPO / "target" / "debug" / "aibc"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Azurite:
    proc: subprocess.Popen
    endpoint: str

    def stop(self) -> None:
        stop_process(self.proc)


def start_azurite(ca_dir: Path, work: Path) -> Azurite:
    out = subprocess.run([str(REPO / "scripts" / "node-env.sh")], check=True, capture_output=True, text=True)
    binary = out.stdout.strip().splitlines()[-1]
    port = free_port()
    log = open(work / "azurite.log", "w")
    proc = subprocess.Popen(
        [binary, "--blobHost", "127.0.0.1", "--blobPort", str(port), "--oauth", "basic",
         "--cert", str(ca_dir / "server-cert.pem"), "--key", str(ca_dir / "server-key.pem"),
         "--inMemoryPersistence", "--silent", "--skipApiVersionCheck", "--loose", "--disableTelemetry"],
        stdout=log, stderr=subprocess.STDOUT, cwd=work)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return Azurite(proc, f"https://127.0.0.1:{port}/devstoreaccount1/")
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError("azurite exited: " + (work / "azurite.log").read_text())
            time.sleep(0.2)
    raise RuntimeError("azurite did not start")


def make_ca(ca_dir: Path) -> None:
    ca_dir.mkdir(parents=True, exist_ok=True)
    if not (ca_dir / "ca.pem").exists():
        certs.generate(ca_dir / "ca.pem", ca_dir)


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class Env:
    """One fake ARM (with the shared Azurite) and the binary, plus a seeding client."""

    def __init__(self, binary: Path, fake: FakeArm, work: Path):
        self.binary = binary
        self.fake = fake
        self.info = fake.info
        self.work = work
        self.outputs: list[str] = []  # everything the binary printed, for the leak check
        self._ctx = ssl.create_default_context(cafile=self.info["ca_file"])
        self._token = None

    @property
    def subscription(self) -> str:
        return self.info["subscription_id"]

    # -- running aibc -------------------------------------------------------------------

    def env(self, auth: str = "client-secret", extra: dict | None = None) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE", "AIBC_", "SYSTEM_", "TF_BUILD",
                                                                            "IDENTITY_", "MSI_", "BUILD_"))}
        env.update({"SSL_CERT_FILE": self.info["ca_file"], "NO_COLOR": "1", "AIBC_AUTH": auth})
        i = self.info
        if auth == "client-secret":
            env.update({"AZURE_TENANT_ID": i["tenant_id"], "AZURE_CLIENT_ID": i["client_id"],
                        "AZURE_CLIENT_SECRET": i["client_secret"]})
        elif auth == "workload-identity":
            env.update({"AZURE_TENANT_ID": i["tenant_id"], "AZURE_CLIENT_ID": i["client_id"],
                        "AZURE_FEDERATED_TOKEN_FILE": i["federated_token_file"]})
        elif auth == "pipelines":
            env.update({"AZURESUBSCRIPTION_TENANT_ID": i["tenant_id"], "AZURESUBSCRIPTION_CLIENT_ID": i["client_id"],
                        "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID": i["service_connection_id"],
                        "SYSTEM_ACCESSTOKEN": i["system_access_token"], "SYSTEM_OIDCREQUESTURI": i["oidc_request_uri"]})
        elif auth == "cli":
            env["PATH"] = i["az_stub_dir"] + os.pathsep + env.get("PATH", "")
        elif auth == "managed-identity":
            env.update({"IDENTITY_ENDPOINT": i["identity_endpoint"], "IDENTITY_HEADER": i["identity_header"]})
        env.update(extra or {})
        return env

    def aibc(self, *args: str, auth: str = "client-secret", extra_env: dict | None = None, timeout: float = 120,
             cwd: Path | None = None) -> Result:
        cmd = [str(self.binary), *args]
        if args and args[0] not in ("validate", "compile", "pipeline", "schema", "explain", "import"):
            cmd += ["--arm-endpoint", self.info["endpoint"], "--authority-host", self.info["authority_host"],
                    "--subscription", self.subscription]
        p = subprocess.run(cmd, cwd=cwd or REPO, env=self.env(auth, extra_env), capture_output=True, text=True,
                           timeout=timeout)
        self.outputs.append(p.stdout + p.stderr)
        return Result(p.returncode, p.stdout, p.stderr)

    # -- seeding and reading the fake ----------------------------------------------------

    def token(self) -> str:
        if self._token is None:
            body = json.dumps({"scope": "https://management.azure.com/.default"}).encode()
            req = urllib.request.Request(self.info["endpoint"] + "/_fake/token", data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, context=self._ctx) as r:
                self._token = json.loads(r.read())["accessToken"]
        return self._token

    def call(self, method: str, path: str, body=None, api: str | None = None) -> tuple[int, dict, object]:
        url = self.info["endpoint"] + path
        if api:
            url += ("&" if "?" in url else "?") + f"api-version={api}"
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, method=method, headers={
            "Authorization": f"Bearer {self.token()}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, context=self._ctx) as r:
                raw = r.read()
                return r.status, dict(r.headers), json.loads(raw) if raw else None
        except urllib.error.HTTPError as e:
            raw = e.read()
            return e.code, dict(e.headers), json.loads(raw) if raw else None

    def put(self, path: str, body: dict, api: str) -> object:
        status, headers, out = self.call("PUT", path, body, api)
        assert status < 300, (path, status, out)
        poll = headers.get("Azure-AsyncOperation") or headers.get("Location")
        for _ in range(50):
            if not poll:
                break
            s, h, b = self.call("GET", poll[len(self.info["endpoint"]):])
            if s != 202 and (not isinstance(b, dict) or b.get("status") not in ("InProgress", "Running")):
                break
        return out

    def rg(self, name: str, sub: str | None = None) -> None:
        self.put(f"/subscriptions/{sub or self.subscription}/resourceGroups/{name}", {"location": "westeurope"},
                 "2025-04-01")

    def get(self, path: str, api: str) -> object:
        status, _, body = self.call("GET", path, api=api)
        return body if status == 200 else None

    def requests(self) -> list[dict]:
        return self.fake.requests()


def seed_example_prerequisites(env: Env) -> None:
    """The existing resources the examples refer to (in the examples' subscription)."""
    sub = env.subscription
    for name in ["rg-image-build", "rg-images-shared", "rg-image-build-staging-ubuntu2404", "rg-image-build-network",
                 "rg-ci-agents-legacy"]:
        env.rg(name)
    base = f"/subscriptions/{sub}/resourceGroups"
    loc = {"location": "westeurope"}
    for n in ["id-aib-platform", "id-build-vm-kv-reader", "id-image-media-reader"]:
        env.put(f"{base}/rg-image-build/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{n}", loc,
                "2024-11-30")
    env.put(f"{base}/rg-image-build/providers/Microsoft.Storage/storageAccounts/stimgbuildweu01",
            {"location": "westeurope", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}}, "2025-06-01")
    gallery = f"{base}/rg-images-shared/providers/Microsoft.Compute/galleries/gal_platform_images"
    env.put(gallery, loc, "2025-03-03")
    for img, sku in [("ubuntu-2404-internal", "internal"), ("ubuntu-2404-base", "base")]:
        env.put(f"{gallery}/images/{img}", {"location": "westeurope", "properties": {
            "osType": "Linux", "osState": "Generalized", "hyperVGeneration": "V2",
            "identifier": {"publisher": "contoso", "offer": "ubuntu", "sku": sku}}}, "2025-03-03")
    env.put(f"{gallery}/images/ubuntu-2404-base/versions/1.0.0", {"location": "westeurope", "properties": {
        "publishingProfile": {"targetRegions": [{"name": "westeurope"}]},
        "storageProfile": {"source": {"id": f"{base}/rg-images-shared/providers/Microsoft.Compute/images/seed"}}}},
        "2025-03-03")
    vnet = f"{base}/rg-image-build-network/providers/Microsoft.Network/virtualNetworks/vnet-image-build-weu"
    env.put(vnet, {"location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}}},
            "2024-05-01")
    for sn, p in [("snet-build-vms", "10.0.1.0/24"), ("snet-aib-aci", "10.0.2.0/24")]:
        env.put(f"{vnet}/subnets/{sn}", {"properties": {"addressPrefix": p}}, "2024-05-01")
    env.put(f"{base}/rg-ci-agents-legacy/providers/Microsoft.Compute/images/img-ci-agent-ubuntu2204", loc,
            "2024-11-01")


def example_scenario(**extra) -> dict:
    scenario = {"subscriptions": [{"id": EXAMPLES_SUBSCRIPTION, "displayName": "platform images"}],
                "lro": {"default": {"polls": 1, "retry_after": 1}}, "retry_after": 1}
    scenario.update(extra)
    return scenario
