"""VariationalAutoencoder on MNIST: held-out ELBO in nats per image, and samples.

A Bernoulli decoder on pixel intensities in [0, 1] (``likelihood="bernoulli"``,
``standardize=False``), the usual likelihood for MNIST VAEs; on these
non-binarised pixels the numbers are not comparable with figures for
binarised MNIST. The ELBO is ``score_samples`` (16 fixed posterior draws);
log p(x) is the importance-sampled estimate of ``log_likelihood``.

Run: python -m benchmarks vae [--quick]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

from sklearn_ae import VariationalAutoencoder

from ._harness import MEASURED_TRAINING, image_grid, load_mnist, save_figure, save_table


def run(n_train=60000, n_test=10000, n_iwae=1000, max_iter=50, quick=False):
    X_train, _, X_test, _ = load_mnist(n_train, n_test)
    rows = []
    for n_components in (2, 16):
        vae = VariationalAutoencoder(
            n_components=n_components, hidden_layer_sizes=(512, 256), likelihood="bernoulli",
            standardize=False, max_iter=max_iter, random_state=0, **MEASURED_TRAINING,
        )
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            vae.fit(X_train)
        fit_s = time.perf_counter() - start
        rows.append({
            "n_components": n_components,
            "epochs": vae.n_iter_,
            "fit_s": fit_s,
            "train_elbo_nats": vae.score(X_train[:n_test]),
            "test_elbo_nats": vae.score(X_test),
            "test_log_px_iwae100_nats": float(np.mean(
                vae.log_likelihood(X_test[:n_iwae], n_samples=100, random_state=0))),
        })
        real = X_test[:12]
        fig = image_grid(
            [real, vae.inverse_transform(vae.transform(real))]
            + [vae.sample(12, random_state=seed) for seed in range(4)],
            ["real", "reconstructed"] + [f"samples {s + 1}" for s in range(4)],
        )
        save_figure(fig, f"vae_mnist_samples_{n_components}d", quick)
    return pd.DataFrame(rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description="VAE on MNIST")
    parser.add_argument("--quick", action="store_true", help="3000 rows, 2 epochs")
    args = parser.parse_args(argv)
    if args.quick:
        table = run(n_train=3000, n_test=500, n_iwae=100, max_iter=2, quick=True)
    else:
        table = run()
    md = save_table(
        table, "vae_mnist",
        "VariationalAutoencoder on MNIST (Bernoulli decoder): ELBO and log p(x) per test image",
        "python -m benchmarks vae" + (" --quick" if args.quick else ""),
        quick=args.quick,
        notes="![VAE samples, 16-d](vae_mnist_samples_16d.png)\n\n"
              "![VAE samples, 2-d](vae_mnist_samples_2d.png)",
    )
    print(md)
    return table


if __name__ == "__main__":
    main()
