"""Tests for ndflow/ops/random.py, random_generator.py and framework/random_seed.py.

TF equality: tests/ops/fixtures/random_tf.npz holds TensorFlow 2.21's numbers for the same
calls (made with /tmp/rnd/gen_fixtures.py-style code: each key below names one call).
"""

import subprocess
import sys

import numpy as np
import pytest

import ndflow as tf
from ndflow.framework import errors

FIXTURES = np.load(__file__.rsplit("/", 1)[0] + "/fixtures/random_tf.npz")
FLOAT_NAMES = ["float16", "bfloat16", "float32", "float64"]


@pytest.fixture(autouse=True)
def _no_global_seed():
    tf.random.set_seed(None)
    yield
    tf.random.set_seed(None)


def _as64(tensor):
    return np.asarray(tensor.numpy()).astype(np.float64)


def _assert_tf(name, actual):
    expected = FIXTURES[name]
    actual = np.asarray(actual)
    assert actual.shape == expected.shape
    if expected.dtype.kind in "iu":
        assert actual.dtype == expected.dtype
        np.testing.assert_array_equal(actual, expected)
    else:  # Box-Muller's sin/cos/log may differ from TF's libm by an ulp
        np.testing.assert_allclose(actual, expected, rtol=2e-6, atol=1e-7)


# --- TensorFlow's numbers --------------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOAT_NAMES)
def test_seeded_ops_match_tensorflow(dtype):
    _assert_tf(f"normal_{dtype}", _as64(tf.random.normal([5, 3], seed=7, dtype=dtype)))
    _assert_tf(f"normal2_{dtype}", _as64(tf.random.normal([5, 3], seed=7, dtype=dtype)))
    _assert_tf(f"uniform_{dtype}", _as64(tf.random.uniform([9], seed=11, dtype=dtype)))
    _assert_tf(f"truncated_{dtype}",
               _as64(tf.random.truncated_normal([2, 9], seed=13, dtype=dtype)))


@pytest.mark.parametrize("dtype", FLOAT_NAMES)
def test_stateless_ops_match_tensorflow(dtype):
    _assert_tf(f"snormal_{dtype}", _as64(tf.random.stateless_normal([7], [3, 4], dtype=dtype)))
    _assert_tf(f"suniform_{dtype}", _as64(tf.random.stateless_uniform([7], [3, 4],
                                                                      dtype=dtype)))
    _assert_tf(f"struncated_{dtype}",
               _as64(tf.random.stateless_truncated_normal([11], [5, 6], dtype=dtype)))


def test_scaled_and_integer_draws_match_tensorflow():
    _assert_tf("normal_scaled", tf.random.normal([6], mean=2.0, stddev=3.0, seed=1))
    _assert_tf("uniform_range", tf.random.uniform([6], minval=-2.0, maxval=5.0, seed=2))
    _assert_tf("uniform_int32", tf.random.uniform([20], -5, 17, dtype=tf.int32, seed=3))
    _assert_tf("uniform_int64", tf.random.uniform([20], -5, 2**40, dtype=tf.int64, seed=3))
    _assert_tf("suniform_int32", tf.random.stateless_uniform([20], [1, 2], -5, 17,
                                                             dtype=tf.int32))
    _assert_tf("suniform_int64", tf.random.stateless_uniform([20], [1, 2], -3, 2**40,
                                                             dtype=tf.int64))
    _assert_tf("sfull_int32", tf.random.stateless_uniform([5], [1, 2], None, None,
                                                          dtype=tf.int32))
    _assert_tf("sfull_uint64", tf.random.stateless_uniform([5], [1, 2], None, None,
                                                           dtype=tf.uint64))
    _assert_tf("snormal_big_seed",
               tf.random.stateless_normal([4], tf.constant([-7, 2**40], tf.int64)))
    _assert_tf("struncated_big", tf.random.stateless_truncated_normal([1000], [8, 9]))


def test_global_seed_sequence_matches_tensorflow():
    tf.random.set_seed(1234)
    _assert_tf("global_a", tf.random.normal([4]))
    _assert_tf("global_b", tf.random.uniform([4]))
    _assert_tf("global_c", tf.random.normal([4], seed=5))
    _assert_tf("global_d", tf.random.normal([4], seed=5))
    tf.random.set_seed(1234)
    _assert_tf("global_reset", tf.random.normal([4]))


def test_generator_matches_tensorflow():
    g = tf.random.Generator.from_seed(42)
    _assert_tf("gen_normal", g.normal([5]))
    _assert_tf("gen_uniform", g.uniform([5], minval=1.0, maxval=2.0))
    _assert_tf("gen_truncated", g.truncated_normal([5]))
    _assert_tf("gen_int", g.uniform([5], minval=0, maxval=100, dtype=tf.int32))
    _assert_tf("gen_full", g.uniform_full_int([3], dtype=tf.int64))
    _assert_tf("gen_seeds", g.make_seeds(2))
    _assert_tf("gen_state", g.state.numpy())
    children = g.split(2)
    _assert_tf("gen_split_state", np.stack([c.state.numpy() for c in children]))
    _assert_tf("gen_split_normal", children[1].normal([3]))


def test_split_and_fold_in_match_tensorflow_docs():
    np.testing.assert_array_equal(
        tf.random.split([1, 2], num=3).numpy(),
        [[1105988140, 1738052849], [-335576002, 370444179], [10670227, -246211131]])
    np.testing.assert_array_equal(tf.random.fold_in([1, 2], 3).numpy(), [1105988140, 3])
    np.testing.assert_array_equal(tf.random.experimental.stateless_fold_in([1, 2], 3).numpy(),
                                  [1105988140, 3])


# --- seed semantics --------------------------------------------------------------------------

_PROGRAM = ("import ndflow as tf; tf.random.set_seed({seed}); "
            "print(tf.random.normal([3]).numpy().tolist(), tf.random.uniform([2]).numpy().tolist(),"
            " tf.random.shuffle(tf.constant([0, 1, 2, 3, 4, 5, 6, 7])).numpy().tolist())")


def _run(seed):
    result = subprocess.run([sys.executable, "-c", _PROGRAM.format(seed=seed)],
                            capture_output=True, text=True, check=True)
    return result.stdout


@pytest.mark.slow
def test_global_seed_repeats_in_a_fresh_process():
    first = _run(3)
    assert _run(3) == first
    assert _run(4) != first


def test_set_seed_restarts_the_sequence():
    tf.random.set_seed(5)
    first = [tf.random.normal([3]).numpy(), tf.random.uniform([3]).numpy()]
    tf.random.set_seed(5)
    second = [tf.random.normal([3]).numpy(), tf.random.uniform([3]).numpy()]
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    assert not np.array_equal(first[0], tf.random.normal([3]).numpy())


def test_no_seed_is_non_deterministic():
    assert not np.array_equal(tf.random.normal([8]).numpy(), tf.random.normal([8]).numpy())


def test_op_seed_continues_its_stream_and_restarts_on_set_seed():
    first = tf.random.uniform([4], seed=9).numpy()
    second = tf.random.uniform([4], seed=9).numpy()
    assert not np.array_equal(first, second)
    tf.random.set_seed(None)
    np.testing.assert_array_equal(tf.random.uniform([4], seed=9).numpy(), first)


def test_global_and_op_seed_together_are_deterministic():
    tf.random.set_seed(1)
    first = tf.random.normal([4], seed=2).numpy()
    tf.random.set_seed(1)
    np.testing.assert_array_equal(tf.random.normal([4], seed=2).numpy(), first)
    tf.random.set_seed(2)
    assert not np.array_equal(tf.random.normal([4], seed=2).numpy(), first)


def test_stateless_ops_are_pure_functions_of_the_seed():
    for fn in [tf.random.stateless_normal, tf.random.stateless_uniform,
               tf.random.stateless_truncated_normal]:
        np.testing.assert_array_equal(fn([10], [4, 5]).numpy(), fn([10], [4, 5]).numpy())
        assert not np.array_equal(fn([10], [4, 5]).numpy(), fn([10], [5, 4]).numpy())
    logits = tf.constant([[0.0, 1.0, 2.0]])
    np.testing.assert_array_equal(tf.random.stateless_categorical(logits, 8, [1, 2]).numpy(),
                                  tf.random.stateless_categorical(logits, 8, [1, 2]).numpy())
    for fn, args in [(tf.random.stateless_gamma, ([4, 2], [1, 2], [1.0, 3.0])),
                     (tf.random.stateless_poisson, ([4, 2], [1, 2], [1.0, 3.0])),
                     (tf.random.stateless_binomial, ([4, 2], [1, 2], [5.0, 9.0], 0.5))]:
        np.testing.assert_array_equal(fn(*args).numpy(), fn(*args).numpy())


# --- distributions ---------------------------------------------------------------------------

N = 100_000


@pytest.mark.parametrize("fn, mean, std", [
    (lambda: tf.random.normal([N], mean=1.5, stddev=2.0, seed=1), 1.5, 2.0),
    (lambda: tf.random.uniform([N], minval=-1.0, maxval=3.0, seed=1), 1.0, 4 / 12**0.5),
    (lambda: tf.random.truncated_normal([N], seed=1), 0.0, 0.87962566),
    (lambda: tf.random.gamma([N], 3.0, beta=2.0, seed=1), 1.5, 3**0.5 / 2),
    (lambda: tf.random.poisson([N], 4.0, seed=1), 4.0, 2.0),
    (lambda: tf.random.stateless_normal([N], [1, 1]), 0.0, 1.0),
    (lambda: tf.random.stateless_binomial([N], [1, 1], 10.0, 0.3), 3.0, 2.1**0.5),
], ids=["normal", "uniform", "truncated_normal", "gamma", "poisson", "stateless_normal",
        "stateless_binomial"])
def test_moments(fn, mean, std):
    values = fn().numpy().astype(np.float64)
    assert abs(values.mean() - mean) < 4 * std / N**0.5 + 1e-3
    assert abs(values.std() - std) < 0.02 * std


def test_truncated_normal_stays_within_two_stddevs():
    values = tf.random.truncated_normal([N], mean=1.0, stddev=0.5, seed=3).numpy()
    assert values.min() >= 0.0 and values.max() <= 2.0
    assert np.abs(tf.random.stateless_truncated_normal([N], [1, 3]).numpy()).max() < 2.0


@pytest.mark.parametrize("dtype", [tf.int32, tf.int64], ids=["int32", "int64"])
def test_integer_uniform_range_and_dtype(dtype):
    values = tf.random.uniform([N], minval=-3, maxval=4, dtype=dtype, seed=1)
    assert values.dtype == dtype
    counts = np.bincount(values.numpy() + 3)
    assert counts.size == 7 and counts.min() > N / 7 * 0.95


def test_categorical_frequencies_and_dtype():
    probs = np.array([0.1, 0.2, 0.7])
    samples = tf.random.categorical(tf.constant([np.log(probs), np.log(probs[::-1])]), N, seed=1)
    assert samples.dtype == tf.int64 and samples.shape == (2, N)
    for row, p in zip(samples.numpy(), [probs, probs[::-1]]):
        np.testing.assert_allclose(np.bincount(row, minlength=3) / N, p, atol=0.01)
    assert tf.random.categorical([[0.0, 0.0]], 3, dtype=tf.int32).dtype == tf.int32


def test_categorical_never_draws_impossible_classes():
    samples = tf.random.categorical([[-np.inf, 0.0, -np.inf]], 1000, seed=2).numpy()
    assert set(samples.reshape(-1).tolist()) == {1}


def test_shuffle_is_a_permutation_of_the_first_dimension():
    value = np.arange(40).reshape(20, 2)
    shuffled = tf.random.shuffle(tf.constant(value), seed=1).numpy()
    assert not np.array_equal(shuffled, value)
    np.testing.assert_array_equal(np.sort(shuffled[:, 0]), value[:, 0])
    np.testing.assert_array_equal(shuffled[:, 1], shuffled[:, 0] + 1)


def test_gamma_and_poisson_output_shapes():
    assert tf.random.gamma([3, 2], [1.0, 2.0, 3.0]).shape == (3, 2, 3)
    assert tf.random.gamma([4], 2.0, beta=[1.0, 2.0], dtype=tf.float64).dtype == tf.float64
    assert tf.random.poisson([5], [[1.0, 2.0]], dtype=tf.int32).shape == (5, 1, 2)
    assert tf.random.stateless_poisson([3, 2], [1, 2], [1.0, 2.0]).dtype == tf.int32


# --- Generator -------------------------------------------------------------------------------

def test_generator_split_gives_independent_streams():
    parent = tf.random.Generator.from_seed(7)
    children = parent.split(3)
    draws = [child.normal([N // 10]).numpy() for child in children]
    draws.append(parent.normal([N // 10]).numpy())
    correlation = np.corrcoef(np.stack(draws))
    assert np.abs(correlation - np.eye(4)).max() < 0.05


def test_generator_state_advances_and_resets():
    g = tf.random.Generator.from_seed(3)
    first = g.normal([4]).numpy()
    assert not np.array_equal(first, g.normal([4]).numpy())
    g.reset_from_seed(3)
    np.testing.assert_array_equal(g.normal([4]).numpy(), first)
    np.testing.assert_array_equal(tf.random.create_rng_state(2**70 + 5, "philox").numpy(),
                                  [5, 64, 0])


def test_global_generator():
    g = tf.random.Generator.from_seed(1)
    tf.random.set_global_generator(g)
    assert tf.random.get_global_generator() is g
    assert tf.random.experimental.get_global_generator() is g
    other = tf.random.Generator.from_non_deterministic_state()
    assert not np.array_equal(other.state.numpy(), g.state.numpy())


# --- errors ----------------------------------------------------------------------------------

def test_integer_uniform_needs_maxval():
    with pytest.raises(ValueError, match="Must specify maxval for integer dtype"):
        tf.random.uniform([2], dtype=tf.int32)


def test_integer_uniform_needs_minval_below_maxval():
    with pytest.raises(errors.InvalidArgumentError, match="RandomUniformInt: need minval < "
                                                         "maxval, got 5 >= 5"):
        tf.random.uniform([2], minval=5, maxval=5, dtype=tf.int32)


def test_bad_shapes_and_dtypes_name_the_op():
    with pytest.raises(errors.InvalidArgumentError, match=r"RandomStandardNormal: shape must "
                                                         r"have non-negative.*\[2, -1\]"):
        tf.random.normal([2, -1])
    with pytest.raises(errors.InvalidArgumentError, match=r"RandomStandardNormal: dtype must "
                                                         r"be a floating point type, got int32"):
        tf.random.normal([2], dtype=tf.int32)
    with pytest.raises(errors.InvalidArgumentError, match=r"Multinomial: logits must be 2-D.*"
                                                         r"\[3\]"):
        tf.random.categorical([1.0, 2.0, 3.0], 2)
    with pytest.raises(errors.InvalidArgumentError, match=r"StatelessRandomGetKeyCounter: seed "
                                                         r"must have shape \[2\], got \[3\]"):
        tf.random.stateless_normal([2], seed=[1, 2, 3])
    with pytest.raises(ValueError, match="minval and maxval must be both"):
        tf.random.stateless_uniform([2], [1, 2], minval=0, dtype=tf.int32)
    with pytest.raises(ValueError, match="Unsupported RNG algorithm"):
        tf.random.stateless_normal([2], [1, 2], alg="threefry")


def test_philox_small_and_vectorised_paths_agree():
    from ndflow.ops import _philox

    rng = np.random.default_rng(0)
    counters = rng.integers(0, 2**32, size=(_philox._SMALL, 4), dtype=np.uint64).astype(np.uint32)
    key = (123456789, 987654321)
    small = _philox.philox(np, counters, key)
    vectorised = _philox.philox(np, np.concatenate([counters, counters]), key)[:len(counters)]
    np.testing.assert_array_equal(small, vectorised)
