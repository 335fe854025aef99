"""Every ARM template aibc generates for the examples (the committed golden outputs, which
tests/golden.rs keeps current) validates against the ARM deployment-template schema and the
resource schemas in shared/azure-specs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import arm_schema

REPO = Path(__file__).resolve().parents[2]
TEMPLATES = sorted((REPO / "tests/golden").glob("*/arm/**/azuredeploy.json"))


def test_there_are_golden_templates():
    assert len(TEMPLATES) >= 6, TEMPLATES


@pytest.fixture(scope="module")
def checker(specs_dir):
    return arm_schema.Checker(arm_schema.SchemaSet(specs_dir), strict=True)


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(REPO / "tests/golden")))
def test_generated_template_is_schema_valid(checker, path):
    report = arm_schema.Report()
    checker.check_template(json.loads(path.read_text()), str(path), report)
    assert report.violations == [], "\n".join(map(str, report.violations))
    # Every resource whose provider has a local schema must really have been checked
    # against it, not waved through as "no local schema".
    local = ("Microsoft.VirtualMachineImages/", "Microsoft.Compute/", "Microsoft.ManagedIdentity/", "Microsoft.Resources/")
    wanted = [t for t in resource_types(json.loads(path.read_text())) if t.startswith(local)]
    checked = " ".join(report.checked)
    assert wanted and all(f" {t}@" in checked for t in wanted), (wanted, report.checked)


def resource_types(template: dict) -> list[str]:
    """Types of all resources, nested deployments' inner templates included."""
    found = []
    for r in template.get("resources", []):
        found.append(r["type"])
        inner = r.get("properties", {}).get("template")
        if r["type"] == "Microsoft.Resources/deployments" and inner:
            found.extend(resource_types(inner))
    return found
