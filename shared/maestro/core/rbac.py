"""The permission catalogue and the roles built from it: the single source of what each role may do.
Must never be checked ad hoc in a handler; routes declare a permission (core.api.requires)."""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    # platform
    PLATFORM_WHOAMI = "platform:whoami"
    # registry and experiment tracking (MLflow experiments and runs)
    EXPERIMENT_READ = "experiment:read"
    EXPERIMENT_WRITE = "experiment:write"
    EXPERIMENT_DELETE = "experiment:delete"
    REGISTRY_READ = "registry:read"
    REGISTRY_WRITE = "registry:write"
    REGISTRY_DELETE = "registry:delete"
    # A/B testing
    AB_READ = "ab:read"
    AB_WRITE = "ab:write"
    AB_ASSIGN = "ab:assign"
    AB_INGEST = "ab:ingest"
    AB_ANALYZE = "ab:analyze"
    AB_CONCLUDE = "ab:conclude"
    # explanation jobs
    EXPLAIN_READ = "explain:read"
    EXPLAIN_SUBMIT = "explain:submit"
    EXPLAIN_CANCEL = "explain:cancel"
    # audit trail
    AUDIT_READ = "audit:read"
    AUDIT_VERIFY = "audit:verify"
    AUDIT_REPORT = "audit:report"
    AUDIT_WRITE = "audit:write"
    AUDIT_CONFIGURE = "audit:configure"
    # SLOs
    SLA_READ = "sla:read"
    SLA_WRITE = "sla:write"
    SLA_OBSERVE = "sla:observe"
    # model monitoring
    MONITORING_READ = "monitoring:read"
    MONITORING_WRITE = "monitoring:write"
    MONITORING_CONFIGURE = "monitoring:configure"
    # training jobs and sweeps
    TRAINING_READ = "training:read"
    TRAINING_SUBMIT = "training:submit"
    TRAINING_STOP = "training:stop"
    # model rollouts
    DEPLOY_READ = "deploy:read"
    DEPLOY_START = "deploy:start"
    DEPLOY_ABORT = "deploy:abort"
    DEPLOY_ROUTE = "deploy:route"
    # insights over the team's own history
    INSIGHTS_READ = "insights:read"
    INSIGHTS_CONFIGURE = "insights:configure"
    # tenancy
    TENANT_READ = "tenant:read"
    TENANT_USERS = "tenant:users"
    USAGE_READ = "usage:read"
    PLATFORM_ADMIN = "platform:admin"


P = Permission

_VIEWER = frozenset(
    {
        P.PLATFORM_WHOAMI,
        P.EXPERIMENT_READ,
        P.REGISTRY_READ,
        P.AB_READ,
        P.EXPLAIN_READ,
        P.SLA_READ,
        P.MONITORING_READ,
        P.TRAINING_READ,
        P.DEPLOY_READ,
        P.INSIGHTS_READ,
        P.TENANT_READ,
    }
)
_DATA_SCIENTIST = _VIEWER | {
    P.EXPERIMENT_WRITE,
    P.REGISTRY_WRITE,
    P.AB_ANALYZE,
    P.EXPLAIN_SUBMIT,
    P.TRAINING_SUBMIT,
    P.TRAINING_STOP,
}
_ML_ENGINEER = _DATA_SCIENTIST | {
    P.EXPERIMENT_DELETE,
    P.REGISTRY_DELETE,
    P.AB_WRITE,
    P.AB_ASSIGN,
    P.AB_INGEST,
    P.AB_CONCLUDE,
    P.EXPLAIN_CANCEL,
    P.SLA_WRITE,
    P.SLA_OBSERVE,
    P.MONITORING_WRITE,
    P.MONITORING_CONFIGURE,
    P.DEPLOY_START,
    P.DEPLOY_ABORT,
    P.DEPLOY_ROUTE,
    P.INSIGHTS_CONFIGURE,
}
_AUDITOR = _VIEWER | {P.AUDIT_READ, P.AUDIT_VERIFY, P.AUDIT_REPORT, P.USAGE_READ}
# A machine caller: serves assignments, reports events, observations and serving records, posts audit records.
_SERVICE = frozenset(
    {
        P.PLATFORM_WHOAMI,
        P.AB_ASSIGN,
        P.AB_INGEST,
        P.SLA_OBSERVE,
        P.AUDIT_WRITE,
        P.MONITORING_WRITE,
        P.DEPLOY_ROUTE,
    }
)
# Everything inside one tenant; only the platform admin acts across tenants.
_TENANT_ADMIN = frozenset(Permission) - {P.PLATFORM_ADMIN}

ROLES: dict[str, frozenset[Permission]] = {
    "viewer": _VIEWER,
    "data-scientist": _DATA_SCIENTIST,
    "ml-engineer": _ML_ENGINEER,
    "auditor": _AUDITOR,
    "service": _SERVICE,
    "tenant-admin": _TENANT_ADMIN,
    "admin": frozenset(Permission),
}


def permissions_for(roles: frozenset[str] | set[str] | list[str]) -> frozenset[Permission]:
    """Union of the roles' permissions; an unknown role grants nothing (it is not an error:
    an identity provider may carry groups that mean nothing to Maestro ML)."""
    granted: set[Permission] = set()
    for role in roles:
        granted |= ROLES.get(role, frozenset())
    return frozenset(granted)
