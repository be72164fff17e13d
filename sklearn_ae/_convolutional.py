"""ConvolutionalAutoencoder: convolutions over images given as flat rows."""

from __future__ import annotations

import math
from numbers import Integral

import torch
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import BaseAutoencoder, _layer_sizes, fill_doc
from ._data import input_names
from ._indicator import INDICATOR_CONSTRAINTS, MISSING_INDICATOR_DOC, MISSING_INDICATOR_PARAM_DOC
from ._restoration import CORRUPTION_CLASSES, CORRUPTION_DOC, RestorationMixin
from .nn import ConvAutoencoder, ConvMapAutoencoder


@fill_doc(extra={"corruption": CORRUPTION_DOC, "missing_indicator": MISSING_INDICATOR_DOC,
                 "missing_indicator_param": MISSING_INDICATOR_PARAM_DOC.replace(
                     'default="auto"', "default=False")})
class ConvolutionalAutoencoder(RestorationMixin, BaseAutoencoder):
    """Convolutional autoencoder for images, taking the flat rows pipelines pass.

    Rows are ``n_samples x channels*height*width`` in numpy's row-major order
    (``images.reshape(n, -1)``); the estimator reshapes them to
    ``image_shape`` inside, and :meth:`inverse_transform` returns flat rows.
    Each encoder block is a stride-2 convolution that halves the height and
    width; a linear layer maps the last feature maps to the code, and the
    decoder mirrors the encoder with transposed convolutions. With
    ``code="map"`` the code is a stack of feature maps instead (no dense
    layer; each block adds a stride-1 convolution): the architecture for
    restoring images rather than compressing them to a few numbers.

    Pixels usually share one scale, so ``standardize`` defaults to False here.

    Parameters
    ----------
{common_parameters}
    image_shape : tuple of int (channels, height, width) or None, default=None
        Shape of one image. None: a single-channel square image when the
        number of features is a perfect square, else a single row of pixels
        ``(1, 1, n_features)``. The shape used is in ``image_shape_``.
    channels : tuple of int, default=(32, 64)
        Feature maps of the successive convolution blocks.
    kernel_size : int, default=3
        Odd side of the square convolution kernels.
    code : {"vector", "map"}, default="vector"
        "vector": the code is ``n_components`` numbers, from a linear layer
        over the last feature maps (a code of the whole image: compression,
        features for a downstream model). "map": the code is
        ``n_components`` feature maps (default ``channels[-1]``) at the
        size the blocks leave, each block being a stride-2 and a stride-1
        convolution, and a 1x1 convolution making the code: every part of
        the image is coded by the same filters (denoising, deblurring,
        inpainting, super-resolution). ``transform`` returns the maps
        flattened, ``n_components_`` values (see ``code_shape_``);
        ``hidden_layer_sizes`` must then be empty.
{corruption}
{missing_indicator_param}
        The mask reaches the network as a convolution added to the first
        feature maps (not with ``code="vector"`` and ``channels=()``, which
        has none). Off by
        default here: inpainting camera (half A, 50% of pixels missing,
        ``code="map"`` on 24x24 patches), the network told gave 31.09 dB
        against 31.31 untold (``restoration_conv_map_told_photos_A``).

    Attributes
    ----------
    module_ : ConvAutoencoder
        The trained torch module.
    image_shape_ : tuple of int
        ``(channels, height, width)`` used.
    code_shape_ : tuple of int or None
        ``(maps, height, width)`` of a code with ``code="map"``
        (``n_components_`` is their product); None with ``code="vector"``.
{common_attributes}
{missing_indicator}

    See Also
    --------
    Autoencoder : Fully connected layers, for tabular data.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_ae import ConvolutionalAutoencoder
    >>> X, _ = load_digits(return_X_y=True)          # 8x8 images as 64 columns
    >>> cae = ConvolutionalAutoencoder(n_components=8, image_shape=(1, 8, 8),
    ...                                max_iter=3, random_state=0).fit(X / 16)
    >>> cae.transform(X / 16).shape, cae.image_shape_
    ((1797, 8), (1, 8, 8))
    """

    _parameter_constraints = {
        **BaseAutoencoder._parameter_constraints,
        "image_shape": [None, "array-like"],
        "channels": ["array-like"],
        "kernel_size": [Interval(Integral, 1, None, closed="left")],
        "code": [StrOptions({"vector", "map"})],
        **RestorationMixin._restoration_parameter_constraints,
        **INDICATOR_CONSTRAINTS,
    }
    _transient_attributes = (*BaseAutoencoder._transient_attributes,
                             *RestorationMixin._restoration_transients)
    _nested_estimators = CORRUPTION_CLASSES

    def __init__(
        self,
        n_components=None,
        *,
        hidden_layer_sizes=(),
        activation="relu",
        alpha=1e-4,
        batch_size="auto",
        max_iter="auto",
        learning_rate_init=3e-3,
        learning_rate="cosine",
        precision="auto",
        tol=1e-4,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=10,
        standardize=False,
        contamination=0.1,
        device="auto",
        random_state=None,
        verbose=0,
        warm_start=False,
        image_shape=None,
        channels=(32, 64),
        kernel_size=3,
        code="vector",
        corruption=None,
        missing_indicator=False,
    ):
        super().__init__(
            n_components=n_components,
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            alpha=alpha,
            batch_size=batch_size,
            max_iter=max_iter,
            learning_rate_init=learning_rate_init,
            learning_rate=learning_rate,
            precision=precision,
            tol=tol,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            standardize=standardize,
            contamination=contamination,
            device=device,
            random_state=random_state,
            verbose=verbose,
            warm_start=warm_start,
        )
        self.image_shape = image_shape
        self.channels = channels
        self.kernel_size = kernel_size
        self.code = code
        self.corruption = corruption
        self.missing_indicator = missing_indicator

    def _resolve_image_shape(self, n_features):
        if self.image_shape is None:
            side = math.isqrt(n_features)
            return (1, side, side) if side * side == n_features else (1, 1, n_features)
        shape = tuple(self.image_shape)
        if len(shape) != 3 or not all(isinstance(v, Integral) and v > 0 for v in shape):
            raise ValueError(
                "image_shape must be (channels, height, width) with positive "
                f"integers, got {self.image_shape!r}."
            )
        if math.prod(shape) != n_features:
            raise ValueError(
                f"X has {n_features} features per row, but image_shape={shape} "
                f"needs {math.prod(shape)} (channels * height * width)."
            )
        return tuple(int(v) for v in shape)

    _network_params = (
        *BaseAutoencoder._network_params, "image_shape", "channels", "kernel_size", "code")

    def _check_params(self):
        super()._check_params()
        if self.kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd, got {self.kernel_size}.")
        if len(self.channels):
            _layer_sizes("channels", self.channels)
        if self.code == "map" and len(self.hidden_layer_sizes):
            raise ValueError(
                "code='map' has no dense layers: hidden_layer_sizes must be empty, got "
                f"{self.hidden_layer_sizes!r}.")

    def _build_module(self, n_features):
        if getattr(self, "categories_", None) is not None:
            raise ValueError(
                "ConvolutionalAutoencoder reads each row as an image, and X has categorical "
                f"columns {_categorical_names(self)}: use Autoencoder for tables, or pass "
                "pixels only.")
        self.image_shape_ = self._resolve_image_shape(n_features)
        self.code_shape_ = None
        channels = tuple(int(c) for c in self.channels)
        told = self._tells_missing(n_features)
        if self.code == "map":
            maps = self.n_components if self.n_components is not None else (
                channels[-1] if channels else self.image_shape_[0])
            module = ConvMapAutoencoder(self.image_shape_, maps, channels=channels,
                                        kernel_size=self.kernel_size, activation=self.activation,
                                        missing_indicator=told)
            # The code's width is that of the maps transform returns.
            self.code_shape_ = module.code_shape
            self.n_components_ = math.prod(module.code_shape)
            return self._told_as_built(module)
        return self._told_as_built(ConvAutoencoder(
            self.image_shape_,
            self.n_components_,
            channels=tuple(int(c) for c in self.channels),
            kernel_size=self.kernel_size,
            hidden_layer_sizes=self.hidden_layer_sizes_,
            activation=self.activation,
            missing_indicator=told,
        ))

    def _told_as_built(self, module):
        # A module whose encoder starts with no convolution (code="vector"
        # with channels=()) has nothing to add the mask's map to: it records
        # what it built.
        if getattr(self, "missing_indicator_", False) and module.missing_layer is None:
            self.missing_indicator_ = False
        return module

    def _image_shape(self):
        return self.image_shape_

    def _training_threads(self, module, device):
        # A convolution does far more work per weight than a dense layer
        # (each kernel slides over the whole image): never "small".
        return torch.get_num_threads()

    def _widest_layer(self, n_features, module):
        # The first feature maps are the widest layer: channels[0] x H/2 x W/2.
        _, height, width = self.image_shape_
        channels = module.channels  # the network's own, not the parameter
        first = channels[0] * ((height + 1) // 2) * ((width + 1) // 2) if channels else 0
        return max(n_features, first, self.n_components_, 1)


def _categorical_names(estimator):
    names = input_names(estimator, estimator.n_features_in_)
    return [n for n, c in zip(names, estimator.categories_) if c is not None][:10]
