"""Outlier detection on ADBench: 29 tabular sets (``--family tabular``, in
../shared/data/adbench) or 18 sets of image and text embeddings
(``--family embeddings``, in ../shared/data/adbench_embeddings).

Each family's sets are split into two fixed halves by sorted name; the
summary reports both, so that a choice made on one half is confirmed on the
other. Peers: IsolationForest, isotree's Extended Isolation Forest (where
isotree is installed), LocalOutlierFactor, PCA reconstruction, and PyOD's
AutoEncoder, VAE, KNN, ECOD, PCA, MCD, LUNAR and DIF with their defaults.
``--setting novelty`` trains on known-clean rows (half of the normal ones) and
tests on the rest and every anomaly.

Protocol (../shared/data/README.md): above 20000 rows a stratified subsample
of 20000; a stratified 70/30 split; StandardScaler fitted on the training
part; each detector fitted on the training X only (labels never used);
ROC-AUC and average precision of the anomaly scores on the test part; seeds
0, 1, 2; means over seeds, then over data sets, and the mean rank.

Anomaly score = minus ``score_samples`` for every detector here (higher =
more anomalous); PyOD's detectors (a benchmark-only extra) are scored by their
``decision_function``.

For the sklearn_ae detectors the run also reports what ``predict`` gives:
precision and recall of the -1 class on the test part, with the default
``contamination`` (0.1) and with ``offset_`` moved to the true anomaly rate of
the training part (as ``contamination=rate`` would set it: the rate is the
only thing taken from the labels, and only for this report).

``--jobs N`` runs N worker processes with one torch/BLAS thread each (the
peers' figures in ../shared/data/peers.md are single-threaded too), so fit
times are single-threaded whatever N is.

``--missing 0.1 0.3`` blanks that share of the cells of both parts (MCAR)
after the split, one table per share: the library's detectors take the gaps
as they are, every peer gets ``SimpleImputer(mean)`` in front.

Run: python -m benchmarks outliers [--quick] [--family tabular|embeddings] [--seeds 0 1 2]
     [--detectors A B ...] [--jobs N] [--setting novelty] [--missing 0.1 0.3]
     [--name SUFFIX]
"""

from __future__ import annotations

import argparse
import contextlib
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.impute import SimpleImputer
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.neighbors import LocalOutlierFactor
from sklearn.preprocessing import StandardScaler

from sklearn_ae import Autoencoder, BaseAutoencoder, OutlierAutoencoder
from sklearn_ae.utils import all_estimators

from ._harness import DATA, output_dir, save_figure, save_table, timed


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


#: Widest table MCD is run on: its concentration steps invert a covariance of
#: the features thousands of times and it needs more rows than columns; on
#: 17_InternetAds (1,555 columns) it did not finish, and the embedding sets
#: have fewer rows than columns.
MCD_MAX_FEATURES = 200


class SkippedFit(Exception):
    """A peer that cannot be fitted on this set (the row is reported as skipped)."""


class PyOD:
    """A PyOD detector with its defaults, scored like the others."""

    def __init__(self, name, random_state):
        self.name, self.random_state = name, random_state

    def fit(self, X):
        import importlib

        if self.name == "MCD" and X.shape[1] > min(MCD_MAX_FEATURES, X.shape[0] - 1):
            raise SkippedFit(f"MCD on {X.shape[1]} columns and {X.shape[0]} rows")
        module, cls_name, kwargs = {
            "AutoEncoder": ("auto_encoder", "AutoEncoder",
                            dict(random_state=self.random_state, device="cpu", verbose=0)),
            "VAE": ("vae", "VAE", dict(random_state=self.random_state, device="cpu", verbose=0)),
            "KNN": ("knn", "KNN", {}),
            "ECOD": ("ecod", "ECOD", {}),
            "MCD": ("mcd", "MCD", dict(random_state=self.random_state)),
            "LUNAR": ("lunar", "LUNAR", {}),
            "DIF": ("dif", "DIF", dict(random_state=self.random_state, device="cpu")),
            "PCA": ("pca", "PCA", dict(random_state=self.random_state)),
        }[self.name]
        cls = getattr(importlib.import_module(f"pyod.models.{module}"), cls_name)
        with _pyod_quiet():
            self.model_ = cls(**kwargs).fit(X)
        return self

    def score_samples(self, X):
        with _pyod_quiet():
            return -self.model_.decision_function(X)


@contextlib.contextmanager
def _pyod_quiet():
    """PyOD's torch detectors (LUNAR, DIF) ask for pinned memory on a CPU-only machine
    in every DataLoader: torch warns each time, about nothing that concerns the results."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "'pin_memory' argument is set as true", UserWarning)
        yield


class ExtendedIsolationForest:
    """isotree's Extended Isolation Forest (hyperplane splits on 2 features; Hariri et al.)."""

    def __init__(self, random_state=None):
        self.random_state = random_state

    def fit(self, X):
        from isotree import IsolationForest as IsoTree

        self.model_ = IsoTree(ndim=2, ntrees=100, random_seed=int(self.random_state or 0),
                              nthreads=1).fit(X)
        return self

    def score_samples(self, X):
        return -self.model_.predict(X)  # isotree: higher is more anomalous


#: Autoencoder's outlier settings (see its Notes section).
OUTLIER_SETTINGS = dict(outlier_score="combined", refit_fraction=0.1,
                        hidden_layer_sizes=(128, 64), learning_rate="constant",
                        learning_rate_init=1e-3, max_iter=200)


#: Ensemble sizes measured as candidate detectors: run when --detectors names
#: them, not by default (they lost to one network, docs: outliers_adbench_ensemble).
MEMBERS = (4, 8)
CANDIDATES = tuple(f"OutlierAutoencoder ({members} members)" for members in MEMBERS)


def detectors():
    """name -> factory(seed) of an object with fit(X) and score_samples(X)."""
    found = {
        "IsolationForest": lambda s: IsolationForest(random_state=s),
        "LocalOutlierFactor": lambda s: LocalOutlierFactor(novelty=True),
        "PCA reconstruction": lambda s: PCAReconstruction(random_state=s),
    }
    try:
        import pyod  # noqa: F401

        for peer in ("AutoEncoder", "VAE", "KNN", "ECOD", "PCA", "MCD", "LUNAR", "DIF"):
            found[f"PyOD {peer}"] = lambda s, peer=peer: PyOD(peer, s)
    except ImportError:  # the benchmarks extra is not installed
        pass
    try:
        import isotree  # noqa: F401

        found["Extended Isolation Forest"] = lambda s: ExtendedIsolationForest(random_state=s)
    except ImportError:  # the benchmarks extra is not installed
        pass
    for name, cls in all_estimators():
        if name in ("ConditionalAutoencoder", "ConvolutionalAutoencoder"):
            continue  # needs labels / images: not a tabular detector
        found[name] = lambda s, cls=cls: cls(random_state=s, device="cpu")
    # Autoencoder's documented outlier settings, with the training settings
    # they were chosen under (the defaults before dimensionality-reduction
    # defaults replaced them).
    found["Autoencoder (outlier settings)"] = lambda s: Autoencoder(
        random_state=s, device="cpu", **OUTLIER_SETTINGS)
    # OutlierAutoencoder with an ensemble of networks trained as one (issue 30).
    for members, name in zip(MEMBERS, CANDIDATES):
        found[name] = lambda s, members=members: OutlierAutoencoder(
            random_state=s, device="cpu", n_members=members)
    return found


def _precision_recall(y_true, predicted):
    flagged = predicted == -1
    hits = np.sum(flagged & (y_true == 1))
    return (hits / flagged.sum() if flagged.any() else 0.0), hits / max(1, (y_true == 1).sum())


def split(path: Path, seed: int, with_train_labels=False, setting="unsupervised"):
    """Standardised train and test rows of one set.

    "unsupervised" (ADBench's protocol): 70% of all rows to train on,
    anomalies included and unlabelled, 30% to test. "novelty" (known-clean
    data, as ADBench's semi-supervised and DTE's clean-data setups): half of
    the normal rows to train on, the other half and every anomaly to test.
    """
    with np.load(path) as data:
        X, y = data["X"].astype(np.float64), data["y"].astype(int)
    if len(X) > 20000:
        X, _, y, _ = train_test_split(X, y, train_size=20000, stratify=y, random_state=seed)
    if setting == "novelty":
        normal = np.flatnonzero(y == 0)
        train, rest = train_test_split(normal, test_size=0.5, random_state=seed)
        test = np.sort(np.concatenate([rest, np.flatnonzero(y == 1)]))
        X_train, X_test, y_train, y_test = X[np.sort(train)], X[test], y[np.sort(train)], y[test]
    else:
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.3, stratify=y, random_state=seed)
    scaler = StandardScaler().fit(X_train)
    if with_train_labels:
        return scaler.transform(X_train), scaler.transform(X_test), y_test, y_train
    return scaler.transform(X_train), scaler.transform(X_test), y_test


class _MeanImputed:
    """A detector behind ``SimpleImputer(mean)``: what a user of a peer that takes no NaN does."""

    def __init__(self, model):
        self.model = model

    def fit(self, X):
        self.imputer = SimpleImputer().fit(X)
        self.model.fit(self.imputer.transform(X))
        return self

    def score_samples(self, X):
        return self.model.score_samples(self.imputer.transform(X))


def blank_cells(X, share, seed):
    """``X`` with a share of its cells missing (NaN), uniformly at random (MCAR)."""
    if not share:
        return X
    mask = np.random.RandomState(seed + 7).rand(*X.shape) < share
    return np.where(mask, np.nan, X)


def evaluate(path, seed, name, setting="unsupervised", missing=0.0):
    """Fit one detector on one split; one result row.

    ``missing``: a share of the cells of both parts blanked (MCAR) after the
    split; the library's detectors take the gaps as they are, the peers get
    them filled by ``SimpleImputer(mean)`` fitted on the training part.
    """
    X_train, X_test, y_test, y_train = split(path, seed, with_train_labels=True, setting=setting)
    X_train, X_test = blank_cells(X_train, missing, seed), blank_cells(X_test, missing, seed + 1)
    model = detectors()[name](seed)
    if missing and not isinstance(model, BaseAutoencoder):
        model = _MeanImputed(model)
    try:
        _, fit_s = timed(model.fit, X_train)
    except SkippedFit as skipped:
        return {"dataset": path.stem, "seed": seed, "detector": name, "missing": missing,
                "roc_auc": np.nan, "average_precision": np.nan, "fit_s": np.nan,
                "skipped": str(skipped)}
    scores = model.score_samples(X_test)
    anomaly = -np.nan_to_num(np.asarray(scores, dtype=float), nan=-np.inf)
    row = {"dataset": path.stem, "seed": seed, "detector": name, "missing": missing,
           "roc_auc": roc_auc_score(y_test, anomaly),
           "average_precision": average_precision_score(y_test, anomaly), "fit_s": fit_s}
    if isinstance(model, BaseAutoencoder) and y_train.any():
        row["precision_c01"], row["recall_c01"] = _precision_recall(y_test, model.predict(X_test))
        # offset_ as contamination=<true training rate> would set it (only for this report).
        model.offset_ = float(np.percentile(model.score_samples(X_train), 100 * y_train.mean()))
        row["precision_true_rate"], row["recall_true_rate"] = _precision_recall(
            y_test, model.predict(X_test))
    return row


def _single_threaded():
    import os

    import torch

    torch.set_num_threads(1)
    os.environ["OMP_NUM_THREADS"] = "1"


def _evaluate_args(args):
    return evaluate(*args)


def single_threaded_map(fn, tasks, jobs=1):
    """``fn`` over ``tasks`` in order: in ``jobs`` worker processes of one thread each, or here."""
    pool = ProcessPoolExecutor(jobs, initializer=_single_threaded) if jobs > 1 else None
    with pool or contextlib.nullcontext():
        yield from (pool.map if pool else map)(fn, tasks)


def run(datasets, seeds, names, jobs=1, setting="unsupervised", missing=(0.0,)):
    tasks = [(path, seed, name, setting, share) for share in missing for path in datasets
             for seed in seeds for name in names]
    rows = []
    for row in single_threaded_map(_evaluate_args, tasks, jobs):
        rows.append(row)
        print(f"{row['dataset']:22s} seed {row['seed']} missing {row['missing']:.2f} "
              f"{row['detector']:24s} "
              f"AUC {row['roc_auc']:.3f} fit {row['fit_s']:.2f}s", flush=True)
    return pd.DataFrame(rows)


def halves(names):
    """Two fixed halves of a family's sets, by sorted name: choose on one, confirm on the other."""
    ordered = sorted(names)
    return {name: ("A" if i < len(ordered) // 2 else "B") for i, name in enumerate(ordered)}


def summarise(raw):
    per_set = raw.groupby(["dataset", "detector"]).mean(numeric_only=True).reset_index()
    per_set["rank"] = per_set.groupby("dataset")["roc_auc"].rank(ascending=False)
    per_set["half"] = per_set["dataset"].map(halves(per_set["dataset"].unique()))
    summary = per_set.groupby("detector").agg(
        mean_roc_auc=("roc_auc", "mean"),
        mean_average_precision=("average_precision", "mean"),
        mean_rank=("rank", "mean"),
        n_sets=("roc_auc", "count"),
    )
    for half in ("A", "B"):
        part = per_set[per_set["half"] == half].groupby("detector")
        summary[f"roc_auc_{half}"] = part["roc_auc"].mean()
        summary[f"ap_{half}"] = part["average_precision"].mean()
    summary["median_fit_s"] = raw.groupby("detector")["fit_s"].median()
    return summary.sort_values("mean_roc_auc", ascending=False).reset_index(), per_set


def predict_report(raw):
    """Mean precision/recall of the -1 class for the detectors with ``predict``."""
    cols = ["precision_c01", "recall_c01", "precision_true_rate", "recall_true_rate"]
    if not set(cols) <= set(raw.columns):
        return None
    part = raw.dropna(subset=cols)
    if part.empty:
        return None
    per_set = part.groupby(["dataset", "detector"])[cols].mean()
    return per_set.groupby("detector").mean().reset_index()


def plot_per_set(per_set, quick, shown=None, figure="outliers_auc_per_set"):
    """ROC-AUC per data set (sorted by IsolationForest's) for the main detectors."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    wide = per_set.pivot(index="dataset", columns="detector", values="roc_auc")
    shown = [d for d in (shown or wide.columns) if d in wide.columns]
    order = wide.get("IsolationForest", wide[shown[0]]).sort_values().index
    wide = wide.loc[order, shown]
    fig, ax = plt.subplots(figsize=(9, 0.3 * len(wide) + 1.5))
    markers = "osD^v<>xP*hH"
    colors = plt.get_cmap("tab20").colors
    for i, name in enumerate(shown):
        ax.plot(wide[name], range(len(wide)), markers[i % len(markers)], label=name,
                color=colors[(2 * i) % 20 if i < 10 else (2 * i + 1) % 20],
                alpha=0.85, markersize=5, markerfacecolor="none" if i >= 5 else None)
    ax.set_yticks(range(len(wide)), wide.index, fontsize=7)
    ax.set(xlabel="test ROC-AUC (mean of seeds)", title="ROC-AUC per set")
    ax.grid(axis="x", alpha=0.3)
    # Outside the axes: inside, it hid the points of the lowest sets.
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    save_figure(fig, figure, quick)


def main(argv=None):
    parser = argparse.ArgumentParser(description="ADBench outlier detection")
    parser.add_argument("--quick", action="store_true", help="2 small sets, seed 0")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--detectors", nargs="+", default=None,
                        help="names from detectors() (default: all but the ensemble candidates, "
                             "e.g. 'OutlierAutoencoder (8 members)')")
    parser.add_argument("--jobs", type=int, default=1,
                        help="worker processes, one thread each")
    parser.add_argument("--family", choices=("tabular", "embeddings"), default="tabular",
                        help="tabular: the 29 ADBench Classical sets; embeddings: the 18 "
                             "ResNet18/BERT embedding sets")
    parser.add_argument("--missing", type=float, nargs="+", default=[0.0],
                        help="shares of cells blanked (MCAR) after the split, one table "
                             "each; peers get SimpleImputer(mean) in front")
    parser.add_argument("--setting", choices=("unsupervised", "novelty"),
                        default="unsupervised",
                        help="unsupervised: train on 70%% of all rows (anomalies "
                             "unlabelled among them); novelty: train on half of the normal "
                             "rows, test on the rest and every anomaly")
    parser.add_argument("--name", default=None,
                        help="a suffix for this run's tables and figures (e.g. peers), so a "
                             "run of some detectors does not overwrite the main tables")
    args = parser.parse_args(argv)
    folder = "adbench" if args.family == "tabular" else "adbench_embeddings"
    all_sets = sorted((DATA / folder).glob("*.npz"))
    if not all_sets:
        raise FileNotFoundError(
            f"no data sets (*.npz) in {DATA / folder}: the outliers benchmark reads "
            "../shared/data beside the project, the folder named by SKLEARN_AE_DATA, or "
            "the cache that `python -m benchmarks fetch` fills."
        )
    names = args.detectors or [name for name in detectors() if name not in CANDIDATES]
    if args.quick:
        # The machinery, not the figures: two of the smallest sets per family.
        small = {"39_vertebral", "42_WBC",
                 "ResNet18_MVTec-AD_toothbrush", "ResNet18_MVTec-AD_bottle"}
        datasets, seeds = [p for p in all_sets if p.stem in small], [0]
    else:
        datasets, seeds = all_sets, args.seeds
    by_share = {share: _report(args, datasets, seeds, names, share) for share in args.missing}
    if len(by_share) > 1:
        _missing_table(args, datasets, seeds, by_share)
    return by_share[args.missing[-1]]


def _command(args, shares):
    """The command line of this run, with ``--missing`` and the ``shares`` it ran (if any)."""
    command = "python -m benchmarks outliers" + (" --quick" if args.quick else "")
    if args.family != "tabular":
        command += f" --family {args.family}"
    if args.seeds != [0, 1, 2] and not args.quick:
        command += " --seeds " + " ".join(map(str, args.seeds))
    if args.detectors:
        command += " --detectors " + " ".join(f"'{d}'" for d in args.detectors)
    if args.jobs > 1:
        command += f" --jobs {args.jobs}"
    if args.setting != "unsupervised":
        command += f" --setting {args.setting}"
    if shares:
        command += " --missing " + " ".join(f"{m:g}" for m in shares)
    if args.name:
        command += f" --name {args.name}"
    return command


def _stem(args):
    """The name of this run's tables: the family's, and the setting's unless unsupervised."""
    stem = "outliers_adbench" if args.family == "tabular" else "outliers_embeddings"
    stem = stem if args.setting == "unsupervised" else f"{stem}_{args.setting}"
    return f"{stem}_{args.name}" if args.name else stem


def _missing_table(args, datasets, seeds, by_share):
    """One table of every detector's means at each share of missing cells (this run)."""
    rows = []
    for share, summary in by_share.items():
        for _, row in summary.iterrows():
            rows.append({"detector": row["detector"], "missing": f"{share:.0%}",
                         "mean_roc_auc": row["mean_roc_auc"],
                         "mean_average_precision": row["mean_average_precision"],
                         "roc_auc_A": row["roc_auc_A"], "roc_auc_B": row["roc_auc_B"],
                         "ap_A": row["ap_A"], "ap_B": row["ap_B"]})
    table = pd.DataFrame(rows).sort_values(["detector", "missing"])
    command = _command(args, list(by_share))
    stem = _stem(args) + "_missing"
    notes = ("Cells of both parts blanked at random (MCAR) after the split. The library's "
             "detectors take the gaps as they are; every peer gets SimpleImputer(mean), fitted "
             "on the training part, in front. Halves A and B as in the other outlier tables.")
    print(save_table(table, stem, f"Outlier detection with missing cells, {len(datasets)} "
                     f"ADBench {args.family} sets, seeds {seeds}", command,
                     quick=args.quick, notes=notes))


def _report(args, datasets, seeds, names, missing):
    """Run one share of missing cells; write and print its table."""
    raw = run(datasets, seeds, names, args.jobs, args.setting, (missing,))
    summary, per_set = summarise(raw.drop(columns="missing"))
    # A share of 0 beside others is this run's reference, not the main table.
    suffix = f"_missing{round(100 * missing)}" if missing or len(args.missing) > 1 else ""
    figure = ("outliers_auc_per_set" if args.family == "tabular"
              else "outliers_embeddings_auc_per_set") + suffix
    figure += "".join(f"_{part}" for part in (args.setting, args.name)
                      if part and part != "unsupervised")
    _plot(per_set, args.quick, names, figure)
    stem = _stem(args) + suffix
    md = save_table(summary, stem,
                    f"Outlier detection, {len(datasets)} ADBench {args.family} sets, "
                    f"seeds {seeds}" + (f", {missing:.0%} of cells missing" if missing else ""),
                    _command(args, [missing] if suffix else []), quick=args.quick,
                    notes=_notes(figure, predict_report(raw), missing if suffix else None,
                                 datasets))
    per_set.to_csv(output_dir(args.quick) / f"{stem}_per_set.csv", index=False)
    print(md)
    return summary


def _plot(per_set, quick, names, figure):
    """The per-set figure: every detector of the table, the main ones first."""
    main_detectors = ["IsolationForest", "PyOD AutoEncoder", "LocalOutlierFactor",
                      "PCA reconstruction"] + [n for n, _ in all_estimators()]
    plot_per_set(per_set, quick,
                 [d for d in main_detectors if d in names]
                 + [d for d in names if d not in main_detectors], figure=figure)


def _notes(figure, report, missing, datasets):
    """A table's notes: the figure, what predict gives, the missing cells (when a share), halves."""
    notes = ("Fit times are single-threaded (one torch/BLAS thread per process).\n\n"
             f"![AUC per data set]({figure}.png)")
    if report is not None:
        notes += ("\n\n### What `predict` gives (class -1 = outlier, test part)\n\n"
                  "Mean over data sets of precision and recall of the -1 class: with the "
                  "default `contamination=0.1` (`*_c01`), and with `offset_` at the true "
                  "anomaly rate of the training part (`*_true_rate`).\n\n"
                  + report.to_markdown(index=False, floatfmt=".3f"))
    if missing is not None:
        notes += (f"\n\n{missing:.0%} of the cells of both parts blanked at random (MCAR) "
                  "after the split: the library's detectors take the gaps as they are; "
                  "every peer gets SimpleImputer(mean), fitted on the training part, in "
                  "front.")
    split_of = halves([p.stem for p in datasets])
    return notes + ("\n\nHalves (sorted by name; choices are made on one and confirmed on "
                    "the other): A = " + ", ".join(n for n, h in split_of.items() if h == "A")
                    + "; B = " + ", ".join(n for n, h in split_of.items() if h == "B") + ".")


if __name__ == "__main__":
    main()
