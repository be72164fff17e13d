"""Every benchmark's --quick mode runs, so the scripts never rot.

They read MNIST from ../shared/data (the benchmarks' data); where that folder
is missing (a user's clone) these tests are skipped and say why.
"""

import importlib

import pytest

pytest.importorskip("matplotlib", reason="benchmarks draw their figures with matplotlib")
harness = importlib.import_module("benchmarks._harness")

needs_data = pytest.mark.skipif(
    not (harness.DATA / "mnist.npz").exists(),
    reason=f"benchmark data not found at {harness.DATA} (set SKLEARN_AE_DATA)",
)


@needs_data
@pytest.mark.parametrize("name", ["speed", "scaling", "dimred", "oneclass", "denoising", "vae", "images", "outliers", "families", "fit_cost"])
def test_quick_mode_runs(name, capsys):
    module = importlib.import_module(f"benchmarks.{name}")
    table = module.main(["--quick"])
    assert len(table) >= 2
    assert (harness.output_dir(quick=True)).exists()
    assert "command: `python -m benchmarks" in capsys.readouterr().out
