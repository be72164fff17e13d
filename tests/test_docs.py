"""The documentation site builds with no warning, and what it links to exists.

Runs the README's docs command (offline: intersphinx off) into a temporary
folder, then reads the HTML: every internal link and image resolves, and
every public class and function has its API page.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

# Slow: builds the documentation site; `pytest -m "not slow"` leaves it out.
pytestmark = pytest.mark.slow

pytest.importorskip("sphinx", reason="the docs extra is not installed")
pytest.importorskip("sphinx_gallery", reason="the docs extra is not installed")

import sklearn_ae  # noqa: E402
import sklearn_ae.nn  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("html")
    doctrees = tmp_path_factory.mktemp("doctrees")
    env = {**os.environ, "SKLEARN_AE_DOCS_OFFLINE": "1", "MPLBACKEND": "Agg"}
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         "-d", str(doctrees), "docs", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stderr[-5000:]
    return out


def test_every_internal_link_and_image_resolves(site):
    broken = []
    for page in site.rglob("*.html"):
        if page.parts[len(site.parts)] == "_static":
            continue  # the theme's own Jinja templates, not pages
        html = page.read_text(errors="replace")
        for target in re.findall(r'(?:href|src)="([^"]+)"', html):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith(("#", "//")):
                continue  # external, mailto, data: or same-page anchor
            path = target.split("#")[0].split("?")[0]
            if path and not (page.parent / path).resolve().exists():
                broken.append(f"{page.relative_to(site)} -> {target}")
    assert not broken, "\n".join(sorted(set(broken))[:50])


def test_every_public_class_and_function_has_a_page(site):
    generated = site / "generated"
    names = [f"sklearn_ae.{n}" for n in sklearn_ae.__all__]
    names += [f"sklearn_ae.nn.{n}" for n in sklearn_ae.nn.__all__ if n != "ACTIVATIONS"]
    missing = [n for n in names if not (generated / f"{n}.html").exists()]
    assert not missing
    page = (generated / "sklearn_ae.Autoencoder.html").read_text()
    for method in ("fit", "transform", "inverse_transform", "score_samples",
                   "decision_function", "predict", "score", "feature_contributions"):
        assert f"sklearn_ae.Autoencoder.{method}" in page, method


def test_gallery_examples_ran_with_their_figures(site):
    gallery = site / "auto_examples"
    examples = sorted(p.stem for p in (ROOT / "examples").glob("plot_*.py"))
    assert len(examples) >= 8
    for name in examples:
        html = (gallery / f"{name}.html").read_text()
        assert f"sphx_glr_{name}_001.png" in html, name


def test_html_repr_links_to_the_api_page(site):
    from sklearn.utils import estimator_html_repr

    from sklearn_ae.utils import all_estimators

    for name, cls in all_estimators():
        page = f"generated/sklearn_ae.{name}.html"
        assert f'href="https://sklearn-ae.readthedocs.io/en/latest/{page}"' in (
            estimator_html_repr(cls()))
        assert (site / page).exists()
    assert "generated/sklearn_ae.Autoencoder.html" in estimator_html_repr(
        sklearn_ae.Autoencoder())
