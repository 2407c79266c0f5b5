"""Backups on the template: one AWS Backup plan over every table that holds state and both buckets, daily
points kept 35 days and monthly ones a year, in a locked vault; a copy to a second vault when one is named;
settings that cannot work are refused at synth."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match, Template

from infra_cdk.constructs.backups import Backups, BackupSettings
from tests.infra.test_stack import resources


def test_every_table_that_holds_state_and_both_buckets_are_in_the_plan(
    synthesized: tuple[Path, dict[str, Any]],
) -> None:
    (selection,) = resources(synthesized, "AWS::Backup::BackupSelection").values()
    named = {  # a table the parent names literally (the insights table, in its nested stack)
        t["Properties"]["TableName"]: lid
        for lid, t in resources(synthesized, "AWS::DynamoDB::Table").items()
        if isinstance(t["Properties"].get("TableName"), str)
    }
    selected = {
        r["Fn::GetAtt"][0] if "Fn::GetAtt" in r else named[r["Fn::Join"][1][-1].removeprefix(":table/")]
        for r in selection["Properties"]["BackupSelection"]["Resources"]
    }
    tables = set(resources(synthesized, "AWS::DynamoDB::Table"))
    idempotency = {lid for lid in tables if "Idempotency" in lid}  # records that expire within the hour
    assert len(idempotency) == 1
    # not the access logs, nor the console's built files (made again by `make console`)
    buckets = {
        lid
        for lid in resources(synthesized, "AWS::S3::Bucket")
        if not ("AccessLogs" in lid or "Console" in lid)
    }
    assert selected == (tables - idempotency) | buckets
    assert len(buckets) == 2


def test_daily_and_monthly_points_are_kept_in_a_locked_vault(
    synthesized: tuple[Path, dict[str, Any]],
) -> None:
    (plan,) = resources(synthesized, "AWS::Backup::BackupPlan").values()
    rules = {r["RuleName"]: r for r in plan["Properties"]["BackupPlan"]["BackupPlanRule"]}
    assert rules["Daily"]["Lifecycle"] == {"DeleteAfterDays": 35}
    assert rules["Daily"]["ScheduleExpression"] == "cron(0 3 * * ? *)"
    assert rules["Monthly"]["Lifecycle"]["DeleteAfterDays"] >= 365
    assert rules["Monthly"]["ScheduleExpression"] == "cron(0 4 1 * ? *)"
    assert not any("CopyActions" in r for r in rules.values())  # no second vault named by default
    (vault,) = resources(synthesized, "AWS::Backup::BackupVault").values()
    assert vault["Properties"]["LockConfiguration"] == {"MinRetentionDays": 7}
    assert vault["DeletionPolicy"] == "Retain"
    for table in resources(synthesized, "AWS::DynamoDB::Table").values():
        assert table["Properties"]["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert "AWS::Backup::BackupSelection" in json.dumps(synthesized[1])


def test_a_second_vault_receives_a_copy_of_every_point() -> None:
    stack = Stack(App(), "Probe")
    table = dynamodb.Table(
        stack, "T", partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING)
    )
    copy_to = "arn:aws:backup:eu-west-1:210987654321:backup-vault:maestro-copies"
    settings = BackupSettings.of(
        {"daily_days": 14, "monthly_months": 24, "lock_days": 3, "copy_vault_arn": copy_to}
    )
    Backups(
        stack, "Backups", tables=[table], buckets=[s3.Bucket(stack, "B", versioned=True)], settings=settings
    )
    copy = [{"DestinationBackupVaultArn": copy_to, "Lifecycle": {"DeleteAfterDays": 14}}]
    Template.from_stack(stack).has_resource_properties(
        "AWS::Backup::BackupPlan",
        {
            "BackupPlan": {
                "BackupPlanRule": [
                    Match.object_like(
                        {"RuleName": "Daily", "Lifecycle": {"DeleteAfterDays": 14}, "CopyActions": copy}
                    ),
                    Match.object_like(
                        {"RuleName": "Monthly", "Lifecycle": {"DeleteAfterDays": 725}, "CopyActions": copy}
                    ),
                ]
            }
        },
    )


@pytest.mark.parametrize(
    ("given", "why"),
    [
        ({"daily_days": 0}, "at least 1"),
        ({"lock_days": 40}, "must not exceed daily_days"),
        ({"keep": 3}, "unknown settings"),
    ],
)
def test_settings_that_cannot_work_are_refused(given: dict[str, object], why: str) -> None:
    with pytest.raises(SystemExit, match=why):
        BackupSettings.of(given)


def test_the_drill_runs_monthly_and_its_worker_writes_only_to_its_copies(
    synthesized: tuple[Path, dict[str, Any]],
) -> None:
    machines = resources(synthesized, "AWS::StepFunctions::StateMachine")
    (drill_machine,) = [lid for lid in machines if "DrillWorkflow" in lid]
    monthly = [
        r["Properties"]
        for r in resources(synthesized, "AWS::Events::Rule").values()
        if r["Properties"].get("ScheduleExpression") == "cron(0 6 2 * ? *)"
    ]
    (rule,) = monthly
    assert rule["Targets"][0]["Arn"] == {"Ref": drill_machine}
    functions = resources(synthesized, "AWS::Lambda::Function")
    (worker,) = [
        lid for lid, f in functions.items() if f.get("Metadata", {}).get("maestro:function") == "backup_drill"
    ]
    role = functions[worker]["Properties"]["Role"]["Fn::GetAtt"][0]
    tables = set(resources(synthesized, "AWS::DynamoDB::Table"))
    writes = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "DeleteTable")
    for policy in resources(synthesized, "AWS::IAM::Policy").values():
        if {"Ref": role} not in policy["Properties"]["Roles"]:
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if not any(a.split(":")[-1] in writes for a in actions):
                continue
            text = json.dumps(statement["Resource"])
            # writes reach the drill's own copies (<table>-drill-*) and the platform table's reports only
            assert "-drill-*" in text or "StoragePlatformTable" in text, statement
            assert not any(f'"{t}", "Arn"' in text for t in tables if "Platform" not in t), statement
