"""Imputation of missing values: ``AutoencoderImputer`` against scikit-learn's imputers.

Protocol, per data set (an ``.npz`` with ``X``; ``y`` is ignored):

- at most 5,000 rows (a random subset, drawn from the seed);
- standardised with the complete data's mean and standard deviation (a
  constant column by 1), so that RMSEs of tables compare;
- cells blanked at rate ``r``: ``mcar``, every cell alike (uniform);
  ``mnar``, in each column a cell's chance of being blanked is proportional
  to its value's rank in that column (from 0 for the smallest to 2r for the
  largest, at most 1), so larger values go missing more often and the
  observed ones are biased low; rows left with no observed cell keep one
  cell, drawn at random, so every row says something;
- every imputer fits on the blanked table, as a user would, and fills it;
- RMSE over the blanked cells (standardised units) and the seconds of
  fit + transform.

Imputers in the same run: ``sklearn_ae`` (``AutoencoderImputer()``, the
library's default), ``SimpleImputer(mean)``, ``KNNImputer()``,
``IterativeImputer()`` (BayesianRidge, its default) and
``IterativeImputer(ExtraTreesRegressor(n_estimators=10))`` as missForest does
(scikit-learn's own example settings), and MIDAS (MIDASpy) where it installs
(it needs TensorFlow; the run says when it is missing).

Run: python -m benchmarks impute --data PATH... --rates 0.1 0.3 --mechanism mcar mnar
     --seeds 0 1 --out FILE.csv [--quick] [--name SUFFIX]

Without ``--data``, the ADBench tables in ../shared/data/adbench (halves A and
B by sorted name, as for the outlier benchmark). Prints the mean RMSE rank of
each imputer, the share of cells (set x mechanism x rate) where
``sklearn_ae`` is at or below ``IterativeImputer``, and its time against
``IterativeImputer``'s median.
"""

from __future__ import annotations

import argparse
import functools
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import ExtraTreesRegressor
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer

from sklearn_ae import AutoencoderImputer

from ._harness import DATA, machine, output_dir, save_table, timed
from .outliers import halves

MAX_ROWS = 5_000


def imputers():
    """name -> factory(seed) of every imputer in the run."""
    found = {
        "sklearn_ae": lambda seed: AutoencoderImputer(random_state=seed),
        "SimpleImputer(mean)": lambda seed: SimpleImputer(),
        "KNNImputer": lambda seed: KNNImputer(),
        "IterativeImputer": lambda seed: IterativeImputer(random_state=seed),
        "IterativeImputer(ExtraTrees)": lambda seed: IterativeImputer(
            ExtraTreesRegressor(n_estimators=10, random_state=seed), random_state=seed),
    }
    midas = _midas()
    if midas is not None:
        found["MIDAS"] = midas
    return found


@functools.cache
def _midas():
    """MIDASpy's imputer as a factory, or None (and a note, once) where it does not install."""
    try:
        import MIDASpy  # noqa: F401
    except Exception as exc:  # noqa: BLE001 (TensorFlow missing, or an incompatible one)
        print(f"MIDAS (MIDASpy) left out: {type(exc).__name__}: {exc}".splitlines()[0])
        return None

    class Midas:
        def __init__(self, seed):
            self.seed = seed

        def fit_transform(self, X):
            import MIDASpy as md

            frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
            model = md.Midas(layer_structure=[256, 256], vae_layer=False, seed=self.seed)
            model.build_model(frame)
            model.train_model(training_epochs=20, verbose=False)
            return np.asarray(model.generate_samples(m=1).output_list[0], dtype=float)

    return Midas


def load(path: Path, seed: int):
    """Standardised complete rows of one set (at most ``MAX_ROWS``)."""
    with np.load(path) as data:
        X = np.asarray(data["X"], dtype=np.float64)
    if X.ndim > 2:
        X = X.reshape(len(X), -1)
    if len(X) > MAX_ROWS:
        X = X[np.sort(np.random.RandomState(seed).permutation(len(X))[:MAX_ROWS])]
    std = X.std(axis=0)
    return (X - X.mean(axis=0)) / np.where(std > 0, std, 1.0)


def blank(X, rate, mechanism, seed):
    """Which cells go missing (a bool mask), as the module docstring says."""
    rng = np.random.RandomState(seed + 1)
    if mechanism == "mcar":
        p = np.full(X.shape, rate)
    else:
        ranks = X.argsort(axis=0, kind="stable").argsort(axis=0, kind="stable")
        p = np.minimum(1.0, 2.0 * rate * ranks / max(len(X) - 1, 1))
    mask = rng.rand(*X.shape) < p
    empty = np.flatnonzero(mask.all(axis=1))
    mask[empty, rng.randint(X.shape[1], size=len(empty))] = False
    return mask


def evaluate(path, seed, rate, mechanism, names):
    """One row per imputer for one set, seed, rate and mechanism."""
    X = load(path, seed)
    mask = blank(X, rate, mechanism, seed)
    X_gaps = np.where(mask, np.nan, X)
    rows = []
    for name, factory in imputers().items():
        if name not in names:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            filled, seconds = timed(factory(seed).fit_transform, X_gaps)
        filled = np.asarray(filled, dtype=np.float64)
        if filled.shape != X.shape:
            raise RuntimeError(f"{name} returned shape {filled.shape} on {path.stem}")
        rmse = float(np.sqrt(np.mean((filled[mask] - X[mask]) ** 2)))
        rows.append({"dataset": path.stem, "mechanism": mechanism, "rate": rate, "seed": seed,
                     "method": name, "rmse": rmse, "seconds": seconds})
        print(f"{path.stem:22s} {mechanism} {rate:.2f} seed {seed} {name:30s} "
              f"RMSE {rmse:.4f} {seconds:6.2f}s", flush=True)
    return rows


def summarise(raw, reference="IterativeImputer"):
    """Per imputer: mean RMSE, mean rank, seconds; ours against ``reference`` per cell."""
    cells = ["dataset", "mechanism", "rate"]
    per_cell = raw.groupby(cells + ["method"])[["rmse", "seconds"]].mean().reset_index()
    per_cell["rank"] = per_cell.groupby(cells)["rmse"].rank()
    per_cell["half"] = per_cell["dataset"].map(halves(per_cell["dataset"].unique()))
    summary = per_cell.groupby("method").agg(mean_rmse=("rmse", "mean"),
                                             mean_rank=("rank", "mean"))
    for half in sorted(per_cell["half"].unique()):
        part = per_cell[per_cell["half"] == half].groupby("method")
        summary[f"rank_{half}"] = part["rank"].mean()
    summary["median_seconds"] = raw.groupby("method")["seconds"].median()
    wide = per_cell.pivot_table(index=cells, columns="method", values="rmse")
    if {"sklearn_ae", reference} <= set(wide.columns):
        wins = wide["sklearn_ae"] <= wide[reference]
        halves_of = wide.index.get_level_values("dataset").map(
            halves(per_cell["dataset"].unique()))
        summary.loc["sklearn_ae", f"at_or_below_{reference}"] = float(wins.mean())
        for half in sorted(set(halves_of)):
            summary.loc["sklearn_ae", f"at_or_below_{half}"] = float(wins[halves_of == half].mean())
        summary.loc["sklearn_ae", "seconds_vs_median"] = float(
            raw[raw["method"] == "sklearn_ae"]["seconds"].median()
            / raw[raw["method"] == reference]["seconds"].median())
    return summary.sort_values("mean_rank").reset_index(), per_cell


def _selection(args):
    """``(paths, rates, seeds, mechanisms)`` the run covers (``--quick``: a small part)."""
    paths = args.data or sorted((DATA / "adbench").glob("*.npz"))
    if not paths:
        raise FileNotFoundError(f"no .npz data given and none in {DATA / 'adbench'}")
    if not args.quick:
        return paths, args.rates, args.seeds, args.mechanism
    small = {"39_vertebral", "42_WBC", "29_Pima"}
    return [p for p in paths if p.stem in small] or paths[:3], [0.2], [0], ["mcar", "mnar"]


def _command(args, n_paths, rates, seeds, mechanisms):
    """The command line of this run."""
    command = "python -m benchmarks impute" + (" --quick" if args.quick else "")
    if args.data:
        command += f" --data <{n_paths} .npz files>"
    if not args.quick:
        command += (" --rates " + " ".join(f"{r:g}" for r in rates) + " --mechanism "
                    + " ".join(mechanisms) + " --seeds " + " ".join(map(str, seeds)))
    if args.methods:
        command += " --methods " + " ".join(f"'{m}'" for m in args.methods)
    if args.name:
        command += f" --name {args.name}"
    return command


def main(argv=None):
    parser = argparse.ArgumentParser(description="Imputation of missing values")
    parser.add_argument("--data", type=Path, nargs="+", default=None,
                        help=".npz files with X (default: the ADBench tables)")
    parser.add_argument("--rates", type=float, nargs="+", default=[0.1, 0.3])
    parser.add_argument("--mechanism", nargs="+", choices=("mcar", "mnar"),
                        default=["mcar", "mnar"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--methods", nargs="+", default=None)
    parser.add_argument("--out", type=Path, default=None, help="CSV of every run")
    parser.add_argument("--quick", action="store_true", help="3 small sets, seed 0, rate 0.2")
    parser.add_argument("--name", default=None,
                        help="a suffix for this run's table (e.g. ours), so a run of some "
                             "imputers does not overwrite the main one")
    args = parser.parse_args(argv)
    stem = f"impute_{args.name}" if args.name else "impute"
    paths, rates, seeds, mechanisms = _selection(args)
    names = args.methods or list(imputers())
    rows = [row for path in paths for mechanism in mechanisms for rate in rates
            for seed in seeds for row in evaluate(path, seed, rate, mechanism, names)]
    raw = pd.DataFrame(rows, columns=["dataset", "mechanism", "rate", "seed", "method",
                                      "rmse", "seconds"])
    raw.to_csv(args.out or output_dir(args.quick) / f"{stem}_runs.csv", index=False)
    summary, _ = summarise(raw)
    command = _command(args, len(paths), rates, seeds, mechanisms)
    notes = (f"Machine: {machine()}. RMSE over the blanked cells, standardised units; "
             "rank 1 = lowest RMSE in a cell (set x mechanism x rate, mean of seeds).")
    md = save_table(summary, stem, f"Imputation, {len(paths)} sets, rates {rates}, "
                    f"{mechanisms}, seeds {seeds}", command, quick=args.quick, notes=notes)
    print(md)
    return summary


if __name__ == "__main__":
    main()
