"""Compliance reports over a period of a tenant's trail, stored as JSON plus a readable HTML page and a CSV:
GDPR (a data subject's personal data: who accessed it, what changed it, and an export of every record
about them), SOC 2 (access review per principal, privileged actions, failed access) and HIPAA (access to
resources tagged as holding protected health information).
Must never search for a data subject by anything but the subject id and its masked form."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, Literal

from maestro.audit.records import canonical, mask
from maestro.audit.settings import AuditSettings
from maestro.audit.store import AuditStore
from maestro.core.errors import ValidationError
from maestro.core.object_store import Objects
from maestro.core.tenancy import tenant_prefix

Kind = Literal["gdpr", "soc2", "hipaa"]
COLUMNS = ("section", "seq", "occurred_at", "principal", "roles", "action", "resource", "outcome")


def period_records(store: AuditStore, start: str, end: str) -> Iterator[dict[str, Any]]:
    cursor = None
    while True:
        page, cursor = store.search(start, end, {}, 1000, cursor)
        yield from page
        if not cursor:
            return


def gdpr(records: list[dict[str, Any]], subject: str, salt: str) -> dict[str, Any]:
    needles = (subject, mask(subject, salt))
    about = [
        r
        for r in records
        if r["principal"] == subject
        or subject in r["resource"]
        or any(n in canonical(r["detail"]) for n in needles)
    ]
    return {
        "subject": subject,
        "sections": {
            "accessed": [r for r in about if r["record_class"] == "access" or r["outcome"] == "denied"],
            "changed": [r for r in about if r["record_class"] == "change" and r["outcome"] == "success"],
            "export": about,
        },
    }


def soc2(records: list[dict[str, Any]], settings: AuditSettings) -> dict[str, Any]:
    privileged = [re.compile(p) for p in settings.privileged_actions]
    review: dict[str, dict[str, Any]] = {}
    for r in records:
        entry = review.setdefault(
            r["principal"] or "(system)",
            {
                "roles": set(),
                "actions": 0,
                "denied": 0,
                "first_seen": r["occurred_at"],
                "last_seen": r["occurred_at"],
            },
        )
        entry["roles"] |= set(r["roles"])
        entry["actions"] += 1
        entry["denied"] += r["outcome"] == "denied"
        entry["first_seen"] = min(entry["first_seen"], r["occurred_at"])
        entry["last_seen"] = max(entry["last_seen"], r["occurred_at"])
    return {
        "access_review": {p: {**e, "roles": sorted(e["roles"])} for p, e in sorted(review.items())},
        "sections": {
            "privileged_actions": [
                r
                for r in records
                if any(p.search(r["action"]) for p in privileged)
                or ({"admin", "tenant-admin"} & set(r["roles"]) and r["record_class"] == "change")
            ],
            "failed_access": [r for r in records if r["outcome"] == "denied"],
        },
    }


def hipaa(records: list[dict[str, Any]], settings: AuditSettings) -> dict[str, Any]:
    if not settings.hipaa_resources:
        raise ValidationError(
            "type", "no resources are tagged as holding PHI (audit settings: hipaa_resources)"
        )
    tagged = [re.compile(p) for p in settings.hipaa_resources]
    touched = [r for r in records if any(p.search(r["resource"]) for p in tagged)]
    return {"tagged": settings.hipaa_resources, "sections": {"phi_access": touched}}


def render_csv(report: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for section, rows in report["sections"].items():
        for r in rows:
            writer.writerow(
                [
                    section,
                    r["seq"],
                    r["occurred_at"],
                    r["principal"],
                    " ".join(r["roles"]),
                    r["action"],
                    r["resource"],
                    r["outcome"],
                ]
            )
    return out.getvalue()


def render_html(report: dict[str, Any]) -> str:
    e = html.escape
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{e(report['title'])}</title>",
        "<style>body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;"
        "margin:1em 0;font-size:13px}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}"
        "th{background:#f3f3f3}.denied{color:#b00020}.n{color:#666}</style></head><body>",
        f"<h1>{e(report['title'])}</h1>",
        f"<p class='n'>Tenant <b>{e(report['tenant'])}</b>, {e(report['start'])} to {e(report['end'])}; "
        f"{report['records_in_period']} records in the period; generated {e(report['generated_at'])} "
        f"(report {e(report['report_id'])}).</p>",
    ]
    if "access_review" in report:
        parts.append(
            "<h2>Access review</h2><table><tr><th>principal</th><th>roles</th><th>actions</th>"
            "<th>denied</th><th>first seen</th><th>last seen</th></tr>"
        )
        for principal, entry in report["access_review"].items():
            parts.append(
                f"<tr><td>{e(principal)}</td><td>{e(', '.join(entry['roles']))}</td>"
                f"<td>{entry['actions']}</td><td>{entry['denied']}</td><td>{e(entry['first_seen'])}</td><td>{e(entry['last_seen'])}</td></tr>"
            )
        parts.append("</table>")
    for section, rows in report["sections"].items():
        parts.append(f"<h2>{e(section.replace('_', ' ').capitalize())} ({len(rows)})</h2>")
        if not rows:
            parts.append("<p class='n'>None in the period.</p>")
            continue
        parts.append("<table><tr>" + "".join(f"<th>{c}</th>" for c in COLUMNS[1:]) + "</tr>")
        for r in rows:
            css = " class='denied'" if r["outcome"] == "denied" else ""
            parts.append(
                f"<tr{css}><td>{r['seq']}</td><td>{e(r['occurred_at'])}</td><td>{e(r['principal'])}</td>"
                f"<td>{e(' '.join(r['roles']))}</td><td>{e(r['action'])}</td><td>{e(r['resource'])}</td>"
                f"<td>{e(r['outcome'])}</td></tr>"
            )
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


TITLES = {
    "gdpr": "GDPR: personal data of a data subject",
    "soc2": "SOC 2: access review, privileged actions, failed access",
    "hipaa": "HIPAA: access to protected health information",
}


def generate(
    store: AuditStore,
    settings: AuditSettings,
    salt: str,
    bucket: str,
    kind: Kind,
    start: str,
    end: str,
    subject: str | None,
) -> dict[str, Any]:
    if kind == "gdpr" and not subject:
        raise ValidationError("subject", "a GDPR report is about one data subject: give its id")
    records = list(period_records(store, start, end))
    body = (
        gdpr(records, subject or "", salt)
        if kind == "gdpr"
        else soc2(records, settings)
        if kind == "soc2"
        else hipaa(records, settings)
    )
    report_id = f"{kind}-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    report = {
        "report_id": report_id,
        "type": kind,
        "title": TITLES[kind] + (f" ({subject})" if subject else ""),
        "tenant": store.tenant,
        "start": start,
        "end": end,
        "generated_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "records_in_period": len(records),
        **body,
    }
    base = f"{tenant_prefix(store.tenant)}audit/reports/{kind}/{report_id}"
    reports = Objects.of_tenant(bucket, store.tenant)
    files = {
        "json": (json.dumps(report, indent=2, default=str), "application/json"),
        "html": (render_html(report), "text/html; charset=utf-8"),
        "csv": (render_csv(report), "text/csv"),
    }
    keys = {}
    for ext, (text, content_type) in files.items():
        key = f"{base}.{ext}"
        reports.put(key, text.encode(), content_type, checksum=True)
        keys[ext] = key
    urls = {ext: reports.presigned_get(key, 3600) for ext, key in keys.items()}
    summary = {name: len(rows) for name, rows in report["sections"].items()}
    return {
        "report_id": report_id,
        "type": kind,
        "records_in_period": len(records),
        "sections": summary,
        "keys": keys,
        "urls": urls,
    }
