"""The epoch and batch loops of `fit`, `evaluate` and `predict`.

Per step, the loop does only what the step needs: take the next batch, run the compiled step,
and call the batch hooks of callbacks that define them. Logs stay tensors until a callback or
the progress bar reads them.
"""

import numpy as np

from ndflow.framework.tensor import EagerTensor, Tensor
from ndflow.keras.callbacks.base import CallbackList
from ndflow.keras.engine import data_adapter
from ndflow.util import nest


def _verbose(value):
    return 1 if value == "auto" else int(value)


def _logs_to_floats(logs):
    """Scalars become Python floats; vector results (F1Score per class) stay NumPy arrays."""
    result = {}
    for key, value in (logs or {}).items():
        if isinstance(value, (Tensor, np.ndarray, np.generic)):
            array = np.asarray(value)
            value = float(array) if array.ndim == 0 else array
        result[key] = value
    return result


def _batches(adapter, steps_per_execution):
    """Groups consecutive batches for `steps_per_execution`."""
    group = []
    for batch in adapter.epoch():
        group.append(batch)
        if len(group) == steps_per_execution:
            yield group
            group = []
    if group:
        yield group


def fit(model, args):
    model._assert_compiled("fit")
    x, y, sample_weight = args["x"], args["y"], args["sample_weight"]
    validation_data = args["validation_data"]
    if args["validation_split"] and validation_data is None:
        (x, y, sample_weight), validation_data = data_adapter.train_validation_split(
            (x, y, sample_weight), args["validation_split"])
    if args["class_weight"] is not None:
        if y is None:
            raise ValueError("`class_weight` is only supported with array targets `y`.")
        weights = data_adapter.class_weights_to_sample_weights(y, args["class_weight"])
        sample_weight = weights if sample_weight is None else sample_weight * weights
    adapter = data_adapter.adapter_for(x, y, sample_weight, args["batch_size"],
                                       args["shuffle"], args["steps_per_epoch"])
    validation = None
    if validation_data is not None:
        vx, vy, vw = data_adapter.unpack(validation_data) if isinstance(
            validation_data, (tuple, list)) else (validation_data, None, None)
        validation = data_adapter.adapter_for(
            vx, vy, vw, args["validation_batch_size"] or args["batch_size"], False,
            args["validation_steps"])
    verbose = _verbose(args["verbose"])
    epochs = args["epochs"]
    callbacks = CallbackList(args["callbacks"], add_history=True, add_progbar=verbose != 0,
                             model=model, verbose=verbose, epochs=epochs, steps=adapter.steps)
    train_function = model.make_train_function()
    model.stop_training = False
    callbacks.on_train_begin()
    # BackupAndRestore sets the epoch to resume from during on_train_begin, as in Keras.
    initial_epoch = getattr(model, "_initial_epoch", None) or args["initial_epoch"]
    per_batch = callbacks.wants("on_train_batch_end")
    per_batch_begin = callbacks.wants("on_train_batch_begin")
    logs = {}
    for epoch in range(initial_epoch, epochs):
        model.reset_metrics()
        callbacks.on_epoch_begin(epoch)
        step = 0
        logs = None
        for group in _batches(adapter, model._steps_per_execution):
            if per_batch_begin:
                callbacks.on_train_batch_begin(step)
            logs = train_function(group)
            step += len(group)
            if per_batch:
                callbacks.on_train_batch_end(step - 1, _logs_to_floats(logs))
            if model.stop_training:
                break
        if logs is None:
            raise ValueError("Unexpected result of `train_function` (Empty logs). This could "
                             "be due to an empty dataset or a batch size larger than the data.")
        epoch_logs = _logs_to_floats(logs)
        freq = args["validation_freq"]
        run_validation = validation is not None and (
            (epoch + 1) % freq == 0 if isinstance(freq, int) else epoch + 1 in freq)
        if run_validation:
            validation_logs = _evaluate_adapter(model, validation, None)
            epoch_logs.update({f"val_{k}": v for k, v in validation_logs.items()})
        epoch_logs = dict(sorted(epoch_logs.items()))  # Keras 3 orders epoch logs by name
        callbacks.on_epoch_end(epoch, epoch_logs)
        logs = epoch_logs
        if model.stop_training:
            break
    callbacks.on_train_end(logs)
    return callbacks.history


def _evaluate_adapter(model, adapter, callbacks):
    test_function = model.make_test_function()
    model.reset_metrics()
    logs = None
    step = 0
    per_batch = callbacks is not None and callbacks.wants("on_test_batch_end")
    for group in _batches(adapter, model._steps_per_execution):
        if callbacks is not None and callbacks.wants("on_test_batch_begin"):
            callbacks.on_test_batch_begin(step)
        logs = test_function(group)
        step += len(group)
        if per_batch:
            callbacks.on_test_batch_end(step - 1, _logs_to_floats(logs))
    if logs is None:
        raise ValueError("Unexpected result of `test_function` (Empty logs): the evaluation "
                         "data is empty.")
    return _logs_to_floats(logs)


def evaluate(model, args):
    model._assert_compiled("evaluate")
    adapter = data_adapter.adapter_for(args["x"], args["y"], args["sample_weight"],
                                       args["batch_size"], False, args["steps"])
    verbose = _verbose(args["verbose"])
    callbacks = CallbackList(args["callbacks"], add_progbar=verbose != 0, model=model,
                             verbose=verbose, epochs=1, steps=adapter.steps)
    callbacks.on_test_begin()
    logs = _evaluate_adapter(model, adapter, callbacks)
    callbacks.on_test_end(logs)
    if args["return_dict"]:
        return logs
    values = list(logs.values())
    return values[0] if len(values) == 1 else values


def predict(model, args):
    adapter = data_adapter.adapter_for(args["x"], None, None, args["batch_size"], False,
                                       args["steps"])
    verbose = _verbose(args["verbose"])
    callbacks = CallbackList(args["callbacks"], add_progbar=verbose != 0, model=model,
                             verbose=verbose, epochs=1, steps=adapter.steps)
    predict_function = model.make_predict_function()
    callbacks.on_predict_begin()
    outputs = []
    for step, batch in enumerate(adapter.epoch()):
        callbacks.on_predict_batch_begin(step)
        result = predict_function(batch)
        outputs.append(result)
        callbacks.on_predict_batch_end(step, {"outputs": result})
    callbacks.on_predict_end()
    if not outputs:
        raise ValueError("Unexpected result of `predict_function` (Empty batch_outputs): the "
                         "input data is empty.")
    return _concat_outputs(outputs)


def _concat_outputs(outputs):
    flat = [nest.flatten(o) for o in outputs]
    joined = []
    for parts in zip(*flat):
        arrays = [p.numpy() if isinstance(p, EagerTensor) else np.asarray(p) for p in parts]
        joined.append(np.concatenate(arrays, axis=0) if arrays[0].ndim else np.stack(arrays))
    return nest.pack_sequence_as(outputs[0], joined)


