"""Journeys through the shipped pipelines, executed by tests/python/pipeline_runner: the
Azure DevOps YAML pipeline `aibc pipeline init` writes (with the templates in
pipelines/azure-devops/), the GitHub workflow it writes, and the classic task group, for
the Linux, Windows and family examples. aibc is installed the way each pipeline installs
it (a release archive from a loopback server, its SHA-256 checked); every Azure call goes
to the fake ARM and Azurite. Each journey asserts on the fake's request log and on the
pipeline's own outcome: job results, variables, artifacts."""

from __future__ import annotations

import json
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

import e2e
from pipeline_runner import AdoRunner, Cancel, ClassicRunner, GithubRunner, Machine, ReleaseServer

pytestmark = pytest.mark.e2e

RUN_LRO = "Microsoft.VirtualMachineImages/imageTemplates:run"
EXAMPLES = {
    "linux": ("examples/ubuntu-2404-apt/image.yaml", ["ubuntu-2404-base"]),
    "windows": ("examples/windows-2022-iis/image.yaml", ["win2022-iis"]),
    "family": ("examples/family/images.yaml", ["ubuntu-2204-server", "ubuntu-2404-server", "ubuntu-2404-docker"]),
}
RG = "rg-image-build"
VERSION = re.compile(r"^\d+\.\d+\.\d+$")
# Journey wall times, printed at the end of the session (the closing note quotes them).
TIMES: dict[str, float] = {}


def scenario(**runs) -> dict:
    return e2e.example_scenario(
        retry_after=0,
        lro={"default": {"polls": 1, "retry_after": 0}, RUN_LRO: {"polls": 1, "retry_after": 0}},
        runs={"default": dict({"polls_per_step": 1}, **runs)},
        replication={"polls": 1})


@pytest.fixture(scope="session")
def release(aibc_bin, tmp_path_factory):
    server = ReleaseServer(aibc_bin, tmp_path_factory.mktemp("release"))
    yield server
    server.stop()


@dataclass
class World:
    env: e2e.Env
    machine: Machine
    sources: Path
    release: ReleaseServer

    def spec_path(self, example: str) -> str:
        return EXAMPLES[example][0]

    def images(self, example: str) -> list[str]:
        return EXAMPLES[example][1]

    def requests(self) -> list[dict]:
        return self.env.requests()

    def writes(self) -> list[dict]:
        return [q for q in self.requests() if q.get("source") == "client" and q["method"] in ("PUT", "PATCH", "DELETE")
                and q["status"] < 400]

    def runs_started(self) -> list[str]:
        return [q["path"] for q in self.requests() if q.get("source") == "client" and q["method"] == "POST"
                and q["path"].endswith("/run")]

    def gallery_versions(self, image: str) -> list[str]:
        out = []
        for q in self.requests():
            m = re.search(rf"/images/{re.escape(image)}/versions/(\d+\.\d+\.\d+)$", q["path"])
            if m and q["method"] == "PUT" and q["status"] < 400:
                out.append(m.group(1))
        return out


@pytest.fixture
def world(make_env, release, tmp_path):
    def make(**runs) -> World:
        env = make_env(scenario(**runs))
        e2e.seed_example_prerequisites(env)
        sources = tmp_path / "repo"
        if not sources.exists():
            sources.mkdir()
            for folder in ("examples", "pipelines"):
                shutil.copytree(e2e.REPO / folder, sources / folder)
        machine = Machine(tmp_path / "agent", env.info, release)
        return World(env, machine, sources, release)
    return make


def timed(name: str):
    start = time.monotonic()

    class Done:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            TIMES[name] = TIMES.get(name, 0.0) + time.monotonic() - start
    return Done()


# --------------------------------------------------------------------------- Azure DevOps YAML


def ado_root(w: World, example: str) -> Path:
    """`aibc pipeline init --kind yaml` in the repository, pointed at the release mirror."""
    r = w.env.aibc("pipeline", "init", "--kind", "yaml", "--spec", w.spec_path(example), "--out", "-", cwd=w.sources)
    assert r.code == 0, r.output
    text = r.stdout.replace("    environment: image-release\n", "    environment: image-release\n"
                            f"    aibcDownloadUrl: '{w.release.url_template}'\n    roleWait: 0s\n")
    root = w.sources / "azure-pipelines.yml"
    root.write_text(text)
    return root


def run_ado(w: World, example: str, build_id: int, cancel: Cancel | None = None, **params):
    import ado_yaml
    root = ado_root(w, example)
    runner = AdoRunner(w.machine, w.sources, build_id=build_id, connections={"sc-aib-images": {}})
    repos = ado_yaml.repositories_of(ado_yaml.yaml.safe_load(root.read_text()), {"aibc-dev/aibc": w.sources})
    return runner.run(root, params, cancel=cancel, repositories=repos)


def job_id(image: str) -> str:
    return re.sub(r"[-.]", "_", image)


def test_ado_first_run_linux(world):
    w = world()
    with timed("ado first run linux"):
        r = run_ado(w, "linux", 101)
    assert r.stages == {"Validate": "Succeeded", "Build": "Succeeded", "Test": "Succeeded", "Approve": "Succeeded",
                        "Release": "Succeeded"}, {k: (j.result, j.log[-3000:]) for k, j in r.jobs.items()}

