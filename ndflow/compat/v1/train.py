"""TF1 optimizers (`tf.compat.v1.train.*Optimizer`) with `minimize`, `compute_gradients` and
`apply_gradients`, for graphs run by a Session and, with a callable loss, eagerly."""

from ndflow.autodiff.gradients import gradients
from ndflow.autodiff.tape import GradientTape
from ndflow.compat.v1.variable_scope import GraphKeys, trainable_variables
from ndflow.framework import context, dtypes
from ndflow.framework.graph import get_default_graph
from ndflow.framework.tensor import IndexedSlices, convert_to_tensor
from ndflow.ops import array as array_ops
from ndflow.ops import math as math_ops
from ndflow.ops import state as state_ops
from ndflow.ops import training_ops
from ndflow.variables import Variable


def _dense(grad):
    return convert_to_tensor(grad) if isinstance(grad, IndexedSlices) else grad


class Optimizer:
    """Base class of TF1 optimizers: subclasses define `_create_slots` and `_apply_dense`."""

    def __init__(self, use_locking=False, name="Optimizer"):
        self._name = name
        self._slots = {}

    def get_name(self):
        return self._name

    def compute_gradients(self, loss, var_list=None, gate_gradients=1,
                          aggregation_method=None, colocate_gradients_with_ops=False,
                          grad_loss=None):
        """[(gradient, variable)] for `loss` (a tensor in a graph, or a callable eagerly)."""
        if callable(loss):
            with GradientTape() as tape:
                value = loss()
            var_list = list(var_list) if var_list is not None else tape.watched_variables()
            grads = tape.gradient(value, var_list, output_gradients=grad_loss)
            return list(zip(grads, var_list))
        if context.state.graph is None:
            raise RuntimeError("`loss` passed to Optimizer.compute_gradients should be a "
                               "function when eager execution is enabled.")
        var_list = list(var_list) if var_list is not None else trainable_variables()
        if not var_list:
            raise ValueError("No variables to optimize.")
        grads = gradients(loss, var_list, grad_ys=grad_loss)
        return list(zip(grads, var_list))

    def apply_gradients(self, grads_and_vars, global_step=None, name=None):
        """Applies the updates; returns the train op (None eagerly)."""
        pairs = [(g, v) for g, v in grads_and_vars if g is not None]
        if not pairs:
            names = [v.name for _, v in grads_and_vars]
            raise ValueError(f"No gradients provided for any variable: {names}.")
        self._prepare([v for _, v in pairs])
        updates = [self._apply_dense(_dense(g), v) for g, v in pairs]
        updates += self._finish()
        if context.state.graph is None:
            if global_step is not None:
                global_step.assign_add(1)
            return None
        with get_default_graph().control_dependencies(state_ops._flat_ops(updates)):
            if global_step is not None:
                return state_ops.group(global_step.assign_add(1), name=name or self._name)
            return state_ops.group(name=name or self._name)

    def minimize(self, loss, global_step=None, var_list=None, gate_gradients=1,
                 aggregation_method=None, colocate_gradients_with_ops=False, name=None,
                 grad_loss=None):
        """compute_gradients then apply_gradients (`Optimizer.minimize`)."""
        pairs = self.compute_gradients(loss, var_list, grad_loss=grad_loss)
        return self.apply_gradients(pairs, global_step=global_step, name=name)

    def get_slot(self, var, name):
        return self._slots.get((name, id(var)))

    def get_slot_names(self):
        return sorted({name for name, _ in self._slots})

    def variables(self):
        return list(self._slots.values())

    def _slot(self, var, name, initial=0.0):
        key = (name, id(var))
        if key not in self._slots:
            base = var.name.split(":")[0]
            self._slots[key] = Variable(
                lambda: array_ops.fill(var.shape.as_list(),
                                       array_ops.constant(initial, dtype=var.dtype)),
                name=f"{base}/{self._name}", trainable=False, dtype=var.dtype)
        return self._slots[key]

    def _scalar(self, name, initial):
        key = (name, 0)
        if key not in self._slots:
            self._slots[key] = Variable(initial, name=name, trainable=False,
                                        dtype=dtypes.float32)
        return self._slots[key]

    def _prepare(self, var_list):
        pass

    def _finish(self):
        return []


def _cast(value, dtype):
    return array_ops.cast(convert_to_tensor(value), dtype)


class GradientDescentOptimizer(Optimizer):
    """var -= learning_rate * grad."""

    def __init__(self, learning_rate, use_locking=False, name="GradientDescent"):
        super().__init__(use_locking, name)
        self._lr = learning_rate

    def _apply_dense(self, grad, var):
        return var.assign_sub(_cast(self._lr, var.dtype) * grad)


class MomentumOptimizer(Optimizer):
    """accum = momentum * accum + grad; var -= lr * accum (Nesterov: lr * (grad + m * accum))."""

    def __init__(self, learning_rate, momentum, use_locking=False, name="Momentum",
                 use_nesterov=False):
        super().__init__(use_locking, name)
        self._lr, self._momentum, self._nesterov = learning_rate, momentum, use_nesterov

    def _prepare(self, var_list):
        for var in var_list:
            self._slot(var, "momentum")

    def _apply_dense(self, grad, var):
        accum = self._slot(var, "momentum")
        lr = _cast(self._lr, var.dtype)
        momentum = _cast(self._momentum, var.dtype)
        new_accum = accum.assign(accum * momentum + grad)
        new_accum = new_accum.value() if isinstance(new_accum, Variable) else new_accum
        if self._nesterov:
            return var.assign_sub((grad + new_accum * momentum) * lr)
        return var.assign_sub(new_accum * lr)


class AdamOptimizer(Optimizer):
    """TF1 Adam: lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t);
    var -= lr_t * m / (sqrt(v) + epsilon), with epsilon outside the square root."""

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-08,
                 use_locking=False, name="Adam"):
        super().__init__(use_locking, name)
        self._lr, self._beta1, self._beta2, self._epsilon = learning_rate, beta1, beta2, epsilon

    def _prepare(self, var_list):
        for var in var_list:
            self._slot(var, "m")
            self._slot(var, "v")
        self._beta1_power = self._scalar("beta1_power", self._beta1)
        self._beta2_power = self._scalar("beta2_power", self._beta2)

    def _apply_dense(self, grad, var):
        # TF's own fused kernel (ResourceApplyAdam), with its arithmetic and rounding
        dtype = var.dtype
        m, v = self._slot(var, "m"), self._slot(var, "v")
        return training_ops.apply_adam(
            "ResourceApplyAdam", var, m, v, _cast(self._beta1_power.value(), dtype),
            _cast(self._beta2_power.value(), dtype), _cast(self._lr, dtype),
            _cast(self._beta1, dtype), _cast(self._beta2, dtype), _cast(self._epsilon, dtype),
            _cast(grad, dtype))

    def _finish(self):
        graph = context.state.graph
        if graph is None:
            self._beta1_power.assign(self._beta1_power * self._beta1)
            self._beta2_power.assign(self._beta2_power * self._beta2)
            return []
        return [self._beta1_power.assign(self._beta1_power * self._beta1),
                self._beta2_power.assign(self._beta2_power * self._beta2)]


class AdagradOptimizer(Optimizer):
    """accum += grad^2; var -= lr * grad / sqrt(accum)."""

    def __init__(self, learning_rate, initial_accumulator_value=0.1, use_locking=False,
                 name="Adagrad"):
        super().__init__(use_locking, name)
        self._lr, self._initial = learning_rate, initial_accumulator_value

    def _prepare(self, var_list):
        for var in var_list:
            self._slot(var, "accumulator", self._initial)

    def _apply_dense(self, grad, var):
        accum = self._slot(var, "accumulator", self._initial)
        new = _value(accum.assign(accum + math_ops.square(grad)))
        return var.assign_sub(_cast(self._lr, var.dtype) * grad * math_ops.rsqrt(new))


class RMSPropOptimizer(Optimizer):
    """ms = decay * ms + (1 - decay) * grad^2; mom = momentum * mom + lr * grad /
    sqrt(ms + epsilon); var -= mom (epsilon inside the square root, as in TF)."""

    def __init__(self, learning_rate, decay=0.9, momentum=0.0, epsilon=1e-10,
                 use_locking=False, centered=False, name="RMSProp"):
        super().__init__(use_locking, name)
        self._lr, self._decay, self._momentum, self._epsilon = (learning_rate, decay, momentum,
                                                                epsilon)

    def _prepare(self, var_list):
        for var in var_list:
            self._slot(var, "rms", 1.0)
            self._slot(var, "momentum")

    def _apply_dense(self, grad, var):
        dtype = var.dtype
        rms, mom = self._slot(var, "rms", 1.0), self._slot(var, "momentum")
        decay = _cast(self._decay, dtype)
        ms = _value(rms.assign(rms * decay + math_ops.square(grad) * (1 - decay)))
        update = _cast(self._lr, dtype) * grad * math_ops.rsqrt(ms + _cast(self._epsilon, dtype))
        new_mom = _value(mom.assign(mom * _cast(self._momentum, dtype) + update))
        return var.assign_sub(new_mom)


def _value(assigned):
    return assigned.value() if isinstance(assigned, Variable) else assigned


def get_global_step(graph=None):
    items = (graph or get_default_graph()).get_collection(GraphKeys.GLOBAL_STEP)
    return items[0] if items else None


def create_global_step(graph=None):
    graph = graph or get_default_graph()
    if get_global_step(graph) is not None:
        raise ValueError('"global_step" already exists.')
    step = Variable(0, name="global_step", trainable=False, dtype=dtypes.int64)
    graph.add_to_collection(GraphKeys.GLOBAL_STEP, step)
    return step


def get_or_create_global_step(graph=None):
    return get_global_step(graph) or create_global_step(graph)
