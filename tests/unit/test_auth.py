import pytest

from maestro.core.auth import auth_from_claims, auth_from_event, parse_list_claim
from maestro.core.errors import Forbidden, Unauthorized
from maestro.core.rbac import Permission
from maestro.core.settings import Settings


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("[admin viewer]", {"admin", "viewer"}),  # API Gateway HTTP API's rendering of an array claim
        ('["admin", "viewer"]', {"admin", "viewer"}),
        ("admin,viewer", {"admin", "viewer"}),
        ("admin viewer", {"admin", "viewer"}),
        (["admin", "viewer"], {"admin", "viewer"}),
        ("[]", set()),
        ("", set()),
        (None, set()),
    ],
)
def test_list_claims_parse_the_same_in_every_shape(value: object, expected: set[str]) -> None:
    assert parse_list_claim(value) == expected


def test_auth_context_from_api_gateway_claims() -> None:
    auth = auth_from_claims({"sub": "alice", "custom:tenant": "acme", "cognito:groups": "[viewer]"})
    assert (auth.principal, auth.tenant, auth.roles) == ("alice", "acme", frozenset({"viewer"}))
    assert auth.can(Permission.REGISTRY_READ) and not auth.can(Permission.REGISTRY_WRITE)


def test_claim_names_come_from_settings_for_external_oidc_issuers() -> None:
    settings = Settings(tenant_claim="org", roles_claim="groups")
    auth = auth_from_claims({"sub": "a", "org": "acme", "groups": "[admin]"}, settings)
    assert auth.tenant == "acme" and auth.roles == {"admin"} and auth.can(Permission.TENANT_USERS)


def test_platform_admin_holds_only_for_the_platform_tenants_admins() -> None:
    # An `admin` of any other tenant administers that tenant alone: it holds everything else.
    tenant_admin = auth_from_claims({"sub": "a", "custom:tenant": "acme", "cognito:groups": "[admin]"})
    assert not tenant_admin.can(Permission.PLATFORM_ADMIN)
    assert tenant_admin.permissions == frozenset(Permission) - {Permission.PLATFORM_ADMIN}
    operator = auth_from_claims({"sub": "o", "custom:tenant": "platform", "cognito:groups": "[admin]"})
    assert operator.can(Permission.PLATFORM_ADMIN) and operator.is_platform


def test_missing_identity_is_401_and_missing_tenant_is_403() -> None:
    with pytest.raises(Unauthorized):
        auth_from_event({"requestContext": {}})
    with pytest.raises(Unauthorized):
        auth_from_claims({"custom:tenant": "acme"})
    with pytest.raises(Forbidden):
        auth_from_claims({"sub": "a"})


@pytest.mark.parametrize("tenant", ["ACME", "a#b", "-acme", "acme-", "x" * 64, "a/b", ""])
def test_invalid_tenant_ids_are_refused(tenant: str) -> None:
    with pytest.raises(Forbidden):
        auth_from_claims(
            {"sub": "a", "custom:tenant": tenant} if tenant else {"sub": "a", "custom:tenant": "#"}
        )


def test_settings_come_from_maestro_variables_and_lambdas_region() -> None:
    settings = Settings.from_environ(
        {
            "MAESTRO_PLATFORM_TABLE": "t1",
            "MAESTRO_TENANT_CLAIM": "org",
            "AWS_REGION": "eu-west-1",
            "HOME": "/x",
        }
    )
    assert (settings.platform_table, settings.tenant_claim, settings.region) == ("t1", "org", "eu-west-1")
    assert settings.event_bus_name == "maestro"
