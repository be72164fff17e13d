"""Missing values: every estimator learns from observed entries; the imputer fills gaps."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline

from sklearn_ae import (
    AdversarialAutoencoder,
    Autoencoder,
    AutoencoderImputer,
    ConditionalAutoencoder,
    ConvolutionalAutoencoder,
    DenoisingAutoencoder,
    OutlierAutoencoder,
    SparseAutoencoder,
    VariationalAutoencoder,
)
from sklearn_ae.utils import all_estimators

SMALL = {"hidden_layer_sizes": (16,), "max_iter": 30, "random_state": 0}


def correlated(n=400, seed=0):
    """Six features driven by two factors, plus a little noise."""
    rng = np.random.RandomState(seed)
    factors = rng.normal(size=(n, 2))
    X = factors @ rng.normal(size=(2, 6)) + 0.1 * rng.normal(size=(n, 6))
    return X


def with_gaps(X, rate=0.1, seed=1):
    mask = np.random.RandomState(seed).rand(*X.shape) < rate
    return np.where(mask, np.nan, X), mask


def _fit(model, X):
    if isinstance(model, ConditionalAutoencoder):
        return model.fit(X, np.arange(len(X)) % 2)
    return model.fit(X)


@pytest.mark.parametrize("name, cls", all_estimators())
def test_every_estimator_fits_and_scores_a_dataframe_with_gaps(name, cls):
    pd = pytest.importorskip("pandas")
    X, mask = with_gaps(correlated())
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    params = dict(SMALL, max_iter=5)
    if cls is ConvolutionalAutoencoder:
        params.update(hidden_layer_sizes=(), image_shape=(1, 2, 3), channels=(4,))
    model = _fit(cls(n_components=2, **params), frame)
    codes = model.transform(frame)
    scores = model.score_samples(frame)
    assert np.isfinite(np.asarray(codes)).all() and np.isfinite(scores).all()
    assert np.isfinite(model.decision_function(frame)).all()
    assert set(np.unique(model.predict(frame))) <= {-1, 1}
    assert np.isfinite(model.score(frame))
    y = (np.arange(len(frame)) % 2,) if cls is ConditionalAutoencoder else ()
    parts = np.asarray(model.feature_contributions(frame, *y))
    # NaN exactly where the row lacks the feature.
    assert_array_equal(np.isnan(parts), mask)
    assert np.isfinite(model.inverse_transform(np.asarray(codes), *y)).all()


def test_a_rows_error_is_the_mean_over_its_observed_entries():
    X = correlated()
    model = Autoencoder(n_components=2, standardize=False, **SMALL).fit(X)
    row = X[:1].copy()
    row[0, [1, 4]] = np.nan
    rebuilt = model.inverse_transform(model.transform(row))
    observed = ~np.isnan(row)
    expected = np.mean((rebuilt - row)[observed] ** 2)
    assert_allclose(-model.score_samples(row), [expected], rtol=1e-5)
    parts = model.feature_contributions(row)
    assert np.isnan(parts[0, [1, 4]]).all()
    assert_allclose(np.nansum(parts), expected, rtol=1e-5)


def test_a_missing_entry_does_not_count_against_a_row():
    X = correlated()
    model = OutlierAutoencoder(max_iter=30, random_state=0).fit(X)
    outlier = X[:1].copy()
    outlier[0, 0] = 25.0  # far off in feature 0
    hidden = outlier.copy()
    hidden[0, 0] = np.nan  # the same row, its odd value unknown
    scores = model.score_samples(np.vstack([X, outlier, hidden]))
    assert scores[-2] == scores.min()
    # Without the odd value, the row is as normal as the rest.
    assert scores[-1] > np.percentile(scores[:-2], 5)


def test_scaling_comes_from_observed_values():
    X, _ = with_gaps(correlated(), rate=0.3)
    model = Autoencoder(n_components=2, **dict(SMALL, max_iter=2)).fit(X)
    assert_allclose(model.mean_, np.nanmean(X, axis=0))
    assert_allclose(model.scale_, np.nanstd(X, axis=0))


def test_training_on_gaps_learns_from_the_observed_entries():
    # Half of feature 0 missing; what is observed of it follows the factors.
    X = correlated(n=600)
    gappy = X.copy()
    gappy[::2, 0] = np.nan
    model = Autoencoder(n_components=2, batch_size=32, **dict(SMALL, max_iter=100)).fit(gappy)
    rebuilt = model.inverse_transform(model.transform(gappy))
    error = np.sqrt(np.mean((rebuilt[::2, 0] - X[::2, 0]) ** 2))
    # Far better than the column mean (its standard deviation).
    assert error < 0.5 * X[:, 0].std()
    assert np.isfinite(model.loss_curve_).all()


def test_infinity_and_unobserved_features_are_still_errors():
    X = correlated()
    model = Autoencoder(n_components=2, **dict(SMALL, max_iter=2)).fit(X)
    bad = X.copy()
    bad[3, 2] = np.inf
    for method in (model.fit, model.transform, model.score_samples):
        with pytest.raises(ValueError, match="infinity"):
            method(bad)
    empty = X.copy()
    empty[:, 2] = np.nan
    with pytest.raises(ValueError, match=r"no observed value .*\['x2'\]"):
        Autoencoder(**SMALL).fit(empty)


def test_sparse_and_chunked_input_with_gaps():
    X, _ = with_gaps(correlated())
    model = Autoencoder(n_components=2, **dict(SMALL, max_iter=3)).fit(sp.csr_matrix(X))
    assert np.isfinite(model.score_samples(sp.csr_matrix(X))).all()
    streamed = Autoencoder(n_components=2, hidden_layer_sizes=(8,), random_state=0)
    for chunk in np.array_split(X, 4):
        streamed.partial_fit(chunk)
    assert np.isfinite(streamed.score_samples(X)).all()
    assert streamed.n_iter_ == 4


@pytest.mark.parametrize("score", ["isolation", "combined"])
def test_outlier_scores_with_gaps_still_find_a_planted_outlier(score):
    X, _ = with_gaps(correlated(), rate=0.2)
    X[7] = [6.0, -6.0, 6.0, -6.0, np.nan, 6.0]
    model = OutlierAutoencoder(outlier_score=score, max_iter=30, random_state=0).fit(X)
    scores = model.score_samples(X)
    assert np.isfinite(scores).all()
    assert np.argmin(scores) == 7


def test_no_gaps_gives_what_it_gave_before():
    # The fit of rows without gaps takes the path it always took (the
    # golden outputs pin its bits); a gap in prediction only touches its row.
    X = correlated()
    model = Autoencoder(n_components=2, **SMALL).fit(X)
    scores = model.score_samples(X)
    gappy = X.copy()
    gappy[0, 0] = np.nan
    assert_array_equal(model.score_samples(gappy)[1:], scores[1:])


def test_a_network_fitted_on_gaps_is_told_which_entries_are_missing():
    X = correlated()
    gappy, mask = with_gaps(X, rate=0.2)
    complete = Autoencoder(n_components=2, **dict(SMALL, max_iter=3)).fit(X)
    assert complete.missing_indicator_ is False and complete.module_.missing_layer is None
    for cls in (Autoencoder, OutlierAutoencoder, DenoisingAutoencoder):
        model = cls(n_components=2, **dict(SMALL, max_iter=3)).fit(gappy)
        assert model.missing_indicator_ is True
        assert model.module_.missing_layer.weight.shape == (16, X.shape[1])
    # The same filled values, told apart by which of them are missing: a row
    # whose feature 0 is missing is not a row whose feature 0 is its mean.
    model = Autoencoder(n_components=2, **dict(SMALL, max_iter=3)).fit(gappy)
    at_mean = X[:1].copy()
    at_mean[0, 0] = model.mean_[0]
    missing = X[:1].copy()
    missing[0, 0] = np.nan
    assert not np.allclose(model.transform(at_mean), model.transform(missing))
    # Rows without gaps: the plain encoder (the mask term is never added).
    import torch

    rows = torch.as_tensor((X[:5] - model.mean_) / model.scale_, dtype=torch.float32)
    with torch.no_grad():
        assert_allclose(model.module_.encode(rows).numpy(),
                        model.module_.encoder(rows).numpy())


def test_missing_indicator_auto_tells_narrow_rows_with_gaps_and_masking_only():
    from sklearn_ae.corruptions import Masking

    rng = np.random.RandomState(0)
    wide = rng.randn(40, 300)
    wide[rng.rand(*wide.shape) < 0.1] = np.nan
    fit = dict(SMALL, max_iter=1)
    # Wide rows with gaps: "auto" leaves the mask out, True puts it in.
    assert Autoencoder(n_components=2, **fit).fit(wide).missing_indicator_ is False
    told = Autoencoder(n_components=2, missing_indicator=True, **fit).fit(wide)
    assert told.missing_indicator_ is True and told.module_.missing_layer is not None
    # Hidden entries (inpainting) are told at any width; False tells nothing.
    complete = np.nan_to_num(wide)
    masked = Autoencoder(n_components=2, corruption=Masking(0.5), **fit).fit(complete)
    assert masked.missing_indicator_ is True
    gappy, _ = with_gaps(correlated(), rate=0.2)
    silent = OutlierAutoencoder(n_components=2, missing_indicator=False, **fit).fit(gappy)
    assert silent.missing_indicator_ is False and silent.module_.missing_layer is None
    # True on complete rows without hidden entries: nothing to tell.
    plain = Autoencoder(n_components=2, missing_indicator=True, **fit).fit(correlated())
    assert plain.missing_indicator_ is False
    with pytest.raises(ValueError, match="missing_indicator"):
        Autoencoder(missing_indicator="yes").fit(correlated())


def test_missing_indicator_of_the_module_initialises_the_other_layers_alike():
    import torch

    from sklearn_ae.nn import MLPAutoencoder

    torch.manual_seed(0)
    plain = MLPAutoencoder(6, 2, (8,))
    torch.manual_seed(0)
    told = MLPAutoencoder(6, 2, (8,), missing_indicator=True)
    for (name, a), (_, b) in zip(plain.state_dict().items(), told.state_dict().items()):
        assert_array_equal(a.numpy(), b.numpy(), err_msg=name)
    x = torch.randn(4, 6)
    missing = torch.zeros(4, 6, dtype=torch.bool)
    # An empty mask adds nothing; a mask changes the codes.
    assert_allclose(told.encode(x, missing).detach(), plain.encode(x).detach(), atol=1e-6)
    missing[:, 0] = True
    assert not torch.allclose(told.encode(x, missing), plain.encode(x))
    assert told(x, missing).shape == x.shape


@pytest.mark.parametrize("cls", [SparseAutoencoder, VariationalAutoencoder,
                                 ConditionalAutoencoder, AdversarialAutoencoder])
def test_the_other_variants_are_told_of_gaps_too(cls, tmp_path):
    from sklearn_ae import load, save

    X = correlated()
    gappy, _ = with_gaps(X, rate=0.2)
    fit = dict(SMALL, max_iter=3, missing_indicator="auto")
    model = _fit(cls(n_components=2, **fit), gappy)
    assert model.missing_indicator_ is True
    assert model.module_.missing_layer.weight.shape == (16, X.shape[1])
    # A gap is not read as the feature's mean.
    at_mean = X[:1].copy()
    at_mean[0, 0] = model.mean_[0]
    missing = X[:1].copy()
    missing[0, 0] = np.nan
    assert not np.allclose(model.transform(at_mean), model.transform(missing))
    # The map of the mask is trained (it moved from its initial weights)...
    before = _fit(cls(n_components=2, **dict(fit, max_iter=1)), gappy)
    assert not np.allclose(before.module_.missing_layer.weight.detach().numpy(),
                           model.module_.missing_layer.weight.detach().numpy())
    # ... and kept by save and load.
    save(model, tmp_path / "model.skae")
    loaded = load(tmp_path / "model.skae")
    assert loaded.missing_indicator_ is True
    assert_allclose(loaded.transform(gappy), model.transform(gappy), rtol=1e-5, atol=1e-6)
    assert_allclose(loaded.score_samples(gappy), model.score_samples(gappy), rtol=1e-5)
    # Complete rows, or False: no map, the network as it always was.
    assert _fit(cls(n_components=2, **fit), X).module_.missing_layer is None
    silent = _fit(cls(n_components=2, **dict(fit, missing_indicator=False)), gappy)
    assert silent.missing_indicator_ is False and silent.module_.missing_layer is None
    # Off unless asked for: told, these networks' outlier scores were no
    # better (see MISSING_INDICATOR_GAPS_DOC).
    default = _fit(cls(n_components=2, **dict(SMALL, max_iter=3)), gappy)
    assert default.missing_indicator_ is False and default.module_.missing_layer is None


def test_the_variational_and_adversarial_modules_take_the_mask_as_the_plain_one_does():
    import torch

    from sklearn_ae.nn import AdversarialModule, VariationalModule

    for build in (lambda told: VariationalModule(6, 2, (8,), missing_indicator=told),
                  lambda told: AdversarialModule(6, 2, (8,), discriminator_layer_sizes=(4,), missing_indicator=told)):
        torch.manual_seed(0)
        plain = build(False)
        torch.manual_seed(0)
        told = build(True)
        told_state = {k: v for k, v in told.state_dict().items() if "missing_layer" not in k}
        for (name, a), b in zip(plain.state_dict().items(), told_state.values()):
            assert_array_equal(a.numpy(), b.numpy(), err_msg=name)
        x = torch.randn(4, 6)
        missing = torch.zeros(4, 6, dtype=torch.bool)
        assert_allclose(told.encode(x, missing=missing).detach(),
                        plain.encode(x).detach(), atol=1e-6)
        missing[:, 0] = True
        assert not torch.allclose(told.encode(x, missing=missing), plain.encode(x))
        assert told(x, missing=missing).shape == x.shape
    # The adversarial step moves the map of the mask with the encoder.
    module = AdversarialModule(6, 2, (8,), discriminator_layer_sizes=(4,), missing_indicator=True)
    assert any(p is module.missing_layer.weight for p in module.encoder_parameters())


@pytest.mark.parametrize("code", ["vector", "map"])
def test_the_convolutional_network_is_told_which_pixels_are_missing(code, tmp_path):
    import torch

    from sklearn_ae import load, save
    from sklearn_ae.corruptions import Masking
    from sklearn_ae.nn import ConvAutoencoder, ConvMapAutoencoder

    images = np.random.RandomState(0).rand(60, 64)
    fit = dict(image_shape=(1, 8, 8), channels=(4,), code=code, max_iter=2, random_state=0)
    # Off by default (it lost on camera); "auto" tells a network trained on Masking.
    default = ConvolutionalAutoencoder(corruption=Masking(0.5), **fit).fit(images)
    assert default.missing_indicator_ is False and default.module_.missing_layer is None
    fit["missing_indicator"] = "auto"
    model = ConvolutionalAutoencoder(corruption=Masking(0.5), **fit).fit(images)
    assert model.missing_indicator_ is True
    first = model.module_.encoder[0]
    assert model.module_.missing_layer.weight.shape == first.weight.shape
    hidden, _ = with_gaps(images, rate=0.5)
    save(model, tmp_path / "model.skae")
    loaded = load(tmp_path / "model.skae")
    assert loaded.missing_indicator_ is True
    assert_allclose(loaded.inverse_transform(loaded.transform(hidden)),
                    model.inverse_transform(model.transform(hidden)), rtol=1e-5, atol=1e-6)
    # Without hidden pixels, or with False, or without a convolution: no mask.
    assert ConvolutionalAutoencoder(**fit).fit(images).module_.missing_layer is None
    silent = ConvolutionalAutoencoder(corruption=Masking(0.5),
                                      **dict(fit, missing_indicator=False)).fit(images)
    assert silent.missing_indicator_ is False and silent.module_.missing_layer is None
    # Without blocks the vector code's encoder starts with no convolution (not
    # told); the map code's starts with its 1x1 convolution (told).
    flat = ConvolutionalAutoencoder(corruption=Masking(0.5), **dict(fit, channels=())).fit(images)
    assert flat.missing_indicator_ is (code == "map")
    assert (flat.module_.missing_layer is not None) is (code == "map")
    # The module: the other layers initialised alike, an empty mask adds nothing.
    cls = ConvAutoencoder if code == "vector" else ConvMapAutoencoder
    torch.manual_seed(0)
    plain = cls((1, 8, 8), 3, channels=(4,))
    torch.manual_seed(0)
    told = cls((1, 8, 8), 3, channels=(4,), missing_indicator=True)
    for (name, a), (_, b) in zip(plain.state_dict().items(), told.state_dict().items()):
        assert_array_equal(a.numpy(), b.numpy(), err_msg=name)
    x = torch.randn(5, 64)
    missing = torch.zeros(5, 64, dtype=torch.bool)
    assert_allclose(told.encode(x, missing).detach(), plain.encode(x).detach(), atol=1e-6)
    missing[:, :8] = True
    assert not torch.allclose(told.encode(x, missing), plain.encode(x))


def test_a_masking_corruption_tells_the_network_and_survives_save_and_load(tmp_path):
    from sklearn_ae import load, save
    from sklearn_ae.corruptions import Masking

    X = correlated()
    model = Autoencoder(n_components=6, corruption=Masking(0.3), **SMALL).fit(X)
    assert model.missing_indicator_ is True
    hidden, _ = with_gaps(X, rate=0.3)
    save(model, tmp_path / "model.skae")
    loaded = load(tmp_path / "model.skae")
    assert loaded.missing_indicator_ is True
    assert_allclose(loaded.inverse_transform(loaded.transform(hidden)),
                    model.inverse_transform(model.transform(hidden)), rtol=1e-6)


# -- AutoencoderImputer ------------------------------------------------------
def _imputer(**kwargs):
    return AutoencoderImputer(DenoisingAutoencoder(noise="masking", noise_level=0.25,
                                                   n_components=6, batch_size=32,
                                                   **dict(SMALL, max_iter=100)), **kwargs)


def test_imputer_fills_only_the_gaps_and_beats_the_column_mean():
    X = correlated(n=600)
    gappy, mask = with_gaps(X, rate=0.2)
    filled = _imputer(random_state=0).fit_transform(gappy)
    assert not np.isnan(filled).any()
    assert_array_equal(filled[~mask], X[~mask])
    ours = np.sqrt(np.mean((filled[mask] - X[mask]) ** 2))
    mean = np.sqrt(np.mean((SimpleImputer().fit_transform(gappy)[mask] - X[mask]) ** 2))
    assert ours < 0.6 * mean


def test_imputer_api_indicator_names_pandas_and_markers():
    pd = pytest.importorskip("pandas")
    X = correlated()
    gappy, mask = with_gaps(X)
    frame = pd.DataFrame(gappy, columns=list("abcdef"))
    imputer = _imputer(add_indicator=True, random_state=0).set_output(transform="pandas")
    out = imputer.fit_transform(frame)
    assert list(out.columns[:6]) == list("abcdef")
    assert list(out.columns[6:]) == [f"missingindicator_{c}" for c in "abcdef"]
    assert_array_equal(out.iloc[:, 6:].to_numpy(), mask.astype(float))
    marked = np.where(mask, -1.0, X)
    by_marker = _imputer(missing_values=-1.0, random_state=0).fit_transform(marked)
    assert_allclose(by_marker, _imputer(random_state=0).fit_transform(gappy))


def test_imputer_drops_or_keeps_features_never_observed():
    gappy, _ = with_gaps(correlated())
    gappy[:, 3] = np.nan
    with pytest.warns(UserWarning, match="without any observed values"):
        dropped = _imputer(random_state=0).fit(gappy)
    assert dropped.transform(gappy).shape == (400, 5)
    assert list(dropped.get_feature_names_out()) == ["x0", "x1", "x2", "x4", "x5"]
    kept = _imputer(keep_empty_features=True, random_state=0).fit(gappy)
    assert_array_equal(kept.transform(gappy)[:, 3], 0.0)


def test_multiple_imputation_draws_around_the_fill():
    X = correlated(n=600)
    gappy, mask = with_gaps(X, rate=0.2)
    imputer = _imputer(sample_posterior=True, random_state=0).fit(gappy)
    draws = np.stack([imputer.transform(gappy) for _ in range(20)])
    assert_array_equal(draws[:, ~mask], np.broadcast_to(X[~mask], (20, (~mask).sum())))
    spread = draws.std(axis=0)[mask]
    assert (spread > 0).all()
    # The draws' spread is the measured error of each feature's imputations.
    per_feature = np.nanmean(np.where(mask, draws.std(axis=0), np.nan), axis=0)
    assert_allclose(per_feature, imputer.imputation_error_, rtol=0.5)


def test_imputer_in_a_pipeline_before_a_detector():
    gappy, _ = with_gaps(correlated())
    pipe = make_pipeline(_imputer(random_state=0),
                         OutlierAutoencoder(max_iter=5, random_state=0)).fit(gappy)
    assert np.isfinite(pipe.score_samples(gappy)).all()


def test_gaussian_fill_is_the_conditional_mean():
    from sklearn_ae._gaussian import GaussianFill

    gappy, mask = with_gaps(correlated(), rate=0.3)
    model = GaussianFill().fit(gappy)
    filled = model.fill(gappy[:20])
    # Per row: mu_m - P_mm^-1 P_mo (x_o - mu_o), in standardised units.
    P, center = model.precision_, model.center_
    for i in range(20):
        m = mask[i]
        if not m.any() or m.all():
            continue
        z = (gappy[i] - model.mean_) / model.scale_ - center
        expected = center[m] - np.linalg.solve(P[np.ix_(m, m)], P[np.ix_(m, ~m)] @ z[~m])
        assert_allclose(filled[i, m], expected * model.scale_[m] + model.mean_[m], rtol=1e-6,
                        atol=1e-8)
    assert_array_equal(filled[~mask[:20]], gappy[:20][~mask[:20]])


def test_blending_fills_a_linear_table_as_a_linear_model_does():
    # 150 rows on a 2-d plane in 6 features: few rows for a network, and
    # linear regressions fill best. The blend's weights move to the linear
    # model there, and the fills get within 10% of IterativeImputer's RMSE.
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401
    from sklearn.impute import IterativeImputer

    X = correlated(n=150, seed=3)
    gappy, mask = with_gaps(X, rate=0.2)
    blended = AutoencoderImputer(random_state=0).fit(gappy)
    alone = AutoencoderImputer(random_state=0, blend=False).fit(gappy)
    assert alone.blend_weights_ is None
    assert ((0 <= blended.blend_weights_) & (blended.blend_weights_ <= 1)).all()

    def rmse(filled):
        return np.sqrt(np.mean((filled[mask] - X[mask]) ** 2))

    ours, network = rmse(blended.transform(gappy)), rmse(alone.transform(gappy))
    # The baseline's rounds converge slowly on 150 rows (300 of them here).
    linear = rmse(IterativeImputer(max_iter=300, random_state=0).fit_transform(gappy))
    assert ours < network and ours < 1.1 * linear, (ours, network, linear)
    assert np.isfinite(blended.imputation_error_).all()


def test_blend_cells_are_not_drawn_with_a_fixed_seed():
    # Gaps blanked with RandomState(0): cells held out with that same seed
    # would all be gaps already, and no weight could be measured.
    X = correlated()
    gappy = np.where(np.random.RandomState(0).rand(*X.shape) < 0.2, np.nan, X)
    imputer = AutoencoderImputer(random_state=0, estimator=DenoisingAutoencoder(
        **dict(SMALL, max_iter=5))).fit(gappy)
    assert np.isfinite(imputer.imputation_error_).all()
    assert len(np.unique(imputer.blend_weights_)) > 1
