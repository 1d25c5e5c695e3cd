"""AutoGraph: converted control flow gives eager Python's numbers, becomes If/While ops only
for tensor conditions, and impossible cases fail with the user's file and line."""

import inspect
import os
import sys

import numpy as np
import pytest

import ndflow as tf
from ndflow.function import autograph

HERE = os.path.basename(__file__)


def _needs_control_flow():
    if not hasattr(tf, "cond") or not hasattr(tf, "while_loop"):
        pytest.skip("tf.cond / tf.while_loop are not available yet (ndflow/ops/control_flow.py)")


def _control_ops(function, *args):
    graph = function.get_concrete_function(*args).graph
    return sorted({op.type for op in graph.get_operations()
                   if op.type in ("If", "StatelessIf", "While", "StatelessWhile")})


def _line_of(function, text):
    lines, start = inspect.getsourcelines(function)
    for offset, line in enumerate(lines):
        if text in line:
            return start + offset
    raise AssertionError(text)


# --- functions under test (module level, so their source is available) ---------------------


def collatz_steps(n):
    steps = 0
    while n != 1:
        if n % 2 == 0:
            n = n // 2
        else:
            n = 3 * n + 1
        steps += 1
    return steps


def sum_odd_until(values, limit):
    total = tf.constant(0)
    for v in values:
        if v % 2 == 0:
            continue
        if total > limit:
            break
        total += v
    return total


def sign(x):
    if x > 0:
        return 1.0
    elif x < 0:
        return -1.0
    return 0.0


def squares_in_range(n):
    total = tf.constant(0)
    for i in tf.range(n):
        total = total + i * i
    return total


def nested_loops(n):
    total = tf.constant(0)
    i = tf.constant(0)
    while i < n:
        j = tf.constant(0)
        while j < i:
            total += j
            j += 1
        i += 1
    return total


def clipped_abs(x):
    y = x
    if x < 0:
        y = -x
    if y > 10.0 and not (x == 99.0):  # noqa: SIM201 - converts `not` on a tensor
        y = tf.constant(10.0)
    return y


def ternary(x):
    return x * 2.0 if x > 0 else x * -3.0


def python_branches(x, use_square):
    if use_square:
        y = x * x
    else:
        y = x + 1.0
    for _ in range(3):
        y = y + 1.0
    return y


def helper_double_if_positive(x):
    if x > 0:
        x = x * 2.0
    return x


def calls_helper(x):
    return helper_double_if_positive(x) + 1.0


def loop_with_else(n):
    total = tf.constant(0)
    for i in tf.range(n):
        if i > 2:
            break
        total += i
    else:
        total = tf.constant(-1)
    return total


def one_branch_defines(x):
    if x > 0:
        y = x * 2.0
    return y


def one_branch_returns(x):
    if x > 0:
        return x


def loop_changes_dtype(n):
    total = tf.constant(0)
    i = tf.constant(0)
    while i < n:
        total = tf.cast(total, tf.float32) + 1.5
        i += 1
    return total


def loop_var_without_initial_value(n):
    i = tf.constant(0)
    while i < n:
        last = i * 2
        i += 1
    return last


def return_inside_tensor_loop(n):
    i = tf.constant(0)
    while i < n:
        i += 1
        if i > 3:
            return i
    return i


def generator(n):
    yield n


def branch_dtype_mismatch(x):
    if x > 0:
        y = tf.constant(1)
    else:
        y = tf.constant(1.0)
    return y


def prints_tensor(x):
    print("value:", x)
    return x


# --- behaviour -----------------------------------------------------------------------------


@pytest.mark.parametrize("function,args,expected_ops", [
    (collatz_steps, (tf.constant(27),), ["StatelessWhile"]),
    (sum_odd_until, (tf.constant([1, 2, 3, 5, 7, 9, 11]), tf.constant(6)), ["StatelessWhile"]),
    (sign, (tf.constant(-3.0),), ["StatelessIf"]),
    (sign, (tf.constant(0.0),), ["StatelessIf"]),
    (squares_in_range, (tf.constant(5),), ["StatelessWhile"]),
    (nested_loops, (tf.constant(5),), ["StatelessWhile"]),
    (clipped_abs, (tf.constant(-12.0),), ["StatelessIf"]),
    (clipped_abs, (tf.constant(3.0),), ["StatelessIf"]),
    (ternary, (tf.constant(-2.0),), ["StatelessIf"]),
    (calls_helper, (tf.constant(2.0),), ["StatelessIf"]),
    (loop_with_else, (tf.constant(2),), ["StatelessIf", "StatelessWhile"]),
    (loop_with_else, (tf.constant(6),), ["StatelessIf", "StatelessWhile"]),
], ids=["while-if", "for-break-continue", "elif-return", "fallthrough-return", "for-range",
        "nested-while", "and-not", "no-clip", "ternary", "recursive-call", "for-else-runs",
        "for-else-skipped"])
def test_tensor_control_flow_matches_eager_python(function, args, expected_ops):
    _needs_control_flow()
    expected = np.asarray(tf.convert_to_tensor(function(*args)))
    traced = tf.function(function)
    np.testing.assert_allclose(np.asarray(traced(*args)), expected)
    assert set(_control_ops(traced, *args)) & set(expected_ops), _control_ops(traced, *args)


def test_python_conditions_stay_python():
    traced = tf.function(python_branches)
    x = tf.constant(2.0)
    assert float(traced(x, True)) == 7.0
    assert float(traced(x, False)) == 6.0
    assert _control_ops(traced, x, True) == []


def test_eager_tensor_conditions_run_plain_python():
    converted = autograph.convert(sign)
    assert converted(tf.constant(5.0)) == 1.0
    assert float(autograph.convert(collatz_steps)(tf.constant(6))) == 8


def test_tensor_loop_results_match_a_range_of_inputs():
    _needs_control_flow()
    traced = tf.function(collatz_steps)
    for n in [1, 2, 7, 27]:
        assert int(traced(tf.constant(n))) == collatz_steps(n)
    assert traced.experimental_get_tracing_count() == 1


def test_print_of_tensors_becomes_tf_print(capsys):
    traced = tf.function(prints_tensor)
    traced(tf.constant([1, 2]))
    traced(tf.constant([3, 4]))
    assert capsys.readouterr().out == "value: [1 2]\nvalue: [3 4]\n"


# --- errors name the user's line -----------------------------------------------------------


@pytest.mark.parametrize("function,arg,line_text,match", [
    (one_branch_defines, tf.constant(1.0), "if x > 0:",
     "'y' is defined only in the if-branch of a tensor condition; give it a value before"),
    (one_branch_returns, tf.constant(1.0), "if x > 0:",
     "the else-branch of this tensor `if` can end without a `return`"),
    (loop_changes_dtype, tf.constant(3), "while i < n:",
     "'total' changes dtype from int32 to float32"),
    (loop_var_without_initial_value, tf.constant(3), "while i < n:",
     "'last' is assigned in this while loop over a tensor and used after it"),
    (return_inside_tensor_loop, tf.constant(3), "while i < n:",
     "this loop on a tensor contains a `return`"),
    (branch_dtype_mismatch, tf.constant(1.0), "if x > 0:",
     "'y' is a int32 tensor in the if-branch but float32 in the else-branch"),
], ids=["defined-in-one-branch", "one-branch-returns", "loop-dtype-change",
        "loop-var-undefined", "return-in-loop", "branch-dtypes"])
def test_impossible_conversions_name_file_and_line(function, arg, line_text, match):
    _needs_control_flow()
    line = _line_of(function, line_text)
    with pytest.raises(ValueError, match=match) as info:
        tf.function(function)(arg)
    assert f"{HERE}:{line}:" in str(info.value)


def test_generator_cannot_be_converted():
    with pytest.raises(ValueError, match=f"{HERE}:.*'generator' is a generator"):
        autograph.convert(generator)


# --- conversion mechanics ------------------------------------------------------------------


def test_unavailable_source_is_returned_unconverted():
    square = eval("lambda x: x * x")
    assert autograph.convert(square) is square
    assert autograph.convert(len) is len
    assert autograph.convert(np.sum) is np.sum


def test_conversion_is_cached():
    assert autograph.convert(sign) is autograph.convert(sign)


def test_converted_code_keeps_line_numbers():
    converted = autograph.convert(one_branch_defines)
    assert converted.__code__.co_filename == one_branch_defines.__code__.co_filename
    with pytest.raises(NameError):
        one_branch_defines(tf.constant(-1.0))
    assert _line_of(one_branch_defines, "def ") == converted.__code__.co_firstlineno


def test_closures_and_methods_are_converted():
    _needs_control_flow()
    offset = tf.constant(10.0)

    class Base:
        def scale(self, x):
            return x * 2.0

    class Model(Base):
        @tf.function
        def __call__(self, x):
            if x > 0:
                x = super().scale(x) + offset
            return x

    model = Model()
    assert float(model(tf.constant(1.0))) == 12.0
    assert float(model(tf.constant(-1.0))) == -1.0


def test_to_code_to_graph_and_do_not_convert():
    code = tf.autograph.to_code(sign)
    assert "ag__.if_return" in code
    assert tf.autograph.to_graph(sign)(tf.constant(2.0)) == 1.0

    @tf.autograph.experimental.do_not_convert
    def untouched(x):
        return x

    assert autograph.convert(untouched) is untouched


def test_library_functions_are_not_converted():
    assert autograph.converted_call(np.mean) is np.mean
    assert autograph.converted_call(tf.reduce_sum) is tf.reduce_sum
    assert autograph.converted_call(os.path.join) is os.path.join
    assert autograph.converted_call(sys.exit) is sys.exit
