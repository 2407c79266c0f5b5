"""`maestro insights ...`: the tenant's reuse graph as tables (a node's neighbourhood, the most reused
artifacts of a period, reuse over time), recommendations with the projects behind them, a backfill followed
to its end, and a project's graph drawn to PNG: its team, what it used and produced, and the other projects
that used the same artifacts. Talks to any Maestro ML API; by default the running local one."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from maestro.cli.http import Api, common_options, connect, follow

# The kinds drawn, by column (a project's runs are left out: a project may log thousands).
KIND_COLUMN = {
    "principal": 0,
    "project": 1,
    "dataset": 2,
    "feature_set": 2,
    "code": 2,
    "model_version": 2,
    "logged_model": 2,
}
COLOURS = {
    "principal": "#4c72b0",
    "project": "#c44e52",
    "dataset": "#55a868",
    "feature_set": "#64b5cd",
    "code": "#8172b2",
    "model_version": "#dd8452",
    "logged_model": "#937860",
}


def short(node_id: str, width: int = 48) -> str:
    return node_id if len(node_id) <= width else node_id[: width - 1] + "…"


def neighbourhood_table(answer: dict[str, Any]) -> str:
    lines = [answer["node"]["id"], f"  {'':<4}{'relation':<14}{'node':<50}{'since':<22}"]
    for e in answer["edges"]:
        arrow = "->" if e["direction"] == "out" else "<-"
        lines.append(f"  {arrow:<4}{e['relation']:<14}{short(e['node']['id']):<50}{e['at']:<22}")
    return "\n".join(lines)


def reuse_table(answer: dict[str, Any]) -> str:
    lines = [f"most reused, {answer['since']} to {answer['until']}", f"  {'projects':>8}  artifact"]
    lines += [f"  {a['projects']:>8}  {a['id']}" for a in answer["artifacts"]]
    return "\n".join(lines if answer["artifacts"] else [*lines[:1], "  nothing was reused in this period"])


def timeline_table(answer: dict[str, Any]) -> str:
    lines = [f"new reusing projects per {answer['period']}: {answer['node'] or 'every artifact'}"]
    peak = max((c["projects"] for c in answer["counts"]), default=0)
    for c in answer["counts"]:
        bar = "#" * round(30 * c["projects"] / peak) if peak else ""
        lines.append(f"  {c['period'][:10]}  {c['projects']:>5}  {bar}")
    return "\n".join(lines)


def recommendations_table(answer: dict[str, Any]) -> str:
    if not answer["recommendations"]:
        return f"no recommendations: {answer.get('reason', 'none')}"
    lines = [f"{answer['kind']}s for {answer['project'] or 'a new ' + str(answer['task']) + ' project'}"]
    for i, r in enumerate(answer["recommendations"], 1):
        lines.append(f"{i:>3}. {r['id']}  (score {r['score']:.3f})")
        for b in r["because"]:
            why = (
                f"same task ({b['task']})"
                if b["task"] == answer["task"]
                else "shares " + ", ".join(b["shared_members"])
            )
            lines.append(
                f"       used by {b['project']}: {why}; {b['versions']} versions, {b['promoted']} promoted"
            )
    return "\n".join(lines)


def draw(api: Api, project: str, out: Path) -> int:
    """The project, its team and artifacts, and the projects that used the same artifacts; the nodes drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    around = api.call("GET", "/insights/neighbourhood", params={"node": project})
    nodes: dict[str, str] = {project: "project"}
    edges: list[tuple[str, str, str]] = []
    for e in around["edges"]:
        if e["node"]["kind"] not in KIND_COLUMN:
            continue
        other = e["node"]["id"]
        nodes[other] = e["node"]["kind"]
        edges.append(
            (project, other, e["relation"]) if e["direction"] == "out" else (other, project, e["relation"])
        )
    reusers: set[str] = set()  # other projects that used one of its artifacts
    for artifact in [n for n, kind in nodes.items() if KIND_COLUMN[kind] == 2]:
        for e in api.call("GET", "/insights/neighbourhood", params={"node": artifact})["edges"]:
            if e["node"]["kind"] == "project" and e["node"]["id"] != project and e["relation"] == "used":
                reusers.add(e["node"]["id"])
                edges.append((e["node"]["id"], artifact, "used"))
    columns: dict[int, list[str]] = {0: [], 1: [], 2: [], 3: sorted(reusers)}
    for node, kind in sorted(nodes.items()):
        columns[KIND_COLUMN[kind]].append(node)
    place = {
        node: (x, (len(column) - 1) / 2 - i) for x, column in columns.items() for i, node in enumerate(column)
    }
    height = max(4.0, 0.45 * max(len(c) for c in columns.values()))
    figure, axes = plt.subplots(figsize=(14, height))
    for source, target, relation in edges:
        (x0, y0), (x1, y1) = place[source], place[target]
        axes.plot([x0, x1], [y0, y1], color="#999999", linewidth=0.8, zorder=1)
        axes.annotate(relation, ((x0 + x1) / 2, (y0 + y1) / 2), fontsize=6, color="#666666", ha="center")
    for node, (x, y) in place.items():
        kind = nodes.get(node, "project")  # a reuser is a project
        axes.scatter([x], [y], s=120, color=COLOURS[kind], zorder=2)
        axes.annotate(short(node, 40), (x, y), xytext=(6, 4), textcoords="offset points", fontsize=7)
    axes.set_title(f"{project}: its team, what it used and produced, and who else used the same")
    axes.set_xticks([0, 1, 2, 3], ["team", "project", "artifacts", "projects reusing them"])
    axes.set_yticks([])
    axes.set_xlim(-0.3, 3.8)
    figure.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=120)
    plt.close(figure)
    return len(place)


def run(args: argparse.Namespace) -> int:
    api: Api = connect(args, roles=("ml-engineer",))
    window = (
        {k: v for k, v in {"since": args.since, "until": args.until}.items() if v} if "since" in args else {}
    )
    if args.insights == "neighbourhood":
        print(neighbourhood_table(api.call("GET", "/insights/neighbourhood", params={"node": args.node})))
    elif args.insights == "reuse":
        params = {**window, "limit": args.limit, **({"kind": args.kind} if args.kind else {})}
        print(reuse_table(api.call("GET", "/insights/reuse", params=params)))
    elif args.insights == "timeline":
        params = {**window, "period": args.period, **({"node": args.node} if args.node else {})}
        print(timeline_table(api.call("GET", "/insights/reuse/timeline", params=params)))
    elif args.insights == "recommend":
        body = {
            "project": args.project,
            "task": args.task,
            "team": args.team,
            "kind": args.kind,
            "limit": args.limit,
        }
        answer = api.call("POST", "/insights/recommendations", json={k: v for k, v in body.items() if v})
        print(recommendations_table(answer))
    elif args.insights == "backfill":
        started = api.call("POST", "/insights/backfills")
        record = follow(
            api,
            f"/insights/backfills/{started['backfill_id']}",
            lambda r: (
                f"{r['backfill_id']}: {r['status']} {r.get('stage', '')} {json.dumps(r.get('progress', ''))}"
            ),
            final=("SUCCEEDED", "FAILED"),
            interval_s=1.0,
        )
        print(json.dumps({k: record.get(k) for k in ("status", "read", "comparison", "error")}, indent=2))
        return 0 if record["status"] == "SUCCEEDED" else 1
    elif args.insights == "graph":
        drawn = draw(api, args.project, Path(args.out))
        print(f"{drawn} nodes drawn to {args.out}")
    return 0


def add_parser(top: Any) -> None:
    insights = top.add_parser("insights", help="what the team's own history says").add_subparsers(
        dest="insights", required=True
    )
    common = common_options()
    insights.add_parser("neighbourhood", parents=[common], help="a node's edges").add_argument(
        "node", help="<kind>:<key>, e.g. project:experiment:3 or principal:alice"
    )
    for name, what in (("reuse", "the most reused artifacts of a period"), ("timeline", "reuse over time")):
        sub = insights.add_parser(name, parents=[common], help=what)
        sub.add_argument("--since", default=None, help="ISO time (default: 90 days before --until)")
        sub.add_argument("--until", default=None, help="ISO time (default: now)")
    insights.choices["reuse"].add_argument(
        "--kind", default=None, help="dataset, feature_set, model_version, code, ..."
    )
    insights.choices["reuse"].add_argument("--limit", type=int, default=20)
    insights.choices["timeline"].add_argument("--node", default=None, help="one artifact (default: all)")
    insights.choices["timeline"].add_argument("--period", default="month", choices=("day", "week", "month"))
    recommend = insights.add_parser("recommend", parents=[common], help="artifacts a project may reuse")
    recommend.add_argument("--project", default=None, help="a project's node id")
    recommend.add_argument("--task", default=None, help="a new project's task")
    recommend.add_argument("--team", nargs="*", default=[], help="its members")
    recommend.add_argument("--kind", default="dataset", choices=("dataset", "feature_set", "model_version"))
    recommend.add_argument("--limit", type=int, default=10)
    insights.add_parser(
        "backfill", parents=[common], help="rebuild the graph and compare it with the live one"
    )
    graph = insights.add_parser("graph", parents=[common], help="draw a project's graph to PNG")
    graph.add_argument("project", help="the project's node id")
    graph.add_argument("--out", default="project-graph.png")
    for sub in insights.choices.values():
        sub.set_defaults(run=run)
