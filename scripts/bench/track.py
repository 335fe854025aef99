"""Benchmark of `aibc run`'s following against the fake ARM with scripted durations.

A 60-minute build is played at 60x (one second stands for one minute): Queued 1 min,
Building 4, Customizing 40, Validating 5, Distributing 10. The service answers the run with
Retry-After 60 s (1 s here). Baseline, measured in the same run: a fixed 30-second poll of the
template (0.5 s here), what `az image builder wait` does.

Reported: ARM reads and the delay between each state change and the first read that sees it
(in build minutes), for aibc and the baseline; then N images followed by one aibc process
against one image: wall time ratio and reads per image.

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


def changes_and_reads(log: list[dict], template: str, started: float) -> tuple[list[float], int]:
    """Detection delay (build minutes) of each scripted change, and the reads spent."""
    t = template.lower()
    version = f"/versions/1.0.{int(template.rsplit('-', 1)[-1])}"
    reads = [q for q in log if q["method"] == "GET" and q.get("source") == "client" and q["time"] >= started
             and (q["path"].lower() == t or q["path"].lower().startswith(t + "/")
                  or "/galleries/" in q["path"].lower() and q["path"].lower().endswith(version))]
    gets = [q["time"] for q in log if q["method"] == "GET" and q["path"].lower() == t and q["time"] >= started]
    delays, at = [], started
    for _, minutes in PHASES:
        at += minutes * 60 / SCALE
        seen = next((g for g in gets if g >= at), None)
        if seen is not None:
            delays.append((seen - at) * SCALE / 60)
    return delays, len(reads)


def baseline(env: e2e.Env, template: str) -> tuple[list[float], int, float]:
    status, headers, _ = env.call("POST", template + "/run", {}, "2025-10-01")
    assert status == 202, status
    started = time.time()
    while True:
        time.sleep(BASELINE_POLL)
        _, _, t = env.call("GET", template, api="2025-10-01")
        state = t["properties"].get("lastRunStatus", {}).get("runState")
        if state not in ("Running", None):
            break
    delays, reads = changes_and_reads(env.requests(), template, started)
    return delays, reads, time.time() - started


def follow(env: e2e.Env, templates: list[str]) -> tuple[float, list[tuple[list[float], int]]]:
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
        ids = seed(env, args.images + 2)
        b_delays, b_reads, _ = baseline(env, ids[0])
        wall1, [(a_delays, a_reads)] = follow(env, [ids[1]])
        walln, many = follow(env, ids[2:])
    finally:
        fake.stop()
    minutes = sum(m for _, m in PHASES)
    print(f"one {minutes}-minute build ({len(PHASES)} state changes), Retry-After 60 s:")
    print(f"  baseline fixed 30 s poll: {b_reads} reads, detection delay max {max(b_delays):.1f} min, "
          f"mean {statistics.mean(b_delays):.2f} min")
    print(f"  aibc:                     {a_reads} reads, detection delay max {max(a_delays):.1f} min, "
          f"mean {statistics.mean(a_delays):.2f} min")
    print(f"  reads ratio aibc/baseline: {a_reads / b_reads:.2f} (target <= 0.5); every change seen within "
          f"one Retry-After: {max(a_delays) <= RETRY_AFTER * SCALE / 60 + 0.05}")
    per_image = [r for _, r in many]
    print(f"{args.images} images followed by one process: wall {walln:.1f} s vs one image {wall1:.1f} s -> "
          f"{walln / wall1:.2f}x (target <= 1.2x); reads per image {statistics.mean(per_image):.1f} "
          f"(one image: {a_reads})")
    json.dump({"baseline_reads": b_reads, "aibc_reads": a_reads, "wall_one": wall1, "wall_many": walln,
               "reads_per_image": statistics.mean(per_image)}, open(work / "result.json", "w"))


if __name__ == "__main__":
    main()
