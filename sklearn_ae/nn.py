"""PyTorch modules and losses behind the estimators.

Nothing here knows about scikit-learn: the modules take plain ints and tuples,
expose ``encode``, ``decode`` and ``forward``, and can be trained by any torch
loop, including a skorch ``NeuralNet``::

    from skorch import NeuralNetRegressor
    net = NeuralNetRegressor(MLPAutoencoder, module__n_features=784,
                             module__n_components=32)
    net.fit(X, X)
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = [
    "ACTIVATIONS",
    "ConvAutoencoder",
    "ConvMapAutoencoder",
    "AdversarialModule",
    "Discriminator",
    "MLPAutoencoder",
    "MLPEnsemble",
    "VariationalModule",
    "bernoulli_nll",
    "corrupt",
    "gaussian_kl",
    "gaussian_nll",
    "kl_sparsity",
    "make_mlp",
    "mmd",
    "prior_sample",
    "reconstruction_error",
    "reconstruction_loss",
    "reparameterize",
    "soft_clamp",
]

#: Activation names as scikit-learn's ``MLPRegressor`` spells them.
ACTIVATIONS = {
    "identity": nn.Identity,
    "logistic": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
}


def make_mlp(sizes: Sequence[int], activation: str = "relu") -> nn.Sequential:
    """Stack of linear layers with an activation between them.

    The last layer is linear: codes and reconstructions are unbounded, so the
    same network serves standardised tabular data and raw pixels.

    Parameters
    ----------
    sizes : sequence of int
        Widths from input to output; ``len(sizes) - 1`` linear layers.
    activation : {"identity", "logistic", "tanh", "relu"}, default="relu"
        Activation after every layer but the last.

    Returns
    -------
    torch.nn.Sequential
    """
    if len(sizes) < 2:
        raise ValueError(f"make_mlp needs at least two sizes, got {list(sizes)}")
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(int(n_in), int(n_out)))
        if i < len(sizes) - 2:
            layers.append(ACTIVATIONS[activation]())
    return nn.Sequential(*layers)


def _through_encoder(encoder, missing_layer, x, missing):
    """``encoder(x)``, with ``missing_layer(missing)`` added to its first layer's output.

    The mask is added only where both are given: a network built without
    the layer, or rows without gaps (``missing`` None), take the plain
    encoder. ``missing`` has the shape ``missing_layer`` takes.
    """
    if missing is None or missing_layer is None:
        return encoder(x)
    return encoder[1:](encoder[0](x) + missing_layer(missing.to(x.dtype)))


class MLPAutoencoder(nn.Module):
    """Fully connected autoencoder with a mirrored decoder.

    Parameters
    ----------
    n_features : int
        Width of the input and of the reconstruction.
    n_components : int
        Width of the code (the bottleneck).
    hidden_layer_sizes : tuple of int, default=(128, 64)
        Encoder widths between input and code; the decoder uses them reversed.
        An empty tuple gives a linear autoencoder.
    activation : {"identity", "logistic", "tanh", "relu"}, default="relu"
        Activation of the hidden layers.
    code_activation : {"identity", "logistic", "tanh", "relu"}, default="identity"
        Activation of the code layer: "logistic" keeps codes in (0, 1), as a
        KL sparsity penalty needs; "relu" gives exact zeros.
    missing_indicator : bool, default=False
        Tell the encoder which entries are missing: a linear map of the 0/1
        missing mask (``missing_layer``) is added to the first layer's
        output, as if the mask were concatenated to the input. A row without
        gaps (``missing=None``) goes through the plain encoder.
    """

    def __init__(
        self,
        n_features: int,
        n_components: int,
        hidden_layer_sizes: Sequence[int] = (128, 64),
        activation: str = "relu",
        code_activation: str = "identity",
        missing_indicator: bool = False,
    ):
        super().__init__()
        hidden = [int(h) for h in hidden_layer_sizes]
        self.encoder = make_mlp([n_features, *hidden, n_components], activation)
        if code_activation != "identity":
            self.encoder.append(ACTIVATIONS[code_activation]())
        self.decoder = make_mlp([n_components, *hidden[::-1], n_features], activation)
        # Built last, so that the other layers' initial weights do not move.
        self.missing_layer = (nn.Linear(n_features, self.encoder[0].out_features, bias=False)
                              if missing_indicator else None)

    def encode(self, x: torch.Tensor, missing: torch.Tensor | None = None) -> torch.Tensor:
        """Map rows of ``x`` to codes.

        Parameters
        ----------
        x : torch.Tensor of shape (n_samples, n_features)
            Rows, missing entries filled (with 0, the mean once standardised).
        missing : torch.Tensor of bool, same shape, optional
            True where an entry is missing; read only by a network built
            with ``missing_indicator=True``.

        Returns
        -------
        torch.Tensor of shape (n_samples, n_components)
        """
        return _through_encoder(self.encoder, self.missing_layer, x, missing)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Map codes back to the input space.

        Parameters
        ----------
        z : torch.Tensor of shape (n_samples, n_components)
            Codes.

        Returns
        -------
        torch.Tensor of shape (n_samples, n_features)
        """
        return self.decoder(z)

    def forward(self, x: torch.Tensor, missing: torch.Tensor | None = None) -> torch.Tensor:
        """Reconstruct ``x``.

        Parameters
        ----------
        x : torch.Tensor of shape (n_samples, n_features)
            Rows.
        missing : torch.Tensor of bool, same shape, optional
            True where an entry is missing (see :meth:`encode`).

        Returns
        -------
        torch.Tensor of shape (n_samples, n_features)
        """
        return self.decoder(self.encode(x, missing))


def reconstruction_error(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Mean squared error of each row.

    Parameters
    ----------
    x_hat, x : torch.Tensor of shape (n_samples, n_features)

    Returns
    -------
    torch.Tensor of shape (n_samples,)
    """
    return (x_hat - x).pow(2).mean(dim=1)


def corrupt(
    x: torch.Tensor,
    noise: str,
    level: float,
    low: torch.Tensor | None = None,
    high: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Corrupted copy of ``x`` for denoising training.

    Parameters
    ----------
    x : torch.Tensor of shape (n_samples, n_features)
    noise : {"gaussian", "masking", "salt_pepper"}
        "gaussian" adds noise of standard deviation ``level``; "masking" sets a
        share ``level`` of the entries to zero; "salt_pepper" sets a share
        ``level`` of the entries to ``low`` or ``high`` (half each).
    level : float
        Standard deviation or share of corrupted entries.
    low, high : torch.Tensor of shape (n_features,), optional
        Per-feature pepper and salt values (default 0 and 1).
    generator : torch.Generator, optional
        Source of the noise, on ``x``'s device; torch's global generator
        when None.

    Returns
    -------
    torch.Tensor of the shape of ``x``
    """
    draw = dict(generator=generator, device=x.device, dtype=x.dtype)
    if noise == "gaussian":
        return x + level * torch.randn(x.shape, **draw)
    hit = torch.rand(x.shape, **draw) < level
    if noise == "masking":
        return x.masked_fill(hit, 0.0)
    if noise == "salt_pepper":
        low = torch.zeros_like(x[0]) if low is None else low
        high = torch.ones_like(x[0]) if high is None else high
        salt = torch.rand(x.shape, **draw) < 0.5
        extreme = torch.where(salt, high.expand_as(x), low.expand_as(x))
        return torch.where(hit, extreme, x)
    raise ValueError(f"unknown noise {noise!r}")


def kl_sparsity(codes: torch.Tensor, target: float) -> torch.Tensor:
    """KL divergence of each code unit's mean activation from ``target``, summed.

    Parameters
    ----------
    codes : torch.Tensor of shape (n_samples, n_components)
        Activations in (0, 1), e.g. after a logistic activation.
    target : float
        Desired mean activation of each unit, in (0, 1).

    Returns
    -------
    torch.Tensor
        A scalar.
    """
    rho_hat = codes.mean(dim=0).clamp(1e-6, 1 - 1e-6)
    # The target stays a Python float: a tensor made from it would be a copy
    # from the host at every step, which a captured CUDA graph cannot hold.
    rho = float(target)
    kl = rho * torch.log(rho / rho_hat) + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))
    return kl.sum()


def soft_clamp(x: torch.Tensor, low: float, high: float) -> torch.Tensor:
    """Squash ``x`` smoothly into (low, high), keeping gradients everywhere.

    Used on log-variances so that long fits cannot drive them to infinity.

    Parameters
    ----------
    x : torch.Tensor
        Values to squash.
    low, high : float
        The open interval to squash into.

    Returns
    -------
    torch.Tensor
        Of the shape of ``x``.
    """
    mid, half = (high + low) / 2, (high - low) / 2
    return mid + half * torch.tanh((x - mid) / half)


def reparameterize(
    mu: torch.Tensor,
    log_var: torch.Tensor,
    eps: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Draw ``mu + sigma * eps`` with ``eps`` standard normal (drawn if not given).

    Parameters
    ----------
    mu, log_var : torch.Tensor of shape (n_samples, n_components)
        Mean and log-variance of each row's Gaussian.
    eps : torch.Tensor, optional
        Standard normal draws broadcastable to ``mu``; drawn when None.
    generator : torch.Generator, optional
        Source of ``eps`` when drawn (on ``mu``'s device); torch's global
        generator when None.

    Returns
    -------
    torch.Tensor
        Of the shape of ``mu``.
    """
    if eps is None:
        eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
    return mu + torch.exp(0.5 * log_var) * eps


def gaussian_kl(mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """KL divergence of N(mu, exp(log_var)) from N(0, I), per row, in nats.

    Parameters
    ----------
    mu, log_var : torch.Tensor of shape (n_samples, n_components)
        Mean and log-variance of each row's Gaussian.

    Returns
    -------
    torch.Tensor of shape (n_samples,)
        One divergence per row.
    """
    return 0.5 * (mu.pow(2) + log_var.exp() - 1.0 - log_var).sum(dim=-1)


_LOG_2PI = float(torch.log(torch.tensor(2 * torch.pi)))


def _row_sums(terms, observed):
    """Per-row sums of ``terms``, of the ``observed`` entries only when given."""
    return (terms if observed is None else terms.masked_fill(~observed, 0.0)).sum(dim=-1)


def gaussian_nll(x: torch.Tensor, mean: torch.Tensor, log_var: torch.Tensor,
                 observed: torch.Tensor | None = None) -> torch.Tensor:
    """Negative log-density of ``x`` under N(mean, exp(log_var)), per row, in nats.

    Parameters
    ----------
    x, mean, log_var : torch.Tensor of shape (n_samples, n_features)
        Rows, and the mean and log-variance of their diagonal Gaussians.
    observed : torch.Tensor of bool, same shape, optional
        Entries that count (the observed part of each row); all when None.

    Returns
    -------
    torch.Tensor of shape (n_samples,)
        One negative log-density per row.
    """
    return 0.5 * _row_sums((x - mean).pow(2) * torch.exp(-log_var) + log_var + _LOG_2PI,
                           observed)


def bernoulli_nll(x: torch.Tensor, logits: torch.Tensor, observed=None) -> torch.Tensor:
    """Negative log-likelihood of ``x`` in [0, 1] under Bernoulli(logits), per row.

    Parameters
    ----------
    x : torch.Tensor of shape (n_samples, n_features)
        Values in [0, 1].
    logits : torch.Tensor of shape (n_samples, n_features)
        Logits of the Bernoulli probabilities.
    observed : torch.Tensor of bool, same shape, optional
        Entries that count; all when None.

    Returns
    -------
    torch.Tensor of shape (n_samples,)
        One negative log-likelihood per row, in nats.
    """
    return _row_sums(torch.nn.functional.binary_cross_entropy_with_logits(
        logits, x, reduction="none"), observed)


class VariationalModule(nn.Module):
    """Variational autoencoder: Gaussian encoder, Gaussian or Bernoulli decoder.

    Parameters
    ----------
    n_features : int
        Width of the input.
    n_components : int
        Dimension of the latent space.
    hidden_layer_sizes : tuple of int, default=(128, 64)
        Encoder widths; the decoder uses them reversed.
    activation : str, default="relu"
        Activation of the hidden layers.
    likelihood : {"gaussian", "bernoulli"}, default="gaussian"
        Decoder distribution. "gaussian" learns one variance per feature, so the
        balance of reconstruction and KL terms is fitted, not chosen;
        "bernoulli" is for data in [0, 1] such as pixel intensities.
    n_conditions : int, default=0
        Width of a condition vector appended to the decoder's input (a
        conditional VAE); 0 for none.
    condition_encoder : bool, default=True
        Whether the encoder sees the condition too. Without it, q(z | x) needs
        no condition, so rows can be encoded when the condition is unknown.
    missing_indicator : bool, default=False
        Tell the encoder which entries are missing, as
        :class:`MLPAutoencoder` does (``missing_layer``).
    """

    #: Bounds of the encoder's log-variance (and the Gaussian decoder's):
    #: wide enough never to bind in a healthy fit, finite so no fit ends in NaN.
    LOG_VAR_BOUNDS = (-12.0, 8.0)
    DECODER_LOG_VAR_BOUNDS = (-9.0, 4.0)

    def __init__(
        self,
        n_features: int,
        n_components: int,
        hidden_layer_sizes: Sequence[int] = (128, 64),
        activation: str = "relu",
        likelihood: str = "gaussian",
        n_conditions: int = 0,
        condition_encoder: bool = True,
        missing_indicator: bool = False,
    ):
        super().__init__()
        hidden = [int(h) for h in hidden_layer_sizes]
        self.likelihood = likelihood
        self.n_conditions = int(n_conditions)
        self.condition_encoder = bool(condition_encoder and n_conditions)
        n_in = n_features + (n_conditions if self.condition_encoder else 0)
        self.encoder = make_mlp([n_in, *hidden, 2 * n_components], activation)
        self.decoder = make_mlp([n_components + n_conditions, *hidden[::-1], n_features], activation)
        if likelihood == "gaussian":
            self.decoder_log_var = nn.Parameter(torch.zeros(n_features))
        # Built last, so that the other layers' initial weights do not move.
        self.missing_layer = (nn.Linear(n_features, self.encoder[0].out_features, bias=False)
                              if missing_indicator else None)

    @staticmethod
    def _join(x, c):
        return x if c is None else torch.cat([x, c.to(x.dtype)], dim=-1)

    def encode_distribution(self, x, c=None, missing=None):
        """Return the mean and log-variance of q(z | x, c).

        Parameters
        ----------
        x : torch.Tensor of shape (n_samples, n_features)
            Rows, missing entries filled (with 0, the mean once standardised).
        c : torch.Tensor of shape (n_samples, n_conditions), optional
            Conditions (one-hot labels or numeric rows); None without conditions.
        missing : torch.Tensor of bool, shape (n_samples, n_features), optional
            True where an entry is missing; read only by a network built
            with ``missing_indicator=True``.

        Returns
        -------
        mu, log_var : torch.Tensor of shape (n_samples, n_components)
        """
        if self.condition_encoder:
            x = self._join(x, c)
        out = _through_encoder(self.encoder, self.missing_layer, x, missing)
        mu, raw = out.chunk(2, dim=-1)
        return mu, soft_clamp(raw, *self.LOG_VAR_BOUNDS)

    def encode(self, x, c=None, missing=None):
        """Return the posterior mean of the code.

        Parameters
        ----------
        x : torch.Tensor of shape (n_samples, n_features)
            Rows.
        c : torch.Tensor of shape (n_samples, n_conditions), optional
            Conditions (one-hot labels or numeric rows); None without conditions.
        missing : torch.Tensor of bool, shape (n_samples, n_features), optional
            True where an entry is missing (see :meth:`encode_distribution`).

        Returns
        -------
        torch.Tensor of shape (n_samples, n_components)
        """
        return self.encode_distribution(x, c, missing)[0]

    def decode_params(self, z, c=None):
        """Return the decoder's output: the mean (Gaussian) or the logits (Bernoulli).

        Parameters
        ----------
        z : torch.Tensor of shape (n_samples, n_components)
            Codes.
        c : torch.Tensor of shape (n_samples, n_conditions), optional
            Conditions (one-hot labels or numeric rows); None without conditions.

        Returns
        -------
        torch.Tensor of shape (n_samples, n_features)
        """
        return self.decoder(self._join(z, c))

    def decode(self, z, c=None):
        """Return the expected reconstruction E[x | z, c].

        Parameters
        ----------
        z : torch.Tensor of shape (n_samples, n_components)
            Codes.
        c : torch.Tensor of shape (n_samples, n_conditions), optional
            Conditions (one-hot labels or numeric rows); None without conditions.

        Returns
        -------
        torch.Tensor of shape (n_samples, n_features)
        """
        out = self.decode_params(z, c)
        return torch.sigmoid(out) if self.likelihood == "bernoulli" else out

    def forward(self, x, c=None, missing=None):
        """Reconstruct ``x`` from its posterior mean code.

        Parameters
        ----------
        x : torch.Tensor of shape (n_samples, n_features)
            Rows.
        c : torch.Tensor of shape (n_samples, n_conditions), optional
            Conditions (one-hot labels or numeric rows); None without conditions.
        missing : torch.Tensor of bool, shape (n_samples, n_features), optional
            True where an entry is missing (see :meth:`encode_distribution`).

        Returns
        -------
        torch.Tensor of shape (n_samples, n_features)
        """
        return self.decode(self.encode(x, c, missing), c)

    def nll(self, x, z, c=None, observed=None):
        """Return -log p(x | z, c) per row, in nats (of the ``observed`` entries when given).

        Parameters
        ----------
        x : torch.Tensor of shape (n_samples, n_features)
            Rows.
        z : torch.Tensor of shape (n_samples, n_components)
            Codes.
        c : torch.Tensor of shape (n_samples, n_conditions), optional
            Conditions (one-hot labels or numeric rows); None without conditions.
        observed : torch.Tensor of bool, shape (n_samples, n_features), optional
            Entries that count; all when None.

        Returns
        -------
        torch.Tensor of shape (n_samples,)
        """
        out = self.decode_params(z, c)
        if self.likelihood == "bernoulli":
            return bernoulli_nll(x, out, observed)
        log_var = soft_clamp(self.decoder_log_var, *self.DECODER_LOG_VAR_BOUNDS)
        return gaussian_nll(x, out, log_var.expand_as(out), observed)

    def negative_elbo(self, x, c=None, eps=None, beta=1.0, generator=None, observed=None, seen=None):
        """-ELBO per row: reconstruction NLL plus ``beta`` times the KL term.

        Parameters
        ----------
        x : torch.Tensor of shape (n_samples, n_features)
        c : torch.Tensor of shape (n_samples, n_conditions), optional
        eps : torch.Tensor of shape (n_draws, n_components), optional
            Standard normal draws shared by every row, for an estimate that is
            deterministic and independent of the batch; one fresh draw per row
            when None (training).
        beta : float, default=1.0
        generator : torch.Generator, optional
            Source of the per-row draws when ``eps`` is None (on ``x``'s
            device); torch's global generator when None.
        observed, seen : torch.Tensor of bool, shape (n_samples, n_features), optional
            Entries the likelihood counts, and those the encoder sees (the
            others set to 0, and named to a network with a ``missing_layer``);
            all when None.

        Returns
        -------
        torch.Tensor of shape (n_samples,)
        """
        if seen is None:
            mu, log_var = self.encode_distribution(x, c)
        else:
            mu, log_var = self.encode_distribution(x.masked_fill(~seen, 0.0), c, ~seen)
        kl = gaussian_kl(mu, log_var)
        if eps is None:
            nll = self.nll(x, reparameterize(mu, log_var, generator=generator), c, observed)
        elif torch.compiler.is_exporting():
            nll = self._nll_of_draws_at_once(x, mu, log_var, eps, c, observed)
        else:
            nll = torch.stack(
                [self.nll(x, reparameterize(mu, log_var, e.expand_as(mu)), c, observed)
                 for e in eps]
            ).mean(dim=0)
        return nll + beta * kl

    def _nll_of_draws_at_once(self, x, mu, log_var, eps, c, observed):
        # What the loop over draws computes, as one batch of n_draws x n_samples
        # rows: an exported graph (to_onnx) decodes once instead of once per
        # draw (ConditionalAutoencoder's score: 132 nodes instead of 702,
        # exported in 10 s instead of 36). Eager calls keep the loop: on a CPU
        # it is faster, the batch of draws x rows being memory-bound (medians of
        # 3, AMD EPYC AVX2, default widths: 20,000 x 20 VAE 0.11 s against 0.30,
        # 20,000 x 100 0.87 against 1.88, 3,000 x 784 1.5 against 2.5).
        draws = eps.shape[0]

        def repeated(t):
            return None if t is None else t.unsqueeze(0).expand(draws, *t.shape).flatten(0, 1)

        z = reparameterize(mu.unsqueeze(0), log_var.unsqueeze(0), eps.unsqueeze(1))
        nll = self.nll(repeated(x), z.flatten(0, 1), repeated(c), repeated(observed))
        return nll.unflatten(0, (draws, -1)).mean(dim=0)


class Discriminator(nn.Module):
    """MLP that tells codes drawn from a prior (logit > 0) from encoded rows.

    Parameters
    ----------
    n_components : int
        Width of the codes.
    hidden_layer_sizes : tuple of int, default=(64, 64)
    activation : str, default="relu"
    """

    def __init__(self, n_components: int, hidden_layer_sizes=(64, 64), activation="relu"):
        super().__init__()
        self.net = make_mlp([n_components, *[int(h) for h in hidden_layer_sizes], 1], activation)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Return the logit of "drawn from the prior", one per row.

        Parameters
        ----------
        z : torch.Tensor of shape (n_samples, n_components)
            Codes.

        Returns
        -------
        torch.Tensor of shape (n_samples,)
        """
        return self.net(z).squeeze(-1)


def prior_sample(
    prior: str, n_samples: int, n_components: int, generator=None, device=None, dtype=None
) -> torch.Tensor:
    """Draw from a prior over codes.

    Parameters
    ----------
    prior : {"normal", "uniform", "mixture"}
        "normal": standard normal. "uniform": uniform on [-sqrt(3), sqrt(3)]
        per axis (zero mean, unit variance). "mixture": an equal mixture of
        ``2 * n_components`` Gaussians of standard deviation 0.5 centred at
        +2 and -2 on each axis.
    n_samples, n_components : int
    generator : torch.Generator, optional
        Source of the draws, on its own device; the global RNG when None.
    device, dtype : optional
        Where and in which precision to return the draws.

    Returns
    -------
    torch.Tensor of shape (n_samples, n_components)
    """
    shape = (n_samples, n_components)
    # Drawn where the generator lives (on the target device when there is
    # none), so a training step does not copy its draws from host to GPU.
    where = dict(generator=generator, device=generator.device if generator is not None else device)
    if prior == "normal":
        z = torch.randn(shape, **where)
    elif prior == "uniform":
        z = (torch.rand(shape, **where) * 2 - 1) * 3**0.5
    elif prior == "mixture":
        component = torch.randint(2 * n_components, (n_samples,), **where)
        centres = torch.zeros(shape, device=component.device)
        centres[torch.arange(n_samples, device=component.device), component // 2] = (
            torch.where(component % 2 == 0, 2.0, -2.0)
        )
        z = centres + 0.5 * torch.randn(shape, **where)
    else:
        raise ValueError(f"unknown prior {prior!r}")
    return z.to(device=device, dtype=dtype or torch.get_default_dtype())


class AdversarialModule(nn.Module):
    """An :class:`MLPAutoencoder` and a :class:`Discriminator` on its codes.

    Parameters
    ----------
    n_features, n_components : int
    hidden_layer_sizes : tuple of int, default=(128, 64)
    activation : str, default="relu"
    discriminator_layer_sizes : tuple of int, default=(64, 64)
    missing_indicator : bool, default=False
        Tell the encoder which entries are missing (the autoencoder's
        ``missing_layer``, see :class:`MLPAutoencoder`).
    """

    def __init__(
        self,
        n_features: int,
        n_components: int,
        hidden_layer_sizes=(128, 64),
        activation="relu",
        discriminator_layer_sizes=(64, 64),
        missing_indicator: bool = False,
    ):
        super().__init__()
        self.autoencoder = MLPAutoencoder(n_features, n_components, hidden_layer_sizes, activation)
        self.discriminator = Discriminator(n_components, discriminator_layer_sizes, activation)
        if missing_indicator:
            # Built last, so that the other layers' initial weights do not move.
            self.autoencoder.missing_layer = nn.Linear(
                n_features, self.autoencoder.encoder[0].out_features, bias=False)

    @property
    def missing_layer(self):
        """torch.nn.Linear or None: the autoencoder's map of the missing mask into its first layer."""
        return self.autoencoder.missing_layer

    def encoder_parameters(self):
        """Return the parameters that shape the codes: the encoder's and the mask's map.

        Returns
        -------
        list of torch.nn.Parameter
        """
        extra = [] if self.missing_layer is None else list(self.missing_layer.parameters())
        return [*self.autoencoder.encoder.parameters(), *extra]

    def encode(self, x, missing=None):
        """Map rows to codes.

        Parameters
        ----------
        x : torch.Tensor of shape (n_samples, n_features)
            Rows.
        missing : torch.Tensor of bool, same shape, optional
            True where an entry is missing (see :meth:`MLPAutoencoder.encode`).

        Returns
        -------
        torch.Tensor of shape (n_samples, n_components)
        """
        return self.autoencoder.encode(x, missing)

    def decode(self, z):
        """Map codes to rows.

        Parameters
        ----------
        z : torch.Tensor of shape (n_samples, n_components)
            Codes.

        Returns
        -------
        torch.Tensor of shape (n_samples, n_features)
        """
        return self.autoencoder.decode(z)

    def forward(self, x, missing=None):
        """Reconstruct rows.

        Parameters
        ----------
        x : torch.Tensor of shape (n_samples, n_features)
            Rows.
        missing : torch.Tensor of bool, same shape, optional
            True where an entry is missing (see :meth:`MLPAutoencoder.encode`).

        Returns
        -------
        torch.Tensor of shape (n_samples, n_features)
        """
        return self.autoencoder(x, missing)


def mmd(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Squared maximum mean discrepancy of two samples (RBF kernel, bandwidth² = width).

    Zero when the samples come from one distribution; used to measure how far
    codes are from a prior.

    Parameters
    ----------
    a, b : torch.Tensor of shape (n_samples, n_components)
        The two samples (their row counts may differ).

    Returns
    -------
    torch.Tensor
        A scalar.
    """
    gamma = 1.0 / a.shape[1]

    def k(u, v):
        return torch.exp(-gamma * torch.cdist(u, v).pow(2)).mean()

    return k(a, a) + k(b, b) - 2 * k(a, b)


class NegatedLoss(nn.Module):
    """``-loss(network, X, None)`` as a module: a score of rows, higher is more normal.

    Parameters
    ----------
    loss : callable
        ``loss(network, X, y)``, one value per row.
    network : torch.nn.Module
    """

    def __init__(self, loss, network):
        super().__init__()
        self.loss, self.network = loss, network

    def forward(self, X):
        return -self.loss(self.network, X, None)


# At the end: the convolutional module (its own file, for size) builds on
# ACTIVATIONS and make_mlp above, and is part of this module's API.
from ._conv_module import ConvAutoencoder, ConvMapAutoencoder  # noqa: E402
from ._ensemble_module import MLPEnsemble, reconstruction_loss  # noqa: E402
