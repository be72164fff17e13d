"""Ensembles of autoencoders trained as one network: MLPEnsemble and n_members."""

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal

from sklearn_ae import Autoencoder, OutlierAutoencoder, load, save
from sklearn_ae.nn import MLPAutoencoder, MLPEnsemble, reconstruction_loss

FAST = dict(hidden_layer_sizes=(16, 8), max_iter=5, random_state=0, device="cpu")


def rows(n=200, d=6, seed=0):
    rng = np.random.RandomState(seed)
    latent = rng.normal(size=(n, 2))
    return latent @ rng.normal(size=(2, d)) + 0.1 * rng.normal(size=(n, d))


def test_members_run_side_by_side_as_separate_networks():
    torch.manual_seed(0)
    net = MLPEnsemble(5, 3, (8, 4), n_members=4, connection_keep=0.5)
    x = torch.randn(7, 5)
    members = net.members(x)
    assert members.shape == (4, 7, 5)
    codes = net.encode(x)
    assert codes.shape == (7, 12)
    assert_allclose(net.decode(codes).detach(), members.mean(0).detach(), rtol=1e-5, atol=1e-6)
    assert_allclose(net(x).detach(), members.mean(0).detach(), rtol=1e-5, atol=1e-6)
    # Member k alone: its slice of each stacked weight, its own mask.
    k = 2
    h = x
    layers = [*net.encoder, *net.decoder]
    for i, layer in enumerate(layers):
        h = h @ (layer.weight[k] * layer.mask[k]) + layer.bias.view(4, -1)[k]
        if i not in (len(net.encoder) - 1, len(layers) - 1):
            h = torch.relu(h)
        if i == len(net.encoder) - 1:
            assert_allclose(h.detach(), codes[:, 3 * k : 3 * k + 3].detach(), rtol=1e-5,
                            atol=1e-6)
    assert_allclose(h.detach(), members[k].detach(), rtol=1e-5, atol=1e-6)


def test_each_member_keeps_its_own_share_of_connections():
    torch.manual_seed(0)
    net = MLPEnsemble(40, 8, (64, 32), n_members=6, connection_keep=0.5)
    mask = net.encoder[1].mask  # 6 x 64 x 32
    assert 0.45 < float(mask.mean()) < 0.55
    assert not torch.equal(mask[0], mask[1])
    full = MLPEnsemble(40, 8, (64, 32), n_members=2, connection_keep=1.0)
    assert bool((full.encoder[0].mask == 1).all())
    with pytest.raises(ValueError, match="connection_keep"):
        MLPEnsemble(4, 2, (3,), connection_keep=0.0)


def test_the_training_loss_is_the_members_mean_error_not_the_mean_members_error():
    torch.manual_seed(0)
    net = MLPEnsemble(5, 2, (6,), n_members=3)
    one = MLPAutoencoder(5, 2, (6,))
    x = torch.randn(9, 5)
    with torch.no_grad():
        members = net.members(x)
        expected = ((members - x) ** 2).mean()
        assert_allclose(float(reconstruction_loss(net, x, x)), float(expected), rtol=1e-6)
        # The error of the members' mean is smaller (the members disagree).
        assert float(((net(x) - x) ** 2).mean()) < float(expected)
        assert_allclose(float(reconstruction_loss(one, x, x)),
                        float(((one(x) - x) ** 2).mean()), rtol=1e-6)


def test_estimator_with_members_transforms_to_their_codes_side_by_side():
    X = rows()
    model = Autoencoder(n_components=2, n_members=3, **FAST).fit(X)
    assert isinstance(model.module_, MLPEnsemble)
    Z = model.transform(X)
    assert Z.shape == (200, 6)
    assert len(model.get_feature_names_out()) == 6
    assert model.inverse_transform(Z).shape == X.shape
    with pytest.raises(ValueError, match="6"):
        model.inverse_transform(Z[:, :2])
    again = Autoencoder(n_components=2, n_members=3, **FAST).fit(X)
    assert_array_equal(again.transform(X), Z)  # seeded: reproducible on the CPU


def test_members_learn_and_reconstruct_better_than_one_member_alone():
    X = rows(400)
    model = Autoencoder(n_components=2, n_members=4, hidden_layer_sizes=(16, 8), max_iter=150,
                        random_state=0, device="cpu").fit(X)
    assert model.loss_curve_[-1] < 0.3 * model.loss_curve_[0]
    A = torch.as_tensor((X - model.mean_) / model.scale_, dtype=torch.float32)
    with torch.no_grad():
        members = model.module_.members(A)
        each = ((members - A) ** 2).mean(dim=(1, 2))
        mean = float(((members.mean(0) - A) ** 2).mean())
    assert mean < float(each.min())
    assert_allclose(-model.score_samples(X), ((members.mean(0) - A) ** 2).mean(1).numpy(),
                    rtol=1e-4)


def test_detector_with_members_saves_loads_and_continues(tmp_path):
    X = rows(300)
    X[:10] += 6.0
    model = OutlierAutoencoder(n_members=3, **FAST).fit(X)
    scores = model.score_samples(X)
    assert scores[:10].mean() < np.median(scores)
    loaded = load(save(model, tmp_path / "ensemble.safetensors"))
    assert isinstance(loaded.module_, MLPEnsemble)
    assert_array_equal(loaded.score_samples(X), scores)
    assert_array_equal(loaded.transform(X), model.transform(X))
    assert loaded.feature_contributions(X[:5]).shape == (5, 6)
    loaded.partial_fit(X)
    assert len(loaded.loss_curve_) == len(model.loss_curve_) + 1


def test_gaps_reach_every_member():
    X = rows(300)
    X[::5, 1] = np.nan
    model = OutlierAutoencoder(n_members=2, **FAST).fit(X)
    assert model.module_.missing_layer is not None
    assert model.module_.missing_layer.shape == (2, 6, 16)
    assert np.isfinite(model.score_samples(X)).all()


def test_warm_start_refuses_another_number_of_members():
    X = rows()
    model = Autoencoder(n_members=2, warm_start=True, **FAST).fit(X)
    model.set_params(n_members=3)
    with pytest.raises(ValueError, match="n_members"):
        model.fit(X)


def test_an_ensemble_is_never_replaced_by_pca():
    # A small linear table, where the default widths fall back to PCA.
    X = rows(120)
    single = Autoencoder(n_components=2, max_iter=5, random_state=0, device="cpu").fit(X)
    assert single.hidden_layer_sizes_ == ()
    ensemble = Autoencoder(n_components=2, n_members=2, max_iter=5, random_state=0,
                           device="cpu").fit(X)
    assert isinstance(ensemble.module_, MLPEnsemble)
    assert ensemble.transform(X).shape == (120, 4)


@pytest.mark.parametrize("bad", [0, -1, 1.5, "8"])
def test_a_wrong_number_of_members_is_an_error(bad):
    with pytest.raises(ValueError, match="n_members"):
        Autoencoder(n_members=bad).fit(rows())
