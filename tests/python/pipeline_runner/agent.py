"""What every pipeline kind shares: the build machine (a work folder, PATH with a stub `az`,
the Azure endpoints of the fake), the release server aibc is installed from, the artifact
store, and running one script step under bash with its logging commands.

Nothing here knows a pipeline's commands: the runners execute the pipeline files, and the
steps' scripts do what they say.
"""

from __future__ import annotations

import http.server
import os
import re
import shutil
import signal
import socketserver
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]

# The stub `az`: what the pipelines ask it (`account show`, `login`, `logout`), and token
# requests handed to the fake's own stub (aibc's `--auth cli`).
AZ_STUB = """#!/bin/bash
echo "az $*" >>"{log}"
case "$1 $2" in
  "account show")
    if [[ " $* " == *" tsv "* ]]; then echo "{subscription}"; else
      echo '{{"id": "{subscription}", "tenantId": "{tenant}", "name": "platform images"}}'; fi ;;
  "login "*|"logout "*|"account set") echo '[]' ;;
  *) exec "{fake_az}" "$@" ;;
esac
"""


class ReleaseServer:
    """Serves a release folder over loopback HTTP, as a release page serves it: the binary
    under test as `aibc-<target>.tar.gz` for the Linux targets the pipelines install (glibc
    for the Azure DevOps install step, musl for the setup-aibc action), each archive's
    `.sha256` and the release's `SHA256SUMS`; counts what was downloaded."""

    TARGETS = ("x86_64-unknown-linux-gnu", "x86_64-unknown-linux-musl")

    def __init__(self, binary: Path, work: Path, version: str = "0.1.0"):
        self.version = version
        self.downloads: list[str] = []
        # Stripped, as a release build is: the same code without the debug binary's 150 MB
        # of line tables, which every job would otherwise download and unpack.
        work.mkdir(parents=True, exist_ok=True)
        stripped = work / "aibc"
        if shutil.which("strip") and subprocess.run(["strip", "-o", str(stripped), str(binary)]).returncode == 0:
            binary = stripped
        # The files are what the release workflows publish: `release/package.py` lays out each
        # archive (aibc-<target>/aibc, man pages, completions) with its `.sha256` and writes
        # SHA256SUMS, so the pipelines' install steps are tested against the real layout.
        package = [sys.executable, str(REPO / "release" / "package.py")]
        out = work / "release"
        for target in self.TARGETS:
            subprocess.run(package + ["archive", "--target", target, "--bin", str(binary), "--out", str(out)],
                           check=True, capture_output=True)
        subprocess.run(package + ["sums", str(out)], check=True, capture_output=True)
        self.files = {p.name: p.read_bytes() for p in out.iterdir()}
        self.tampered = False
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                server.downloads.append(self.path)
                folder, _, name = self.path.rpartition("/")
                body = server.files.get(name) if folder == f"/v{server.version}" else None
                if body is None:
                    self.send_error(404)
                    return
                if server.tampered and name.endswith(".tar.gz"):
                    body += b"x"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True

        self.httpd = Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def download_url(self) -> str:
        """The release folder, as setup-aibc's `download-url` takes it."""
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v{{version}}"

    @property
    def url_template(self) -> str:
        """One archive's URL, as the Azure DevOps install steps take it."""
        return f"{self.download_url}/aibc-{{target}}.tar.gz"

    def stop(self) -> None:
        self.httpd.shutdown()


@dataclass
class Machine:
    """One build agent / runner: where steps run and what they can reach."""

    work: Path
    fake_info: dict
    release: ReleaseServer
    env: dict = field(default_factory=dict)

    def __post_init__(self):
        self.work.mkdir(parents=True, exist_ok=True)
        bin_dir = self.work / "machine-bin"
        bin_dir.mkdir(exist_ok=True)
        self.az_log = self.work / "az.log"
        az = bin_dir / "az"
        i = self.fake_info
        az.write_text(AZ_STUB.format(log=self.az_log, subscription=i["subscription_id"], tenant=i["tenant_id"],
                                     fake_az=Path(i["az_stub_dir"]) / "az"))
        az.chmod(0o755)
        keep = {k: v for k, v in os.environ.items() if k in ("HOME", "LANG", "LC_ALL", "TMPDIR", "USER")}
        home = self.work / "home"
        home.mkdir(exist_ok=True)
        self.env = {
            **keep,
            "HOME": str(home),
            "PATH": f"{bin_dir}{os.pathsep}/usr/local/bin:/usr/bin:/bin",
            # The Azure the agent reaches: the fake, through the cloud endpoint switch.
            "AIBC_ARM_ENDPOINT": i["endpoint"],
            "AZURE_AUTHORITY_HOST": i["authority_host"],
            "SSL_CERT_FILE": i["ca_file"],
            "NO_COLOR": "1",
        }

    def az_calls(self) -> list[str]:
        return self.az_log.read_text().splitlines() if self.az_log.exists() else []


class Artifacts:
    """Pipeline artifacts as folders: publish copies in, download copies out."""

    def __init__(self, root: Path):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def publish(self, name: str, source: Path, merge: bool = False) -> None:
        """`merge`: add to the artifact (a build container artifact, `##vso[artifact.upload]`)."""
        dest = self.root / name
        if dest.exists() and not merge:
            raise StepError(f"artifact {name} already exists")
        if source.is_dir():
            shutil.copytree(source, dest, dirs_exist_ok=merge)
        elif source.is_file():
            dest.mkdir(exist_ok=merge)
            shutil.copy2(source, dest / source.name)
        else:
            raise StepError(f"nothing to publish at {source}")

    def download(self, name: str, target: Path) -> None:
        src = self.root / name
        if not src.is_dir():
            raise StepError(f"no artifact {name}")
        shutil.copytree(src, target, dirs_exist_ok=True)

    def names(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir())

    def path(self, name: str) -> Path:
        return self.root / name


class StepError(Exception):
    """A task failing on its own (bad inputs, a missing artifact), not through a script."""


@dataclass
class Cancel:
    """Cancels the run when `when()` first holds while a step runs (checked every 0.2 s):
    the agent signals the step's process group (SIGINT, then SIGTERM after `grace` s)."""

    when: Callable[[], bool]
    grace: float = 10.0
    fired: bool = False
    # When it fired: steps running then are interrupted; the cleanup steps that start after
    # it (condition canceled() or always()) run to the end.
    at: float = 0.0


def run_bash(script: str, env: dict, cwd: Path, log: list[str], cancel: Cancel | None,
             shell: list[str] | None = None, tmp: Path | None = None) -> tuple[int, bool]:
    """Runs `script` under bash; returns (exit code, canceled). Output goes to `log`."""
    tmp = tmp or cwd
    path = tmp / f"step-{time.monotonic_ns()}.sh"
    path.write_text(script)
    cmd = (shell or ["bash", "--noprofile", "--norc"]) + [str(path)]
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
    reader.start()
    canceled = False
    started = time.monotonic()
    while proc.poll() is None:
        if cancel and not canceled:
            if not cancel.fired and cancel.when():
                cancel.at = time.monotonic()
                cancel.fired = True
            # A run's cancel reaches every step running at that moment, in every job.
            if cancel.fired and started <= cancel.at:
                canceled = True
                os.killpg(proc.pid, signal.SIGINT)
                try:
                    proc.wait(cancel.grace)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGTERM)
        time.sleep(0.1)
    reader.join()
    log.extend(line.rstrip("\n") for line in lines)
    return proc.returncode, canceled


# ##vso[area.action key=value;key=value]message
VSO = re.compile(r"##vso\[([\w.]+)((?:\s+[^\]]*)?)\](.*)$")


def logging_commands(lines: list[str]) -> list[tuple[str, dict, str]]:
    """The Azure Pipelines logging commands in a step's output, in order."""
    out = []
    for line in lines:
        m = VSO.search(line)
        if not m:
            continue
        props = {}
        for part in m.group(2).strip().split(";"):
            if "=" in part:
                k, v = part.split("=", 1)
                props[k.strip().lower()] = v
        value = m.group(3).replace("%0D", "\r").replace("%0A", "\n").replace("%5D", "]").replace("%3B", ";") \
            .replace("%AZP25", "%")
        out.append((m.group(1).lower(), props, value))
    return out
