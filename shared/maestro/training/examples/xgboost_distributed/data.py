"""The example's data: a binary classification with 10 features, generated from a seed (so every machine
trains on the same rows). Informative features interact; two are noise; a tenth of the labels are flipped."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

FEATURES = [f"x{i}" for i in range(10)]


def rows(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, len(FEATURES)))
    logit = 1.5 * x[:, 0] - 2.0 * x[:, 1] + x[:, 2] * x[:, 3] + np.sin(2 * x[:, 4]) + 0.5 * x[:, 5] ** 2 - 0.5
    y = (logit > 0).astype(float)
    flipped = rng.random(n) < 0.1
    y[flipped] = 1 - y[flipped]
    return x, y


def write(folder: Path, n_train: int = 6000, n_validation: int = 2000, seed: int = 11) -> dict[str, Path]:
    """train/train.csv and validation/validation.csv under `folder` (a header; the label column `label`)."""
    written = {}
    for offset, (name, n) in enumerate((("train", n_train), ("validation", n_validation))):
        x, y = rows(n, seed + offset)
        path = Path(folder) / name / f"{name}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow([*FEATURES, "label"])
            writer.writerows([*(f"{v:.6f}" for v in x[i]), int(y[i])] for i in range(n))
        written[name] = path
    return written
