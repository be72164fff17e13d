"""Autoencoder keeps PCA's linear autoencoder when the network does worse on held-out rows."""

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA

from sklearn_ae import Autoencoder, DenoisingAutoencoder


def _linear_table(n=80, d=12, seed=0):
    """Rows on a 3-d linear subspace plus noise: PCA's home ground, few rows."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 3)) @ rng.normal(size=(3, d)) + 0.3 * rng.normal(size=(n, d))
    return X


def test_small_linear_table_gets_the_pca_model():
    X = _linear_table()
    ae = Autoencoder(n_components=3, random_state=0).fit(X)
    assert ae.hidden_layer_sizes_ == ()
    # PCA's autoencoder (of the training rows, the validation rows held out):
    # orthonormal components, decoder the encoder's transpose, and a
    # reconstruction that is a projection (reconstructing it changes nothing).
    encoder = ae.module_.encoder[0].weight.detach().double().numpy()
    decoder = ae.module_.decoder[0].weight.detach().double().numpy()
    np.testing.assert_allclose(encoder @ encoder.T, np.eye(3), atol=1e-5)
    np.testing.assert_allclose(decoder, encoder.T, atol=1e-6)
    X_hat = ae.inverse_transform(ae.transform(X))
    np.testing.assert_allclose(ae.inverse_transform(ae.transform(X_hat)), X_hat, atol=1e-4)
    # Its subspace is PCA's of all rows, up to the rows held out.
    pca = PCA(3).fit((X - ae.mean_) / ae.scale_)
    overlap = np.linalg.svd(encoder @ pca.components_.T, compute_uv=False)
    assert overlap.min() > 0.95
    # It is a fitted autoencoder like any other.
    assert np.isfinite(ae.score_samples(X)).all() and set(ae.predict(X)) <= {-1, 1}
    assert np.isfinite(ae.best_loss_)


def test_held_out_error_is_no_worse_than_pca_on_small_tables():
    errors = []
    for seed in range(3):
        X = _linear_table(n=140, seed=seed)
        train, test = X[:100], X[100:]
        ae = Autoencoder(n_components=3, random_state=seed).fit(train)
        pca = PCA(3).fit((train - ae.mean_) / ae.scale_)
        standardized = (test - ae.mean_) / ae.scale_
        ours = np.mean(((ae.inverse_transform(ae.transform(test)) - test) / ae.scale_) ** 2)
        theirs = np.mean((pca.inverse_transform(pca.transform(standardized)) - standardized) ** 2)
        errors.append(ours / theirs)
    assert max(errors) < 1.01, errors


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
