"""`keras.Model`: compile, the train/test/predict steps, and the fit/evaluate/predict loops.

The steps are traced with `ndflow.function` (unless `run_eagerly=True`), so `fit` runs the
forward pass, the gradients and the optimizer update as one compiled graph per batch shape.
"""

import copy

from ndflow.autodiff.tape import GradientTape
from ndflow.framework.tensor import EagerTensor, Tensor, convert_to_tensor
from ndflow.framework.tensor_shape import TensorShape
from ndflow.function.polymorphic import function
from ndflow.keras.engine import compile_utils, data_adapter
from ndflow.keras.engine.base_layer import Layer
from ndflow.keras.engine.summary import print_summary
from ndflow.ops import array as array_ops
from ndflow.util import nest


class Model(Layer):
    """A layer with training and inference features (`keras.Model`).

    `Model(inputs, outputs)` builds a functional model; subclass `Model` and define `call` for
    a subclassed model.
    """

    def __new__(cls, *args, **kwargs):
        if cls is Model and (args or "inputs" in kwargs):
            from ndflow.keras.engine.functional import Functional  # noqa: PLC0415

            return Functional.__new__(Functional)
        return super().__new__(cls)

    def __init__(self, *args, **kwargs):
        if type(self).__name__ == "Functional" or not (args or "inputs" in kwargs):
            name = kwargs.pop("name", None)
            trainable = kwargs.pop("trainable", True)
            dtype = kwargs.pop("dtype", None)
            super().__init__(name=name, trainable=trainable, dtype=dtype, **kwargs)
        else:
            from ndflow.keras.engine.functional import Functional  # noqa: PLC0415

            Functional.__init__(self, *args, **kwargs)
            return
        self._compiled = False
        self.optimizer = None
        self.stop_training = False
        self.history = None
        self._run_eagerly = False
        self._jit_compile = None
        self._steps_per_execution = 1
        self._train_function = None
        self._test_function = None
        self._predict_function = None
        self._loss_tracker = None
        self.compiled_loss = None
        self.compiled_metrics = None
        self.loss = None

    # --- compile -----------------------------------------------------------------------------

    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None,
                weighted_metrics=None, run_eagerly=False, steps_per_execution=1,
                jit_compile="auto", auto_scale_loss=True, **kwargs):
        """Configures the model for training (`Model.compile`)."""
        from ndflow.keras import metrics as metrics_module  # noqa: PLC0415
        from ndflow.keras import optimizers  # noqa: PLC0415

        if kwargs.pop("experimental_run_tf_function", None) is not None:
            pass
        kwargs.pop("sample_weight_mode", None)
        if kwargs:
            raise TypeError(f"compile() got unexpected keyword arguments {sorted(kwargs)}")
        self.optimizer = optimizers.get(optimizer)
        self.loss = loss
        output_names = self._output_names_for_compile()
        self.compiled_loss = compile_utils.LossesContainer(loss, loss_weights, output_names) \
            if loss is not None else None
        self.compiled_metrics = compile_utils.MetricsContainer(
            metrics, weighted_metrics, output_names,
            self.compiled_loss.losses if self.compiled_loss is not None else [])
        self._loss_tracker = metrics_module.Mean(name="loss")
        self._run_eagerly = bool(run_eagerly)
        self._jit_compile = jit_compile if jit_compile != "auto" else None
        self._steps_per_execution = int(steps_per_execution or 1)
        self._train_function = self._test_function = self._predict_function = None
        self._compiled = True

    def _output_names_for_compile(self):
        outputs = getattr(self, "_outputs", None)
        if outputs and len(outputs) > 1:
            return [t._keras_history[0].name for t in outputs]
        return ["output"]

    @property
    def run_eagerly(self):
        return self._run_eagerly

    @run_eagerly.setter
    def run_eagerly(self, value):
        self._run_eagerly = bool(value)
        self._train_function = self._test_function = self._predict_function = None

    @property
    def metrics(self):
        """The loss tracker and the compiled metrics (built after the first batch)."""
        result = []
        if self._loss_tracker is not None:
            result.append(self._loss_tracker)
        if self.compiled_metrics is not None:
            result.extend(self.compiled_metrics.metrics)
        for layer in [self] + self._flatten_layers():
            result.extend(m for m in layer._metrics if all(m is not r for r in result))
        return result

    @property
    def metrics_names(self):
        return [m.name for m in self.metrics]

    def _flatten_layers(self):
        found = []
        stack = list(self._layers)
        while stack:
            layer = stack.pop(0)
            if all(layer is not f for f in found):
                found.append(layer)
                stack.extend(layer._layers)
        return found

    def reset_metrics(self):
        for metric in self.metrics:
            metric.reset_state()

    # --- steps -------------------------------------------------------------------------------

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The compiled loss plus the model's added and regularization losses."""
        total = None
        if self.compiled_loss is not None and y is not None:
            total = self.compiled_loss(y, y_pred, sample_weight)
        extra = [loss for loss in self.losses if loss is not None]
        if extra:
            from ndflow.ops import math as math_ops  # noqa: PLC0415

            summed = math_ops.add_n([array_ops.cast(convert_to_tensor(e), "float32")
                                     for e in extra])
            total = summed if total is None else total + array_ops.cast(summed, total.dtype)
        if total is None:
            raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`.")
        return total

    def train_step(self, data):
        """One optimization step on a batch: forward, loss, gradients, update, metrics."""
        x, y, sample_weight = data_adapter.unpack(data)
        with GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight)
            scaled = self.optimizer.scale_loss(loss) if hasattr(self.optimizer,
                                                                 "scale_loss") else loss
        variables = self.trainable_variables
        gradients = tape.gradient(scaled, variables)
        self.optimizer.apply_gradients(zip(gradients, variables))
        return self.compute_metrics(x, y, y_pred, sample_weight, loss=loss)

    def compute_metrics(self, x, y, y_pred, sample_weight=None, loss=None):
        """Updates the loss tracker and compiled metrics; returns their results."""
        if loss is not None and self._loss_tracker is not None:
            # Weighted by the batch size, so the epoch's loss is a per-sample mean (Keras 3).
            batch = array_ops.shape(nest.flatten(y_pred)[0])[0]
            self._loss_tracker.update_state(loss, sample_weight=array_ops.cast(batch,
                                                                                loss.dtype))
        if self.compiled_metrics is not None and y is not None:
            self.compiled_metrics.update_state(y, y_pred, sample_weight)
        return self.get_metrics_result()

    def get_metrics_result(self):
        results = {}
        for metric in self.metrics:
            value = metric.result()
            if isinstance(value, dict):
                results.update(value)
            else:
                results[metric.name] = value
        return results

    def test_step(self, data):
        x, y, sample_weight = data_adapter.unpack(data)
        y_pred = self(x, training=False)
        loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight,
                                 training=False)
        return self.compute_metrics(x, y, y_pred, sample_weight, loss=loss)

    def predict_step(self, data):
        x, _, _ = data_adapter.unpack(data)
        return self(x, training=False)

    def _make_function(self, step):
        if self._run_eagerly:
            return step
        return function(step, reduce_retracing=True, jit_compile=self._jit_compile,
                        autograph=False)

    def make_train_function(self, force=False):
        if self._train_function is None or force:
            self._train_function = self._make_function(self._multi_step(self.train_step))
        return self._train_function

    def make_test_function(self, force=False):
        if self._test_function is None or force:
            self._test_function = self._make_function(self._multi_step(self.test_step))
        return self._test_function

    def make_predict_function(self, force=False):
        if self._predict_function is None or force:
            self._predict_function = self._make_function(self.predict_step)
        return self._predict_function

    def _multi_step(self, step):
        def run(batches):
            logs = None
            for batch in batches:
                logs = step(batch)
            return logs

        return run

    # --- fit ---------------------------------------------------------------------------------

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1, max_queue_size=10, workers=1,
            use_multiprocessing=False):
        """Trains the model for `epochs` epochs; returns a `History` (`Model.fit`)."""
        from ndflow.keras.engine import trainer_loop  # noqa: PLC0415

        return trainer_loop.fit(self, locals())

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, max_queue_size=10, workers=1,
                 use_multiprocessing=False, return_dict=False, **kwargs):
        """Loss and metric values on data (`Model.evaluate`): a scalar without metrics, a list
        otherwise, a dict with `return_dict=True`."""
        from ndflow.keras.engine import trainer_loop  # noqa: PLC0415

        return trainer_loop.evaluate(self, locals())

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None,
                max_queue_size=10, workers=1, use_multiprocessing=False):
        """Outputs for the inputs, computed in batches and concatenated (`Model.predict`)."""
        from ndflow.keras.engine import trainer_loop  # noqa: PLC0415

        return trainer_loop.predict(self, locals())

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None,
                       reset_metrics=True, return_dict=False):
        """One training step on one batch; returns the loss and metrics."""
        self._assert_compiled("train_on_batch")
        if reset_metrics:
            self.reset_metrics()
        if class_weight is not None:
            sample_weight = data_adapter.class_weights_to_sample_weights(y, class_weight)
        batch = _to_tensors(data_adapter.pack(x, y, sample_weight))
        logs = self.make_train_function()([batch])
        return _format_logs(logs, return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, reset_metrics=True,
                      return_dict=False):
        self._assert_compiled("test_on_batch")
        if reset_metrics:
            self.reset_metrics()
        batch = _to_tensors(data_adapter.pack(x, y, sample_weight))
        logs = self.make_test_function()([batch])
        return _format_logs(logs, return_dict)

    def predict_on_batch(self, x):
        outputs = self.make_predict_function()(_to_tensors((x,)))
        return nest.map_structure(lambda t: t.numpy() if isinstance(t, EagerTensor) else t,
                                  outputs)

    def _assert_compiled(self, what):
        if not self._compiled:
            raise RuntimeError(f"You must compile your model before training/testing. Use "
                               f"`model.compile(optimizer, loss)` (called from {what}).")

    # --- inspection --------------------------------------------------------------------------

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None):
        """Prints layers, output shapes and parameter counts, as Keras does."""
        print_summary(self, line_length, print_fn, show_trainable)

    def get_layer(self, name=None, index=None):
        """A layer by name or index."""
        if index is not None and name is not None:
            raise ValueError("Provide only a layer name or a layer index, not both.")
        if index is not None:
            if len(self.layers) <= index:
                raise ValueError(f"Was asked to retrieve layer at index {index} but model only "
                                 f"has {len(self.layers)} layers.")
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name}. Existing layers are: "
                         f"{[layer.name for layer in self.layers]}.")

    # --- saving (implemented in ndflow/keras/saving and ndflow/saved_model) -----------------

    def save(self, filepath, overwrite=True, zipped=None, **kwargs):
        """Saves the model: `.keras` (Keras 3 zip), `.h5` (legacy Keras 2 HDF5), or a directory
        (no extension: the SavedModel-style format, as Keras 2 programs expect)."""
        from ndflow.keras.saving import api  # noqa: PLC0415 - loaded when saving

        return api.save_model(self, filepath, overwrite=overwrite, zipped=zipped, **kwargs)

    def save_weights(self, filepath, overwrite=True, **kwargs):
        """Saves the weights (`.weights.h5` Keras 3 layout, or legacy `.h5`)."""
        from ndflow.keras.saving import api  # noqa: PLC0415

        return api.save_weights(self, filepath, overwrite=overwrite, **kwargs)

    def load_weights(self, filepath, skip_mismatch=False, by_name=False, **kwargs):
        """Loads weights saved by `save_weights` (or by Keras); the model is unchanged if the
        file cannot be read."""
        from ndflow.keras.saving import api  # noqa: PLC0415

        return api.load_weights(self, filepath, skip_mismatch=skip_mismatch, by_name=by_name,
                                **kwargs)

    def to_json(self, **kwargs):
        """The model's architecture as a JSON string (`keras.models.model_from_json`)."""
        from ndflow.keras.saving import api  # noqa: PLC0415

        return api.to_json(self, **kwargs)

    def export(self, filepath, format="tf_saved_model", verbose=True, **kwargs):  # noqa: A002
        """Exports the inference function in the SavedModel-style format (`Model.export`)."""
        from ndflow.saved_model import api as saved_model_api  # noqa: PLC0415

        return saved_model_api.export_keras_model(self, filepath, **kwargs)

    def build(self, input_shape):
        """Builds a subclassed model by calling it on a placeholder of `input_shape`."""
        if self.built:
            return
        from ndflow.keras.engine.keras_tensor import KerasTensor  # noqa: PLC0415
        from ndflow.keras.engine import functional_call  # noqa: PLC0415

        if type(self).call is Model.call:
            self.built = True
            return
        inputs = nest.map_structure(lambda s: KerasTensor(s, self.compute_dtype),
                                    _shape_structure(input_shape))
        self.built = True
        functional_call.trace_outputs(self, (inputs,), {})

    def call(self, inputs, training=None, mask=None):
        raise CallNotImplementedError(
            f"Model {type(self).__name__} has no `call` method: subclassed models must define "
            f"`call(self, inputs, training=None)`.")

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """A model from its config: a functional config (layers, input_layers, output_layers)
        builds a Functional model even through `keras.Model.from_config`, as in Keras."""
        if cls is Model and "layers" in config and "input_layers" in config:
            from ndflow.keras.engine.functional import Functional  # noqa: PLC0415

            return Functional.from_config(config, custom_objects=custom_objects)
        return cls(**config)

    def __deepcopy__(self, memo):
        return copy.copy(self)


class CallNotImplementedError(NotImplementedError):
    """Raised when a subclassed Model without `call` is called (TF raises NotImplementedError)."""


def _shape_structure(shape):
    """Input shapes as TensorShape leaves: one shape, or a list/dict of them."""
    if isinstance(shape, TensorShape):
        return shape
    if isinstance(shape, dict):
        return {key: _shape_structure(value) for key, value in shape.items()}
    if isinstance(shape, (list, tuple)) and shape and all(
            isinstance(s, (list, tuple, TensorShape)) for s in shape):
        return [_shape_structure(s) for s in shape]
    return TensorShape(shape)


def _to_tensors(structure):
    def convert(value):
        if value is None or isinstance(value, Tensor):
            return value
        return convert_to_tensor(value)

    return nest.map_structure(convert, structure)


def _format_logs(logs, return_dict):
    values = {k: float(v) for k, v in logs.items()}
    if return_dict:
        return values
    items = list(values.values())
    return items[0] if len(items) == 1 else items


