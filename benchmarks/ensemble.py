"""What an ensemble of autoencoders trained as one network costs, against one network.

``OutlierAutoencoder``'s network, ``n_members`` of 1, 4, 8, 16 and 32
(:class:`~sklearn_ae.nn.MLPEnsemble`: stacked weights, batched matrix
products), trained for the same epochs on the same rows: 20,000 rows of a
21-column ADBench table (6_cardio's columns, its rows drawn again with
noise, so the size is a typical table's rather than its own 1,831), on the
CPU with one torch thread and with all of them, and on a GPU when there is
one. Runs of each size alternate, and the median of ``repeats`` is taken;
the ratio to one network is the figure (issue 30: 8 to 32 members should cost a
small multiple of one network on a CPU, almost nothing more on a GPU).

Run: python -m benchmarks ensemble [--quick]
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
import torch

from sklearn_ae import Autoencoder

from ._harness import DATA, save_table, timed

MEMBERS = (1, 4, 8, 16, 32)

# OutlierAutoencoder's network and optimiser settings, a fixed epoch count.
PARAMS = dict(hidden_layer_sizes=(128, 64), learning_rate="constant", learning_rate_init=1e-3,
              early_stopping=False, random_state=0)


def table_rows(n_rows, seed=0):
    """``n_rows`` rows like 6_cardio's (standardised), or Gaussian rows without the data."""
    rng = np.random.RandomState(seed)
    path = DATA / "adbench" / "6_cardio.npz"
    if not path.exists():
        return rng.normal(size=(n_rows, 21))
    with np.load(path) as data:
        X = data["X"].astype(np.float64)
    X = (X - X.mean(0)) / np.where(X.std(0) > 0, X.std(0), 1.0)
    return X[rng.randint(len(X), size=n_rows)] + 0.05 * rng.normal(size=(n_rows, X.shape[1]))


def fit_seconds(X, members, device, epochs):
    model = Autoencoder(n_members=members, max_iter=epochs, device=device, **PARAMS)

    def fit(rows):
        model.fit(rows)
        if device == "cuda":
            torch.cuda.synchronize()

    return timed(fit, X)[1]


def run(n_rows=20000, epochs=5, repeats=3, members=MEMBERS):
    X = table_rows(n_rows)
    settings = [("cpu", 1), ("cpu", torch.get_num_threads())]
    if torch.cuda.is_available():
        settings.append(("cuda", torch.get_num_threads()))
    rows = []
    threads_before = torch.get_num_threads()
    try:
        for device, threads in settings:
            torch.set_num_threads(threads)
            fit_seconds(X[:2000], 1, device, 1)  # warm-up: kernels, allocator
            times = {k: [] for k in members}
            for _ in range(repeats):
                for k in members:  # alternate, so drift hits every size alike
                    times[k].append(fit_seconds(X, k, device, epochs))
            one = float(np.median(times[1]))
            for k in members:
                median = float(np.median(times[k]))
                rows.append({"device": device, "threads": threads, "n_members": k,
                             "fit_s": median, "ratio_to_one": median / one,
                             "per_member": median / one / k})
    finally:
        torch.set_num_threads(threads_before)
    return pd.DataFrame(rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 rows, 1 epoch, 1 repeat")
    args = parser.parse_args(argv)
    if args.quick:
        table = run(n_rows=2000, epochs=1, repeats=1, members=(1, 4))
    else:
        table = run()
    command = "python -m benchmarks ensemble" + (" --quick" if args.quick else "")
    notes = ("Fit of `Autoencoder(n_members=k, hidden_layer_sizes=(128, 64), "
             "early_stopping=False)` for a fixed number of epochs: the median of the runs, "
             "and its ratio to one network's (`n_members=1`, a plain `MLPAutoencoder`) on the "
             "same device and threads. `per_member`: that ratio over k.")
    print(save_table(table, "ensemble_cost", "Ensembles trained as one network: fit time "
                     "against one network", command, quick=args.quick, notes=notes))
    return table
