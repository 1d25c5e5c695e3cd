"""Fused optimizer updates (TF's training ops): one kernel updates a variable and its slots.

Written op by op, an Adam step is about 17 graph ops per variable (reads, element-wise
arithmetic, assignments that copy their value); the fused kernel does the same arithmetic, in
the same order and precision, in one call that writes three fresh arrays and copies nothing
(measured: 1.2-1.3 ms -> 0.5-1.0 ms per step for the seed CNN's eight variables).

- `ResourceApplyAdam` is TF's op: `1 - beta1` and `1 - beta2` are computed in the variable's
  dtype, as TF's kernel does; `tf.compat.v1.train.AdamOptimizer` runs on it.
- `ResourceApplyKerasAdam` is ndflow's: it takes `1 - beta_1` and `1 - beta_2` as inputs, so
  Keras' Adam keeps its own rounding (Keras computes `1 - beta_1` in Python, then casts).

Variables are never written in place: each update gives the variable and its slots new arrays,
so a value read earlier in the step keeps its contents.
"""

from ndflow.framework import context, errors, op_registry, parallel
from ndflow.framework.device import array_namespace
from ndflow.framework.op_registry import execute, primitive
from ndflow.framework.tensor import convert_to_tensor
from ndflow.ops import array as array_ops
from ndflow.ops import compiled
from ndflow.ops import state


def _adam_arrays(xp, op_name, var, m, v, beta1_power, beta2_power, lr, one_minus_beta1,
                 one_minus_beta2, epsilon, grad, beta1=None):
    """New (var, m, v) arrays: m += (g - m)(1 - b1); v += (g^2 - v)(1 - b2);
    var -= m * alpha / (sqrt(v) + eps) with alpha = lr sqrt(1 - b2^t) / (1 - b1^t) (Nesterov:
    (g (1 - b1) + b1 m) in place of m when `beta1` is given)."""
    dtype = var.dtype
    if grad.shape != var.shape or m.shape != var.shape or v.shape != var.shape:
        raise errors.InvalidArgumentError(
            f"{op_name}: var, m, v and grad must have the same shape, got var "
            f"{list(var.shape)}, m {list(m.shape)}, v {list(v.shape)}, grad {list(grad.shape)}")
    scalars = [xp.asarray(s).astype(dtype, copy=False) for s in
               (beta1_power, beta2_power, lr, one_minus_beta1, one_minus_beta2, epsilon)]
    for name, s in zip(("beta1_power", "beta2_power", "lr", "beta1", "beta2", "epsilon"),
                       scalars):
        if s.ndim:
            raise errors.InvalidArgumentError(
                f"{op_name}: {name} is not a scalar: {list(s.shape)}")
    beta1_power, beta2_power, lr, one_minus_beta1, one_minus_beta2, epsilon = scalars
    one = dtype.type(1)
    alpha = lr * xp.sqrt(one - beta2_power) / (one - beta1_power)
    if beta1 is not None:
        beta1 = xp.asarray(beta1).astype(dtype, copy=False)
    flat = [a.reshape(-1) for a in (var, m, v, grad.astype(dtype, copy=False))]
    outputs = [xp.empty(var.shape, dtype) for _ in range(3)]
    new_flat = [a.reshape(-1) for a in outputs]

    compiled_kernels = compiled.kernels(xp) if dtype.kind == "f" and dtype.itemsize >= 4 \
        else None

    def update(part):
        var_, m_, v_, g = (a[part] for a in flat)
        new_var, new_m, new_v = (a[part] for a in new_flat)
        if compiled_kernels is not None:  # one pass instead of twelve (ops/compiled.py)
            compiled_kernels.adam(var_, m_, v_, g, alpha[()], one_minus_beta1[()],
                                  one_minus_beta2[()], epsilon[()],
                                  (one if beta1 is None else beta1[()]), beta1 is not None,
                                  new_var, new_m, new_v)
            return
        xp.subtract(g, m_, out=new_m)
        new_m *= one_minus_beta1
        new_m += m_
        xp.square(g, out=new_v)
        new_v -= v_
        new_v *= one_minus_beta2
        new_v += v_
        denominator = xp.sqrt(new_v)
        denominator += epsilon
        if beta1 is None:
            xp.multiply(new_m, alpha, out=new_var)
        else:
            xp.multiply(g, one_minus_beta1, out=new_var)
            new_var += beta1 * new_m
            new_var *= alpha
        new_var /= denominator
        xp.subtract(var_, new_var, out=new_var)

    size = var.size
    threads = parallel.threads()
    if threads > 1 and size >= _PARALLEL_MIN:
        # ndflow owns the threads (framework/parallel.py): blocks of the arrays on each
        # (sqrt and divide keep this partly compute-bound: 2.25 -> 1.6 ms for an MLP's Adam)
        step = -(-size // (2 * threads))
        parallel.run_blocks(lambda i: update(slice(i * step, (i + 1) * step)),
                            -(-size // step))
    else:
        update(slice(None))
    return outputs


_PARALLEL_MIN = 1 << 16  # elements: below, one thread (a split costs ~50 us)


def _set(handles, arrays):
    for handle, array in zip(handles, arrays):
        handle._set_array(array, fresh=True)


@primitive("ResourceApplyAdam", dtypes=None, same_dtype=False, num_outputs=0, stateful=True)
class ResourceApplyAdam:
    """TF's fused Adam update of `var`, `m` and `v` (no outputs)."""

    def infer(var, m, v, beta1_power, beta2_power, lr, beta1, beta2, epsilon, grad,
              use_locking=False, use_nesterov=False):
        return ()

    def kernel(xp, var, m, v, beta1_power, beta2_power, lr, beta1, beta2, epsilon, grad,
               use_locking=False, use_nesterov=False):
        arrays = [state.initialized_array(h, "ResourceApplyAdam") for h in (var, m, v)]
        dtype = arrays[0].dtype
        one = dtype.type(1)
        beta1 = xp.asarray(beta1).astype(dtype, copy=False)
        beta2 = xp.asarray(beta2).astype(dtype, copy=False)
        _set((var, m, v), _adam_arrays(
            xp, "ResourceApplyAdam", *arrays, beta1_power, beta2_power, lr, one - beta1,
            one - beta2, epsilon, grad, beta1 if use_nesterov else None))
        return ()


@primitive("ResourceApplyKerasAdam", dtypes=None, same_dtype=False, num_outputs=0,
           stateful=True)
class ResourceApplyKerasAdam:
    """Keras' Adam update of `var`, `m` and `v`, with `1 - beta_1` and `1 - beta_2` given."""

    def infer(var, m, v, beta1_power, beta2_power, lr, one_minus_beta1, one_minus_beta2,
              epsilon, grad):
        return ()

    def kernel(xp, var, m, v, beta1_power, beta2_power, lr, one_minus_beta1, one_minus_beta2,
               epsilon, grad):
        arrays = [state.initialized_array(h, "ResourceApplyKerasAdam") for h in (var, m, v)]
        _set((var, m, v), _adam_arrays(
            xp, "ResourceApplyKerasAdam", *arrays, beta1_power, beta2_power, lr,
            one_minus_beta1, one_minus_beta2, epsilon, grad))
        return ()


def apply_adam(op_type, var, m, v, *values, **attrs):
    """Runs a fused Adam op on three variables: an op in a graph being built (variables as
    resource handles), the kernel itself eagerly. `values` are the op's remaining inputs
    (Python numbers or tensors), converted to the variable's dtype first."""
    dtype = var.dtype
    converted = []
    for value in values:
        tensor = convert_to_tensor(value, dtype if isinstance(value, (int, float)) else None)
        converted.append(tensor if tensor.dtype == dtype else array_ops.cast(tensor, dtype))
    if context.state.graph is not None:
        handles = [state.handle_of(variable) for variable in (var, m, v)]
        return execute(op_type, *handles, *converted, **attrs)
    opdef = op_registry.get(op_type)
    opdef.kernel(array_namespace(), var, m, v, *[t._value for t in converted], **attrs)
    return None
