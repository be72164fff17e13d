"""Sphinx configuration of the sklearn_ae documentation site.

Build: python -m sphinx -W -b html docs docs/_build/html
(every warning is an error). Set SKLEARN_AE_DOCS_OFFLINE=1 where there is no
network: intersphinx then links nothing outside this site instead of failing.
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sklearn_ae  # noqa: E402

project = "sklearn_ae"
author = "the sklearn_ae developers"
copyright = "2026, the sklearn_ae developers"
release = version = sklearn_ae.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "api_sections.rst", "auto_examples/*.ipynb", "auto_examples/*.py",
                    "auto_examples/*.zip", "auto_examples/*.md5", "auto_examples/*.json",
                    "sg_execution_times.rst"]

# API pages from the numpydoc docstrings: one page per class and function,
# written below at configuration time. A class page shows the public methods
# written in sklearn_ae (scikit-learn's own, such as get_params, are on
# scikit-learn's site).
autosummary_generate = False
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
# numpydoc's own checks run in tests/test_docstrings.py, with the reasons for
# what is not required; the build checks rendering.
numpydoc_validation_checks = set()

myst_heading_anchors = 3

if os.environ.get("SKLEARN_AE_DOCS_OFFLINE"):
    intersphinx_mapping = {}
else:
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable", None),
        "sklearn": ("https://scikit-learn.org/stable", None),
        "torch": ("https://docs.pytorch.org/docs/stable", None),
        "pandas": ("https://pandas.pydata.org/docs", None),
    }
intersphinx_timeout = 10

sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    # demo.py is the README's demo command, a script with arguments.
    "ignore_pattern": r"demo\.py",
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    "within_subsection_order": "FileNameSortKey",
    # An example that fails fails the build.
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
}

import sklearn_ae.corruptions  # noqa: E402
import sklearn_ae.images  # noqa: E402

API_SECTIONS = {
    "Estimators": ["Autoencoder", "OutlierAutoencoder", "DenoisingAutoencoder", "SparseAutoencoder",
                   "VariationalAutoencoder", "ConvolutionalAutoencoder",
                   "ConditionalAutoencoder", "AdversarialAutoencoder", "BaseAutoencoder"],
    "Missing values": ["AutoencoderImputer"],
    "Corruptions (sklearn_ae.corruptions)": [
        f"corruptions.{name}" for name in sklearn_ae.corruptions.__all__],
    "Images (sklearn_ae.images)": [f"images.{name}" for name in sklearn_ae.images.__all__],
    "Saving, loading and serving": ["save", "load", "to_onnx", "register_onnx_converters"],
    "Explaining": ["pipeline_feature_contributions"],
    "Interoperability": ["pyod.PyODDetector"],
    "Utilities": ["utils.all_estimators"],
    "Torch modules and losses (sklearn_ae.nn)": [
        f"nn.{name}" for name in sklearn_ae.nn.__all__ if name != "ACTIVATIONS"],
}


def _public_methods(cls):
    """Public methods of ``cls`` written in sklearn_ae, in definition order."""
    import inspect

    names = []
    for klass in reversed(cls.__mro__):
        if not klass.__module__.startswith("sklearn_ae"):
            continue
        for name, value in vars(klass).items():
            if not name.startswith("_") and callable(value) and name not in names:
                names.append(name)
    return [n for n in names if inspect.isfunction(getattr(cls, n, None))]


def _write_api_pages():
    import importlib
    import inspect

    out = Path(__file__).parent / "generated"
    out.mkdir(exist_ok=True)
    for names in API_SECTIONS.values():
        for name in names:
            module_name, _, attr = f"sklearn_ae.{name}".rpartition(".")
            obj = getattr(importlib.import_module(module_name), attr)
            full = f"{module_name}.{attr}"
            lines = [full, "=" * len(full), "", f".. currentmodule:: {module_name}", ""]
            if inspect.isclass(obj):
                lines.append(f".. autoclass:: {attr}")
                methods = _public_methods(obj)
                if methods:
                    lines.append(f"   :members: {', '.join(methods)}")
            else:
                lines.append(f".. autofunction:: {attr}")
            page = out / f"{full}.rst"
            text = "\n".join(lines) + "\n"
            if not page.exists() or page.read_text() != text:
                page.write_text(text)
    _write_summaries(out)


def _summary(name):
    """The first line of a public object's docstring."""
    import importlib
    import inspect

    module_name, _, attr = f"sklearn_ae.{name}".rpartition(".")
    doc = (inspect.getdoc(getattr(importlib.import_module(module_name), attr)) or "").strip()
    return doc.splitlines()[0] if doc else ""


def _write_summaries(out):
    """One table per API section (name, one-line summary), included by api.rst."""
    for title, names in API_SECTIONS.items():
        rows = [".. list-table::", "   :widths: 35 65", ""]
        for name in names:
            rows += [f"   * - :doc:`sklearn_ae.{name} <generated/sklearn_ae.{name}>`",
                     f"     - {_summary(name)}"]
        slug = title.split(" (")[0].lower().replace(",", "").replace(" ", "_")
        page = out / f"summary_{slug}.rst.inc"
        text = "\n".join(rows) + "\n"
        if not page.exists() or page.read_text() != text:
            page.write_text(text)


import sklearn_ae.nn  # noqa: E402

_write_api_pages()

html_theme = "pydata_sphinx_theme"
html_title = f"sklearn_ae {version}"
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
}
html_static_path = []
