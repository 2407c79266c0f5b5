"""The report a person reads: an HTML page with PNG plots rendered headless (global importance bars, a
beeswarm summary, waterfalls of chosen rows), the importance table, LIME and permutation importance.
The plots are drawn with matplotlib alone, after shap's own plots (same encodings): the report function
carries numpy and matplotlib but not shap's stack, which would not fit beside them in Lambda's 250 MB.
Must never put user-supplied text into the page unescaped."""

from __future__ import annotations

import html
from typing import Any

import numpy as np

from maestro.core.figures import data_uri, figure, png

TOP_FEATURES = 20
RED, BLUE = "#ff0051", "#008bfb"  # shap's colours for positive and negative contributions


def _top(importance: dict[str, Any], output_index: int) -> list[dict[str, Any]]:
    return list(importance["outputs"][output_index]["features"][:TOP_FEATURES])


def bar_plot(importance: dict[str, Any], output_index: int) -> bytes:
    top = _top(importance, output_index)[::-1]
    aggregation = importance["aggregation"]
    fig = figure(0.35 * len(top) + 1.2)
    ax = fig.add_subplot()
    ax.barh([t["feature"] for t in top], [abs(t[aggregation]) for t in top], color=RED)
    ax.set_xlabel(
        {"mean_abs": "mean(|SHAP value|)", "median": "|median(SHAP value)|", "mean_sq": "mean(SHAP value²)"}[
            aggregation
        ]
    )
    ax.spines[["top", "right"]].set_visible(False)
    return png(fig)


def beeswarm_plot(values: np.ndarray, X: np.ndarray, names: list[str], order: list[str]) -> bytes:
    """One row per feature (most important on top): each dot a row's SHAP value, coloured by the feature's
    value from low (blue) to high (red), stacked where dots crowd, as shap.plots.beeswarm draws it."""
    rng = np.random.default_rng(0)
    features = order[:TOP_FEATURES][::-1]
    fig = figure(0.4 * len(features) + 1.5)
    ax = fig.add_subplot()
    for y, name in enumerate(features):
        j = names.index(name)
        shap_values, raw = values[:, j], X[:, j]
        low, high = np.nanpercentile(raw, [5, 95]) if len(raw) else (0.0, 1.0)
        scaled = np.clip((raw - low) / (high - low), 0, 1) if high > low else np.full(len(raw), 0.5)
        bins = np.round((shap_values - shap_values.min()) / (np.ptp(shap_values) or 1) * 50)
        jitter = np.zeros(len(shap_values))
        for b in np.unique(bins):
            members = np.flatnonzero(bins == b)
            spread = np.linspace(-0.4, 0.4, len(members)) if len(members) > 1 else np.zeros(1)
            jitter[members] = rng.permutation(spread) * min(1.0, len(members) / 20)
        ax.scatter(shap_values, y + jitter, c=scaled, cmap="coolwarm", s=10, alpha=0.8, linewidths=0)
    ax.set_yticks(range(len(features)), features)
    ax.axvline(0, color="#999999", linewidth=0.8)
    ax.set_xlabel("SHAP value (impact on model output)")
    fig.colorbar(
        ax.collections[0] if ax.collections else None, ax=ax, label="feature value (low → high)", ticks=[]
    )
    ax.spines[["top", "right"]].set_visible(False)
    return png(fig)


def waterfall_plot(values: np.ndarray, x: np.ndarray, expected: float, names: list[str], row: int) -> bytes:
    """From the expected value E[f(x)] to this row's output f(x), one bar per feature (largest last)."""
    order = np.argsort(np.abs(values))[-12:]
    rest = float(values.sum() - values[order].sum())
    labels = [f"{names[i]} = {x[i]:.4g}" for i in order]
    steps = [float(values[i]) for i in order]
    if len(values) > len(order):
        labels.insert(0, f"{len(values) - len(order)} other features")
        steps.insert(0, rest)
    fig = figure(0.4 * len(steps) + 1.5)
    ax = fig.add_subplot()
    position = expected
    for y, step in enumerate(steps):
        ax.barh(y, step, left=position, color=RED if step >= 0 else BLUE)
        ax.text(max(position, position + step), y, f" {step:+.3g}", va="center", ha="left", fontsize=8)
        position += step
    ax.set_yticks(range(len(labels)), labels)
    ax.margins(x=0.12)
    ax.axvline(expected, color="#999999", linestyle="--", linewidth=0.8)
    ax.set_xlabel(f"E[f(x)] = {expected:.4g}  →  f(x) = {position:.4g}")
    ax.set_title(f"row {row}")
    ax.spines[["top", "right"]].set_visible(False)
    return png(fig)


def _img(image: bytes, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="{data_uri(image)}">'


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_fmt(v))}</td>" for v in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _fmt(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


STYLE = """body{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ddd;padding:4px 8px;text-align:right}
th{background:#f5f5f5}td:first-child,th:first-child{text-align:left}img{max-width:100%}
.meta td{text-align:left}"""


def render(
    job: dict[str, Any],
    importance: dict[str, Any],
    values: np.ndarray,
    expected: np.ndarray,
    X: np.ndarray,
    rows: np.ndarray,
    lime: list[dict[str, Any]] | None,
    permutation: dict[str, Any] | None,
) -> tuple[str, dict[str, bytes]]:
    """The HTML page (plots embedded) and the same plots as PNG files."""
    names = list(job["columns"])
    model = job["resolved"]["model"]
    pngs: dict[str, bytes] = {}
    parts = [
        f"<h1>Explanation of {html.escape(model['name'])} v{model['version']}</h1>",
        _table(
            ["", ""],
            [
                ["job", job["job_id"]],
                ["method", importance.get("method", "")],
                ["rows explained", importance["rows"]],
                ["features", len(names)],
                ["aggregation", importance["aggregation"]],
            ],
        ).replace("<table>", '<table class="meta">'),
    ]
    waterfalls = job["request"].get("waterfall_rows")
    for k, output in enumerate(importance["outputs"]):
        label = f"output {output['output']}"
        order = [f["feature"] for f in output["features"]]
        pngs[f"importance_output_{output['output']}.png"] = bar = bar_plot(importance, k)
        pngs[f"beeswarm_output_{output['output']}.png"] = swarm = beeswarm_plot(
            values[:, :, k], X, names, order
        )
        parts += [
            f"<h2>{html.escape(label)}: expected value {output['expected_value']:.6g}</h2>",
            "<h3>Global importance</h3>",
            _img(bar, f"global importance, {label}"),
            "<h3>Summary (beeswarm)</h3>",
            _img(swarm, f"beeswarm, {label}"),
            _table(
                ["feature", "mean |SHAP|", "median SHAP", "mean SHAP²"],
                [[f["feature"], f["mean_abs"], f["median"], f["mean_sq"]] for f in output["features"]],
            ),
        ]
        for position in waterfalls if waterfalls is not None else [0]:
            if position < len(values):
                png = waterfall_plot(
                    values[position, :, k], X[position], float(expected[k]), names, int(rows[position])
                )
                pngs[f"waterfall_row_{int(rows[position])}_output_{output['output']}.png"] = png
                parts += [
                    f"<h3>Row {int(rows[position])}</h3>",
                    _img(png, f"waterfall of row {rows[position]}"),
                ]
    if permutation:
        parts += [
            f"<h2>Permutation importance ({html.escape(permutation['scoring'])}, "
            f"{permutation['repeats']} repeats, {permutation['rows']} rows)</h2>",
            _table(
                ["feature", "mean", "std"],
                [[f["feature"], f["mean"], f["std"]] for f in permutation["features"]],
            ),
        ]
    if lime:
        parts.append("<h2>LIME</h2>")
        for entry in lime:
            title = (
                f"Row position {entry['row']}, output {entry['output']}: intercept {entry['intercept']:.6g}"
            )
            parts += [
                f"<h3>{title}</h3>",
                _table(["feature", "weight"], [[w["feature"], w["weight"]] for w in entry["weights"]]),
            ]
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>Explanation "
        f"{html.escape(job['job_id'])}</title><style>{STYLE}</style></head><body>{''.join(parts)}</body></html>"
    )
    return page, pngs
