"""Image variants on MNIST: convolutional against MLP, conditional and adversarial samples.

1. ``ConvolutionalAutoencoder`` against the MLP ``Autoencoder`` at 32
   components, with a comparable number of weights (conv channels (32, 64):
   241k weights; MLP 784-128-64-32: 222k), the same epochs, batch size and
   optimiser: test reconstruction MSE (pixels in [0, 1]) and fit time; PCA-32
   for reference. A PNG shows test digits and the three reconstructions.
2. ``ConditionalAutoencoder`` (Bernoulli decoder) fitted on (image, digit): a
   PNG with one row of samples per digit.
3. ``AdversarialAutoencoder`` (normal prior): a PNG of samples.

Run: python -m benchmarks images [--quick]
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA

from sklearn_ae import (
    AdversarialAutoencoder,
    Autoencoder,
    ConditionalAutoencoder,
    ConvolutionalAutoencoder,
)

from ._harness import MEASURED_TRAINING, image_grid, load_mnist, save_figure, save_table, timed


def _fit(model, *data):
    return timed(model.fit, *data)[1]


def _n_weights(model):
    if hasattr(model, "module_"):
        return sum(p.numel() for p in model.module_.parameters())
    return model.components_.size + model.mean_.size


def run(n_train=60000, n_test=10000, epochs=10, generative_epochs=30, quick=False):
    X_train, y_train, X_test, _ = load_mnist(n_train, n_test)
    # Same budget for both networks: fixed epochs, no early stopping.
    budget = dict(n_components=32, max_iter=epochs, early_stopping=False,
                  n_iter_no_change=epochs, standardize=False, random_state=0,
                  **MEASURED_TRAINING)
    models = {
        "ConvolutionalAutoencoder": ConvolutionalAutoencoder(
            image_shape=(1, 28, 28), channels=(32, 64), **budget),
        "Autoencoder (MLP)": Autoencoder(hidden_layer_sizes=(128, 64), refit_fraction=0,
                                         **budget),
        "PCA": PCA(32, random_state=0),
    }
    rows, rebuilt = [], {}
    for name, model in models.items():
        fit_s = _fit(model, X_train)
        rebuilt[name] = model.inverse_transform(model.transform(X_test))
        rows.append({"method": name, "test_mse": float(np.mean((rebuilt[name] - X_test) ** 2)),
                     "fit_s": fit_s, "epochs": getattr(model, "n_iter_", None),
                     "weights": _n_weights(model)})
    shown = slice(0, 12)
    save_figure(image_grid([X_test[shown]] + [r[shown] for r in rebuilt.values()],
                           ["test digits"] + list(rebuilt)), "conv_reconstructions", quick)

    cvae = ConditionalAutoencoder(n_components=8, hidden_layer_sizes=(512, 256),
                                  likelihood="bernoulli", standardize=False,
                                  max_iter=generative_epochs, random_state=0,
                                  **MEASURED_TRAINING)
    cvae_s = _fit(cvae, X_train, y_train)
    save_figure(image_grid([cvae.sample(12, y=d, random_state=d) for d in range(10)],
                           [f"y={d}" for d in range(10)]), "conditional_samples", quick)

    aae = AdversarialAutoencoder(n_components=8, hidden_layer_sizes=(512, 256),
                                 standardize=False, max_iter=generative_epochs, random_state=0,
                                 **MEASURED_TRAINING)
    aae_s = _fit(aae, X_train)
    save_figure(image_grid([aae.sample(12, random_state=s) for s in range(6)],
                           [f"samples {s + 1}" for s in range(6)]), "adversarial_samples", quick)
    table = pd.DataFrame(rows)
    extra = pd.DataFrame([
        {"method": "ConditionalAutoencoder (samples)", "test_mse": np.nan, "fit_s": cvae_s,
         "epochs": cvae.n_iter_, "weights": _n_weights(cvae)},
        {"method": "AdversarialAutoencoder (samples)", "test_mse": np.nan, "fit_s": aae_s,
         "epochs": aae.n_iter_, "weights": _n_weights(aae)},
    ])
    return pd.concat([table, extra], ignore_index=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Image variants on MNIST")
    parser.add_argument("--quick", action="store_true", help="2000 rows, 1 epoch")
    args = parser.parse_args(argv)
    if args.quick:
        table = run(n_train=2000, n_test=300, epochs=1, generative_epochs=1, quick=True)
    else:
        table = run()
    md = save_table(
        table, "images_mnist",
        "Image variants on MNIST: reconstruction at 32 components, and generative samples",
        "python -m benchmarks images" + (" --quick" if args.quick else ""), quick=args.quick,
        notes="![reconstructions](conv_reconstructions.png)\n\n"
              "Conditional samples, one row per digit:\n\n"
              "![conditional](conditional_samples.png)\n\n"
              "Adversarial autoencoder samples (normal prior):\n\n"
              "![adversarial](adversarial_samples.png)",
    )
    print(md)
    return table


if __name__ == "__main__":
    main()
