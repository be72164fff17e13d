"""What a grid search over ``n_components`` costs with Autoencoder, against PCA.

scikit-learn's digits (1,797 rows of 64 pixels, shipped with scikit-learn),
``GridSearchCV`` over ``n_components`` in {8, 16, 32} with 5 folds, each
estimator scored by its own ``score`` (PCA's log-likelihood, the
autoencoder's negative reconstruction error): ``PCA()`` against
``Autoencoder(random_state=0)`` with its defaults, and in the same run
against the same autoencoder with the PCA fallback decided only after
training (the watch that stops a network once PCA's model is sure to be
kept switched off, as before 2026-11-29). Each search runs ``--repeats``
times (PCA's 5 times more, being fast) and the medians are reported with
their ratio to PCA's.

Per candidate: the share of the five fits that kept PCA's linear model, and
the mean epochs trained. Targets: the default's search at most 3x PCA's;
the same best ``n_components`` and score as without the early stop.

Run: python -m benchmarks grid_search [--quick] [--repeats R]
"""

from __future__ import annotations

import argparse
import contextlib
import time
import warnings
from unittest import mock

import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import GridSearchCV

from sklearn_ae import Autoencoder, _fallback

from ._harness import save_table

GRID = {"n_components": [8, 16, 32]}


class _Recorder:
    """A scorer that is the estimator's own ``score``, noting what each fit kept."""

    def __init__(self):
        self.fits = []

    def __call__(self, estimator, X, y=None):
        if isinstance(estimator, Autoencoder):
            self.fits.append((estimator.n_components, estimator.hidden_layer_sizes_ == (),
                              estimator.n_iter_))
        return estimator.score(X)


def _search(estimator, X, watch=True, cv=5):
    """``(GridSearchCV, seconds, recorder)`` of one search."""
    recorder = _Recorder()
    search = GridSearchCV(estimator, GRID, cv=cv, scoring=recorder)
    off = mock.patch.object(_fallback, "_WATCH_EVERY", 10**9)
    with warnings.catch_warnings(), contextlib.nullcontext() if watch else off:
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        search.fit(X)
        seconds = time.perf_counter() - start
    return search, seconds, recorder


def run(n_rows=None, repeats=3, cv=5):
    X = load_digits().data[:n_rows]
    pca_times = [_search(PCA(), X, cv=cv)[1] for _ in range(5 * repeats)]
    pca = _search(PCA(), X, cv=cv)[0]
    pca_s = float(np.median(pca_times))
    rows = [{"method": "PCA", "seconds": pca_s, "ratio_to_pca": 1.0,
             "best_n_components": pca.best_params_["n_components"],
             "best_score": pca.best_score_, "kept_pca_8/16/32": "", "epochs_8/16/32": ""}]
    for name, watch in (("Autoencoder", True), ("Autoencoder, fallback decided after training",
                                                False)):
        runs = [_search(Autoencoder(random_state=0), X, watch, cv) for _ in range(repeats)]
        search, _, recorder = runs[0]
        seconds = float(np.median([r[1] for r in runs]))
        fits = pd.DataFrame(recorder.fits, columns=["k", "linear", "epochs"]).groupby("k")
        rows.append({
            "method": name, "seconds": seconds, "ratio_to_pca": seconds / pca_s,
            "best_n_components": search.best_params_["n_components"],
            "best_score": search.best_score_,
            "kept_pca_8/16/32": "/".join(f"{v:.1f}" for v in fits["linear"].mean()),
            "epochs_8/16/32": "/".join(f"{v:.0f}" for v in fits["epochs"].mean()),
        })
    return pd.DataFrame(rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Grid search cost against PCA")
    parser.add_argument("--quick", action="store_true", help="300 rows, 3 folds, one repeat")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    folds = 3 if args.quick else 5
    table = run(300, 1, cv=folds) if args.quick else run(repeats=args.repeats, cv=folds)
    watched, after = table.iloc[1], table.iloc[2]
    md = save_table(
        table, "grid_search",
        f"GridSearchCV over n_components {{8, 16, 32}}, {folds} folds, digits: "
        "Autoencoder against PCA",
        "python -m benchmarks grid_search" + (" --quick" if args.quick else "")
        + (f" --repeats {args.repeats}" if args.repeats != 3 and not args.quick else ""),
        quick=args.quick,
        notes=(
            "Targets: the default's search at most 3x PCA's, with the same best "
            "n_components and score as the fallback decided after training. "
            f"Here: {watched['ratio_to_pca']:.2f}x PCA's (after training: "
            f"{after['ratio_to_pca']:.2f}x); best k {watched['best_n_components']} against "
            f"{after['best_n_components']}, score {watched['best_score']:.6g} against "
            f"{after['best_score']:.6g}. `kept_pca`: share of the {folds} fits per candidate "
            "that kept PCA's linear model; `epochs`: mean epochs trained."),
    )
    print(md)
    return table


if __name__ == "__main__":
    main()
