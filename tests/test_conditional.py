"""What only ConditionalAutoencoder does: condition on y, generate per class."""

import numpy as np
import pytest
from sklearn.svm import SVC

from sklearn_ae import ConditionalAutoencoder


@pytest.fixture(scope="module")
def fitted_digits():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return X, y, ConditionalAutoencoder(n_components=4, random_state=0).fit(X, y)


def test_samples_are_recognised_as_their_class(fitted_digits):
    X, y, cvae = fitted_digits
    classifier = SVC().fit(X, y)
    for digit in range(10):
        samples = cvae.sample(200, y=digit, random_state=digit)
        assert np.mean(classifier.predict(samples) == digit) >= 0.8, digit


def test_methods_without_y(fitted_digits):
    X, y, cvae = fitted_digits
    assert cvae.transform(X[:5]).shape == (5, 4)  # the encoder never sees y
    marginal = cvae.score_samples(X[:50])
    conditional = cvae.score_samples(X[:50], y[:50])
    # log sum_k p(k) exp(ELBO_k) is at least the true class's share of it.
    assert np.all(marginal >= conditional + np.log(cvae.class_prior_[y[:50]]) - 1e-6)
    with pytest.raises(ValueError, match="inverse_transform needs y"):
        cvae.inverse_transform(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="sample needs y"):
        cvae.sample(3)
    assert cvae.inverse_transform(np.zeros((2, 4)), y=3).shape == (2, 64)


def test_labels_and_errors():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 6))
    labels = np.array(["cat", "dog", "emu"])[rng.randint(3, size=120)]
    cvae = ConditionalAutoencoder(max_iter=3, random_state=0).fit(X, labels)
    assert list(cvae.classes_) == ["cat", "dog", "emu"]
    assert cvae.sample(4, y="emu", random_state=0).shape == (4, 6)
    with pytest.raises(ValueError, match="not seen in fit"):
        cvae.sample(2, y="yak")
    with pytest.raises(ValueError, match="requires y"):
        ConditionalAutoencoder().fit(X)
    with pytest.raises(ValueError, match="rows but X has"):
        cvae.score_samples(X, labels[:10])


def test_numeric_conditions():
    rng = np.random.RandomState(0)
    c = rng.uniform(-1, 1, size=(600, 1))
    X = np.c_[3 * c, -c, rng.normal(scale=0.1, size=(600, 2))]
    cvae = ConditionalAutoencoder(n_components=2, max_iter=100, random_state=0).fit(X, c)
    assert cvae.classes_ is None
    high = cvae.sample(300, y=[[0.8]], random_state=0)
    low = cvae.sample(300, y=[[-0.8]], random_state=0)
    # The decoder follows the condition: feature 0 is about 3 * c.
    assert high[:, 0].mean() > 1.5 and low[:, 0].mean() < -1.5
    with pytest.raises(ValueError, match="needs y"):
        cvae.score_samples(X)


def test_fit_predict_uses_y_and_contamination():
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(200, 4)), rng.randint(2, size=200)
    cvae = ConditionalAutoencoder(contamination=0.1, max_iter=5, random_state=0)
    labels = cvae.fit_predict(X, y)
    assert np.mean(labels == -1) == pytest.approx(0.1, abs=0.01)
