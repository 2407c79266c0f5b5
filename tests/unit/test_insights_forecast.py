"""The success forecast on synthetic histories with a planted truth: a project's features never see its own
outcome nor one unknown at its start; the two-stage model beats the base rate and team size alone on later
projects (a time split); its input contributions are SHAP's own (shap.LinearExplainer as the oracle); ECE is
what a direct computation gives; the upper tier is 1-D two-means (k-means as the oracle) and finds the
planted people; the model survives JSON."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import shap
from sklearn.cluster import KMeans

from maestro.insights.advice import TenantHistory
from maestro.insights.forecast import (
    DAY_MS,
    PROCESS,
    TERMS,
    Activity,
    Definition,
    Evidence,
    Features,
    Model,
    build,
    ece,
    evaluate,
    train,
    upper_tier,
)
from maestro.insights.forecasting import activity, outcomes
from maestro.insights.graph import RELATIONS, Edge, Node
from maestro.insights.recommend import Past
from maestro.insights.synthetic import generate

DEFINITION = Definition(90)


def pasts(seed: int, projects: int) -> tuple[list[Past], Features]:
    history = generate(seed=seed, projects=projects)
    found = [
        Past(p.project_id, p.task, p.team, p.datasets, p.started_ms, p.succeeded) for p in history.projects
    ]
    return found, Features(sorted(history.people), sorted(history.datasets))


def test_a_project_s_features_never_see_its_own_outcome_nor_one_unknown_at_its_start() -> None:
    projects, features = pasts(2, 200)
    data = build(projects, features, DEFINITION)
    i = 150
    target = data.projects[i]
    flipped = [
        Past(p.project_id, p.task, p.team, p.datasets, p.started_ms, not p.succeeded)
        if p is target or p.started_ms + DEFINITION.days * DAY_MS > target.started_ms
        else p
        for p in projects
    ]
    again = build(flipped, features, DEFINITION)
    assert np.array_equal(again.x[i], data.x[i])  # neither its own outcome nor later ones moved its row
    assert again.y[i] != data.y[i]


def test_the_forecast_beats_the_base_rate_and_team_size_alone_on_later_projects() -> None:
    projects, features = pasts(11, 1000)
    model = evaluate(projects, features, DEFINITION)
    figures = model.figures
    assert figures["held_out_projects"] == 300
    assert figures["auc"] > figures["team_size_only"]["auc"] + 0.1 and figures["auc"] > 0.75, figures
    assert (
        figures["brier"] < figures["base_rate"]["brier"]
        and figures["brier"] < figures["team_size_only"]["brier"]
    )
    assert sum(b["projects"] for b in model.bands) == 300
    for band in model.bands:
        assert band["observed_90"][0] <= band["observed"] <= band["observed_90"][1]


def test_contributions_are_shap_s_linear_explanation_and_the_model_survives_json() -> None:
    projects, features = pasts(4, 300)
    model = Model.from_json(json.loads(json.dumps(evaluate(projects, features, DEFINITION).to_json())))
    data = build(projects, features, DEFINITION)
    z = (model.inputs(data.x) - np.asarray(model.mean)) / np.asarray(model.scale)
    explainer = shap.LinearExplainer((np.asarray(model.weights), model.intercept), np.zeros((1, z.shape[1])))
    expected = explainer.shap_values(z[:5])
    for row, oracle in zip(data.x[:5], expected, strict=True):
        ours = {name: value for name, _, value in model.contributions(row)}
        assert np.allclose([ours[n] for n in TERMS], oracle, atol=1e-9)
        score = model.score(row[None, :])[0]
        assert math.isclose(sum(ours.values()) + model.intercept, score, abs_tol=1e-9)
    with pytest.raises(ValueError, match="earlier format"):
        Model.from_json({k: v for k, v in model.to_json().items() if k != "format"})


def test_the_upper_tier_is_the_two_means_split_and_holds_the_planted_people() -> None:
    weights = np.array([0.1, -0.2, 1.9, 0.0, 2.2, 0.15])
    # sklearn's KMeans on one dimension, exhaustively initialised, as the oracle for the split
    labels = KMeans(n_clusters=2, n_init=10, random_state=0).fit_predict(weights.reshape(-1, 1))
    high = labels == labels[int(np.argmax(weights))]
    assert np.array_equal(upper_tier(weights), high)
    assert not upper_tier(np.array([0.3, 0.3, 0.3])).any() and not upper_tier(np.array([1.0])).any()
    history = generate(seed=5, projects=1000)
    assert history.truth is not None
    projects, features = pasts(5, 1000)
    model = train(build(projects, features, DEFINITION), features.names, DEFINITION)
    found = {n.removeprefix("member:") for n in model.upper if n.startswith("member:")}
    planted = set(history.truth.strong_people)
    assert len(found & planted) >= len(planted) - 1 and len(found - planted) <= 1, (found, planted)


def test_ece_is_the_weighted_gap_per_bin() -> None:
    y = np.array([1, 0, 0, 1, 1, 0])
    p = np.array([0.05, 0.05, 0.15, 0.95, 0.91, 0.55])
    # bins [0,.1): y .5, p .05 (2); [.1,.2): 0 vs .15 (1); [.5,.6): 0 vs .55 (1); [.9,1): 1 vs .93 (2)
    expected = (2 * 0.45 + 0.15 + 0.55 + 2 * 0.07) / 6
    assert ece(y, p) == pytest.approx(expected)


def test_a_member_s_past_success_is_shrunk_toward_the_base_rate() -> None:
    projects, _ = pasts(5, 120)
    evidence = Evidence(projects, projects[-1].started_ms, DEFINITION)
    assert evidence.smoothed([1, 1]) < 1.0 and evidence.smoothed([0, 1]) > 0.0
    assert evidence.smoothed([0, 0]) == pytest.approx(evidence.rate)


def test_success_is_a_chosen_alias_or_an_a_b_win_within_the_window_and_activity_is_the_producer_s() -> None:
    day = DAY_MS
    a, b, c = (Node("project", f"experiment:{n}") for n in "abc")
    v = {n: Node("model_version", f"m/{n}") for n in (1, 2, 3)}
    test = Node("ab_test", "e-1")
    edges: dict[str, list[Edge]] = {r: [] for r in RELATIONS}
    edges["produced"] = [Edge(a, "produced", v[1], 10 * day), Edge(b, "produced", v[2], 10 * day)]
    edges["produced"].append(Edge(c, "produced", v[3], 10 * day))
    edges["reached"] = [
        Edge(v[1], "reached", Node("alias", "staging"), 11 * day),
        Edge(v[3], "reached", Node("alias", "production"), 101 * day),  # 91 days after its registration
    ]
    edges["won"] = [Edge(v[2], "won", test, 20 * day)]
    edges["tested"] = [Edge(test, "tested", v[2], 12 * day), Edge(test, "tested", v[1], 12 * day)]
    edges["explained"] = [Edge(Node("explanation", "j"), "explained", v[2], 13 * day)]
    edges["logged"] = [Edge(b, "logged", Node("run", f"r{i}"), (i // 2) * day) for i in range(6)]
    history = TenantHistory(edges, {p: (0, "churn") for p in (a, b, c)})
    now = 400 * day

    def succeeded(definition: Definition) -> dict[str, bool | None]:
        return {p.project_id: p.succeeded for p in outcomes(history, definition, now)}

    assert succeeded(Definition(90)) == {a.id: False, b.id: True, c.id: False}
    assert succeeded(Definition(90, ("staging",), ab_wins=False)) == {a.id: True, b.id: False, c.id: False}
    assert succeeded(Definition(91)) == {a.id: False, b.id: True, c.id: True}
    assert Definition.of(Definition(30, ("champion",), False, 7).settings()) == Definition(
        30, ("champion",), False, 7
    )
    assert Definition.of({"success_days": 30}) == Definition(30)  # a record from before the settings

    did = activity(history)
    assert did[b.id].runs == tuple(sorted(e.at for e in edges["logged"]))
    assert did[b.id].explanations == (13 * day,) and did[b.id].ab_tests == (12 * day,)
    assert did[a.id].ab_tests == (12 * day,) and c.id not in did
    # what it did in its first 2 days (runs on days 0 and 1), then in its first 14
    assert did[b.id].early(0, 2) == [4.0, 2.0, 0.0, 0.0]
    assert did[b.id].early(0, 14) == [6.0, 3.0, 1.0, 1.0]


def test_a_project_s_process_features_never_see_what_it_did_after_its_first_days() -> None:
    projects, features = pasts(3, 120)
    definition = Definition(90, observe_days=14)
    target = projects[100]
    early = Activity(runs=(target.started_ms, target.started_ms + DAY_MS))
    late = Activity(
        runs=(*early.runs, target.started_ms + 20 * DAY_MS),
        explanations=(target.started_ms + 30 * DAY_MS,),
        ab_tests=(target.started_ms + 15 * DAY_MS,),
    )
    one = build(projects, features, definition, {target.project_id: early})
    two = build(projects, features, definition, {target.project_id: late})
    assert np.array_equal(one.x, two.x)
    i = one.projects.index(target)
    assert [one.x[i][features.names.index(n)] for n in PROCESS] == [2.0, 2.0, 0.0, 0.0]
