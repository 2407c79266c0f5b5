"""`make bench`'s insights figures so far (issue 19): dataset recommendations on three synthetic histories of
300 projects, split by time, against global popularity measured on the same projects. In-process over the
domain code: loading the histories through the real API comes with the insights functions. Run by
tests/bench.py in its own process."""

from __future__ import annotations

import statistics

from maestro.insights.recommend import Past, evaluate
from maestro.insights.synthetic import generate
from tests.bench import emit

SEEDS = (1, 2, 3)


def main() -> None:
    figures = []
    for seed in SEEDS:
        history = generate(seed=seed)
        projects = [
            Past(p.project_id, p.task, p.team, p.datasets, p.started_ms, p.succeeded)
            for p in history.projects
        ]
        figures.append(evaluate(projects))
    for metric in ("ndcg_at_10", "recall_at_10"):
        ours = statistics.mean(getattr(f, metric) for f in figures)
        popular = statistics.mean(getattr(f, f"popularity_{metric}") for f in figures)
        emit(
            f"insights.recommend.{metric}.synthetic_in_process",
            ours,
            "fraction",
            popular,
            histories=len(SEEDS),
            held_out_projects=sum(f.projects for f in figures),
        )


if __name__ == "__main__":
    main()
