"""Every public docstring is well-formed numpydoc (numpydoc's own validator).

Checked: summaries, sections and their order, every parameter documented and
no parameter documented that the signature lacks, return sections, and the
formatting rules around them. Not required (listed with the codes):
See Also (SA01), Examples (EX01) and an extended summary (ES01) on every
method, a description under each return type (RT02, RT03) and under
parameters whose name and type say it all (PR07, e.g. ``X : array-like``).
"""

import inspect

import pytest

numpydoc_validate = pytest.importorskip("numpydoc.validate", reason="numpydoc is not installed")

import sklearn_ae  # noqa: E402
import sklearn_ae.corruptions  # noqa: E402
import sklearn_ae.images  # noqa: E402
import sklearn_ae.nn  # noqa: E402
import sklearn_ae.utils  # noqa: E402

NOT_REQUIRED = {"SA01", "EX01", "ES01", "RT02", "RT03", "PR07"}


def public_objects():
    names = []
    for module in (sklearn_ae, sklearn_ae.nn, sklearn_ae.corruptions, sklearn_ae.images):
        for name in module.__all__:
            obj = getattr(module, name)
            if not callable(obj):
                continue  # constants such as nn.ACTIVATIONS
            names.append(f"{module.__name__}.{name}")
            if inspect.isclass(obj):
                for member, value in vars(obj).items():
                    if not member.startswith("_") and callable(value):
                        names.append(f"{module.__name__}.{name}.{member}")
                # Public methods written once in the base, shown on each class.
                for member, value in inspect.getmembers(obj, callable):
                    qualname = getattr(value, "__qualname__", "")
                    if (not member.startswith("_")
                            and getattr(value, "__module__", "").startswith("sklearn_ae")
                            and qualname.split(".")[0] in ("BaseAutoencoder", "GenerativeMixin")):
                        names.append(f"{module.__name__}.{name}.{member}")
    names.append("sklearn_ae.utils.all_estimators")
    try:  # defined on first use, where PyOD is installed (the pyod extra)
        import pyod  # noqa: F401

        names += [f"sklearn_ae.pyod.PyODDetector{m}" for m in ("", ".fit", ".decision_function")]
    except ImportError:
        pass
    return sorted(set(names))


@pytest.mark.parametrize("name", public_objects())
def test_numpydoc(name):
    result = numpydoc_validate.validate(name)
    errors = [f"{code}: {message}" for code, message in result["errors"]
              if code not in NOT_REQUIRED]
    assert not errors, f"{name}:\n" + "\n".join(errors)


def test_every_class_docstring_separates_attributes_from_see_also():
    for _, cls in sklearn_ae.utils.all_estimators():
        doc = inspect.getdoc(cls)
        assert "\nSee Also" not in doc or "\n\nSee Also" in doc, cls.__name__
