"""Creates in the embedded emulator what the template defines: tables, buckets, KMS keys and aliases, buses,
queues, rules, managed policies and state machines. Must never invent a resource the template lacks, except
the shadow queues that stand in for rule -> Lambda targets (moto cannot deliver to Lambda)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from maestro.core.aws import client
from maestro.local.template import LocalModel, Resolver, RuleTarget

TABLE_KEYS = ("KeySchema", "AttributeDefinitions", "StreamSpecification")
QUEUE_ATTRIBUTES = (
    "FifoQueue",
    "ContentBasedDeduplication",
    "VisibilityTimeout",
    "MessageRetentionPeriod",
    "DelaySeconds",
    "MaximumMessageSize",
    "ReceiveMessageWaitTimeSeconds",
    "RedrivePolicy",
    "DeduplicationScope",
    "FifoThroughputLimit",
)


@dataclass(frozen=True)
class ShadowQueue:
    """A queue the rule delivers to in place of a Lambda or state machine target; the pump drains it."""

    url: str
    rule: str
    target: RuleTarget


def _index(index: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in index.items() if k in ("IndexName", "KeySchema", "Projection")}


def provision(model: LocalModel) -> list[ShadowQueue]:
    resolve = Resolver(model)
    ddb, s3, sqs, events, sfn = (client(s) for s in ("dynamodb", "s3", "sqs", "events", "stepfunctions"))

    for lid, r in model.of_type("AWS::DynamoDB::Table").items():
        props = resolve(r["Properties"])
        args: dict[str, Any] = {k: props[k] for k in TABLE_KEYS if k in props}
        if props.get("GlobalSecondaryIndexes"):
            args["GlobalSecondaryIndexes"] = [_index(i) for i in props["GlobalSecondaryIndexes"]]
        if props.get("LocalSecondaryIndexes"):
            args["LocalSecondaryIndexes"] = [_index(i) for i in props["LocalSecondaryIndexes"]]
        ddb.create_table(TableName=model.physical[lid], BillingMode="PAY_PER_REQUEST", **args)
        recovery = props.get("PointInTimeRecoverySpecification") or {}
        if recovery.get("PointInTimeRecoveryEnabled"):
            ddb.update_continuous_backups(
                TableName=model.physical[lid],
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
            )
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            ddb.update_time_to_live(TableName=model.physical[lid], TimeToLiveSpecification=ttl)

    for lid, r in model.of_type("AWS::S3::Bucket").items():
        props = resolve(r.get("Properties", {}))
        name = model.physical[lid]
        s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=bool(props.get("ObjectLockEnabled")))
        if (props.get("VersioningConfiguration") or {}).get("Status") == "Enabled":
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        lock = props.get("ObjectLockConfiguration")
        if lock and lock.get("Rule"):
            s3.put_object_lock_configuration(Bucket=name, ObjectLockConfiguration=lock)

    # KMS keys get ids from KMS itself; functions name them by alias, which is created as the template says.
    kms = client("kms")
    keys = {}
    for lid, r in model.of_type("AWS::KMS::Key").items():
        props = r.get("Properties", {})
        keys[lid] = kms.create_key(
            KeySpec=props.get("KeySpec", "SYMMETRIC_DEFAULT"),
            KeyUsage=props.get("KeyUsage", "ENCRYPT_DECRYPT"),
            Description=str(props.get("Description", lid)),
        )["KeyMetadata"]["KeyId"]
    for r in model.of_type("AWS::KMS::Alias").values():
        props = r["Properties"]
        target = props["TargetKeyId"]
        # CDK names the key by Ref (its id) or GetAtt Arn; either way the logical id is the key's.
        key_lid = (
            (target.get("Ref") or (target.get("Fn::GetAtt") or [None])[0])
            if isinstance(target, dict)
            else None
        )
        if key_lid in keys:
            kms.create_alias(AliasName=props["AliasName"], TargetKeyId=keys[key_lid])

    for lid in model.of_type("AWS::Events::EventBus"):
        events.create_event_bus(Name=model.physical[lid])

    # Dead-letter queues first: a redrive policy names its DLQ by ARN.
    queues = sorted(
        model.of_type("AWS::SQS::Queue").items(),
        key=lambda kv: "RedrivePolicy" in kv[1].get("Properties", {}),
    )
    for lid, r in queues:
        props = resolve(r.get("Properties", {}))
        attributes = {
            k: json.dumps(v) if isinstance(v, dict) else str(v).lower() if isinstance(v, bool) else str(v)
            for k, v in props.items()
            if k in QUEUE_ATTRIBUTES
        }
        sqs.create_queue(QueueName=model.physical[lid], Attributes=attributes)

    # Policies that functions attach at run time (a tenant's training role): roles themselves stay the
    # template's business, since moto does not enforce IAM.
    for lid, r in model.of_type("AWS::IAM::ManagedPolicy").items():
        document = resolve(r["Properties"]["PolicyDocument"])
        client("iam").create_policy(PolicyName=model.physical[lid], PolicyDocument=json.dumps(document))

    for lid, r in model.of_type("AWS::StepFunctions::StateMachine").items():
        props = resolve(r["Properties"])
        definition = props.get("DefinitionString") or json.dumps(props.get("Definition", {}))
        for key, value in (props.get("DefinitionSubstitutions") or {}).items():
            definition = definition.replace("${" + key + "}", str(value))
        sfn.create_state_machine(
            name=model.physical[lid],
            definition=definition,
            roleArn=props.get("RoleArn") or "arn:aws:iam::123456789012:role/local",
        )

    shadows: list[ShadowQueue] = []
    for rule in model.rules:
        if rule.schedule:
            continue  # the local scheduler fires these; moto's schedule rules never fire
        events.put_rule(
            Name=rule.name,
            EventBusName=rule.bus,
            EventPattern=json.dumps(rule.pattern),
            State="ENABLED" if rule.enabled else "DISABLED",
        )
        targets = []
        for target in rule.targets:
            arn = target.arn
            if target.kind in ("lambda", "states"):
                url = sqs.create_queue(QueueName=f"local-shadow-{rule.name}-{target.target_id}"[:80])[
                    "QueueUrl"
                ]
                arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
                    "QueueArn"
                ]
                shadows.append(ShadowQueue(url, rule.name, target))
            extra = {k: v for k, v in target.extra.items() if k in ("Input", "InputPath", "SqsParameters")}
            targets.append({"Id": target.target_id, "Arn": arn, **extra})
        if targets:
            events.put_targets(Rule=rule.name, EventBusName=rule.bus, Targets=targets)
    return shadows
