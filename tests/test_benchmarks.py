"""Every benchmark's --quick mode runs, so the scripts never rot.

They read MNIST from ../shared/data (the benchmarks' data); where that folder
is missing (a user's clone) these tests are skipped and say why.
"""

import importlib

import pytest

# Slow: every benchmark's --quick run (about 2 minutes); `pytest -m "not slow"` leaves it out.
pytestmark = pytest.mark.slow

pytest.importorskip("matplotlib", reason="benchmarks draw their figures with matplotlib")
harness = importlib.import_module("benchmarks._harness")
BENCHMARKS = importlib.import_module("benchmarks.__main__").BENCHMARKS
# Tools beside the measurements: the report rebuilds pages from tables, fetch
# downloads data (tested below without the network).
NOT_MEASUREMENTS = {"report", "fetch"}

needs_data = pytest.mark.skipif(
    not (harness.DATA / "mnist.npz").exists(),
    reason=f"benchmark data not found at {harness.DATA} (set SKLEARN_AE_DATA)",
)


@needs_data
@pytest.mark.parametrize("name", [name for name in BENCHMARKS if name not in NOT_MEASUREMENTS])
def test_quick_mode_runs(name, capsys):
    if name in ("outliers", "outlier_search", "families") and not list((harness.DATA / "adbench").glob("*.npz")):
        pytest.skip(f"no ADBench sets in {harness.DATA / 'adbench'} (the outliers benchmark's data)")
    module = importlib.import_module(f"benchmarks.{name}")
    table = module.main(["--quick"])
    assert len(table) >= 2
    assert (harness.output_dir(quick=True)).exists()
    assert "command: `python -m benchmarks" in capsys.readouterr().out


def test_fetch_reads_npz_files_and_resolves_the_data_folder(tmp_path, monkeypatch):
    """The fetch command's own logic, on a local file:// source (no network)."""
    import numpy as np

    from benchmarks import fetch

    source = tmp_path / "source.npz"
    np.savez(source, X=np.arange(6.0).reshape(3, 2), y=np.array([0, 1, 0], dtype=np.int32))
    target = tmp_path / "out" / "adbench" / "toy.npz"
    fetch._download_npz(source.as_uri(), target)
    with np.load(target) as data:
        assert data["X"].shape == (3, 2) and data["y"].dtype == np.int64
    np.savez(source, A=np.zeros(2))
    with pytest.raises(ValueError, match="not X and y"):
        fetch._download_npz(source.as_uri(), tmp_path / "bad.npz")
    monkeypatch.setenv("SKLEARN_AE_DATA", str(tmp_path / "mine"))
    assert fetch.data_dir() == tmp_path / "mine"
    assert len(fetch.CLASSICAL) == 29 and len(fetch.EMBEDDINGS) == 18


@needs_data
def test_novelty_setting_trains_on_normal_rows_only():
    import numpy as np

    outliers = importlib.import_module("benchmarks.outliers")
    path = sorted((harness.DATA / "adbench").glob("*.npz"))
    if not path:
        pytest.skip(f"no ADBench sets in {harness.DATA / 'adbench'}")
    with np.load(path[0]) as data:
        n_anomalies, n_normal = int(data["y"].sum()), int((data["y"] == 0).sum())
    X_train, X_test, y_test, y_train = outliers.split(path[0], 0, with_train_labels=True,
                                                      setting="novelty")
    assert not y_train.any()
    if n_normal + n_anomalies <= 20000:  # not subsampled: every anomaly is tested
        assert len(X_train) == n_normal // 2 and y_test.sum() == n_anomalies
        assert len(X_train) + len(X_test) == n_normal + n_anomalies


def test_outliers_reports_a_peer_it_cannot_fit_as_skipped_and_counts_sets(tmp_path):
    import numpy as np

    pytest.importorskip("pyod")
    outliers = importlib.import_module("benchmarks.outliers")
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(120, 240)), (rng.rand(120) < 0.1).astype(int)
    y[:3] = 1
    np.savez(tmp_path / "wide.npz", X=X, y=y)
    np.savez(tmp_path / "narrow.npz", X=X[:, :5], y=y)
    raw = outliers.run(sorted(tmp_path.glob("*.npz")), [0], ["PyOD MCD", "IsolationForest"])
    wide_mcd = raw[(raw.dataset == "wide") & (raw.detector == "PyOD MCD")].iloc[0]
    assert np.isnan(wide_mcd.roc_auc) and "240 columns" in wide_mcd.skipped
    summary, _ = outliers.summarise(raw.drop(columns="missing"))
    counts = summary.set_index("detector")["n_sets"]
    assert counts["PyOD MCD"] == 1 and counts["IsolationForest"] == 2
    narrow_mcd = raw[(raw.dataset == "narrow") & (raw.detector == "PyOD MCD")].roc_auc.item()
    assert summary.set_index("detector").loc["PyOD MCD", "mean_roc_auc"] == narrow_mcd


def test_impute_blanks_cells_as_documented():
    import numpy as np

    from benchmarks.impute import blank

    X = np.random.RandomState(0).normal(size=(4000, 5))
    mcar, mnar = blank(X, 0.3, "mcar", 0), blank(X, 0.3, "mnar", 0)
    assert abs(mcar.mean() - 0.3) < 0.01 and abs(mnar.mean() - 0.3) < 0.01
    # MNAR: the larger half of each column goes missing about three times as often.
    high = X > np.median(X, axis=0)
    assert mnar[high].mean() > 2.5 * mnar[~high].mean()
    assert abs(mcar[high].mean() - mcar[~high].mean()) < 0.02
    assert not mnar.all(axis=1).any()


@needs_data
def test_outliers_with_missing_cells_writes_one_table_per_share_and_a_summary():
    if not list((harness.DATA / "adbench").glob("*.npz")):
        pytest.skip(f"no ADBench sets in {harness.DATA / 'adbench'}")
    from benchmarks import outliers

    outliers.main(["--quick", "--detectors", "OutlierAutoencoder", "IsolationForest",
                   "--missing", "0", "0.2"])
    out = harness.output_dir(quick=True)
    summary = (out / "outliers_adbench_missing.csv").read_text()
    assert "20%" in summary and "0%" in summary
    assert (out / "outliers_adbench_missing20.md").exists()
    assert "--missing 0.2" in (out / "outliers_adbench_missing20.md").read_text()


@needs_data
def test_restoration_candidates_run_beside_the_default(capsys):
    """Every --candidate of the restoration benchmark runs, one row per test set, named apart.

    Only the default's path runs in the plain --quick test above; the
    candidates (other models, or the default's model restored differently)
    have code paths of their own.
    """
    restoration = importlib.import_module("benchmarks.restoration")
    # The residual candidate trains on pairs: super-resolution's, not noise.
    names = sorted(set(restoration.CANDIDATES) - {"residual"})
    table = restoration.main(["--quick", "--task", "denoise", "--name", "restoration_candidates",
                              "--candidate", *names])
    counts = table.groupby("method").size()
    wanted = ["sklearn_ae", *(restoration.CANDIDATES[n][0] for n in names)]
    assert set(wanted) <= set(counts.index)
    assert (counts[wanted] == counts["sklearn_ae"]).all()
    with pytest.raises(ValueError, match="trains on pairs"):
        restoration.main(["--quick", "--task", "denoise", "--name", "restoration_candidates",
                          "--candidate", "residual"])
    ours = table[table["method"].isin(wanted)]
    assert ours["psnr"].between(5, 60).all() and (ours["seconds"] > 0).all()
    # The self-ensemble restores with the default's fitted model (no second
    # fit), so its seconds include the same training time plus 8 restorings.
    seconds = ours.groupby("method")["seconds"].sum()
    assert seconds["self_ensemble"] > seconds["sklearn_ae"]
    assert "candidate" in capsys.readouterr().out


def _train_and_test_png(folder, photo):
    """Paths of two grey PNG photos: ``photo`` to train on, and it turned to test on."""
    import numpy as np
    from PIL import Image

    paths = []
    for name, image in (("train", photo), ("test", photo[::-1].T)):
        paths.append(folder / f"{name}.png")
        Image.fromarray(np.uint8(np.clip(image, 0, 1) * 255)).save(paths[-1])
    return paths


def test_restoration_compresses_photos_with_the_dct_and_the_checked_restorer(tmp_path):
    """The photo path of --task compress: PatchDCT, with and without the restorer, PCA, JPEG."""
    import numpy as np

    restoration = importlib.import_module("benchmarks.restoration")
    yy, xx = np.mgrid[0:72, 0:80] / 72
    paths = _train_and_test_png(tmp_path, 0.5 + 0.3 * np.sin(7 * xx + 4 * yy) + 0.15 * (xx > 0.5))
    table = restoration.main(["--quick", "--task", "compress", "--name", "restoration_photo_codes",
                              "--train", str(paths[0]), "--test", str(paths[1])])
    counts = table.groupby("method").size()
    steps = len(restoration.PHOTO_STEPS[::3])
    assert counts[["sklearn_ae", "dct", "pca"]].tolist() == [steps] * 3
    coded = table[table.method != "jpeg"].assign(i=lambda t: t.groupby("method").cumcount())
    psnr = coded.pivot(index="i", columns="method", values="psnr")
    bpp = coded.pivot(index="i", columns="method", values="bpp")
    # The same bytes as the DCT's: the restorer changes the decoding, never the rate,
    # and the check at compression keeps it only where it is closer to the photo
    # (within the photo's range there, within [0, 1] in the score: a hair apart).
    assert (bpp["sklearn_ae"] == bpp["dct"]).all()
    assert (psnr["sklearn_ae"] >= psnr["dct"] - 0.05).all()
    assert (bpp["dct"].diff().dropna() > 0).all()


def test_restoration_super_resolves_photos_with_the_residual_model(tmp_path):
    """On photos the default super-resolver is the residual candidate's model; digits keep the direct one."""
    import numpy as np

    restoration = importlib.import_module("benchmarks.restoration")
    yy, xx = np.mgrid[0:64, 0:72] / 64
    photo = 0.5 + 0.3 * np.sin(19 * xx + 11 * yy) + 0.15 * (xx > 0.5)
    paths = _train_and_test_png(tmp_path, photo)
    table = restoration.main(["--quick", "--task", "superres", "--name", "restoration_residual",
                              "--candidate", "residual", "direct",
                              "--train", str(paths[0]), "--test", str(paths[1])])
    psnr = table.set_index("method")["psnr"]
    # The same seed and pairs: the default is the residual model, bit for bit.
    assert psnr["sklearn_ae"] == psnr["residual"]
    assert psnr["direct"] != psnr["sklearn_ae"]
    # Three epochs (--quick) are too few for the residual's scale to settle:
    # that row's value is not a measurement, only its being finite.
    assert np.isfinite(psnr["sklearn_ae"]) and 10 < psnr["direct"] < 60
    assert restoration._residual(restoration.DEFAULT, "superres", [("t", "photo", [photo])])
    assert not restoration._residual(restoration.DEFAULT, "superres",
                                     [("digits", "collection", [photo])])
    assert not restoration._residual(restoration.DEFAULT, "deblur", [("t", "photo", [photo])])
