"""The audit trail over real HTTP against the local platform: other capabilities' actions become records with
the right who/what/outcome; verify passes; then each kind of tampering, done directly in the local DynamoDB
and S3, is named exactly by verify. Duplicates, out-of-order and poison deliveries; Object Lock; security
alerts; reports; tenant isolation."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.support import RunningPlatform, start_platform, wait_for


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPlatform]:
    running = start_platform(tmp_path_factory.mktemp("audit-state"))
    yield running
    assert running.stop() == 0, running.log_path.read_text()[-3000:]


def api(platform: RunningPlatform, method: str, path: str, token: str, **kw: Any) -> requests.Response:
    return requests.request(
        method, platform.url + path, headers={"Authorization": f"Bearer {token}"}, timeout=60, **kw
    )


def physical(platform: RunningPlatform, prefix: str) -> str:
    """A resource's local name from the synthesized template (tables and buckets are named after it)."""
    ddb, s3 = platform.aws("dynamodb"), platform.aws("s3")
    names = ddb.list_tables()["TableNames"] + [b["Name"] for b in s3.list_buckets()["Buckets"]]
    (name,) = [n for n in names if n.lower().startswith(prefix.lower())]
    return name


def records(platform: RunningPlatform, token: str, **params: str) -> list[dict[str, Any]]:
    reply = api(platform, "GET", "/audit/events", token, params=params)
    assert reply.status_code == 200, reply.text
    return reply.json()["records"]


def test_actions_are_recorded_verified_and_every_tampering_is_named(platform: RunningPlatform) -> None:
    engineer = platform.token("acme", ["ml-engineer"], subject="erin")
    viewer = platform.token("acme", ["viewer"], subject="victor")
    auditor = platform.token("acme", ["auditor"], subject="ada")
    slo = {"name": "x", "service": "svc", "objectives": [{"kind": "availability", "target": 99}]}
    created = api(platform, "POST", "/sla/slos", engineer, json=slo).json()
    assert api(platform, "POST", "/sla/slos", viewer, json=slo).status_code == 403
    api(platform, "DELETE", f"/sla/slos/{created['slo_id']}", engineer)

    def trail() -> list[dict[str, Any]]:
        found = records(platform, auditor)
        return found if len(found) >= 3 else []

    found = {r["action"]: r for r in wait_for(trail, timeout_s=30)}
    made = found["sla:SloCreated"]
    assert (made["principal"], made["roles"], made["outcome"]) == ("erin", ["ml-engineer"], "success")
    assert made["resource"] == created["slo_id"] and made["source"] == "maestro.sla" and made["request_id"]
    denied = found["sla:AccessDenied"]
    assert (denied["principal"], denied["outcome"], denied["resource"]) == (
        "victor",
        "denied",
        "POST /sla/slos",
    )
    assert found["sla:SloDeleted"]["resource"] == created["slo_id"]
    only_denied = records(platform, auditor, outcome="denied")
    assert {r["action"] for r in only_denied} == {"sla:AccessDenied"}

    assert api(platform, "POST", "/audit/digests", auditor).json()["digest"]["number"] == 1
    assert api(platform, "GET", "/audit/verify", auditor).json()["valid"] is True

    table, bucket = (
        physical(platform, "Maestro-AuditAuditTable"),
        physical(platform, "maestro-auditarchivebucket"),
    )
    ddb, s3 = platform.aws("dynamodb"), platform.aws("s3")

    def item(seq: int) -> dict[str, Any]:
        return ddb.get_item(TableName=table, Key={"pk": {"S": "acme#AUDIT#LOG"}, "sk": {"S": f"{seq:012d}"}})[
            "Item"
        ]

    def first_break() -> dict[str, Any]:
        report = api(platform, "GET", "/audit/verify", auditor).json()
        assert report["valid"] is False
        return {k: report["first_break"][k] for k in ("kind", "where")} | {
            "seq": report["first_break"].get("seq"),
            "digest": report["first_break"].get("digest"),
        }

    original = [item(seq) for seq in (1, 2, 3)]

    altered = json.loads(original[1]["record"]["S"]) | {"principal": "mallory"}
    ddb.put_item(TableName=table, Item=original[1] | {"record": {"S": json.dumps(altered)}})
    assert first_break() == {"kind": "altered", "where": "index", "seq": 2, "digest": None}
    ddb.put_item(TableName=table, Item=original[1])

    ddb.delete_item(TableName=table, Key={"pk": original[1]["pk"], "sk": original[1]["sk"]})
    assert first_break() == {"kind": "deleted", "where": "index", "seq": 2, "digest": None}
    ddb.put_item(TableName=table, Item=original[1])

    swapped = {k: original[2][k] for k in original[2] if k not in ("pk", "sk")}
    ddb.put_item(
        TableName=table, Item={**original[1], **swapped, "pk": original[1]["pk"], "sk": original[1]["sk"]}
    )
    ddb.put_item(
        TableName=table,
        Item={
            **original[2],
            **{k: original[1][k] for k in original[1] if k not in ("pk", "sk")},
            "pk": original[2]["pk"],
            "sk": original[2]["sk"],
        },
    )
    assert first_break() == {"kind": "reordered", "where": "index", "seq": 2, "digest": None}
    ddb.put_item(TableName=table, Item=original[1])
    ddb.put_item(TableName=table, Item=original[2])

    digest_key = {"pk": {"S": "acme#AUDIT#DIGEST"}, "sk": {"S": "00000001"}}
    digest_item = ddb.get_item(TableName=table, Key=digest_key)["Item"]
    forged = json.loads(digest_item["digest"]["S"]) | {"last_seq": 2}
    ddb.put_item(TableName=table, Item=digest_item | {"digest": {"S": json.dumps(forged)}})
    assert first_break() == {"kind": "forged_digest", "where": "digest", "seq": None, "digest": 1}
    ddb.put_item(TableName=table, Item=digest_item)

    archive_key = json.loads(digest_item["digest"]["S"])["archive_key"]
    versions = s3.list_object_versions(Bucket=bucket, Prefix=archive_key)["Versions"]
    with pytest.raises(Exception, match="AccessDenied"):  # Object Lock (compliance mode) refuses the delete
        s3.delete_object(Bucket=bucket, Key=archive_key, VersionId=versions[0]["VersionId"])
    body = s3.get_object(Bucket=bucket, Key=archive_key)["Body"].read()
    s3.put_object(Bucket=bucket, Key=archive_key, Body=body.replace(b"erin", b"eve!"))  # a newer version
    assert first_break() == {"kind": "altered", "where": "archive", "seq": 1, "digest": 1}
    s3.put_object(Bucket=bucket, Key=archive_key, Body=body)
    assert api(platform, "GET", "/audit/verify", auditor).json()["valid"] is True


def test_duplicates_out_of_order_and_poison_deliveries(platform: RunningPlatform) -> None:
    auditor = platform.token("globex", ["auditor"])
    sqs = platform.aws("sqs")
    (queue_url,) = [u for u in sqs.list_queues()["QueueUrls"] if "AuditIngestQueue" in u]
    (dlq_url,) = [u for u in sqs.list_queues()["QueueUrls"] if "AuditIngestDlq" in u]

    def event(n: int, minute: int) -> dict[str, Any]:
        return {
            "version": "0",
            "id": f"bus-{n}",
            "detail-type": "ModelVersionCreated",
            "source": "maestro.registry",
            "account": "123456789012",
            "time": f"2026-11-27T10:{minute:02d}:00Z",
            "region": "us-east-1",
            "resources": [],
            "detail": {
                "event_id": f"ev-{n}",
                "tenant": "globex",
                "principal": "gil",
                "roles": ["ml-engineer"],
                "name": "churn",
                "version": str(n),
                "owner_email": "gil@globex.example",
            },
        }

    # A failed message returns after the visibility timeout (6 x the function's in AWS): shortened here so
    # the poison message's three receives take seconds, not 18 minutes.
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"VisibilityTimeout": "1"})
    bodies = [json.dumps(event(n, 59 - n)) for n in range(6)]  # newer events first
    bodies += bodies[:3]  # redelivered
    bodies.insert(4, "{not json")  # poison
    for body in bodies:
        sqs.send_message(QueueUrl=queue_url, MessageBody=body)

    def appended() -> list[dict[str, Any]]:
        found = records(platform, auditor, start="2026-11-27T00:00:00Z", end="2026-11-28T00:00:00Z")
        return found if len(found) >= 6 else []

    found = wait_for(appended, timeout_s=30)
    assert sorted(r["resource"] for r in found) == [f"churn@{n}" for n in range(6)]  # each once
    assert all(r["detail"]["owner_email"].startswith("pii:") for r in found)  # redacted by default
    assert api(platform, "GET", "/audit/verify", auditor).json()["valid"] is True

    def dead_lettered() -> list[dict[str, Any]]:
        return sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10).get("Messages", [])

    (poison,) = wait_for(dead_lettered, timeout_s=60)
    assert poison["Body"] == "{not json"
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"VisibilityTimeout": "360"})


def test_posted_records_count_once_and_reports_are_written(platform: RunningPlatform) -> None:
    service = platform.token("initech", ["service"], subject="billing-svc")
    auditor = platform.token("initech", ["auditor"])
    posted = {
        "records": [
            {
                "record_id": "r-1",
                "principal": "dana",
                "action": "billing:InvoiceViewed",
                "resource": "patient/17",
                "detail": {"email": "dana@initech.example"},
            },
            {
                "record_id": "r-2",
                "principal": "dana",
                "action": "billing:InvoiceChanged",
                "resource": "invoice/9",
                "record_class": "change",
            },
        ]
    }
    assert api(platform, "POST", "/audit/records", service, json=posted).status_code == 202
    assert api(platform, "POST", "/audit/records", service, json=posted).status_code == 202  # retried
    wait_for(lambda: len(records(platform, auditor, principal="dana")) == 2, timeout_s=30)
    viewed = records(platform, auditor, action="billing:InvoiceViewed")[0]
    assert viewed["source"] == "posted:billing-svc" and viewed["detail"]["email"].startswith("pii:")

    admin = platform.token("initech", ["tenant-admin"])
    settings = api(platform, "GET", "/audit/settings", admin).json() | {"hipaa_resources": ["^patient/"]}
    assert api(platform, "PUT", "/audit/settings", admin, json=settings).status_code == 200
    for kind, extra in (("gdpr", {"subject": "dana@initech.example"}), ("soc2", {}), ("hipaa", {})):
        reply = api(platform, "POST", "/audit/reports", auditor, json={"type": kind, **extra})
        assert reply.status_code == 201, reply.text
        report = reply.json()
        page = requests.get(report["urls"]["html"], timeout=30)
        assert page.status_code == 200 and "<table>" in page.text
        assert requests.get(report["urls"]["csv"], timeout=30).text.startswith("section,seq,")
    gdpr = api(
        platform, "POST", "/audit/reports", auditor, json={"type": "gdpr", "subject": "dana@initech.example"}
    ).json()
    assert gdpr["sections"]["export"] == 1  # the record whose detail held dana's (masked) email
    missing = api(platform, "POST", "/audit/reports", auditor, json={"type": "gdpr"})
    assert missing.status_code == 422 and missing.json()["error"]["fields"][0]["field"] == "subject"


def test_repeated_access_denied_raises_one_security_alert(platform: RunningPlatform) -> None:
    tap = platform.tap("audit-alerts", {"source": ["maestro.audit"], "detail-type": ["SecurityAlert"]})
    intruder = platform.token("hooli", ["viewer"], subject="ivan")
    for _ in range(7):
        assert api(platform, "POST", "/sla/slos", intruder, json={}).status_code in (403, 422)
        assert api(platform, "PUT", "/ab/holdout", intruder, json={"fraction": 0.1}).status_code == 403
    alerts: list[dict[str, Any]] = []

    def alerted() -> list[dict[str, Any]]:
        alerts.extend(platform.drain(tap))
        return [a for a in alerts if a["detail"].get("kind") == "repeated_access_denied"]

    (alert,) = wait_for(alerted, timeout_s=30)
    # The trail raises the alert (its actor); the intruder is what it is about.
    assert (
        alert["detail"]["subject"] == "ivan"
        and alert["detail"]["principal"] == "maestro-audit"
        and alert["detail"]["count"] == 5
        and alert["detail"]["tenant"] == "hooli"
    )


def test_auditors_see_only_their_tenant_and_others_cannot_read_the_trail(platform: RunningPlatform) -> None:
    engineer = platform.token("umbrella", ["ml-engineer"])
    api(
        platform,
        "POST",
        "/sla/slos",
        engineer,
        json={"name": "u", "service": "s", "objectives": [{"kind": "availability", "target": 99}]},
    )
    umbrella = platform.token("umbrella", ["auditor"])
    wait_for(lambda: records(platform, umbrella), timeout_s=30)
    other = platform.token("wayne", ["auditor"])
    assert records(platform, other) == []
    assert api(platform, "GET", "/audit/events", platform.token("umbrella", ["viewer"])).status_code == 403
    assert api(platform, "GET", "/audit/verify", engineer).status_code == 403


def test_the_cli_verifies_and_exits_non_zero_on_a_break(platform: RunningPlatform) -> None:
    import subprocess

    engineer = platform.token("stark", ["ml-engineer"])
    api(
        platform,
        "POST",
        "/sla/slos",
        engineer,
        json={"name": "c", "service": "s", "objectives": [{"kind": "availability", "target": 99}]},
    )
    token = platform.token("stark", ["auditor"])
    wait_for(lambda: records(platform, token), timeout_s=30)

    def maestro(*args: str) -> subprocess.CompletedProcess[str]:
        return platform.cli("audit", *args, token=token, timeout_s=120)

    assert maestro("digest").returncode == 0
    good = maestro("verify")
    assert good.returncode == 0 and good.stdout.startswith("valid: 1 records"), good.stderr
    table = physical(platform, "Maestro-AuditAuditTable")
    platform.aws("dynamodb").delete_item(
        TableName=table, Key={"pk": {"S": "stark#AUDIT#LOG"}, "sk": {"S": f"{1:012d}"}}
    )
    bad = maestro("verify")
    assert bad.returncode == 1 and "BROKEN: deleted in the index at record 1" in bad.stderr


def test_the_hourly_schedule_digests_and_reports_a_broken_chain(platform: RunningPlatform) -> None:
    tap = platform.tap("audit-broken", {"source": ["maestro.audit"], "detail-type": ["AuditChainBroken"]})
    engineer = platform.token("oscorp", ["ml-engineer"])
    api(
        platform,
        "POST",
        "/sla/slos",
        engineer,
        json={"name": "o", "service": "s", "objectives": [{"kind": "availability", "target": 99}]},
    )
    auditor = platform.token("oscorp", ["auditor"])
    wait_for(lambda: records(platform, auditor), timeout_s=30)
    schedules = requests.get(platform.url + "/_local/schedules", timeout=10).json()["schedules"]
    (hourly,) = [name for name in schedules if "HourlyDigest" in name]
    table = physical(platform, "Maestro-AuditAuditTable")
    key = {"pk": {"S": "oscorp#AUDIT#LOG"}, "sk": {"S": f"{1:012d}"}}
    item = platform.aws("dynamodb").get_item(TableName=table, Key=key)["Item"]
    platform.aws("dynamodb").put_item(TableName=table, Item=item | {"principal": {"S": "someone-else"}})
    assert requests.post(platform.url + "/_local/schedules/fire", params={"rule": hourly}, timeout=60).ok
    seen: list[dict[str, Any]] = []

    def broken() -> list[dict[str, Any]]:
        seen.extend(platform.drain(tap))
        return [e for e in seen if e["detail"]["tenant"] == "oscorp"]

    (event,) = wait_for(broken, timeout_s=30)
    assert event["detail"]["first_break"]["kind"] == "altered" and event["detail"]["first_break"]["seq"] == 1
    digests = platform.aws("dynamodb").query(
        TableName=table,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "oscorp#AUDIT#DIGEST"}},
    )["Items"]
    assert len(digests) == 1


def test_the_daily_schedule_writes_a_soc2_report_per_tenant(platform: RunningPlatform) -> None:
    engineer = platform.token("cyberdyne", ["ml-engineer"])
    api(
        platform,
        "POST",
        "/sla/slos",
        engineer,
        json={"name": "d", "service": "s", "objectives": [{"kind": "availability", "target": 99}]},
    )
    wait_for(lambda: records(platform, platform.token("cyberdyne", ["auditor"])), timeout_s=30)
    schedules = requests.get(platform.url + "/_local/schedules", timeout=10).json()["schedules"]
    (daily,) = [name for name in schedules if "DailyReport" in name]
    assert requests.post(platform.url + "/_local/schedules/fire", params={"rule": daily}, timeout=60).ok
    bucket = physical(platform, "maestro-auditarchivebucket")

    def written() -> list[str]:
        listed = platform.aws("s3").list_objects_v2(
            Bucket=bucket, Prefix="tenants/cyberdyne/audit/reports/soc2/"
        )
        return [o["Key"] for o in listed.get("Contents", [])]

    keys = wait_for(written, timeout_s=30)
    assert sorted(k.rsplit(".", 1)[1] for k in keys) == ["csv", "html", "json"]
