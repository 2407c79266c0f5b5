"""Forecasts for one tenant, over its live graph: projects' outcomes read from it (success: within
`success_days` of its registration, a version the project produced reached one of the success aliases, or won
an A/B test; failure: none did, `success_days` after the project's start; unknown until then), what each
project did in its first days (runs, explanations, A/B tests), the forecast model trained on them
(insights.forecast), kept in the insights table and registered in the tenant's own registry as a version of
`maestro-insights-forecast` with its figures (dogfooding); a project's forecast with its calibration band and
top contributing inputs; and team suggestions ranked by the gain in the forecast each addition brings. Must
never train on, or forecast from, another tenant's history."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import numpy as np

from maestro.core.auth import AuthContext
from maestro.core.errors import Conflict, NotFound, ValidationError
from maestro.core.events import DomainEvent, publish_safely
from maestro.insights.advice import TenantHistory
from maestro.insights.forecast import DAY_MS, Activity, Definition, Evidence, Features, Model, evaluate
from maestro.insights.graph import Node
from maestro.insights.recommend import Past
from maestro.insights.store import InsightsStore

REGISTERED_NAME = "maestro-insights-forecast"
EXPERIMENT = "maestro-insights"
MIN_FINISHED = 30
TOP_FEATURES = 5


def outcomes(history: TenantHistory, definition: Definition, now_ms: int) -> list[Past]:
    """Every project, with its outcome where known by `now_ms` (None while it may still succeed)."""
    succeeded: dict[Node, int] = {}  # version -> when it first reached a success alias or won an A/B test
    wins = [e for e in history.edges["reached"] if e.target.key in definition.aliases]
    wins += history.edges["won"] if definition.ab_wins else []
    for e in wins:  # both: the version is the edge's source
        succeeded[e.source] = min(e.at, succeeded.get(e.source, e.at))
    window = definition.days * DAY_MS
    won = {
        e.source.id
        for e in history.edges["produced"]
        if e.target in succeeded and succeeded[e.target] - e.at <= window and succeeded[e.target] <= now_ms
    }

    def outcome(project: Past) -> bool | None:
        if project.project_id in won:
            return True
        return False if definition.known_by(project, now_ms) else None

    return [replace(p, succeeded=outcome(p)) for p in history.past("dataset")]


def activity(history: TenantHistory) -> dict[str, Activity]:
    """Per project: when its runs started, and when explanations and A/B tests of its versions began."""
    producer = {e.target: e.source.id for e in history.edges["produced"]}
    found: dict[str, dict[str, list[int]]] = {}

    def add(project: str | None, what: str, at: int) -> None:
        if project is not None:
            found.setdefault(project, {"runs": [], "explanations": [], "ab_tests": []})[what].append(at)

    for e in history.edges["logged"]:
        add(e.source.id, "runs", e.at)
    for e in history.edges["explained"]:
        add(producer.get(e.target), "explanations", e.at)
    for e in history.edges["tested"]:
        add(producer.get(e.target), "ab_tests", e.at)
    return {p: Activity(**{k: tuple(sorted(v)) for k, v in did.items()}) for p, did in found.items()}


def _definition(record: dict[str, Any]) -> Definition:
    """The success definition a stored model was trained with (a record from before the settings holds only
    its success_days, at its top)."""
    return Definition.of(record.get("definition") or record)


class Forecasting:
    def __init__(self, store: InsightsStore, auth: AuthContext, correlation_id: str | None) -> None:
        self.store, self.auth, self.correlation_id = store, auth, correlation_id

    def _projects(self, definition: Definition, now_ms: int) -> tuple[list[Past], dict[str, Activity]]:
        history = TenantHistory.read(self.store)
        return outcomes(history, definition, now_ms), activity(history)

    # -- training -------------------------------------------------------------------------------------------
    def train(self, definition: Definition, now_ms: int) -> dict[str, Any]:
        projects, did = self._projects(definition, now_ms)
        finished = [p for p in projects if p.succeeded is not None]
        if len(finished) < MIN_FINISHED or len({p.succeeded for p in finished}) < 2:
            raise Conflict(
                f"{len(finished)} finished projects ({sum(bool(p.succeeded) for p in finished)} succeeded): "
                f"a forecast needs {MIN_FINISHED}, with both outcomes"
            )
        people = sorted({m for p in projects for m in p.team})
        datasets = sorted({d for p in projects for d in p.datasets})
        try:
            model = evaluate(finished, Features(people, datasets), definition, activity=did)
        except ValueError as exc:  # e.g. the latest projects all ended alike: nothing to judge it on
            raise Conflict(f"no forecast can be learned and judged yet: {exc}") from exc
        version = self._register(model, definition, people, datasets, len(finished))
        record = {
            "version": version,
            "trained_at": now_ms,
            "trained_by": self.auth.principal,
            "success_days": definition.days,
            "definition": definition.settings(),
            "people": people,
            "datasets": datasets,
            "model": model.to_json(),
        }
        self.store.put_model(record)
        publish_safely(
            DomainEvent.by(
                self.auth,
                "insights",
                "ForecastModelTrained",
                {"version": version, **definition.settings(), "figures": model.figures},
                self.correlation_id,
            )
        )
        return self.shown(record)

    def _register(
        self, model: Model, definition: Definition, people: list[str], datasets: list[str], finished: int
    ) -> str:
        """The model in the tenant's own registry: a run with its settings and figures, the model as JSON."""
        from maestro.registry.interface import recorder

        runs = recorder(self.auth, self.correlation_id)
        params = {**definition.settings(), "features": len(model.names), "finished": finished}
        _, run_id = runs.start_run(EXPERIMENT, "forecast", params, {"maestro.insights": "forecast"})
        try:
            version = self._record_run(runs, run_id, model, people, datasets)
        except Exception:
            runs.end_run(run_id, "FAILED")  # never a run left RUNNING
            raise
        runs.end_run(run_id, "FINISHED")
        return version

    @staticmethod
    def _record_run(runs: Any, run_id: str, model: Model, people: list[str], datasets: list[str]) -> str:
        figures = model.figures
        runs.log_metrics(
            run_id,
            {
                "auc": figures["auc"],
                "brier": figures["brier"],
                "ece": figures["ece"],
                "base_rate_brier": figures["base_rate"]["brier"],
                "team_size_only_auc": figures["team_size_only"]["auc"],
            },
        )
        body = json.dumps({"model": model.to_json(), "people": people, "datasets": datasets}).encode()
        model_id, uri = runs.log_model(run_id, "forecast", {"model.json": body}, "maestro-insights")
        return str(
            runs.register(
                REGISTERED_NAME, uri, run_id, model_id, {"success_days": str(model.definition_days)}
            )
        )

    def model(self) -> dict[str, Any]:
        record = self.store.model()
        if record is None:
            raise NotFound("no forecast model yet: train one (POST /insights/forecast/train)")
        return record

    @staticmethod
    def shown(record: dict[str, Any]) -> dict[str, Any]:
        model = record["model"]
        return {
            "version": record["version"],
            "registered_model": REGISTERED_NAME,
            "trained_at": record["trained_at"],
            "trained_by": record["trained_by"],
            "success_days": record["success_days"],
            "definition": _definition(record).settings(),
            "figures": model["figures"],
            "reliability": model["bands"],
        }

    # -- forecasts and teams --------------------------------------------------------------------------------
    def _context(
        self, project_id: str, now_ms: int
    ) -> tuple[dict[str, Any], Model, Features, Past, Evidence, list[float]]:
        record = self.model()
        try:
            model = Model.from_json(record["model"])
        except ValueError as exc:
            raise Conflict(f"{exc} that this version cannot read: train it again") from exc
        features = Features(record["people"], record["datasets"])
        definition = _definition(record)
        projects, did = self._projects(definition, now_ms)
        node = f"project:{project_id}"
        found = next((p for p in projects if p.project_id == node), None)
        if found is None:
            raise NotFound(f"no project {node} in the tenant's graph")
        process = did.get(found.project_id, Activity()).early(found.started_ms, definition.observe_days)
        return record, model, features, found, Evidence(projects, now_ms, definition), process

    def forecast(self, project_id: str, now_ms: int) -> dict[str, Any]:
        record, model, features, project, evidence, process = self._context(project_id, now_ms)
        x = np.asarray(features.row(project.team, project.datasets, evidence, process))
        probability = float(model.probability(x[None, :])[0])
        return {
            "project": project.project_id,
            "model_version": record["version"],
            "success_days": record["success_days"],
            "outcome": project.succeeded,
            "probability": probability,
            "band": model.band(probability),
            "top_features": [
                {"feature": name, "value": value, "shap": shap}
                for name, value, shap in model.contributions(x)[:TOP_FEATURES]
            ],
            "team": list(project.team),
            "datasets": list(project.datasets),
            "upper_tier": sorted(
                {*(f"member:{p}" for p in project.team), *(f"dataset:{d}" for d in project.datasets)}
                & set(model.upper)
            ),
        }

    def team(self, project_id: str, size: int, keep: list[str], now_ms: int) -> dict[str, Any]:
        """Principals to add, one at a time, each the one whose addition raises the forecast most, while the
        team is below `size` and an addition still raises it; `keep` must stay (they are on it already or
        are added first)."""
        record, model, features, project, evidence, process = self._context(project_id, now_ms)
        team = list(dict.fromkeys([*project.team, *keep]))
        if len(team) > size:
            raise ValidationError("size", f"the team already has {len(team)} members, with those to keep")

        def chance(members: list[str]) -> float:
            return float(
                model.probability(np.asarray([features.row(members, project.datasets, evidence, process)]))[0]
            )

        start = current = chance(team)
        suggestions = []
        candidates = [p for p in features.people if p not in team]
        while len(team) < size and candidates:
            gains = sorted(
                ((chance([*team, c]) - current, c) for c in candidates), key=lambda g: (-g[0], g[1])
            )
            gain, best = gains[0]
            if gain <= 0:
                break
            history = evidence.person[best]
            suggestions.append(
                {
                    "principal": best,
                    "gain": gain,
                    "probability_after": current + gain,
                    "why": {
                        "finished_projects": history[1],
                        "succeeded": history[0],
                        "past_success": evidence.smoothed(history),
                        "first_stage_weight": model.first_stage.get(f"member:{best}", 0.0),
                        "upper_tier": f"member:{best}" in model.upper,
                    },
                }
            )
            team.append(best)
            candidates.remove(best)
            current += gain
        return {
            "project": project.project_id,
            "model_version": record["version"],
            "team": list(project.team),
            "kept": keep,
            "probability": start,
            "suggestions": suggestions,
            "probability_with_suggestions": current,
        }
