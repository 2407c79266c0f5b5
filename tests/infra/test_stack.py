"""The synthesized stack: API and authorizer, bus, tables, buckets, functions, least privilege; cdk-nag and
cfn-lint clean."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Match

from maestro.core.outcomes import FILTER_PATTERN
from maestro.local.functions import function_names
from maestro.local.template import load_model
from maestro.platform.slos import latency_p99_ms
from tests.infra.conftest import NO_BUNDLING, synth


def resources(synthesized: tuple[Path, dict[str, Any]], kind: str) -> dict[str, Any]:
    return {k: r for k, r in synthesized[1]["Resources"].items() if r["Type"] == kind}


def test_http_api_has_a_jwt_authorizer_pinned_to_the_user_pool(template: Any) -> None:
    template.resource_count_is("AWS::ApiGatewayV2::Api", 1)
    template.has_resource_properties("AWS::ApiGatewayV2::Api", {"ProtocolType": "HTTP"})
    template.has_resource_properties(
        "AWS::ApiGatewayV2::Authorizer",
        {
            "AuthorizerType": "JWT",
            "IdentitySource": ["$request.header.Authorization"],
            "JwtConfiguration": {
                "Audience": [
                    {"Ref": Match.string_like_regexp("IdentityUserPoolApiClient")},
                    {"Ref": Match.string_like_regexp("IdentityUserPoolConsoleClient")},  # the web console's
                ],
                "Issuer": Match.object_like({"Fn::Join": Match.any_value()}),
            },
        },
    )
    template.has_resource_properties(
        "AWS::ApiGatewayV2::Stage",
        {
            "StageName": "$default",
            "AutoDeploy": True,
            "AccessLogSettings": Match.object_like({}),
        },
    )


def test_every_route_is_authorized_except_the_public_ones(synthesized: tuple[Path, dict[str, Any]]) -> None:
    routes = {
        r["Properties"]["RouteKey"]: r["Properties"].get("AuthorizationType")
        for r in resources(synthesized, "AWS::ApiGatewayV2::Route").values()
    }
    public = {"GET /health", "GET /openapi.json"}
    assert {k for k, v in routes.items() if v == "NONE"} == public
    assert all(v == "JWT" for k, v in routes.items() if k not in public)
    # A function's routes collapse into one greedy route (infra_cdk/constructs/api.py); the more specific
    # routes of other functions under the same prefix stay.
    assert {
        "GET /whoami",
        "POST /whoami/check",
        "ANY /api/2.0/mlflow/{proxy+}",
        "ANY /api/2.0/mlflow-artifacts/{proxy+}",
        "ANY /ab/{proxy+}",
        "POST /ab/assign",
        "POST /ab/assign/batch",
        "POST /ab/events",
        "GET /ab/experiments/{experiment_id}/analysis",
        "ANY /training/{proxy+}",
        "ANY /deployments",
        "ANY /deployments/{proxy+}",
    } <= set(routes)


def test_the_maestro_bus_exists(template: Any) -> None:
    template.has_resource_properties("AWS::Events::EventBus", {"Name": "maestro"})


def test_tables_are_on_demand_encrypted_with_point_in_time_recovery_and_retained(
    synthesized: tuple[Path, dict[str, Any]],
) -> None:
    tables = resources(synthesized, "AWS::DynamoDB::Table")
    # platform, idempotency, registry, A/B, SLA, audit, explanations, monitoring, training, delivery, insights
    assert len(tables) == 11
    for table in tables.values():
        props = table["Properties"]
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["SSESpecification"] == {"SSEEnabled": True}
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert table["DeletionPolicy"] == "Retain"


def test_buckets_are_versioned_private_encrypted_and_ssl_only(
    synthesized: tuple[Path, dict[str, Any]],
) -> None:
    buckets = resources(synthesized, "AWS::S3::Bucket")
    assert len(buckets) == 4  # access logs, artifacts, audit archive, the console's files
    for bucket in buckets.values():
        props = bucket["Properties"]
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}
        assert props["PublicAccessBlockConfiguration"] == dict.fromkeys(
            ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"), True
        )
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    policies = resources(synthesized, "AWS::S3::BucketPolicy").values()
    ssl_denied = {
        json.dumps(p["Properties"]["Bucket"])
        for p in policies
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if s["Effect"] == "Deny"
        and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
    }
    assert ssl_denied == {json.dumps({"Ref": lid}) for lid in buckets}


def test_every_function_folder_is_deployed_on_python_312_traced_with_the_layer(
    synthesized: tuple[Path, dict[str, Any]],
) -> None:
    functions = resources(synthesized, "AWS::Lambda::Function")
    deployed = {f["Metadata"]["maestro:function"] for f in functions.values()}
    assert deployed == set(function_names())
    for fn in functions.values():
        props = fn["Properties"]
        assert props["Runtime"] == "python3.12" and props["Handler"] == "handler.handler"
        assert props["TracingConfig"] == {"Mode": "Active"}
        layers = {layer["Ref"].split("Layer")[0] for layer in props["Layers"]}
        # Only the analysis functions carry numpy/scipy; assignment must stay light (no scipy import). The
        # explanation steps carry their stacks on the slim base layer (boto3 from the runtime).
        expected = {
            "ab_analysis": {"Powertools", "AbScientific"},
            "ab_schedule": {"Powertools", "AbScientific"},
            "monitoring": {"Powertools", "AbScientific"},  # the drift statistics (scipy) in checks on demand
            "monitoring_check": {"Powertools", "AbScientific"},
            "monitoring_report": {"Powertools", "ExplainPlots"},  # matplotlib, for the report's figures
            "explain_worker": {"ExplainSlim", "AbScientific", "ExplainExplain", "ExplainBoosters"},
            "explain_data": {"ExplainSlim", "ExplainPlots", "ExplainTables"},
            "insights": {"ExplainSlim", "AbScientific", "ExplainExplain"},  # scikit-learn's ranker
            "insights_retrain": {"ExplainSlim", "AbScientific", "ExplainExplain"},  # and its forecast
        }.get(fn["Metadata"]["maestro:function"], {"Powertools"})
        assert layers == expected, fn["Metadata"]
        assert (
            props["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"] == fn["Metadata"]["maestro:function"]
        )


LOG_DELIVERY = {
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
}


def test_no_policy_grants_wildcard_actions_and_only_xray_gets_wildcard_resources(
    synthesized: tuple[Path, dict[str, Any]],
) -> None:
    for policy in resources(synthesized, "AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert "*" not in actions and not any(a.endswith(":*") for a in actions)
            if statement["Resource"] == "*":
                # X-Ray, the CloudWatch Logs delivery APIs a state machine's logging needs, and ECR's
                # token for pulling training images: none supports resource-level permissions.
                allowed = LOG_DELIVERY | {"ecr:GetAuthorizationToken"}
                assert all(a.startswith("xray:") or a in allowed for a in actions), statement


def test_health_may_list_the_bucket_but_read_no_object(synthesized: tuple[Path, dict[str, Any]]) -> None:
    policies = [p for k, p in resources(synthesized, "AWS::IAM::Policy").items() if "Health" in k]
    actions = {
        a
        for p in policies
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    }
    assert "s3:ListBucket" in actions
    assert not any(a.startswith("s3:GetObject") or a.startswith("dynamodb:Put") for a in actions)


def test_cfn_lint_passes(synthesized: tuple[Path, dict[str, Any]]) -> None:
    outdir, _ = synthesized
    cfn_lint = str(Path(sys.executable).parent / "cfn-lint")
    result = subprocess.run(
        [cfn_lint, str(outdir / "Maestro.template.json"), *map(str, outdir.glob("*.nested.template.json"))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_cdk_nag_is_wired_and_fails_a_non_compliant_resource(tmp_path: Path) -> None:
    # The real app synthesized clean (fixture). Prove the checks run: one bare bucket must fail the synth.
    from aws_cdk import aws_s3 as s3

    from infra_cdk.app import build_app

    app = build_app(dict(NO_BUNDLING), outdir=str(tmp_path))
    s3.Bucket(app.node.find_child("Maestro"), "NonCompliant")
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    rules = {r["ruleName"] for p in report["pluginReports"] for r in p["violations"]}
    assert {"AwsSolutions-S1", "AwsSolutions-S10"} <= rules
    paths = {
        c["constructPath"]
        for p in report["pluginReports"]
        for r in p["violations"]
        for c in r["violatingConstructs"]
    }
    assert all("NonCompliant" in path for path in paths), paths


def test_an_external_oidc_issuer_replaces_the_user_pool(tmp_path: Path) -> None:
    template = synth(
        tmp_path,
        {
            "maestro:jwtIssuer": "https://login.example.com/",
            "maestro:jwtAudience": "api://maestro,maestro-cli",
            "maestro:tenantClaim": "org_id",
            "maestro:rolesClaim": "groups",
        },
    )
    kinds = {r["Type"] for r in template["Resources"].values()}
    assert "AWS::Cognito::UserPool" not in kinds
    (authorizer,) = [
        r for r in template["Resources"].values() if r["Type"] == "AWS::ApiGatewayV2::Authorizer"
    ]
    assert authorizer["Properties"]["JwtConfiguration"] == {
        "Issuer": "https://login.example.com/",
        "Audience": ["api://maestro", "maestro-cli"],
    }
    env = next(r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function")
    assert env["Properties"]["Environment"]["Variables"]["MAESTRO_TENANT_CLAIM"] == "org_id"


def test_every_function_sends_its_outcomes_to_the_sla_ingestion_and_the_meter_but_its_own(
    synthesized: tuple[Path, dict[str, Any]],
) -> None:
    functions = resources(synthesized, "AWS::Lambda::Function")
    maestro = {lid: fn for lid, fn in functions.items() if "maestro:function" in fn.get("Metadata", {})}
    by_log_group = {fn["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]: lid for lid, fn in maestro.items()}
    lid_of = {fn["Metadata"]["maestro:function"]: lid for lid, fn in maestro.items()}
    subscribed: dict[str, set[str]] = {lid_of["sla_ingest"]: set(), lid_of["tenants_meter"]: set()}
    per_group: dict[str, int] = {}
    for sub in resources(synthesized, "AWS::Logs::SubscriptionFilter").values():
        props = sub["Properties"]
        assert props["FilterPattern"] == FILTER_PATTERN
        destination = alias_function(synthesized, props["DestinationArn"]["Ref"])
        subscribed[destination].add(by_log_group[props["LogGroupName"]["Ref"]])
        per_group[props["LogGroupName"]["Ref"]] = per_group.get(props["LogGroupName"]["Ref"], 0) + 1
    for destination, sources in subscribed.items():
        assert sources == set(maestro) - {destination}  # never its own: its outcomes would feed themselves
    assert max(per_group.values()) == 2  # CloudWatch Logs' limit of subscription filters per log group
    names = {fn["Metadata"]["maestro:function"]: fn["Properties"]["FunctionName"] for fn in maestro.values()}
    assert all(physical == f"Maestro-{name}" for name, physical in names.items())


def test_the_sla_check_runs_every_minute(synthesized: tuple[Path, dict[str, Any]]) -> None:
    functions = resources(synthesized, "AWS::Lambda::Function")
    (check,) = [
        lid for lid, fn in functions.items() if fn.get("Metadata", {}).get("maestro:function") == "sla_check"
    ]
    rules = [
        r["Properties"]
        for r in resources(synthesized, "AWS::Events::Rule").values()
        if r["Properties"].get("ScheduleExpression") == "rate(1 minute)"
    ]
    assert [alias_function(synthesized, t["Arn"]["Ref"]) for r in rules for t in r["Targets"]] == [check]


def alias_function(synthesized: tuple[Path, dict[str, Any]], alias: str) -> str:
    """The logical id of the function whose `live` alias is `alias` (what invokers name)."""
    return str(resources(synthesized, "AWS::Lambda::Alias")[alias]["Properties"]["FunctionName"]["Ref"])


def stack_sizes(synthesized: tuple[Path, dict[str, Any]]) -> list[int]:
    """The resources of each stack CloudFormation deploys: the parent's, then each nested stack's."""
    outdir = synthesized[0]
    files = [outdir / "Maestro.template.json", *sorted(outdir.glob("*.nested.template.json"))]
    return [len(json.loads(f.read_text())["Resources"]) for f in files]


def test_every_function_has_error_throttle_and_duration_alarms_and_a_dashboard(
    synthesized: tuple[Path, dict[str, Any]],
) -> None:
    functions = {
        lid: fn
        for lid, fn in resources(synthesized, "AWS::Lambda::Function").items()
        if "maestro:function" in fn.get("Metadata", {})
    }
    routed = routed_functions(synthesized)
    by_name = {fn["Properties"]["FunctionName"]: lid for lid, fn in functions.items()}
    alarms = list(resources(synthesized, "AWS::CloudWatch::Alarm").values())
    watched: dict[str, set[str]] = {}
    for alarm in alarms:
        props = alarm["Properties"]
        if props["Namespace"] != "AWS/Lambda":
            continue
        (dimension,) = props["Dimensions"]
        lid = by_name[dimension["Value"]]  # a literal name: no reference back into the parent
        watched.setdefault(lid, set()).add(props["MetricName"])
        if props["MetricName"] == "Duration":
            fn = functions[lid]
            name, timeout_s = fn["Metadata"]["maestro:function"], fn["Properties"]["Timeout"]
            # the SLO the platform holds the function to, never above 80% of its timeout
            assert props["ExtendedStatistic"] == "p99"
            assert props["Threshold"] == latency_p99_ms(name, timeout_s, lid in routed)
            assert props["Threshold"] <= 0.8 * timeout_s * 1000
    assert watched == {lid: {"Errors", "Throttles", "Duration"} for lid in functions}
    # the local runtime reads the nested stack as part of the template (local/nested.py)
    model = load_model(synthesized[0] / "Maestro.template.json", "Maestro", "us-east-1")
    assert sum(r["Type"] == "AWS::CloudWatch::Alarm" for r in model.resources.values()) == len(alarms)
    assert not model.of_type("AWS::CloudFormation::Stack")
    dlq_alarms = [a["Properties"] for a in alarms if a["Properties"]["Namespace"] == "AWS/SQS"]
    assert [a["MetricName"] for a in dlq_alarms] == ["ApproximateNumberOfMessagesVisible"]
    assert len(resources(synthesized, "AWS::CloudWatch::Dashboard")) == 1
    sizes = stack_sizes(synthesized)
    assert len(sizes) == 3 and max(sizes) <= 500, sizes  # the parent, operations and insights


def routed_functions(synthesized: tuple[Path, dict[str, Any]]) -> set[str]:
    """The logical ids of the functions API routes invoke (through their aliases)."""
    aliases = resources(synthesized, "AWS::Lambda::Alias")
    out = set()
    for integration in resources(synthesized, "AWS::ApiGatewayV2::Integration").values():
        alias = integration["Properties"]["IntegrationUri"]["Ref"]
        out.add(aliases[alias]["Properties"]["FunctionName"]["Ref"])
    return out


def test_the_audit_archive_is_locked_in_compliance_mode_and_every_event_reaches_the_trail(
    synthesized: tuple[Path, dict[str, Any]],
) -> None:
    buckets = resources(synthesized, "AWS::S3::Bucket")
    (archive,) = [b["Properties"] for lid, b in buckets.items() if "Archive" in lid]
    assert archive["ObjectLockEnabled"] is True
    retention = archive["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]
    assert retention == {"Mode": "COMPLIANCE", "Days": 365}
    (expiry,) = [r["ExpirationInDays"] for r in archive["LifecycleConfiguration"]["Rules"]]
    assert expiry > retention["Days"]
    (key,) = resources(synthesized, "AWS::KMS::Key").values()
    assert (key["Properties"]["KeySpec"], key["Properties"]["KeyUsage"]) == ("ECC_NIST_P256", "SIGN_VERIFY")
    queues = resources(synthesized, "AWS::SQS::Queue")
    (ingest_queue,) = [lid for lid in queues if "AuditIngestQueue" in lid]
    rules = [r["Properties"] for r in resources(synthesized, "AWS::Events::Rule").values()]
    (audit_rule,) = [r for r in rules if r.get("EventPattern") == {"source": [{"prefix": "maestro."}]}]
    assert audit_rule["Targets"][0]["Arn"] == {"Fn::GetAtt": [ingest_queue, "Arn"]}
    assert queues[ingest_queue]["Properties"]["RedrivePolicy"]["maxReceiveCount"] == 3
    (mapping,) = resources(synthesized, "AWS::Lambda::EventSourceMapping").values()
    assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_the_explanation_workflow_retries_and_catches_every_task(
    synthesized: tuple[Path, dict[str, Any]],
) -> None:
    (machine,) = [
        m for lid, m in resources(synthesized, "AWS::StepFunctions::StateMachine").items() if "Explain" in lid
    ]
    definition = json.loads(
        "".join(
            p if isinstance(p, str) else "ARN"
            for p in machine["Properties"]["DefinitionString"]["Fn::Join"][1]
        )
    )
    states = dict(definition["States"])
    shards = states["Shards"]
    assert (
        shards["Type"] == "Map" and shards["MaxConcurrency"] == 10 and shards["ItemsPath"] == "$.plan.shards"
    )
    states |= shards["ItemProcessor"]["States"]
    tasks = {name: s for name, s in states.items() if s["Type"] == "Task"}
    assert set(tasks) == {
        "Prepare",
        "Validate",
        "Plan",
        "ExplainShard",
        "Extras",
        "Aggregate",
        "Report",
        "Complete",
        "RecordFailure",
    }
    for name, task in tasks.items():
        (retry,) = task["Retry"]
        assert "Sandbox.Timedout" in retry["ErrorEquals"], name
        assert "ExplainError" not in retry["ErrorEquals"], name
    # every step of the job (a shard's failure reaches the Map's catch) ends in RecordFailure, JobFailed
    for name in ("Prepare", "Validate", "Plan", "Shards", "Extras", "Aggregate", "Report", "Complete"):
        assert [c["Next"] for c in states[name]["Catch"]] == ["RecordFailure"], name
        assert states[name]["Catch"][0]["ErrorEquals"] == ["States.ALL"]
    assert states["RecordFailure"]["Next"] == "JobFailed" and states["JobFailed"]["Type"] == "Fail"
    assert [c["Next"] for c in states["RecordFailure"]["Catch"]] == ["JobFailed"]
    assert definition["TimeoutSeconds"] == 6 * 3600


def test_the_explanation_api_may_start_and_stop_only_its_own_executions(
    synthesized: tuple[Path, dict[str, Any]],
) -> None:
    (policy,) = [
        p
        for lid, p in resources(synthesized, "AWS::IAM::Policy").items()
        if lid.startswith("ExplainRoleDefaultPolicy")
    ]
    actions = {
        a
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
        if a.startswith("states:")
    }
    assert actions == {"states:StartExecution", "states:DescribeExecution", "states:StopExecution"}
