"""Isolation in depth (the AWS SaaS Factory pattern): the role a request-path function assumes once per
tenant with the session tag tenant=<t>. Its sessions reach only items whose partition key starts with
"<t>#" (dynamodb:LeadingKeys) and objects under tenants/<t>/, so a bug that builds another tenant's key is
refused by IAM. Must never grant Scan, PartiQL or any other action whose request names no partition key:
LeadingKeys would not constrain it."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra_cdk.constructs.functions import MaestroFunction
from infra_cdk.constructs.nag import acknowledge, resource_finding
from maestro.core.aws import SESSION_SECONDS, TENANT_TAG

TENANT = "${aws:PrincipalTag/" + TENANT_TAG + "}"
# Every key-addressed item action (TransactWriteItems is authorized as its items' Put/Update/Delete/
# ConditionCheck); no Scan, no PartiQL.
ITEM_ACTIONS = [
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
]


# What request paths do with a tenant's artifacts: read (explanation jobs read the exact version they
# recorded), write, delete, and the presigned multipart uploads of large model files.
ARTIFACT_OBJECT_ACTIONS = [
    "s3:GetObject",
    "s3:GetObjectVersion",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
]


class TenantAccess(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        # The account's principals may assume it only when they name a tenant (and nothing else) in the
        # session's tags; the functions' own policies say which of them may (grant_assume).
        trusted = iam.PrincipalWithConditions(
            iam.AccountRootPrincipal(),
            {
                "StringLike": {f"aws:RequestTag/{TENANT_TAG}": "?*"},
                "ForAllValues:StringEquals": {"aws:TagKeys": [TENANT_TAG]},
            },
        ).with_session_tags()
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=trusted,
            max_session_duration=Duration.seconds(SESSION_SECONDS),
            description="One tenant's items and objects, for sessions tagged tenant=<t>",
        )

    @property
    def role_arn(self) -> str:
        return self.role.role_arn

    def include_tables(self, tables: Sequence[dynamodb.ITable]) -> None:
        """Sessions reach the items (and gsi1 entries) of these tables whose partition key is "<t>#...";
        a request without that key (the Null test) is refused too."""
        for table in tables:
            acknowledge(
                self.role,
                resource_finding(table, "/index/*"),
                "Queries on the table's gsi1, whose tenant-led partition keys dynamodb:LeadingKeys pins to "
                "the session's tenant like the table's own.",
            )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=ITEM_ACTIONS,
                resources=[arn for t in tables for arn in (t.table_arn, f"{t.table_arn}/index/*")],
                conditions={
                    "ForAllValues:StringLike": {"dynamodb:LeadingKeys": [f"{TENANT}#*"]},
                    "Null": {"dynamodb:LeadingKeys": "false"},
                },
            )
        )

    def include_objects(self, bucket: s3.IBucket, actions: Sequence[str]) -> None:
        """Sessions reach `bucket`'s objects under tenants/<t>/ and list only below that prefix."""
        acknowledge(
            self.role,
            resource_finding(bucket, "/tenants/<aws:PrincipalTag/" + TENANT_TAG + ">/*"),
            "Objects under tenants/${aws:PrincipalTag/tenant}/: the session's own tenant's prefix only.",
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=list(actions), resources=[bucket.arn_for_objects(f"tenants/{TENANT}/*")]
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=[bucket.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"tenants/{TENANT}/*"]}},
            )
        )

    def grant_assume(self, fn: MaestroFunction) -> None:
        fn.function.add_to_role_policy(
            iam.PolicyStatement(actions=["sts:AssumeRole", "sts:TagSession"], resources=[self.role.role_arn])
        )
