"""Audit records: what a bus event becomes (who, what, outcome), redaction, and the hash chain's links."""

from maestro.audit.records import GENESIS, RedactionRules, Redactor, chained, from_event, mask, record_hash

REDACT = Redactor(RedactionRules(), salt="s1")


def event(detail_type: str, **payload: object) -> dict[str, object]:
    return {
        "id": "bus-1",
        "source": "maestro.registry",
        "detail-type": detail_type,
        "time": "2026-11-27T10:00:00Z",
        "detail": {
            "event_id": "ev-1",
            "tenant": "acme",
            "principal": "erin",
            "roles": ["ml-engineer"],
            "correlation_id": "req-9",
            **payload,
        },
    }


def test_a_bus_event_becomes_a_record_of_who_did_what_with_which_outcome() -> None:
    record = from_event(event("ModelVersionCreated", name="churn", version="3"), REDACT)
    assert record == {
        "record_id": "ev-1",
        "tenant": "acme",
        "principal": "erin",
        "roles": ["ml-engineer"],
        "action": "registry:ModelVersionCreated",
        "resource": "churn@3",
        "occurred_at": "2026-11-27T10:00:00Z",
        "source": "maestro.registry",
        "request_id": "req-9",
        "outcome": "success",
        "record_class": "change",
        "detail": {"name": "churn", "version": "3"},
    }
    denied = from_event(
        event("AccessDenied", method="DELETE", path="/models/x", permission="registry:delete"), REDACT
    )
    assert (denied["outcome"], denied["resource"], denied["record_class"]) == (
        "denied",
        "DELETE /models/x",
        "security",
    )
    assert from_event(event("ExplanationFailed", job_id="j-1"), REDACT)["outcome"] == "failure"


def test_sensitive_keys_and_email_addresses_are_masked_consistently_per_tenant() -> None:
    detail = {"owner_email": "ann@x.io", "note": "ask bob@y.org", "nested": {"password": "hunter2"}, "n": 3}
    masked = REDACT(detail)
    assert masked["owner_email"] == mask("ann@x.io", "s1") and masked["owner_email"].startswith("pii:")
    assert masked["note"] == f"ask {mask('bob@y.org', 's1')}"
    assert masked["nested"]["password"].startswith("pii:") and masked["n"] == 3
    assert "hunter2" not in str(masked) and "ann@x.io" not in str(masked)
    other_tenant = Redactor(RedactionRules(), salt="s2")(detail)
    assert other_tenant["owner_email"] != masked["owner_email"]


def test_configured_rules_replace_the_defaults() -> None:
    redact = Redactor(RedactionRules(keys=["^customer_id$"], values=[]), salt="s")
    assert redact({"customer_id": "c-1", "email": "a@b.io"}) == {
        "customer_id": mask("c-1", "s"),
        "email": "a@b.io",
    }


def test_each_record_commits_to_the_one_before() -> None:
    first = chained({"record_id": "a", "principal": "p"}, 1, GENESIS, "t")
    second = chained({"record_id": "b", "principal": "q"}, 2, first["hash"], "t")
    assert second["prev_hash"] == first["hash"] and record_hash(second) == second["hash"]
    assert record_hash({**first, "principal": "mallory"}) != first["hash"]
    assert record_hash({**first, "seq": 2}) != first["hash"]


def test_redaction_masks_the_end_of_a_long_value() -> None:
    # Its speed (linear: the naive pattern takes minutes on this) is a `make bench` figure, not a test's.
    masked = REDACT({"blob": "a" * 1_000_000 + " reach me at ann@x.io"})
    assert masked["blob"].endswith(mask("ann@x.io", "s1"))


def test_settings_refuse_a_pattern_that_is_not_a_regular_expression() -> None:
    import pytest
    from pydantic import ValidationError

    from maestro.audit.settings import AuditSettings

    with pytest.raises(ValidationError, match="hipaa_resources"):
        AuditSettings.model_validate({"hipaa_resources": ["("]})
    with pytest.raises(ValidationError, match=r"redaction\.keys"):
        AuditSettings.model_validate({"redaction": {"keys": ["["]}})
