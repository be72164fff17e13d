"""Shared pieces of the benchmarks: data, machine description, result files."""

from __future__ import annotations

import datetime as _dt
import os
import platform
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("SKLEARN_AE_DATA", ROOT.parent / "shared" / "data"))
RESULTS = Path(__file__).resolve().parent / "results"


def load_mnist(n_train=60000, n_test=10000):
    """MNIST as float32 in [0, 1]: (X_train, y_train, X_test, y_test).

    The data README's convention: first 60000 rows train, last 10000 test.
    """
    path = DATA / "mnist.npz"
    if not path.exists():
        raise FileNotFoundError(
            f"{path} not found: the benchmarks read ../shared/data beside the "
            "project, or the folder named by SKLEARN_AE_DATA."
        )
    with np.load(path) as data:
        X, y = data["X"], data["y"]
    X = X.astype(np.float32) / 255.0
    return X[:n_train], y[:n_train], X[60000 : 60000 + n_test], y[60000 : 60000 + n_test]


def machine():
    """One line naming the machine, its cores and the torch build."""
    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"torch {torch.__version__} ({torch.get_num_threads()} threads), {gpu}"
    )


def save_table(table: pd.DataFrame, name: str, title: str, command: str):
    """Write ``results/<name>.csv`` and ``results/<name>.md``; return the Markdown."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    table.to_csv(RESULTS / f"{name}.csv", index=False)
    md = (
        f"## {title}\n\n"
        f"- date: {_dt.date.today().isoformat()}\n"
        f"- machine: {machine()}\n"
        f"- command: `{command}`\n\n"
        f"{table.to_markdown(index=False, floatfmt='.4g')}\n"
    )
    (RESULTS / f"{name}.md").write_text(md)
    return md
