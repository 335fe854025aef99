"""Checks of the pipeline assets under pipelines/: Azure DevOps templates, the classic recipe,
the GitHub Actions workflow, and the `aibc pipeline init` templates (pipelines/init/).

Offline and without Azure DevOps: the ADO templates are expanded by ado_yaml.py, a small
evaluator of the template-expression subset they use, and the init templates are rendered by
hbs.py, the Handlebars subset handlebars-rust is used with.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

import ado_yaml
import hbs

REPO = Path(__file__).resolve().parents[2]
PIPELINES = REPO / "pipelines"
ADO = PIPELINES / "azure-devops"
GITHUB = PIPELINES / "github"
CLASSIC = PIPELINES / "classic"
INIT = PIPELINES / "init"

# Real Azure DevOps tasks these assets may use: name -> (task id, major versions allowed).
# Ids are the `id` of each task's task.json in microsoft/azure-pipelines-tasks (the same id
# for every major version of a task); a task group export refers to tasks by them.
ADO_TASKS: dict[str, tuple[str, set[int]]] = {
    "AzureCLI": ("46e4be58-730b-4389-8a2f-ea10b3e5e815", {2}),
    "Bash": ("6c731c3c-3c68-459a-a5c9-bde6e6595b5b", {3}),
    "Cache": ("d53ccab4-555e-4494-9d06-11db043fb4a9", {2}),
    "PublishPipelineArtifact": ("ecdc45f6-832d-4ad9-b52b-ee49e94659be", {1}),
    "DownloadPipelineArtifact": ("61f2a582-95ae-4948-b34d-a1b3c4f6a737", {2}),
    # Allowed, not used yet (ids not needed: they are never in the task group).
    "ManualValidation": ("", {0, 1}),
    "AzurePowerShell": ("", {5}),
    "PowerShell": ("", {2}),
}
TASK_REF = re.compile(r"^([A-Za-z][A-Za-z0-9]*)@(\d+)$")

# Outputs `aibc run` sets itself under TF_BUILD (the CLI contract), on whatever step runs it.
AIBC_RUN_OUTPUTS = {"IMAGE_VERSION", "GALLERY_IMAGE_VERSION_ID"}

# Local stand-ins for `resources.repositories` entries, by repository name.
KNOWN_REPOS = {"aibc-dev/aibc": REPO}

# What `aibc pipeline init` passes to the templates in pipelines/init/.
INIT_CONTEXTS = {
    "one-spec": {
        "kind": "yaml",
        "specs": [{"path": "examples/ubuntu-2404-apt/image.yaml", "name": "ubuntu-2404-base", "os": "linux", "image": None, "member": "",
                   "version": "date", "params": ["environment"], "tests": True}],
        "smoke": True,
        "release_needs": "smoke-test",
        "service_connection": "sc-aib-images",
        "resource_group": "rg-image-build",
        "regions": ["westeurope", "northeurope"],
        "aibc_version": "0.1.0",
        "watch": ["examples/ubuntu-2404-apt/image.yaml", "examples/ubuntu-2404-apt/scripts"],
        "params": [{"name": "environment", "env": "AIBC_PARAM_ENVIRONMENT", "ado_type": "string", "default": "'dev'",
                    "default_text": "dev", "allowed": ["'dev'", "'prod'"], "display": "'Spec parameter environment'",
                    "github": "${{ inputs.param_environment || vars.AIBC_PARAM_ENVIRONMENT || 'dev' }}"}],
    },
    "three-specs": {
        "kind": "yaml",
        "specs": [
            {"path": "examples/ubuntu-2404-apt/image.yaml", "name": "ubuntu-2404-base", "os": "linux", "image": None, "member": "",
             "version": "date", "params": [], "tests": True},
            {"path": "examples/windows-2022-iis/image.yaml", "name": "win2022-iis", "os": "windows", "image": None, "member": "",
             "version": None, "params": ["licenseKey"], "tests": False},
            {"path": "examples/from-gallery-version/image.yaml", "name": "orders-api.ubuntu2404", "os": "linux",
             "image": None, "member": "", "version": "latest", "params": [], "tests": False},
        ],
        "smoke": True,
        "release_needs": "smoke-test",
        "watch": ["examples/ubuntu-2404-apt/image.yaml", "examples/windows-2022-iis/image.yaml",
                  "examples/from-gallery-version/image.yaml"],
        # A required parameter: no default.
        "params": [{"name": "licenseKey", "env": "AIBC_PARAM_LICENSE_KEY", "ado_type": "string", "default": None,
                    "default_text": None, "allowed": [], "display": "'Spec parameter licenseKey'",
                    "github": "${{ inputs.param_licenseKey || vars.AIBC_PARAM_LICENSE_KEY }}"}],
        # Connection names may have spaces and brackets; the templates quote every value.
        "service_connection": "Azure images (prod): platform",
        "resource_group": "rg-image-build",
        "regions": [],
        "aibc_version": "1.2.3",
    },
}
for _ctx in INIT_CONTEXTS.values():
    _ctx["smoke_specs"] = [s for s in _ctx["specs"] if s["tests"]]
INIT_TEMPLATES = {"yaml": "yaml.hbs", "classic": "classic.md.hbs", "github": "github.hbs"}


# --------------------------------------------------------------------------- loading


class UniqueKeyLoader(yaml.SafeLoader):
    """safe_load, but a key given twice is an error (Azure DevOps rejects it; PyYAML would not)."""


def _construct_mapping(loader: UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep)


UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=UniqueKeyLoader)  # noqa: S506 (a SafeLoader subclass)


def yaml_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix in (".yml", ".yaml"))


ADO_FILES = yaml_files(ADO)
ADO_TEMPLATES = [p for p in ADO_FILES if "examples" not in p.relative_to(ADO).parts]
ADO_ROOTS = [p for p in ADO_FILES if "examples" in p.relative_to(ADO).parts]
GITHUB_FILES = yaml_files(GITHUB)
ALL_YAML = yaml_files(PIPELINES)


def rel(p: Path) -> str:
    try:
        return str(p.resolve().relative_to(REPO))
    except ValueError:  # a rendered file outside the repository
        return str(p)


def walk(node: Any, path: tuple = ()) -> Iterator[tuple[tuple, Any]]:
    yield path, node
    if isinstance(node, dict):
        for k, v in node.items():
            yield from walk(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from walk(v, path + (i,))


def task_refs(doc: Any) -> Iterator[tuple[tuple, str]]:
    for path, node in walk(doc):
        if isinstance(node, dict) and "task" in node and isinstance(node["task"], str):
            yield path, node["task"]


def check_task(ref: str, where: str) -> None:
    m = TASK_REF.match(ref.strip())
    assert m, f"{where}: task {ref!r} is not pinned as Name@major"
    name, major = m.group(1), int(m.group(2))
    assert name in ADO_TASKS, f"{where}: {name} is not a known Azure DevOps task"
    assert major in ADO_TASKS[name][1], f"{where}: {name}@{major}: allowed majors are {sorted(ADO_TASKS[name][1])}"


# --------------------------------------------------------------------------- every YAML


def test_there_is_something_to_check():
    names = {rel(p) for p in ALL_YAML}
    for must in (
        "pipelines/azure-devops/steps/install-aibc.yml",
        "pipelines/azure-devops/jobs/validate.yml",
        "pipelines/azure-devops/jobs/build.yml",
        "pipelines/azure-devops/jobs/smoke-test.yml",
        "pipelines/azure-devops/stages/image-pipeline.yml",
        "pipelines/azure-devops/examples/azure-pipelines.yml",
        "pipelines/azure-devops/examples/family-pipeline.yml",
        "pipelines/github/image.yml",
    ):
        assert must in names


@pytest.mark.parametrize("path", ALL_YAML, ids=rel)
def test_yaml_parses(path):
    doc = load_yaml(path.read_text(encoding="utf-8"))
    assert isinstance(doc, dict), f"{rel(path)}: not a mapping"


# --------------------------------------------------------------------------- secrets

SECRET_TEXT = [
    (re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"), "a JWT"),
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"), "a private key"),
    (re.compile(r"AccountKey=[A-Za-z0-9+/=]{8,}", re.I), "a storage account key"),
    (re.compile(r"[?&]sig=[A-Za-z0-9%+/=]{10,}"), "a SAS signature"),
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}"), "a GitHub token"),
    (re.compile(r"\bAKIA[0-9A-Z]{16}\b"), "an AWS key"),
    (re.compile(r"\b[a-z0-9]{52}\b"), "an Azure DevOps PAT"),
    (re.compile(r"client[_-]?secret\s*[:=]\s*['\"]?[A-Za-z0-9~._-]{10,}", re.I), "a client secret"),
]
GUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I)
SECRET_KEY = re.compile(r"secret|password|passwd|token|credential|api[-_]?key|accountkey|connectionstring|\bsas\b", re.I)
REFERENCE = re.compile(r"^\s*(\$\(|\$\{\{|\$\[)")


def secret_like_values(doc: Any, where: str) -> list[str]:
    bad = []
    for path, node in walk(doc):
        if not isinstance(node, dict):
            continue
        if path and path[-1] == "permissions":  # GitHub's `id-token: write` is a permission
            continue
        for k, v in node.items():
            if not isinstance(k, str) or not SECRET_KEY.search(k):
                continue
            if isinstance(v, (dict, list)) or isinstance(v, bool) or v is None:
                continue
            text = str(v).strip()
            if text and not REFERENCE.match(text):
                bad.append(f"{where}: {'.'.join(map(str, path + (k,)))} holds a literal {text!r}")
    return bad


def pipeline_text_files() -> list[Path]:
    return sorted(p for p in PIPELINES.rglob("*") if p.is_file())


@pytest.mark.parametrize("path", pipeline_text_files(), ids=rel)
def test_no_secrets_or_tokens(path):
    text = path.read_text(encoding="utf-8")
    for pattern, what in SECRET_TEXT:
        m = pattern.search(text)
        assert not m, f"{rel(path)}: looks like {what}: {m.group(0)[:20]}…"
    if path.suffix in (".yml", ".yaml", ".hbs"):
        # Ids of tenants, subscriptions and apps belong in service connections and variables.
        m = GUID.search(text)
        assert not m, f"{rel(path)}: literal GUID {m.group(0)}"
    if path.suffix in (".yml", ".yaml"):
        assert secret_like_values(load_yaml(text), rel(path)) == []


def test_no_step_exposes_service_principal_details():
    for path in ADO_FILES:
        for _, node in walk(load_yaml(path.read_text())):
            if isinstance(node, dict) and str(node.get("task", "")).startswith("AzureCLI@"):
                spn = str((node.get("inputs") or {}).get("addSpnToEnvironment", "false")).lower()
                assert spn == "false", f"{rel(path)}: addSpnToEnvironment must stay off"


# --------------------------------------------------------------------------- ADO: static


@pytest.mark.parametrize("path", ADO_FILES, ids=rel)
def test_ado_tasks_are_real_and_pinned(path):
    doc = load_yaml(path.read_text())
    for where, ref in task_refs(doc):
        check_task(ref, f"{rel(path)} at {'.'.join(map(str, where))}")


@pytest.mark.parametrize("path", ADO_FILES, ids=rel)
def test_ado_every_parameter_is_declared_well_and_used(path):
    text = path.read_text()
    doc = load_yaml(text)
    params = ado_yaml.declared_params(doc)
    body = yaml.safe_dump({k: v for k, v in doc.items() if k != "parameters"}, width=10_000)
    for name, p in params.items():
        assert p.type in ado_yaml.PARAM_TYPES, f"{rel(path)}: {name}: type {p.type!r}"
        assert re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name), f"{rel(path)}: parameter name {name!r}"
        used = re.search(rf"parameters\.{re.escape(name)}\b|parameters\[\s*'{re.escape(name)}'\s*\]", body)
        assert used, f"{rel(path)}: parameter {name!r} is declared but never used"
        if p.has_default and p.default is not None:
            ado_yaml.coerce(p, p.default, rel(path))  # the default fits its own type and values
    if path in ADO_TEMPLATES:
        # Every parameter reference names a declared parameter.
        for m in re.finditer(r"parameters\.([A-Za-z_][A-Za-z0-9_]*)", body):
            assert m.group(1) in params, f"{rel(path)}: parameters.{m.group(1)} is not declared"


def template_refs(doc: Any) -> Iterator[tuple[str, dict, bool]]:
    """(template path, parameters passed, in extends?) for every reference, expanded or not."""
    for path, node in walk(doc):
        if isinstance(node, dict) and isinstance(node.get("template"), str):
            yield node["template"], node.get("parameters") or {}, bool(path) and path[-1] == "extends"


def passed_keys(params: dict) -> tuple[set[str], set[str]]:
    """(keys always passed, keys passed under an ${{ if }})."""
    always, maybe = set(), set()
    for k, v in params.items():
        if ado_yaml.DIRECTIVE_IF.match(k) or ado_yaml.DIRECTIVE_ELSEIF.match(k) or ado_yaml.DIRECTIVE_ELSE.match(k):
            a, m = passed_keys(v)
            maybe |= a | m
        elif ado_yaml.DIRECTIVE_EACH.match(k):
            raise AssertionError("each over template parameters is not used")
        else:
            always.add(k)
    return always, maybe


def resolver_for(path: Path) -> ado_yaml.Expander:
    doc = load_yaml(path.read_text())
    return ado_yaml.Expander(REPO, ado_yaml.repositories_of(doc, KNOWN_REPOS))


def check_template_references(path: Path) -> int:
    doc = load_yaml(path.read_text())
    exp = resolver_for(path)
    count = 0
    for ref, params, _ in template_refs(doc):
        count += 1
        assert "${{" not in ref, f"{rel(path)}: computed template path {ref!r}"
        target = exp.resolve(ref, path.resolve())
        declared = ado_yaml.declared_params(load_yaml(target.read_text()))
        always, maybe = passed_keys(params)
        unknown = (always | maybe) - set(declared)
        assert not unknown, f"{rel(path)} -> {ref}: passes undeclared {sorted(unknown)}"
        required = {n for n, p in declared.items() if not p.has_default}
        assert required <= always, f"{rel(path)} -> {ref}: required {sorted(required - always)} not passed"
        for k in always:
            v = params[k]
            if isinstance(v, str) and "${{" in v or "$(" in str(v) or "$[" in str(v):
                continue
            ado_yaml.coerce(declared[k], v, f"{rel(path)} -> {ref}")
    return count


@pytest.mark.parametrize("path", ADO_FILES, ids=rel)
def test_ado_template_references_resolve_with_declared_parameters(path):
    check_template_references(path)


# --------------------------------------------------------------------------- ADO: expanded

JOB_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
STAGE_DEP = re.compile(r"stageDependencies\.(\w+)\.(\w+)\.outputs\['(\w+)\.(\w+)'\]")
STEP_OUTPUT_REF = re.compile(r"\$\((\w+)\.(\w+)\)")
SETVAR_OUTPUT = re.compile(r"##vso\[task\.setvariable variable=(\w+);isOutput=true\]")


def expand(path: Path, overrides: dict | None = None) -> dict:
    return resolver_for(path).expand_root(path, overrides)


def job_steps(job: dict) -> list[dict]:
    if "steps" in job:
        return job["steps"]
    strategy = job.get("strategy") or {}
    for kind in ("runOnce", "rolling", "canary"):
        if kind in strategy:
            return (strategy[kind].get("deploy") or {}).get("steps") or []
    return []


def job_name(job: dict) -> str:
    return job.get("job") or job.get("deployment")


def check_expanded(pipeline: dict, where: str) -> dict[str, list[str]]:
    """Structural checks on an expanded pipeline; returns stage -> job names."""
    text = json.dumps(pipeline)
    assert "${{" not in text, f"{where}: unexpanded template expression left"
    for _, node in walk(pipeline):
        assert not (isinstance(node, dict) and "template" in node), f"{where}: unexpanded template {node['template']}"
    for p, ref in task_refs(pipeline):
        check_task(ref, f"{where} (expanded) at {'.'.join(map(str, p))}")

    stages = pipeline["stages"]
    names = [s["stage"] for s in stages]
    assert len(names) == len(set(names)), f"{where}: duplicate stages {names}"
    by_stage: dict[str, dict[str, dict]] = {}
    for stage in stages:
        jobs = stage["jobs"]
        assert jobs, f"{where}: stage {stage['stage']} has no jobs"
        jnames = [job_name(j) for j in jobs]
        assert all(JOB_NAME.match(n) for n in jnames), f"{where}: bad job names {jnames}"
        assert len(jnames) == len(set(jnames)), f"{where}: duplicate jobs in {stage['stage']}: {jnames}"
        by_stage[stage["stage"]] = {job_name(j): j for j in jobs}

    for i, stage in enumerate(stages):
        deps = stage.get("dependsOn")
        deps = [] if deps is None else [deps] if isinstance(deps, str) else deps
        for d in deps:
            assert d in names[:i], f"{where}: {stage['stage']} depends on {d!r}, not an earlier stage"
        for job in stage["jobs"]:
            steps = job_steps(job)
            assert steps, f"{where}: {job_name(job)} has no steps"
            step_names = [s["name"] for s in steps if "name" in s]
            assert all(JOB_NAME.match(n) for n in step_names), f"{where}: step names {step_names}"
            assert len(step_names) == len(set(step_names)), f"{where}: duplicate step names {step_names}"
            # $(step.VAR) within a job: the step exists earlier in that job.
            seen: list[str] = []
            for s in steps:
                for m in STEP_OUTPUT_REF.finditer(json.dumps(s)):
                    if m.group(1) in ("Build", "System", "Agent", "Pipeline", "Release", "Environment"):
                        continue
                    assert m.group(1) in seen, f"{where}: $({m.group(1)}.{m.group(2)}) before/without that step"
                if "name" in s:
                    seen.append(s["name"])
            # stageDependencies.S.J.outputs['step.VAR']: S is a dependency, J ran step which sets VAR.
            for m in STAGE_DEP.finditer(json.dumps(job)):
                s_name, j_name, step, var = m.groups()
                assert s_name in deps, f"{where}: {stage['stage']} reads {s_name} but does not depend on it"
                assert j_name in by_stage[s_name], f"{where}: no job {j_name} in {s_name}"
                producer = [x for x in job_steps(by_stage[s_name][j_name]) if x.get("name") == step]
                assert producer, f"{where}: no step {step} in {s_name}.{j_name}"
                script = json.dumps(producer[0])
                sets = set(SETVAR_OUTPUT.findall(script.replace('\\"', '"')))
                if re.search(r"\brun\b", script) and "aibc" in script:
                    sets |= AIBC_RUN_OUTPUTS
                assert var in sets, f"{where}: {s_name}.{j_name}.{step} does not output {var}"
    return {s: list(j) for s, j in by_stage.items()}


def test_single_spec_pipeline_expands():
    path = ADO / "examples" / "azure-pipelines.yml"
    jobs = check_expanded(expand(path), rel(path))
    assert list(jobs) == ["Validate", "Build", "Test", "Approve", "Release"]
    assert jobs["Build"] == ["build_ubuntu_2404_base"]
    assert jobs["Approve"] == ["approve"]


def test_single_spec_pipeline_without_smoke_test():
    path = ADO / "examples" / "azure-pipelines.yml"
    pipeline = expand(path, {"runSmokeTest": False})
    jobs = check_expanded(pipeline, rel(path))
    assert "Test" not in jobs
    approve = next(s for s in pipeline["stages"] if s["stage"] == "Approve")
    assert approve["dependsOn"] == ["Build"]


def test_family_pipeline_expands_to_one_job_per_image():
    path = ADO / "examples" / "family-pipeline.yml"
    pipeline = expand(path)
    jobs = check_expanded(pipeline, rel(path))
    for stage, prefix in (("Validate", "validate"), ("Build", "build"), ("Release", "release")):
        assert jobs[stage] == [
            f"{prefix}_ubuntu_2204_server",
            f"{prefix}_ubuntu_2404_server",
            f"{prefix}_ubuntu_2404_docker",
        ], stage
    # The family's images have no `test:` section: no Test stage.
    assert "Test" not in jobs
    # Test and Release reach each member's own resource group.
    release = {j["job"]: j for j in next(s for s in pipeline["stages"] if s["stage"] == "Release")["jobs"]}
    prune = {k: next(s for s in j["steps"] if "prune" in str(s.get("displayName"))) for k, j in release.items()}
    assert prune["release_ubuntu_2404_docker"]["env"]["RESOURCE_GROUP"] == "rg-image-build-containers"
    assert prune["release_ubuntu_2204_server"]["env"]["RESOURCE_GROUP"] == "rg-image-build"
    # Each build job builds its own member of the family file, into its own group.
    build = {j["job"]: j for j in next(s for s in pipeline["stages"] if s["stage"] == "Build")["jobs"]}
    deploy = {k: next(s for s in j["steps"] if s.get("name") == "deploy") for k, j in build.items()}
    assert deploy["build_ubuntu_2404_docker"]["env"]["FAMILY_IMAGE"] == "ubuntu-2404-docker"
    assert deploy["build_ubuntu_2404_docker"]["env"]["RESOURCE_GROUP"] == "rg-image-build-containers"
    assert deploy["build_ubuntu_2204_server"]["env"]["RESOURCE_GROUP"] == "rg-image-build"
    approve = next(s for s in pipeline["stages"] if s["stage"] == "Approve")["jobs"][0]
    assert approve["environment"] == "image-release"
    assert len(approve["variables"]) == 3


def test_family_of_three_gives_three_unique_jobs_with_the_stage_template_directly():
    """The stages template alone, with a made-up 3-image family of names needing cleanup."""
    exp = ado_yaml.Expander(REPO)
    images = [
        {"name": "a-one", "spec": "x.yaml", "image": "a-one"},
        {"name": "a.one", "spec": "y.yaml"},  # same id as a-one after cleanup: must be caught
        {"name": "c", "spec": "z.yaml", "params": {"environment": "prod"}},
    ]
    # Azure DevOps rejects the run: the two ids collide (here already in the Approve
    # stage's variables, which are keyed by id).
    with pytest.raises((AssertionError, ado_yaml.ExpandError), match="duplicate jobs|set twice"):
        body = exp.instantiate(
            (ADO / "stages" / "image-pipeline.yml").resolve(),
            {"images": images, "serviceConnection": "sc", "resourceGroup": "rg"},
        )
        check_expanded(body, "made-up family")
    images[1]["name"] = "b.two"
    body = ado_yaml.Expander(REPO).instantiate(
        (ADO / "stages" / "image-pipeline.yml").resolve(),
        {"images": images, "serviceConnection": "sc", "resourceGroup": "rg"},
    )
    jobs = check_expanded(body, "made-up family")
    assert jobs["Build"] == ["build_a_one", "build_b_two", "build_c"]
    deploy = [s for s in body["stages"][1]["jobs"][2]["steps"] if s.get("name") == "deploy"][0]
    assert json.loads(deploy["env"]["OWN_PARAMS"]) == {"environment": "prod"}


def test_every_stage_template_parameter_reaches_a_job():
    """A parameter that the stage template takes but drops would be a silent no-op."""
    path = ADO / "stages" / "image-pipeline.yml"
    exp = ado_yaml.Expander(REPO)
    exp.instantiate(path.resolve(), {
        "images": [{"name": "x", "spec": "x.yaml"}], "serviceConnection": "sc-probe",
        "resourceGroup": "rg-probe", "timeout": "77m", "keep": 9, "pruneOlderThan": "33d",
    })
    got = {p.name: v for p, v in exp.included}
    build = got["build.yml"]
    assert build["serviceConnection"] == "sc-probe" and build["resourceGroup"] == "rg-probe"
    assert build["timeout"] == "77m"
    assert got["release.yml"]["keep"] == 9 and got["release.yml"]["olderThan"] == "33d"


def test_install_step_cache_key_follows_the_version():
    exp = ado_yaml.Expander(REPO)
    path = (ADO / "steps" / "install-aibc.yml").resolve()
    release = exp.instantiate(path, {"version": "9.8.7"})["steps"]
    repo = exp.instantiate(path, {"source": "repo"})["steps"]
    assert release[0]["task"] == "Cache@2"
    assert '"9.8.7"' in release[0]["inputs"]["key"]
    assert "$(Build.SourceVersion)" in repo[0]["inputs"]["key"]
    with pytest.raises(ado_yaml.ExpandError, match="not one of"):
        exp.instantiate(path, {"source": "curl"})


def test_aibc_steps_map_the_access_token_and_use_the_connection():
    for path in (ADO / "examples" / "azure-pipelines.yml", ADO / "examples" / "family-pipeline.yml"):
        pipeline = expand(path)
        for _, node in walk(pipeline):
            if isinstance(node, dict) and str(node.get("task", "")).startswith("AzureCLI@"):
                assert node["env"]["SYSTEM_ACCESSTOKEN"] == "$(System.AccessToken)"
                assert node["inputs"]["azureSubscription"] == "sc-aib-platform-images"
        # aibc commands that reach Azure only run inside AzureCLI@2.
        for _, node in walk(pipeline):
            if isinstance(node, dict) and str(node.get("task", "")).startswith("Bash@"):
                script = node["inputs"]["script"]
                assert not re.search(r"\(\s*(deploy|run|smoke-test|prune|cancel|logs)\b", script), script


def test_evaluator_basics():
    scope = {"parameters": {"a": "x-y.z", "b": True, "o": {"k": 1}, "e": ""}}
    ev = ado_yaml.evaluate
    assert ev("replace(replace(parameters.a, '-', '_'), '.', '_')", scope) == "x_y_z"
    assert ev("eq(parameters.b, true)", scope) is True
    assert ev("ne('A', 'a')", scope) is False
    assert ev("coalesce(parameters.e, parameters.missing, 'd')", scope) == "d"
    assert ev("parameters.o.k", scope) == 1
    assert ado_yaml.interpolate("job_${{ parameters.a }}", scope) == "job_x-y.z"
    assert ado_yaml.interpolate("${{ parameters.o }}", scope) == {"k": 1}
    with pytest.raises(ado_yaml.ExpandError):
        ev("split(parameters.a, '-')", scope)
    exp = ado_yaml.Expander(REPO)
    doc = {"${{ each x in parameters.l }}": {"k_${{ x }}": "${{ x }}"}, "${{ if false }}": {"no": 1},
           "${{ else }}": {"yes": 1}}
    assert exp.mapping(doc, {"parameters": {"l": ["a", "b"]}}, REPO) == {"k_a": "a", "k_b": "b", "yes": 1}
    seq = ["a", {"${{ if true }}": ["b"]}, {"${{ each x in parameters.l }}": ["${{ x }}"]}]
    assert exp.sequence(seq, {"parameters": {"l": [1, 2]}}, REPO) == ["a", "b", 1, 2]


# --------------------------------------------------------------------------- GitHub

USES = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(/[A-Za-z0-9_./-]+)?@v\d+$")
NEEDS_OUTPUT = re.compile(r"needs\.([A-Za-z0-9_-]+)\.(outputs\.([A-Za-z0-9_-]+)|result)")
STEPS_OUTPUT = re.compile(r"steps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)")
GH_JOB_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def check_github_workflow(doc: dict, where: str) -> None:
    on = doc.get("on", doc.get(True))  # YAML 1.1 reads a bare `on` as true
    assert on, f"{where}: no `on:`"
    jobs = doc["jobs"]
    top_perms = doc.get("permissions") or {}
    for job_id, job in jobs.items():
        assert GH_JOB_ID.match(job_id), f"{where}: job id {job_id!r}"
        needs = job.get("needs") or []
        needs = [needs] if isinstance(needs, str) else needs
        for n in needs:
            assert n in jobs, f"{where}: {job_id} needs unknown job {n!r}"
        steps = job.get("steps") or []
        step_ids = [s["id"] for s in steps if "id" in s]
        assert len(step_ids) == len(set(step_ids)), f"{where}: {job_id}: duplicate step ids"
        uses_login = False
        for s in steps:
            if "uses" in s:
                assert USES.match(s["uses"]), f"{where}: {job_id}: {s['uses']!r} not pinned to a major tag"
                uses_login |= s["uses"].startswith("azure/login@")
            assert ("uses" in s) != ("run" in s), f"{where}: {job_id}: a step needs exactly one of uses/run"
        perms = job.get("permissions", top_perms) or {}
        if uses_login:
            assert perms.get("id-token") == "write", f"{where}: {job_id} uses azure/login without id-token: write"
        text = json.dumps(job)
        for m in NEEDS_OUTPUT.finditer(text):
            assert m.group(1) in needs, f"{where}: {job_id} reads needs.{m.group(1)} without needing it"
            if m.group(3):
                outs = jobs[m.group(1)].get("outputs") or {}
                assert m.group(3) in outs, f"{where}: {m.group(1)} has no output {m.group(3)}"
        for m in STEPS_OUTPUT.finditer(text):
            assert m.group(1) in step_ids, f"{where}: {job_id}: steps.{m.group(1)} is not a step id"
        # A job that signs in with azure/login runs aibc with the CLI's session.
        for s in steps:
            run = s.get("run", "")
            if uses_login and re.search(r"\baibc (deploy|run|smoke-test|prune|cancel|logs)\b", run):
                assert "--auth cli" in run, f"{where}: {job_id}: aibc without --auth cli"
    assert any("environment" in j for j in jobs.values()), f"{where}: no job is protected by an environment"


@pytest.mark.parametrize("path", GITHUB_FILES, ids=rel)
def test_github_workflow(path):
    doc = load_yaml(path.read_text())
    check_github_workflow(doc, rel(path))


def test_github_workflow_shape():
    doc = load_yaml((GITHUB / "image.yml").read_text())
    jobs = doc["jobs"]
    assert list(jobs) == ["validate", "build", "smoke-test", "release"]
    assert jobs["release"]["environment"] == "image-release"
    assert "image_version" in jobs["build"]["outputs"]


# --------------------------------------------------------------------------- classic

GUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
BY_ID = {tid: name for name, (tid, _) in ADO_TASKS.items() if tid}


def classic_group() -> dict:
    return json.loads((CLASSIC / "task-group.json").read_text())


def classic_tasks() -> list[tuple[str, int, dict]]:
    out = []
    for t in classic_group()["tasks"]:
        tid = t["task"]["id"].lower()
        assert GUID_RE.match(tid), f"task id {tid!r} is not a GUID"
        assert tid in BY_ID, f"task id {tid} is not in the table of known tasks"
        assert t["task"]["definitionType"] == "task"
        m = re.match(r"^(\d+)\.\*$", t["task"]["versionSpec"])
        assert m, f"versionSpec {t['task']['versionSpec']!r} is not MAJOR.*"
        name, major = BY_ID[tid], int(m.group(1))
        check_task(f"{name}@{major}", "task-group.json")
        out.append((name, major, t))
    return out


def test_classic_task_group_scripts_hold_no_command_substitution():
    # The classic editor makes every $(name) in a task group's inputs a parameter of the
    # group (docs/task-groups.md); a shell $(...) in a script would become one and break it.
    for t in classic_group()["tasks"]:
        for key, value in t["inputs"].items():
            if key in ("script", "inlineScript"):
                assert "$(" not in value, f"{t['displayName']}: `$(` in {key}"


def test_classic_task_group_shape():
    group = classic_group()
    for key in ("name", "category", "instanceNameFormat", "version", "inputs", "tasks", "runsOn"):
        assert key in group, key
    assert set(group["version"]) >= {"major", "minor", "patch"}
    declared = {i["name"] for i in group["inputs"]}
    text = json.dumps(group["tasks"])
    used = set(re.findall(r"\$\(([A-Za-z][A-Za-z0-9]*)\)", text))
    # Every group input is used by a task; every $(x) in the tasks is an input, a variable
    # an earlier task sets, or a predefined one.
    assert declared <= used, f"unused task group inputs {sorted(declared - used)}"
    set_by_tasks = set(re.findall(r"task\.setvariable variable=(\w+)", text)) | {"AIBC_CACHE_RESTORED"}
    assert used - declared <= set_by_tasks, f"undeclared $(...) in tasks: {sorted(used - declared - set_by_tasks)}"
    conn = [i for i in group["inputs"] if i["name"] == "serviceConnection"][0]
    assert conn["type"] == "connectedService:AzureRM"
    for name, _, t in classic_tasks():
        if name == "AzureCLI":
            assert t["inputs"]["connectedServiceNameARM"] == "$(serviceConnection)"
            assert t["environment"]["SYSTEM_ACCESSTOKEN"] == "$(System.AccessToken)"


def test_classic_readme_matches_task_group():
    readme = (CLASSIC / "README.md").read_text()
    group = classic_group()
    for name, major, t in classic_tasks():
        assert f"{name}@{major}" in readme, f"README does not name {name}@{major}"
        assert ADO_TASKS[name][0] in readme, f"README does not give {name}'s task id"
        for key in t["inputs"]:
            assert f"`{key}`" in readme, f"README does not mention {name} input {key}"
        assert t["displayName"] in readme, f"README does not list the step {t['displayName']!r}"
    for i in group["inputs"]:
        assert f"`{i['name']}`" in readme, f"README does not describe task group input {i['name']}"
    # Every Name@N the README names is a real task.
    for m in re.finditer(r"\b([A-Z][A-Za-z]+)@(\d+)\b", readme):
        check_task(m.group(0), "pipelines/classic/README.md")
    assert "Key Vault" in readme and "variable group" in readme.lower()


# --------------------------------------------------------------------------- init templates


def render_init(kind: str, ctx_name: str, standalone: bool = True) -> str:
    ctx = dict(INIT_CONTEXTS[ctx_name], kind=kind)
    src = (INIT / INIT_TEMPLATES[kind]).read_text()
    return hbs.render(src, ctx, standalone=standalone)


def test_init_templates_exist_and_use_the_supported_subset():
    for kind, name in INIT_TEMPLATES.items():
        src = (INIT / name).read_text()
        hbs.parse(src)  # raises on helpers or syntax the renderer does not support
        for n, line in enumerate(src.splitlines(), 1):
            # Block tags alone at column 0: the output is the same whether or not the
            # renderer strips standalone lines.
            if re.search(r"\{\{[#/]|\{\{else\}\}", line) and line.lstrip() != line:
                pytest.fail(f"{name}:{n}: indented block tag: {line!r}")


@pytest.mark.parametrize("ctx_name", list(INIT_CONTEXTS))
@pytest.mark.parametrize("standalone", [True, False], ids=["stripped", "kept"])
def test_init_yaml_renders_to_a_pipeline_that_passes(ctx_name, standalone, tmp_path):
    text = render_init("yaml", ctx_name, standalone)
    assert "{{" not in text.replace("${{", "")
    doc = load_yaml(text)
    # Written where a user's repository would keep it; templates come from the aibc resource.
    root = tmp_path / "azure-pipelines.yml"
    root.write_text(text)
    assert secret_like_values(doc, "rendered yaml") == []
    assert not GUID.search(text)
    for p, ref in task_refs(doc):
        check_task(ref, f"rendered yaml at {p}")
    check_template_references(root)
    exp = ado_yaml.Expander(tmp_path, ado_yaml.repositories_of(doc, KNOWN_REPOS))
    required = [f"param_{p['name']}" for p in INIT_CONTEXTS[ctx_name]["params"] if p["default"] is None]
    if required:
        # A required spec parameter has no default: a run without it is refused.
        with pytest.raises(ado_yaml.ExpandError, match="a value is required"):
            exp.expand_root(root)
    jobs = check_expanded(exp.expand_root(root, {n: "value" for n in required}), f"init yaml ({ctx_name})")
    specs = INIT_CONTEXTS[ctx_name]["specs"]
    assert len(jobs["Build"]) == len(specs)
    ids = [re.sub(r"[-.]", "_", s["name"]) for s in specs]
    assert jobs["Build"] == [f"build_{i}" for i in ids]
    assert INIT_CONTEXTS[ctx_name]["service_connection"] in text
    assert f"refs/tags/v{INIT_CONTEXTS[ctx_name]['aibc_version']}" in text


@pytest.mark.parametrize("ctx_name", list(INIT_CONTEXTS))
@pytest.mark.parametrize("standalone", [True, False], ids=["stripped", "kept"])
def test_init_github_renders_to_a_workflow_that_passes(ctx_name, standalone):
    text = render_init("github", ctx_name, standalone)
    assert "{{" not in text.replace("${{", "")
    doc = load_yaml(text)
    assert secret_like_values(doc, "rendered workflow") == []
    assert not GUID.search(text)
    check_github_workflow(doc, f"init github ({ctx_name})")
    for spec in INIT_CONTEXTS[ctx_name]["specs"]:
        assert spec["path"] in text


@pytest.mark.parametrize("ctx_name", list(INIT_CONTEXTS))
def test_init_classic_renders_a_recipe_naming_the_task_group_tasks(ctx_name):
    text = render_init("classic", ctx_name)
    assert "{{" not in text.replace("${{", "")
    for name, major, _ in classic_tasks():
        assert f"{name}@{major}" in text
    for m in re.finditer(r"\b([A-Z][A-Za-z]+)@(\d+)\b", text):
        check_task(m.group(0), "rendered classic recipe")
    ctx = INIT_CONTEXTS[ctx_name]
    assert ctx["service_connection"] in text and ctx["resource_group"] in text
    for spec in ctx["specs"]:
        assert spec["path"] in text


def test_hbs_renderer_is_strict_and_handles_escapes():
    assert hbs.render("a \\{{ b }} {{x}}", {"x": 1}) == "a {{ b }} 1"
    assert hbs.render("{{#each l}}\n- {{this}}{{#unless @last}},{{/unless}}\n{{/each}}\n", {"l": [1, 2]}) == "- 1,\n- 2\n"
    assert hbs.render("{{#if l}}y{{else}}n{{/if}}", {"l": []}) == "n"
    with pytest.raises(hbs.RenderError, match="strict"):
        hbs.render("{{nope}}", {})
    with pytest.raises(hbs.RenderError, match="helpers"):
        hbs.render("{{lookup a b}}", {"a": 1, "b": 2})


# --------------------------------------------------------------------------- `aibc pipeline init` output

# Written by tests/pipeline_init.rs (the Rust renderer, handlebars-rust) for every example.
INIT_GOLDEN = REPO / "tests" / "golden" / "pipelines"


def init_goldens(name: str) -> list[Path]:
    return sorted(INIT_GOLDEN.glob(f"*/{name}"))


def test_init_goldens_exist():
    assert len(init_goldens("azure-pipelines.yml")) >= 6
    assert len(init_goldens("github-workflow.yml")) == len(init_goldens("azure-pipelines.yml"))


@pytest.mark.parametrize("path", init_goldens("azure-pipelines.yml"), ids=lambda p: p.parent.name)
def test_aibc_pipeline_init_yaml_passes(path, tmp_path):
    text = path.read_text()
    doc = load_yaml(text)
    assert secret_like_values(doc, rel(path)) == []
    for p, ref in task_refs(doc):
        check_task(ref, f"{rel(path)} at {p}")
    root = tmp_path / "azure-pipelines.yml"
    root.write_text(text)
    check_template_references(root)
    exp = ado_yaml.Expander(tmp_path, ado_yaml.repositories_of(doc, KNOWN_REPOS))
    jobs = check_expanded(exp.expand_root(root), rel(path))
    images = doc["extends"]["parameters"]["images"]
    assert len(jobs["Build"]) == len(images)
    for image in images:
        assert (REPO / image["spec"]).is_file(), image


@pytest.mark.parametrize("path", init_goldens("github-workflow.yml"), ids=lambda p: p.parent.name)
def test_aibc_pipeline_init_github_passes(path):
    doc = load_yaml(path.read_text())
    assert secret_like_values(doc, rel(path)) == []
    check_github_workflow(doc, rel(path))
