"""Data-parallel XGBoost on SageMaker's training contract: the same script trains on one host or many.

Each host reads its share of the `train` and `validation` channels (every rank takes the rows i with
i % hosts == rank), and XGBoost's collective (the Rabit tracker, started by the first host) allreduces the
gradient histograms, so the hosts grow the same trees as one host over all the rows would, up to the
quantile sketch XGBoost builds per host (its documented approximation of the split candidates).

The contract it reads: SM_HOSTS, SM_CURRENT_HOST, SM_MODEL_DIR, SM_CHANNEL_TRAIN, SM_CHANNEL_VALIDATION
and the hyperparameters as `--name value` arguments (SM_HPS has them as JSON too). It prints XGBoost's
evaluation log (`[round]\tvalidation-logloss:<v>\tvalidation-auc:<v>`) and, at the end, `val_auc=<v>` and
`val_accuracy=<v>`, which the job's metric definitions pick up; the first host writes `model.xgb`.

Every host name resolves inside SageMaker's cluster network. Maestro ML's local mode runs each host as a
process on one machine, at an address of its own on the loopback network, and says so in
MAESTRO_HOST_ADDRESSES (it cannot edit /etc/hosts)."""

from __future__ import annotations

import argparse
import csv
import glob
import json
import os
import socket
import sys

import numpy as np
import xgboost as xgb
from xgboost import collective
from xgboost.tracker import RabitTracker

TRACKER_PORT = 9099


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--num_round", type=int, default=50)
    parser.add_argument("--max_depth", type=int, default=4)
    parser.add_argument("--eta", type=float, default=0.3)
    parser.add_argument("--subsample", type=float, default=1.0)
    parser.add_argument("--min_child_weight", type=float, default=1.0)
    parser.add_argument("--max_bin", type=int, default=256)
    parser.add_argument("--fail", type=str, default="")  # "yes": fail on purpose (to show how a job fails)
    return parser.parse_args()


def address(host: str) -> str:
    local = json.loads(os.environ.get("MAESTRO_HOST_ADDRESSES") or "{}")
    return str(local.get(host) or socket.gethostbyname(host))


def read_channel(name: str, rank: int, world: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """This host's rows of every CSV file in the channel (a header row; the label is the `label` column)."""
    folder = os.environ.get(f"SM_CHANNEL_{name.upper()}", f"/opt/ml/input/data/{name}")
    rows: list[list[float]] = []
    header: list[str] = []
    for path in sorted(glob.glob(os.path.join(folder, "**", "*.csv"), recursive=True)):
        with open(path, newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader)
            rows.extend([float(v) for v in row] for row in reader)
    if not rows:
        raise SystemExit(f"channel {name!r} has no CSV rows under {folder}")
    data = np.asarray(rows)[rank::world]
    label = header.index("label")
    features = [c for c in header if c != "label"]
    return np.delete(data, label, axis=1), data[:, label], features


def main() -> None:
    args = arguments()
    if args.fail == "yes":
        print("loading the training data ...", flush=True)
        raise SystemExit("the training data has no label column named 'target' (this job fails on purpose)")
    hosts = json.loads(os.environ.get("SM_HOSTS") or '["algo-1"]')
    current = os.environ.get("SM_CURRENT_HOST") or hosts[0]
    rank, world = hosts.index(current), len(hosts)
    model_dir = os.environ.get("SM_MODEL_DIR", "/opt/ml/model")

    tracker = None
    if rank == 0:
        tracker = RabitTracker(n_workers=world, host_ip=address(hosts[0]), port=TRACKER_PORT, sortby="task")
        tracker.start()
    communicator: dict[str, str | int] = {
        "dmlc_tracker_uri": address(hosts[0]),
        "dmlc_tracker_port": TRACKER_PORT,
        "dmlc_task_id": str(rank),
        "dmlc_retry": 10,
        "dmlc_timeout": 600,
    }
    x_train, y_train, features = read_channel("train", rank, world)
    x_val, y_val, _ = read_channel("validation", rank, world)
    print(f"host {current} (rank {rank} of {world}): {len(y_train)} training rows", flush=True)

    params = {
        "objective": "binary:logistic",
        "eval_metric": ["logloss", "auc"],
        "tree_method": "hist",
        "max_depth": args.max_depth,
        "eta": args.eta,
        "subsample": args.subsample,
        "min_child_weight": args.min_child_weight,
        "max_bin": args.max_bin,
        "seed": 7,
        "nthread": 1,
    }
    with collective.CommunicatorContext(**communicator):
        train = xgb.DMatrix(x_train, label=y_train, feature_names=features)
        validation = xgb.DMatrix(x_val, label=y_val, feature_names=features)
        booster = xgb.train(
            params,
            train,
            num_boost_round=args.num_round,
            evals=[(validation, "validation")],
            verbose_eval=rank == 0,  # XGBoost's evaluation log, metrics allreduced over the hosts
        )
        # accuracy over every host's validation rows: the counts are summed across hosts
        predicted = booster.predict(validation) >= 0.5
        counts = np.array([float((predicted == y_val).sum()), float(len(y_val))])
        correct = collective.allreduce(counts, collective.Op.SUM)
        auc = float(booster.eval(validation, "validation").split("validation-auc:")[1].split()[0])
    if rank == 0:
        os.makedirs(model_dir, exist_ok=True)
        booster.save_model(os.path.join(model_dir, "model.xgb"))
        print(f"val_auc={auc:.6f}", flush=True)
        print(f"val_accuracy={correct[0] / correct[1]:.6f}", flush=True)
    if tracker is not None:
        tracker.wait_for()
    sys.stdout.flush()


if __name__ == "__main__":
    main()
