"""The README's demo must keep running."""

import importlib.util
from pathlib import Path

DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo.py"


def test_demo_quick(capsys):
    spec = importlib.util.spec_from_file_location("demo", DEMO)
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    table = demo.main(["--quick"])
    assert set(table["method"]) == {"PCA", "Autoencoder"}
    assert (table["test_mse"] > 0).all()
    # Even after 5 epochs the codes carry the digit's identity.
    assert (table["probe_accuracy"] > 0.5).all()
    assert "probe_accuracy" in capsys.readouterr().out
