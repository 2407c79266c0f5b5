"""The one place configuration is read from the environment: a pydantic model, validated and read once.
Must never be bypassed with scattered os.environ look-ups.

A plain pydantic model rather than pydantic-settings: we read nothing but environment variables, and
pydantic-settings' source providers (CLI, dotenv, cloud secrets) cost ~60 ms on every cold start."""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache

from pydantic import BaseModel, ConfigDict

PREFIX = "MAESTRO_"


class Settings(BaseModel):
    """Names are global across functions so one process (the local runtime) can host them all:
    field `platform_table` is read from MAESTRO_PLATFORM_TABLE."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    region: str = "us-east-1"
    stage: str = "dev"
    event_bus_name: str = "maestro"
    platform_table: str = "maestro-platform"
    artifacts_bucket: str = "maestro-artifacts"
    registry_table: str = "maestro-registry"
    ab_table: str = "maestro-ab"
    sla_table: str = "maestro-sla"
    audit_table: str = "maestro-audit"
    audit_archive_bucket: str = "maestro-audit-archive"
    audit_signing_key: str = "alias/maestro-audit"
    audit_queue_url: str = ""
    explain_table: str = "maestro-explain"
    monitoring_table: str = "maestro-monitoring"
    explain_state_machine_arn: str = ""
    training_table: str = "maestro-training"
    training_state_machine_arn: str = ""
    training_sweep_state_machine_arn: str = ""
    # Tenants' SageMaker execution roles: their IAM path, and the policy that bounds and grants them.
    training_role_path: str = "/maestro-training/"
    training_policy_arn: str = ""
    tenants_purge_state_machine_arn: str = ""
    tenants_export_state_machine_arn: str = ""
    delivery_table: str = "maestro-delivery"
    delivery_state_machine_arn: str = ""
    drill_state_machine_arn: str = ""
    insights_table: str = "maestro-insights"
    insights_backfill_state_machine_arn: str = ""
    # The tenant under which Maestro ML's own functions are observed and their SLOs are defined; its callers
    # are the platform's operators (platform:admin holds only here).
    platform_tenant: str = "platform"
    # The role whose sessions, tagged tenant=<t>, reach one tenant's items and objects (see core.aws);
    # empty: the function's own credentials are used for everything.
    tenant_role_arn: str = ""
    # Claim names: Cognito's by default; an external OIDC issuer may use others (CDK context sets them).
    tenant_claim: str = "custom:tenant"
    roles_claim: str = "cognito:groups"
    principal_claim: str = "sub"

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        values = {
            name: environ[PREFIX + name.upper()]
            for name in cls.model_fields
            if PREFIX + name.upper() in environ
        }
        region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")  # Lambda sets AWS_REGION
        if region and "region" not in values:
            values["region"] = region
        return cls.model_validate(values)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_environ()
