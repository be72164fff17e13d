"""What only SparseAutoencoder does: codes with few active units."""

import numpy as np

from sklearn_ae import Autoencoder, SparseAutoencoder

BUDGET = dict(n_components=64, hidden_layer_sizes=(64,), max_iter=50, random_state=0)


def test_kl_penalty_brings_mean_activation_to_target(digits):
    X, _ = digits
    sparse = SparseAutoencoder(sparsity_target=0.05, sparsity_weight=0.1, **BUDGET).fit(X)
    unpenalised = SparseAutoencoder(sparsity_weight=0.0, **BUDGET).fit(X)
    plain = Autoencoder(**BUDGET).fit(X)
    mean_activation = sparse.transform(X).mean()
    assert abs(mean_activation - 0.05) < 0.02
    # Per unit too, not just on average.
    assert np.all(np.abs(sparse.transform(X).mean(axis=0) - 0.05) < 0.05)
    # The same logistic code without the penalty, and a plain autoencoder's
    # linear code, are far from the target.
    assert abs(unpenalised.transform(X).mean() - 0.05) > 5 * abs(mean_activation - 0.05)
    assert np.abs(plain.transform(X)).mean() > 5 * abs(mean_activation - 0.05)


def test_l1_penalty_gives_exact_zeros(digits):
    X, _ = digits
    sparse = SparseAutoencoder(sparsity="l1", sparsity_weight=1.0, **BUDGET).fit(X)
    unpenalised = SparseAutoencoder(sparsity="l1", sparsity_weight=0.0, **BUDGET).fit(X)
    zeros = np.mean(sparse.transform(X) == 0)
    assert zeros > 0.7
    assert zeros > np.mean(unpenalised.transform(X) == 0) + 0.5
