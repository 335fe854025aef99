"""`aibc run` / `status` / `cancel` / `logs` end to end, with the build lifecycle scripted in
the fake ARM (tests/fake_arm/aib.py: one sub-state per observation unless told otherwise)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest

import e2e

pytestmark = pytest.mark.e2e

SPEC = "examples/ubuntu-2404-apt/image.yaml"
RUN_LRO = "Microsoft.VirtualMachineImages/imageTemplates:run"


def scenario(**runs) -> dict:
    return e2e.example_scenario(
        retry_after=0,
        lro={"default": {"polls": 1, "retry_after": 0}, RUN_LRO: {"polls": 1, "retry_after": 1}},
        runs={"default": dict({"polls_per_step": 1}, **runs)},
        replication={"polls": 1})


@pytest.fixture
def deployed(make_env):
    def make(**runs):
        env = make_env(scenario(**runs))
        e2e.seed_example_prerequisites(env)
        r = env.aibc("deploy", SPEC, "-g", "rg-run", "--role-wait", "0s", "--image-version", "1.2.3")
        assert r.code == 0, r.output
        return env
    return make


def run(env: e2e.Env, *extra: str, **kw) -> e2e.Result:
    return env.aibc("run", SPEC, "-g", "rg-run", "--metadata", str(env.work / "image-version.json"),
                    "--logs-dir", str(env.work / "logs"), *extra, **kw)


def test_a_successful_build_is_followed_to_the_last_replica(deployed):
    env = deployed()
    r = run(env)
    assert r.code == 0, r.output
    for phase in ("Queued", "Building", "Customizing", "Distributing"):
        assert f"Running / {phase}" in r.stderr, r.stderr
    assert "Succeeded" in r.stderr
    assert "run output ubuntu-2404-base-gallery ->" in r.stderr
    assert "replication West Europe Completed 100%" in r.stderr or "replication westeurope Completed" in r.stderr.lower()
    meta = json.loads((env.work / "image-version.json").read_text())
    assert meta["imageVersion"] == "1.2.3"
    assert meta["galleryImageVersionId"].endswith("/versions/1.2.3")
    assert meta["runState"] == "Succeeded" and meta["specHash"]
    assert meta["runOutputs"][0]["name"] == "ubuntu-2404-base-gallery"


def test_a_failed_customizer_is_named_with_its_log(deployed):
    env = deployed(fail_at="Customizing", step_output=["apt-get: E: Unable to locate package nginxx"])
    r = run(env)
    assert r.code == 4, r.output
    assert "failed" in r.stderr
    assert "last lines of customization.log" in r.stderr, r.stderr
    assert "Unable to locate package nginxx" in r.stderr
    assert list((env.work / "logs").glob("*customization.log"))
    logs = env.aibc("logs", SPEC, "-g", "rg-run", "--out", str(env.work / "logs2"))
    assert logs.code == 0, logs.output
    assert "nginxx" in next((env.work / "logs2").glob("*customization.log")).read_text()


def test_partial_success_under_azure_devops(deployed):
    env = deployed(result="PartiallySucceeded")
    r = run(env, extra_env={"TF_BUILD": "True"})
    assert r.code == 5, r.output
    lines = r.stdout.splitlines()
    assert "##vso[task.setvariable variable=IMAGE_VERSION;isOutput=true]1.2.3" in lines, r.stdout
    assert "##[group]ubuntu-2404-base: Building" in lines
    assert "##[endgroup]" in lines
    assert any(l.startswith("##vso[task.setprogress value=") for l in lines)
    assert any(l.startswith("##vso[task.logissue type=warning]ubuntu-2404-base: partially succeeded") for l in lines)
    assert "##vso[task.complete result=SucceededWithIssues;]ubuntu-2404-base partially succeeded" in lines
    assert any(l.startswith("##vso[artifact.upload artifactname=image-metadata]") for l in lines)


def test_json_events_carry_the_same_facts(deployed):
    env = deployed()
    r = run(env, "--output", "json")
    assert r.code == 0, r.output
    events = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
    kinds = [e["event"] for e in events]
    assert kinds[0] in ("version", "started") and kinds[-1] == "finished"
    phases = [e["subState"] for e in events if e["event"] == "phase"]
    assert phases[:2] == ["Queued", "Building"]
    assert events[-1]["result"] == "Succeeded" and events[-1]["exitCode"] == 0
    assert any(e["event"] == "output" and e["output"]["artifactId"].endswith("/versions/1.2.3") for e in events)
    assert any(e["event"] == "replication" and e["region"]["state"] == "Completed" for e in events)
    # Every record matches the published schema of the stream (schema/events.schema.json).
    import jsonschema
    schema = json.loads((e2e.REPO / "schema" / "events.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    for e in events:
        assert e["schemaVersion"] == 1 and e["time"].endswith("Z")
        assert not list(validator.iter_errors(e)), (e, [x.message for x in validator.iter_errors(e)])


def test_a_lagging_region_and_a_failed_one_are_reported(make_env):
    env = make_env(dict(scenario(), replication={"polls": 1, "regions": {
        "northeurope": {"polls": 4, "final": "Failed"}}}))
    e2e.seed_example_prerequisites(env)
    assert env.aibc("deploy", SPEC, "-g", "rg-run", "--role-wait", "0s", "--image-version", "1.2.3").code == 0
    r = run(env)
    assert r.code in (4, 5), r.output
    assert "Replicating" in r.stderr, r.stderr
    assert "North Europe Failed" in r.stderr or "northeurope Failed" in r.stderr, r.stderr


def test_a_second_run_attaches_and_cancel_stops_it(deployed):
    env = deployed(polls_per_step=30)
    started = run(env, "--no-wait")
    assert started.code == 0, started.output
    attached = run(env, "--timeout", "3s")
    assert "already running" in attached.stderr, attached.output
    assert attached.code == 6 and "aibc status" in attached.stderr
    runs = [q for q in env.requests() if q["method"] == "POST" and q["path"].endswith("/run")]
    assert len(runs) == 1, "the second `run` must not start another build"
    cancel = env.aibc("cancel", SPEC, "-g", "rg-run")
    assert cancel.code == 0, cancel.output
    status = env.aibc("status", SPEC, "-g", "rg-run")
    assert status.code == 7 and "Canceled" in status.stderr, status.output


def test_ctrl_c_stops_following_and_status_resumes(deployed):
    env = deployed(polls_per_step=30)
    cmd = [str(env.binary), "run", SPEC, "-g", "rg-run", "--arm-endpoint", env.info["endpoint"],
           "--authority-host", env.info["authority_host"], "--subscription", env.subscription]
    p = subprocess.Popen(cmd, cwd=e2e.REPO, env=env.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 30
    while time.time() < deadline and not [q for q in env.requests() if q["path"].endswith("/run")]:
        time.sleep(0.2)
    time.sleep(1.5)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=30)
    env.outputs.append(out + err)
    assert p.returncode == 130, err
    assert "aibc status" in err and "aibc run" in err
    status = env.aibc("status", SPEC, "-g", "rg-run")
    assert status.code == 0 and "Running" in status.stderr, status.output
    assert not [q for q in env.requests() if q["path"].endswith("/cancel")], "Ctrl-C must not cancel the build"


def test_timeout_exits_6_and_leaves_the_build_running(deployed):
    env = deployed(polls_per_step=50)
    r = run(env, "--timeout", "2s")
    assert r.code == 6, r.output
    assert "the build goes on" in r.stderr
