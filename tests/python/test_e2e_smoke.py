"""`aibc smoke-test` end to end: a VM from the new version in a throwaway group, the spec's
checks through Run Command, and the group deleted whatever happened (asserted by the request
log)."""

from __future__ import annotations

import pytest

import e2e
from test_e2e_run import SPEC, run, scenario

pytestmark = pytest.mark.e2e


@pytest.fixture
def built(make_env):
    def make(**extra):
        env = make_env(dict(scenario(), **extra))
        e2e.seed_example_prerequisites(env)
        assert env.aibc("deploy", SPEC, "-g", "rg-run", "--role-wait", "0s", "--image-version", "1.2.3").code == 0
        assert run(env).code == 0
        return env
    return make


def writes(env: e2e.Env) -> list[tuple[str, str]]:
    return [(q["method"], q["path"]) for q in env.requests()
            if q.get("source") == "client" and q["method"] in ("PUT", "DELETE", "POST") and q["status"] < 400]


def test_checks_pass_and_the_group_is_deleted(built):
    env = built()
    r = env.aibc("smoke-test", SPEC, "-g", "rg-run", "--test-resource-group", "rg-smoke-1")
    assert r.code == 0, r.output
    assert "3 of 3 check(s) passed" in r.stderr
    w = writes(env)
    vm = [p for m, p in w if m == "PUT" and "/virtualMachines/" in p]
    assert vm and "/resourceGroups/rg-smoke-1/" in vm[0]
    assert not [p for m, p in w if "publicIPAddresses" in p], "the test VM must have no public IP"
    assert ("DELETE", f"/subscriptions/{env.subscription}/resourceGroups/rg-smoke-1") in w
    assert env.get(f"/subscriptions/{env.subscription}/resourceGroups/rg-smoke-1", "2025-04-01") is None


def test_a_failing_check_fails_and_still_cleans_up(built):
    env = built(run_command={"fail": [2], "message": "sshd allows passwords"})
    r = env.aibc("smoke-test", SPEC, "-g", "rg-run", "--test-resource-group", "rg-smoke-2", extra_env={"TF_BUILD": "True"})
    assert r.code == 4, r.output
    assert "FAIL  SSH password login is off: sshd allows passwords" in r.stderr
    assert "##vso[task.logissue type=error]smoke test SSH password login is off failed" in r.stdout
    assert ("DELETE", f"/subscriptions/{env.subscription}/resourceGroups/rg-smoke-2") in writes(env)


def test_a_refused_vm_still_cleans_up(built):
    env = built()
    env.fake.update_scenario({"faults": [{"method": "PUT", "path": "*/virtualMachines/*", "status": 409,
                                          "code": "OperationNotAllowed", "message": "quota exceeded", "times": 0}]})
    r = env.aibc("smoke-test", SPEC, "-g", "rg-run", "--test-resource-group", "rg-smoke-3")
    assert r.code == 3, r.output
    assert "quota exceeded" in r.stderr
    assert ("DELETE", f"/subscriptions/{env.subscription}/resourceGroups/rg-smoke-3") in writes(env)
