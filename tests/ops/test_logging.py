"""tf.print: TF's text format (checked against TF 2.21 output), streams, and program order
inside tf.function."""

import sys

import numpy as np
import pytest

import ndflow as tf
from ndflow.ops.logging import format_value


@pytest.mark.parametrize("value,summarize,expected", [
    (np.arange(10, dtype=np.int32), 3, "[0 1 2 ... 7 8 9]"),
    (np.arange(10, dtype=np.int32), -1, "[0 1 2 3 4 5 6 7 8 9]"),
    (np.arange(10, dtype=np.int32), 0, "[ ...]"),
    (np.array([[1.5, 2], [3, 4]], np.float32), 1, "[[1.5 2]\n [3 4]]"),
    (np.arange(12, dtype=np.float32) / 7, 3,
     "[0 0.142857149 0.285714298 ... 1.28571427 1.42857146 1.57142854]"),
    (np.arange(24, dtype=np.int32).reshape(2, 3, 4), 3,
     ("[[[0 1 2 3]\n  [4 5 6 7]\n  [8 9 10 11]]\n\n [[12 13 14 15]\n  [16 17 18 19]\n"
     "  [20 21 22 23]]]")),
    (np.arange(100).reshape(10, 10), 3,
     ("[[0 1 2 ... 7 8 9]\n [10 11 12 ... 17 18 19]\n [20 21 22 ... 27 28 29]\n ...\n"
     " [70 71 72 ... 77 78 79]\n [80 81 82 ... 87 88 89]\n [90 91 92 ... 97 98 99]]")),
    (np.array([0.1, 1 / 3]), 3, "[0.1 0.33333333333333331]"),
    (np.array([0.1, 1 / 3], np.float16), 3, "[0.0999755859 0.333251953]"),
    (np.array([np.nan, np.inf, -np.inf], np.float32), 3, "[nan inf -inf]"),
    (np.array(-0.0, np.float32), 3, "-0"),
    (np.array(123456789.0, np.float32), 3, "123456792"),
    (np.array([100.0, 1e-7], np.float32), 3, "[100 1e-07]"),
    (np.array(1e10, np.float32), 3, "1e+10"),
    (np.array([True, False]), 3, "[1 0]"),
    (np.array([b"a", b"bc"], dtype=object), 3, '["a" "bc"]'),
    (np.zeros([0], np.float32), 3, "[]"),
    (np.zeros([2, 0], np.float32), 3, "[\n ...]"),
    (np.zeros([0, 2], np.float32), 3, "[]"),
], ids=["vector", "summarize-all", "summarize-0", "matrix-short", "float32-digits", "rank-3",
        "summarised-matrix", "float64-digits", "float16", "non-finite", "negative-zero",
        "float32-rounding", "exponent", "large-exponent", "bool", "strings", "empty",
        "empty-inner", "empty-outer"])
def test_format_matches_tensorflow(value, summarize, expected):
    assert format_value(value, summarize) == expected


def test_print_mixes_python_values_and_structures(capsys):
    tf.print(tf.constant("abc"), tf.constant(1.0), {"a": tf.constant(1)}, [1, 2],
             (1, tf.constant([2, 3])), "text", sep="|", end="!\n", output_stream=sys.stdout)
    assert capsys.readouterr().out == "\"abc\"|1|{'a': 1}|[1, 2]|(1, [2 3])|text!\n"


def test_print_defaults_to_stderr_and_reads_variables(capsys):
    tf.print("v =", tf.Variable([1.0, 2.5]))
    captured = capsys.readouterr()
    assert captured.err == "v = [1 2.5]\n"
    assert captured.out == ""


def test_print_returns_none_eagerly(capsys):
    assert tf.print(tf.constant(1), output_stream=sys.stdout) is None
    assert capsys.readouterr().out == "1\n"


def test_print_to_file_appends(tmp_path):
    path = tmp_path / "log.txt"
    tf.print(tf.range(3), output_stream=f"file://{path}")
    tf.print("done", output_stream=f"file://{path}")
    assert path.read_text() == "[0 1 2]\ndone\n"


def test_print_inside_function_runs_every_call_in_program_order(capsys):
    @tf.function
    def step(x):
        tf.print("first", x, output_stream=sys.stdout)
        y = x * 2
        tf.print("second", y, output_stream=sys.stdout)
        return y

    step(tf.constant([1, 2]))
    step(tf.constant([3, 4]))
    assert capsys.readouterr().out == ("first [1 2]\nsecond [2 4]\nfirst [3 4]\n"
                                       "second [6 8]\n")
    graph = step.get_concrete_function(tf.constant([1, 2])).graph
    assert [op.type for op in graph.get_operations()].count("PrintV2") == 2


def test_print_in_graph_returns_the_operation():
    @tf.function
    def f(x):
        op = tf.print(x, output_stream=sys.stdout)
        assert op.type == "PrintV2"
        return x

    f.get_concrete_function(tf.constant(1))


def test_print_rejects_unknown_streams():
    with pytest.raises(ValueError, match="print: output_stream must be"):
        tf.print(1, output_stream="somewhere")
