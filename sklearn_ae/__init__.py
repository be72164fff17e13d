"""sklearn_ae: autoencoders that behave like scikit-learn estimators."""

from ._base import BaseAutoencoder
from ._vanilla import Autoencoder

__all__ = ["Autoencoder", "BaseAutoencoder"]

__version__ = "0.1.0"
