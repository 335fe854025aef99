#!/usr/bin/env bash
# Benchmarks, reported as ratios against baselines measured in the same run.
#  1. Process level: `aibc compile` of a typical spec vs. a process that only reads it.
#  2. In process (criterion): compile vs. read+parse, and 1,000 specs.
#  3. Run tracking (scripts/bench/track.py): ARM reads and detection delay vs. a fixed poll.
set -euo pipefail
cd "$(dirname "$0")/.."
spec=examples/windows-2022-iis/image.yaml
cargo build --release --quiet
rustc -O --edition 2021 scripts/bench/read_floor.rs -o target/release/read-floor
if ! command -v hyperfine >/dev/null; then
  (apt-get update -qq && apt-get install -y -qq hyperfine) >/dev/null 2>&1 || { echo "hyperfine is needed (apt-get install hyperfine)"; exit 1; }
fi
out=$(mktemp -d)
hyperfine -N --warmup 50 --runs 300 --export-json "$out/h.json" \
  "target/release/read-floor $spec" \
  "target/release/aibc compile $spec --out $out/bicep" >/dev/null
python3 - "$out/h.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
floor, aibc = r[0]["mean"], r[1]["mean"]
print(f"process: read-only floor {floor*1e3:.2f} ms, aibc compile {aibc*1e3:.2f} ms -> {aibc/floor:.2f}x the floor (target <= 2x)")
PY
cargo bench --quiet --bench compile -- --noplot 2>&1 | grep -E "^(typical|1000)|time:" 
rm -rf "$out"

# 3. Following a build (`aibc run`) against the fake ARM with scripted durations, against a
#    fixed 30-second poll measured in the same run; then 50 images in one process.
py=$(scripts/py-env.sh | tail -n 1)
"$py" scripts/bench/track.py --images 50
