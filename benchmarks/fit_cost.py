"""What a default fit costs a transformer user, against a plain torch loop.

``Autoencoder(n_components=32, hidden_layer_sizes=(128, 64), batch_size=256,
max_iter=3, early_stopping=False, device="cpu", random_state=0).fit(X)`` on
20,000 MNIST rows, one torch thread, against a plain loop training the same
network for the same 3 epochs (fused Adam, shuffled index slices, the data as
one tensor). Everything else the estimator's fit does (validation, scaling,
the schedule, ``offset_``) is in its time. Runs alternate, 5 of each, and the
ratio of the medians is reported. Target: <= 1.10.

Run: python -m benchmarks fit_cost [--quick]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd
import torch

from sklearn_ae import Autoencoder
from sklearn_ae._device import denormals_flushed
from sklearn_ae.nn import MLPAutoencoder

from ._harness import load_mnist, save_table

PARAMS = dict(n_components=32, hidden_layer_sizes=(128, 64), batch_size=256, max_iter=3,
              early_stopping=False, device="cpu", random_state=0)


def fit_estimator(X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        Autoencoder(**PARAMS).fit(X)


def fit_plain(X):
    torch.manual_seed(0)
    with denormals_flushed():
        data = torch.from_numpy(X)
        model = MLPAutoencoder(X.shape[1], 32, (128, 64))
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True)
        for _ in range(PARAMS["max_iter"]):
            total = torch.zeros(())
            order = torch.randperm(len(data))
            for start in range(0, len(data), 256):
                batch = data[order[start : start + 256]]
                optimizer.zero_grad(set_to_none=True)
                loss = torch.nn.functional.mse_loss(model(batch), batch)
                loss.backward()
                optimizer.step()
                total += loss.detach() * batch.shape[0]
            total.item()


def run(n_rows=20000, repeats=5):
    X = load_mnist(n_rows, 1)[0]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        fit_estimator(X[:512])  # first-call costs out of the timing
        times = {"estimator": [], "plain loop": []}
        for _ in range(repeats):
            for name, fn in (("estimator", fit_estimator), ("plain loop", fit_plain)):
                start = time.perf_counter()
                fn(X)
                times[name].append(time.perf_counter() - start)
    finally:
        torch.set_num_threads(threads)
    plain = float(np.median(times["plain loop"]))
    return pd.DataFrame([
        {"method": name, "median_s": float(np.median(t)), "min_s": min(t), "max_s": max(t),
         "ratio_to_plain": float(np.median(t)) / plain}
        for name, t in times.items()
    ])


def main(argv=None):
    parser = argparse.ArgumentParser(description="Cost of a default fit")
    parser.add_argument("--quick", action="store_true", help="2000 rows, 2 repeats")
    args = parser.parse_args(argv)
    table = run(2000, 2) if args.quick else run()
    md = save_table(
        table, "fit_cost", "Cost of a default fit against a plain torch loop (one thread)",
        "python -m benchmarks fit_cost" + (" --quick" if args.quick else ""), quick=args.quick,
        notes="Target: the estimator's `ratio_to_plain` <= 1.10.",
    )
    print(md)
    return table


if __name__ == "__main__":
    main()
