"""A tenant's audit settings: redaction rules, retention per record class, the security alert thresholds,
which actions count as privileged, and which resources carry protected health information (HIPAA).
Must never be read without defaults: a tenant that configured nothing is audited with these."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from maestro.audit.records import RedactionRules, compiled


class Retention(BaseModel):
    model_config = ConfigDict(extra="forbid")

    change: int = Field(2555, ge=1, le=3650, description="days the index keeps changes (7 years)")
    access: int = Field(365, ge=1, le=3650)
    security: int = Field(2555, ge=1, le=3650)
    job: int = Field(365, ge=1, le=3650)


class DeniedAlert(BaseModel):
    model_config = ConfigDict(extra="forbid")

    threshold: int = Field(5, ge=1, le=10_000, description="AccessDenied for one principal ...")
    window_minutes: int = Field(10, ge=1, le=1440, description="... within this window raise a SecurityAlert")


class AuditSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    redaction: RedactionRules = Field(default_factory=RedactionRules)
    retention_days: Retention = Field(default_factory=Retention)
    denied_alert: DeniedAlert = Field(default_factory=DeniedAlert)
    privileged_actions: list[str] = Field(
        default_factory=lambda: [
            r"RoleGranted",
            r"TenantCreated|TenantDeleted|TenantSuspended",
            r"ModelVersionDeleted|RegisteredModelDeleted|ExperimentDeleted",
            r"AliasSet|ExperimentAutoConcluded",
            r"AuditSettingsChanged",
        ],
        max_length=50,
        description="regular expressions on actions: matching records are privileged (SOC 2) and alerted",
    )
    hipaa_resources: list[str] = Field(
        default_factory=list, max_length=50, description="regular expressions on resources holding PHI"
    )

    _compiles = field_validator("privileged_actions", "hipaa_resources")(lambda patterns: compiled(patterns))
