from typing import Any

import pytest

from maestro.core.aws import client
from maestro.core.events import DomainEvent, EventPublisher, EventPublishError
from tests.integration.conftest import drain


def event(i: int) -> DomainEvent:
    return DomainEvent("registry", "ModelVersionCreated", "acme", {"version": i}, principal="alice")


def count_put_events(calls: list[int]) -> None:
    def on_params(params: dict[str, Any], **_: Any) -> None:
        calls.append(len(params["Entries"]))

    client("events").meta.events.register("provide-client-params.events.PutEvents", on_params)


def test_events_go_out_in_batches_of_ten_and_all_arrive(bus_queue: str) -> None:
    calls: list[int] = []
    count_put_events(calls)
    assert EventPublisher().publish(event(i) for i in range(25)) == 25
    assert calls == [10, 10, 5]
    received = drain(bus_queue)
    assert sorted(e["detail"]["version"] for e in received) == list(range(25))
    first = received[0]
    assert first["source"] == "maestro.registry" and first["detail-type"] == "ModelVersionCreated"
    assert first["detail"]["tenant"] == "acme" and first["detail"]["principal"] == "alice"


def reject_first_entry_on_first_call(rejections: list[int]) -> None:
    """Fault injection on the AWS response (EventBridge's partial failure), not on our code."""

    def after_call(parsed: dict[str, Any], **_: Any) -> None:
        if not rejections:
            rejections.append(1)
            parsed["FailedEntryCount"] = 1
            parsed["Entries"][0] = {"ErrorCode": "ThrottlingException", "ErrorMessage": "slow down"}

    client("events").meta.events.register("after-call.events.PutEvents", after_call)


def test_rejected_entries_are_retried_alone(bus_queue: str) -> None:
    calls: list[int] = []
    count_put_events(calls)
    reject_first_entry_on_first_call([])
    EventPublisher(base_delay=0).publish([event(1), event(2), event(3)])
    assert calls == [3, 1]  # the retry resends only the rejected entry
    # The first call's entry 0 was in fact delivered by moto before the fault was injected, so it
    # arrives twice: at-least-once delivery, which is why consumers dedupe by event_id.
    versions = sorted(e["detail"]["version"] for e in drain(bus_queue))
    assert versions == [1, 1, 2, 3]


def test_entries_still_rejected_after_every_attempt_raise(bus_queue: str) -> None:
    def always_reject(parsed: dict[str, Any], **_: Any) -> None:
        parsed["FailedEntryCount"] = len(parsed["Entries"])
        parsed["Entries"] = [{"ErrorCode": "InternalFailure", "ErrorMessage": "x"} for _ in parsed["Entries"]]

    client("events").meta.events.register("after-call.events.PutEvents", always_reject)
    with pytest.raises(EventPublishError) as raised:
        EventPublisher(max_attempts=3, base_delay=0).publish([event(1), event(2)])
    assert len(raised.value.failed) == 2
    assert raised.value.failed[0]["ErrorCode"] == "InternalFailure"


def test_oversized_events_are_refused_before_sending() -> None:
    huge = DomainEvent("registry", "X", "acme", {"blob": "x" * 300_000})
    with pytest.raises(ValueError, match="256 KB"):
        huge.to_entry("maestro")


@pytest.mark.parametrize("key", ["principal", "roles", "tenant", "event_id", "correlation_id"])
def test_a_detail_that_would_overwrite_the_envelope_is_refused(key: str) -> None:
    # The envelope says who acted for which tenant; a detail key of the same name would silently replace it.
    clash = DomainEvent("audit", "SecurityAlert", "acme", {key: "someone-else"}, principal="maestro-audit")
    with pytest.raises(ValueError, match=f"envelope's keys \\['{key}'\\]"):
        clash.to_entry("maestro")
