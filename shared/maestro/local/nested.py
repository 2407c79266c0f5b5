"""Nested stacks, read as one: each AWS::CloudFormation::Stack's template (the asset manifest names the file
its TemplateURL's hash stands for) has its resources merged into the parent's, its parameters replaced by
the parent's values for them, and the parent's `Fn::GetAtt [<nested stack>, Outputs.<name>]` replaced by
that output's value. The local runtime then reads one template, as CloudFormation deploys one tree.
Must never merge two resources under one logical id."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

NESTED = "AWS::CloudFormation::Stack"
TEMPLATE_HASH = re.compile(r"/([0-9a-f]{64})\.json$")


def _templates(directory: Path) -> dict[str, str]:
    """Asset hash -> file name, from every asset manifest in the cloud assembly."""
    found: dict[str, str] = {}
    for manifest in directory.glob("*.assets.json"):
        for asset_hash, asset in json.loads(manifest.read_text()).get("files", {}).items():
            found[asset_hash] = asset["source"]["path"]
    return found


def _template_file(logical_id: str, resource: dict[str, Any], directory: Path) -> Path:
    url = json.dumps((resource.get("Properties") or {}).get("TemplateURL"))
    match = TEMPLATE_HASH.search(url.rstrip('"]}'))
    path = _templates(directory).get(match.group(1)) if match else None
    if not path:
        raise ValueError(f"nested stack {logical_id}: no template in {directory} for {url}")
    return directory / path


def flattened(template: dict[str, Any], directory: Path) -> dict[str, Any]:
    """The template with every nested stack (at any depth) merged into it."""
    resources = dict(template.get("Resources", {}))
    outputs: dict[str, Any] = {}  # "<stack logical id>.Outputs.<name>" -> its value, in the merged namespace
    for logical_id, resource in list(resources.items()):
        if resource["Type"] != NESTED:
            continue
        nested = flattened(json.loads(_template_file(logical_id, resource, directory).read_text()), directory)
        parameters = (resource.get("Properties") or {}).get("Parameters") or {}
        inner = {name: _replaced(v, parameters, {}) for name, v in nested.get("Resources", {}).items()}
        for name, value in (nested.get("Outputs") or {}).items():
            outputs[f"{logical_id}.Outputs.{name}"] = _replaced(value["Value"], parameters, {})
        taken = sorted(set(inner) & set(resources))
        if taken:
            raise ValueError(f"nested stack {logical_id} repeats logical ids of its parent: {taken}")
        del resources[logical_id]
        resources.update(inner)
    resources = {name: _replaced(r, {}, outputs) for name, r in resources.items()}
    return {**template, "Resources": resources}


def _replaced(value: Any, parameters: dict[str, Any], outputs: dict[str, Any]) -> Any:
    """`value` with each Ref to a parameter given its value, and each GetAtt of a nested output its value."""
    if isinstance(value, list):
        return [_replaced(v, parameters, outputs) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((key, arg),) = value.items()
        if key == "Ref" and arg in parameters:
            return parameters[arg]
        if key == "Fn::GetAtt":
            logical, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
            if f"{logical}.{attribute}" in outputs:
                return outputs[f"{logical}.{attribute}"]
        if key == "Fn::Sub" and parameters:
            return {key: _sub(arg, parameters, outputs)}
    return {k: _replaced(v, parameters, outputs) for k, v in value.items()}


def _sub(arg: Any, parameters: dict[str, Any], outputs: dict[str, Any]) -> Any:
    """A Sub's `${parameter}` becomes a variable bound to its value (the text stays as written)."""
    text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
    used = {name: value for name, value in parameters.items() if "${" + name + "}" in text}
    bound = {**_replaced(variables, parameters, outputs), **used}
    return [text, bound] if bound else text
