"""Project-success forecasts learned from the tenant's finished projects: features of a project as of its
start (its team: size, members' past success, who they are; its reuse: how many of its datasets earlier
projects used, and earlier successful ones; its datasets themselves), a logistic regression over
them, calibrated by Platt scaling on the latest projects of its training set (scored by the model learned on
the ones before), its figures on held-out later projects, and each forecast's top contributing features (exact
SHAP values of the linear score: weight times the feature's distance from its training mean). The model is
plain numbers (JSON), never a pickle. Must never let a project's own outcome, or any outcome not yet known at
its start, into its features."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score

from maestro.insights.recommend import Past

DAY_MS = 86_400_000
AGGREGATES = (
    "team_size",
    "members_past_success",
    "best_member_past_success",
    "datasets_reused",
    "datasets_from_successful",
    "datasets_past_success",
)
CALIBRATION_SHARE = 0.25
BINS = 10


@dataclass(frozen=True)
class Definition:
    """Success: a version the project produced was promoted within `days` of its registration. A project's
    outcome counts as known `days` after its start."""

    days: int = 90

    def known_by(self, project: Past, at_ms: int) -> bool:
        return project.started_ms + self.days * DAY_MS <= at_ms


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

    def row(self, team: Sequence[str], datasets: Sequence[str], evidence: Evidence) -> list[float]:
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
        ]
        return (
            aggregates + [float(p in team) for p in self.people] + [float(d in used) for d in self.datasets]
        )


@dataclass
class Model:
    """The learned forecast as plain numbers: standardization, weights, Platt's a and b, and the reliability
    of its held-out forecasts per probability band."""

    names: list[str]
    mean: list[float]
    scale: list[float]
    weights: list[float]
    intercept: float
    platt: tuple[float, float]
    definition_days: int
    figures: dict[str, Any] = field(default_factory=dict)
    bands: list[dict[str, Any]] = field(default_factory=list)

    def score(self, x: np.ndarray) -> np.ndarray:
        z = (x - np.asarray(self.mean)) / np.asarray(self.scale)
        result: np.ndarray = z @ np.asarray(self.weights) + self.intercept
        return result

    def probability(self, x: np.ndarray) -> np.ndarray:
        a, b = self.platt
        result: np.ndarray = 1 / (1 + np.exp(-(a * self.score(x) + b)))
        return result

    def contributions(self, x: np.ndarray) -> list[tuple[str, float, float]]:
        """(feature, its value, its SHAP value on the score) for one row, largest first: for a linear score
        over independent features, SHAP's value of feature i is w_i (x_i - E[x_i]), standardized."""
        z = (x - np.asarray(self.mean)) / np.asarray(self.scale)
        values = np.asarray(self.weights) * z
        order = np.argsort(-np.abs(values), kind="stable")
        return [(self.names[i], float(x[i]), float(values[i])) for i in order]

    def band(self, probability: float) -> dict[str, Any]:
        index = min(BINS - 1, int(probability * BINS))
        return next((b for b in self.bands if b["bin"] == index), {"bin": index, "projects": 0})

    def to_json(self) -> dict[str, Any]:
        return self.__dict__ | {"platt": list(self.platt)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Model:
        return cls(**{**data, "platt": tuple(data["platt"])})


@dataclass(frozen=True)
class Dataset:
    x: np.ndarray
    y: np.ndarray
    projects: list[Past]


def build(projects: Sequence[Past], features: Features, definition: Definition) -> Dataset:
    """A row per project whose outcome is known, from what was known at its start; in start order."""
    ordered = sorted((p for p in projects if p.succeeded is not None), key=lambda p: p.started_ms)
    rows = [features.row(p.team, p.datasets, Evidence(ordered, p.started_ms, definition)) for p in ordered]
    return Dataset(
        np.asarray(rows, dtype=float).reshape(len(ordered), len(features.names)),
        np.asarray([bool(p.succeeded) for p in ordered], dtype=np.int64),
        ordered,
    )


def _fit(x: np.ndarray, y: np.ndarray) -> tuple[LogisticRegression, np.ndarray, np.ndarray]:
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=0.3, max_iter=2000)
    model.fit((x - mean) / scale, y)
    return model, mean, scale


def train(data: Dataset, names: list[str], definition: Definition) -> Model:
    """Weights learned on the earlier projects, and Platt's scaling of that same model's scores on the latest
    CALIBRATION_SHARE of them (time-ordered: the calibration projects started after those learned on)."""
    if len(set(data.y.tolist())) < 2:
        raise ValueError("every finished project has the same outcome: nothing to learn")
    cut = int(len(data.y) * (1 - CALIBRATION_SHARE))
    if len(set(data.y[:cut].tolist())) < 2 or len(set(data.y[cut:].tolist())) < 2:
        cut = len(data.y)  # too few of one outcome to calibrate apart: the regression's own probabilities
    model, mean, scale = _fit(data.x[:cut], data.y[:cut])
    platt = (1.0, 0.0)
    if cut < len(data.y):
        scores = model.decision_function((data.x[cut:] - mean) / scale).reshape(-1, 1)
        calibrator = LogisticRegression(C=1e6, max_iter=1000).fit(scores, data.y[cut:])
        platt = (float(calibrator.coef_[0][0]), float(calibrator.intercept_[0]))
    return Model(
        names=names,
        mean=mean.tolist(),
        scale=scale.tolist(),
        weights=model.coef_[0].tolist(),
        intercept=float(model.intercept_[0]),
        platt=platt,
        definition_days=definition.days,
    )


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
    interval for the true rate."""
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
                "observed_90": [max(0.0, centre - half), min(1.0, centre + half)],
            }
        )
    return bands


def evaluate(
    projects: Sequence[Past], features: Features, definition: Definition, train_share: float = 0.7
) -> Model:
    """A model learned on the earliest projects and judged on the later ones (time split): its ROC AUC, Brier
    score and ECE beside the base rate's and a logistic regression on team size alone; then the model the
    tenant uses, learned on every project, carrying those figures and the held-out reliability bands."""
    data = build(projects, features, definition)
    cut = int(len(data.y) * train_share)
    early = Dataset(data.x[:cut], data.y[:cut], data.projects[:cut])
    held = train(early, features.names, definition)
    p = held.probability(data.x[cut:])
    y = data.y[cut:]
    if len(set(y.tolist())) < 2:
        raise ValueError("the held-out projects all ended alike")
    base = np.full(len(y), early.y.mean())
    size_only, mean, scale = _fit(early.x[:, :1], early.y)
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
