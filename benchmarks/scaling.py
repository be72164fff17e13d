"""Scaling: fit time per epoch, peak memory and transform throughput against rows.

MNIST's 70000 images tiled (with a fresh random pixel shift per copy, so the
rows are not exact repeats) to 10^4 ... 10^6 rows of 784 float32 features
(3.1 GB at 10^6). Each size runs in a fresh Python process so that its peak
resident memory (``ru_maxrss``) is its own (``--quick``, which checks the
machinery, runs them in its own process). Per size: one ``Autoencoder.fit``
of ``--epochs`` epochs (network 784-128-64-32, batch 256, no early stopping,
``standardize=False``), the seconds per epoch of the whole fit (validation,
transfer and the scoring pass that sets ``offset_`` included), ``transform``
throughput in rows per second, and peak memory against the size of the data.

Where memory becomes the limit: the estimator keeps the whole training array
on the device as one tensor (plus the caller's own array on the host), so the
data must fit in device memory (GPU) or RAM (CPU) about twice over when the
input is not already C-contiguous float32; inference runs in bounded chunks.

Also (``--part memory``): the peak extra memory of fit on 200,000 x 50 and
of transform / score_samples / predict on 1,000,000 x 50 float32 rows, for
every estimator and for PCA, MLPRegressor and IsolationForest.

Run: python -m benchmarks scaling [--quick] [--epochs N] [--part rows|memory|all]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import subprocess
import sys
import warnings
from unittest import mock

import pandas as pd

from ._harness import ROOT, save_table

SIZES = (10_000, 30_000, 100_000, 300_000, 1_000_000)

# One fit on rows in a file (numpy.memmap) or in memory, in a fresh process:
# time per epoch and the peak of anonymous memory (RssAnon: the process's own
# pages, not the page cache that holds the file), sampled every 5 ms.
_MEMMAP_CHILD = r"""
import json, os, sys, tempfile, threading, time, warnings
import numpy as np
from sklearn_ae import Autoencoder

n_rows, n_features, where, epochs = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
CHUNK = 100_000
mixing = np.random.default_rng(12345).normal(size=(10, n_features))

def chunk(k):
    # The same rows whatever the storage: chunk k from its own seed.
    rng = np.random.default_rng(k)
    rows = min(CHUNK, n_rows - k * CHUNK)
    return (rng.normal(size=(rows, 10)) @ mixing
            + 0.3 * rng.normal(size=(rows, n_features))).astype(np.float32)

def rss_anon_mb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) / 1024

warm = Autoencoder(8, max_iter=1)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    warm.fit(chunk(0)[:512])
folder = tempfile.mkdtemp(dir=os.environ.get("SKLEARN_AE_SCRATCH"))
path = os.path.join(folder, "X.f32")
if where == "memory":
    X = np.concatenate([chunk(k) for k in range(-(-n_rows // CHUNK))])
else:
    out = np.memmap(path, dtype=np.float32, mode="w+", shape=(n_rows, n_features))
    for k in range(-(-n_rows // CHUNK)):
        out[k * CHUNK:(k + 1) * CHUNK] = chunk(k)
    out.flush()
    del out
    X = np.memmap(path, dtype=np.float32, mode="r", shape=(n_rows, n_features))
peak = [0.0]
done = threading.Event()

def sample():
    while not done.is_set():
        peak[0] = max(peak[0], rss_anon_mb())
        time.sleep(0.005)

before = rss_anon_mb()
sampler = threading.Thread(target=sample, daemon=True)
sampler.start()
est = Autoencoder(8, hidden_layer_sizes=(64, 32), max_iter=epochs, random_state=0)
start = time.perf_counter()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    est.fit(X)
fit_s = time.perf_counter() - start
fit_peak = peak[0] - before
peak[0] = 0.0
before_scores = rss_anon_mb()
start = time.perf_counter()
scores = est.score_samples(X)
score_s = time.perf_counter() - start
done.set()
sampler.join()
if where != "memory":
    del X
    os.remove(path)
os.rmdir(folder)
print(json.dumps({
    "rows": n_rows, "features": n_features, "storage": where,
    "data_mb": n_rows * n_features * 4 / 2**20, "epochs": est.n_iter_,
    "s_per_epoch": fit_s / est.n_iter_, "fit_peak_rss_anon_mb": fit_peak,
    "score_samples_s": score_s, "score_samples_peak_rss_anon_mb": peak[0] - before_scores,
    "scores_mb": scores.nbytes / 2**20, "validation_loss": est.best_loss_,
}))
"""


def memmap_runs(quick=False, epochs=3):
    """Fits on a memmap against the same rows in memory, and one on 10^7 rows."""
    if quick:
        runs = [(5_000, "memory", 1), (5_000, "memmap", 1)]
    else:
        runs = [(n, where, epochs) for n in (10_000, 100_000, 1_000_000)
                for where in ("memory", "memmap")] + [(10_000_000, "memmap", 1)]
    records = []
    for n_rows, where, n_epochs in runs:
        records.append(_child(_MEMMAP_CHILD, n_rows, 100, where, n_epochs, in_process=quick))
        print(records[-1])
    table = pd.DataFrame(records)
    memory = table[table.storage == "memory"].set_index("rows")["s_per_epoch"]
    table["epoch_over_in_memory"] = [
        r.s_per_epoch / memory[r.rows] if r.rows in memory.index else float("nan")
        for r in table.itertuples()
    ]
    _plot_memmap(table, quick)
    return table


def _plot_memmap(table, quick):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ._harness import save_figure

    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.4))
    for storage, marker in (("memory", "o"), ("memmap", "s")):
        part = table[table.storage == storage]
        left.plot(part.rows, part.s_per_epoch, marker=marker, label=storage)
        right.plot(part.rows, part.fit_peak_rss_anon_mb, marker=marker, label=storage)
    right.plot(table.rows, table.data_mb, "k:", label="the data")
    for ax, title in ((left, "seconds per epoch (whole fit)"),
                      (right, "peak anonymous memory of fit, MB")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("rows (100 float32 columns)")
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, "scaling_memmap", quick)

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
ae.set_params(outlier_score="combined")._fit_outlier_score(X, None, 0)
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


# Memory under load: one fresh process per (estimator, operation). The peak
# resident memory above the level just before the operation (data built,
# torch warmed up), against the data (fit) or the result (inference).
_MEMORY_CHILD = r"""
import json, resource, sys, warnings
import numpy as np
warnings.simplefilter("ignore")
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.neural_network import MLPRegressor
import sklearn_ae

name, op, n_fit, n_infer = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
peers = {"PCA": lambda: PCA(8, random_state=0),
         "MLPRegressor": lambda: MLPRegressor(hidden_layer_sizes=(8,), max_iter=2, random_state=0),
         "IsolationForest": lambda: IsolationForest(random_state=0)}
def make():
    if name in peers:
        return peers[name]()
    return getattr(sklearn_ae, name)(n_components=8, max_iter=2, device="cpu", random_state=0)
def fit(model, X):
    if name == "MLPRegressor":
        return model.fit(X, X)
    if name == "ConditionalAutoencoder":
        return model.fit(X, (X[:, 0] > 0).astype(int))
    return model.fit(X)
rng = np.random.default_rng(0)
def rss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
model = fit(make(), rng.standard_normal((2_000, 50), dtype=np.float32))  # warm-up
if op == "fit":
    X = rng.standard_normal((n_fit, 50), dtype=np.float32)
    before = rss()
    fit(make(), X)
    size = X.nbytes
else:
    model = fit(make(), rng.standard_normal((min(n_fit, 20_000), 50), dtype=np.float32))
    X = rng.standard_normal((n_infer, 50), dtype=np.float32)
    before = rss()
    out = getattr(model, op)(X)
    size = out.nbytes
print(json.dumps({"estimator": name, "operation": op, "rows": len(X),
                  "data_or_result_mb": size / 2**20, "peak_extra_mb": rss() - before}))
"""

MEMORY_ESTIMATORS = ("Autoencoder", "DenoisingAutoencoder", "SparseAutoencoder",
                     "VariationalAutoencoder", "ConditionalAutoencoder",
                     "AdversarialAutoencoder", "ConvolutionalAutoencoder")


def measure_memory(n_fit=200_000, n_infer=1_000_000, quick=False):
    """Peak extra memory of fit and inference, every estimator and three peers."""
    cases = [(name, "fit") for name in (*MEMORY_ESTIMATORS, "PCA", "MLPRegressor",
                                        "IsolationForest")]
    cases += [(name, op) for name in ("Autoencoder", "VariationalAutoencoder")
              for op in ("transform", "score_samples", "predict")]
    cases += [("PCA", "transform"), ("IsolationForest", "score_samples")]
    if quick:  # the machinery, not the figures: one fit and one inference
        cases = [("Autoencoder", "fit"), ("Autoencoder", "score_samples")]
    rows = []
    for name, op in cases:
        rows.append(_child(_MEMORY_CHILD, name, op, n_fit, n_infer, in_process=quick))
        print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    table["peak_extra_over_size"] = table["peak_extra_mb"] / table["data_or_result_mb"]
    return table


def partial_fit_vs_fit(epochs_list=(1, 5), quick=False):
    """Test MSE after one fit against the same epochs as 1,000-row partial_fit calls."""
    import time
    import warnings

    import numpy as np

    from sklearn_ae import Autoencoder

    from ._harness import load_mnist

    n_train = 3000 if quick else 60000
    X, _, X_test, _ = load_mnist(n_train, 2000 if quick else 10000)
    params = dict(n_components=32, hidden_layer_sizes=(256, 128), random_state=0,
                  device="cpu", precision="float32")

    def mse(model):
        return float(np.mean((model.inverse_transform(model.transform(X_test)) - X_test) ** 2))

    rows = []
    for epochs in epochs_list:
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a constant rate "still improving"
            whole = Autoencoder(max_iter=epochs, early_stopping=False,
                                learning_rate="constant", **params).fit(X)
        fit_s = time.perf_counter() - start
        start = time.perf_counter()
        chunked = Autoencoder(**params)
        for _ in range(epochs):
            for first in range(0, n_train, 1000):
                chunked.partial_fit(X[first : first + 1000])
        partial_s = time.perf_counter() - start
        rows.append({"epochs": epochs, "rows": n_train, "fit_test_mse": mse(whole),
                     "partial_fit_test_mse": mse(chunked),
                     "partial_over_fit": mse(chunked) / mse(whole),
                     "fit_s": fit_s, "partial_fit_s": partial_s,
                     "partial_fit_calls": epochs * (n_train // 1000)})
        print(rows[-1], flush=True)
    return pd.DataFrame(rows)


def _child(code, *args, in_process=False):
    """The JSON record a measuring script prints last, run in a fresh process.

    ``in_process`` (--quick, which checks the machinery and not the figures):
    the script runs here instead, sparing a process start (torch and
    scikit-learn imported again, seconds each); its memory figures are then
    this process's, not its own.
    """
    argv = [str(a) for a in args]
    if not in_process:
        out = subprocess.run([sys.executable, "-c", code, *argv],
                             capture_output=True, text=True, cwd=ROOT, check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])
    printed = io.StringIO()
    with (contextlib.redirect_stdout(printed), warnings.catch_warnings(),
          mock.patch.object(sys, "argv", ["-c", *argv])):
        exec(compile(code, "<measuring script>", "exec"), {"__name__": "__main__"})
    return json.loads(printed.getvalue().strip().splitlines()[-1])


def measure(n_rows, epochs, device, in_process=False):
    return _child(_CHILD, n_rows, epochs, device, in_process=in_process)


def run(sizes=SIZES, epochs=1, device="cpu", in_process=False):
    rows = []
    for n_rows in sizes:
        rows.append(measure(n_rows, epochs, device, in_process))
        print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    table["peak_over_data"] = table["peak_rss_mb"] / table["data_mb"]
    if "peak_gpu_mb" in table:
        table["gpu_peak_over_data"] = table["peak_gpu_mb"] / table["data_mb"]
    table["s_per_epoch_per_1e5_rows"] = table["s_per_epoch"] / table["rows"] * 1e5
    return table


def _quick_flag(quick):
    return " --quick" if quick else ""


def memmap_part(quick):
    """Fits on a memmap against fits in memory; saved as ``scaling_memmap``."""
    table = memmap_runs(quick=quick)
    print(save_table(
        table, "scaling_memmap",
        "Fits on a numpy.memmap, streamed chunk by chunk (100 float32 columns, CPU)",
        "python -m benchmarks scaling --part memmap" + _quick_flag(quick),
        quick=quick,
        notes="Each row is a fresh process. Rows: 10 latent factors mixed into 100 "
              "columns plus noise, built 100,000 rows at a time from their own seeds (the "
              "same rows in memory and in the file). Autoencoder(8, hidden (64, 32)), "
              "early stopping on (10% held out), default schedule. `s_per_epoch`: whole "
              "fit over epochs (input checks, scaling pass, training, validation, "
              "offset). `fit_peak_rss_anon_mb`: peak anonymous memory (RssAnon, the "
              "process's own pages; a memmap's pages are page cache) above its level "
              "before the fit, sampled every 5 ms; the same for score_samples, whose "
              "result is `scores_mb`. A memmap fit reads 16 MB chunks (4 M values) in a "
              "random order, shuffles rows inside each, and reads the next chunk in a "
              "background thread. The file was just written, so it sat in the page "
              "cache: this measures memory, not disk speed.\n\n"
              "![time and memory against rows](scaling_memmap.png)",
    ))
    return table


def memory_part(quick):
    """Peak extra memory of fit and inference per estimator; saved as ``scaling_memory``."""
    n_fit, n_infer = (5_000, 20_000) if quick else (200_000, 1_000_000)
    memory = measure_memory(n_fit, n_infer, quick=quick)
    print(save_table(
        memory, "scaling_memory",
        f"Peak extra memory: fit on {n_fit:,} x 50 float32, inference on "
        f"{n_infer:,} x 50 float32 (CPU)",
        "python -m benchmarks scaling --part memory" + _quick_flag(quick),
        quick=quick,
        notes="`peak_extra_mb`: the process's peak resident memory (ru_maxrss) above "
              "its level just before the call, data already built and torch warmed "
              "up; each row is a fresh process. `data_or_result_mb` is X for fit and "
              "the returned array for inference. Estimators: n_components=8, default "
              "widths, max_iter=2. Targets (issue 17): fit <= 2x the data, inference "
              "<= 2x its result plus a fixed chunk budget (16 M values per layer). "
              "The fixed part is not live memory alone: glibc raises its mmap threshold "
              "as chunks are freed, so later chunks come from the heap and stay counted; "
              "with MALLOC_MMAP_THRESHOLD_=131072 the VAE's score_samples on 1 M rows "
              "peaked 51 MB above its start instead of 170 MB, and the same 170 MB was "
              "measured at 300,000 rows: bounded, not proportional to the rows.",
    ))
    return memory


def partial_fit_part(quick):
    """Chunked training against one fit; saved as ``scaling_partial_fit``."""
    table = partial_fit_vs_fit((1, 2) if quick else (1, 5), quick=quick)
    print(save_table(
        table, "scaling_partial_fit",
        "partial_fit in 1,000-row chunks against one fit (MNIST, same epochs)",
        "python -m benchmarks scaling --part partial_fit" + _quick_flag(quick),
        quick=quick,
        notes="Network 784-256-128-32, Adam at a constant 3e-3 in both (partial_fit has "
              "no schedule), no early stopping, float32, one process. `partial_over_fit`: "
              "test MSE of the chunked training over the one-fit's (target <= 1.10). "
              "partial_fit's standardisation is learnt from the first chunk and frozen.",
    ))
    return table


def rows_part(quick, epochs, device):
    """Time and memory against rows; saved as ``scaling`` (``scaling_<device>`` off the CPU)."""
    sizes = (1_000, 3_000) if quick else SIZES
    table = run(sizes, epochs, device, in_process=quick)
    command = "python -m benchmarks scaling" + _quick_flag(quick)
    if device != "cpu":
        command += f" --device {device}"
    name = "scaling" + ("" if device == "cpu" else "_" + device.replace(":", ""))
    print(save_table(
        table, name, f"Scaling with rows (MNIST tiled, 784 features), device {device}",
        command, quick=quick,
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
    ))
    return table


def main(argv=None):
    parser = argparse.ArgumentParser(description="Scaling with the number of rows")
    parser.add_argument("--quick", action="store_true",
                        help="the machinery, not the figures: 1,000 and 3,000 rows, "
                             "5,000 for memory and memmap, 3,000 for partial_fit")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--part", choices=("rows", "memory", "partial_fit", "memmap", "all"),
                        default="all",
                        help="rows: time and memory against rows; memory: peak extra "
                             "memory of fit and inference per estimator; partial_fit: "
                             "chunked training against one fit; memmap: fits on rows in a "
                             "file (10^6 against memory, and 10^7 x 100)")
    args = parser.parse_args(argv)
    parts = {"memmap": lambda: memmap_part(args.quick),
             "memory": lambda: memory_part(args.quick),
             "partial_fit": lambda: partial_fit_part(args.quick),
             "rows": lambda: rows_part(args.quick, args.epochs, args.device)}
    if args.part != "all":
        return parts[args.part]()
    for part in parts.values():  # the order of the full run before the split: rows last
        table = part()
    return table


if __name__ == "__main__":
    main()
