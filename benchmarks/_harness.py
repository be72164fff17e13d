"""Shared pieces of the benchmarks: data, machine description, result files."""

from __future__ import annotations

import datetime as _dt
import os
import platform
from pathlib import Path

import numpy as np
import pandas as pd

from .fetch import data_dir

ROOT = Path(__file__).resolve().parent.parent
# ../shared/data beside the project, else SKLEARN_AE_DATA, else the cache
# that `python -m benchmarks fetch` fills (see benchmarks/fetch.py).
DATA = data_dir()
RESULTS = Path(__file__).resolve().parent / "results"

#: The training settings the oneclass, denoising, images and vae tables were
#: measured with (the defaults before 2026-11-23), so that they rerun as
#: measured; the dimred defaults table measures today's defaults.
MEASURED_TRAINING = dict(learning_rate="constant", learning_rate_init=1e-3,
                         precision="float32")


def load_mnist(n_train=60000, n_test=10000):
    """MNIST as float32 in [0, 1]: (X_train, y_train, X_test, y_test).

    The data README's convention: first 60000 rows train, last 10000 test.
    """
    path = DATA / "mnist.npz"
    if not path.exists():
        raise FileNotFoundError(
            f"{path} not found: the benchmarks read ../shared/data beside the "
            "project, the folder named by SKLEARN_AE_DATA, or the cache that "
            "`python -m benchmarks fetch` fills from the public sources."
        )
    with np.load(path) as data:
        X, y = data["X"], data["y"]
    X = X.astype(np.float32) / 255.0
    return X[:n_train], y[:n_train], X[60000 : 60000 + n_test], y[60000 : 60000 + n_test]


def timed(fn, *args):
    """``(fn(*args), seconds)``, with the fit's warnings (convergence...) silenced."""
    import time
    import warnings

    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = fn(*args)
    return out, time.perf_counter() - start


def _cpu_model():
    """The CPU's model name and widest vector set from /proc/cpuinfo (Linux), else None."""
    try:
        with open("/proc/cpuinfo") as info:
            text = info.read()
    except OSError:
        return None
    names = [line.split(":", 1)[1].strip() for line in text.splitlines()
             if line.startswith("model name")]
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines()
                  if line.startswith("flags")), [])
    vector = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else None
    if not names:
        return None
    return names[0] + (f" ({vector})" if vector else "")


def machine():
    """One line naming the machine, its cores and the torch build."""
    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    from sklearn_ae._device import cpu_has_amx as _cpu_has_amx

    return (
        f"{_cpu_model() or platform.processor() or platform.machine()}"
        f"{' with AMX bf16' if _cpu_has_amx() else ''}, {os.cpu_count()} cores, "
        f"torch {torch.__version__} ({torch.get_num_threads()} threads), {gpu}"
    )


def output_dir(quick: bool) -> Path:
    """Where a run writes: ``results/`` for full runs, ``results/quick/`` for --quick."""
    path = RESULTS / "quick" if quick else RESULTS
    path.mkdir(parents=True, exist_ok=True)
    return path


def save_figure(fig, name: str, quick: bool) -> Path:
    """Save a matplotlib figure as ``<name>.png`` beside the tables."""
    path = output_dir(quick) / f"{name}.png"
    fig.savefig(path, dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path


def image_grid(rows, titles, shape=(28, 28)):
    """A figure with one row of images per entry of ``rows`` (arrays of flat images)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n_cols = max(len(r) for r in rows)
    fig, axes = plt.subplots(
        len(rows), n_cols, figsize=(n_cols * 0.9, len(rows) * 1.0), squeeze=False
    )
    for i, (images, title) in enumerate(zip(rows, titles)):
        for j in range(n_cols):
            ax = axes[i, j]
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
            if j < len(images):
                ax.imshow(np.clip(images[j].reshape(shape), 0, 1), cmap="gray_r", vmin=0, vmax=1)
        axes[i, 0].set_ylabel(title, rotation=0, ha="right", va="center", fontsize=8)
    return fig


def save_table(table: pd.DataFrame, name: str, title: str, command: str, quick=False, notes=""):
    """Write ``<name>.csv`` and ``<name>.md`` to :func:`output_dir`; return the Markdown."""
    out = output_dir(quick)
    table.to_csv(out / f"{name}.csv", index=False)
    md = (
        f"## {title}\n\n"
        f"- date: {_dt.date.today().isoformat()}\n"
        f"- machine: {machine()}\n"
        f"- command: `{command}`\n\n"
        f"{table.to_markdown(index=False, floatfmt='.4g')}\n"
        + (f"\n{notes}\n" if notes else "")
    )
    (out / f"{name}.md").write_text(md)
    return md
