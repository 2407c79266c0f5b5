"""The reuse graph's facts: which project used which dataset, feature set, code version and base model, which
runs it logged, produced which model versions, who ran it and who promoted what to which alias, which
versions were explained and A/B tested and which won their test; read off the registry's runs, versions and
aliases, and the explanation and A/B events. Pure: the same facts come from an event as from a backfill's
scan, so both build the same graph. Must never count one project's reuse of an artifact twice."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal[
    "project",
    "dataset",
    "feature_set",
    "model_version",
    "logged_model",
    "code",
    "principal",
    "run",
    "alias",
    "explanation",
    "ab_test",
]
Relation = Literal[
    "used", "produced", "derived_from", "ran", "promoted", "logged", "reached", "explained", "tested", "won"
]
PROJECT_TAG = "maestro.project"  # on a run or its experiment: experiments that share it are one project
COMMIT_TAG = "mlflow.source.git.commit"
USER_TAG = "mlflow.user"
BASE_MODEL_TAG = "maestro.base_model"  # "<name>/<version>": the registered version a run fine-tuned
TASK_TAG = "maestro.task"  # on a run or its experiment: the kind of problem (e.g. "churn", "fraud")
FEATURE_SET_TAG = "maestro.feature_set"  # on a run: the feature sets it read, comma-separated names
# The run tags that change what a run says to the graph (a run's other tags, params and metrics do not).
GRAPH_TAGS = frozenset({PROJECT_TAG, COMMIT_TAG, USER_TAG, BASE_MODEL_TAG, TASK_TAG, FEATURE_SET_TAG})
ARTIFACT_KINDS: tuple[Kind, ...] = ("dataset", "feature_set", "model_version", "logged_model", "code")
KINDS: tuple[Kind, ...] = ("project", *ARTIFACT_KINDS, "principal", "run", "alias", "explanation", "ab_test")
RELATIONS: tuple[Relation, ...] = (
    "used",
    "produced",
    "derived_from",
    "ran",
    "promoted",
    "logged",
    "reached",
    "explained",
    "tested",
    "won",
)


@dataclass(frozen=True, order=True)
class Node:
    kind: Kind
    key: str

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.key}"


@dataclass(frozen=True, order=True)
class Edge:
    source: Node
    relation: Relation
    target: Node
    at: int  # ms: when it first happened (a run's start, a version's creation, an alias's move)


def _tags(pairs: Any) -> dict[str, str]:
    if isinstance(pairs, Mapping):
        return {str(k): str(v) for k, v in pairs.items()}
    return {str(p["key"]): str(p["value"]) for p in pairs or []}


def project_of(run: Mapping[str, Any], experiment: Mapping[str, Any]) -> Node:
    """The run's `maestro.project` tag, else its experiment's, else the experiment itself."""
    named = _tags(run.get("data", {}).get("tags")).get(PROJECT_TAG) or _tags(experiment.get("tags")).get(
        PROJECT_TAG
    )
    return Node("project", f"tag:{named}" if named else f"experiment:{experiment['experiment_id']}")


@dataclass(frozen=True)
class ProjectFact:
    """What a run says of its project: it had begun by `at`, and (when a tag names it) its task."""

    project: Node
    at: int
    task: str | None


def project_fact(run: Mapping[str, Any], experiment: Mapping[str, Any]) -> ProjectFact:
    task = _tags(run.get("data", {}).get("tags")).get(TASK_TAG) or _tags(experiment.get("tags")).get(TASK_TAG)
    return ProjectFact(project_of(run, experiment), int(run["info"].get("start_time") or 0), task or None)


def projects(facts: Iterable[ProjectFact]) -> dict[Node, tuple[int, str | None]]:
    """Each project's start (its earliest run) and task (that of its earliest run naming one), whatever the
    order or the repeats its facts arrived in."""
    started: dict[Node, int] = {}
    tasks: dict[Node, tuple[int, str]] = {}
    for f in facts:
        started[f.project] = min(f.at, started.get(f.project, f.at))
        if f.task is not None and (f.project not in tasks or (f.at, f.task) < tasks[f.project]):
            tasks[f.project] = (f.at, f.task)
    return {p: (at, tasks[p][1] if p in tasks else None) for p, at in started.items()}


def parse_node(text: str) -> Node:
    """A node from its id ("<kind>:<key>"); ValueError names what is wrong."""
    kind, _, key = text.partition(":")
    if kind not in KINDS or not key:
        raise ValueError(f"{text!r} is not <kind>:<key> with a kind of {', '.join(KINDS)}")
    return Node(kind, key)


def dataset_node(dataset: Mapping[str, Any]) -> Node:
    """A dataset by its digest and where it came from: the same data read from two places is two datasets."""
    return Node(
        "dataset", f"{dataset['digest']}@{dataset.get('source_type', '')}:{dataset.get('source', '')}"
    )


def run_edges(run: Mapping[str, Any], experiment: Mapping[str, Any]) -> set[Edge]:
    """What a run says: the project logged it, who ran the project, and the datasets, feature sets, code and
    base model the project used."""
    info, tags = run["info"], _tags(run.get("data", {}).get("tags"))
    project, at = project_of(run, experiment), int(info.get("start_time") or 0)
    edges = {Edge(project, "logged", Node("run", str(info["run_id"])), at)}
    user = info.get("user_id") or tags.get(USER_TAG)
    if user:
        edges.add(Edge(Node("principal", str(user)), "ran", project, at))
    for entry in (run.get("inputs") or {}).get("dataset_inputs") or []:
        edges.add(Edge(project, "used", dataset_node(entry["dataset"]), at))
    if tags.get(COMMIT_TAG):
        edges.add(Edge(project, "used", Node("code", tags[COMMIT_TAG]), at))
    for name in filter(None, (n.strip() for n in tags.get(FEATURE_SET_TAG, "").split(","))):
        edges.add(Edge(project, "used", Node("feature_set", name), at))
    if tags.get(BASE_MODEL_TAG):
        edges.add(Edge(project, "used", Node("model_version", tags[BASE_MODEL_TAG]), at))
    return edges


def version_edges(
    version: Mapping[str, Any], run: Mapping[str, Any] | None, experiment: Mapping[str, Any] | None
) -> set[Edge]:
    """A registered version: produced by its run's project, derived from its logged model."""
    node = version_node(version["name"], version["version"])
    at = int(version.get("creation_timestamp") or 0)
    edges: set[Edge] = set()
    if run is not None and experiment is not None:
        edges.add(Edge(project_of(run, experiment), "produced", node, at))
    if version.get("model_id"):
        edges.add(Edge(node, "derived_from", Node("logged_model", str(version["model_id"])), at))
    return edges


def version_node(name: str, version: str | int) -> Node:
    return Node("model_version", f"{name}/{version}")


def promotion_edges(
    name: str, version: str | int, alias: str | None, principal: str | None, at: int
) -> set[Edge]:
    """An alias pointed at a version: who promoted it, and which alias it reached."""
    node = version_node(name, version)
    edges = {Edge(Node("principal", principal), "promoted", node, at)} if principal else set()
    if alias:
        edges.add(Edge(node, "reached", Node("alias", alias), at))
    return edges


def explanation_edge(job_id: str, name: str, version: str | int, at: int) -> Edge:
    return Edge(Node("explanation", job_id), "explained", version_node(name, version), at)


def ab_edges(
    experiment_id: str, versions: Iterable[tuple[str, str]], winner: tuple[str, str] | None, at: int
) -> set[Edge]:
    """An A/B test started (the registered versions its variants serve) or concluded with a winner."""
    test = Node("ab_test", experiment_id)
    edges = {Edge(test, "tested", version_node(*v), at) for v in versions}
    if winner is not None:
        edges.add(Edge(version_node(*winner), "won", test, at))
    return edges


def merged(edges: Iterable[Edge]) -> dict[tuple[Node, Relation, Node], int]:
    """The graph: each (source, relation, target) once, at its earliest time, whatever the order or the
    repeats its facts arrived in (events are delivered at least once, a backfill reads everything again)."""
    graph: dict[tuple[Node, Relation, Node], int] = {}
    for e in edges:
        key = (e.source, e.relation, e.target)
        graph[key] = min(e.at, graph.get(key, e.at))
    return graph


def reuse(
    graph: Mapping[tuple[Node, Relation, Node], int], since: int = 0, until: int | None = None
) -> dict[Node, int]:
    """Per artifact, how many distinct projects used it in [since, until) besides the one that produced it."""
    producers = {t: s for (s, r, t) in graph if r == "produced"}
    users: dict[Node, set[Node]] = {}
    for (source, relation, target), at in graph.items():
        if relation != "used" or at < since or (until is not None and at >= until):
            continue
        if producers.get(target) != source:
            users.setdefault(target, set()).add(source)
    return {artifact: len(projects) for artifact, projects in users.items()}


def neighbourhood(
    graph: Mapping[tuple[Node, Relation, Node], int], node: Node
) -> list[tuple[str, Relation, Node, int]]:
    """The node's edges in both directions: ("out" | "in", relation, the other node, when), oldest first."""
    found = [("out", r, t, at) for (s, r, t), at in graph.items() if s == node]
    found += [("in", r, s, at) for (s, r, t), at in graph.items() if t == node]
    return sorted(found, key=lambda e: (e[3], e[0], e[1], e[2]))
