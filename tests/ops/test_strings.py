"""Tests for ndflow/ops/strings.py: values, FarmHash buckets equal to TF's, graph mode, infer
with unknown shapes, and errors."""

import numpy as np
import pytest

import ndflow as tf
from ndflow.ops import strings

# tf.strings.to_hash_bucket_fast(words, 2**62) from TensorFlow 2.21
_WORDS = [b"", b"a", b"ab", b"abc", b"abcd", b"hello", b"abcdefgh", b"abcdefghijklmnop",
          b"x" * 17, b"y" * 31, b"z" * 33, b"q" * 64, b"w" * 65, bytes(range(200)),
          b"The quick brown fox jumps over the lazy dog" * 3]
_TF_BUCKETS = [1936946117179621455, 3694432073954588131, 3066228220894225694,
               2640714258260161385, 1897425971756105985, 3786372426573024488,
               4533385575889643785, 1469030743107030717, 2082709914559524773,
               4502319106065319208, 1983000239170337647, 3227602484106814583,
               3272011567211491968, 525935771297148851, 3331362670556783903]


def _strings(values):
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return tf.constant(array)


def test_hash_buckets_equal_tensorflow():
    result = tf.strings.to_hash_bucket_fast(_strings(_WORDS), 2 ** 62)
    assert result.dtype == tf.int64
    assert result.numpy().tolist() == _TF_BUCKETS


def test_hash_small_buckets_and_shape():
    result = tf.strings.to_hash_bucket_fast([["a", "b"], ["c", "a"]], 5)
    assert result.shape == (2, 2)
    assert result.numpy()[0, 0] == result.numpy()[1, 1]
    assert ((result.numpy() >= 0) & (result.numpy() < 5)).all()


@pytest.mark.parametrize("fn,values,expected", [
    (tf.strings.lower, ["AbC", "ÉX"], [b"abc", "ÉX".lower().encode()]),
    (tf.strings.upper, ["abC"], [b"ABC"]),
], ids=["lower", "upper"])
def test_case(fn, values, expected):
    kwargs = {"encoding": "utf-8"} if fn is tf.strings.lower else {}
    assert fn(values, **kwargs).numpy().tolist() == expected


def test_lower_ascii_only_by_default():
    assert tf.strings.lower(["ÉA"]).numpy().tolist() == ["É".encode() + b"a"]


def test_regex_replace():
    text = ["Hello, World!!", "a-b"]
    assert tf.strings.regex_replace(text, r"[,!]", "").numpy().tolist() == [b"Hello World",
                                                                             b"a-b"]
    assert tf.strings.regex_replace(["aaa"], "a", "b", replace_global=False).numpy().tolist() \
        == [b"baa"]
    assert tf.strings.regex_replace(["ab cd"], r"(\w+) (\w+)", r"\2 \1").numpy().tolist() == [
        b"cd ab"]
    assert tf.strings.regex_replace(["a.b,c"], r"[\pP]", "").numpy().tolist() == [b"abc"]


def test_length_as_string_to_number():
    assert tf.strings.length(["héllo", ""]).numpy().tolist() == [6, 0]
    assert tf.strings.length(["héllo"], unit="UTF8_CHAR").numpy().tolist() == [5]
    assert tf.strings.as_string([1.5, 2.0]).numpy().tolist() == [b"1.500000", b"2.000000"]
    assert tf.strings.as_string([3, -4]).numpy().tolist() == [b"3", b"-4"]
    assert tf.strings.as_string([True]).numpy().tolist() == [b"true"]
    assert tf.strings.as_string([1.25], precision=1).numpy().tolist() == [b"1.2"]
    assert tf.strings.as_string([7], width=3, fill="0").numpy().tolist() == [b"007"]
    number = tf.strings.to_number(["1.5", " 2"])
    assert number.dtype == tf.float32
    np.testing.assert_array_equal(number.numpy(), [1.5, 2.0])
    assert tf.strings.to_number(["12"], out_type=tf.int64).numpy().tolist() == [12]


def test_graph_mode_keeps_shapes():
    @tf.function(input_signature=[tf.TensorSpec((None, 2), tf.string)])
    def pipeline(x):
        lowered = tf.strings.lower(tf.strings.regex_replace(x, "[.]", ""))
        assert lowered.shape.as_list() == [None, 2]
        return tf.strings.to_hash_bucket_fast(lowered, 10), tf.strings.length(lowered)

    buckets, lengths = pipeline(tf.constant([["A.", "b"]]))
    assert buckets.shape == (1, 2) and lengths.numpy().tolist() == [[1, 1]]


def test_errors():
    with pytest.raises(tf.errors.InvalidArgumentError, match="StringLower: dtype float32"):
        tf.strings.lower(tf.constant([1.0]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="StringToHashBucketFast: "
                                                             "num_buckets"):
        tf.strings.to_hash_bucket_fast(["a"], 0)
    with pytest.raises(tf.errors.InvalidArgumentError, match="StringToNumber"):
        tf.strings.to_number(["abc"])
    with pytest.raises(tf.errors.InvalidArgumentError, match="StaticRegexReplace: invalid"):
        tf.strings.regex_replace(["a"], "(", "")
    with pytest.raises(tf.errors.InvalidArgumentError, match="AsString: dtype string"):
        tf.strings.as_string(["a"])


def test_fingerprint64_is_public_helper():
    assert strings.fingerprint64(b"") == 0x9AE16A3B2F90404F


def test_live_tensorflow_differential():
    real = pytest.importorskip("tensorflow")
    words = [b"x" * n for n in range(0, 140, 7)] + [b"Keras", b"ndflow"]
    ours = tf.strings.to_hash_bucket_fast(_strings(words), 1000003).numpy()
    theirs = real.strings.to_hash_bucket_fast(words, 1000003).numpy()
    np.testing.assert_array_equal(ours, theirs)
