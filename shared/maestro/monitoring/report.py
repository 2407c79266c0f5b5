"""A check's report for people: an HTML page (self-contained) with the verdict, each column's test,
statistic, threshold, decision and PSI, the data-quality failures, and a PNG per column of the reference's
and the window's shares side by side (histogram bins over both for numeric columns, the most frequent
values for categorical ones). Must never show a figure other than the check's reference and window."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

import numpy as np

from maestro.core.figures import data_uri, figure, png
from maestro.monitoring.distribution import CATEGORICAL, Distribution

BINS = 30
TOP_CATEGORIES = 20
REFERENCE, CURRENT = "#6b7280", "#d97706"


def shares(ref: Distribution, cur: Distribution) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Labels and the reference's and window's share of each: bins over both (numeric) or values."""
    if ref.kind == CATEGORICAL:
        counts = {
            k: ref.categories.get(k, 0) + cur.categories.get(k, 0)
            for k in set(ref.categories) | set(cur.categories)
        }
        keys = sorted(counts, key=lambda k: (-counts[k], k))[:TOP_CATEGORIES]
        total_ref, total_cur = max(ref.count, 1), max(cur.count, 1)
        return (
            keys,
            np.array([ref.categories.get(k, 0) / total_ref for k in keys]),
            np.array([cur.categories.get(k, 0) / total_cur for k in keys]),
        )
    bounds = [v for v in (ref.low, ref.high, cur.low, cur.high) if v is not None]
    low, high = (min(bounds), max(bounds)) if bounds else (0.0, 1.0)
    edges = np.linspace(low, high if high > low else low + 1.0, BINS + 1)
    out: list[np.ndarray] = []
    for column in (ref, cur):
        values, weights = (np.asarray(a, dtype=float) for a in column.weighted())
        binned = np.zeros(BINS)
        if len(values):
            binned = np.histogram(np.clip(values, low, high), edges, weights=weights)[0].astype(float)
        out.append(binned / max(float(binned.sum()), 1.0))
    labels = [f"{edges[i]:.3g}" for i in range(BINS)]
    return labels, out[0], out[1]


def column_png(name: str, ref: Distribution, cur: Distribution, verdict: str) -> bytes:
    labels, a, b = shares(ref, cur)
    fig = figure(3.0)
    ax = fig.add_subplot(1, 1, 1)
    x = np.arange(len(labels))
    if ref.kind == CATEGORICAL:
        ax.bar(x - 0.2, a, 0.4, color=REFERENCE, label="reference")
        ax.bar(x + 0.2, b, 0.4, color=CURRENT, label="window")
        ax.set_xticks(x, labels, rotation=45, ha="right", fontsize=8)
    else:
        ax.step(x, a, where="post", color=REFERENCE, label="reference")
        ax.step(x, b, where="post", color=CURRENT, label="window")
        ticks = x[:: max(1, len(x) // 6)]
        ax.set_xticks(ticks, [labels[i] for i in ticks], fontsize=8)
    ax.set_ylabel("share")
    ax.set_title(f"{name}: {verdict}")
    ax.legend(frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return png(fig)


def _when(ms_or_s: int, scale: int) -> str:
    return datetime.fromtimestamp(ms_or_s / scale, UTC).isoformat().replace("+00:00", "Z")


def render(
    result: dict[str, Any], reference: dict[str, Distribution], current: dict[str, Distribution]
) -> tuple[str, dict[str, bytes]]:
    """The check's HTML and each tested column's PNG."""
    model = result["model"]
    title = f"Monitoring check: {model['name']} version {model['version']}"
    drift = result.get("drift") or {
        "columns": {},
        "drifted_columns": [],
        "dataset_drift": False,
        "drift_share": 0,
    }
    images: dict[str, bytes] = {}
    rows = []
    for name, column in drift["columns"].items():
        verdict = "drift" if column["drifted"] else "no drift"
        empty = Distribution(reference[name].kind)
        images[name] = column_png(name, reference[name], current.get(name, empty), verdict)
        statistic = "n/a" if column["statistic"] is None else f"{column['statistic']:.4g}"
        rows.append(
            f"<tr><td>{html.escape(name)}</td><td>{column['method']}</td><td>{statistic}</td>"
            f"<td>{column['threshold']}</td><td>{'<strong>yes</strong>' if column['drifted'] else 'no'}</td>"
            f"<td>{column['psi']:.3f} ({column['psi_band']})</td></tr>"
        )
    failures = "".join(
        f"<li>{html.escape(f['column'])}: {html.escape(f['check'])} ({html.escape(str(f['value']))})</li>"
        for f in result.get("quality") or []
    )
    figures = "".join(
        f'<figure><img alt="{html.escape(n)}: reference and window" src="{data_uri(p)}"></figure>'
        for n, p in images.items()
    )
    verdict = {
        "drift": f"Drift in {', '.join(drift['drifted_columns'])}",
        "quality": "Data quality failed",
        "ok": "No drift, data quality passed",
    }.get(result["state"], result["state"].replace("_", " "))
    start, end = _when(result["window"]["from"], 1), _when(result["window"]["to"], 1)
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;color:#111}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}}
figure{{margin:1rem 0}}img{{max-width:100%}}</style></head><body>
<h1>{html.escape(title)}</h1>
<p><strong>{html.escape(verdict)}</strong>. Window {start} to {end},
{result.get("records", 0)} records; checked {_when(result["checked_at"], 1000)}. Dataset drift:
{"yes" if drift["dataset_drift"] else "no"} ({drift["drift_share"]:.0%} of the columns tested drifted).</p>
<h2>Columns</h2>
<table><thead><tr><th>column</th><th>test</th><th>statistic</th><th>threshold</th><th>drift</th><th>PSI</th></tr></thead>
<tbody>{"".join(rows)}</tbody></table>
<h2>Data quality</h2>{f"<ul>{failures}</ul>" if failures else "<p>No failures.</p>"}
<h2>Reference and window</h2>{figures}
</body></html>"""
    return page, images
