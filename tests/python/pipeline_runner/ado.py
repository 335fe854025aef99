"""Runs an Azure DevOps YAML pipeline: the templates expanded with their parameters
(tests/python/ado_yaml.py), then stages, jobs and steps in dependency order, the way the
agent and the server do (docs: ../shared/azure-pipelines/docs/*.md).

* steps: `script`, `bash`, `Bash@3`, `AzureCLI@2` (bash, signed in through a service
  connection: AZURESUBSCRIPTION_* in the environment), `Cache@2` (always a miss),
  `PublishPipelineArtifact@1`, `DownloadPipelineArtifact@2`, `checkout`, `download`;
* macros `$(var)` in inputs, env and scripts; every variable in the environment with its
  name upper-cased and `.` as `_` (secrets only when mapped);
* logging commands: `task.setvariable` (with and without isOutput: `$(step.var)` in the
  job, `dependencies.<job>.outputs[...]` and `stageDependencies.<stage>.<job>.outputs[...]`
  later), `task.prependpath`, `task.complete`, `task.logissue`, `artifact.upload`,
  `build.addbuildtag`;
* `condition:` (succeeded, failed, always, canceled, succeededOrFailed, eq, and, …) on
  steps, jobs and stages, `continueOnError`, `$[ ]` job variables, deployment jobs with
  their environment's approval granted.
"""

from __future__ import annotations

import concurrent.futures
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ado_yaml

from .agent import Artifacts, Cancel, Machine, StepError, logging_commands, run_bash

MACRO = re.compile(r"\$\(([A-Za-z_][\w.]*)\)")
RUNTIME = re.compile(r"^\s*\$\[(.*)\]\s*$", re.S)

SUCCEEDED, ISSUES, FAILED, CANCELED, SKIPPED = "Succeeded", "SucceededWithIssues", "Failed", "Canceled", "Skipped"


@dataclass
class StepRecord:
    name: str
    display: str
    result: str
    log: list[str]


@dataclass
class JobRecord:
    stage: str
    name: str
    result: str = SKIPPED
    steps: list[StepRecord] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    variables: dict[str, str] = field(default_factory=dict)
    # Folders `task.prependpath` put in front of PATH for the job's later steps.
    path_prefix: list[str] = field(default_factory=list)

    def step(self, display_prefix: str) -> StepRecord:
        return next(s for s in self.steps if s.display.startswith(display_prefix))

    @property
    def log(self) -> str:
        return "\n".join(line for s in self.steps for line in s.log)


@dataclass
class AdoResult:
    stages: dict[str, str]
    jobs: dict[str, JobRecord]
    issues: list[tuple[str, str, str]]  # (job, type, message)
    tags: list[str]
    approvals: list[str]
    artifacts: Artifacts
    canceled: bool
    result: str


def env_name(var: str) -> str:
    return var.upper().replace(".", "_").replace(" ", "_")


def job_result(results: list[str]) -> str:
    if not results:
        return SUCCEEDED
    for r in (CANCELED, FAILED, ISSUES):
        if r in results:
            return r
    return SUCCEEDED if any(r == SUCCEEDED for r in results) else SKIPPED


class AdoRunner:
    def __init__(self, machine: Machine, sources: Path, build_id: int = 1, connections: dict | None = None,
                 secrets: dict | None = None):
        self.m = machine
        self.sources = sources
        self.build_id = build_id
        # service connection name -> what AzureCLI@2 exports for it (workload identity federation)
        i = machine.fake_info
        self.connections = connections or {}
        self.connection_env = {
            "AZURESUBSCRIPTION_CLIENT_ID": i["client_id"], "AZURESUBSCRIPTION_TENANT_ID": i["tenant_id"],
            "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID": i["service_connection_id"]}
        self.secrets = {"System.AccessToken": i["system_access_token"], **(secrets or {})}
        # Values macros expand to but scripts do not see (a classic task group's inputs).
        self.macros_only: dict[str, str] = {}

    # ------------------------------------------------------------------ the run

    def run(self, root: Path, parameters: dict | None = None, cancel: Cancel | None = None,
            repositories: dict | None = None) -> AdoResult:
        exp = ado_yaml.Expander(self.sources, repositories or {})
        doc = exp.expand_root(root, parameters or {})
        self.start(cancel)
        stages = doc.get("stages") or [{"stage": "__default", "jobs": doc.get("jobs") or []}]
        previous = None
        for stage in stages:
            name = stage["stage"]
            deps = stage.get("dependsOn", [previous] if previous else [])
            deps = [deps] if isinstance(deps, str) else [d for d in deps if d]
            previous = name
            self.run_stage(name, stage, deps)
        return self.result()

    def start(self, cancel: Cancel | None) -> None:
        run_dir = self.m.work / f"run-{self.build_id}"
        shutil.rmtree(run_dir, ignore_errors=True)
        run_dir.mkdir(parents=True)
        self.run_dir = run_dir
        self.artifacts = Artifacts(run_dir / "artifacts")
        self.cancel = cancel
        self.canceled = False
        self.issues: list[tuple[str, str, str]] = []
        self.tags: list[str] = []
        self.approvals: list[str] = []
        self.jobs: dict[str, JobRecord] = {}
        self.stage_results: dict[str, str] = {}

    def result(self) -> AdoResult:
        results = list(self.stage_results.values())
        return AdoResult(self.stage_results, self.jobs, self.issues, self.tags, self.approvals, self.artifacts,
                         self.canceled, CANCELED if self.canceled else job_result(results))

    def functions(self, status: str, dep_results: list[str]) -> dict:
        ok = (SUCCEEDED, ISSUES)
        return {
            "always": lambda: True,
            "canceled": lambda: self.canceled,
            "succeeded": lambda *names: not self.canceled and all(r in ok for r in dep_results) and status in ok,
            "failed": lambda *names: not self.canceled and (status == FAILED or any(r == FAILED for r in dep_results)),
            "succeededOrFailed": lambda *names: not self.canceled,
        }

    def condition(self, cond: Any, status: str, dep_results: list[str], scope: dict) -> bool:
        text = str(cond) if cond is not None else "succeeded()"
        value = ado_yaml.Parser(text, scope, self.functions(status, dep_results)).parse()
        return ado_yaml.truthy(value)

    def dependency_scope(self, stage_deps: list[str], job_deps: list[str], stage: str) -> dict:
        def outputs(job: JobRecord) -> dict:
            return {"result": job.result, "outputs": dict(job.outputs)}
        stage_dependencies = {
            s: {j.name: outputs(j) for j in self.jobs.values() if j.stage == s} for s in stage_deps}
        dependencies = {j.name: outputs(j) for j in self.jobs.values() if j.stage == stage and j.name in job_deps}
        # Stage-level `dependencies.<stage>.result` too.
        for s in stage_deps:
            dependencies.setdefault(s, {"result": self.stage_results.get(s, SKIPPED)})
        return {"stageDependencies": stage_dependencies, "dependencies": dependencies, "variables": {}}

    def run_stage(self, name: str, stage: dict, deps: list[str]) -> None:
        dep_results = [self.stage_results.get(d, SKIPPED) for d in deps]
        scope = self.dependency_scope(deps, [], name)
        if not self.condition(stage.get("condition"), SUCCEEDED, dep_results, scope):
            self.stage_results[name] = SKIPPED
            for job in stage.get("jobs") or []:
                jname = job.get("job") or job.get("deployment")
                self.jobs[f"{name}.{jname}"] = JobRecord(name, jname, SKIPPED)
            return
        # The jobs of a stage run side by side, each as soon as the jobs it depends on are done.
        pending = list(stage.get("jobs") or [])
        results = []
        while pending:
            done = {j.name for j in self.jobs.values() if j.stage == name}
            ready = [j for j in pending if all(d in done for d in self.job_deps(j))]
            if not ready:
                raise StepError(f"stage {name}: job dependency cycle")
            with concurrent.futures.ThreadPoolExecutor(len(ready)) as pool:
                results += list(pool.map(lambda j: self.start_job(name, j, deps), ready))
            pending = [j for j in pending if j not in ready]
        self.stage_results[name] = job_result([r for r in results if r != SKIPPED]) if any(
            r != SKIPPED for r in results) else SKIPPED

    @staticmethod
    def job_deps(job: dict) -> list[str]:
        jdeps = job.get("dependsOn") or []
        return [jdeps] if isinstance(jdeps, str) else list(jdeps)

    def start_job(self, stage: str, job: dict, deps: list[str]) -> str:
        jname = job.get("job") or job.get("deployment")
        jdeps = self.job_deps(job)
        record = JobRecord(stage, jname)
        jscope = self.dependency_scope(deps, jdeps, stage)
        job_dep_results = [self.jobs[f"{stage}.{d}"].result for d in jdeps if f"{stage}.{d}" in self.jobs]
        if self.canceled or not self.condition(job.get("condition"), SUCCEEDED, job_dep_results, jscope):
            record.result = CANCELED if self.canceled else SKIPPED
        else:
            self.run_job(record, job, jscope)
        self.jobs[f"{stage}.{jname}"] = record
        return record.result

    # ------------------------------------------------------------------ a job

    def predefined(self, job_dir: Path) -> dict:
        return {
            "Build.BuildId": str(self.build_id), "Build.BuildNumber": f"20261204.{self.build_id}",
            "Build.SourceVersion": "0" * 40, "Build.SourcesDirectory": str(job_dir / "s"),
            "Build.ArtifactStagingDirectory": str(job_dir / "a"), "Build.Repository.LocalPath": str(job_dir / "s"),
            "System.DefaultWorkingDirectory": str(job_dir / "s"), "System.JobAttempt": "1",
            "Pipeline.Workspace": str(job_dir), "Agent.TempDirectory": str(job_dir / "_temp"),
            # Parallel jobs run on agents of their own, each with its own tools folder.
            "Agent.ToolsDirectory": str(job_dir / "_tool"), "Agent.OS": "Linux",
            "System.OidcRequestUri": self.m.fake_info["oidc_request_uri"], "TF_BUILD": "True",
        }

    def run_job(self, record: JobRecord, job: dict, scope: dict) -> None:
        job_dir = self.run_dir / f"{record.stage}.{record.name}"
        for d in ("s", "a", "_temp"):
            (job_dir / d).mkdir(parents=True, exist_ok=True)
        (job_dir / "_tool").mkdir(exist_ok=True)
        variables = self.predefined(job_dir)
        for k, v in (job.get("variables") or {}).items():
            m = RUNTIME.match(str(v))
            if m:
                value = ado_yaml.Parser(m.group(1), scope, self.functions(SUCCEEDED, [])).parse()
                variables[k] = "" if value is ado_yaml.MISSING or value is None else ado_yaml.to_str(value)
            else:
                variables[k] = self.expand(str(v), variables)
        record.variables = variables
        if "deployment" in job:
            # The environment's checks (an approval) pass: granted by the test's reviewer.
            self.approvals.append(str(job.get("environment")))
            steps = job["strategy"]["runOnce"]["deploy"]["steps"]
        else:
            steps = job.get("steps") or []
        status = SUCCEEDED
        for i, step in enumerate(steps):
            display = str(step.get("displayName") or step.get("task") or next(iter(step)))
            sname = str(step.get("name") or f"step{i}")
            if not self.condition(step.get("condition"), status, [], {"variables": variables}):
                record.steps.append(StepRecord(sname, display, SKIPPED, []))
                continue
            log: list[str] = []
            try:
                result = self.run_step(step, sname, variables, job_dir, log, record)
            except StepError as e:
                log.append(f"##[error]{e}")
                self.issues.append((record.name, "error", str(e)))
                result = FAILED
            if result == FAILED and step.get("continueOnError") in (True, "true", "True"):
                result = ISSUES
            record.steps.append(StepRecord(sname, display, result, log))
            if result == CANCELED:
                status = CANCELED
            elif result == FAILED and status != CANCELED:
                status = FAILED
            elif result == ISSUES and status == SUCCEEDED:
                status = ISSUES
        record.result = status
        # The agent empties its temp folder after every job.
        shutil.rmtree(job_dir / "_temp", ignore_errors=True)

    def expand(self, text: str, variables: dict) -> str:
        """Macros: `$(name)` of a known variable is replaced; an unknown one stays as it is."""
        def sub(m: re.Match) -> str:
            name = m.group(1)
            for pool in (variables, self.secrets, self.macros_only):
                key = next((k for k in pool if k.casefold() == name.casefold()), None)
                if key is not None:
                    return pool[key]
            return m.group(0)
        return MACRO.sub(sub, text)

    def environment(self, variables: dict, step_env: dict, prefix: list[str]) -> dict:
        env = dict(self.m.env)
        for k, v in variables.items():
            env[env_name(k)] = v
        env["AGENT_TEMPDIRECTORY"] = variables["Agent.TempDirectory"]
        env["TMPDIR"] = variables["Agent.TempDirectory"]
        env["PATH"] = ":".join(prefix + [env["PATH"]])
        for k, v in step_env.items():
            env[str(k)] = self.expand("" if v is None else ado_yaml.to_str(v), variables)
        return env

    def run_step(self, step: dict, sname: str, variables: dict, job_dir: Path, log: list[str],
                 record: JobRecord) -> str:
        inputs = {k: self.expand(ado_yaml.to_str(v), variables) for k, v in (step.get("inputs") or {}).items()}
        env_map = step.get("env") or {}
        if "checkout" in step:
            # The repository as the trigger's commit: the test's working tree.
            shutil.copytree(self.sources, job_dir / "s", dirs_exist_ok=True, ignore=shutil.ignore_patterns(".git"))
            return SUCCEEDED
        if "download" in step:
            if step["download"] != "none":
                raise StepError(f"download: {step['download']} is not supported")
            return SUCCEEDED
        if "script" in step or "bash" in step:
            return self.script(self.expand(step.get("script") or step.get("bash"), variables), sname, variables,
                               env_map, job_dir, log, record)
        task = step.get("task", "")
        if task == "Bash@3":
            if inputs.get("targetType", "filePath") != "inline":
                raise StepError("Bash@3 with a file path is not supported")
            return self.script(inputs["script"], sname, variables, env_map, job_dir, log, record)
        if task == "AzureCLI@2":
            conn = inputs.get("azureSubscription") or inputs.get("connectedServiceNameARM")
            if conn not in self.connections:
                raise StepError(f"service connection {conn!r} does not exist or is not authorized")
            if inputs.get("scriptType") != "bash" or inputs.get("scriptLocation") != "inlineScript":
                raise StepError("AzureCLI@2: only bash inline scripts are supported")
            extra = dict(self.connection_env)
            if str(inputs.get("addSpnToEnvironment", "false")).lower() == "true":
                raise StepError("addSpnToEnvironment would expose the service principal")
            # The task signs az in with the connection first.
            run_bash("az login --service-principal --federated-token x\n",
                     self.environment(variables, {}, record.path_prefix),
                     job_dir / "s", [], None, tmp=job_dir / "_temp")
            return self.script(inputs["inlineScript"], sname, variables, env_map, job_dir, log, record, extra)
        if task == "Cache@2":
            return SUCCEEDED  # a miss: nothing restored, the cacheHitVar stays unset
        if task == "PublishPipelineArtifact@1":
            self.artifacts.publish(inputs.get("artifact") or inputs.get("artifactName"),
                                   Path(inputs.get("targetPath") or inputs.get("path")))
            return SUCCEEDED
        if task == "DownloadPipelineArtifact@2":
            self.artifacts.download(inputs.get("artifact") or inputs.get("artifactName"),
                                    Path(inputs.get("targetPath") or inputs.get("path")))
            return SUCCEEDED
        raise StepError(f"task {task or step} is not supported by the runner")

    def script(self, text: str, sname: str, variables: dict, env_map: dict, job_dir: Path, log: list[str],
               record: JobRecord, extra: dict | None = None) -> str:
        env = self.environment(variables, env_map, record.path_prefix)
        env.update(extra or {})
        code, canceled = run_bash(self.expand(text, variables), env, job_dir / "s", log, self.cancel,
                                  tmp=job_dir / "_temp")
        if canceled:
            self.canceled = True
        result = CANCELED if canceled else (SUCCEEDED if code == 0 else FAILED)
        for area, props, value in logging_commands(log):
            if area == "task.setvariable":
                name = props["variable"]
                if props.get("isoutput", "").lower() == "true":
                    record.outputs[f"{sname}.{name}"] = value
                    variables[f"{sname}.{name}"] = value
                else:
                    variables[name] = value
            elif area == "task.prependpath":
                record.path_prefix.insert(0, value)
            elif area == "task.complete":
                r = props.get("result", "")
                result = {"succeeded": SUCCEEDED, "succeededwithissues": ISSUES, "failed": FAILED}.get(r.lower(), result)
            elif area == "task.logissue":
                self.issues.append((record.name, props.get("type", ""), value))
            elif area == "artifact.upload":
                # A relative path is the step's working directory's, as for the agent.
                try:
                    self.artifacts.publish(props["artifactname"], job_dir / "s" / value, merge=True)
                except StepError as e:
                    self.issues.append((record.name, "warning", f"artifact.upload: {e}"))
            elif area == "build.addbuildtag":
                self.tags.append(value)
        if code != 0 and result == SUCCEEDED and not canceled:
            result = FAILED
        return result
