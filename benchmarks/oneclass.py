"""One-class MNIST, the Deep SVDD protocol of the data README.

For each digit k: fit on the training rows of digit k only (about 6000);
score all 10000 test rows; anomalies are the test rows with ``y != k``;
ROC-AUC per digit and the mean. Pixels are in [0, 1].

Detectors: ``Autoencoder``, ``ConvolutionalAutoencoder`` and
``VariationalAutoencoder`` (each scored by minus ``score_samples``),
scikit-learn's ``IsolationForest`` and PCA reconstruction error (components
for 95% of the variance). The networks use ``standardize=False`` (pixels share
one scale: standardising would weight the rarely-inked border pixels up) and
otherwise their defaults, with ``max_iter=--epochs`` (default 30) as a budget
(early stopping stays on). Deep SVDD (Ruff et al., ICML 2018) reports a mean of
94.8% for its method on this protocol.

Run: python -m benchmarks oneclass [--quick] [--epochs N]
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score

from sklearn_ae import Autoencoder, ConvolutionalAutoencoder, VariationalAutoencoder

from ._harness import MEASURED_TRAINING, load_mnist, save_figure, save_table, timed
from .outliers import PCAReconstruction


def detectors(epochs):
    """name -> factory(seed) of a detector with fit(X) and score_samples(X)."""
    net = dict(standardize=False, max_iter=epochs, random_state=0, **MEASURED_TRAINING)
    dense = dict(net, hidden_layer_sizes=(128, 64))
    return {
        # The one-class training rows are all normal: nothing for a refit to leave out.
        "Autoencoder": lambda: Autoencoder(refit_fraction=0, **dense),
        "ConvolutionalAutoencoder": lambda: ConvolutionalAutoencoder(
            image_shape=(1, 28, 28), **net),
        "VariationalAutoencoder": lambda: VariationalAutoencoder(**dense),
        "IsolationForest": lambda: IsolationForest(random_state=0),
        "PCA reconstruction": lambda: PCAReconstruction(random_state=0),
    }


def run(n_train=60000, n_test=10000, epochs=30, digits=range(10), names=None):
    X_train, y_train, X_test, y_test = load_mnist(n_train, n_test)
    factories = detectors(epochs)
    rows = []
    for digit in digits:
        normal = X_train[y_train == digit]
        is_anomaly = (y_test != digit).astype(int)
        for name in names or factories:
            model = factories[name]()
            _, fit_s = timed(model.fit, normal)
            auc = roc_auc_score(is_anomaly, -model.score_samples(X_test))
            rows.append({"digit": digit, "detector": name, "roc_auc": auc, "fit_s": fit_s})
            print(f"digit {digit} {name:26s} AUC {auc:.4f} fit {fit_s:.1f}s", flush=True)
    raw = pd.DataFrame(rows)
    table = raw.pivot(index="detector", columns="digit", values="roc_auc")
    table.columns = [f"digit {d}" for d in table.columns]
    table["mean"] = table.mean(axis=1)
    table["median_fit_s"] = raw.groupby("detector")["fit_s"].median()
    return table.sort_values("mean", ascending=False).reset_index(), raw


def plot(raw, quick):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    wide = raw.pivot(index="digit", columns="detector", values="roc_auc")
    fig, ax = plt.subplots(figsize=(10, 3.5))
    wide.plot.bar(ax=ax, width=0.8)
    ax.set(ylabel="ROC-AUC", title="One-class MNIST (normal digit on the x axis)",
           ylim=(max(0.0, wide.min().min() - 0.05), 1.0))
    # Beside the bars: inside, it covered them.
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    save_figure(fig, "oneclass_mnist_auc", quick)


def main(argv=None):
    parser = argparse.ArgumentParser(description="One-class MNIST (Deep SVDD protocol)")
    parser.add_argument("--quick", action="store_true", help="digits 0 and 1, 3000 rows, 1 epoch")
    parser.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args(argv)
    if args.quick:
        table, raw = run(3000, 1000, 1, digits=(0, 1))
    else:
        table, raw = run(epochs=args.epochs)
    plot(raw, args.quick)
    command = "python -m benchmarks oneclass" + (" --quick" if args.quick else "")
    if not args.quick and args.epochs != 30:
        command += f" --epochs {args.epochs}"
    md = save_table(
        table, "oneclass_mnist", "One-class MNIST: ROC-AUC per normal digit", command,
        quick=args.quick,
        notes="Networks: `standardize=False`, defaults otherwise, at most "
              f"{1 if args.quick else args.epochs} epochs with early stopping. "
              "Deep SVDD reports a 94.8% mean on this protocol (Ruff et al., ICML 2018).\n\n"
              "![one-class AUC](oneclass_mnist_auc.png)",
    )
    print(md)
    return table


if __name__ == "__main__":
    main()
