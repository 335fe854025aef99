"""The pipelines against the official schemas and the real tasks and actions in ../shared:
the Azure Pipelines service schema (root pipelines as written, and every root after its
templates are expanded, as the server validates it), every task input against the task's
task.json, the GitHub workflow schema, and every action input against the action's
action.yml, each action on its Node 24 major. Finds ../shared through $AIBC_SHARED or the
repository's sibling folder; skipped when absent, an error under CI=true."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

import ado_yaml
import aibc_specs

REPO = Path(__file__).resolve().parents[2]
ADO_ROOTS = sorted((REPO / "pipelines/azure-devops/examples").glob("*.yml")) + sorted(
    (REPO / "tests/golden/pipelines").glob("*/azure-pipelines.yml"))
GH_WORKFLOWS = [REPO / "pipelines/github/image.yml"] + sorted((REPO / "tests/golden/pipelines").glob("*/github-workflow.yml"))


def rel(p: Path) -> str:
    return str(p.relative_to(REPO))


@pytest.fixture(scope="module")
def shared() -> Path:
    env = os.environ.get("AIBC_SHARED")
    path = Path(env) if env else REPO.parent / "shared"
    if not (path / "azure-pipelines" / "service-schema.json").exists():
        if aibc_specs.in_ci():
            pytest.fail(f"{path} not found; CI=true, so this is an error", pytrace=False)
        pytest.skip(f"SKIPPED: the shared reference folder {path} was not found (set AIBC_SHARED)")
    return path


@pytest.fixture(scope="module")
def ado_schema(shared):
    schema = json.loads((shared / "azure-pipelines/service-schema.json").read_text())
    base = jsonschema.validators.validator_for(schema)
    # The service reads every scalar as a string and converts where a boolean or number is
    # wanted ("true", "300"); its schema types some inputs as booleans. Both readings pass.
    checker = base.TYPE_CHECKER.redefine_many({
        "boolean": lambda _, v: isinstance(v, bool) or (isinstance(v, str) and v.lower() in ("true", "false")),
        "number": lambda _, v: (isinstance(v, (int, float)) and not isinstance(v, bool))
        or (isinstance(v, str) and re.fullmatch(r"-?\d+(\.\d+)?", v) is not None),
        "integer": lambda _, v: (isinstance(v, int) and not isinstance(v, bool))
        or (isinstance(v, str) and re.fullmatch(r"-?\d+", v) is not None),
    })
    return jsonschema.validators.extend(base, type_checker=checker)(schema)


def strings(node):
    """Every scalar as the service reads it: a string."""
    if isinstance(node, dict):
        return {str(k): strings(v) for k, v in node.items()}
    if isinstance(node, list):
        return [strings(v) for v in node]
    if isinstance(node, bool):
        return "true" if node else "false"
    return "" if node is None else str(node)


def schema_errors(validator, doc) -> list[str]:
    def every(e):
        found = [e]
        for c in e.context:
            found += every(c)
        return found

    def deepest(e):
        return max(every(e), key=lambda c: len(list(c.absolute_path)))
    return [f"{list(deepest(e).absolute_path)}: {deepest(e).message[:200]}" for e in validator.iter_errors(doc)]


def expanded(root: Path) -> dict:
    doc = yaml.safe_load(root.read_text())
    exp = ado_yaml.Expander(REPO, ado_yaml.repositories_of(doc, {"aibc-dev/aibc": REPO}))
    required = {n: "value" for n, p in ado_yaml.declared_params(doc).items() if not p.has_default}
    return exp.expand_root(root, required)


@pytest.mark.parametrize("root", ADO_ROOTS, ids=rel)
def test_ado_root_and_its_expansion_match_the_service_schema(ado_schema, root):
    assert schema_errors(ado_schema, strings(yaml.safe_load(root.read_text()))) == [], rel(root)
    assert schema_errors(ado_schema, strings(expanded(root))) == [], f"{rel(root)}, expanded"


def task_inputs(shared: Path, ref: str) -> set[str]:
    name, major = ref.split("@")
    task = json.loads((shared / f"azure-pipelines/tasks/{name}V{major}/task.json").read_text())
    out = set()
    for i in task["inputs"]:
        out.add(i["name"])
        out.update(i.get("aliases") or [])
    return out


def steps_of(doc: dict):
    for stage in doc.get("stages") or []:
        for job in stage.get("jobs") or []:
            steps = job.get("steps") or (((job.get("strategy") or {}).get("runOnce") or {}).get("deploy") or {}).get(
                "steps") or []
            yield from steps


@pytest.mark.parametrize("root", ADO_ROOTS, ids=rel)
def test_every_task_input_exists_in_the_tasks_task_json(shared, root):
    for step in steps_of(expanded(root)):
        if "task" in step:
            unknown = set(step.get("inputs") or {}) - task_inputs(shared, step["task"])
            assert not unknown, f"{rel(root)}: {step['task']} has no inputs {sorted(unknown)}"


def test_every_task_group_input_exists_in_the_tasks_task_json(shared):
    group = json.loads((REPO / "pipelines/classic/task-group.json").read_text())
    folders = {json.loads(p.read_text())["id"].lower(): p.parent.name
               for p in (shared / "azure-pipelines/tasks").glob("*/task.json")}
    for t in group["tasks"]:
        folder = folders[t["task"]["id"].lower()]
        name, major = re.match(r"^(\w+)V(\d+)$", folder).groups()
        assert t["task"]["versionSpec"] == f"{major}.*", (t["displayName"], folder)
        unknown = set(t["inputs"]) - task_inputs(shared, f"{name}@{major}")
        assert not unknown, f"task group step {t['displayName']!r}: {name}@{major} has no inputs {sorted(unknown)}"


@pytest.mark.parametrize("path", GH_WORKFLOWS, ids=rel)
def test_github_workflow_matches_its_schema_and_its_actions(shared, path):
    schema = json.loads((shared / "github-actions/github-workflow.json").read_text())
    doc = yaml.safe_load(path.read_text())
    doc["on"] = doc.pop(True, doc.get("on"))
    validator = jsonschema.validators.validator_for(schema)(schema)
    assert schema_errors(validator, doc) == [], rel(path)
    for job_id, job in doc["jobs"].items():
        for step in job.get("steps") or []:
            if "uses" not in step:
                continue
            action, _, major = step["uses"].partition("@")
            # This repository's own actions (aibc-dev/aibc/actions/setup-aibc) from its folder.
            own = action.removeprefix("aibc-dev/aibc/")
            meta_file = (REPO / own if own != action else shared / "github-actions/actions" / action.replace("/", "__"))
            meta = yaml.safe_load((meta_file / "action.yml").read_text())
            # The current major runs on Node 24 (Node 20 actions are deprecated on the runners).
            assert meta["runs"]["using"] == "node24", (action, meta["runs"]["using"])
            assert re.fullmatch(r"v\d+", major), step["uses"]
            unknown = set(step.get("with") or {}) - set(meta.get("inputs") or {})
            assert not unknown, f"{rel(path)}: {job_id}: {step['uses']} has no inputs {sorted(unknown)}"
