"""sklearn_ae: autoencoders that behave like scikit-learn estimators."""

from ._base import BaseAutoencoder
from ._denoising import DenoisingAutoencoder
from ._sparse import SparseAutoencoder
from ._vanilla import Autoencoder
from ._variational import VariationalAutoencoder

__all__ = [
    "Autoencoder",
    "BaseAutoencoder",
    "DenoisingAutoencoder",
    "SparseAutoencoder",
    "VariationalAutoencoder",
]

__version__ = "0.1.0"
