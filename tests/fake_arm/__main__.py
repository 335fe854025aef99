"""`python -m fake_arm --port 0 --state-dir DIR [--scenario FILE] [--blob-endpoint URL]`

Prints one JSON line with everything a client needs (endpoint, CA file, credentials, the
az stub folder) and serves until SIGTERM. PYTHONPATH must hold tests/ and tests/python/.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import stat
import sys
import threading
from pathlib import Path

from . import certs, server
from .service import Service

AZ_STUB = """#!/bin/sh
# A stand-in for the Azure CLI: `az account get-access-token -o json --scope S [--tenant T]`.
scope=""
resource=""
while [ $# -gt 0 ]; do
  case "$1" in
    --scope) scope="$2"; shift 2 ;;
    --resource) resource="$2"; shift 2 ;;
    *) shift ;;
  esac
done
exec "{python}" -c 'import json, ssl, sys, urllib.request
ctx = ssl.create_default_context(cafile=sys.argv[3])
body = json.dumps({{"scope": sys.argv[1], "resource": sys.argv[2]}}).encode()
req = urllib.request.Request(sys.argv[4] + "/_fake/token", data=body, method="POST",
                             headers={{"Content-Type": "application/json"}})
sys.stdout.write(urllib.request.urlopen(req, context=ctx).read().decode())' "$scope" "$resource" "{ca}" "{endpoint}"
"""


def specs_dir() -> Path:
    import aibc_specs  # tests/python
    found = aibc_specs.find_specs()
    if found is None:
        sys.exit("fake_arm: the Azure specs folder was not found (set AIBC_AZURE_SPECS)")
    return found


def main() -> None:
    p = argparse.ArgumentParser(prog="fake_arm")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--state-dir", required=True)
    p.add_argument("--scenario")
    p.add_argument("--blob-endpoint")
    p.add_argument("--ca-dir", help="reuse the CA in this folder (shared with Azurite)")
    args = p.parse_args()
    state = Path(args.state_dir)
    state.mkdir(parents=True, exist_ok=True)
    ca_dir = Path(args.ca_dir) if args.ca_dir else state
    if (ca_dir / "ca.pem").exists() and (ca_dir / "server-cert.pem").exists():
        files = certs.CertFiles(ca_dir / "ca.pem", ca_dir / "server-cert.pem", ca_dir / "server-key.pem")
    else:
        files = certs.generate(ca_dir / "ca.pem", ca_dir)
    os.environ["FAKE_ARM_CA_FILE"] = str(files.ca_cert)
    scenario = json.loads(Path(args.scenario).read_text()) if args.scenario else {}
    extra = server.Secrets()
    svc = Service(specs_dir(), scenario, args.blob_endpoint)
    httpd = server.serve(svc, extra, "127.0.0.1", args.port, str(files.server_cert), str(files.server_key))
    port = httpd.server_address[1]
    endpoint = f"https://127.0.0.1:{port}"
    svc.base_url = endpoint
    stub_dir = state / "bin"
    stub_dir.mkdir(exist_ok=True)
    az = stub_dir / "az"
    az.write_text(AZ_STUB.format(python=sys.executable, ca=files.ca_cert, endpoint=endpoint))
    az.chmod(az.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    fed = state / "federated-token"
    client = svc.scenario["clients"][0]
    token, _ = svc.issuer.mint(oid=client["object_id"], appid=client["client_id"], audience=server.FEDERATED_AUDIENCE,
                               lifetime=86_400)
    svc.issued.append(token)
    fed.write_text(token)
    info = {
        "endpoint": endpoint, "ca_file": str(files.ca_cert), "tenant_id": svc.scenario["tenant_id"],
        "subscription_id": svc.scenario["subscriptions"][0]["id"], "client_id": client["client_id"],
        "client_secret": client["client_secret"], "authority_host": endpoint + "/",
        "oidc_request_uri": endpoint + "/_fake/oidc", "system_access_token": extra.system_access_token,
        "service_connection_id": "11111111-2222-4333-8444-555555555555", "federated_token_file": str(fed),
        "identity_endpoint": endpoint + "/msi/token", "identity_header": svc.scenario["managed_identity"]["header"],
        "az_stub_dir": str(stub_dir), "server_cert": str(files.server_cert), "server_key": str(files.server_key),
    }
    print(json.dumps(info), flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    httpd.shutdown()


if __name__ == "__main__":
    main()
