"""Runs a GitHub Actions workflow: jobs in `needs` order (matrix `include` legs one after
another), `if:` with the status functions, `run:` steps under `bash -e -o pipefail` with
GITHUB_ENV, GITHUB_OUTPUT, GITHUB_PATH and GITHUB_STEP_SUMMARY, step and job outputs, and
`needs.<job>.outputs`/`.result`. `uses:` steps of this repository's own actions
(`aibc-dev/aibc/<folder>@<ref>`, e.g. setup-aibc) run the real action from the working tree
under Node, as the runner starts a JavaScript action: INPUT_* variables (the action.yml
defaults filled in), RUNNER_TOOL_CACHE (per job: a fresh runner), RUNNER_TEMP and the file
commands. Other `uses:` steps are played by stand-ins for the actions the workflows use:
checkout (the test's working tree, a git repository with an `origin`), cache (a miss),
azure/login (the stub az signs in), upload/download-artifact (folder copies).
"""

from __future__ import annotations

import concurrent.futures
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from . import gh_expr
from .agent import REPO, Artifacts, Cancel, Machine, StepError, run_bash

# `uses: aibc-dev/aibc/actions/setup-aibc@v0`: the folder in this repository.
OWN_ACTIONS = "aibc-dev/aibc/"
STAND_INS = ("actions/checkout@", "actions/cache@", "azure/login@", "actions/upload-artifact@",
             "actions/download-artifact@")


@dataclass
class GhStep:
    name: str
    outcome: str  # success, failure, cancelled, skipped
    log: list[str]


@dataclass
class GhJob:
    name: str
    result: str = "skipped"
    legs: list[dict] = field(default_factory=list)  # per matrix leg: {"matrix", "steps", "outputs", "result"}
    outputs: dict = field(default_factory=dict)

    @property
    def steps(self) -> list[GhStep]:
        return [s for leg in self.legs for s in leg["steps"]]

    @property
    def log(self) -> str:
        return "\n".join(line for s in self.steps for line in s.log)


@dataclass
class GhResult:
    jobs: dict[str, GhJob]
    artifacts: Artifacts
    annotations: list[str]
    summary: str
    canceled: bool
    approvals: list[str]
    tags: list[str]


class GithubRunner:
    def __init__(self, machine: Machine, sources: Path, run_number: int = 1, variables: dict | None = None):
        self.m = machine
        self.sources = sources
        self.run_number = run_number
        self.vars = variables or {}

    def run(self, workflow: Path, event: str = "push", inputs: dict | None = None,
            cancel: Cancel | None = None) -> GhResult:
        doc = yaml.safe_load(workflow.read_text())
        self.doc = doc
        run_dir = self.m.work / f"gh-run-{self.run_number}"
        shutil.rmtree(run_dir, ignore_errors=True)
        run_dir.mkdir(parents=True)
        self.run_dir = run_dir
        self.artifacts = Artifacts(run_dir / "artifacts")
        self.cancel = cancel
        self.canceled = False
        self.annotations: list[str] = []
        self.summary: list[str] = []
        self.approvals: list[str] = []
        self.origin = run_dir / "origin.git"
        subprocess.run(["git", "init", "-q", "--bare", str(self.origin)], check=True)
        on = doc.get(True) or doc.get("on") or {}
        # `on: push` and `on: [push, …]` name events without settings.
        dispatch = (on.get("workflow_dispatch") if isinstance(on, dict) else None) or {}
        declared = (dispatch or {}).get("inputs") or {}
        self.inputs = {}
        if event == "workflow_dispatch":
            for k, d in declared.items():
                self.inputs[k] = (inputs or {}).get(k, d.get("default", ""))
        self.github = {"event_name": event, "run_id": str(1000 + self.run_number), "run_number": str(self.run_number),
                       "run_attempt": "1", "sha": "", "ref": "refs/heads/main", "repository": "contoso/images"}
        jobs: dict[str, GhJob] = {}
        order = list((doc.get("jobs") or {}).items())
        done: set[str] = set()
        while len(done) < len(order):
            progressed = False
            for name, job in order:
                if name in done:
                    continue
                needs = job.get("needs") or []
                needs = [needs] if isinstance(needs, str) else needs
                if not all(n in done for n in needs):
                    continue
                jobs[name] = self.run_job(name, job, {n: jobs[n] for n in needs})
                done.add(name)
                progressed = True
            if not progressed:
                raise StepError("job dependency cycle")
        tags = subprocess.run(["git", "--git-dir", str(self.origin), "tag"], capture_output=True, text=True,
                              check=True).stdout.split()
        return GhResult(jobs, self.artifacts, self.annotations, "\n".join(self.summary), self.canceled,
                        self.approvals, tags)

    # ------------------------------------------------------------------ a job

    def contexts(self, env: dict, needs: dict, matrix: dict, steps: dict, index: int) -> dict:
        return {
            "github": self.github, "env": env, "vars": self.vars, "inputs": self.inputs, "secrets": {},
            "matrix": matrix, "steps": steps, "runner": {"os": "Linux", "temp": str(self.run_dir)},
            "needs": {n: {"result": j.result, "outputs": j.outputs} for n, j in needs.items()},
            "strategy": {"job-index": index},
        }

    def status_functions(self, status: str, needs: dict) -> dict:
        return {
            "success": lambda: not self.canceled and status == "success"
            and all(j.result == "success" for j in needs.values()),
            "failure": lambda: status == "failure" or any(j.result == "failure" for j in needs.values()),
            "cancelled": lambda: self.canceled,
            "always": lambda: True,
        }

    def check(self, cond: Any, contexts: dict, status: str, needs: dict) -> bool:
        if cond is None:
            cond = "success()"
        text = str(cond).strip()
        if text.startswith("${{") and text.endswith("}}"):
            text = text[3:-2]
        funcs = self.status_functions(status, needs)
        if not any(f in text for f in ("success(", "failure(", "cancelled(", "always(")):
            text = f"success() && ({text})"
        return gh_expr.truthy(gh_expr.evaluate(text, contexts, funcs))

    def run_job(self, name: str, job: dict, needs: dict) -> GhJob:
        record = GhJob(name)
        base_env = {k: gh_expr.to_str(v) for k, v in (self.doc.get("env") or {}).items()}
        ctx0 = self.contexts(base_env, needs, {}, {}, 0)
        if self.canceled and not self.check(job.get("if"), ctx0, "success", needs):
            record.result = "cancelled"
            return record
        if not self.check(job.get("if"), ctx0, "success", needs):
            record.result = "skipped"
            return record
        if job.get("environment"):
            # Required reviewers on the environment: granted by the test.
            self.approvals.append(str(job["environment"]))
        legs = ((job.get("strategy") or {}).get("matrix") or {}).get("include") or [{}]
        # Matrix legs run side by side.
        with concurrent.futures.ThreadPoolExecutor(len(legs)) as pool:
            record.legs = list(pool.map(lambda il: self.run_leg(name, job, needs, il[1], il[0]), enumerate(legs)))
        results = [leg["result"] for leg in record.legs]
        for leg in record.legs:
            record.outputs.update(leg["outputs"])
        for r in ("cancelled", "failure"):
            if r in results:
                record.result = r
                break
        else:
            record.result = "success"
        return record

    def run_leg(self, name: str, job: dict, needs: dict, matrix: dict, index: int) -> dict:
        work = self.run_dir / f"{name}-{index}"
        workspace = work / "workspace"
        temp = work / "temp"
        temp.mkdir(parents=True)
        (work / "home").mkdir()
        files = {k: work / k for k in ("env", "output", "path", "summary")}
        for f in files.values():
            f.touch()
        env = {k: gh_expr.to_str(v) for k, v in (self.doc.get("env") or {}).items()}
        steps_ctx: dict = {}
        ctx = self.contexts(env, needs, matrix, steps_ctx, index)
        for k, v in (job.get("env") or {}).items():
            env[k] = gh_expr.to_str(gh_expr.interpolate(v, ctx))
        for k, v in list(env.items()):
            env[k] = gh_expr.to_str(gh_expr.interpolate(v, ctx))
        path_prefix: list[str] = []
        status = "success"
        leg_steps: list[GhStep] = []
        for i, step in enumerate(job.get("steps") or []):
            sid = step.get("id") or f"__{i}"
            sname = step.get("name") or step.get("uses") or (step.get("run") or "").splitlines()[0]
            ctx = self.contexts(env, needs, matrix, steps_ctx, index)
            if not self.check(step.get("if"), ctx, status, needs):
                leg_steps.append(GhStep(sname, "skipped", []))
                steps_ctx[sid] = {"outcome": "skipped", "conclusion": "skipped", "outputs": {}}
                continue
            log: list[str] = []
            outputs: dict = {}
            try:
                outcome = self.step(step, ctx, env, path_prefix, files, workspace, temp, log, outputs)
            except StepError as e:
                log.append(f"Error: {e}")
                self.annotations.append(f"error::{e}")
                outcome = "failure"
            leg_steps.append(GhStep(sname, outcome, log))
            steps_ctx[sid] = {"outcome": outcome, "conclusion": outcome, "outputs": outputs}
            if outcome == "cancelled":
                status = "cancelled"
            elif outcome == "failure" and not step.get("continue-on-error"):
                status = "failure" if status != "cancelled" else status
        # The runner empties RUNNER_TEMP after every job.
        shutil.rmtree(temp, ignore_errors=True)
        ctx = self.contexts(env, needs, matrix, steps_ctx, index)
        job_outputs = {k: gh_expr.to_str(gh_expr.interpolate(v, ctx)) for k, v in (job.get("outputs") or {}).items()}
        return {"matrix": matrix, "steps": leg_steps, "outputs": job_outputs, "result": status}

    def step(self, step: dict, ctx: dict, env: dict, path_prefix: list, files: dict, workspace: Path, temp: Path,
             log: list[str], outputs: dict) -> str:
        with_ = {k: gh_expr.to_str(gh_expr.interpolate(v, ctx)) for k, v in (step.get("with") or {}).items()}
        uses = step.get("uses")
        if uses and not uses.startswith(OWN_ACTIONS):
            return self.stand_in(uses, with_, workspace, log, outputs)
        step_env = dict(self.m.env)
        step_env.update(env)
        for k, v in (step.get("env") or {}).items():
            step_env[k] = gh_expr.to_str(gh_expr.interpolate(v, ctx))
        step_env.update({
            "GITHUB_ACTIONS": "true", "CI": "true", "GITHUB_WORKSPACE": str(workspace),
            "GITHUB_ENV": str(files["env"]), "GITHUB_OUTPUT": str(files["output"]),
            "GITHUB_PATH": str(files["path"]), "GITHUB_STEP_SUMMARY": str(files["summary"]),
            "GITHUB_RUN_ID": self.github["run_id"], "GITHUB_RUN_NUMBER": self.github["run_number"],
            "GITHUB_RUN_ATTEMPT": "1", "GITHUB_SHA": self.github["sha"], "GITHUB_EVENT_NAME": self.github["event_name"],
            "RUNNER_TEMP": str(temp), "TMPDIR": str(temp),
            # Every job (and matrix leg) runs on a fresh runner: a home of its own.
            "HOME": str(workspace.parent / "home"),
        })
        step_env["PATH"] = ":".join(path_prefix + [step_env["PATH"]])
        files["output"].write_text("")
        if uses:
            script = self.javascript_action(uses, with_, step_env, workspace)
        else:
            script = gh_expr.interpolate(step["run"], ctx)
        code, canceled = run_bash(script, step_env, workspace if workspace.exists() else temp, log, self.cancel,
                                  shell=["bash", "--noprofile", "--norc", "-e", "-o", "pipefail"], tmp=temp)
        if canceled:
            self.canceled = True
        # The runner reads the files after each step.
        outputs.update(read_kv(files["output"].read_text()))
        for k, v in read_kv(files["env"].read_text()).items():
            env[k] = v
        files["env"].write_text("")
        for line in files["path"].read_text().splitlines():
            if line.strip() and line not in path_prefix:
                path_prefix.insert(0, line.strip())
        files["path"].write_text("")
        self.summary.append(files["summary"].read_text())
        files["summary"].write_text("")
        for line in log:
            if line.startswith(("::error", "::warning", "::notice")):
                self.annotations.append(line[2:])
        return "cancelled" if canceled else ("success" if code == 0 else "failure")

    def javascript_action(self, uses: str, with_: dict, step_env: dict, workspace: Path) -> str:
        """The command that starts one of this repository's JavaScript actions, with its
        inputs in `step_env` as the runner passes them (INPUT_<NAME>, name upper-cased,
        spaces as `_`; an input not given gets its action.yml default)."""
        folder = REPO / uses[len(OWN_ACTIONS):].partition("@")[0]
        meta = yaml.safe_load((folder / "action.yml").read_text())
        runs = meta["runs"]
        if not str(runs.get("using", "")).startswith("node"):
            raise StepError(f"{uses}: runs.using {runs.get('using')!r} is not a JavaScript action")
        declared = meta.get("inputs") or {}
        unknown = set(with_) - set(declared)
        if unknown:
            raise StepError(f"{uses}: unexpected inputs {sorted(unknown)}")
        for name, spec in declared.items():
            value = with_.get(name, gh_expr.to_str((spec or {}).get("default", "")))
            step_env[f"INPUT_{name.replace(' ', '_').upper()}"] = value
        # The runner's tool cache: one per job (matrix leg), as every job gets a fresh runner.
        step_env["RUNNER_TOOL_CACHE"] = str(workspace.parent / "tool-cache")
        node = shutil.which("node")
        if not node:
            raise StepError("node not found: scripts/node-env.sh installs Node.js")
        return f"exec {shlex.quote(node)} {shlex.quote(str(folder / runs['main']))}\n"

    def stand_in(self, uses: str, with_: dict, workspace: Path, log: list[str], outputs: dict) -> str:
        if not uses.startswith(STAND_INS):
            raise StepError(f"no stand-in for {uses}")
        if uses.startswith("actions/checkout@"):
            shutil.copytree(self.sources, workspace, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".git"))
            git = ["git", "-C", str(workspace)]
            subprocess.run(git + ["init", "-q", "-b", "main"], check=True)
            subprocess.run(git + ["-c", "user.name=t", "-c", "user.email=t@example.com", "add", "-A"], check=True)
            subprocess.run(git + ["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "trigger"],
                           check=True)
            subprocess.run(git + ["remote", "add", "origin", str(self.origin)], check=True)
            self.github["sha"] = subprocess.run(git + ["rev-parse", "HEAD"], capture_output=True, text=True,
                                                check=True).stdout.strip()
            return "success"
        if uses.startswith("actions/cache@"):
            outputs["cache-hit"] = ""
            return "success"
        if uses.startswith("azure/login@"):
            for key in ("client-id", "tenant-id", "subscription-id"):
                if not with_.get(key):
                    raise StepError(f"azure/login: {key} is empty")
            subprocess.run(["az", "login", "--service-principal", "-u", with_["client-id"], "--tenant",
                            with_["tenant-id"], "--federated-token", "***"], env=self.m.env, check=True,
                           capture_output=True)
            log.append("Login successful.")
            return "success"
        if uses.startswith("actions/upload-artifact@"):
            paths = [p.strip() for p in with_.get("path", "").splitlines() if p.strip()]
            staged = self.run_dir / "upload" / with_["name"]
            found = False
            for p in paths:
                src = workspace / p
                if src.is_dir():
                    shutil.copytree(src, staged, dirs_exist_ok=True)
                    found = True
                elif src.is_file():
                    staged.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(src, staged / src.name)
                    found = True
            if not found:
                # if-no-files-found defaults to warn: no artifact.
                log.append(f"Warning: No files were found with the provided path: {with_.get('path')}")
                return "success"
            self.artifacts.publish(with_["name"], staged)
            return "success"
        if uses.startswith("actions/download-artifact@"):
            self.artifacts.download(with_["name"], workspace / with_.get("path", "."))
            return "success"
        raise StepError(f"no stand-in for {uses}")


def read_kv(text: str) -> dict:
    """NAME=value lines and NAME<<DELIM heredocs, as GITHUB_ENV and GITHUB_OUTPUT hold them."""
    out, lines, i = {}, text.splitlines(), 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delim = line.split("<<", 1)
            i += 1
            body = []
            while i < len(lines) and lines[i] != delim:
                body.append(lines[i])
                i += 1
            out[name] = "\n".join(body)
        elif "=" in line:
            k, v = line.split("=", 1)
            out[k] = v
        i += 1
    return out
