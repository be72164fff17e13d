"""Telling a network which entries are missing: the ``missing_indicator`` parameter.

:class:`MissingIndicatorMixin` decides, in a fit, whether the network is
built with a ``missing_layer`` (a linear map of the 0/1 missing mask added
to its encoder's first layer; see :class:`~sklearn_ae.nn.MLPAutoencoder`),
and records it as ``missing_indicator_``. Every estimator whose network
reads tables with gaps has it; :class:`~sklearn_ae._restoration.RestorationMixin`
adds the entries a corruption hides (``Masking``) to the data's own gaps.
"""

from __future__ import annotations

from sklearn.utils._param_validation import StrOptions

__all__ = ["INDICATOR_CONSTRAINTS", "MISSING_INDICATOR_DOC", "MISSING_INDICATOR_PARAM_DOC",
           "MISSING_INDICATOR_GAPS_DOC", "MissingIndicatorMixin"]

# Widest rows for which missing_indicator="auto" tells the network of the
# data's own gaps. Measured with 10% of cells missing (MCAR), seed 0: on the
# ADBench tables (3 to 64 columns but one) the mask raised the detector's and
# the imputer's results on both halves; on the embedding sets (512 to 768
# columns) it lowered the detector's ROC-AUC on both halves and the imputer's
# mean RMSE rose; on MNIST pixels (784) the imputer was mixed. Nothing we
# have lies between 64 and 512 columns; 256 sits between them.
_INDICATOR_MAX_FEATURES = 256

# The parameter, its constraint and its fitted attribute, in every estimator
# whose network can be told of gaps.
INDICATOR_CONSTRAINTS = {"missing_indicator": ["boolean", StrOptions({"auto"})]}

_WHY = f"""On narrow tables the
        mask pays; on wide rows of correlated features (embeddings, pixels)
        a gap is told by its neighbours and the extra weights cost more than
        they give (measured: docs, Benchmarks)."""

# For the estimators with a ``corruption`` parameter.
MISSING_INDICATOR_PARAM_DOC = f"""    missing_indicator : bool or "auto", default="auto"
        Tell the network which entries are missing: a linear map of the 0/1
        missing mask is added to its first layer, so a gap is not read as a
        value at the feature's mean. "auto": when the corruption hides
        entries (``Masking``: inpainting), or when the fit's rows have gaps
        and at most {_INDICATOR_MAX_FEATURES} features. {_WHY} True: whenever the fit's rows
        have gaps or the corruption hides entries. False: never."""

# For the sparse, variational and adversarial estimators: only the data's own
# gaps, and off by default. Measured with 10% of the cells missing (the 29
# ADBench tables, seeds 0 and 1, the mask against none, mean ROC-AUC / AP of
# the outlier scores, half A then B): VAE -0.001 / +0.011 and -0.000 / +0.006,
# AAE -0.004 / +0.008 and -0.006 / +0.012, SparseAutoencoder -0.014 / -0.021
# and +0.002 / -0.000. No half's ROC-AUC rose by more than 0.002, where
# OutlierAutoencoder's rose on both (docs, Benchmarks).
MISSING_INDICATOR_GAPS_DOC = f"""    missing_indicator : bool or "auto", default=False
        Tell the network which entries are missing: a linear map of the 0/1
        missing mask is added to its encoder's first layer, so a gap is not
        read as a value at the feature's mean. "auto": when the fit's rows
        have gaps and at most {_INDICATOR_MAX_FEATURES} features. True: whenever the fit's
        rows have gaps. False (default here): never. Told of gaps, this
        network's outlier scores on tables with 10% of cells missing were
        no better by ROC-AUC on either half of the ADBench tables (average
        precision rose for the VAE and the AAE, fell for the sparse one;
        docs, Benchmarks), so it is off unless asked for."""

MISSING_INDICATOR_DOC = """    missing_indicator_ : bool
        Whether the network is told which entries are missing (a linear map
        of the missing mask added to its first layer), as
        ``missing_indicator`` decided for the fit's rows."""


class MissingIndicatorMixin:
    """The decision behind ``missing_indicator_`` (the class must store ``missing_indicator``)."""

    def _hides_entries(self):
        """Whether training hides entries of complete rows (a corruption's ``Masking``)."""
        return False

    def _tells_missing(self, n_features):
        """Whether a network built now is told which entries are missing: ``missing_indicator_``.

        Decided in a fit, from ``missing_indicator`` (see the parameter). A
        network that must fill entries in does better knowing which ones
        than reading them as values at the feature's mean: inpainting half
        the pixels, 1.7 dB more PSNR on MNIST digits and 1.3 dB on camera
        (half A), 0.6 to 2.7 dB on each photo of half B; the imputer's RMSE
        and the outlier scores of tables with gaps improve on both halves
        too (``python -m benchmarks restoration``, ``impute``, ``outliers
        --missing``). A model being rebuilt (``load``) keeps what its fit
        decided; a ``partial_fit`` decides on its first batch.
        """
        if "_missing_share" in vars(self):  # set by the fit's row check
            hides = self._hides_entries()
            gaps = bool(self._missing_share)
            wanted = self.missing_indicator
            if wanted == "auto":
                wanted = hides or (gaps and n_features <= _INDICATOR_MAX_FEATURES)
            self.missing_indicator_ = bool(wanted) and (hides or gaps)
        return getattr(self, "missing_indicator_", False)
