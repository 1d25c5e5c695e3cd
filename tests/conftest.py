"""Test-wide checks: every kernel that runs in the suite is checked against its op's `infer`.

Each registered kernel is wrapped (tests only; production kernels are untouched) so that after
it runs, `infer` is called on the concrete input specs and must give the same dtype and shape as
the kernel produced, and called again with every dimension unknown, where it must not fail and
must stay compatible. This keeps inference (used by graph mode and Keras) honest for every op.
"""

import numpy as np
import pytest

from ndflow.framework import dtypes, op_registry
from ndflow.framework.op_registry import Spec


def _compatible(static, actual):
    if static is None:
        return True
    return len(static) == len(actual) and all(s is None or s == a
                                              for s, a in zip(static, actual))


def _as_tuple(result):
    return result if isinstance(result, tuple) else (result,)


def _checked_kernel(opdef, kernel):
    def wrapper(xp, *arrays, **attrs):
        result = kernel(xp, *arrays, **attrs)
        if opdef.infer is None:
            return result
        specs = [Spec(np.shape(a), dtypes.from_numpy(np.asarray(a).dtype), np.asarray(a))
                 for a in arrays]
        outputs = _as_tuple(result) if opdef.num_outputs != 1 else (result,)
        inferred = _as_tuple(opdef.infer(*specs, **attrs))
        assert len(inferred) == len(outputs), f"{opdef.name}: infer gave {len(inferred)} outputs"
        for spec, out in zip(inferred, outputs):
            out_dtype = dtypes.from_numpy(np.asarray(out).dtype)
            assert spec.dtype is out_dtype, (
                f"{opdef.name}: infer says dtype {spec.dtype.name}, kernel gave {out_dtype.name}")
            assert _compatible(spec.shape, np.shape(out)), (
                f"{opdef.name}: infer says shape {spec.shape}, kernel gave {np.shape(out)}")
        unknown = [Spec(None if s.shape is None else (None,) * len(s.shape), s.dtype)
                   for s in specs]
        if opdef.num_outputs is None:
            return result  # variable output count: TF too needs the static dimension
        for spec, out in zip(_as_tuple(opdef.infer(*unknown, **attrs)), outputs):
            assert spec.dtype is dtypes.from_numpy(np.asarray(out).dtype), opdef.name
            assert spec.shape is None or len(spec.shape) == np.ndim(out), (
                f"{opdef.name}: with unknown dims infer gave rank {len(spec.shape)}, "
                f"kernel rank {np.ndim(out)}")
        return result

    return wrapper


@pytest.fixture(autouse=True, scope="session")
def _check_inference_against_kernels():
    originals = {}
    for name, opdef in op_registry.registered_ops().items():
        originals[name] = opdef.kernel
        opdef.kernel = _checked_kernel(opdef, opdef.kernel)
    yield
    for name, opdef in op_registry.registered_ops().items():
        if name in originals:
            opdef.kernel = originals[name]
