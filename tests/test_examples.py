"""The README's demo must keep running."""

import importlib.util
from pathlib import Path

import pytest

# Slow: runs the demo, the README and every guide snippet; `pytest -m "not slow"` leaves it out.
pytestmark = pytest.mark.slow

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


# What the guides import from the optional extras (pyproject's dask, persist,
# onnx, skorch and pyod extras).
OPTIONAL_EXTRAS = {"dask", "distributed", "dask_ml", "safetensors", "onnx", "onnxruntime",
                   "skorch", "onnxscript", "pyod", "pythresh", "skl2onnx", "skimage", "PIL",
                   "bm3d"}

GUIDES = [DEMO.parent.parent / "docs" / name for name in ("user_guide.md", "index.md",
                                                                 "scaling.md")]


def test_every_snippet_of_the_guides_runs(tmp_path, monkeypatch):
    """The guides' Python blocks run in order, in one namespace, on the digits.

    The one thing they share without defining it is ``X``: the guide says
    "X" for the user's data, here scikit-learn's digits.
    """
    import re
    import warnings

    from sklearn.datasets import load_digits

    monkeypatch.chdir(tmp_path)  # snippets that save files write here
    stopped = []  # guides cut short by an optional extra that is not installed
    for guide in GUIDES:
        namespace = {"X": load_digits().data}
        blocks = re.findall(r"```python\n(.*?)```", guide.read_text(), re.S)
        assert blocks, guide
        for number, block in enumerate(blocks, 1):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", category=UserWarning)
                try:
                    exec(compile(block, f"{guide.name} block {number}", "exec"), namespace)
                except ModuleNotFoundError as exc:
                    if exc.name.split(".")[0] not in OPTIONAL_EXTRAS:
                        raise AssertionError(f"{guide.name} block {number} fails: {exc!r}") from exc
                    # Later blocks may build on this one: the rest of this guide waits.
                    stopped.append(f"{guide.name} block {number} ({exc.name})")
                    break
                except Exception as exc:  # name the block in the failure
                    raise AssertionError(f"{guide.name} block {number} fails: {exc!r}") from exc
    if stopped:
        pytest.skip("optional extras not installed; guides stopped at " + ", ".join(stopped))
