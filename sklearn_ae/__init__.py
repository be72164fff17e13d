"""sklearn_ae: autoencoders that behave like scikit-learn estimators."""

from ._adversarial import AdversarialAutoencoder
from ._base import BaseAutoencoder
from ._conditional import ConditionalAutoencoder
from ._convolutional import ConvolutionalAutoencoder
from ._denoising import DenoisingAutoencoder
from ._detector import OutlierAutoencoder
from ._explain import pipeline_feature_contributions
from ._imputer import AutoencoderImputer
from ._export import to_onnx
from ._skl2onnx import register_onnx_converters
from ._persistence import load, save
from ._sparse import SparseAutoencoder
from ._vanilla import Autoencoder
from ._variational import VariationalAutoencoder

__all__ = [
    "AdversarialAutoencoder",
    "Autoencoder",
    "AutoencoderImputer",
    "BaseAutoencoder",
    "ConditionalAutoencoder",
    "ConvolutionalAutoencoder",
    "DenoisingAutoencoder",
    "OutlierAutoencoder",
    "SparseAutoencoder",
    "VariationalAutoencoder",
    "load",
    "pipeline_feature_contributions",
    "register_onnx_converters",
    "save",
    "to_onnx",
]

__version__ = "0.1.0"
