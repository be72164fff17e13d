"""The search for an autoencoder detector that beats IsolationForest on tables.

Issue 13 asks for a detector above IsolationForest by >= 0.01 mean ROC-AUC
*and* with the higher mean average precision, on both fixed halves of each
family (choices made on half A, confirmed on half B, 3 seeds). This script
records the candidates measured for it, with the ADBench protocol of
``python -m benchmarks outliers``:

- training candidates: ``Autoencoder``'s outlier settings (the combined score
  with ``refit_fraction=0.1``); the same network trained with a truncated loss
  (each batch drops its 10% worst-reconstructed rows, after ALTBI, 2024:
  inliers are learnt before outliers), no refit; and an ensemble of 4 networks
  each trained on a random 1,024-row subsample (as IsolationForest subsamples
  256 rows), no refit;
- scoring candidates on each fit, without retraining: the combined score (the
  sum of the robust z-scores of per-feature-normalised error, code density and
  distance), a weighting of them (1, 1, 0.5), the plain reconstruction error;
  for the ensemble, the mean and the median of the members' combined scores;
  for the outlier settings also hybrids with IsolationForest: each score
  (the three parts, IsolationForest's) turned into its tail surprisal among
  the training rows' scores (-log of the share of training rows scoring at
  least as high), summed: the parts alone, the parts and IsolationForest,
  the error and IsolationForest.

Each fit is made once; all scorings of it are evaluated on the same test rows.
The table gives mean ROC-AUC and mean average precision per half beside
IsolationForest's on the same splits.

Run: python -m benchmarks outlier_search [--quick] [--family tabular|embeddings]
     [--seeds 0 1 2] [--jobs N]
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
import torch
from sklearn.ensemble import IsolationForest
from sklearn.metrics import average_precision_score, roc_auc_score

from sklearn_ae import Autoencoder

from ._harness import DATA, save_table
from .outliers import OUTLIER_SETTINGS, halves, single_threaded_map, split

#: Rows each member of the subsample ensemble trains on, and members.
SUBSAMPLE_ROWS, MEMBERS = 1024, 4
#: Share of each batch the truncated loss leaves out.
TRUNCATED = 0.1


class TruncatedLossAutoencoder(Autoencoder):
    """Autoencoder whose training loss leaves out each batch's worst-reconstructed rows."""

    def _loss(self, module, X, y):
        errors = (module(X) - X).square().mean(1)
        keep = max(1, int(round((1 - TRUNCATED) * len(errors))))
        return torch.topk(errors, keep, largest=False, sorted=False).values.mean()


def _z_parts(model, X):
    """The combined score's three robust z-scores per row (higher = more anomalous)."""
    parts = model._score_parts(X)
    return (parts - model.score_center_) / model.score_scale_


def _tail_surprisal(train, test):
    """-log of each test score's upper-tail frequency among the training scores.

    ``(number of training scores >= x, plus one) / (n + 1)``; beyond the
    largest training score it keeps growing as ``log1p`` of the excess in
    interquartile ranges, so the order there is kept. Scores of different
    kinds (parts of the combined score, IsolationForest's) become the same
    kind of number: how rare among the training rows, Fisher-style.
    """
    ordered = np.sort(train)
    above = len(ordered) - np.searchsorted(ordered, test, side="left")
    low, high = np.percentile(ordered, [25, 75])
    excess = np.maximum(0.0, test - ordered[-1]) / max(high - low, 1e-12)
    return -np.log((above + 1) / (len(ordered) + 1)) + np.log1p(excess)


def _plain(model, X):
    rebuilt = model.inverse_transform(model.transform(X))
    return np.mean(((rebuilt - X) / model.scale_) ** 2, axis=1)


def _fit(task):
    """Fit one candidate on one split; its test-row scores under every scoring."""
    path, seed, candidate = task
    X_train, X_test, y_test = split(path, seed)
    settings = {**OUTLIER_SETTINGS}
    if candidate == "outlier settings":
        models = [Autoencoder(random_state=seed, device="cpu", **settings).fit(X_train)]
    elif candidate == "truncated loss":
        settings["refit_fraction"] = 0.0
        models = [TruncatedLossAutoencoder(random_state=seed, device="cpu", **settings)
                  .fit(X_train)]
    else:  # subsample ensemble
        settings["refit_fraction"] = 0.0
        models = []
        for member in range(MEMBERS):
            rng = np.random.RandomState(seed + 100 * member)
            rows = (np.sort(rng.choice(len(X_train), SUBSAMPLE_ROWS, replace=False))
                    if len(X_train) > SUBSAMPLE_ROWS else slice(None))
            models.append(Autoencoder(random_state=seed + 100 * member, device="cpu",
                                      **settings).fit(X_train[rows]))
    z = [_z_parts(m, X_test) for m in models]
    combined = [part.sum(axis=1) for part in z]
    scores = {}
    if len(models) == 1:
        scores["combined"] = combined[0]
        scores["weighted (1, 1, 0.5)"] = z[0] @ np.array([1.0, 1.0, 0.5])
        scores["plain error"] = _plain(models[0], X_test)
    else:
        scores["mean of combined"] = np.mean(combined, axis=0)
        scores["median of combined"] = np.median(combined, axis=0)
    if candidate == "outlier settings":
        # Hybrids with IsolationForest, each score turned into its tail
        # surprisal among the training rows' (so that neither kind of score
        # outweighs the other by its units) and summed.
        forest = IsolationForest(random_state=seed).fit(X_train)
        forest_train, forest_test = -forest.score_samples(X_train), -forest.score_samples(X_test)
        train_parts, test_parts = models[0]._score_parts(X_train), models[0]._score_parts(X_test)
        tails = [_tail_surprisal(train_parts[:, i], test_parts[:, i]) for i in range(3)]
        forest_tail = _tail_surprisal(forest_train, forest_test)
        scores["tail surprisal of the 3 parts"] = sum(tails)
        scores["tail surprisal, 3 parts + IF"] = sum(tails) + forest_tail
        scores["tail surprisal, error + IF"] = tails[0] + forest_tail
    rows = []
    for scoring, anomaly in scores.items():
        anomaly = np.nan_to_num(anomaly, nan=np.inf)
        rows.append({"dataset": path.stem, "seed": seed, "candidate": candidate,
                     "scoring": scoring, "roc_auc": roc_auc_score(y_test, anomaly),
                     "average_precision": average_precision_score(y_test, anomaly)})
    if candidate == "outlier settings":  # the baseline, once per split
        anomaly = forest_test
        rows.append({"dataset": path.stem, "seed": seed, "candidate": "IsolationForest",
                     "scoring": "-", "roc_auc": roc_auc_score(y_test, anomaly),
                     "average_precision": average_precision_score(y_test, anomaly)})
    return rows


CANDIDATES = ("outlier settings", "truncated loss", "subsample ensemble")


def run(datasets, seeds, jobs=1):
    tasks = [(path, seed, c) for path in datasets for seed in seeds for c in CANDIDATES]
    rows = []
    for result in single_threaded_map(_fit, tasks, jobs):
        rows.extend(result)
        print(f"{result[0]['dataset']:22s} seed {result[0]['seed']} "
              f"{result[0]['candidate']}", flush=True)
    return pd.DataFrame(rows)


def summarise(raw):
    per_set = raw.groupby(["candidate", "scoring", "dataset"])[
        ["roc_auc", "average_precision"]].mean().reset_index()
    per_set["half"] = per_set["dataset"].map(halves(per_set["dataset"].unique()))
    table = per_set.pivot_table(index=["candidate", "scoring"], columns="half",
                                values=["roc_auc", "average_precision"], aggfunc="mean")
    table.columns = [f"{'auc' if m == 'roc_auc' else 'ap'}_{h}" for m, h in table.columns]
    table = table[[c for c in ("auc_A", "ap_A", "auc_B", "ap_B") if c in table.columns]]
    forest = table.loc[("IsolationForest", "-")]
    for half in ("A", "B"):
        if f"auc_{half}" in table:
            table[f"auc_{half}_minus_IF"] = table[f"auc_{half}"] - forest[f"auc_{half}"]
            table[f"ap_{half}_minus_IF"] = table[f"ap_{half}"] - forest[f"ap_{half}"]
    return table.reset_index()


def main(argv=None):
    parser = argparse.ArgumentParser(description="Candidate detectors against IsolationForest")
    parser.add_argument("--quick", action="store_true", help="3 small sets, seed 0")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--family", choices=("tabular", "embeddings"), default="tabular")
    args = parser.parse_args(argv)
    folder = "adbench" if args.family == "tabular" else "adbench_embeddings"
    datasets = sorted((DATA / folder).glob("*.npz"))
    seeds = args.seeds
    if args.quick:
        datasets = [p for p in datasets if p.stem in {"39_vertebral", "42_WBC", "29_Pima"}]
        seeds = [0]
    # The largest sets first, so that workers do not end on one long fit.
    datasets.sort(key=lambda p: -p.stat().st_size)
    table = summarise(run(datasets, seeds, args.jobs))
    command = "python -m benchmarks outlier_search" + (" --quick" if args.quick else "")
    if args.family != "tabular":
        command += f" --family {args.family}"
    if args.jobs > 1:
        command += f" --jobs {args.jobs}"
    notes = ("Mean over sets of the mean over seeds, per half (A: sets chosen on, B: "
             "confirmation; sorted by name as in `outliers`). `*_minus_IF`: the "
             "candidate's mean minus IsolationForest's on the same splits. The target "
             "(issue 13) is auc_minus_IF >= 0.01 and ap_minus_IF > 0 on both halves.")
    md = save_table(table, f"outlier_search_{args.family}",
                    f"Candidate autoencoder detectors against IsolationForest, ADBench "
                    f"{args.family}, seeds {seeds}", command, quick=args.quick, notes=notes)
    print(md)
    return table


if __name__ == "__main__":
    main()
