#!/usr/bin/env bash
# The whole test suite, as CI runs it. Installs what the tests need (a Python venv with
# the Bicep parser and JSON Schema validator from PyPI) by itself, then runs:
#   style (rustfmt, clippy) → Rust tests (unit, golden, bad input, properties) →
#   Python checks of the generated templates (ARM schema, Bicep ≡ ARM).
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

step "python environment"
py=$(scripts/py-env.sh | tail -n 1)

step "generated templates: ARM schema and Bicep/ARM equivalence"
"$py" -m pytest -q tests/python
