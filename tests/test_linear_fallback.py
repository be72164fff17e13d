"""Autoencoder keeps PCA's linear autoencoder when the network does worse on held-out rows."""

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_ae import Autoencoder, DenoisingAutoencoder


def _linear_table(n=80, d=12, seed=0):
    """Rows on a 3-d linear subspace plus noise: PCA's home ground, few rows."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 3)) @ rng.normal(size=(3, d)) + 0.3 * rng.normal(size=(n, d))
    return X


def _overlap(basis, components):
    """Smallest cosine of the principal angles between two row spaces."""
    q_basis = np.linalg.qr(basis.T)[0]
    q_components = np.linalg.qr(components.T)[0]
    return np.linalg.svd(q_basis.T @ q_components, compute_uv=False).min()


def test_small_linear_table_gets_the_pca_model():
    X = _linear_table()
    ae = Autoencoder(n_components=3, random_state=0).fit(X)
    assert ae.hidden_layer_sizes_ == ()
    # A linear autoencoder whose reconstruction is a projection:
    # reconstructing a reconstruction changes nothing.
    X_hat = ae.inverse_transform(ae.transform(X))
    np.testing.assert_allclose(ae.inverse_transform(ae.transform(X_hat)), X_hat, atol=1e-4)
    # Its subspace (in X's units) is PCA's of X or of the standardised rows,
    # up to the rows held out.
    decoder = ae.module_.decoder[0].weight.detach().double().cpu().numpy()
    in_x_units = (decoder * ae.scale_[:, None]).T
    raw = PCA(3).fit(X).components_
    standardized = PCA(3).fit((X - ae.mean_) / ae.scale_).components_ * ae.scale_
    assert max(_overlap(in_x_units, raw), _overlap(in_x_units, standardized)) > 0.95
    # It is a fitted autoencoder like any other.
    assert np.isfinite(ae.score_samples(X)).all() and set(ae.predict(X)) <= {-1, 1}
    assert np.isfinite(ae.best_loss_)


def test_held_out_error_is_no_worse_than_pca_on_small_tables():
    # In X's units, against PCA of X: what a user swapping PCA for
    # Autoencoder compares.
    errors = []
    for seed in range(3):
        X = _linear_table(n=140, seed=seed)
        train, test = X[:100], X[100:]
        ae = Autoencoder(n_components=3, random_state=seed).fit(train)
        pca = PCA(3).fit(train)
        ours = np.mean((ae.inverse_transform(ae.transform(test)) - test) ** 2)
        theirs = np.mean((pca.inverse_transform(pca.transform(test)) - test) ** 2)
        errors.append(ours / theirs)
    assert max(errors) < 1.01, errors


def test_pixels_of_one_unit_are_compared_in_that_unit():
    # Digits, 32 of 64 components: standardising weights rarely inked pixels
    # up, and PCA of the standardised pixels reconstructs held-out digits
    # 1.15x worse than PCA of the pixels. The choice is made in X's units.
    X = load_digits().data
    train, test = X[:1400], X[1400:]
    ae = Autoencoder(n_components=32, random_state=0).fit(train)
    pca = PCA(32).fit(train)
    ours = np.mean((ae.inverse_transform(ae.transform(test)) - test) ** 2)
    theirs = np.mean((pca.inverse_transform(pca.transform(test)) - test) ** 2)
    assert ours / theirs < 1.01, ours / theirs


def test_features_on_different_scales_are_compared_standardised():
    # Scales from 1 to 1e4: in X's units the largest features alone would
    # decide (PCA of X rebuilds some small features 1.3x to 13x worse here). A user
    # standardises first, and so is the comparison: per feature, the
    # held-out error is no worse than StandardScaler + PCA's.
    ratios = []
    for seed in range(3):
        X = _linear_table(n=140, seed=seed) * np.logspace(0, 4, 12)
        train, test = X[:100], X[100:]
        ae = Autoencoder(n_components=3, random_state=seed).fit(train)
        assert ae.hidden_layer_sizes_ == ()
        pipe = make_pipeline(StandardScaler(), PCA(3)).fit(train)
        spread = train.std(axis=0)
        ours = np.mean(((ae.inverse_transform(ae.transform(test)) - test) / spread) ** 2, axis=0)
        theirs = np.mean(((pipe.inverse_transform(pipe.transform(test)) - test) / spread) ** 2,
                         axis=0)
        ratios.append(np.max(ours / theirs))
    assert max(ratios) < 1.1, ratios


def test_the_network_stays_where_it_wins():
    X = load_digits().data[:1400]
    ae = Autoencoder(n_components=8, random_state=0, max_iter=60).fit(X)
    assert ae.hidden_layer_sizes_ != ()


@pytest.mark.parametrize("params", [{"hidden_layer_sizes": (16,)}, {"early_stopping": False}])
def test_explicit_widths_or_no_validation_keep_the_network(params):
    ae = Autoencoder(n_components=3, random_state=0, **params).fit(_linear_table())
    assert ae.hidden_layer_sizes_ != ()


def test_other_variants_keep_their_network():
    dae = DenoisingAutoencoder(n_components=3, random_state=0).fit(_linear_table())
    assert dae.hidden_layer_sizes_ != ()


def test_pca_model_saves_and_continues(tmp_path):
    pytest.importorskip("safetensors", reason="the persist extra is not installed")
    from sklearn_ae import load, save

    X = _linear_table()
    ae = Autoencoder(n_components=3, random_state=0, warm_start=True).fit(X)
    assert ae.hidden_layer_sizes_ == ()
    save(ae, tmp_path / "ae.safetensors")
    np.testing.assert_array_equal(load(tmp_path / "ae.safetensors").transform(X), ae.transform(X))
    ae.set_params(max_iter=3).fit(X)  # a warm start trains the linear network on
    assert ae.hidden_layer_sizes_ == () and np.isfinite(ae.transform(X)).all()


def test_pca_model_exports_to_onnx():
    ort = pytest.importorskip("onnxruntime", reason="the onnx extra is not installed")
    from sklearn_ae import to_onnx

    X = _linear_table().astype(np.float32)
    ae = Autoencoder(n_components=3, random_state=0).fit(X)
    assert ae.hidden_layer_sizes_ == ()
    model = to_onnx(ae, "transform")
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    (codes,) = session.run(None, {"X": X})
    np.testing.assert_allclose(codes, ae.transform(X), rtol=1e-4, atol=1e-5)


def test_training_stops_once_pca_is_sure_to_be_kept(monkeypatch, capsys):
    # Digits, 32 components: PCA of the pixels wins. Watched, the network
    # stops early; the model kept is the one kept when the choice is made
    # after every epoch has run.
    from sklearn_ae import _fallback

    X = load_digits().data[:1400]
    watched = Autoencoder(n_components=32, random_state=0, verbose=1).fit(X)
    assert "could not catch up" in capsys.readouterr().out
    monkeypatch.setattr(_fallback, "_WATCH_EVERY", 10**9)
    after = Autoencoder(n_components=32, random_state=0).fit(X)
    assert watched.hidden_layer_sizes_ == () == after.hidden_layer_sizes_
    assert watched.n_iter_ < after.n_iter_ / 2
    np.testing.assert_array_equal(watched.transform(X), after.transform(X))


def test_a_fit_that_refits_is_not_stopped_early(monkeypatch):
    # refit_fraction trains a second network without the rows the first one
    # scores worst: the first must finish whatever PCA does.
    from sklearn_ae import _fallback

    X = load_digits().data[:600]
    params = dict(n_components=32, random_state=0, refit_fraction=0.1, max_iter=40)
    watched = Autoencoder(**params).fit(X)
    monkeypatch.setattr(_fallback, "_WATCH_EVERY", 10**9)
    after = Autoencoder(**params).fit(X)
    assert watched.n_iter_ == after.n_iter_
    np.testing.assert_array_equal(watched.transform(X), after.transform(X))
