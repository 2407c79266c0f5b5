"""Project-success forecasts learned from the tenant's finished projects: features of a project as of its
start (its team: size, members' past success, who they are; its reuse: how many of its datasets earlier
projects used, and earlier successful ones; its datasets themselves) and of its first weeks (its process:
runs, days with a run, explanations and A/B tests of its versions); a two-stage logistic model over them
(the first stage sorts people and datasets into tiers, the second weighs the aggregates and the project's
members and datasets in the upper tier), its figures on held-out later projects, and each forecast's top
contributing inputs (exact SHAP values of the linear score: weight times the input's distance from its
training mean). The model is plain numbers (JSON), never a pickle. Must never let a project's own outcome,
or any outcome not yet known at its start, into its features."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score

from maestro.insights.recommend import Past

DAY_MS = 86_400_000
# What the project did in its first `observe_days`: runs, days with a run (iteration), explanations of its
# versions and A/B tests of them.
PROCESS = ("early_runs", "early_active_days", "early_explanations", "early_ab_tests")
AGGREGATES = (
    "team_size",
    "members_past_success",
    "best_member_past_success",
    "datasets_reused",
    "datasets_from_successful",
    "datasets_past_success",
    *PROCESS,
)
BINS = 10


@dataclass(frozen=True)
class Definition:
    """Success: within `days` of its registration, a version the project produced reached one of `aliases`,
    or (when `ab_wins`) won an A/B test. A project's outcome counts as known `days` after its start. Its
    process features are what it did in its first `observe_days`."""

    days: int = 90
    aliases: tuple[str, ...] = ("production",)
    ab_wins: bool = True
    observe_days: int = 14

    def known_by(self, project: Past, at_ms: int) -> bool:
        return project.started_ms + self.days * DAY_MS <= at_ms

    def settings(self) -> dict[str, Any]:
        return {
            "success_days": self.days,
            "success_aliases": list(self.aliases),
            "ab_wins": self.ab_wins,
            "observe_days": self.observe_days,
        }

    @classmethod
    def of(cls, settings: Mapping[str, Any]) -> Definition:
        """From settings() (a record from before the aliases and the process had settings: their defaults)."""
        default = cls()
        return cls(
            int(settings["success_days"]),
            tuple(settings.get("success_aliases", default.aliases)),
            bool(settings.get("ab_wins", default.ab_wins)),
            int(settings.get("observe_days", default.observe_days)),
        )


@dataclass(frozen=True)
class Activity:
    """When a project's runs started, and when explanations and A/B tests of its versions began."""

    runs: tuple[int, ...] = ()
    explanations: tuple[int, ...] = ()
    ab_tests: tuple[int, ...] = ()

    def early(self, started_ms: int, days: int) -> list[float]:
        """PROCESS: what happened before `days` after the start (all of it so far, for a younger project)."""
        end = started_ms + days * DAY_MS
        runs = [t for t in self.runs if t < end]
        return [
            float(len(runs)),
            float(len({(t - started_ms) // DAY_MS for t in runs})),
            float(sum(t < end for t in self.explanations)),
            float(sum(t < end for t in self.ab_tests)),
        ]


class Evidence:
    """What was known at a moment: the outcomes of projects whose outcome was known then."""

    def __init__(self, projects: Sequence[Past], at_ms: int, definition: Definition) -> None:
        known = [p for p in projects if p.succeeded is not None and definition.known_by(p, at_ms)]
        self.rate = sum(bool(p.succeeded) for p in known) / len(known) if known else 0.3
        self.person: defaultdict[str, list[int]] = defaultdict(lambda: [0, 0])
        self.dataset: defaultdict[str, list[int]] = defaultdict(lambda: [0, 0])
        for p in known:
            for person in p.team:
                self.person[person][0] += bool(p.succeeded)
                self.person[person][1] += 1
            for d in set(p.datasets):
                self.dataset[d][0] += bool(p.succeeded)
                self.dataset[d][1] += 1

    def smoothed(self, counts: list[int]) -> float:
        """Past success shrunk toward the base rate (one pseudo-project): one lucky project is not 1.0."""
        return (counts[0] + self.rate) / (counts[1] + 1)


@dataclass
class Features:
    people: list[str]
    datasets: list[str]

    @property
    def names(self) -> list[str]:
        return [*AGGREGATES, *(f"member:{p}" for p in self.people), *(f"dataset:{d}" for d in self.datasets)]

    def row(
        self, team: Sequence[str], datasets: Sequence[str], evidence: Evidence, process: Sequence[float] = ()
    ) -> list[float]:
        members = [evidence.smoothed(evidence.person[p]) for p in team] or [evidence.rate]
        used = set(datasets)
        reused = [d for d in used if evidence.dataset[d][1] > 0]
        aggregates = [
            float(len(team)),
            float(np.mean(members)),
            float(max(members)),
            len(reused) / len(used) if used else 0.0,
            sum(evidence.dataset[d][0] > 0 for d in used) / len(used) if used else 0.0,
            float(np.mean([evidence.smoothed(evidence.dataset[d]) for d in used])) if used else evidence.rate,
            *(process or [0.0] * len(PROCESS)),
        ]
        return (
            aggregates + [float(p in team) for p in self.people] + [float(d in used) for d in self.datasets]
        )


UPPER_TIER_TERMS = {"member": "members_in_upper_tier", "dataset": "datasets_in_upper_tier"}
TERMS = [*AGGREGATES, *UPPER_TIER_TERMS.values()]
FORMAT = "tiered-logistic/1"
FIRST_STAGE_C = 0.03  # strong shrinkage: a person's weight from a few dozen projects is mostly noise
FINAL_C = 0.1


def upper_tier(weights: np.ndarray) -> np.ndarray:
    """Which weights sit in the upper of two tiers: the 1-D two-means split of the sorted weights (the cut
    that leaves the least squared distance to each side's mean); none when all weights are alike."""
    order = np.sort(weights)
    n = len(order)
    if n < 2 or order[0] == order[-1]:
        return np.zeros(n, dtype=bool)
    left = np.cumsum(order)[:-1]
    left_sq = np.cumsum(order**2)[:-1]
    sizes = np.arange(1, n)
    right, right_sq = order.sum() - left, (order**2).sum() - left_sq
    spread = left_sq - left**2 / sizes + right_sq - right**2 / (n - sizes)
    cut = int(np.argmin(spread))
    result: np.ndarray = weights > (order[cut] + order[cut + 1]) / 2
    return result


@dataclass
class Model:
    """The learned forecast as plain numbers. Two stages: a strongly shrunk logistic regression over every
    feature, whose member and dataset weights only sort people and datasets into an upper and a lower tier;
    then a logistic regression over the aggregates and how many of the project's members and datasets are in
    the upper tier (a handful of weights, learned from every finished project, so its probabilities need no
    further scaling). Also the reliability of its held-out forecasts per probability band."""

    names: list[str]  # the features of a row (Features.names)
    upper: list[str]  # the member and dataset features in the upper tier
    first_stage: dict[str, float]  # the first stage's weight per member and dataset feature (per unit)
    mean: list[float]  # the final regression's inputs (TERMS): their mean and scale, its weights
    scale: list[float]
    weights: list[float]
    intercept: float
    definition_days: int
    format: str = FORMAT
    figures: dict[str, Any] = field(default_factory=dict)
    bands: list[dict[str, Any]] = field(default_factory=list)

    def inputs(self, x: np.ndarray) -> np.ndarray:
        """The final regression's inputs (TERMS) from rows of features."""
        index = {name: i for i, name in enumerate(self.names)}
        counts = [
            x[:, [index[n] for n in self.upper if n.startswith(f"{prefix}:")]].sum(axis=1)
            for prefix in UPPER_TIER_TERMS
        ]
        return np.column_stack([x[:, [index[a] for a in AGGREGATES]], *counts])

    def score(self, x: np.ndarray) -> np.ndarray:
        z = (self.inputs(x) - np.asarray(self.mean)) / np.asarray(self.scale)
        result: np.ndarray = z @ np.asarray(self.weights) + self.intercept
        return result

    def probability(self, x: np.ndarray) -> np.ndarray:
        result: np.ndarray = 1 / (1 + np.exp(-self.score(x)))
        return result

    def contributions(self, x: np.ndarray) -> list[tuple[str, float, float]]:
        """(input, its value, its SHAP value on the score) for one row of features, largest first: for a
        linear score over independent inputs, SHAP's value of input i is w_i (t_i - E[t_i]), standardized."""
        t = self.inputs(x[None, :])[0]
        values = np.asarray(self.weights) * (t - np.asarray(self.mean)) / np.asarray(self.scale)
        order = np.argsort(-np.abs(values), kind="stable")
        return [(TERMS[i], float(t[i]), float(values[i])) for i in order]

    def band(self, probability: float) -> dict[str, Any]:
        index = min(BINS - 1, int(probability * BINS))
        return next((b for b in self.bands if b["bin"] == index), {"bin": index, "projects": 0})

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Model:
        if data.get("format") != FORMAT:
            raise ValueError(f"a forecast model stored as {data.get('format', 'an earlier format')!r}")
        return cls(**data)


@dataclass(frozen=True)
class Dataset:
    x: np.ndarray
    y: np.ndarray
    projects: list[Past]


def build(
    projects: Sequence[Past],
    features: Features,
    definition: Definition,
    activity: Mapping[str, Activity] | None = None,
) -> Dataset:
    """A row per project whose outcome is known, from what was known at its start and what it did in its
    first `observe_days`; in start order."""
    ordered = sorted((p for p in projects if p.succeeded is not None), key=lambda p: p.started_ms)
    did = activity or {}
    rows = [
        features.row(
            p.team,
            p.datasets,
            Evidence(ordered, p.started_ms, definition),
            did.get(p.project_id, Activity()).early(p.started_ms, definition.observe_days),
        )
        for p in ordered
    ]
    return Dataset(
        np.asarray(rows, dtype=float).reshape(len(ordered), len(features.names)),
        np.asarray([bool(p.succeeded) for p in ordered], dtype=np.int64),
        ordered,
    )


def _fit(x: np.ndarray, y: np.ndarray, c: float) -> tuple[LogisticRegression, np.ndarray, np.ndarray]:
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=c, max_iter=5000)
    model.fit((x - mean) / scale, y)
    return model, mean, scale


def train(data: Dataset, names: list[str], definition: Definition) -> Model:
    """The first stage's tiers, then the final regression, both learned on every project in `data`."""
    if len(set(data.y.tolist())) < 2:
        raise ValueError("every finished project has the same outcome: nothing to learn")
    first, _, scale = _fit(data.x, data.y, FIRST_STAGE_C)
    per_unit = first.coef_[0] / scale
    first_stage: dict[str, float] = {}
    upper: list[str] = []
    for prefix in UPPER_TIER_TERMS:
        index = [i for i, n in enumerate(names) if n.startswith(f"{prefix}:")]
        first_stage |= {names[i]: float(per_unit[i]) for i in index}
        upper += [names[i] for i, up in zip(index, upper_tier(per_unit[index]), strict=True) if up]
    model = Model(names, upper, first_stage, [], [], [], 0.0, definition.days)
    final, mean, scale = _fit(model.inputs(data.x), data.y, FINAL_C)
    model.mean, model.scale = mean.tolist(), scale.tolist()
    model.weights, model.intercept = final.coef_[0].tolist(), float(final.intercept_[0])
    return model


def ece(y: np.ndarray, p: np.ndarray, bins: int = BINS) -> float:
    """Expected calibration error: the project-weighted gap of forecast and outcome per equal-width bin."""
    index = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        inside = index == b
        if inside.any():
            total += inside.sum() * abs(float(y[inside].mean()) - float(p[inside].mean()))
    return total / len(y)


def reliability(y: np.ndarray, p: np.ndarray) -> list[dict[str, Any]]:
    """Per probability band: held-out projects, their mean forecast, how many succeeded, and a 90% Wilson
    interval for the true rate (which always holds the observed rate; min and max only keep rounding from
    putting 1.0 outside it)."""
    index = np.minimum((p * BINS).astype(int), BINS - 1)
    bands = []
    for b in range(BINS):
        inside = index == b
        n = int(inside.sum())
        if not n:
            continue
        rate, z = float(y[inside].mean()), 1.645
        centre = (rate + z * z / (2 * n)) / (1 + z * z / n)
        half = z * math.sqrt(rate * (1 - rate) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        bands.append(
            {
                "bin": b,
                "from": b / BINS,
                "to": (b + 1) / BINS,
                "projects": n,
                "forecast": float(p[inside].mean()),
                "observed": rate,
                "observed_90": [min(rate, max(0.0, centre - half)), max(rate, min(1.0, centre + half))],
            }
        )
    return bands


def evaluate(
    projects: Sequence[Past],
    features: Features,
    definition: Definition,
    train_share: float = 0.7,
    activity: Mapping[str, Activity] | None = None,
) -> Model:
    """A model learned on the earliest projects and judged on the later ones (time split): its ROC AUC, Brier
    score and ECE beside the base rate's and a logistic regression on team size alone; then the model the
    tenant uses, learned on every project, carrying those figures and the held-out reliability bands."""
    data = build(projects, features, definition, activity)
    cut = int(len(data.y) * train_share)
    early = Dataset(data.x[:cut], data.y[:cut], data.projects[:cut])
    held = train(early, features.names, definition)
    p = held.probability(data.x[cut:])
    y = data.y[cut:]
    if len(set(y.tolist())) < 2:
        raise ValueError("the held-out projects all ended alike")
    base = np.full(len(y), early.y.mean())
    size_only, mean, scale = _fit(early.x[:, :1], early.y, 1.0)
    by_size = size_only.predict_proba((data.x[cut:, :1] - mean) / scale)[:, 1]
    figures = {
        "held_out_projects": len(y),
        "training_projects": int(cut),
        "success_rate": float(data.y.mean()),
        "auc": float(roc_auc_score(y, p)),
        "brier": float(brier_score_loss(y, p)),
        "ece": ece(y, p),
        "base_rate": {"brier": float(brier_score_loss(y, base)), "ece": ece(y, base), "auc": 0.5},
        "team_size_only": {
            "auc": float(roc_auc_score(y, by_size)),
            "brier": float(brier_score_loss(y, by_size)),
            "ece": ece(y, by_size),
        },
    }
    model = train(data, features.names, definition)
    model.figures, model.bands = figures, reliability(y, p)
    return model
