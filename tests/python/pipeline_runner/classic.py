"""Runs the classic task group (pipelines/classic/task-group.json) as a build pipeline's
agent job runs it: its tasks in order, each with the group's declared inputs substituted
for `$(input)` in its inputs and environment, its condition, enabled flag and
continueOnError, on the same agent as the YAML runner."""

from __future__ import annotations

import json
from pathlib import Path

from .ado import AdoResult, AdoRunner, JobRecord, StepError
from .agent import Cancel

# Task ids of the tasks the group uses (their task.json in ../shared/azure-pipelines/tasks).
TASKS = {
    "d53ccab4-555e-4494-9d06-11db043fb4a9": "Cache",
    "6c731c3c-3c68-459a-a5c9-bde6e6595b5b": "Bash",
    "ecdc45f6-832d-4ad9-b52b-ee49e94659be": "PublishPipelineArtifact",
    "46e4be58-730b-4389-8a2f-ea10b3e5e815": "AzureCLI",
}


class ClassicRunner(AdoRunner):
    def run_group(self, group_file: Path, inputs: dict, cancel: Cancel | None = None) -> AdoResult:
        group = json.loads(group_file.read_text())
        values = {}
        for decl in group["inputs"]:
            name = decl["name"]
            value = inputs.get(name, decl.get("defaultValue", ""))
            if decl.get("required") and value == "":
                raise StepError(f"task group input {name} is required")
            values[name] = value
        unknown = set(inputs) - set(values)
        if unknown:
            raise StepError(f"the task group has no inputs {sorted(unknown)}")
        self.macros_only = values
        steps = []
        for t in group["tasks"]:
            if not t.get("enabled", True):
                continue
            major = t["task"]["versionSpec"].split(".")[0]
            inputs_ = dict(t["inputs"])
            # The classic AzureCLI@2 input is the connection's name in the designer.
            if "connectedServiceNameARM" in inputs_:
                inputs_["azureSubscription"] = inputs_.pop("connectedServiceNameARM")
            if TASKS[t["task"]["id"]] == "PublishPipelineArtifact":
                inputs_ = {"targetPath": inputs_["path"], "artifact": inputs_["artifactName"]}
            steps.append({
                "task": f"{TASKS[t['task']['id']]}@{major}", "displayName": t["displayName"], "inputs": inputs_,
                "env": t.get("environment") or {}, "condition": t.get("condition") or "succeeded()",
                "continueOnError": t.get("continueOnError", False),
            })
        self.start(cancel)
        record = JobRecord("Build", "Job_1")
        self.jobs["Build.Job_1"] = record
        self.run_job(record, {"job": "Job_1", "steps": [{"checkout": "self"}] + steps}, {})
        self.stage_results["Build"] = record.result
        return self.result()
