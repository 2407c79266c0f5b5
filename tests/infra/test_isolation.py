"""Isolation in depth, proven on the synthesized template (moto ignores IAM conditions): request-path
functions hold no data access of their own, and the tenant access role's statements, evaluated for one
tenant's session the way IAM evaluates them, allow that tenant's keys and objects and nothing of another's."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from maestro.core.tenancy import TENANT_ID
from tests.infra.test_stack import resources

REQUEST_PATH = {
    "whoami",
    "registry",
    "ab",
    "ab_assign",
    "ab_ingest",
    "ab_analysis",
    "sla",
    "sla_ingest",
    "audit",
    "explain",
    "explain_worker",
    "explain_data",
}
DATA_ACTIONS = ("dynamodb:", "s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket")


def _actions(statement: dict[str, Any]) -> list[str]:
    return statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]


def _resolve(value: Any, template: dict[str, Any]) -> Any:
    """CloudFormation intrinsics to ARN strings: a table's or bucket's ARN names its logical id."""
    if isinstance(value, list):
        return [_resolve(v, template) for v in value]
    if not isinstance(value, dict):
        return value
    if "Fn::GetAtt" in value:
        lid = value["Fn::GetAtt"][0]
        kind = template["Resources"][lid]["Type"]
        return {
            "AWS::DynamoDB::Table": f"arn:aws:dynamodb:r:a:table/{lid}",
            "AWS::S3::Bucket": f"arn:aws:s3:::{lid}",
        }.get(kind, f"arn:aws:other:::{lid}")
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(str(_resolve(p, template)) for p in parts)
    if "Ref" in value:
        return value["Ref"]
    return {k: _resolve(v, template) for k, v in value.items()}


@pytest.fixture(scope="module")
def tenant_role(synthesized: tuple[Path, dict[str, Any]]) -> tuple[str, dict[str, Any], list[dict[str, Any]]]:
    template = synthesized[1]
    roles = resources(synthesized, "AWS::IAM::Role")
    (lid,) = [k for k in roles if k.startswith("TenantAccessRole")]
    (policy,) = [
        p
        for p in resources(synthesized, "AWS::IAM::Policy").values()
        if p["Properties"]["Roles"] == [{"Ref": lid}]
    ]
    statements = _resolve(policy["Properties"]["PolicyDocument"]["Statement"], template)
    for statement in statements:  # one resource is written as a string, several as a list
        if not isinstance(statement["Resource"], list):
            statement["Resource"] = [statement["Resource"]]
    return lid, roles[lid], statements


def test_the_tenant_role_is_assumed_only_with_a_tenant_tag_and_for_an_hour(tenant_role: Any) -> None:
    _, role, _ = tenant_role
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert sorted(_actions(trust)) == ["sts:AssumeRole", "sts:TagSession"]
    assert trust["Condition"] == {
        "StringLike": {"aws:RequestTag/tenant": "?*"},
        "ForAllValues:StringEquals": {"aws:TagKeys": ["tenant"]},
    }
    assert role["Properties"]["MaxSessionDuration"] == 3600


def test_every_item_grant_is_pinned_to_the_sessions_tenant_and_none_scans(tenant_role: Any) -> None:
    _, _, statements = tenant_role
    item_grants = [s for s in statements if any(a.startswith("dynamodb:") for a in _actions(s))]
    assert len(item_grants) == 10  # the platform's and the nine capabilities' tables
    for statement in item_grants:
        assert statement["Condition"] == {
            "ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["${aws:PrincipalTag/tenant}#*"]},
            "Null": {"dynamodb:LeadingKeys": "false"},
        }
        assert not {"dynamodb:Scan", "dynamodb:PartiQLSelect", "dynamodb:ExecuteStatement"} & set(
            _actions(statement)
        )
    for statement in statements:
        if any(a.startswith("s3:") and a != "s3:ListBucket" for a in _actions(statement)):
            assert all(
                r.endswith("/tenants/${aws:PrincipalTag/tenant}/*") for r in statement["Resource"] if True
            )


def test_request_path_functions_reach_data_only_through_tenant_sessions(
    synthesized: tuple[Path, dict[str, Any]], tenant_role: Any
) -> None:
    lid, _, _ = tenant_role
    functions = resources(synthesized, "AWS::Lambda::Function")
    policies = resources(synthesized, "AWS::IAM::Policy").values()
    checked = set()
    for fn in functions.values():
        name = fn.get("Metadata", {}).get("maestro:function")
        if name not in REQUEST_PATH:
            continue
        role_ref = fn["Properties"]["Role"]["Fn::GetAtt"][0]
        statements = [
            s
            for p in policies
            if {"Ref": role_ref} in p["Properties"]["Roles"]
            for s in p["Properties"]["PolicyDocument"]["Statement"]
        ]
        actions = {a for s in statements for a in _actions(s)}
        assert not [a for a in actions if a.startswith(DATA_ACTIONS)], name
        (assume,) = [s for s in statements if "sts:AssumeRole" in _actions(s)]
        assert sorted(_actions(assume)) == ["sts:AssumeRole", "sts:TagSession"]
        assert assume["Resource"] == {"Fn::GetAtt": [lid, "Arn"]}
        assert fn["Properties"]["Environment"]["Variables"]["MAESTRO_TENANT_ROLE_ARN"] == {
            "Fn::GetAtt": [lid, "Arn"]
        }
        checked.add(name)
    assert checked == REQUEST_PATH


# -- the statements, evaluated as IAM evaluates them, for one tenant's session ------------------------
def _like(pattern: str, value: str) -> bool:
    """IAM's StringLike: * any run of characters, ? exactly one; everything else literal (no [sets])."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, flags=re.DOTALL) is not None


def _allows_condition(condition: dict[str, Any], context: dict[str, list[str] | None], tag: str) -> bool:
    for operator, tests in condition.items():
        for key, patterns in tests.items():
            patterns = [
                p.replace("${aws:PrincipalTag/tenant}", tag)
                for p in (patterns if isinstance(patterns, list) else [patterns])
            ]
            values = context.get(key)
            if operator == "Null":
                if (values is None) != (patterns == ["true"]):
                    return False
            elif operator == "ForAllValues:StringLike":  # true for an absent key: why the Null test is there
                if values is not None and not all(any(_like(p, v) for p in patterns) for v in values):
                    return False
            elif operator == "StringLike":
                if values is None or not any(_like(p, v) for p in patterns for v in values):
                    return False
            else:
                raise AssertionError(f"the evaluator does not know {operator}")
    return True


def allowed(
    statements: list[dict[str, Any]], tag: str, action: str, resource: str, context: dict[str, Any]
) -> bool:
    """Whether any Allow statement of the role grants the request to a session tagged tenant=`tag` (the role
    has no Deny; IAM denies what nothing allows)."""
    for statement in statements:
        resources_ = (
            statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        )
        resources_ = [r.replace("${aws:PrincipalTag/tenant}", tag) for r in resources_]
        if (
            statement["Effect"] == "Allow"
            and any(_like(a, action) for a in _actions(statement))
            and any(_like(r, resource) for r in resources_)
            and _allows_condition(statement.get("Condition", {}), context, tag)
        ):
            return True
    return False


def _table(statements: list[dict[str, Any]]) -> str:
    arn = next(r for s in statements for r in s["Resource"] if ":table/" in r and "RegistryTable" in r)
    return arn


tenants = st.from_regex(TENANT_ID, fullmatch=True)


@given(a=tenants, b=tenants, part=st.text(min_size=1, max_size=20))
@example(a="acme", b="acme-2", part="MODEL")  # one id a prefix of another's: the separator keeps them apart
@example(a="acme-2", b="acme", part="MODEL")
def test_a_tenants_session_reads_its_own_items_and_none_of_another(
    tenant_role: Any, a: str, b: str, part: str
) -> None:
    _, _, statements = tenant_role
    table = _table(statements)
    own = {"dynamodb:LeadingKeys": [f"{a}#REG#{part}"]}
    assert allowed(statements, a, "dynamodb:GetItem", table, own)
    assert allowed(statements, a, "dynamodb:Query", f"{table}/index/gsi1", own)
    if a != b:
        other = {"dynamodb:LeadingKeys": [f"{b}#REG#{part}"]}
        for action in ("dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:DeleteItem"):
            assert not allowed(statements, a, action, table, other)
        mixed = {"dynamodb:LeadingKeys": [f"{a}#X", f"{b}#X"]}  # a BatchGetItem reaching for both
        assert not allowed(statements, a, "dynamodb:BatchGetItem", table, mixed)


def test_requests_without_a_partition_key_are_refused(tenant_role: Any) -> None:
    _, _, statements = tenant_role
    table = _table(statements)
    assert not allowed(statements, "acme", "dynamodb:Scan", table, {})
    assert not allowed(statements, "acme", "dynamodb:GetItem", table, {})  # the Null test


@given(a=tenants, b=tenants, key=st.from_regex(r"[a-z0-9/._-]{1,40}", fullmatch=True))
@example(a="acme", b="acme-2", key="artifacts/model.pkl")
def test_a_tenants_session_reaches_its_own_objects_and_none_of_another(
    tenant_role: Any, a: str, b: str, key: str
) -> None:
    _, _, statements = tenant_role
    bucket = next(
        r for s in statements for r in s["Resource"] if r.startswith("arn:aws:s3:::") and "Artifacts" in r
    ).split("/")[0]
    assert allowed(statements, a, "s3:GetObject", f"{bucket}/tenants/{a}/{key}", {})
    assert allowed(statements, a, "s3:ListBucket", bucket, {"s3:prefix": [f"tenants/{a}/{key}"]})
    if a != b:
        assert not allowed(statements, a, "s3:GetObject", f"{bucket}/tenants/{b}/{key}", {})
        assert not allowed(statements, a, "s3:PutObject", f"{bucket}/tenants/{b}/{key}", {})
        assert not allowed(statements, a, "s3:ListBucket", bucket, {"s3:prefix": [f"tenants/{b}/"]})
    assert not allowed(statements, a, "s3:ListBucket", bucket, {"s3:prefix": ["tenants/"]})
    assert not allowed(statements, a, "s3:GetObject", f"{bucket}/{key}", {})


@pytest.fixture(scope="module")
def training_policy(synthesized: tuple[Path, dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """The tenant training policy (every tenant's SageMaker role: its grants and its boundary)."""
    policies = resources(synthesized, "AWS::IAM::ManagedPolicy")
    (lid,) = [k for k in policies if "TenantTrainingPolicy" in k]
    statements = _resolve(policies[lid]["Properties"]["PolicyDocument"]["Statement"], synthesized[1])
    for statement in statements:
        if not isinstance(statement["Resource"], list):
            statement["Resource"] = [statement["Resource"]]
    return lid, statements


@given(a=tenants, b=tenants, key=st.from_regex(r"[a-z0-9/._-]{1,40}", fullmatch=True))
@example(a="acme", b="acme-2", key="training-inputs/train.csv")
def test_a_tenants_training_role_reaches_its_own_objects_and_none_of_another(
    training_policy: Any, a: str, b: str, key: str
) -> None:
    _, statements = training_policy
    bucket = next(r for s in statements for r in s["Resource"] if r.startswith("arn:aws:s3:::")).split("/")[0]
    assert allowed(statements, a, "s3:GetObject", f"{bucket}/tenants/{a}/{key}", {})
    assert allowed(statements, a, "s3:PutObject", f"{bucket}/tenants/{a}/training/{key}", {})
    assert allowed(statements, a, "s3:ListBucket", bucket, {"s3:prefix": [f"tenants/{a}/{key}"]})
    assert not allowed(statements, a, "s3:PutObject", f"{bucket}/tenants/{a}/artifacts/{key}", {})
    if a != b:
        assert not allowed(statements, a, "s3:GetObject", f"{bucket}/tenants/{b}/{key}", {})
        assert not allowed(statements, a, "s3:PutObject", f"{bucket}/tenants/{b}/training/{key}", {})
        assert not allowed(statements, a, "s3:ListBucket", bucket, {"s3:prefix": [f"tenants/{b}/"]})
    assert not any(a.startswith("dynamodb:") for s in statements for a in _actions(s))


def test_tenant_training_roles_are_made_only_bounded_by_that_policy_and_passed_only_to_sagemaker(
    synthesized: tuple[Path, dict[str, Any]], training_policy: Any
) -> None:
    lid, _ = training_policy
    statements = [
        s
        for p in resources(synthesized, "AWS::IAM::Policy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    for statement in statements:
        actions = _actions(statement)
        if "iam:CreateRole" in actions:
            assert statement["Condition"] == {"StringEquals": {"iam:PermissionsBoundary": {"Ref": lid}}}
        if "iam:AttachRolePolicy" in actions:
            assert statement["Condition"] == {"ArnEquals": {"iam:PolicyARN": {"Ref": lid}}}
        if "iam:PassRole" in actions:
            assert statement["Condition"]["StringEquals"]["iam:PassedToService"] == "sagemaker.amazonaws.com"
        if any(a.startswith("iam:") for a in actions):
            resource = json.dumps(statement["Resource"])
            assert "role/maestro-training/" in resource, statement
    assert sum("iam:CreateRole" in _actions(s) for s in statements) == 1  # the training worker's
