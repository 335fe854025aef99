"""The az conventions and GitHub Actions output of the Azure commands, end to end against the
fake ARM: `status -o json` as one document and `-o table`, `--query` on run's summary,
`--template ID` alone, a subscription by name, `deploy --no-wait`, prune's plan with `--yes`,
and `run` under GITHUB_ACTIONS=true (groups, step outputs, job summary)."""

from __future__ import annotations

import json
import subprocess

import pytest

import e2e
from test_e2e_run import SPEC, deployed, run, scenario  # noqa: F401 (fixture)

pytestmark = pytest.mark.e2e


def bare(env: e2e.Env, *args: str, extra_env: dict | None = None) -> e2e.Result:
    """The binary with only the endpoint flags the fake needs: no -g, no --subscription."""
    cmd = [str(env.binary), *args, "--arm-endpoint", env.info["endpoint"], "--authority-host",
           env.info["authority_host"]]
    p = subprocess.run(cmd, cwd=e2e.REPO, env=env.env("client-secret", extra_env), capture_output=True, text=True,
                       timeout=120)
    env.outputs.append(p.stdout + p.stderr)
    return e2e.Result(p.returncode, p.stdout, p.stderr)


def test_status_prints_one_document_and_a_table(deployed):
    env = deployed()
    assert run(env).code == 0
    r = env.aibc("status", SPEC, "-g", "rg-run", "-o", "json")
    assert r.code == 0, r.output
    doc = json.loads(r.stdout)  # one document, not a stream
    assert doc["image"] == "ubuntu-2404-base" and doc["state"] == "Succeeded", doc
    assert doc["imageVersion"] == "1.2.3"
    assert doc["runOutputs"][0]["artifactId"].endswith("/versions/1.2.3")
    assert {r["state"] for r in doc["replication"]} == {"Completed"}
    t = env.aibc("status", SPEC, "-g", "rg-run", "-o", "table")
    lines = t.stdout.splitlines()
    assert lines[0].split()[:3] == ["Image", "ImageVersion", "State"], t.stdout
    assert lines[2].split()[:3] == ["ubuntu-2404-base", "1.2.3", "Succeeded"], t.stdout
    q = env.aibc("status", SPEC, "-g", "rg-run", "--query", "replication[].region", "-o", "tsv")
    assert q.code == 0 and q.stdout.splitlines() == ["West Europe", "North Europe"], q.output


def test_run_summary_with_a_query(deployed):
    env = deployed()
    r = run(env, "--query", "{version: imageVersion, result: result}", "-o", "json")
    assert r.code == 0, r.output
    assert json.loads(r.stdout) == {"version": "1.2.3", "result": "Succeeded"}
    assert "Running / Building" in r.stderr  # progress still shown, on standard error


def test_template_alone_needs_no_group_or_subscription_and_names_work(deployed):
    env = deployed()
    code, _, body = env.call("GET", f"/subscriptions/{env.subscription}/resourceGroups/rg-run/providers/"
                             "Microsoft.VirtualMachineImages/imageTemplates", api="2025-10-01")
    assert code == 200
    tid = body["value"][0]["id"]
    r = bare(env, "status", "--template", tid, "-o", "json")
    assert r.code == 0, r.output
    assert json.loads(r.stdout)["image"] == tid.rsplit("/", 1)[1]
    # A subscription by its display name, and az's defaults.group instead of -g.
    cfg = env.work / "azcfg"
    cfg.mkdir()
    (cfg / "config").write_text("[defaults]\ngroup = rg-run\n")
    code, _, subs = env.call("GET", "/subscriptions", api="2022-12-01")
    name = next(s["displayName"] for s in subs["value"] if s["subscriptionId"] == env.subscription)
    r = bare(env, "status", SPEC, "--subscription", name, "-o", "json",
             extra_env={"AZURE_CONFIG_DIR": str(cfg)})
    assert r.code == 0, r.output
    assert json.loads(r.stdout)["image"] == "ubuntu-2404-base"
    r = bare(env, "status", SPEC, "-g", "rg-run", "--subscription", "no such subscription")
    assert r.code == 1 and "no subscription named `no such subscription`" in r.stderr, r.output


def test_deploy_no_wait_returns_once_arm_accepted_the_template(make_env):
    env = make_env(scenario())
    e2e.seed_example_prerequisites(env)
    r = env.aibc("deploy", SPEC, "-g", "rg-nowait", "--role-wait", "0s", "--image-version", "1.2.3", "--no-wait",
                 "-o", "json")
    assert r.code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["deployment"] == "aibc-ubuntu-2404-base" and doc["imageVersion"] == "1.2.3", doc
    assert "not waiting" in r.stderr, r.stderr
    code, _, dep = env.call("GET", f"/subscriptions/{env.subscription}/resourceGroups/rg-nowait/providers/"
                            "Microsoft.Resources/deployments/aibc-ubuntu-2404-base", api="2025-04-01")
    assert code == 200 and dep["properties"]["parameters"]["deployImageTemplate"]["value"] is True, dep
    # The same deploy waiting afterwards finds its work done or finishes it.
    again = env.aibc("deploy", SPEC, "-g", "rg-nowait", "--role-wait", "0s", "--image-version", "1.2.3", "-o", "json")
    assert again.code == 0, again.output
    assert json.loads(again.stdout)["imageTemplateName"].startswith("ubuntu-2404-base-")


def test_prune_plan_document_with_yes(deployed):
    env = deployed()
    assert run(env).code == 0
    r = env.aibc("prune", SPEC, "-g", "rg-run", "--keep", "1", "--yes", "-o", "json")
    assert r.code == 0, r.output
    plan = json.loads(r.stdout)
    assert [(p["version"], p["action"], p["reason"]) for p in plan] == [("1.2.3", "keep", "latest")], plan


def test_github_actions_groups_outputs_and_summary(deployed):
    env = deployed()
    out, summary = env.work / "gh-output", env.work / "gh-summary.md"
    r = run(env, extra_env={"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(out), "GITHUB_STEP_SUMMARY": str(summary)})
    assert r.code == 0, r.output
    lines = r.stdout.splitlines()
    assert "::group::ubuntu-2404-base: Building" in lines, r.stdout
    assert "::endgroup::" in lines
    outputs = out.read_text().splitlines()
    assert "image-version=1.2.3" in outputs, outputs
    assert any(o.startswith("gallery-image-version-id=/subscriptions/") for o in outputs), outputs
    md = summary.read_text()
    assert md.startswith("### aibc: ubuntu-2404-base — Succeeded"), md
    assert "| Customizing |" in md and "| region | state | progress |" in md, md


def ask_in_a_terminal(env: e2e.Env, answer: str, *args: str) -> tuple[int, str]:
    """Runs aibc with a pseudo-terminal on stdin and stderr, answering its question."""
    import os
    import pty
    import select

    cmd = [str(env.binary), *args, "--arm-endpoint", env.info["endpoint"], "--authority-host",
           env.info["authority_host"], "--subscription", env.subscription]
    leader, follower = pty.openpty()
    p = subprocess.Popen(cmd, cwd=e2e.REPO, env=env.env(), stdin=follower, stdout=subprocess.PIPE, stderr=follower)
    os.close(follower)
    seen, answered = b"", False
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            p.kill()
            break
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the process closed the terminal
            break
        if not chunk:
            break
        seen += chunk
        if not answered and b"(y/n):" in seen:
            os.write(leader, answer.encode() + b"\n")
            answered = True
    p.wait(timeout=120)
    os.close(leader)
    text = seen.decode(errors="replace")
    env.outputs.append(text)
    return p.returncode, text


def test_prune_asks_in_a_terminal(deployed):
    env = deployed()
    assert run(env).code == 0
    code, text = ask_in_a_terminal(env, "n", "prune", SPEC, "-g", "rg-run", "--keep", "1")
    assert code == 10 and "Are you sure you want to perform this operation? (y/n):" in text, text
    assert "nothing was deleted" in text and "signed in" not in text, text
    code, text = ask_in_a_terminal(env, "y", "prune", SPEC, "-g", "rg-run", "--keep", "1")
    assert code == 0 and "keep 1.2.3 (latest)" in text, text


def test_only_show_errors_and_debug(deployed):
    env = deployed()
    quiet = env.aibc("status", SPEC, "-g", "rg-run", "--only-show-errors")
    assert quiet.code == 0 and "signed in" not in quiet.stderr, quiet.output
    loud = env.aibc("status", SPEC, "-g", "rg-run", "--debug")
    assert loud.code == 0 and "[http] GET" in loud.stderr, loud.output
    assert "Bearer" not in loud.stderr


def test_the_azure_cli_current_subscription_is_used_with_auth_cli(make_env):
    other = "0f0f0f0f-1111-4222-8333-444444444444"
    env = make_env(dict(scenario(), subscriptions=[
        {"id": e2e.EXAMPLES_SUBSCRIPTION, "displayName": "platform images"},
        {"id": other, "displayName": "sandbox"}]))
    e2e.seed_example_prerequisites(env)
    assert env.aibc("deploy", SPEC, "-g", "rg-cli", "--role-wait", "0s", "--image-version", "1.2.3").code == 0

    def status(cfg_dir) -> e2e.Result:
        cmd = [str(env.binary), "status", SPEC, "-g", "rg-cli", "-o", "json", "--arm-endpoint", env.info["endpoint"],
               "--authority-host", env.info["authority_host"]]
        p = subprocess.run(cmd, cwd=e2e.REPO, env=env.env("cli", {"AZURE_CONFIG_DIR": str(cfg_dir)}),
                           capture_output=True, text=True, timeout=120)
        env.outputs.append(p.stdout + p.stderr)
        return e2e.Result(p.returncode, p.stdout, p.stderr)

    empty = env.work / "az-empty"
    empty.mkdir()
    r = status(empty)
    assert r.code == 1 and "sees 2 subscriptions" in r.stderr, r.output
    # `az account set` writes isDefault into azureProfile.json (with a byte order mark).
    cfg = env.work / "az-profile"
    cfg.mkdir()
    profile = {"subscriptions": [{"id": other, "isDefault": False},
                                 {"id": e2e.EXAMPLES_SUBSCRIPTION, "isDefault": True}]}
    (cfg / "azureProfile.json").write_text("\ufeff" + json.dumps(profile), encoding="utf-8")
    r = status(cfg)
    assert r.code == 0, r.output
    assert json.loads(r.stdout)["image"] == "ubuntu-2404-base"


def test_clean_plan_document(deployed):
    env = deployed()
    first = json.loads(env.aibc("deploy", SPEC, "-g", "rg-run", "--role-wait", "0s", "--image-version", "1.2.3",
                                "-o", "json").stdout)["imageTemplateName"]
    r = env.aibc("deploy", SPEC, "-g", "rg-run", "--role-wait", "0s", "--image-version", "1.2.4")
    assert r.code == 0, r.output
    dry = env.aibc("clean", SPEC, "-g", "rg-run", "--dry-run", "-o", "json")
    assert dry.code == 0, dry.output
    assert json.loads(dry.stdout) == [
        {"image": "ubuntu-2404-base", "kind": "imageTemplate", "name": first, "action": "wouldDelete"}]
    done = env.aibc("clean", SPEC, "-g", "rg-run", "--yes", "--query", "[?kind=='imageTemplate'].name", "-o", "tsv")
    assert done.code == 0 and done.stdout.split() == [first], done.output


def test_github_actions_annotates_an_azure_refusal(make_env):
    env = make_env(e2e.example_scenario(retry_after=0, lro={"default": {"polls": 1, "retry_after": 0}}))
    e2e.seed_example_prerequisites(env)
    env.fake.update_scenario({"resource_failures": [{
        "type": "Microsoft.Compute/galleries/images", "name": "*", "phase": "put",
        "code": "GalleryImageQuotaExceeded", "message": "The gallery has reached its image definition quota."}]})
    r = env.aibc("deploy", SPEC, "-g", "rg-fail", "--role-wait", "0s", extra_env={"GITHUB_ACTIONS": "true"})
    assert r.code == 3, r.output
    errors = [l for l in r.stdout.splitlines() if l.startswith("::error title=aibc::")]
    assert len(errors) == 1 and "GalleryImageQuotaExceeded" in errors[0], r.stdout
    assert "\n" not in errors[0] and "%0A" in errors[0]  # the whole message, on one line
