"""Fetch the benchmarks' public data sets into a local folder.

The benchmarks read ``../shared/data`` beside the project when it is there (our
development machines), else the folder named by ``SKLEARN_AE_DATA``, else
``~/.cache/sklearn_ae/data``, which this command fills from the public sources:

- ``mnist.npz``: MNIST through scikit-learn's OpenML fetcher (``mnist_784``),
  stored as ``X`` (70000 x 784 uint8) and ``y``, in a fixed shuffled order
  (seed 0). Our own copy came shuffled by another seed, so figures computed on
  a fetched copy differ from ours by sampling noise, not by method.
- ``adbench/*.npz``: the 29 "Classical" sets of ADBench (Han et al., NeurIPS
  2022) from its public repository, and ``adbench_embeddings/*.npz``: its 18
  ResNet18 and BERT embedding sets, renamed ``<model>_<set>.npz`` as here.

Nothing downloads during the tests or CI; only this command does.

Run: python -m benchmarks fetch [--dest DIR] [--only mnist adbench embeddings]
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import sys
import tempfile
import urllib.request
from pathlib import Path

import numpy as np

ADBENCH_URL = "https://github.com/Minqi824/ADBench/raw/main/adbench/datasets"
CACHE = Path.home() / ".cache" / "sklearn_ae" / "data"

CLASSICAL = [
    "1_ALOI", "2_annthyroid", "6_cardio", "7_Cardiotocography", "8_celeba", "11_donors",
    "15_Hepatitis", "16_http", "17_InternetAds", "18_Ionosphere", "19_landsat",
    "20_letter", "21_Lymphography", "22_magic.gamma", "23_mammography", "26_optdigits",
    "28_pendigits", "29_Pima", "31_satimage-2", "32_shuttle", "33_skin", "38_thyroid",
    "39_vertebral", "40_vowels", "41_Waveform", "42_WBC", "43_WDBC", "44_Wilt", "46_WPBC",
]
MVTEC = ["bottle", "cable", "capsule", "carpet", "grid", "hazelnut", "leather", "metal_nut",
         "pill", "screw", "tile", "toothbrush", "transistor", "wood", "zipper"]
#: local name -> path under ADBench's datasets folder
EMBEDDINGS = {
    **{f"ResNet18_MVTec-AD_{c}": f"CV_by_ResNet18/MVTec-AD_{c}.npz" for c in MVTEC},
    "ResNet18_CIFAR10_0": "CV_by_ResNet18/CIFAR10_0.npz",
    "ResNet18_SVHN_0": "CV_by_ResNet18/SVHN_0.npz",
    "BERT_20news_3": "NLP_by_BERT/20news_3.npz",
}


def data_dir() -> Path:
    """Where the benchmarks read their data (see the module docstring)."""
    shared = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
    if "SKLEARN_AE_DATA" in os.environ:
        return Path(os.environ["SKLEARN_AE_DATA"])
    return shared if shared.exists() else CACHE


def _save_npz(path: Path, **arrays) -> None:
    """Write atomically, so an interrupted fetch leaves no half file behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as tmp:
        np.savez_compressed(tmp, **arrays)
    os.replace(tmp.name, path)


def fetch_mnist(dest: Path) -> None:
    from sklearn.datasets import fetch_openml

    target = dest / "mnist.npz"
    if target.exists():
        return
    X, y = fetch_openml("mnist_784", version=1, return_X_y=True, as_frame=False,
                        parser="liac-arff", data_home=str(dest / "openml"))
    order = np.random.RandomState(0).permutation(len(X))
    _save_npz(target, X=X[order].astype(np.uint8), y=y[order].astype(np.int64))


def _download_npz(url: str, target: Path) -> None:
    if target.exists():
        return
    with urllib.request.urlopen(url, timeout=120) as response:
        payload = response.read()
    with np.load(io.BytesIO(payload), allow_pickle=False) as data:
        if not {"X", "y"} <= set(data.files):
            raise ValueError(f"{url} holds {data.files}, not X and y")
        X, y = data["X"], data["y"]
    _save_npz(target, X=X, y=y.astype(np.int64))


def fetch_adbench(dest: Path, embeddings: bool) -> None:
    if embeddings:
        items = {name: f"{ADBENCH_URL}/{path}" for name, path in EMBEDDINGS.items()}
        folder = dest / "adbench_embeddings"
    else:
        items = {name: f"{ADBENCH_URL}/Classical/{name}.npz" for name in CLASSICAL}
        folder = dest / "adbench"
    for name, url in items.items():
        print(f"  {folder.name}/{name}.npz", flush=True)
        _download_npz(url, folder / f"{name}.npz")


def main(argv=None):
    parser = argparse.ArgumentParser(description="Fetch the benchmark data sets")
    parser.add_argument("--dest", type=Path, default=None,
                        help=f"target folder (default: SKLEARN_AE_DATA or {CACHE})")
    parser.add_argument("--only", nargs="+", choices=("mnist", "adbench", "embeddings"),
                        default=("mnist", "adbench", "embeddings"))
    args = parser.parse_args(argv)
    dest = args.dest or Path(os.environ.get("SKLEARN_AE_DATA", CACHE))
    dest.mkdir(parents=True, exist_ok=True)
    print(f"fetching into {dest}")
    if "mnist" in args.only:
        print("  mnist.npz (OpenML mnist_784)", flush=True)
        fetch_mnist(dest)
    if "adbench" in args.only:
        fetch_adbench(dest, embeddings=False)
    if "embeddings" in args.only:
        fetch_adbench(dest, embeddings=True)
    shutil.rmtree(dest / "openml", ignore_errors=True)
    print(f"done; the benchmarks will read {dest}"
          + ("" if dest == data_dir() else f" once SKLEARN_AE_DATA={dest} is set"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
