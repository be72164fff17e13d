"""Dimensionality reduction on MNIST: PCA against every transformer variant.

For ``n_components`` in 2, 8, 16, 32, 64 and each method: test reconstruction
MSE (pixels in [0, 1]), accuracy of a logistic regression trained on the codes
of 10000 training rows and tested on the codes of the 10000 test rows, fit
time and transform time (10000 rows).

Every network gets the same budget: ``--epochs`` epochs (default 20) without
early stopping, batch 256, Adam at 1e-3, ``standardize=False`` (pixels share
one scale), hidden layers (256, 128) for the fully connected variants.
``ConvolutionalAutoencoder`` costs ~20x more per epoch on a CPU and gets
``--conv-epochs`` (default 5). Variant-specific settings are their defaults
except where images need otherwise (Bernoulli decoders for the VAE and CVAE;
noise clipped to [0, 1] for the denoising AE). ``ConditionalAutoencoder``
reconstructs with the true digit as its condition, so its codes need not
carry the class (its logistic accuracy is low by design).

The "tuned" table pins its networks' training settings (constant Adam rate
1e-3, float32) so that it measures the variants, not the defaults.

The "defaults" table (``dimred_defaults``) is what a new user gets: each
estimator with nothing but ``n_components`` and ``random_state`` (and the
digit as condition for ``ConditionalAutoencoder``), fitted on all 60000 rows:
``Autoencoder`` at every k, the other variants at 32, PCA beside them. Its
targets: ``Autoencoder`` at <= 0.5x PCA's test MSE for k = 16, 32, 64 and a fit
of k=32 in <= 180 s on 2 CPU cores.

Plots: MSE against components, 2-D codes of AE and PCA, reconstructions at 32.

Run: python -m benchmarks dimred [--quick] [--table all|tuned|defaults]
[--epochs N] [--conv-epochs N]
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_ae import (
    AdversarialAutoencoder,
    Autoencoder,
    ConditionalAutoencoder,
    ConvolutionalAutoencoder,
    DenoisingAutoencoder,
    SparseAutoencoder,
    VariationalAutoencoder,
)

from ._harness import image_grid, load_mnist, save_figure, save_table, timed

COMPONENTS = (2, 8, 16, 32, 64)

#: The variants compared at their defaults in the defaults table (at k=32).
DEFAULT_VARIANTS = (DenoisingAutoencoder, SparseAutoencoder, VariationalAutoencoder,
                    ConditionalAutoencoder, AdversarialAutoencoder,
                    ConvolutionalAutoencoder)


def methods(epochs, conv_epochs):
    """name -> factory(n_components) of every method compared."""
    net = dict(hidden_layer_sizes=(256, 128), standardize=False, max_iter=epochs,
               early_stopping=False, batch_size=256, random_state=0,
               learning_rate="constant", learning_rate_init=1e-3, precision="float32")
    conv = dict(net, hidden_layer_sizes=(), max_iter=conv_epochs)
    ae = net
    return {
        "PCA": lambda k: PCA(k, random_state=0),
        "Autoencoder": lambda k: Autoencoder(k, **ae),
        # noise_level as this table was measured (the default is now 0.5).
        "DenoisingAutoencoder": lambda k: DenoisingAutoencoder(
            k, clip=(0.0, 1.0), noise_level=0.2, **net),
        "SparseAutoencoder": lambda k: SparseAutoencoder(k, **net),
        "VariationalAutoencoder": lambda k: VariationalAutoencoder(
            k, likelihood="bernoulli", **net),
        "ConditionalAutoencoder": lambda k: ConditionalAutoencoder(
            k, likelihood="bernoulli", **net),
        "AdversarialAutoencoder": lambda k: AdversarialAutoencoder(k, **net),
        "ConvolutionalAutoencoder": lambda k: ConvolutionalAutoencoder(
            k, image_shape=(1, 28, 28), **conv),
    }


def evaluate(name, model, data, n_probe):
    X_train, y_train, X_test, y_test = data
    needs_y = isinstance(model, ConditionalAutoencoder)
    _, fit_s = timed(model.fit, X_train, *([y_train] if needs_y else []))
    Z_test, transform_s = timed(model.transform, X_test)
    rebuilt = (model.inverse_transform(Z_test, y=y_test) if needs_y
               else model.inverse_transform(Z_test))
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        probe.fit(model.transform(X_train[:n_probe]), y_train[:n_probe])
    return {
        "test_mse": float(np.mean((rebuilt - X_test) ** 2)),
        "logreg_accuracy": float(probe.score(Z_test, y_test)),
        "fit_s": fit_s,
        "transform_s": transform_s,
    }, Z_test, rebuilt


def plot_mse(table, quick):
    """Test MSE against n_components, one line per method (from the table alone)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    fig, ax = plt.subplots(figsize=(7, 4))
    for name, part in table.groupby("method", sort=False):
        style = "k--" if name == "PCA" else "-"
        ax.plot(part["n_components"], part["test_mse"], style, marker="o", label=name)
    ax.set(xscale="log", yscale="log", xlabel="n_components",
           ylabel="test MSE (pixels in [0, 1])", title="MNIST reconstruction error")
    ticks = sorted(table["n_components"].unique())
    ax.set_xticks(ticks, [str(k) for k in ticks])
    # The log axis's own minor labels overprinted these.
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    save_figure(fig, "dimred_mse_vs_components", quick)


def plots(table, codes, rebuilt, X_test, y_test, quick):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plot_mse(table, quick)

    fig, axes = plt.subplots(1, len(codes), figsize=(4.5 * len(codes), 4))
    for ax, (name, Z) in zip(np.atleast_1d(axes), codes.items()):
        points = ax.scatter(Z[:, 0], Z[:, 1], c=y_test, cmap="tab10", s=2, alpha=0.6)
        ax.set(title=f"{name}, 2 components", xticks=[], yticks=[])
    fig.colorbar(points, ax=axes, ticks=range(10), label="digit")
    save_figure(fig, "dimred_codes_2d", quick)

    shown = slice(0, 12)
    save_figure(image_grid([X_test[shown]] + [r[shown] for r in rebuilt.values()],
                           ["test digits"] + [f"{n} (32)" for n in rebuilt]),
                "dimred_reconstructions_32", quick)


def defaults_table(data, components, n_probe, variants=DEFAULT_VARIANTS, variant_k=32,
                   max_iter=None):
    """Every estimator with its defaults next to PCA (see the module docstring).

    ``max_iter``: an epoch cap over the defaults (--quick, which checks the
    machinery and not the figures); None keeps every default.
    """
    rows = []
    capped = {} if max_iter is None else {"max_iter": max_iter}

    def add(name, model, k):
        result, _, _ = evaluate(name, model, data, n_probe)
        pca = PCA(k, random_state=0)
        pca_result, _, _ = evaluate("PCA", pca, data, n_probe)
        rows.append({"method": name, "n_components": k, **result,
                     "epochs": getattr(model, "n_iter_", np.nan),
                     "pca_test_mse": pca_result["test_mse"],
                     "mse_ratio_to_pca": result["test_mse"] / pca_result["test_mse"]})
        print(f"defaults {name:26s} k={k:2d} mse {result['test_mse']:.4f} "
              f"ratio {rows[-1]['mse_ratio_to_pca']:.3f} fit {result['fit_s']:.1f}s",
              flush=True)

    for k in components:
        add("Autoencoder", Autoencoder(k, random_state=0, **capped), k)
    k = variant_k if variant_k in components else max(components)
    for cls in variants:
        add(cls.__name__, cls(k, random_state=0, **capped), k)
    return pd.DataFrame(rows)


def run(n_train=60000, n_test=10000, epochs=20, conv_epochs=5, components=COMPONENTS,
        n_probe=10000, quick=False):
    data = load_mnist(n_train, n_test)
    X_test, y_test = data[2], data[3]
    rows, codes, rebuilt = [], {}, {}
    for name, factory in methods(epochs, conv_epochs).items():
        for k in components:
            result, Z, R = evaluate(name, factory(k), data, n_probe)
            rows.append({"method": name, "n_components": k, **result})
            print(f"{name:26s} k={k:2d} mse {result['test_mse']:.4f} "
                  f"acc {result['logreg_accuracy']:.3f} fit {result['fit_s']:.1f}s", flush=True)
            if k == 2 and name in ("PCA", "Autoencoder"):
                codes[name] = Z
            if k == 32 or (quick and k == max(components)):
                rebuilt[name] = R
    table = pd.DataFrame(rows)
    plots(table, codes, rebuilt, X_test, y_test, quick)
    return table


def save_defaults(table, quick):
    targets = table[(table["method"] == "Autoencoder")
                    & table["n_components"].isin([16, 32, 64])]
    met = bool(len(targets)) and bool((targets["mse_ratio_to_pca"] <= 0.5).all())
    k32 = targets[targets["n_components"] == 32]["fit_s"]
    return save_table(
        table, "dimred_defaults",
        "Dimensionality reduction on MNIST: every estimator at its defaults against PCA",
        "python -m benchmarks dimred" + (" --quick" if quick else " --table defaults"),
        quick=quick,
        notes=(
            "Each estimator built with `n_components=k, random_state=0` only (the "
            "conditional one fitted with the digit as condition), on all training "
            "rows; `pca_test_mse` is PCA(k) on the same rows. Targets: Autoencoder "
            "`mse_ratio_to_pca` <= 0.5 at k = 16, 32, 64 "
            f"({'met' if met else 'NOT met'}), and its k=32 fit <= 180 s on 2 CPU "
            f"cores ({', '.join(f'{v:.0f} s' for v in k32) or 'not run'})."
        ),
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description="Dimensionality reduction on MNIST")
    parser.add_argument("--quick", action="store_true",
                        help="3000 rows, components 2 and 8, 1 epoch (5 for the defaults)")
    parser.add_argument("--table", choices=["all", "tuned", "defaults"], default="all")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--conv-epochs", type=int, default=5)
    args = parser.parse_args(argv)
    table = None
    if args.table in ("all", "defaults"):
        if args.quick:
            data = load_mnist(3000, 500)
            defaults = defaults_table(data, (8,), 1000, variants=(DenoisingAutoencoder,),
                                      variant_k=8, max_iter=5)
        else:
            defaults = defaults_table(load_mnist(), COMPONENTS, 10000)
        print(save_defaults(defaults, args.quick))
        table = defaults
    if args.table in ("all", "tuned"):
        if args.quick:
            table = run(3000, 500, 1, 1, (2, 8), n_probe=1000, quick=True)
        else:
            table = run(epochs=args.epochs, conv_epochs=args.conv_epochs)
        command = "python -m benchmarks dimred" + (" --quick" if args.quick else "")
        if not args.quick and (args.epochs, args.conv_epochs) != (20, 5):
            command += f" --epochs {args.epochs} --conv-epochs {args.conv_epochs}"
        md = save_table(
            table, "dimred_mnist",
            "Dimensionality reduction on MNIST: PCA and every transformer variant",
            command, quick=args.quick,
            notes=(
                "Networks: hidden (256, 128), batch 256, Adam at a constant 1e-3, "
                "float32, `standardize=False`, "
                f"{20 if not args.quick else 1} epochs without early stopping "
                "(ConvolutionalAutoencoder: default conv layers, "
                f"{args.conv_epochs if not args.quick else 1} epochs). "
                "`logreg_accuracy`: logistic regression on the codes of 10000 training "
                "rows, scored on the test codes. `transform_s`: 10000 test rows. "
                "ConditionalAutoencoder reconstructs with the true digit as condition. "
                "The defaults of every estimator: `dimred_defaults`.\n\n"
                "![MSE against components](dimred_mse_vs_components.png)\n\n"
                "![2-D codes](dimred_codes_2d.png)\n\n"
                "![reconstructions at 32 components](dimred_reconstructions_32.png)"
            ),
        )
        print(md)
    return table


if __name__ == "__main__":
    main()
