"""ndflow's own GEMM splitting (framework/parallel.py) against plain NumPy products."""

import numpy as np
import pytest

import ndflow as tf
from ndflow.framework import parallel


@pytest.fixture
def two_threads(monkeypatch):
    """Splitting on, with two threads, whatever BLAS library (or none) is installed."""
    monkeypatch.setattr(parallel._local, "depth", 1, raising=False)
    monkeypatch.setattr(parallel._local, "threads", 2, raising=False)
    monkeypatch.setattr(parallel._local, "configured", [], raising=False)
    yield


@pytest.mark.parametrize("shape_a, shape_b", [
    ((4000, 300), (300, 64)),  # split by rows
    ((64, 1600), (1600, 2000)),  # few rows: split by columns
    ((288, 7744), (7744, 64)),  # a filter gradient's shape
    ((16, 400000), (400000, 16)),  # few rows and columns: partial products over the inner dim
    ((5, 7), (7, 3)),  # too small to split
])
def test_split_matmul_equals_numpy(two_threads, shape_a, shape_b):
    rng = np.random.default_rng(1)
    a = rng.standard_normal(shape_a).astype(np.float32)
    b = rng.standard_normal(shape_b).astype(np.float32)
    result = parallel.matmul(np, a, b)
    assert result.shape == (shape_a[0], shape_b[1]) and result.dtype == np.float32
    np.testing.assert_allclose(result, a.astype(np.float64) @ b, rtol=1e-4, atol=1e-3)
    transposed = parallel.matmul(np, np.asfortranarray(a).T.T, b)  # non-contiguous views
    np.testing.assert_allclose(transposed, result, rtol=1e-6, atol=1e-5)


def test_an_error_in_a_block_reaches_the_caller(two_threads):
    def block(i):
        if i == 3:
            raise ValueError("block 3 failed")

    with pytest.raises(ValueError, match="block 3"):
        parallel._pool(1).run(block, 6)


def test_blas_owned_runs_blas_with_one_thread_and_restores_it():
    libraries = parallel._blas_libraries()
    before = [library.get_num_threads() for library in libraries]
    with parallel.blas_owned():
        with parallel.blas_owned():  # nested plans: the outer one restores
            inside = [library.get_num_threads() for library in libraries]
        assert parallel.threads() == max(before + [1])
    assert [library.get_num_threads() for library in libraries] == before
    assert parallel.threads() == 1
    assert all(count == 1 for count, original in zip(inside, before) if original > 1)


def _drive(tuner, runs, seconds):
    """Runs the tuner `runs` times; `seconds(run, own)` is each run's time. Returns the modes."""
    modes = []
    for run in range(runs):
        own, counted = tuner.choose()
        modes.append(own)
        if counted:
            tuner.record(own, seconds(run, own))
    return modes


def test_tuner_keeps_blas_threads_on_an_idle_machine():
    tuner = parallel.Tuner()
    # noisy but uncontended: BLAS's threads are never traded for a trial of ndflow's
    modes = _drive(tuner, 300, lambda run, own: 0.020 * (1 + 0.2 * ((run * 7) % 5) / 4))
    assert modes[:3] == [False] * 3
    assert not any(modes) and tuner.best is False


def test_tuner_follows_a_change_of_load():
    tuner = parallel.Tuner()

    def seconds(run, own):
        contended = 150 <= run < 400  # another process takes a core: BLAS's threads stall
        if contended:
            return 0.040 if own else 0.100
        return 0.030 if own else 0.020

    modes = _drive(tuner, 600, seconds)
    assert not any(modes[:150])
    during = modes[200:400]
    assert sum(during) / len(during) > 0.85  # ndflow's threads while contended ...
    assert not all(during)  # ... with a block of BLAS now and then
    after = modes[470:]
    assert sum(after) / len(after) < 0.1 and tuner.best is False  # back once the load has gone


def test_a_traced_conv_step_gives_the_eager_numbers():
    rng = np.random.default_rng(3)
    x = tf.constant(rng.standard_normal((16, 20, 20, 16)).astype(np.float32))
    filters = tf.Variable(rng.standard_normal((3, 3, 16, 64)).astype(np.float32))
    dense = tf.Variable(rng.standard_normal((18 * 18 * 64, 10)).astype(np.float32) * 0.01)

    def step(x):
        with tf.GradientTape() as tape:
            hidden = tf.nn.relu(tf.nn.conv2d(x, filters, 1, "VALID"))
            logits = tf.matmul(tf.reshape(hidden, [16, -1]), dense)
            loss = tf.reduce_sum(logits ** 2)
        return [loss] + tape.gradient(loss, [filters, dense])

    eager = step(x)
    traced = tf.function(step)(x)
    for a, b in zip(traced, eager):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=2e-4, atol=1e-3)


def test_only_plans_with_large_products_are_tuned():
    small = tf.function(lambda a, b: tf.nn.relu(tf.matmul(a, b)))
    x = tf.ones([4, 4])
    small(x, x)
    assert small.get_concrete_function(x, x)._plan._tuner is None
    large = tf.function(lambda a, b: tf.matmul(a, b, transpose_b=True))
    y = tf.ones([512, 256])
    large(y, y)  # 2 * 512 * 256 * 512 = 134 MFLOP
    assert large.get_concrete_function(y, y)._plan._tuner is not None
    conv = tf.function(lambda x, w: tf.nn.conv2d(x, w, 1, "SAME"))
    images, filters = tf.ones([8, 32, 32, 32]), tf.ones([3, 3, 32, 64])  # 2*8*32*32*64*288 FLOP
    conv(images, filters)
    assert conv.get_concrete_function(images, filters)._plan._tuner is not None
