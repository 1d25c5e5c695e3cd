"""EarlyStopping, ReduceLROnPlateau, LearningRateScheduler, TerminateOnNaN through real fits."""

import numpy as np
import pytest

import ndflow as tf
from tests.keras.callbacks.callback_helpers import FixedLoss

callbacks = tf.keras.callbacks


def _lr(model):
    return float(np.asarray(model.optimizer.learning_rate))


def test_early_stopping_flat_loss_stops_after_three_epochs(data, make_model):
    model = make_model()
    stop = callbacks.EarlyStopping(monitor="loss", patience=2)
    history = model.fit(*data, epochs=10, verbose=0, callbacks=[FixedLoss([1.0]), stop])
    assert len(history.history["loss"]) == 3
    assert stop.stopped_epoch == 2


@pytest.mark.parametrize("patience, expected_epochs", [(0, 2), (1, 2), (3, 4)],
                         ids=["patience0", "patience1", "patience3"])
def test_early_stopping_patience_counts_epochs_without_improvement(data, make_model, patience,
                                                                   expected_epochs):
    model = make_model()
    stop = callbacks.EarlyStopping(monitor="loss", patience=patience)
    history = model.fit(*data, epochs=10, verbose=0, callbacks=[FixedLoss([1.0]), stop])
    assert len(history.history["loss"]) == expected_epochs


def test_early_stopping_min_delta_and_mode_max(data, make_model):
    model = make_model()
    values = [0.1, 0.15, 0.16, 0.5, 0.5, 0.5]  # "max": 0.15 beats 0.1 by > 0.02, 0.16 does not
    stop = callbacks.EarlyStopping(monitor="acc", mode="max", min_delta=0.02, patience=1)
    history = model.fit(*data, epochs=6, verbose=0, callbacks=[FixedLoss(values, "acc"), stop])
    assert len(history.history["loss"]) == 3
    assert stop.best == 0.15


def test_early_stopping_baseline_not_reached(data, make_model):
    model = make_model()
    stop = callbacks.EarlyStopping(monitor="loss", baseline=0.5, patience=2)
    history = model.fit(*data, epochs=10, verbose=0,
                        callbacks=[FixedLoss([0.9, 0.8, 0.7, 0.6]), stop])
    # Keras' rule: improving epochs return before the patience check, and the wait counter is
    # reset only by beating the baseline; the first flat epoch (4) then stops training.
    assert len(history.history["loss"]) == 5
    assert stop.wait == 5


def test_early_stopping_start_from_epoch(data, make_model):
    model = make_model()
    stop = callbacks.EarlyStopping(monitor="loss", patience=1, start_from_epoch=3)
    history = model.fit(*data, epochs=10, verbose=0, callbacks=[FixedLoss([1.0]), stop])
    assert len(history.history["loss"]) == 5


def test_early_stopping_restore_best_weights(data, make_model):
    model = make_model()
    seen = []
    record = callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: seen.append([w.copy() for w in model.get_weights()]))
    stop = callbacks.EarlyStopping(monitor="loss", patience=2, restore_best_weights=True)
    values = [3.0, 1.0, 2.0, 2.0, 2.0]
    model.fit(*data, epochs=10, verbose=0, callbacks=[FixedLoss(values), record, stop])
    assert stop.best_epoch == 1
    for restored, best in zip(model.get_weights(), seen[1]):
        np.testing.assert_array_equal(restored, best)
    assert not np.array_equal(model.get_weights()[0], seen[-1][0])


def test_early_stopping_missing_monitor_warns(data, make_model):
    model = make_model()
    with pytest.warns(UserWarning, match="val_loss.*not available"):
        history = model.fit(*data, epochs=2, verbose=0, callbacks=[callbacks.EarlyStopping()])
    assert len(history.history["loss"]) == 2


def test_monitor_auto_mode_unknown_metric_raises(data, make_model):
    model = make_model()
    stop = callbacks.EarlyStopping(monitor="weird")
    with pytest.raises(ValueError, match="monitor=weird.*mode='max'"):
        model.fit(*data, epochs=1, verbose=0, callbacks=[FixedLoss([1.0], "weird"), stop])


def test_monitor_unknown_mode_warns():
    with pytest.warns(UserWarning, match="mode 'sideways' is unknown"):
        stop = callbacks.EarlyStopping(mode="sideways")
    assert stop.mode == "auto"


def test_reduce_lr_on_plateau_with_cooldown_and_min_lr(data, make_model):
    model = make_model(learning_rate=0.1)
    rates = []
    reduce = callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, cooldown=2,
                                         min_lr=0.03)
    record = callbacks.LambdaCallback(on_epoch_end=lambda e, logs: rates.append(_lr(model)))
    history = model.fit(*data, epochs=6, verbose=0, callbacks=[FixedLoss([1.0]), reduce, record])
    # Checked against TF 2.21: 0 sets best; 1 reduces; 2 cools down; 3 reduces to min_lr.
    np.testing.assert_allclose(rates, [0.1, 0.05, 0.05, 0.03, 0.03, 0.03], rtol=1e-6)
    np.testing.assert_allclose(history.history["learning_rate"],
                               [0.1, 0.1, 0.05, 0.05, 0.03, 0.03], rtol=1e-6)


def test_reduce_lr_on_plateau_rejects_factor_one():
    with pytest.raises(ValueError, match="factor >= 1.0"):
        callbacks.ReduceLROnPlateau(factor=1.0)


@pytest.mark.parametrize("schedule", [lambda epoch, lr: 0.1 / (epoch + 1),
                                      lambda epoch: 0.1 / (epoch + 1)],
                         ids=["epoch_and_lr", "epoch_only"])
def test_learning_rate_scheduler_sets_optimizer_rate(data, make_model, schedule):
    model = make_model()
    rates = []
    record = callbacks.LambdaCallback(on_epoch_begin=lambda e, logs: rates.append(_lr(model)))
    history = model.fit(*data, epochs=3, verbose=0,
                        callbacks=[callbacks.LearningRateScheduler(schedule), record])
    np.testing.assert_allclose(rates, [0.1, 0.05, 0.1 / 3], rtol=1e-6)
    np.testing.assert_allclose(history.history["learning_rate"], [0.1, 0.05, 0.1 / 3],
                               rtol=1e-6)


def test_learning_rate_scheduler_changes_training(data, make_model):
    frozen = make_model()
    before = [w.copy() for w in frozen.get_weights()]
    frozen.fit(*data, epochs=2, verbose=0,
               callbacks=[callbacks.LearningRateScheduler(lambda epoch, lr: 0.0)])
    for after, start in zip(frozen.get_weights(), before):
        np.testing.assert_array_equal(after, start)


def test_learning_rate_scheduler_rejects_non_float(data, make_model):
    model = make_model()
    with pytest.raises(ValueError, match="should be a float"):
        model.fit(*data, epochs=1, verbose=0,
                  callbacks=[callbacks.LearningRateScheduler(lambda epoch, lr: "fast")])


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_terminate_on_nan_stops_training(data, make_model):
    model = make_model()
    x, y = data
    y = y.copy()
    y[0] = np.nan
    history = model.fit(x, y, epochs=5, batch_size=8, verbose=0,
                        callbacks=[callbacks.TerminateOnNaN()])
    assert len(history.history["loss"]) == 1
    assert np.isnan(history.history["loss"][0])


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_terminate_on_nan_raise_error(data, make_model):
    model = make_model()
    x, y = data
    with pytest.raises(RuntimeError, match="NaN or Inf loss encountered at batch 0"):
        model.fit(x, np.full_like(y, np.inf), epochs=2, batch_size=8, verbose=0,
                  callbacks=[callbacks.TerminateOnNaN(raise_error=True)])
