"""The local runtime reads a nested stack as part of its parent: the nested template's resources join the
parent's, its parameters take the parent's values (so a nested function's environment names the parent's
table), and the parent's references to its outputs resolve to what they name. Two resources under one
logical id are refused rather than one silently replacing the other."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from maestro.local.nested import flattened
from maestro.local.template import Resolver, load_model

ASSET = "ab" * 32  # the nested template's asset hash, as CDK names it in the TemplateURL


def assembly(tmp_path: Path, nested_resources: dict[str, Any] | None = None) -> Path:
    """A cloud assembly shaped as CDK writes one: the parent, the nested template, the asset manifest."""
    child = {
        "Parameters": {"referencetoParentTableRef": {"Type": "String"}},
        "Resources": nested_resources
        or {
            "WorkerFunction": {
                "Type": "AWS::Lambda::Function",
                "Metadata": {"maestro:function": "worker"},
                "Properties": {
                    "FunctionName": "Maestro-worker",
                    "Environment": {"Variables": {"TABLE": {"Ref": "referencetoParentTableRef"}}},
                    "Timeout": 30,
                },
            }
        },
        "Outputs": {"WorkerArn": {"Value": {"Fn::GetAtt": ["WorkerFunction", "Arn"]}}},
    }
    parent = {
        "Resources": {
            "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {}},
            "ChildStack": {
                "Type": "AWS::CloudFormation::Stack",
                "Properties": {
                    "Parameters": {"referencetoParentTableRef": {"Ref": "Table"}},
                    "TemplateURL": {
                        "Fn::Join": ["", ["https://s3.", {"Ref": "AWS::Region"}, f"/bucket/{ASSET}.json"]]
                    },
                },
            },
            "Invoke": {
                "Type": "AWS::Lambda::Permission",
                "Properties": {"FunctionName": {"Fn::GetAtt": ["ChildStack", "Outputs.WorkerArn"]}},
            },
        }
    }
    (tmp_path / "Maestro.template.json").write_text(json.dumps(parent))
    (tmp_path / "MaestroChild.nested.template.json").write_text(json.dumps(child))
    manifest = {
        "files": {ASSET: {"source": {"path": "MaestroChild.nested.template.json", "packaging": "file"}}}
    }
    (tmp_path / "Maestro.assets.json").write_text(json.dumps(manifest))
    return tmp_path / "Maestro.template.json"


def test_a_nested_function_reads_the_parent_s_table_and_the_parent_reaches_the_function(
    tmp_path: Path,
) -> None:
    model = load_model(assembly(tmp_path), "Maestro", "us-east-1")
    assert "ChildStack" not in model.resources
    worker = model.functions["WorkerFunction"]
    assert worker.handler_dir == "worker" and worker.timeout_s == 30
    assert worker.environment == {"TABLE": model.physical["Table"]}
    permission = Resolver(model)(model.resources["Invoke"]["Properties"])
    assert permission["FunctionName"] == "arn:aws:lambda:us-east-1:123456789012:function:Maestro-worker"


def test_a_nested_resource_may_not_take_a_parent_s_logical_id(tmp_path: Path) -> None:
    clash = {"Table": {"Type": "AWS::SQS::Queue", "Properties": {}}}
    path = assembly(tmp_path, clash)
    with pytest.raises(ValueError, match="repeats logical ids of its parent: \\['Table'\\]"):
        flattened(json.loads(path.read_text()), tmp_path)


def test_a_nested_stack_whose_template_is_missing_is_named(tmp_path: Path) -> None:
    path = assembly(tmp_path)
    (tmp_path / "Maestro.assets.json").write_text(json.dumps({"files": {}}))
    with pytest.raises(ValueError, match="nested stack ChildStack: no template"):
        load_model(path, "Maestro", "us-east-1")
