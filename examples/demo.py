"""Autoencoder next to PCA on scikit-learn's bundled digits (no downloads).

For a few code sizes it prints, for each method: the reconstruction error on
held-out digits (mean squared error in pixel units, pixels 0-16), the accuracy
of a logistic regression trained on the codes, and the fit time.

Run: python examples/demo.py
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_ae import Autoencoder


def compare(n_components_list=(2, 8, 16), max_iter="auto", random_state=0):
    """Fit PCA and Autoencoder at each code size; return a results table."""
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=random_state
    )
    rows = []
    for k in n_components_list:
        models = {
            "PCA": PCA(n_components=k, random_state=random_state),
            # The defaults; only --quick caps the epochs, to keep the test short.
            "Autoencoder": Autoencoder(
                n_components=k, max_iter=max_iter, random_state=random_state
            ),
        }
        for name, model in models.items():
            start = time.perf_counter()
            model.fit(X_train)
            fit_s = time.perf_counter() - start
            X_hat = model.inverse_transform(model.transform(X_test))
            probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
            probe.fit(model.transform(X_train), y_train)
            rows.append(
                {
                    "n_components": k,
                    "method": name,
                    "test_mse": float(np.mean((X_hat - X_test) ** 2)),
                    "probe_accuracy": probe.score(model.transform(X_test), y_test),
                    "fit_s": fit_s,
                }
            )
    return pd.DataFrame(rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few epochs, one size")
    args = parser.parse_args(argv)
    if args.quick:
        table = compare(n_components_list=(8,), max_iter=5)
    else:
        table = compare()
    print("Digits (1797 images, 8x8), 70/30 split; test_mse in pixel units (0-16)\n")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    return table


if __name__ == "__main__":
    main()
