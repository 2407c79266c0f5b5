from maestro.core.rbac import ROLES, Permission, permissions_for

CAPABILITIES = {
    "platform",
    "experiment",
    "registry",
    "ab",
    "explain",
    "training",
    "deploy",
    "audit",
    "sla",
    "monitoring",
    "insights",
    "tenant",
    "usage",
}


def test_catalogue_covers_every_capability_with_at_least_22_permissions() -> None:
    assert len(Permission) >= 22
    assert {p.value.split(":")[0] for p in Permission} == CAPABILITIES


def test_admin_holds_everything_and_tenant_admin_everything_but_platform_admin() -> None:
    assert ROLES["admin"] == frozenset(Permission)
    assert ROLES["tenant-admin"] == frozenset(Permission) - {Permission.PLATFORM_ADMIN}


def test_roles_grow_from_viewer_to_ml_engineer() -> None:
    assert ROLES["viewer"] < ROLES["data-scientist"] < ROLES["ml-engineer"]
    assert all(p.value.endswith(":read") or p is Permission.PLATFORM_WHOAMI for p in ROLES["viewer"])


def test_auditor_can_verify_and_report_but_change_nothing() -> None:
    auditor = ROLES["auditor"]
    assert {Permission.AUDIT_READ, Permission.AUDIT_VERIFY, Permission.AUDIT_REPORT} <= auditor
    assert not any(p.value.endswith((":write", ":delete", ":submit")) for p in auditor)


def test_unknown_roles_grant_nothing_and_roles_combine_by_union() -> None:
    assert permissions_for(["marketing"]) == frozenset()
    assert permissions_for(["auditor", "data-scientist"]) == ROLES["auditor"] | ROLES["data-scientist"]
