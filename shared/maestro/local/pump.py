"""Delivers queued work to handlers, as Lambda's event source mappings and EventBridge targets would:
drains SQS queues that feed functions, and fires schedule rules. Must never delete a message whose
processing failed (it returns after the visibility timeout, then goes to its DLQ)."""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from maestro.core.aws import client
from maestro.local.provision import ShadowQueue
from maestro.local.schedule import Schedule, UnsupportedSchedule
from maestro.local.template import EventSourceMapping, LocalModel, Rule, RuleTarget

log = logging.getLogger("maestro.local.pump")
Invoke = Callable[[str, Any], Any]


@dataclass(frozen=True)
class Source:
    """One queue and what to do with a batch from it."""

    url: str
    arn: str
    batch_size: int
    deliver: Callable[[list[dict[str, Any]]], set[str]]  # returns the message ids that failed


def _queue_url(queue_arn: str) -> str:
    name = queue_arn.split(":")[-1]
    return client("sqs").get_queue_url(QueueName=name)["QueueUrl"]


class EventPump:
    def __init__(
        self, model: LocalModel, shadows: list[ShadowQueue], invoke: Invoke, poll_wait_s: int = 1
    ) -> None:
        self.model, self.invoke, self.poll_wait_s = model, invoke, poll_wait_s
        self.sources = [self._mapping_source(m) for m in model.mappings]
        self.sources += [self._shadow_source(s) for s in shadows]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def _mapping_source(self, mapping: EventSourceMapping) -> Source:
        def deliver(messages: list[dict[str, Any]]) -> set[str]:
            records = [self._sqs_record(m, mapping.queue_arn) for m in messages]
            try:
                result = self.invoke(mapping.function, {"Records": records})
            except Exception:  # the whole batch returns to the queue, as with Lambda
                log.exception("function %s failed on a batch of %d", mapping.function, len(records))
                return {m["MessageId"] for m in messages}
            if mapping.report_failures and isinstance(result, dict):
                return {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
            return set()

        return Source(_queue_url(mapping.queue_arn), mapping.queue_arn, mapping.batch_size, deliver)

    def _shadow_source(self, shadow: ShadowQueue) -> Source:
        def deliver(messages: list[dict[str, Any]]) -> set[str]:
            failed = set()
            for message in messages:
                try:
                    self.deliver_to_target(shadow.target, json.loads(message["Body"]))
                except Exception:  # redelivered later, as EventBridge retries a target
                    log.exception("rule %s target %s failed", shadow.rule, shadow.target.target_id)
                    failed.add(message["MessageId"])
            return failed

        return Source(shadow.url, shadow.url, 10, deliver)

    def deliver_to_target(self, target: RuleTarget, event: dict[str, Any]) -> None:
        payload = json.loads(target.extra["Input"]) if "Input" in target.extra else event
        if target.kind == "lambda":
            self.invoke(target.arn, payload)
        elif target.kind == "states":
            client("stepfunctions").start_execution(
                stateMachineArn=target.arn, name=str(uuid.uuid4()), input=json.dumps(payload)
            )
        elif target.kind == "sqs":
            client("sqs").send_message(
                QueueUrl=_queue_url(target.arn),
                MessageBody=json.dumps(payload),
                **(
                    {"MessageGroupId": target.extra["SqsParameters"]["MessageGroupId"]}
                    if "SqsParameters" in target.extra
                    else {}
                ),
            )
        else:
            log.warning("target %s (%s) is not delivered locally", target.target_id, target.arn)

    def _sqs_record(self, message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": message.get("MessageAttributes", {}),
            "md5OfBody": message.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": queue_arn,
            "awsRegion": self.model.region,
        }

    def poll_once(self, source: Source) -> int:
        sqs = client("sqs")
        messages = sqs.receive_message(
            QueueUrl=source.url,
            MaxNumberOfMessages=min(source.batch_size, 10),
            WaitTimeSeconds=self.poll_wait_s,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return 0
        failed = source.deliver(messages)
        done = [
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
            for i, m in enumerate(messages)
            if m["MessageId"] not in failed
        ]
        if done:
            sqs.delete_message_batch(QueueUrl=source.url, Entries=done)
        return len(messages)

    def _run(self, source: Source) -> None:
        while not self._stop.is_set():
            try:
                count = self.poll_once(source)
            except Exception:  # keep draining; a broken poll is logged and retried
                log.exception("polling %s failed", source.url)
                count = 0
            if count == 0:
                self._stop.wait(0.05)

    def start(self) -> EventPump:
        for source in self.sources:
            thread = threading.Thread(
                target=self._run, args=(source,), name=f"pump-{source.url[-30:]}", daemon=True
            )
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=self.poll_wait_s + 5)


class Scheduler:
    """Fires schedule rules on their expression; `fire` fires one now (tests, `maestro local fire`)."""

    def __init__(self, rules: list[Rule], pump: EventPump, region: str) -> None:
        self.pump, self.region = pump, region
        self.rules: dict[str, tuple[Rule, Schedule | None]] = {}
        for rule in rules:
            if not rule.schedule:
                continue
            try:
                schedule: Schedule | None = Schedule.parse(rule.schedule)
            except UnsupportedSchedule as exc:
                log.warning("rule %s fires only on demand locally: %s", rule.name, exc)
                schedule = None
            self.rules[rule.name] = (rule, schedule)
        self._last = {name: datetime.now(UTC) for name in self.rules}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def names(self) -> dict[str, str]:
        return {name: rule.schedule or "" for name, (rule, _) in self.rules.items()}

    def fire(self, name_or_logical_id: str) -> int:
        found = self.rules.get(name_or_logical_id) or next(
            (v for v in self.rules.values() if v[0].logical_id == name_or_logical_id), None
        )
        if found is None:
            raise KeyError(f"no schedule rule {name_or_logical_id!r}; known: {sorted(self.rules)}")
        rule = found[0]
        now = datetime.now(UTC)
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": "123456789012",
            "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self.region,
            "resources": [f"arn:aws:events:{self.region}:123456789012:rule/{rule.name}"],
            "detail": {},
        }
        for target in rule.targets:
            self.pump.deliver_to_target(target, event)
        self._last[rule.name] = now
        return len(rule.targets)

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            now = datetime.now(UTC)
            for name, (rule, schedule) in self.rules.items():
                if schedule and rule.enabled and schedule.due(self._last[name], now):
                    try:
                        self.fire(name)
                    except Exception:  # one failing schedule must not stop the others
                        log.exception("scheduled rule %s failed", name)
                    self._last[name] = now

    def start(self) -> Scheduler:
        self._thread = threading.Thread(target=self._run, name="scheduler", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
