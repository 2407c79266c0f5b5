"""Each tenant's SageMaker execution role (the gateway to IAM): made on the tenant's first training job,
tagged tenant=<t>, bounded by and attached to the platform's tenant training policy, whose statements name
`tenants/${aws:PrincipalTag/tenant}/`: a role's tag is its sessions' principal tag, so a job (and the tenant
code it runs) reads and writes its own tenant's prefix only, as the tenant access role's sessions do. A
tenant's deletion removes its role. Must never make a role without the boundary, nor for another tenant."""

from __future__ import annotations

import hashlib
import json
import time

from maestro.core.aws import client, error_code
from maestro.core.settings import get_settings
from maestro.core.tenancy import validate_tenant_id

PROPAGATION_S = 10  # IAM is eventually consistent: SageMaker may not assume a role made this instant
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


def role_name(tenant: str) -> str:
    """IAM names are unique per account and at most 64 characters; tenant ids may be 63: a digest."""
    settings = get_settings()
    return (
        "maestro-training-"
        + hashlib.sha256(f"{settings.training_role_path}{tenant}".encode()).hexdigest()[:40]
    )


def ensure(tenant: str) -> str:
    """The tenant's role's ARN, made (and given time to propagate) when it does not exist yet."""
    settings, iam, name = get_settings(), client("iam"), role_name(validate_tenant_id(tenant))
    try:
        return str(iam.get_role(RoleName=name)["Role"]["Arn"])
    except Exception as exc:
        if error_code(exc) != "NoSuchEntity":
            raise
    try:
        arn = str(
            iam.create_role(
                RoleName=name,
                Path=settings.training_role_path,
                AssumeRolePolicyDocument=json.dumps(TRUST),
                PermissionsBoundary=settings.training_policy_arn,
                Description=f"Maestro ML training jobs of tenant {tenant}",
                Tags=[{"Key": "tenant", "Value": tenant}],
            )["Role"]["Arn"]
        )
    except Exception as exc:
        if error_code(exc) != "EntityAlreadyExists":  # made meanwhile by another job
            raise
        return str(iam.get_role(RoleName=name)["Role"]["Arn"])
    iam.attach_role_policy(RoleName=name, PolicyArn=settings.training_policy_arn)
    time.sleep(PROPAGATION_S)
    return arn


def remove(tenant: str) -> dict[str, int]:
    """Deletes the tenant's role, if it has one (its attached policies first): {"training_roles": 0 or 1}."""
    iam, name = client("iam"), role_name(tenant)
    try:
        attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
    except Exception as exc:
        if error_code(exc) == "NoSuchEntity":
            return {"training_roles": 0}
        raise
    for policy in attached:
        iam.detach_role_policy(RoleName=name, PolicyArn=policy["PolicyArn"])
    iam.delete_role(RoleName=name)
    return {"training_roles": 1}
