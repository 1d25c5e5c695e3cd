"""Inputs shared by the tf.linalg decomposition and solver tests: seeded random matrices of
known structure (well conditioned, positive definite, Hermitian) and per-dtype tolerances."""

import numpy as np

import ndflow as tf
from tests.helpers import assert_close

RNG = np.random.default_rng(0)
DTYPES = ["float32", "float64", "complex64", "complex128"]
BATCHES = [(), (2,), (2, 3)]
TOL = {"float16": 1e-2, "float32": 1e-4, "float64": 1e-10, "complex64": 1e-4,
       "complex128": 1e-10}


def rand(*shape, dtype="float64"):
    values = RNG.uniform(-1, 1, size=shape)
    if np.dtype(dtype).kind == "c":
        values = values + 1j * RNG.uniform(-1, 1, size=shape)
    return values.astype(dtype)


def well_conditioned(*shape, dtype="float64"):
    """Random square matrices plus n * I: comfortably invertible."""
    return (rand(*shape, dtype=dtype) + shape[-1] * np.eye(shape[-1])).astype(dtype)


def positive_definite(*shape, dtype="float64"):
    x = rand(*shape, dtype=dtype)
    gram = x @ np.conj(np.swapaxes(x, -1, -2))
    return (gram + shape[-1] * np.eye(shape[-1])).astype(dtype)


def hermitian(*shape, dtype="float64"):
    x = rand(*shape, dtype=dtype)
    return ((x + np.conj(np.swapaxes(x, -1, -2))) / 2).astype(dtype)


def adjoint(x):
    return np.conj(np.swapaxes(x, -1, -2))


def close(actual, expected, dtype, scale=1.0):
    tol = TOL[dtype] * scale
    assert_close(np.asarray(actual), expected, rtol=tol, atol=tol)


def symmetrized(fn):
    """fn on (x + x^T) / 2: finite differences then see the symmetric matrix the op reads."""
    return lambda x: fn((x + tf.linalg.matrix_transpose(x)) * 0.5)


def distinct_singular_values(*shape):
    """Random matrices with well-separated singular values (the SVD gradient needs them)."""
    rows, cols = shape[-2:]
    inner = min(rows, cols)
    u = np.linalg.qr(rand(*shape[:-2], rows, rows))[0][..., :inner]
    v = np.linalg.qr(rand(*shape[:-2], cols, cols))[0][..., :inner]
    s = np.arange(inner, 0, -1) + 1.0
    return (u * s[..., None, :]) @ np.swapaxes(v, -1, -2)
