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
  the error and IsolationForest;
- the forest-screened refit (``outlier_score="isolation"`` with the outlier
  settings' network: the refit leaves out the 10% of rows an isolation forest
  grown on all training rows isolates first), scored by its scaled
  reconstruction error and that forest's score, each put in units of the
  training rows' in two ways: as tail surprisals (ranks), and as robust
  z-scores, the error's on a log scale; weighted
  ``b * error + w(d) * forest`` for b in (0.5, 0.75, 1) and several rules
  ``w(d)`` in the number of features ``d`` (a forest splits on one feature
  at a time, so its weight may fall on hundreds of features), and the error
  alone. ``OutlierAutoencoder`` ships robust z, b = 0.75 and
  ``w(d) = min(1, 16 / d)``; its row is the estimator's own
  ``score_samples``.

Each fit is made once; all scorings of it are evaluated on the same test rows.
The table gives mean ROC-AUC and mean average precision per half beside
IsolationForest's on the same splits.

Run: python -m benchmarks outlier_search [--quick] [--family tabular|embeddings]
     [--seeds 0 1 2] [--jobs N]
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import pandas as pd
import torch
from sklearn.ensemble import IsolationForest
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import average_precision_score, roc_auc_score

from sklearn_ae import Autoencoder
from sklearn_ae._outlier import forest_scores

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


def _robust_z(train, test):
    """``(test - median) / IQR`` with the training scores' median and interquartile range."""
    low, median, high = np.percentile(train, [25, 50, 75])
    return (test - median) / max(high - low, 1e-12)


def _plain(model, X):
    rebuilt = model.inverse_transform(model.transform(X))
    return np.mean(((rebuilt - X) / model.scale_) ** 2, axis=1)


def _fit(task):
    """Fit one candidate on one split; its test-row scores under every scoring."""
    with warnings.catch_warnings():
        # The detector's epoch budget is one of its measured settings (as
        # OutlierAutoencoder, which does not warn): a constant rate that
        # ends still improving is expected here.
        warnings.simplefilter("ignore", ConvergenceWarning)
        return _fit_candidate(task)


def _fit_candidate(task):
    path, seed, candidate = task
    X_train, X_test, y_test = split(path, seed)
    settings = {**OUTLIER_SETTINGS}
    if candidate == "forest-screened refit":
        return _forest_screened(path, seed, X_train, X_test, y_test)
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


#: Weight rules of the forest's part, in the number of features d.
FOREST_WEIGHTS = {
    "w=1": lambda d: 1.0,
    "w=min(1, 16/d)": lambda d: min(1.0, 16 / d),
    "w=min(1, 64/d)": lambda d: min(1.0, 64 / d),
    "w=min(1, sqrt(16/d))": lambda d: min(1.0, np.sqrt(16 / d)),
}


def _forest_screened(path, seed, X_train, X_test, y_test):
    model = Autoencoder(random_state=seed, device="cpu",
                        **{**OUTLIER_SETTINGS, "outlier_score": "isolation"}).fit(X_train)
    error_train, error_test = model._scaled_errors(X_train), model._scaled_errors(X_test)
    forest_train, forest_test = (forest_scores(model._completed(X), model._forest())
                                 for X in (X_train, X_test))
    # Two ways to put the two scores on one scale: each as its tail
    # surprisal among the training rows' (a rank: the magnitude beyond the
    # training range aside, how far out a row is does not count), or as a
    # robust z-score over the training rows, the error's on a log scale
    # (the magnitude counts, in interquartile ranges).
    units = {
        "tail surprisal": (_tail_surprisal(error_train, error_test),
                           _tail_surprisal(forest_train, forest_test)),
        "robust z (log error)": (_robust_z(np.log(np.maximum(error_train, 1e-12)),
                                           np.log(np.maximum(error_test, 1e-12))),
                                 _robust_z(forest_train, forest_test)),
    }
    d = X_train.shape[1]
    scores = {}
    for unit, (error, forest) in units.items():
        scores[f"{unit}: error alone"] = error
        for weight in (0.5, 0.75, 1.0):
            for rule, w in FOREST_WEIGHTS.items():
                scores[f"{unit}: {weight} error + {rule} forest"] = weight * error + w(d) * forest
    scores["OutlierAutoencoder's score_samples"] = -model.score_samples(X_test)
    return [{"dataset": path.stem, "seed": seed, "candidate": "forest-screened refit",
             "scoring": scoring, "roc_auc": roc_auc_score(y_test, anomaly),
             "average_precision": average_precision_score(y_test, anomaly)}
            for scoring, anomaly in scores.items()]


CANDIDATES = ("outlier settings", "truncated loss", "subsample ensemble",
              "forest-screened refit")


def run(datasets, seeds, jobs=1, candidates=CANDIDATES):
    # The outlier settings' fits also give IsolationForest's baseline rows.
    candidates = ["outlier settings"] + [c for c in candidates if c != "outlier settings"]
    tasks = [(path, seed, c) for path in datasets for seed in seeds for c in candidates]
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
    parser.add_argument("--quick", action="store_true", help="2 small sets, seed 0")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--family", choices=("tabular", "embeddings"), default="tabular")
    parser.add_argument("--candidates", nargs="+", choices=CANDIDATES, default=list(CANDIDATES),
                        help="training candidates (the outlier settings always run: "
                             "they give IsolationForest's rows)")
    args = parser.parse_args(argv)
    folder = "adbench" if args.family == "tabular" else "adbench_embeddings"
    datasets = sorted((DATA / folder).glob("*.npz"))
    seeds = args.seeds
    if args.quick:
        datasets = [p for p in datasets if p.stem in {"39_vertebral", "42_WBC"}]
        seeds = [0]
    # The largest sets first, so that workers do not end on one long fit.
    datasets.sort(key=lambda p: -p.stat().st_size)
    table = summarise(run(datasets, seeds, args.jobs, args.candidates))
    command = "python -m benchmarks outlier_search" + (" --quick" if args.quick else "")
    if args.family != "tabular":
        command += f" --family {args.family}"
    if list(args.candidates) != list(CANDIDATES):
        command += " --candidates " + " ".join(f"'{c}'" for c in args.candidates)
    if args.jobs > 1:
        command += f" --jobs {args.jobs}"
    notes = ("Mean over sets of the mean over seeds, per half (A: sets chosen on, B: "
             "confirmation; sorted by name as in `outliers`). `*_minus_IF`: the "
             "candidate's mean minus IsolationForest's on the same splits. The target "
             "(issue 13) is auc_minus_IF >= 0.01 and ap_minus_IF > 0 on both halves.")
    stem = f"outlier_search_{args.family}"
    if list(args.candidates) != list(CANDIDATES):
        # A partial run gets a table of its own, beside the full one.
        stem += "".join(f"_{c.split()[0]}" for c in args.candidates if c != "outlier settings")
    md = save_table(table, stem,
                    f"Candidate autoencoder detectors against IsolationForest, ADBench "
                    f"{args.family}, seeds {seeds}", command, quick=args.quick, notes=notes)
    print(md)
    return table


if __name__ == "__main__":
    main()
