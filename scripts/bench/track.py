"""Benchmark of `aibc run`'s following against the fake ARM with scripted durations.

A 60-minute build is played at 60x (one second stands for one minute): Queued 1 min,
Building 4, Customizing 40, Validating 5, Distributing 10. The service answers the run with
Retry-After 60 s (1 s here). Two baselines, measured in the same run, both polling every 30 s
(0.5 s here):

  A. the run state only: what `az image builder wait` does;
  B. the same facts aibc reports: the run state, the gallery version's replication while
     AIB distributes, and the run outputs at the end.

A reports neither replication nor outputs, so aibc's reads are compared like for like: its
run-state reads against A, all its reads against B. (At Retry-After 60 s against a 30 s poll,
honouring Retry-After is exactly half of A's reads, so any read A does not make at all puts
"all of aibc's reads against A" over one half whatever the schedule; that figure is printed
too.)

Reported: ARM reads by kind and the delay between each state change and the first read that
sees it (in build minutes); then N images followed by one aibc process against one image:
wall time ratio and reads per image.

Usage: python scripts/bench/track.py [--images 50]   (scripts/bench.sh runs it)
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "python"))

import e2e  # noqa: E402
from fake_arm import FakeArm  # noqa: E402

SCALE = 60  # build seconds per real second
PHASES = [("Queued", 1), ("Building", 4), ("Customizing", 40), ("Validating", 5), ("Distributing", 10)]
RETRY_AFTER = 1  # real seconds = 60 build seconds
BASELINE_POLL = 30 / SCALE
TEMPLATES = "Microsoft.VirtualMachineImages/imageTemplates"


def scenario() -> dict:
    return e2e.example_scenario(
        retry_after=0,
        lro={"default": {"polls": 1, "retry_after": 0}, f"{TEMPLATES}:run": {"polls": 1, "retry_after": RETRY_AFTER}},
        # Distributing is replication: the gallery version replicates for about that long
        # (one observation a second), and the run ends when it has.
        runs={"default": {"substates": [p for p, _ in PHASES],
                          "durations": dict({p: m * 60 / SCALE for p, m in PHASES}, Distributing=0.5)}},
        replication={"seconds": dict(PHASES)["Distributing"] * 60 / SCALE},
        aib={"check_permissions": False})


def seed(env: e2e.Env, count: int) -> list[str]:
    sub = env.subscription
    rg = f"/subscriptions/{sub}/resourceGroups/rg-bench"
    env.rg("rg-bench")
    identity = f"{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-bench"
    env.put(identity, {"location": "westeurope"}, "2024-11-30")
    gallery = f"{rg}/providers/Microsoft.Compute/galleries/gal_bench"
    env.put(gallery, {"location": "westeurope"}, "2025-03-03")
    env.put(f"{gallery}/images/bench", {"location": "westeurope", "properties": {
        "osType": "Linux", "osState": "Generalized", "hyperVGeneration": "V2",
        "identifier": {"publisher": "contoso", "offer": "bench", "sku": "base"}}}, "2025-03-03")
    ids = []
    for i in range(count):
        tid = f"{rg}/providers/{TEMPLATES}/bench-{i:03d}"
        env.put(tid, {"location": "westeurope", "identity": {"type": "UserAssigned",
                                                             "userAssignedIdentities": {identity: {}}},
                      "properties": {
                          "source": {"type": "PlatformImage", "publisher": "Canonical", "offer": "ubuntu-24_04-lts",
                                     "sku": "server", "version": "latest"},
                          "validate": {"inVMValidations": [{"type": "Shell", "name": "ok", "inline": ["true"]}]},
                          "distribute": [{"type": "SharedImage", "runOutputName": f"bench-{i}",
                                          "galleryImageId": f"{gallery}/images/bench/versions/1.0.{i}",
                                          "targetRegions": [{"name": "westeurope", "replicaCount": 1}]}]}},
                "2025-10-01")
        ids.append(tid)
    return ids


def changes_and_reads(log: list[dict], template: str, started: float) -> tuple[list[float], dict[str, int]]:
    """Detection delay (build minutes) of each scripted change, and the reads spent, by kind."""
    t = template.lower()
    version = f"/versions/1.0.{int(template.rsplit('-', 1)[-1])}"
    reads = {"run state": 0, "replication": 0, "run outputs": 0}
    gets = []
    for q in log:
        if q["method"] != "GET" or q.get("source") != "client" or q["time"] < started:
            continue
        path = q["path"].lower()
        if path == t:
            reads["run state"] += 1
            gets.append(q["time"])
        elif path.startswith(t + "/runoutputs"):
            reads["run outputs"] += 1
        elif "/galleries/" in path and path.endswith(version):
            reads["replication"] += 1
    delays, at = [], started
    for _, minutes in PHASES:
        at += minutes * 60 / SCALE
        seen = next((g for g in gets if g >= at), None)
        if seen is not None:
            delays.append((seen - at) * SCALE / 60)
    return delays, reads


def baseline(env: e2e.Env, template: str, same_facts: bool) -> tuple[list[float], dict[str, int]]:
    """A fixed 30-second poll: of the run state only, or of everything aibc reports."""
    _, _, t = env.call("GET", template, api="2025-10-01")
    version = t["properties"]["distribute"][0]["galleryImageId"]
    status, _, _ = env.call("POST", template + "/run", {}, "2025-10-01")
    assert status == 202, status
    started = time.time()
    replicated = False
    while True:
        time.sleep(BASELINE_POLL)
        _, _, t = env.call("GET", template, api="2025-10-01")
        run = t["properties"].get("lastRunStatus", {})
        if same_facts and run.get("runSubState") == "Distributing" and not replicated:
            replicated = completed(env, version)
        if run.get("runState") not in ("Running", None):
            break
    if same_facts:
        env.call("GET", template + "/runOutputs", api="2025-10-01")
        while not replicated:
            replicated = completed(env, version)
            if not replicated:
                time.sleep(BASELINE_POLL)
    return changes_and_reads(env.requests(), template, started)


def completed(env: e2e.Env, version: str) -> bool:
    status, _, v = env.call("GET", version + "?$expand=ReplicationStatus", api="2025-03-03")
    if status != 200:
        return False
    summary = v.get("properties", {}).get("replicationStatus", {}).get("summary", [])
    return bool(summary) and all(r.get("state") == "Completed" for r in summary)


def follow(env: e2e.Env, templates: list[str]) -> tuple[float, list[tuple[list[float], dict[str, int]]]]:
    args = ["run", "-g", "rg-bench", "--metadata", str(env.work / "m.json"), "--logs-dir", str(env.work / "logs")]
    for t in templates:
        args += ["--template", t]
    started = time.time()
    r = env.aibc(*args, timeout=600)
    wall = time.time() - started
    assert r.code == 0, r.output
    log = env.requests()
    return wall, [changes_and_reads(log, t, started) for t in templates]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--images", type=int, default=50)
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="aibc-bench-"))
    ca = work / "ca"
    e2e.make_ca(ca)
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "aibc"], cwd=REPO, check=True)
    binary = REPO / "target" / "release" / "aibc"
    fake = FakeArm(work / "fake", scenario(), ca_dir=ca)
    try:
        env = e2e.Env(binary, fake, work)
        ids = seed(env, args.images + 3)
        a_delays, a_reads = baseline(env, ids[0], same_facts=False)
        b_delays, b_reads = baseline(env, ids[1], same_facts=True)
        wall1, [(delays, reads)] = follow(env, [ids[2]])
        walln, many = follow(env, ids[3:])
    finally:
        fake.stop()
    minutes = sum(m for _, m in PHASES)

    def line(name: str, d: list[float], r: dict[str, int]) -> str:
        kinds = ", ".join(f"{n} {c}" for n, c in r.items() if c)
        return (f"  {name:<44} {sum(r.values()):>4} reads ({kinds}); detection delay max {max(d):.1f} min, "
                f"mean {statistics.mean(d):.2f} min")

    print(f"one {minutes}-minute build ({len(PHASES)} state changes), Retry-After 60 s:")
    print(line("A: fixed 30 s poll of the run state", a_delays, a_reads))
    print(line("B: fixed 30 s poll of the same facts as aibc", b_delays, b_reads))
    print(line("aibc", delays, reads))
    total, a_total, b_total = sum(reads.values()), sum(a_reads.values()), sum(b_reads.values())
    print(f"  run-state reads, aibc/A: {reads['run state'] / a_reads['run state']:.2f}; all reads, aibc/B: "
          f"{total / b_total:.2f} (target <= 0.5); all reads against A, which reports neither replication nor "
          f"outputs: {total / a_total:.2f}")
    print(f"  every change seen within one Retry-After: {max(delays) <= RETRY_AFTER * SCALE / 60 + 0.05}")
    per_image = [sum(r.values()) for _, r in many]
    print(f"{args.images} images followed by one process: wall {walln:.1f} s vs one image {wall1:.1f} s -> "
          f"{walln / wall1:.2f}x (target <= 1.2x); reads per image {statistics.mean(per_image):.1f} "
          f"(one image: {total})")
    json.dump({"baseline_a": a_reads, "baseline_b": b_reads, "aibc": reads, "wall_one": wall1, "wall_many": walln,
               "reads_per_image": statistics.mean(per_image)}, open(work / "result.json", "w"))


if __name__ == "__main__":
    main()
