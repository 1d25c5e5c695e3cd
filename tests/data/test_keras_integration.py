"""Datasets as Keras inputs: fit/evaluate/predict with batched datasets, infinite datasets with
steps_per_epoch, (x, y, sample_weight) elements; tf.print inside a traced map function."""

import numpy as np

import ndflow as tf

D = tf.data.Dataset


def _model():
    tf.random.set_seed(0)
    model = tf.keras.Sequential([tf.keras.layers.Dense(4, activation="relu"),
                                 tf.keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    return model


def _data():
    rng = np.random.default_rng(0)
    x = rng.random((64, 3)).astype(np.float32)
    return x, x.sum(axis=1, keepdims=True)


def test_fit_evaluate_predict_take_datasets():
    x, y = _data()
    model = _model()
    history = model.fit(D.from_tensor_slices((x, y)).shuffle(64, seed=1).batch(16), epochs=3,
                        verbose=0)
    assert len(history.history["loss"]) == 3
    assert history.history["loss"][-1] < history.history["loss"][0]
    weights = np.ones(64, np.float32)
    loss = model.evaluate(D.from_tensor_slices((x, y, weights)).batch(32), verbose=0)
    assert np.isfinite(loss)
    assert model.predict(D.from_tensor_slices(x).batch(10), verbose=0).shape == (64, 1)


def test_fit_on_infinite_dataset_with_steps_per_epoch():
    x, y = _data()
    model = _model()
    endless = D.from_tensor_slices((x, y)).batch(8).repeat()
    assert int(endless.cardinality()) == tf.data.INFINITE_CARDINALITY
    history = model.fit(endless, epochs=2, steps_per_epoch=3, verbose=0)
    assert len(history.history["loss"]) == 2


def test_tf_print_in_map_prints_per_element(capfd):
    dataset = D.range(3).map(lambda x: (tf.print("element", x), x)[1])
    assert list(dataset.as_numpy_iterator()) == [0, 1, 2]
    captured = capfd.readouterr()
    assert (captured.out + captured.err).count("element") == 3
