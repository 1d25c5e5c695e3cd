"""`InputSpec` and the input check every layer runs before `call`, with errors that name the
layer and the shapes."""

from ndflow.framework import dtypes
from ndflow.framework.tensor import EagerTensor
from ndflow.util import nest

_MAX_ACCEPTED = 64  # eager shapes remembered per spec (batch sizes vary; keep it bounded)


class InputSpec:
    """What a layer accepts: dtype, shape (None dims free), ndim / min_ndim / max_ndim, and
    `axes` ({axis: size}) for dimensions that must have a given size."""

    def __init__(self, dtype=None, shape=None, ndim=None, max_ndim=None, min_ndim=None,
                 axes=None, allow_last_axis_squeeze=False, name=None, optional=False):
        self.dtype = dtypes.as_dtype(dtype).name if dtype is not None else None
        self.shape = tuple(shape) if shape is not None else None
        self.ndim = len(shape) if shape is not None else ndim
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.axes = {int(k): v for k, v in (axes or {}).items()}
        self.name = name
        self.optional = optional
        self.allow_last_axis_squeeze = allow_last_axis_squeeze

    # Eager shapes that passed the check, and the `axes` they passed with (see _remember).
    _accepted = frozenset()
    _accepted_axes = None

    def __setattr__(self, name, value):
        # Any change to the spec forgets the eager shapes it accepted before.
        self.__dict__["_accepted"] = frozenset()
        self.__dict__[name] = value

    def _remember(self, shape):
        accepted = self._accepted
        if not accepted or len(accepted) >= _MAX_ACCEPTED or self.axes != self._accepted_axes:
            accepted = set()
            self.__dict__["_accepted"] = accepted
            self.__dict__["_accepted_axes"] = dict(self.axes)
        accepted.add(shape)

    def get_config(self):
        return {"dtype": self.dtype, "shape": self.shape, "ndim": self.ndim,
                "max_ndim": self.max_ndim, "min_ndim": self.min_ndim, "axes": self.axes}

    def __repr__(self):
        parts = [f"{k}={v}" for k, v in self.get_config().items() if v]
        return f"InputSpec({', '.join(parts)})"


def _shape_text(shape):
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + (
        ",)" if len(shape) == 1 else ")")


def assert_input_compatibility(input_spec, inputs, layer_name, layer_type="Layer"):
    """Raises ValueError naming the layer and the shapes if `inputs` do not fit the spec."""
    if type(input_spec) is InputSpec and type(inputs) is EagerTensor:
        # Eager calls repeat the same shapes: check each one once per spec.
        shape = inputs._value.shape
        if shape not in input_spec._accepted or input_spec.axes != input_spec._accepted_axes:
            _check_all([input_spec], [inputs], layer_name, layer_type)
            input_spec._remember(shape)
        return
    _check_all(nest.flatten(input_spec), nest.flatten(inputs), layer_name, layer_type)


def _check_all(specs, flat, layer_name, layer_type):
    if len(specs) > 1 and len(flat) != len(specs):
        raise ValueError(f"{layer_type} '{layer_name}' expects {len(specs)} input(s), but it "
                         f"received {len(flat)} input tensors.")
    for index, (spec, value) in enumerate(zip(specs, flat)):
        if spec is None or value is None or not hasattr(value, "shape"):
            continue
        array = getattr(value, "_value", None)  # an eager tensor: its NumPy shape directly
        shape = list(array.shape) if array is not None and hasattr(array, "shape") else (
            value.shape.as_list() if hasattr(value.shape, "as_list") else list(value.shape))
        rank = len(shape)
        where = f"{layer_type} '{layer_name}'" + (f" input {index}" if len(specs) > 1 else "")
        if spec.ndim is not None and rank != spec.ndim:
            raise ValueError(f"{where} expects an input of rank {spec.ndim}, got input shape "
                             f"{_shape_text(shape)} (rank {rank})")
        if spec.max_ndim is not None and rank > spec.max_ndim:
            raise ValueError(f"{where} expects an input of rank at most {spec.max_ndim}, got "
                             f"input shape {_shape_text(shape)}")
        if spec.min_ndim is not None and rank < spec.min_ndim:
            raise ValueError(f"{where} expects an input of rank at least {spec.min_ndim}, got "
                             f"input shape {_shape_text(shape)}")
        for axis, size in spec.axes.items():
            actual = shape[axis] if -rank <= axis < rank else None
            if size is not None and actual is not None and actual != size:
                position = "last dimension" if axis == -1 else f"dimension {axis}"
                raise ValueError(f"{where} expects {position} {size}, got input shape "
                                 f"{_shape_text(shape)}")
        if spec.shape is not None:
            for expected, actual in zip(spec.shape, shape):
                if expected is not None and actual is not None and expected != actual:
                    raise ValueError(f"{where} expects input shape {_shape_text(spec.shape)}, "
                                     f"got {_shape_text(shape)}")
