"""Release and distribution assets, offline: the packaging script's archive layout and
checksum file, the release workflows and the setup-aibc action against the schemas in
../shared/, the Azure DevOps task under azure-pipelines-task-lib's mock test runner, the
extension packaged with `tfx extension create`, the setup-aibc action's own tests, SARIF
output against the SARIF 2.1.0 schema, and the JSON event schema.

npm packages (task library, tool library, tfx-cli, the SARIF schema) come from
scripts/node-tools.sh, run once per session here."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import stat
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import jsonschema
import pytest
import yaml

import e2e

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "release" / "package.py"


def shared_dir() -> Path | None:
    """$AIBC_SHARED, else ../shared beside the repository; under CI=true its absence fails."""
    env = os.environ.get("AIBC_SHARED")
    path = Path(env) if env else REPO.parent / "shared"
    if (path / "github-actions").is_dir():
        return path
    if os.environ.get("CI") == "true":
        pytest.fail(f"the shared reference folder is missing ({path}); set AIBC_SHARED")
    pytest.skip(f"SKIPPED: no shared reference folder at {path} (set AIBC_SHARED)")


@pytest.fixture(scope="session")
def node_tools() -> Path:
    out = subprocess.run([str(REPO / "scripts" / "node-tools.sh")], capture_output=True, text=True, check=True)
    return Path(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def aibc() -> Path:
    return e2e.aibc_binary()


# --------------------------------------------------------------------------- packaging


def package(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(PACKAGE), *args], capture_output=True, text=True,
                          env=dict(os.environ, SOURCE_DATE_EPOCH="1700000000"))


def test_archive_layout_and_checksums(aibc, tmp_path):
    # A copy: a cargo build elsewhere may replace target/debug/aibc meanwhile.
    aibc = Path(shutil.copy2(aibc, tmp_path / "aibc"))
    dist = tmp_path / "dist"
    for target in ("x86_64-unknown-linux-musl", "x86_64-pc-windows-msvc"):
        r = package("archive", "--target", target, "--bin", str(aibc), "--out", str(dist))
        assert r.returncode == 0, r.stderr
    tgz = dist / "aibc-x86_64-unknown-linux-musl.tar.gz"
    with tarfile.open(tgz) as t:
        members = {m.name: m for m in t.getmembers()}
        top = "aibc-x86_64-unknown-linux-musl"
        pages = {n for n in members if n.startswith(f"{top}/man/")}
        assert sorted(set(members) - pages) == sorted(f"{top}/{p}" for p in (
            "aibc", "LICENSE", "README.md", "completions/aibc.bash", "completions/_aibc",
            "completions/aibc.fish", "completions/_aibc.ps1", "completions/aibc.elv"))
        # The main page and one per command (and per pipeline/customizations subcommand).
        for page in ("aibc.1", "aibc-prune.1", "aibc-run.1", "aibc-pipeline-init.1", "aibc-completions.1"):
            assert f"{top}/man/{page}" in pages, sorted(pages)
        assert b".TH aibc-prune 1" in t.extractfile(f"{top}/man/aibc-prune.1").read()
        exe = members[f"{top}/aibc"]
        assert exe.mode & stat.S_IXUSR and exe.uid == 0 and exe.mtime == 1700000000
        assert t.extractfile(exe).read() == aibc.read_bytes()
        assert t.extractfile(f"{top}/man/aibc.1").read().startswith(b".ie")
        assert b"complete -F _aibc" in t.extractfile(f"{top}/completions/aibc.bash").read()
        assert t.extractfile(f"{top}/LICENSE").read() == (REPO / "LICENSE").read_bytes()
    with zipfile.ZipFile(dist / "aibc-x86_64-pc-windows-msvc.zip") as z:
        assert "aibc-x86_64-pc-windows-msvc/aibc.exe" in z.namelist()
        assert "aibc-x86_64-pc-windows-msvc/man/aibc.1" in z.namelist()

    r = package("sums", str(dist))
    assert r.returncode == 0, r.stderr
    sums = (dist / "SHA256SUMS").read_text().splitlines()
    assert len(sums) == 2
    for line in sums:
        digest, name = line.split("  ")
        assert hashlib.sha256((dist / name).read_bytes()).hexdigest() == digest
    # The format users check with: `sha256sum --check`.
    if shutil.which("sha256sum"):
        check = subprocess.run(["sha256sum", "--check", "SHA256SUMS"], cwd=dist, capture_output=True, text=True)
        assert check.returncode == 0 and check.stdout.count(": OK") == 2, check.stdout + check.stderr


def test_archives_are_reproducible_and_a_changed_archive_is_caught(aibc, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        assert package("archive", "--target", "aarch64-apple-darwin", "--bin", str(aibc), "--out", str(out)).returncode == 0
    name = "aibc-aarch64-apple-darwin.tar.gz"
    assert (a / name).read_bytes() == (b / name).read_bytes()
    (a / name).write_bytes((a / name).read_bytes() + b"x")
    r = package("sums", str(a))
    assert r.returncode == 1 and "does not match" in r.stderr
    r = package("archive", "--target", "x", "--bin", str(tmp_path / "missing"), "--out", str(a))
    assert r.returncode == 1 and "no binary" in r.stderr


# --------------------------------------------------------------------------- schemas


def validate_against(schema_path: Path, document) -> list[str]:
    schema = json.loads(schema_path.read_text())
    cls = jsonschema.validators.validator_for(schema)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}" for e in cls(schema).iter_errors(document)]


def load_workflow(path: Path) -> dict:
    """YAML 1.1 (PyYAML) reads the key `on` as true; GitHub reads it as the string."""
    doc = yaml.safe_load(path.read_text())
    if True in doc:
        doc["on"] = doc.pop(True)
    return doc


def test_github_release_workflow_matches_the_workflow_schema():
    shared = shared_dir()
    doc = load_workflow(REPO / ".github" / "workflows" / "release.yml")
    assert validate_against(shared / "github-actions" / "github-workflow.json", doc) == []
    # Only actions whose action.yml is in the reference folder, at a major tag.
    known = {p.name.replace("__", "/") for p in (shared / "github-actions" / "actions").iterdir()}
    for job in doc["jobs"].values():
        for step in job.get("steps", []):
            if "uses" in step:
                name, ref = step["uses"].split("@")
                assert name in known and ref.startswith("v"), step["uses"]


def test_azure_pipelines_release_matches_the_pipeline_schema():
    shared = shared_dir()
    doc = yaml.safe_load((REPO / "release" / "azure-pipelines-release.yml").read_text())
    assert validate_against(shared / "azure-pipelines" / "service-schema.json", doc) == []
    tasks = {p.name for p in (shared / "azure-pipelines" / "tasks").iterdir()}
    for stage in doc["stages"]:
        for job in stage["jobs"]:
            for step in job["steps"]:
                if "task" in step:
                    name, major = step["task"].split("@")
                    assert f"{name}V{major}" in tasks, step["task"]


def test_setup_aibc_action_matches_the_action_schema():
    shared = shared_dir()
    doc = yaml.safe_load((REPO / "actions" / "setup-aibc" / "action.yml").read_text())
    assert validate_against(shared / "github-actions" / "github-action.json", doc) == []
    assert (REPO / "actions" / "setup-aibc" / doc["runs"]["main"]).is_file()


def test_dockerfile_is_multi_stage_non_root_on_an_empty_base():
    lines = [l.strip() for l in (REPO / "Dockerfile").read_text().splitlines() if l.strip() and not l.startswith("#")]
    froms = [l for l in lines if l.startswith("FROM ")]
    assert len(froms) == 2 and froms[0].endswith(" AS build") and froms[1] == "FROM scratch"
    user = [l for l in lines if l.startswith("USER ")]
    assert user and not user[-1].split()[1].startswith("0"), user
    assert any(l.startswith("ENTRYPOINT") for l in lines)
    assert "target/" in (REPO / ".dockerignore").read_text()


# --------------------------------------------------------------------------- Node: task, action, vsix


def node_test(folder: Path, node_path: Path | None) -> None:
    env = dict(os.environ)
    if node_path:
        env["NODE_PATH"] = str(node_path)
    r = subprocess.run(["node", "--test", "tests/" if (folder / "tests").is_dir() else "test/"], cwd=folder,
                       env=env, capture_output=True, text=True, timeout=300)
    summary = [l for l in r.stdout.splitlines() if l.startswith("# ")]
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-2000:]
    assert "# fail 0" in summary and not any(l == "# pass 0" for l in summary), summary


def test_azure_devops_task_under_the_mock_runner(node_tools):
    node_test(REPO / "extensions" / "azure-devops" / "aibc", node_tools / "node_modules")


def test_setup_aibc_action_logic():
    node_test(REPO / "actions" / "setup-aibc", None)


def test_extension_packages_into_a_vsix(node_tools, tmp_path):
    root = tmp_path / "extension"
    shutil.copytree(REPO / "extensions" / "azure-devops", root, ignore=shutil.ignore_patterns("tests", "node_modules", ".taskkey", ".gitignore"))
    shutil.copytree(node_tools / "task" / "node_modules", root / "aibc" / "node_modules")
    out = tmp_path / "out"
    r = subprocess.run([str(node_tools / "node_modules" / ".bin" / "tfx"), "extension", "create", "--root", str(root),
                        "--output-path", str(out), "--no-prompt", "--json"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    vsix = list(out.glob("*.vsix"))
    assert len(vsix) == 1, list(out.iterdir())
    with zipfile.ZipFile(vsix[0]) as z:
        names = set(z.namelist())
        assert {"extension.vsixmanifest", "aibc/task.json", "aibc/index.js", "aibc/lib.js"} <= names, sorted(names)[:20]
        assert "aibc/node_modules/azure-pipelines-task-lib/task.js" in names
        assert "aibc/node_modules/azure-pipelines-tool-lib/tool.js" in names
        task = json.loads(z.read("aibc/task.json"))
    inputs = {i["name"]: i["type"] for i in task["inputs"]}
    assert inputs["command"] == "pickList" and inputs["spec"] == "filePath"
    assert inputs["azureSubscription"] == "connectedService:AzureRM" and inputs["keep"] == "int"


# --------------------------------------------------------------------------- SARIF, events


def test_sarif_output_matches_the_sarif_schema(aibc, node_tools, tmp_path):
    schema = node_tools / "node_modules" / "@microsoft" / "jest-sarif" / "lib" / "schemas" / "sarif-2.1.0-rtm.5.json"
    spec = tmp_path / "bad.yaml"
    spec.write_text("name: web\nos: linux\nlocation: westeurop\nsource:\n  platform: a:b:c:latest\nbuild:\n"
                    "  vmSzie: Standard_D4s_v5\ndistribute:\n  - vhd: {}\n")
    r = subprocess.run([str(aibc), "validate", str(spec), "--format", "sarif"], capture_output=True, text=True)
    assert r.returncode == 2, r.stderr
    log = json.loads(r.stdout)
    assert log["runs"][0]["results"], log
    assert validate_against(schema, log) == []
    # A clean spec is a valid log with no results.
    r = subprocess.run([str(aibc), "validate", "examples/ubuntu-2404-apt/image.yaml", "--format", "sarif"],
                       capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 0 and validate_against(schema, json.loads(r.stdout)) == []


def test_event_schema_accepts_every_event_kind_and_rejects_a_bad_one():
    schema = REPO / "schema" / "events.schema.json"
    base = {"schemaVersion": 1, "time": "2026-12-04T13:45:07.123Z", "image": "web"}
    good = [
        {"event": "started", "template": "t", "attached": False},
        {"event": "phase", "state": "Running", "subState": None, "message": "", "elapsedSecs": 3},
        {"event": "output", "output": {"name": "o", "artifactId": "/x", "artifactUri": None, "provisioningState": None}},
        {"event": "replication", "versionId": "v", "region": {"region": "westeurope", "state": "Completed",
                                                              "progress": 100, "details": None}},
        {"event": "finished", "result": "Succeeded", "message": "", "exitCode": 0},
    ]
    for g in good:
        assert validate_against(schema, dict(base, **g)) == [], g
    assert validate_against(schema, dict(base, event="phase", state="Running")) != []
    assert validate_against(schema, dict(base, schemaVersion=2, event="note", text="x")) != []


def test_spec_schema_for_editors_accepts_the_examples_and_catches_slips():
    """schema/aibc.schema.json as an editor reads it (JSON Schema 2020-12, every keyword)."""
    schema = REPO / "schema" / "aibc.schema.json"
    for path in sorted((REPO / "examples").glob("*/*.yaml")):
        assert validate_against(schema, yaml.safe_load(path.read_text())) == [], path
    base = {"name": "web", "os": "windows", "location": "westeurope",
            "source": {"platform": "MicrosoftWindowsServer:WindowsServer:2022-datacenter-azure-edition:latest"},
            "distribute": [{"vhd": {}}]}
    good = dict(base, customize=[{"use": "time-zone", "with": {"timeZone": "W. Europe Standard Time"}}])
    assert validate_against(schema, good) == []
    typo = dict(base, customize=[{"use": "time-zone", "with": {"timezone": "UTC"}}])
    assert any("timezone" in e for e in validate_against(schema, typo)), validate_against(schema, typo)
    bad_version = dict(base, distribute=[{"gallery": {"regions": ["westeurope"], "version": "1.2"}}])
    assert validate_against(schema, bad_version) != []
    # The structural schema aibc checks with carries none of the editor keywords.
    structure = (REPO / "schema" / "aibc.structure.schema.json").read_text()
    assert '"allOf"' not in structure and '"markdownDescription"' not in structure
