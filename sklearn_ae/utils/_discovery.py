"""Find the public estimators, so tests and benchmarks cover new ones unasked."""

from __future__ import annotations

import inspect


def all_estimators():
    """List the public estimator classes of sklearn_ae.

    Returns
    -------
    estimators : list of (name, class) tuples
        Every concrete subclass of ``BaseAutoencoder`` exported by
        ``sklearn_ae``, sorted by name.

    Examples
    --------
    >>> from sklearn_ae.utils import all_estimators
    >>> "Autoencoder" in [name for name, _ in all_estimators()]
    True
    """
    import sklearn_ae
    from sklearn_ae._base import BaseAutoencoder

    found = []
    for name in sklearn_ae.__all__:
        obj = getattr(sklearn_ae, name)
        if (
            inspect.isclass(obj)
            and issubclass(obj, BaseAutoencoder)
            and not inspect.isabstract(obj)
        ):
            found.append((name, obj))
    return sorted(found)
