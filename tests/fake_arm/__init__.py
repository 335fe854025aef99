"""A strict fake of Azure Resource Manager for aibc's end-to-end tests (README.md).

`FakeArm` starts it as a subprocess and talks to its /_fake/ controls; tests run the real
aibc binary against it through `--arm-endpoint` / `--authority-host` and `SSL_CERT_FILE`.
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent


class FakeArm:
    def __init__(self, state_dir: Path, scenario: dict | None = None, blob_endpoint: str | None = None,
                 ca_dir: Path | None = None):
        state_dir.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "fake_arm", "--port", "0", "--state-dir", str(state_dir)]
        if scenario is not None:
            path = state_dir / "scenario.json"
            path.write_text(json.dumps(scenario))
            cmd += ["--scenario", str(path)]
        if blob_endpoint:
            cmd += ["--blob-endpoint", blob_endpoint]
        if ca_dir:
            cmd += ["--ca-dir", str(ca_dir)]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TESTS), str(TESTS / "python")]))
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, env=env, text=True)
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("fake_arm did not start")
        self.info = json.loads(line)
        self.endpoint = self.info["endpoint"]
        self._ctx = ssl.create_default_context(cafile=self.info["ca_file"])

    def _call(self, method: str, path: str, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.endpoint + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, context=self._ctx) as r:
            return json.loads(r.read() or b"null")

    def requests(self) -> list[dict]:
        return self._call("GET", "/_fake/requests")["requests"]

    def reset_log(self) -> None:
        self._call("POST", "/_fake/reset-log", {})

    def set_scenario(self, data: dict) -> None:
        self._call("PUT", "/_fake/scenario", data)

    def update_scenario(self, data: dict) -> None:
        self._call("POST", "/_fake/scenario", data)

    def advance(self, seconds: float) -> None:
        self._call("POST", "/_fake/clock", {"advance": seconds})

    def issued(self) -> dict:
        return self._call("GET", "/_fake/issued")

    def stop(self) -> None:
        stop_process(self.proc)


def stop_process(proc: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL after 10 s."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
