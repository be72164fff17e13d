"""Outlier detection on the 29 ADBench sets in ../shared/data/adbench.

Protocol (../shared/data/README.md): above 20000 rows a stratified subsample
of 20000; a stratified 70/30 split; StandardScaler fitted on the training
part; each detector fitted on the training X only (labels never used);
ROC-AUC and average precision of the anomaly scores on the test part; seeds
0, 1, 2; means over seeds, then over data sets, and the mean rank.

Anomaly score = minus ``score_samples`` for every detector here (higher =
more anomalous).

Run: python -m benchmarks outliers [--quick] [--seeds 0 1 2] [--detectors A B ...]
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.neighbors import LocalOutlierFactor
from sklearn.preprocessing import StandardScaler

from sklearn_ae.utils import all_estimators

from ._harness import DATA, output_dir, save_table


class PCAReconstruction:
    """PCA reconstruction error as an outlier score (components for 95% variance)."""

    def __init__(self, random_state=None):
        self.random_state = random_state

    def fit(self, X):
        self.pca_ = PCA(n_components=0.95, svd_solver="full", random_state=self.random_state).fit(X)
        return self

    def score_samples(self, X):
        rebuilt = self.pca_.inverse_transform(self.pca_.transform(X))
        return -np.mean((X - rebuilt) ** 2, axis=1)


def detectors():
    """name -> factory(seed) of an object with fit(X) and score_samples(X)."""
    found = {
        "IsolationForest": lambda s: IsolationForest(random_state=s),
        "LocalOutlierFactor": lambda s: LocalOutlierFactor(novelty=True),
        "PCA reconstruction": lambda s: PCAReconstruction(random_state=s),
    }
    for name, cls in all_estimators():
        if name in ("ConditionalAutoencoder", "ConvolutionalAutoencoder"):
            continue  # needs labels / images: not a tabular detector
        found[name] = lambda s, cls=cls: cls(random_state=s, device="cpu")
    return found


def split(path: Path, seed: int):
    with np.load(path) as data:
        X, y = data["X"].astype(np.float64), data["y"].astype(int)
    if len(X) > 20000:
        X, _, y, _ = train_test_split(X, y, train_size=20000, stratify=y, random_state=seed)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=seed
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_test


def run(datasets, seeds, names):
    factories = detectors()
    rows = []
    for path in datasets:
        for seed in seeds:
            X_train, X_test, y_test = split(path, seed)
            for name in names:
                model = factories[name](seed)
                start = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    model.fit(X_train)
                fit_s = time.perf_counter() - start
                anomaly = -model.score_samples(X_test)
                rows.append({"dataset": path.stem, "seed": seed, "detector": name,
                             "roc_auc": roc_auc_score(y_test, anomaly),
                             "average_precision": average_precision_score(y_test, anomaly),
                             "fit_s": fit_s})
                print(f"{path.stem:22s} seed {seed} {name:24s} "
                      f"AUC {rows[-1]['roc_auc']:.3f} fit {fit_s:.2f}s", flush=True)
    return pd.DataFrame(rows)


def summarise(raw):
    per_set = raw.groupby(["dataset", "detector"]).mean(numeric_only=True).reset_index()
    per_set["rank"] = per_set.groupby("dataset")["roc_auc"].rank(ascending=False)
    summary = per_set.groupby("detector").agg(
        mean_roc_auc=("roc_auc", "mean"),
        mean_average_precision=("average_precision", "mean"),
        mean_rank=("rank", "mean"),
    )
    summary["median_fit_s"] = raw.groupby("detector")["fit_s"].median()
    return summary.sort_values("mean_roc_auc", ascending=False).reset_index(), per_set


def main(argv=None):
    parser = argparse.ArgumentParser(description="ADBench outlier detection")
    parser.add_argument("--quick", action="store_true", help="3 small sets, seed 0")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--detectors", nargs="+", default=None)
    args = parser.parse_args(argv)
    all_sets = sorted((DATA / "adbench").glob("*.npz"))
    names = args.detectors or list(detectors())
    if args.quick:
        small = {"39_vertebral", "42_WBC", "29_Pima"}
        datasets, seeds = [p for p in all_sets if p.stem in small], [0]
    else:
        datasets, seeds = all_sets, args.seeds
    raw = run(datasets, seeds, names)
    summary, per_set = summarise(raw)
    command = "python -m benchmarks outliers" + (" --quick" if args.quick else "")
    if args.seeds != [0, 1, 2] and not args.quick:
        command += " --seeds " + " ".join(map(str, args.seeds))
    if args.detectors:
        command += " --detectors " + " ".join(f"'{d}'" for d in args.detectors)
    md = save_table(summary, "outliers_adbench",
                    f"Outlier detection, {len(datasets)} ADBench sets, seeds {seeds}",
                    command, quick=args.quick)
    per_set.to_csv(output_dir(args.quick) / "outliers_adbench_per_set.csv", index=False)
    print(md)
    return summary


if __name__ == "__main__":
    main()
