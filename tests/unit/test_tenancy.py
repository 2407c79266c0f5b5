from hypothesis import given
from hypothesis import strategies as st

from maestro.core.tenancy import TENANT_ID, tenant_key, tenant_prefix

tenants = st.from_regex(TENANT_ID, fullmatch=True)


def test_keys_and_prefixes_lead_with_the_tenant() -> None:
    assert tenant_key("acme", "MODEL", "churn") == "acme#MODEL#churn"
    assert tenant_prefix("acme") == "tenants/acme/"


@given(tenants, tenants, st.lists(st.text(min_size=1), max_size=3))
def test_no_tenants_key_falls_under_another_tenants_prefix(a: str, b: str, parts: list[str]) -> None:
    # The separator cannot occur in a tenant id, so "acme" never reads "acme-eu"'s keys by prefix.
    if a != b:
        assert not tenant_key(a, *parts).startswith(b + "#")
        assert not tenant_prefix(a).startswith(tenant_prefix(b))
