"""JPEG's transform as a scikit-learn transformer: the coder of photos for compression."""

from __future__ import annotations

import math

import numpy as np
from scipy.fft import dctn, idctn
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.validation import FLOAT_DTYPES, check_array, check_is_fitted, validate_data


class PatchDCT(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """The orthonormal DCT-II of image patches (JPEG's transform), as a transformer.

    Each row is a patch; ``transform`` gives its 2-D discrete cosine
    transform (scipy's, ``norm="ortho"``), ``inverse_transform`` the patch
    back. The code is complete and its components are orthonormal and
    ordered by frequency, which is what transform coding
    (:func:`~sklearn_ae.images.compress_image` with ``step``) needs: most
    components of most patches of a photo round to zero. Measured as the
    coder of photos for compression against PCA of the training photos'
    patches (the ``restoration_compress_transform_*`` results, docs,
    Benchmarks): level at coarse steps and up to 4 dB ahead at fine ones,
    where PCA's weak components, estimated from few photos, spread a new
    photo's detail over many.

    Nothing is learnt: ``fit`` only records the input's width.

    Parameters
    ----------
    image_shape : tuple of int or None, default=None
        ``(height, width)`` or ``(channels, height, width)`` of a row (a
        channel's plane is transformed alone). None: a square grey patch
        where the width is a perfect square, else each row's 1-D DCT.

    Attributes
    ----------
    image_shape_ : tuple of int
        ``(channels, height, width)`` of a row, ``(1, 1, n_features)`` for
        1-D rows.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only where ``X`` had column names.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ae.images import PatchDCT
    >>> patches = np.random.RandomState(0).rand(5, 64)
    >>> dct = PatchDCT().fit(patches)
    >>> dct.image_shape_
    (1, 8, 8)
    >>> np.allclose(dct.inverse_transform(dct.transform(patches)), patches)
    True
    """

    _parameter_constraints = {"image_shape": [None, tuple, list]}

    def __init__(self, image_shape=None):
        self.image_shape = image_shape

    def fit(self, X, y=None):
        """Record the width of ``X``'s rows and their shape as patches.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : None
            Ignored.

        Returns
        -------
        self : PatchDCT
        """
        self._validate_params()
        X = validate_data(self, X, dtype=FLOAT_DTYPES)
        self.image_shape_ = _shape(self.image_shape, X.shape[1])
        return self

    def transform(self, X):
        """The DCT coefficients of each row, lowest frequency first along each axis.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_features)
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=FLOAT_DTYPES, reset=False)
        return dctn(X.reshape(-1, *self.image_shape_), axes=(-2, -1),
                    norm="ortho").reshape(X.shape)

    def inverse_transform(self, X):
        """The rows whose coefficients are ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_features)
        """
        check_is_fitted(self)
        X = check_array(X, dtype=FLOAT_DTYPES)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, but PatchDCT is expecting "
                             f"{self.n_features_in_} coefficients as input")
        return idctn(X.reshape(-1, *self.image_shape_), axes=(-2, -1),
                     norm="ortho").reshape(X.shape)

    @property
    def _n_features_out(self):
        return self.n_features_in_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def _shape(image_shape, n_features):
    if image_shape is not None:
        shape = tuple(int(v) for v in image_shape)
        shape = (1, *shape) if len(shape) == 2 else shape
        if len(shape) != 3 or math.prod(shape) != n_features:
            raise ValueError(f"image_shape={image_shape!r} does not hold rows of "
                             f"{n_features} values")
        return shape
    side = math.isqrt(n_features)
    return (1, side, side) if side * side == n_features else (1, 1, n_features)
