"""Categorical columns: encoded inside every estimator, back as categories, scored per column."""

import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from sklearn_ae import (
    Autoencoder,
    ConditionalAutoencoder,
    ConvolutionalAutoencoder,
    DenoisingAutoencoder,
    OutlierAutoencoder,
)
from sklearn_ae.utils import all_estimators

pd = pytest.importorskip("pandas")

SMALL = {"hidden_layer_sizes": (16,), "max_iter": 30, "random_state": 0}


def mixed_table(n=400, seed=0, missing=0.1):
    """Numbers, a category, text (object) and a pandas string column; 10% cells missing.

    ``colour`` follows ``a``'s sign and ``size`` follows ``b``'s, so that a
    network can learn them; ``shop`` is noise.
    """
    rng = np.random.RandomState(seed)
    a, b = rng.normal(size=n), rng.normal(size=n)
    frame = pd.DataFrame({
        "a": a,
        "b": 10 * b + 3,
        "c": a + b + 0.1 * rng.normal(size=n),
        "colour": pd.Categorical(np.where(a > 0, "red", "blue")),
        "size": np.where(b > 0.5, "L", np.where(b > -0.5, "M", "S")).astype(object),
        "shop": pd.array(rng.choice(["north", "south"], n), dtype="string"),
    })
    if missing:
        hidden = rng.rand(*frame.shape) < missing
        for j, column in enumerate(frame.columns):
            frame.loc[hidden[:, j], column] = None
    return frame


def _fit(model, X):
    if isinstance(model, ConditionalAutoencoder):
        return model.fit(X, np.arange(len(X)) % 2)
    return model.fit(X)


def test_acceptance_defaults_fit_a_mixed_table_with_gaps():
    frame = mixed_table()
    detector = OutlierAutoencoder(random_state=0).fit(frame)
    reducer = Autoencoder(n_components=4, random_state=0).fit(frame)
    for model in (detector, reducer):
        assert model.n_features_in_ == 6
        assert_array_equal(model.feature_names_in_, frame.columns)
        assert np.isfinite(model.score_samples(frame)).all()
        parts = model.feature_contributions(frame)
        assert isinstance(parts, pd.DataFrame)
        assert list(parts.columns) == list(frame.columns)
        # NaN exactly where the user's cell is missing.
        assert_array_equal(parts.isna().to_numpy(), frame.isna().to_numpy())
    codes = reducer.transform(frame)
    assert np.isfinite(codes).all() and codes.shape == (400, 4)
    assert_array_equal(reducer.categories_[3], ["blue", "red"])
    assert reducer.categories_[0] is None


@pytest.mark.parametrize("name, cls", all_estimators())
def test_every_estimator_takes_categories_or_says_why_not(name, cls):
    frame = mixed_table(n=200)
    model = cls(n_components=2, **dict(SMALL, max_iter=3))
    if cls is ConvolutionalAutoencoder:
        with pytest.raises(ValueError, match="reads each row as an image.*colour"):
            model.fit(frame)
        return
    _fit(model, frame)
    y = (np.arange(len(frame)) % 2,) if cls is ConditionalAutoencoder else ()
    codes = model.transform(frame)
    assert np.isfinite(codes).all()
    assert np.isfinite(model.score_samples(frame)).all()
    assert set(np.unique(model.predict(frame))) <= {-1, 1}
    assert np.isfinite(model.score(frame))
    assert list(model.feature_contributions(frame, *y).columns) == list(frame.columns)
    back = model.inverse_transform(codes, *y)
    assert list(back.columns) == list(frame.columns)
    assert set(back["size"]) <= {"S", "M", "L"}


def test_inverse_transform_gives_the_categories_back_in_their_dtypes():
    frame = mixed_table(missing=0)
    model = Autoencoder(n_components=3, **dict(SMALL, max_iter=200)).fit(frame)
    back = model.inverse_transform(model.transform(frame))
    assert isinstance(back["colour"].dtype, pd.CategoricalDtype)
    assert list(back["colour"].cat.categories) == ["blue", "red"]
    assert pd.api.types.is_string_dtype(back["shop"].dtype)
    assert back["a"].dtype.kind == "f"
    # Categories that follow the numbers are learnt: most come back right.
    assert (back["colour"] == frame["colour"]).mean() > 0.9
    assert (back["size"] == frame["size"]).mean() > 0.8


@pytest.mark.parametrize("cls", [Autoencoder, OutlierAutoencoder, DenoisingAutoencoder])
def test_an_unseen_category_scores_as_unusual_not_as_an_error(cls):
    frame = mixed_table(missing=0)
    model = cls(random_state=0).fit(frame)
    rows = frame.iloc[:100]
    unseen = rows.assign(size="XXL")
    unseen_scores = model.score_samples(unseen)
    # Below the same rows with their own category, and below most training rows.
    assert (unseen_scores < model.score_samples(rows)).all()
    assert (unseen_scores < np.median(model.score_samples(frame))).mean() > 0.85
    parts = model.feature_contributions(unseen)
    assert (parts["size"] > model.feature_contributions(rows)["size"]).all()


def test_a_categorys_error_is_its_one_hot_squared_error():
    # The parts sum to the row's error, and a column's part is its features'.
    frame = mixed_table(missing=0)
    model = Autoencoder(n_components=2, **SMALL).fit(frame)
    parts = model.feature_contributions(frame.iloc[:10])
    assert_allclose(parts.sum(axis=1), -model.score_samples(frame.iloc[:10]), rtol=1e-5)
    shares = model.feature_contributions(frame.iloc[:10], normalize=True)
    assert_allclose(shares.sum(axis=1), 1.0, rtol=1e-6)
    # Categorical features are 0/1, never standardised.
    encoded = model.n_features_in_ + sum(len(c) for c in model.categories_ if c is not None)
    assert model.mean_.shape == (encoded,)
    assert_array_equal(model.scale_[3:], 1.0) and assert_array_equal(model.mean_[3:], 0.0)


def test_numbers_stay_numbers_whatever_their_dtype():
    n = 60
    rng = np.random.RandomState(0)
    frame = pd.DataFrame({
        "text_numbers": pd.Series(rng.normal(size=n).round(3).astype(str), dtype=object),
        "string_numbers": pd.array(rng.normal(size=n).round(3).astype(str), dtype="string"),
        "flag": pd.array(rng.rand(n) > 0.5, dtype="boolean"),
        "count": pd.array(rng.randint(0, 5, n), dtype="Int64"),
        "x": rng.normal(size=n),
    })
    frame.loc[3, "flag"] = pd.NA
    frame.loc[4, "count"] = pd.NA
    model = Autoencoder(n_components=2, **SMALL).fit(frame)
    assert not hasattr(model, "categories_")
    assert model.mean_.shape == (5,)
    assert np.isfinite(model.score_samples(frame)).all()


def test_a_categorical_dtype_of_numbers_is_a_category():
    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"rating": pd.Categorical(rng.randint(1, 4, 80)),
                          "x": rng.normal(size=80)})
    model = Autoencoder(n_components=1, **SMALL).fit(frame)
    assert_array_equal(model.categories_[0], [1, 2, 3])
    assert set(model.inverse_transform(model.transform(frame))["rating"]) <= {1, 2, 3}


def test_an_object_array_without_names_works_by_position():
    frame = mixed_table(n=120, missing=0)
    array = frame.astype(object).to_numpy()
    model = Autoencoder(n_components=2, **SMALL).fit(array)
    assert not hasattr(model, "feature_names_in_") and model.n_features_in_ == 6
    assert np.isfinite(model.score_samples(array)).all()
    assert model.inverse_transform(model.transform(array)).columns.tolist() == [
        f"x{i}" for i in range(6)]


@pytest.mark.parametrize("column, values, match", [
    ("x", ["1.5", "2", "n/a", "4"] * 20,
     r"numbers with some text: \['x'\] \(e.g. \['n/a'\]\).*category dtype"),
    ("when", pd.date_range("2020-01-01", periods=80),
     r"neither numbers nor categories: \['when'\]"),
    ("id", [f"order-{i}" for i in range(80)], None),
    ("empty", [None] * 80, r"'empty' has no observed value"),
])
def test_columns_that_cannot_be_used_are_named(column, values, match, monkeypatch):
    from sklearn_ae import _categorical

    monkeypatch.setattr(_categorical, "MAX_CATEGORIES", 50)
    frame = mixed_table(n=80, missing=0)
    frame[column] = pd.Series(values, dtype=object if column == "empty" else None)
    if column == "empty":
        frame[column] = frame[column].astype("category")
    with pytest.raises(ValueError, match=match or r"'id' has 80 categories .*Drop it"):
        Autoencoder(**SMALL).fit(frame)


def test_transform_checks_the_columns_against_the_fit():
    frame = mixed_table(n=120)
    model = Autoencoder(n_components=2, **SMALL).fit(frame)
    with pytest.raises(ValueError, match="missing:\n- shop"):
        model.transform(frame.iloc[:, :5])
    with pytest.raises(ValueError, match="X has 5 features, but Autoencoder is expecting 6"), \
            pytest.warns(UserWarning, match="does not have valid feature names"):
        model.transform(frame.iloc[:, :5].to_numpy())
    renamed = frame.rename(columns={"size": "Size"})
    with pytest.raises(ValueError, match="feature names"):
        model.transform(renamed)
    import scipy.sparse as sp

    with pytest.raises(ValueError, match="categorical columns: pass a DataFrame"):
        model.transform(sp.csr_matrix(np.ones((2, 6))))
    with pytest.raises(ValueError, match="infinity"):
        model.transform(frame.assign(a=np.inf))


def test_a_date_column_is_named_in_a_table_of_numbers_too():
    frame = pd.DataFrame({"x": np.arange(40.0), "when": pd.date_range("2020-01-01", periods=40)})
    with pytest.raises(ValueError, match=r"neither numbers nor categories: \['when'\]"):
        Autoencoder(**SMALL).fit(frame)


def test_text_in_a_column_that_was_numbers_is_named():
    frame = mixed_table(n=120)
    model = Autoencoder(n_components=2, **SMALL).fit(frame)
    with pytest.raises(ValueError, match=r"column 'a' was numbers in fit and now holds text"):
        model.transform(frame.assign(a=["?"] + [1.0] * 119))


def test_a_numeric_refit_forgets_the_categories():
    frame = mixed_table(n=120)
    model = Autoencoder(n_components=2, **SMALL).fit(frame)
    model.fit(frame[["a", "b", "c"]])
    assert not hasattr(model, "categories_") and model.mean_.shape == (3,)


def test_partial_fit_keeps_the_first_calls_categories():
    frame = mixed_table(n=200)
    model = Autoencoder(n_components=2, **SMALL)
    model.partial_fit(frame.iloc[:100])
    later = frame.iloc[100:].copy()
    later.loc[later.index[:5], "size"] = "XL"  # unseen: the extra feature
    model.partial_fit(later)
    assert_array_equal(model.categories_[4], ["L", "M", "S"])
    assert np.isfinite(model.score_samples(later)).all()


def test_pickle_and_save_keep_the_categories(tmp_path):
    frame = mixed_table(n=150)
    model = OutlierAutoencoder(**SMALL).fit(frame)
    expected = model.score_samples(frame)
    assert_array_equal(pickle.loads(pickle.dumps(model)).score_samples(frame), expected)
    pytest.importorskip("safetensors", reason="the persist extra is not installed")
    from sklearn_ae import load, save

    save(model, tmp_path / "m.safetensors")
    loaded = load(tmp_path / "m.safetensors")
    assert_array_equal(loaded.score_samples(frame), expected)
    pd.testing.assert_frame_equal(loaded.inverse_transform(loaded.transform(frame)),
                                  model.inverse_transform(model.transform(frame)))


def test_what_takes_numbers_only_refuses_with_a_reason():
    frame = mixed_table(n=120)
    from sklearn_ae.corruptions import GaussianNoise

    with pytest.raises(ValueError, match="categorical columns"):
        Autoencoder(corruption=GaussianNoise(0.1), **SMALL).fit(frame)
    pytest.importorskip("onnx", reason="the onnx extra is not installed")
    pytest.importorskip("onnxscript", reason="the onnx extra is not installed")
    from sklearn_ae import to_onnx

    with pytest.raises(ValueError, match="OneHotEncoder in a ColumnTransformer"):
        to_onnx(Autoencoder(n_components=2, **SMALL).fit(frame))
