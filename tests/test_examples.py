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


README = DEMO.parent.parent / "README.md"


def test_readme_first_example_runs_without_warnings():
    import re
    import warnings

    block = re.search(r"```python\n(.*?)```", README.read_text(), re.S).group(1)
    with warnings.catch_warnings():
        # What a new user sees: any warning from the example is a failure.
        warnings.simplefilter("error")
        namespace = {}
        exec(compile(block, str(README), "exec"), namespace)
    Z, X_hat, ae = namespace["Z"], namespace["X_hat"], namespace["ae"]
    assert Z.shape == (1797, 32)
    assert X_hat.shape == (1797, 64)
    assert ae.n_iter_ <= ae.max_iter_
