"""Tests for ndflow/keras/losses.py: values against Keras 3 fixtures and NumPy formulas,
reductions and sample weights, gradients, dtypes, lookup/serialization and error messages."""

import json
import os

import numpy as np
import pytest

import ndflow as tf
from ndflow.keras import losses
from tests.helpers import check_grad

FIXTURES = np.load(os.path.join(os.path.dirname(__file__), "fixtures",
                                "keras_losses_metrics.npz"))
CASES = [case for case in json.loads(str(FIXTURES["cases"])) if case["kind"] == "loss"]


def _case_id(case):
    config = ",".join(f"{k}={v}" for k, v in case["config"].items())
    return f"{case['cls']}({config})-{case['y_true']}-{case['reduction']}-w{case['weighted']}"


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_loss_matches_keras_fixture(case):
    loss = getattr(losses, case["cls"])(reduction=case["reduction"], **case["config"])
    kwargs = {"sample_weight": FIXTURES["sw"]} if case["weighted"] else {}
    value = loss(FIXTURES[case["y_true"]], FIXTURES[case["y_pred"]], **kwargs)
    expected = FIXTURES[case["expected"]]
    assert value.dtype == tf.float32
    assert tuple(value.shape) == expected.shape
    np.testing.assert_allclose(value.numpy(), expected, rtol=2e-5, atol=2e-6)


def _np_cce(y_true, p):
    p = p / p.sum(-1, keepdims=True)
    return -(y_true * np.log(np.clip(p, 1e-7, 1 - 1e-7))).sum(-1)


RNG = np.random.RandomState(0)
Y1H = np.eye(3)[[0, 2, 1, 1]].astype("float32")
PROBS = RNG.dirichlet([1, 1, 1], 4).astype("float32")


@pytest.mark.parametrize("reduction,expected", [
    ("sum_over_batch_size", lambda v, w: (v * w).sum() / v.size),
    ("auto", lambda v, w: (v * w).sum() / v.size),
    ("mean", lambda v, w: (v * w).sum() / v.size),
    ("sum", lambda v, w: (v * w).sum()),
    ("mean_with_sample_weight", lambda v, w: (v * w).sum() / w.sum()),
    ("none", lambda v, w: v * w),
    (None, lambda v, w: v * w),
], ids=["sum_over_batch_size", "auto", "mean", "sum", "mean_with_sample_weight", "none",
        "None"])
def test_reductions_against_numpy(reduction, expected):
    weights = np.array([0.5, 0.0, 2.0, 1.0], "float32")
    per_sample = _np_cce(Y1H, PROBS)
    loss = losses.CategoricalCrossentropy(reduction=reduction)
    np.testing.assert_allclose(loss(Y1H, PROBS, sample_weight=weights).numpy(),
                               expected(per_sample, weights), rtol=1e-5)


def test_sample_weight_column_and_scalar():
    loss = losses.MeanSquaredError()
    y_true, y_pred = np.ones((4, 2), "float32"), np.zeros((4, 2), "float32")
    column = np.array([[1.0], [2.0], [0.0], [1.0]], "float32")
    np.testing.assert_allclose(loss(y_true, y_pred, sample_weight=column).numpy(), 1.0)
    np.testing.assert_allclose(loss(y_true, y_pred, sample_weight=3.0).numpy(), 3.0)


def test_sample_weight_per_timestep():
    loss = losses.MeanSquaredError(reduction="sum")
    y_true = np.ones((2, 3, 1), "float32")
    y_pred = np.zeros((2, 3, 1), "float32")
    weights = np.array([[1.0, 0.0, 2.0], [1.0, 1.0, 1.0]], "float32")
    np.testing.assert_allclose(loss(y_true, y_pred, sample_weight=weights).numpy(), 6.0)


@pytest.mark.parametrize("labels", [np.array([0, 2, 1, 1]), np.array([[0], [2], [1], [1]]),
                                    np.array([0.0, 2.0, 1.0, 1.0])],
                         ids=["int_vector", "int_column", "float_vector"])
def test_sparse_labels_shapes(labels):
    value = losses.SparseCategoricalCrossentropy(reduction=None)(labels, PROBS)
    np.testing.assert_allclose(value.numpy(), _np_cce(Y1H, PROBS), rtol=1e-5)


def test_sparse_ignore_class():
    labels = np.array([0, -1, 1, 1])
    value = losses.SparseCategoricalCrossentropy(ignore_class=-1)(labels, PROBS)
    per_sample = _np_cce(Y1H, PROBS)[[0, 2, 3]]
    np.testing.assert_allclose(value.numpy(), per_sample.mean(), rtol=1e-5)


def test_function_forms_and_aliases():
    y_true = RNG.randn(3, 4).astype("float32")
    y_pred = RNG.randn(3, 4).astype("float32")
    mse = ((y_true - y_pred) ** 2).mean(-1)
    for fn in (losses.mse, losses.MSE, losses.mean_squared_error):
        np.testing.assert_allclose(fn(y_true, y_pred).numpy(), mse, rtol=1e-6)
    np.testing.assert_allclose(losses.mae(y_true, y_pred).numpy(),
                               np.abs(y_true - y_pred).mean(-1), rtol=1e-6)
    assert losses.kld is losses.kl_divergence and losses.logcosh is losses.log_cosh


def test_from_logits_matches_probabilities():
    logits = RNG.randn(4, 3).astype("float32")
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    np.testing.assert_allclose(
        losses.categorical_crossentropy(Y1H, logits, from_logits=True).numpy(),
        losses.categorical_crossentropy(Y1H, probs).numpy(), rtol=1e-5)
    big = np.array([[100.0, -100.0]], "float32")
    value = losses.binary_crossentropy(np.array([[0.0, 1.0]], "float32"), big,
                                       from_logits=True)
    np.testing.assert_allclose(value.numpy(), [100.0], rtol=1e-6)


def test_label_smoothing_against_numpy():
    smoothed = Y1H * 0.8 + 0.2 / 3
    np.testing.assert_allclose(
        losses.categorical_crossentropy(Y1H, PROBS, label_smoothing=0.2).numpy(),
        _np_cce(smoothed, PROBS), rtol=1e-5)


def test_float16_predictions_computed_in_float32():
    value = losses.CategoricalCrossentropy()(Y1H.astype("float16"), PROBS.astype("float16"))
    assert value.dtype == tf.float32
    assert losses.CategoricalCrossentropy(dtype="mixed_float16").dtype == "float16"


@pytest.mark.parametrize("loss", [
    losses.CategoricalCrossentropy(), losses.CategoricalCrossentropy(from_logits=True),
    losses.SparseCategoricalCrossentropy(from_logits=True), losses.MeanSquaredError(),
    losses.Huber(delta=0.5), losses.LogCosh(), losses.BinaryCrossentropy(from_logits=True),
    losses.KLDivergence(), losses.CosineSimilarity(),
], ids=lambda loss: type(loss).__name__ + ("_logits" if getattr(loss, "from_logits", 0)
                                            else ""))
def test_gradients(loss):
    sparse = isinstance(loss, losses.SparseCategoricalCrossentropy)
    y_true = np.array([0, 2, 1]) if sparse else np.eye(3)[[0, 2, 1]] * 0.8 + 0.05
    y_pred = RNG.uniform(0.1, 0.9, (3, 3))
    loss.__init__(**{**loss.get_config(), "dtype": "float64"})
    order = 1 if isinstance(loss, losses.Huber) else 2
    check_grad(lambda p: loss(y_true, p), y_pred, order=order)


def test_gradient_under_tape_and_function():
    loss = losses.SparseCategoricalCrossentropy(from_logits=True)
    logits = tf.Variable(RNG.randn(4, 3).astype("float32"))
    labels = tf.constant([0, 1, 2, 1])

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            value = loss(labels, logits)
        return value, tape.gradient(value, logits)

    value, grad = step()
    probs = np.exp(logits.numpy()) / np.exp(logits.numpy()).sum(-1, keepdims=True)
    np.testing.assert_allclose(grad.numpy(), (probs - np.eye(3)[[0, 1, 2, 1]]) / 4, rtol=1e-5)
    assert value.shape == ()


def test_get_identifiers():
    assert losses.get("mse") is losses.mean_squared_error
    assert losses.get("mean_squared_error") is losses.mean_squared_error
    assert isinstance(losses.get("MeanSquaredError"), losses.MeanSquaredError)
    instance = losses.Huber()
    assert losses.get(instance) is instance
    assert losses.get(None) is None
    config = losses.serialize(losses.CategoricalCrossentropy(from_logits=True))
    restored = losses.get(config)
    assert isinstance(restored, losses.CategoricalCrossentropy) and restored.from_logits
    assert losses.get({"class_name": "Huber", "config": {"delta": 2.0}}).delta == 2.0
    assert losses.deserialize(losses.serialize(losses.mae)) is losses.mean_absolute_error


def test_get_unknown_name_suggests_matches():
    with pytest.raises(ValueError, match="categorical_crosentropy.*categorical_crossentropy"):
        losses.get("categorical_crosentropy")


@pytest.mark.parametrize("cls", [losses.BinaryFocalCrossentropy, losses.Huber,
                                 losses.SparseCategoricalCrossentropy, losses.Tversky],
                         ids=lambda c: c.__name__)
def test_config_round_trip(cls):
    loss = cls(reduction="sum", name="custom")
    restored = cls.from_config(loss.get_config())
    assert restored.get_config() == loss.get_config()


def test_loss_function_wrapper_config():
    loss = losses.LossFunctionWrapper(losses.huber, name="h", delta=2.0)
    restored = losses.LossFunctionWrapper.from_config(loss.get_config())
    assert restored.fn is losses.huber and restored._fn_kwargs == {"delta": 2.0}


def test_subclass_call():
    class Doubled(losses.Loss):
        def call(self, y_true, y_pred):
            return 2.0 * tf.reduce_mean(tf.abs(y_true - y_pred), axis=-1)

    loss = Doubled()
    assert loss.name.startswith("doubled")
    np.testing.assert_allclose(loss(np.ones((2, 2)), np.zeros((2, 2))).numpy(), 2.0)


def test_invalid_reduction():
    with pytest.raises(ValueError, match="reduction=average"):
        losses.MeanSquaredError(reduction="average")


def test_wrong_label_shape_names_loss_and_shapes():
    with pytest.raises(ValueError, match=r"CategoricalCrossentropy 'cce'.*\(2, 3\).*\(2, 4\)"):
        losses.CategoricalCrossentropy(name="cce")(np.ones((2, 3)), np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"MeanSquaredError.*\(4, 3\).*\(4, 2\)"):
        losses.MeanSquaredError()(np.ones((4, 3)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"SparseCategoricalCrossentropy.*\(2, 2\).*\(2, 3\)"):
        losses.SparseCategoricalCrossentropy()(np.zeros((2, 2)), np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"binary_crossentropy.*\(2, 3\).*\(2, 1\)"):
        losses.binary_crossentropy(np.ones((2, 3)), np.ones((2, 1)) * 0.5)


def test_bad_sample_weight_shape():
    with pytest.raises(ValueError, match=r"sample_weight.*\(3,\).*\(4,\)"):
        losses.MeanSquaredError()(np.ones((4, 2)), np.zeros((4, 2)), sample_weight=np.ones(3))


def test_against_tensorflow_if_available():
    keras = pytest.importorskip("tensorflow").keras
    y_pred = RNG.uniform(0.05, 0.95, (5, 3)).astype("float32")
    y_true = np.eye(3)[[0, 1, 2, 0, 1]].astype("float32")
    for name in ("CategoricalCrossentropy", "BinaryCrossentropy", "KLDivergence"):
        expected = getattr(keras.losses, name)()(y_true, y_pred).numpy()
        np.testing.assert_allclose(getattr(losses, name)()(y_true, y_pred).numpy(), expected,
                                   rtol=1e-5)
