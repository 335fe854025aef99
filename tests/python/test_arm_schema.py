"""Tests for arm_schema.py: the checker must pass real-world valid input and catch bad input."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import arm_schema

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def schemas(specs_dir):
    return arm_schema.SchemaSet(specs_dir)


@pytest.fixture(scope="module")
def checker(schemas):
    return arm_schema.Checker(schemas, strict=True)


def check(checker, template) -> arm_schema.Report:
    report = arm_schema.Report()
    checker.check_template(template, "<test>", report)
    return report


def wrap(*resources) -> dict:
    return {
        "$schema": arm_schema.TEMPLATE_SCHEMA_URI + "#",
        "contentVersion": "1.0.0.0",
        "resources": list(resources),
    }


def test_self_test_passes(schemas, capsys):
    assert arm_schema.self_test(schemas) == 0
    assert "all" in capsys.readouterr().out


# Microsoft's own REST examples (request bodies) must pass, strict pass included:
# this is the guard against false positives from the schema normalisations.
@pytest.mark.parametrize("example", [
    "CreateImageTemplateLinux.json", "CreateImageTemplateWindows.json",
])
def test_rest_examples_image_templates_pass(checker, specs_dir, example):
    body = json.loads((specs_dir / "imagebuilder-2025-10-01/examples" / example).read_text())["parameters"]["parameters"]
    resource = {"type": "Microsoft.VirtualMachineImages/imageTemplates", "apiVersion": "2025-10-01",
                "name": "myImageTemplate", **body}
    report = check(checker, wrap(resource))
    assert report.violations == []
    assert len(report.checked) == 1


def test_rest_example_trigger_passes(checker, specs_dir):
    body = json.loads((specs_dir / "imagebuilder-2025-10-01/examples/CreateSourceImageTrigger.json").read_text())
    resource = {"type": "Microsoft.VirtualMachineImages/imageTemplates/triggers", "apiVersion": "2025-10-01",
                "name": "myImageTemplate/source", **body["parameters"]["parameters"]}
    assert check(checker, wrap(resource)).violations == []


@pytest.mark.parametrize("example,rtype,key,name", [
    ("Gallery_Create.json", "Microsoft.Compute/galleries", "gallery", "gal"),
    ("GalleryImage_Create.json", "Microsoft.Compute/galleries/images", "galleryImage", "gal/img"),
    ("GalleryImageVersion_Create.json", "Microsoft.Compute/galleries/images/versions",
     "galleryImageVersion", "gal/img/1.0.0"),
])
def test_rest_examples_gallery_pass(checker, specs_dir, example, rtype, key, name):
    body = json.loads((specs_dir / "gallery-2025-03-03/examples/galleryExamples" / example).read_text())["parameters"][key]
    resource = {"type": rtype, "apiVersion": "2025-03-03", "name": name, **body}
    report = check(checker, wrap(resource))
    assert report.violations == []


def test_sample_bicep_shaped_template_passes(checker, samples_dir):
    template = json.loads((samples_dir / "arm/linux/azuredeploy.json").read_text())
    report = check(checker, template)
    assert report.violations == []
    # Both role assignments (outer and inside the nested template) are listed, not passed silently.
    assert len([u for u in report.unchecked if "roleAssignments" in u and "no local schema" in u]) == 2
    assert any("properties.template.resources[1] Microsoft.Compute/galleries/images" in c for c in report.checked)


def test_expression_accepted_where_literal_is_open(checker):
    # N1: a deployment parameter `value` is {} | expression; oneOf would reject this.
    template = arm_schema.sample_template()
    template["resources"][3]["properties"]["parameters"]["location"] = {"value": "[parameters('location')]"}
    assert check(checker, template).violations == []


def test_enum_case_insensitive(checker):
    # N5: Bicep emits "inner" for the "Inner" enum value.
    template = arm_schema.sample_template()
    template["resources"][3]["properties"]["expressionEvaluationOptions"]["scope"] = "inner"
    assert check(checker, template).violations == []


def test_unknown_property_in_map_is_allowed(checker):
    # tags / userAssignedIdentities are maps: arbitrary keys are fine there.
    template = arm_schema.sample_template()
    template["resources"][2]["tags"] = {"anything-goes": "x", "b": "y"}
    assert check(checker, template).violations == []


def test_map_values_still_checked(checker):
    template = arm_schema.sample_template()
    template["resources"][2]["tags"] = {"n": 1}  # tag values must be strings
    report = check(checker, template)
    assert any("$.resources[2].tags" in v for v in report.violations), report.violations


def test_unknown_property_in_distributor_variant(checker):
    template = arm_schema.sample_template()
    template["resources"][2]["properties"]["distribute"][0]["galleryImageID"] = "x"
    report = check(checker, template)
    assert any(".distribute[0].galleryImageID: unknown property" in v for v in report.violations), report.violations


def test_symbolic_name_resources_and_existing(checker):
    template = arm_schema.sample_template()
    template["resources"] = {
        "identity": template["resources"][0],
        "gallery": {"type": "Microsoft.Compute/galleries", "apiVersion": "2025-03-03",
                    "name": "gal", "existing": True},
    }
    report = check(checker, template)
    assert report.violations == []
    assert any("$.resources.gallery" in c and "existing" in c for c in report.checked)


def test_known_type_unknown_version_is_violation_unknown_type_is_listed(checker):
    report = check(checker, wrap(
        {"type": "Microsoft.Compute/galleries", "apiVersion": "2022-03-03", "name": "g", "location": "x"},
        {"type": "Microsoft.Storage/storageAccounts", "apiVersion": "2023-05-01", "name": "s",
         "location": "x", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}},
    ))
    assert [v for v in report.violations if "$.resources[0].apiVersion" in v]
    assert [u for u in report.unchecked if "Microsoft.Storage/storageAccounts@2023-05-01" in u]


def test_child_name_segments(checker):
    image = {"type": "Microsoft.Compute/galleries/images", "apiVersion": "2025-03-03", "location": "x",
             "properties": {"osType": "Linux", "osState": "Generalized",
                            "identifier": {"publisher": "p", "offer": "o", "sku": "s"}}}
    assert check(checker, wrap({**image, "name": "gal/img"})).violations == []
    assert check(checker, wrap({**image, "name": "[format('{0}/{1}', 'gal', 'img')]"})).violations == []
    report = check(checker, wrap({**image, "name": "img"}))
    assert any("$.resources[0].name: name 'img' has 1 segment(s)" in v for v in report.violations), report.violations


def test_resource_base_still_applies_to_unchecked_types(checker):
    report = check(checker, wrap({"type": "Microsoft.Storage/storageAccounts", "apiVersion": "2023-05-01",
                                  "name": "s", "dependsOn": "not-an-array"}))
    assert any("$.resources[0].dependsOn" in v for v in report.violations), report.violations


# ---------------------------------------------------------------------- CLI behaviour

def run_cli(*args, env_extra=None):
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.update(env_extra or {})
    return subprocess.run([sys.executable, str(HERE / "arm_schema.py"), *args],
                          capture_output=True, text=True, env=env, cwd=HERE)


def test_cli_ok_and_violation(specs_dir, samples_dir, tmp_path):
    ok = run_cli(str(samples_dir / "arm"), env_extra={"AIBC_AZURE_SPECS": str(specs_dir)})
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "0 violation(s)" in ok.stdout
    assert "NOT CHECKED" in ok.stdout

    bad = copy.deepcopy(arm_schema.sample_template())
    bad["resources"][2]["properties"]["vmProfile"]["vmSiz"] = "x"
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "azuredeploy.json").write_text(json.dumps(bad))
    res = run_cli(str(tmp_path), env_extra={"AIBC_AZURE_SPECS": str(specs_dir)})
    assert res.returncode == 1
    assert "VIOLATION" in res.stdout and "azuredeploy.json: $.resources[2].properties.vmProfile.vmSiz" in res.stdout


def test_cli_empty_dir_fails(specs_dir, tmp_path):
    res = run_cli(str(tmp_path), env_extra={"AIBC_AZURE_SPECS": str(specs_dir)})
    assert res.returncode == 1
    assert "no azuredeploy.json found" in res.stdout


def test_cli_missing_specs_skips_outside_ci_and_fails_in_ci(tmp_path):
    missing = str(tmp_path / "nope")
    res = run_cli("--self-test", env_extra={"AIBC_AZURE_SPECS": missing})
    assert res.returncode == 0 and "SKIPPED" in res.stdout
    res = run_cli("--self-test", env_extra={"AIBC_AZURE_SPECS": missing, "CI": "true"})
    assert res.returncode != 0 and "FAILED" in res.stderr
