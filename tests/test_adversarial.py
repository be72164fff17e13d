"""What only AdversarialAutoencoder does: codes shaped to a prior."""

import numpy as np
import pytest
import torch

from sklearn_ae import AdversarialAutoencoder, Autoencoder
from sklearn_ae.nn import mmd, prior_sample


def _mmd(a, b):
    return mmd(torch.as_tensor(a, dtype=torch.float32), torch.as_tensor(b, dtype=torch.float32)).item()


@pytest.mark.parametrize("prior", ["normal", "uniform"])
def test_codes_closer_to_prior_than_plain_autoencoder(digits, prior):
    X, _ = digits
    aae = AdversarialAutoencoder(n_components=4, prior=prior, max_iter=150, random_state=0).fit(X)
    plain = Autoencoder(n_components=4, max_iter=150, random_state=0).fit(X)
    draws = prior_sample(aae.prior_, len(X), 4, generator=torch.Generator().manual_seed(1))
    assert _mmd(aae.transform(X), draws) < 0.5 * _mmd(plain.transform(X), draws)


def test_samples_and_second_optimizer(digits):
    X, _ = digits
    aae = AdversarialAutoencoder(n_components=2, max_iter=3, random_state=0).fit(X)
    assert aae.sample(7, random_state=0).shape == (7, 64)
    np.testing.assert_array_equal(aae.sample(3, random_state=2), aae.sample(3, random_state=2))
    assert len(aae._optimizer_state) == 3
    assert len(aae.loss_curve_) == aae.n_iter_


def test_mmd_is_small_for_one_distribution():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(500, 3, generator=g), torch.randn(500, 3, generator=g)
    assert mmd(a, b).item() < 0.01 < mmd(a, b + 2.0).item()
