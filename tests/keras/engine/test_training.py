"""compile / fit / evaluate / predict and the train-step machinery."""

import numpy as np
import pytest

import ndflow as tf
from ndflow import keras
from ndflow.keras import layers


def _data(n=256, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5], [1.5]], np.float32)).astype(np.float32)
    return x, y


def _regressor():
    return keras.Sequential([keras.Input((4,)), layers.Dense(1)])


def test_fit_reaches_low_loss_and_history_keys():
    x, y = _data()
    model = _regressor()
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse", metrics=["mae"])
    history = model.fit(x, y, epochs=20, batch_size=32, verbose=0, validation_split=0.25)
    assert list(history.history) == ["loss", "mae", "val_loss", "val_mae"]
    assert len(history.history["loss"]) == 20
    assert history.history["loss"][-1] < 1e-3
    assert history.history["val_loss"][-1] < 1e-3


def test_evaluate_return_forms():
    x, y = _data()
    model = _regressor()
    model.compile(optimizer="sgd", loss="mse")
    assert isinstance(model.evaluate(x, y, verbose=0), float)
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    values = model.evaluate(x, y, verbose=0)
    assert isinstance(values, list) and len(values) == 2
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert set(logs) == {"loss", "mae"}
    np.testing.assert_allclose(logs["loss"], np.mean((model.predict(x, verbose=0) - y) ** 2),
                               rtol=1e-4)


def test_predict_batches_and_concatenates():
    x, _ = _data(n=70)
    model = _regressor()
    out = model.predict(x, batch_size=32, verbose=0)
    assert isinstance(out, np.ndarray) and out.shape == (70, 1)
    np.testing.assert_allclose(out, model(x).numpy(), rtol=1e-5)


def test_loss_is_a_per_sample_mean_over_the_epoch():
    x, y = _data(n=50)
    model = _regressor()
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    history = model.fit(x, y, epochs=1, batch_size=32, verbose=0, shuffle=False)
    expected = np.mean((model.predict(x, verbose=0) - y) ** 2)
    np.testing.assert_allclose(history.history["loss"][0], expected, rtol=1e-4)


def test_run_eagerly_gives_the_same_training():
    x, y = _data()
    results = []
    for eager in (False, True):
        tf.random.set_seed(1)
        model = _regressor()
        model.set_weights([np.full((4, 1), 0.1, np.float32), np.zeros(1, np.float32)])
        model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse", run_eagerly=eager)
        model.fit(x, y, epochs=2, batch_size=64, verbose=0, shuffle=False)
        results.append(model.get_weights()[0])
    np.testing.assert_allclose(results[0], results[1], rtol=1e-5)


def test_train_step_is_traced_once_per_batch_shape():
    x, y = _data(n=100)
    model = _regressor()
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, epochs=3, batch_size=32, verbose=0)
    # full batches and the smaller last batch share one generalised trace
    assert model._train_function.experimental_get_tracing_count() <= 2


def test_sample_weight_and_class_weight():
    x = np.array([[0.0], [1.0]], np.float32)
    y = np.array([[0.0], [1.0]], np.float32)
    model = keras.Sequential([keras.Input((1,)), layers.Dense(1, kernel_initializer="zeros")])
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    weighted = model.evaluate(x, y, sample_weight=np.array([0.0, 1.0]), verbose=0)
    assert weighted == pytest.approx(0.5)
    labels = np.array([0, 1, 1, 1])
    clf = keras.Sequential([keras.Input((1,)), layers.Dense(2, activation="softmax")])
    clf.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    clf.fit(np.ones((4, 1), np.float32), labels, class_weight={0: 3.0, 1: 1.0}, epochs=1,
            verbose=0)


def test_train_on_batch_and_test_on_batch():
    x, y = _data(n=32)
    model = _regressor()
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    loss, mae = model.train_on_batch(x, y)
    assert loss > 0 and mae > 0
    logs = model.test_on_batch(x, y, return_dict=True)
    assert set(logs) == {"loss", "mae"}


def test_custom_train_step_override():
    calls = []

    class Custom(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(1)

        def call(self, inputs):
            return self.dense(inputs)

        def train_step(self, data):
            calls.append(1)
            return super().train_step(data)

    x, y = _data(n=64)
    model = Custom()
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    assert calls  # traced through the override


def test_accuracy_metric_is_chosen_from_the_loss():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype(np.float32)
    sparse = (x[:, 0] > 0).astype(np.int32)
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    logs = model.evaluate(x, sparse, verbose=0, return_dict=True)
    predicted = np.argmax(model.predict(x, verbose=0), axis=1)
    assert logs["accuracy"] == pytest.approx(np.mean(predicted == sparse))


def test_fit_without_compile_raises():
    model = _regressor()
    with pytest.raises(RuntimeError, match="compile"):
        model.fit(np.ones((2, 4)), np.ones((2, 1)), verbose=0)


def test_progress_bar_verbose_two_prints_one_line_per_epoch(capsys):
    x, y = _data(n=64)
    model = _regressor()
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, epochs=2, batch_size=32, verbose=2)
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out
    assert "2/2 - " in out and "loss: " in out


def test_dropout_only_active_in_training():
    layer = layers.Dropout(0.5)
    x = np.ones((100, 10), np.float32)
    np.testing.assert_array_equal(layer(x).numpy(), x)
    trained = layer(x, training=True).numpy()
    assert set(np.unique(trained)) <= {0.0, 2.0}
    assert 0.3 < np.mean(trained == 0) < 0.7
