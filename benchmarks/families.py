"""Dimensionality reduction beyond MNIST: the defaults on other data families.

The defaults were chosen on MNIST; this checks them where they were not:
scikit-learn's digits (images, raw pixel units: fit on the first 1400 rows,
test on the rest) and every ADBench tabular and embedding set in
``../shared/data`` (the outlier protocol's preparation: at most ``--rows``
rows by stratified subsample, a stratified 70/30 split, StandardScaler fitted
on the training part; labels are used for nothing else). For each set:
held-out reconstruction MSE of ``Autoencoder(n_components=k, random_state=0)``
and of ``PCA(k)`` at the same k, the default
``k = max(1, min(32, n_features // 2))``. The sets of each family are split in
two fixed halves by sorted name (even and odd positions), reported apart.

Run: python -m benchmarks families [--quick] [--rows N]
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sklearn_ae import Autoencoder

from ._harness import DATA, save_table, timed


def _sets(quick):
    yield "images", "digits", None
    for family, folder in (("tabular", "adbench"), ("embeddings", "adbench_embeddings")):
        paths = sorted((DATA / folder).glob("*.npz"))
        if quick:
            paths = paths[:2]
        for i, path in enumerate(paths):
            yield family, path.stem, (path, "A" if i % 2 == 0 else "B")


def _split(path, rows, seed=0):
    with np.load(path) as data:
        X, y = data["X"].astype(np.float32), data["y"]
    if len(X) > rows:
        X, _, y, _ = train_test_split(X, y, train_size=rows, stratify=y, random_state=seed)
    X_train, X_test = train_test_split(X, test_size=0.3, stratify=y, random_state=seed)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test)


def _mse(model, X):
    return float(np.mean((model.inverse_transform(model.transform(X)) - X) ** 2))


def run(rows=5000, quick=False):
    records = []
    for family, name, source in _sets(quick):
        if source is None:
            X = load_digits().data.astype(np.float32)
            X_train, X_test, half = X[:1400], X[1400:], "-"
        else:
            (path, half) = source
            X_train, X_test = _split(path, rows)
        k = max(1, min(32, X_train.shape[1] // 2))
        ae, fit_s = timed(Autoencoder(n_components=k, random_state=0).fit, X_train)
        pca = PCA(k, random_state=0).fit(X_train)
        records.append({
            "family": family, "set": name, "half": half, "n_train": len(X_train),
            "n_features": X_train.shape[1], "n_components": k,
            "ae_test_mse": _mse(ae, X_test), "pca_test_mse": _mse(pca, X_test),
            "ae_fit_s": fit_s, "epochs": ae.n_iter_,
        })
        r = records[-1]
        print(f"{family:10s} {name:32s} k={k:2d} ae {r['ae_test_mse']:.4g} "
              f"pca {r['pca_test_mse']:.4g} fit {fit_s:.1f}s", flush=True)
    table = pd.DataFrame(records)
    table["ratio"] = table["ae_test_mse"] / table["pca_test_mse"]
    return table


def summary(table):
    """Per family and half: sets, sets where the AE beats PCA, median and mean ratio."""
    groups = table.groupby(["family", "half"], sort=False)["ratio"]
    return pd.DataFrame({
        "sets": groups.size(),
        "ae_better": groups.apply(lambda r: int((r < 1).sum())),
        "median_ratio": groups.median(),
        "geo_mean_ratio": groups.apply(lambda r: float(np.exp(np.log(r).mean()))),
        "worst_ratio": groups.max(),
    }).reset_index()


def main(argv=None):
    parser = argparse.ArgumentParser(description="Defaults on other data families")
    parser.add_argument("--quick", action="store_true", help="2 sets per family, 600 rows")
    parser.add_argument("--rows", type=int, default=5000)
    args = parser.parse_args(argv)
    table = run(600 if args.quick else args.rows, quick=args.quick)
    command = "python -m benchmarks families" + (" --quick" if args.quick else "")
    if not args.quick and args.rows != 5000:
        command += f" --rows {args.rows}"
    md = save_table(
        table, "families", "Autoencoder defaults against PCA on data they were not chosen on",
        command, quick=args.quick,
        notes=("`ratio` = held-out MSE of the Autoencoder / PCA's at the same k (< 1: the "
               "autoencoder reconstructs better). Summary per family and half:\n\n"
               + summary(table).to_markdown(index=False, floatfmt=".3g")),
    )
    print(md)
    return table


if __name__ == "__main__":
    main()
