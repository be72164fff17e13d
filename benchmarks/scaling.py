"""Scaling: fit time per epoch, peak memory and transform throughput against rows.

MNIST's 70000 images tiled (with a fresh random pixel shift per copy, so the
rows are not exact repeats) to 10^4 ... 10^6 rows of 784 float32 features
(3.1 GB at 10^6). Each size runs in a fresh Python process so that its peak
resident memory (``ru_maxrss``) is its own. Per size: one ``Autoencoder.fit``
of ``--epochs`` epochs (network 784-128-64-32, batch 256, no early stopping,
``standardize=False``), the seconds per epoch of the whole fit (validation,
transfer and the scoring pass that sets ``offset_`` included), ``transform``
throughput in rows per second, and peak memory against the size of the data.

Where memory becomes the limit: the estimator keeps the whole training array
on the device as one tensor (plus the caller's own array on the host), so the
data must fit in device memory (GPU) or RAM (CPU) about twice over when the
input is not already C-contiguous float32; inference runs in bounded chunks.

Run: python -m benchmarks scaling [--quick] [--epochs N]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pandas as pd

from ._harness import ROOT, save_table

SIZES = (10_000, 30_000, 100_000, 300_000, 1_000_000)

_CHILD = r"""
import json, resource, sys, time, warnings
import numpy as np
import torch
from benchmarks._harness import load_mnist
from sklearn_ae import Autoencoder

n_rows, epochs, device = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
base = np.concatenate(load_mnist(60000, 10000)[0::2])
rng = np.random.default_rng(0)
reps = -(-n_rows // len(base))
X = np.empty((reps * len(base), base.shape[1]), dtype=np.float32)
for r in range(reps):
    # Shift each copy by a random pixel offset: rows are not exact repeats.
    X[r * len(base):(r + 1) * len(base)] = np.roll(base, rng.integers(0, 3), axis=1)
X = X[:n_rows]
warm = Autoencoder(32, max_iter=1, early_stopping=False, device=device, refit_fraction=0)
with warnings.catch_warnings():  # first-call costs (kernels, allocators) out of the timing
    warnings.simplefilter("ignore")
    warm.fit(X[:512])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
on_gpu = device.startswith("cuda")
if on_gpu:
    torch.cuda.reset_peak_memory_stats()
ae = Autoencoder(32, hidden_layer_sizes=(128, 64), batch_size=256, max_iter=epochs,
                 early_stopping=False, n_iter_no_change=epochs, standardize=False,
                 device=device, random_state=0, outlier_score="reconstruction",
                 refit_fraction=0, learning_rate="constant", learning_rate_init=1e-3)
start = time.perf_counter()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    ae.fit(X)
fit_s = time.perf_counter() - start
# The combined outlier score's extra cost: codes, errors and a mixture on them.
start = time.perf_counter()
ae.set_params(outlier_score="combined")._training_scores(X, None, 0)
combined_s = time.perf_counter() - start
start = time.perf_counter()
ae.transform(X)
transform_s = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
gpu = {"peak_gpu_mb": torch.cuda.max_memory_allocated() / 2**20} if on_gpu else {}
print(json.dumps({"rows": n_rows, "data_mb": X.nbytes / 2**20,
                  "s_per_epoch": fit_s / epochs, "combined_score_fit_s": combined_s,
                  "transform_rows_per_s": n_rows / transform_s,
                  "peak_rss_mb": peak / 1024, "rss_before_fit_mb": before / 1024, **gpu}))
"""


def measure(n_rows, epochs, device):
    out = subprocess.run([sys.executable, "-c", _CHILD, str(n_rows), str(epochs), device],
                         capture_output=True, text=True, cwd=ROOT, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(sizes=SIZES, epochs=1, device="cpu"):
    rows = []
    for n_rows in sizes:
        rows.append(measure(n_rows, epochs, device))
        print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    table["peak_over_data"] = table["peak_rss_mb"] / table["data_mb"]
    if "peak_gpu_mb" in table:
        table["gpu_peak_over_data"] = table["peak_gpu_mb"] / table["data_mb"]
    table["s_per_epoch_per_1e5_rows"] = table["s_per_epoch"] / table["rows"] * 1e5
    return table


def main(argv=None):
    parser = argparse.ArgumentParser(description="Scaling with the number of rows")
    parser.add_argument("--quick", action="store_true", help="10^3 and 10^4 rows")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    sizes = (1_000, 10_000) if args.quick else SIZES
    table = run(sizes, args.epochs, args.device)
    command = "python -m benchmarks scaling" + (" --quick" if args.quick else "")
    if args.device != "cpu":
        command += f" --device {args.device}"
    name = "scaling" + ("" if args.device == "cpu" else "_" + args.device.replace(":", ""))
    md = save_table(
        table, name, f"Scaling with rows (MNIST tiled, 784 features), device {args.device}",
        command, quick=args.quick,
        notes="`s_per_epoch` is a whole fit divided by its epochs (data transfer and the "
              "scoring pass that sets `offset_` included). `peak_rss_mb` is the process's "
              "peak resident memory, interpreter, torch and the data array included; "
              "`rss_before_fit_mb` is the same just before the fit (data already built). "
              "Fits use `outlier_score=\"reconstruction\"`; `combined_score_fit_s` is what "
              "the default combined score adds once per fit (codes, errors, a Gaussian "
              "mixture on the codes). "
              "The training data lives on the device as one tensor, so it must fit in "
              "RAM (CPU) or GPU memory; inference runs in chunks of bounded size. On a GPU, "
              "`peak_gpu_mb` is torch's peak allocated device memory during the fit, "
              "score and transform.",
    )
    print(md)
    return table


if __name__ == "__main__":
    main()
