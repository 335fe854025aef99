#!/usr/bin/env bash
# The whole test suite, as CI runs it. Installs what the tests need by itself (a Python venv
# with the Bicep parser, JSON Schema validator and YAML library from PyPI; Azurite from npm),
# then runs:
#   style (rustfmt, clippy) → Rust tests (unit, golden, bad input, properties) →
#   Python: generated templates (ARM schema, Bicep ≡ ARM), library scripts, pipelines, and the
#   binary end to end against the fake ARM and Azurite (deploy, run, smoke-test).
# Azure specs for the schema checks come from $AIBC_AZURE_SPECS or ../shared/azure-specs.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "rustfmt"
cargo fmt --all -- --check

step "clippy"
cargo clippy --all-targets --quiet -- -D warnings

step "cargo test"
cargo test --all-targets --quiet 2>&1 | tee target/cargo-test.log

step "fuzz targets (stable; shares target/, so only libFuzzer and the targets build) and a short soak"
cargo fmt --manifest-path fuzz/Cargo.toml -- --check
CARGO_TARGET_DIR=target cargo clippy --manifest-path fuzz/Cargo.toml --all-targets --quiet -- -D warnings
CARGO_TARGET_DIR=target cargo build --manifest-path fuzz/Cargo.toml --bins --quiet
target/debug/soak --inputs 2000 --seconds 60

step "Debian tools the tests drive (pipeline runner: jq, curl, strip; hostile-input suite: strace)"
need=()
for pair in jq:jq curl:curl strip:binutils strace:strace; do
  command -v "${pair%%:*}" >/dev/null || need+=("${pair#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && apt-get install -y -qq "${need[@]}"
  else
    echo "test.sh: missing ${need[*]}; install them (Debian: apt-get install ${need[*]})" >&2
    exit 1
  fi
fi

step "python environment"
py=$(scripts/py-env.sh | tail -n 1)

step "Python checks and end-to-end tests (fake ARM + Azurite)"
"$py" -m pytest -q tests/python
