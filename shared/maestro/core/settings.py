"""The one place configuration is read from the environment (a pydantic settings model, read once).
Must never be bypassed with scattered os.environ look-ups."""

from __future__ import annotations

from functools import lru_cache

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Names are global across functions so one process (the local runtime) can host them all."""

    model_config = SettingsConfigDict(env_prefix="MAESTRO_", extra="ignore")

    region: str = Field(
        default="us-east-1",
        validation_alias=AliasChoices("AWS_REGION", "AWS_DEFAULT_REGION", "MAESTRO_REGION"),
    )
    stage: str = "dev"
    event_bus_name: str = "maestro"
    platform_table: str = "maestro-platform"
    artifacts_bucket: str = "maestro-artifacts"
    # Claim names: Cognito's by default; an external OIDC issuer may use others (CDK context sets them).
    tenant_claim: str = "custom:tenant"
    roles_claim: str = "cognito:groups"
    principal_claim: str = "sub"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
