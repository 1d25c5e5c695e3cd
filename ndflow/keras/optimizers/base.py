"""`keras.optimizers.Optimizer`: the base class of the Keras 3 optimizers.

It owns what every optimizer shares: the `iterations` counter and the learning rate (a float32
variable, a schedule or a callable), slot variables created on the first `apply` (lifted out of
a `tf.function` trace with `init_scope`, as TF does), gradient filtering, clipping, loss-scale
unscaling, decoupled weight decay, gradient accumulation, EMA of the weights and configs.
Subclasses define `build` (their slots) and `update_step` (their formula) only. Every update is
written with public ndflow ops and `Variable.assign*`, so it runs eagerly and in a traced graph.
"""

import re
import warnings

import numpy as np

import ndflow as nd
from ndflow.keras.optimizers import schedules as schedules_module

# Keras 2 arguments that Keras 3 dropped; old programs and saved configs still pass them.
_IGNORED_KERAS2_KWARGS = ("jit_compile", "is_legacy_optimizer")


def _to_snake_case(name):
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _auto_name(class_name):
    from ndflow.keras.engine import naming  # noqa: PLC0415 - shared with layers, reset together

    return naming.unique_name(_to_snake_case(class_name))


def _initial_value(initializer, shape, dtype):
    """The initial value of a new optimizer variable: "zeros", "ones", a number or a Keras
    initializer (any callable taking `(shape, dtype)`)."""
    if isinstance(initializer, str):
        if initializer.lower() in ("zeros", "zero"):
            return nd.zeros(shape, dtype=dtype)
        if initializer.lower() in ("ones", "one"):
            return nd.ones(shape, dtype=dtype)
        from ndflow.keras import initializers  # noqa: PLC0415 - only for other names

        initializer = initializers.get(initializer)
    if callable(initializer):
        return nd.cast(initializer(shape, dtype=dtype), dtype)
    return nd.fill(list(shape), nd.constant(initializer, dtype=dtype))


def _learning_rate_value(learning_rate):
    """A float learning rate from a Python/NumPy number or a scalar tensor (Keras 2 accepted
    ints and tensors; Keras 3 only floats)."""
    if isinstance(learning_rate, (bool, str)) or learning_rate is None:
        return None
    try:
        value = np.asarray(learning_rate)
    except (TypeError, ValueError):
        return None
    if value.shape != () or value.dtype.kind not in "iuf":
        return None
    return float(value)


class Optimizer:
    """Base class of Keras optimizers (`keras.optimizers.Optimizer`).

    Subclasses create their slot variables in `build(var_list)` with
    `add_variable_from_reference` and implement `update_step(gradient, variable,
    learning_rate)`.

    Args:
      learning_rate: a float, a `LearningRateSchedule`, or a callable taking no argument.
      weight_decay: if set, `var -= weight_decay * learning_rate * var` before each update.
      clipnorm: clip each gradient to this L2 norm.
      clipvalue: clip each gradient element to `[-clipvalue, clipvalue]`.
      global_clipnorm: clip all gradients together to this global norm.
      use_ema: keep an exponential moving average of the weights.
      ema_momentum: the EMA momentum.
      ema_overwrite_frequency: every this many steps, copy the averages into the weights.
      loss_scale_factor: the gradients are divided by this factor before the update.
      gradient_accumulation_steps: update every this many steps with the mean gradient.
      name: the optimizer's name (default: the class name in snake case, made unique).
      **kwargs: Keras 2's `lr` (the learning rate) and `decay` (inverse-time decay of the
        learning rate by the iteration count).
    """

    _hyperparameters = ()  # names of subclass hyperparameters added to get_config

    def __init__(self, learning_rate=0.001, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        if "lr" in kwargs:
            learning_rate = kwargs.pop("lr")
        self.decay = float(kwargs.pop("decay", None) or 0.0)
        for ignored in _IGNORED_KERAS2_KWARGS:
            kwargs.pop(ignored, None)
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}")
        _check_arguments(clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
                         ema_overwrite_frequency, gradient_accumulation_steps)
        self.name = name if name is not None else _auto_name(type(self).__name__)
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self.use_ema = use_ema
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.built = False
        self._variables = []
        self._trainable_variables = []
        self._variable_indices = {}
        self._exclude_ids = set()
        self._exclude_pattern = None
        self._iterations = self._new_variable(0, nd.int64, "iteration")
        self._learning_rate = self._build_learning_rate(learning_rate)

    # --- variables -----------------------------------------------------------------------------

    def _new_variable(self, initial_value, dtype, name):
        with nd.init_scope():
            variable = nd.Variable(initial_value, trainable=False, dtype=dtype, name=name)
        self._variables.append(variable)
        # Restore-on-create: slots made after a checkpoint restore get their saved values.
        from ndflow.train import checkpoint  # noqa: PLC0415 - ndflow/train/checkpoint.py

        checkpoint._restore_on_create(self, variable, f"_variables/{len(self._variables) - 1}")
        return variable

    def _build_learning_rate(self, learning_rate):
        if isinstance(learning_rate, schedules_module.LearningRateSchedule):
            return learning_rate
        if callable(learning_rate) and not getattr(learning_rate, "_is_ndflow_variable", False):
            return learning_rate
        value = _learning_rate_value(learning_rate)
        if value is None:
            raise ValueError(
                "Argument `learning_rate` should be float, or an instance of "
                "LearningRateSchedule, or a callable (that takes in the current iteration value "
                "and returns the corresponding learning rate value). Received instead: "
                f"learning_rate={learning_rate}")
        return self._new_variable(value, nd.float32, "learning_rate")

    @property
    def variables(self):
        """The optimizer's variables: `iteration`, `learning_rate`, then slots in creation
        order (Keras' order, used by saving)."""
        return self._variables[:]

    @property
    def iterations(self):
        """The number of updates applied (an int64 variable); with gradient accumulation, the
        number of accumulated updates."""
        if self.gradient_accumulation_steps:
            return nd.math.floordiv(self._iterations, self.gradient_accumulation_steps)
        return self._iterations

    def add_variable(self, shape, initializer="zeros", dtype=None, aggregation="none",
                     layout=None, name=None):
        """Creates a non-trainable optimizer variable of `shape` (created eagerly even while
        a `tf.function` is traced)."""
        dtype = nd.as_dtype(dtype) if dtype is not None else nd.float32
        shape = tuple(nd.TensorShape(shape).as_list())
        with nd.init_scope():
            value = _initial_value(initializer, shape, dtype)
        return self._new_variable(value, dtype, name or "Variable")

    def add_variable_from_reference(self, reference_variable, name=None, initializer="zeros"):
        """A variable shaped like `reference_variable`, named `<reference>_<name>` as Keras."""
        name = name or "var"
        if hasattr(reference_variable, "path"):
            prefix = reference_variable.path.replace("/", "_")
        else:
            prefix = str(reference_variable.name).replace("/", "_").replace(":", "_")
        return self.add_variable(reference_variable.shape, initializer=initializer,
                                 dtype=reference_variable.dtype, name=f"{prefix}_{name}")

    def add_optimizer_variables(self, trainable_variables, name, initializer="zeros"):
        """One slot per variable for each name in `name` (a string gives one list, a list of
        names a tuple of lists); slots of one variable are created together, as Keras."""
        names = [name] if isinstance(name, str) else list(name)
        if isinstance(initializer, (list, tuple)):
            initializers = list(initializer)
        else:
            initializers = [initializer] * len(names)
        if len(names) != len(initializers):
            raise ValueError(f"The number of provided names must match the number of provided "
                             f"initializers. Received name='{name}', initializer='{initializer}'")
        slots = tuple([] for _ in names)
        for variable in trainable_variables:
            for index, (slot_name, slot_init) in enumerate(zip(names, initializers)):
                slots[index].append(self.add_variable_from_reference(variable, slot_name,
                                                                     slot_init))
        return slots[0] if isinstance(name, str) else slots

    def build(self, var_list):
        """Creates the EMA and gradient-accumulation slots; subclasses add theirs after
        calling this (and return early when `self.built`)."""
        var_list = list(var_list)
        if self.use_ema:
            self._model_variables_moving_average = self.add_optimizer_variables(var_list,
                                                                                "average")
        if self.gradient_accumulation_steps:
            self._accumulated_gradients = self.add_optimizer_variables(
                var_list, "gradient_accumulator")
        self._variable_indices = {id(v): i for i, v in enumerate(var_list)}
        self._trainable_variables = var_list[:]
        self.built = True

    def _get_variable_index(self, variable):
        return self._variable_indices[id(variable)]

    # --- learning rate -------------------------------------------------------------------------

    @property
    def learning_rate(self):
        """The current learning rate: the variable, or the schedule's value at `iterations`."""
        if isinstance(self._learning_rate, schedules_module.LearningRateSchedule):
            return self._learning_rate(self._iterations)
        if getattr(self._learning_rate, "_is_ndflow_variable", False):
            return self._learning_rate
        return self._learning_rate()

    @learning_rate.setter
    def learning_rate(self, learning_rate):
        previous = self._learning_rate
        if isinstance(learning_rate, schedules_module.LearningRateSchedule) or (
                callable(learning_rate) and not hasattr(learning_rate, "_is_ndflow_variable")):
            self._learning_rate = learning_rate
            if getattr(previous, "_is_ndflow_variable", False):
                self._variables.remove(previous)
            return
        if isinstance(previous, schedules_module.LearningRateSchedule):
            raise TypeError(
                "This optimizer was created with a `LearningRateSchedule` object as its "
                "`learning_rate` constructor argument, hence its learning rate is not settable. "
                "If you need the learning rate to be settable, you should instantiate the "
                "optimizer with a float `learning_rate` argument.")
        if not getattr(previous, "_is_ndflow_variable", False):
            self._learning_rate = self._build_learning_rate(learning_rate)
            return
        previous.assign(nd.cast(learning_rate, nd.float32))

    lr = learning_rate  # Keras 2 spelling

    def _update_learning_rate(self):
        """The rate this step uses: Keras 2's `decay` divides it by (1 + decay * iterations)."""
        learning_rate = self.learning_rate
        if not self.decay:
            return learning_rate
        step = nd.cast(self._iterations, nd.float32)
        return nd.cast(learning_rate, nd.float32) / (1.0 + self.decay * step)

    # --- applying gradients ------------------------------------------------------------------

    def apply_gradients(self, grads_and_vars):
        """Applies `[(gradient, variable), ...]` (None gradients are skipped); returns
        `iterations`."""
        pairs = list(grads_and_vars)
        if not pairs:
            return self._iterations
        grads, variables = zip(*pairs)
        self.apply(list(grads), list(variables))
        return self._iterations

    def apply(self, grads, trainable_variables=None):
        """Updates `trainable_variables` (default: the variables it was built with) with
        `grads`, then increments `iterations`."""
        grads = list(grads)
        if not grads:
            return
        variables = self._variables_for(grads, trainable_variables)
        grads, variables = _filter_empty_gradients(grads, variables)
        grads = [_dense(g) for g in grads]
        if self.loss_scale_factor is not None:
            grads = [g / nd.cast(self.loss_scale_factor, g.dtype) for g in grads]
        self._apply_gradients_and_ema(grads, variables)
        for variable in variables:
            if getattr(variable, "constraint", None) is not None:
                variable.assign(variable.constraint(variable))
        self._iterations.assign_add(1)

    def _variables_for(self, grads, trainable_variables):
        if trainable_variables is None:
            if not self.built:
                raise ValueError(
                    "When passing `grads` without `variables`, the optimizer must already be "
                    "built on a list of variables. Call `optimizer.build(trainable_variables)` "
                    "first.")
            if len(grads) != len(self._trainable_variables):
                raise ValueError(
                    f"When passing `grads` as a list of gradient tensors, the gradients must "
                    f"match `optimizer.variables` one-to-one. Received a list of {len(grads)} "
                    f"gradients, but the optimizer is tracking "
                    f"{len(self._trainable_variables)} trainable variables.")
            return self._trainable_variables[:]
        variables = list(trainable_variables)
        if len(grads) != len(variables):
            raise ValueError(f"{type(self).__name__}: expected one gradient per variable, got "
                             f"{len(grads)} gradients for {len(variables)} variables")
        if not self.built:
            with nd.init_scope():
                self.build(variables)
            self.built = True
        for variable in variables:
            if id(variable) not in self._variable_indices:
                raise ValueError(
                    f"Unknown variable: {variable}. This optimizer can only be called for the "
                    f"variables it was originally built with. When working with a new set of "
                    f"variables, you should recreate a new optimizer instance.")
        return variables

    def _apply_gradients_and_ema(self, grads, variables):
        if self.gradient_accumulation_steps:
            self._accumulate_or_update(grads, variables)
        else:
            self._clip_decay_and_update(grads, variables)
        if self.use_ema:
            self._update_moving_averages()

    def _clip_decay_and_update(self, grads, variables):
        grads = self._clip_gradients(grads)
        learning_rate = self._update_learning_rate()
        self._apply_weight_decay(variables, learning_rate)
        for grad, variable in zip(grads, variables):
            self.update_step(grad, variable, learning_rate)

    def _accumulate_or_update(self, grads, variables):
        """Every `gradient_accumulation_steps`-th step updates with the mean of the gradients
        since the last update; other steps only add to the accumulators."""
        steps = self.gradient_accumulation_steps
        accumulators = [self._accumulated_gradients[self._get_variable_index(v)]
                        for v in variables]
        totals = [g + nd.cast(a, g.dtype) for g, a in zip(grads, accumulators)]

        def update():
            self._clip_decay_and_update([t / steps for t in totals], variables)
            for accumulator in accumulators:
                accumulator.assign(nd.zeros_like(accumulator))
            return nd.constant(0)

        def accumulate():
            for total, accumulator in zip(totals, accumulators):
                accumulator.assign(nd.cast(total, accumulator.dtype))
            return nd.constant(0)

        is_update_step = nd.equal((self._iterations + 1) % steps, 0)
        nd.cond(is_update_step, update, accumulate)

    def update_step(self, gradient, variable, learning_rate):
        """Updates `variable` from its `gradient`: what a subclass implements."""
        raise TypeError(f"Optimizer '{type(self).__name__}' must override "
                        f"`update_step(self, gradient, variable, learning_rate)`.")

    def minimize(self, loss, var_list, tape=None):
        """Computes the gradients of `loss` (a callable, or a tensor recorded by `tape`) with
        respect to `var_list` and applies them (Keras 2 API); returns `iterations`."""
        grads_and_vars = self.compute_gradients(loss, var_list, tape)
        return self.apply_gradients(grads_and_vars)

    def compute_gradients(self, loss, var_list, tape=None):
        """`[(gradient, variable), ...]` of `loss` with respect to `var_list` (Keras 2 API)."""
        if not callable(loss) and tape is None:
            raise ValueError(f"`tape` is required when a `Tensor` loss is passed. Received: "
                             f"loss={loss}, tape={tape}.")
        if tape is None:
            tape = nd.GradientTape()
        if callable(loss):
            with tape:
                if not callable(var_list):
                    tape.watch(var_list)
                loss = loss()
        if callable(var_list):
            var_list = var_list()
        var_list = list(var_list)
        grads = tape.gradient(loss, var_list)
        return list(zip(grads, var_list))

    def scale_loss(self, loss):
        """`loss * loss_scale_factor` when the factor is set (mixed precision)."""
        if self.loss_scale_factor is not None:
            return loss * self.loss_scale_factor
        return loss

    # --- gradient transforms -------------------------------------------------------------------

    def _clip_gradients(self, grads):
        if self.clipnorm and self.clipnorm > 0:
            return [nd.clip_by_norm(g, self.clipnorm) for g in grads]
        if self.global_clipnorm and self.global_clipnorm > 0:
            return _clip_by_global_norm(grads, self.global_clipnorm)
        if self.clipvalue and self.clipvalue > 0:
            return [nd.clip_by_value(g, -self.clipvalue, self.clipvalue) for g in grads]
        return grads

    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Excludes variables (objects in `var_list`, or names containing a string of
        `var_names`) from weight decay; call before the optimizer is built."""
        if self.built:
            raise ValueError("`exclude_from_weight_decay()` can only be configured before the "
                             "optimizer is built.")
        self._exclude_ids = {id(v) for v in var_list or ()}
        names = set(var_names or ())
        self._exclude_pattern = re.compile("|".join(names)) if names else None

    def _use_weight_decay(self, variable):
        if id(variable) in self._exclude_ids:
            return False
        if self._exclude_pattern is not None:
            return self._exclude_pattern.search(variable.name) is None
        return True

    def _apply_weight_decay(self, variables, learning_rate):
        if self.weight_decay is None:
            return
        for variable in variables:
            if self._use_weight_decay(variable):
                rate = nd.cast(learning_rate, variable.dtype)
                variable.assign_sub(variable * self.weight_decay * rate)

    # --- exponential moving average --------------------------------------------------------

    def _update_moving_averages(self):
        """average = m * average + (1 - m) * var, with m = 0 on the first step; every
        `ema_overwrite_frequency` steps the weights take their averages."""
        iterations = self.iterations
        not_first = nd.not_equal(iterations, 0)
        overwrite = None
        if self.ema_overwrite_frequency:
            overwrite = nd.equal((iterations + 1) % self.ema_overwrite_frequency, 0)
        for variable, average in zip(self._trainable_variables,
                                     self._model_variables_moving_average):
            value = variable.value()
            momentum = nd.cast(not_first, variable.dtype) * self.ema_momentum
            new_average = momentum * average + (1.0 - momentum) * value
            average.assign(new_average)
            if overwrite is not None:
                variable.assign(nd.where(overwrite, new_average, value))

    def finalize_variable_values(self, var_list):
        """With `use_ema`, sets the variables to their moving averages (end of training)."""
        if not self.use_ema:
            return
        var_list = list(var_list)
        averages = self._model_variables_moving_average
        if len(var_list) != len(averages):
            raise ValueError(
                f"The length of model variables ({len(var_list)}) to override does not match "
                f"the length of model variables stored in the optimizer ({len(averages)}). "
                f"Please check if the optimizer was called on your model.")
        for variable, average in zip(var_list, averages):
            variable.assign(average)

    # --- Keras helpers for custom optimizers -----------------------------------------------

    def assign(self, variable, value):
        variable.assign(nd.cast(_dense(value), variable.dtype))

    def assign_add(self, variable, value):
        variable.assign_add(nd.cast(_dense(value), variable.dtype))

    def assign_sub(self, variable, value):
        variable.assign_sub(nd.cast(_dense(value), variable.dtype))

    # --- weights and configs ---------------------------------------------------------------

    def get_weights(self):
        """The values of `variables` as NumPy arrays (Keras 2 API)."""
        return [v.numpy() for v in self._variables]

    def set_weights(self, weights):
        """Sets `variables` from a list of arrays of the same shapes."""
        if not self.built:
            raise ValueError(
                "You are calling `set_weights()` on an optimizer that has not yet been built. "
                "Please call `optimizer.build(trainable_variables)` to create the optimizer "
                "weights before calling `set_weights()`.")
        for variable, weight in zip(self._variables, weights):
            if tuple(variable.shape.as_list()) != tuple(np.shape(weight)):
                raise ValueError(f"Optimizer variable {variable.name} has shape "
                                 f"{variable.shape} not compatible with provided weight shape "
                                 f"{np.shape(weight)}.")
            variable.assign(np.asarray(weight, dtype=variable.dtype.as_numpy_dtype))

    def save_own_variables(self, store):
        for index, variable in enumerate(self._variables):
            store[str(index)] = variable.numpy()

    def load_own_variables(self, store):
        if len(store.keys()) != len(self._variables):
            warnings.warn(f"Skipping variable loading for optimizer '{self.name}', because it "
                          f"has {len(self._variables)} variables whereas the saved optimizer "
                          f"has {len(store.keys())} variables.", stacklevel=2)
            return
        for index, variable in enumerate(self._variables):
            variable.assign(np.asarray(store[str(index)]))

    def get_config(self):
        """The constructor arguments as a dict (`from_config` inverts it)."""
        learning_rate = self._learning_rate
        if isinstance(learning_rate, schedules_module.LearningRateSchedule):
            learning_rate = schedules_module.serialize(learning_rate)
        elif getattr(learning_rate, "_is_ndflow_variable", False):
            learning_rate = float(learning_rate.numpy())
        config = {
            "name": self.name,
            "learning_rate": learning_rate,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
            "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }
        config.update({name: getattr(self, name) for name in self._hyperparameters})
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """An optimizer made from `get_config()`'s dict (a schedule dict is deserialized)."""
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules_module.deserialize(
                config["learning_rate"], custom_objects=custom_objects)
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__module__}.{type(self).__name__} name={self.name!r}>"


def _check_arguments(clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
                     ema_overwrite_frequency, gradient_accumulation_steps):
    if gradient_accumulation_steps and not gradient_accumulation_steps >= 2:
        raise ValueError(f"`gradient_accumulation_steps` must be an integer >= 2. Received: "
                         f"gradient_accumulation_steps={gradient_accumulation_steps}")
    if use_ema:
        if ema_momentum > 1 or ema_momentum < 0:
            raise ValueError(f"`ema_momentum` must be in the range [0, 1]. Received: "
                             f"ema_momentum={ema_momentum}")
        if ema_overwrite_frequency and (not isinstance(ema_overwrite_frequency, int)
                                        or ema_overwrite_frequency < 1):
            raise ValueError(f"`ema_overwrite_frequency` must be an integer >= 1 or None. "
                             f"Received: ema_overwrite_frequency={ema_overwrite_frequency}")
    if sum(arg is not None for arg in (clipnorm, clipvalue, global_clipnorm)) > 1:
        raise ValueError(f"Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be "
                         f"set. Received: clipnorm={clipnorm}, clipvalue={clipvalue}, "
                         f"global_clipnorm={global_clipnorm}")


def _dense(grad):
    """IndexedSlices gradients (embedding lookups) as dense tensors."""
    if isinstance(grad, nd.IndexedSlices):
        return nd.convert_to_tensor(grad)
    return grad


def _filter_empty_gradients(grads, variables):
    kept = [(g, v) for g, v in zip(grads, variables) if g is not None]
    if not kept:
        names = [v.name for v in variables]
        raise ValueError(f"No gradients provided for any variable: {names}.")
    missing = [v.name for g, v in zip(grads, variables) if g is None]
    if missing:
        warnings.warn(f"Gradients do not exist for variables {missing} when minimizing the "
                      f"loss. If using `model.compile()`, did you forget to provide a `loss` "
                      f"argument?", stacklevel=3)
    return [g for g, _ in kept], [v for _, v in kept]


def _clip_by_global_norm(grads, clip_norm):
    """Scales all gradients by clip_norm / max(global_norm, clip_norm); a non-finite global
    norm makes every gradient NaN (Keras' rule, so a loss-scale optimizer sees it)."""
    squares = [nd.reduce_sum(nd.square(nd.cast(g, nd.float32))) for g in grads]
    norm = nd.sqrt(nd.add_n(squares))
    scale = clip_norm * nd.minimum(1.0 / norm, 1.0 / clip_norm) + (norm - norm)
    return [g * nd.cast(scale, g.dtype) for g in grads]
