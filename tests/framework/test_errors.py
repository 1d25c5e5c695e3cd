import pytest

import ndflow as tf


@pytest.mark.parametrize(
    "name, code",
    [
        ("CancelledError", 1),
        ("UnknownError", 2),
        ("InvalidArgumentError", 3),
        ("DeadlineExceededError", 4),
        ("NotFoundError", 5),
        ("AlreadyExistsError", 6),
        ("PermissionDeniedError", 7),
        ("ResourceExhaustedError", 8),
        ("FailedPreconditionError", 9),
        ("AbortedError", 10),
        ("OutOfRangeError", 11),
        ("UnimplementedError", 12),
        ("InternalError", 13),
        ("UnavailableError", 14),
        ("DataLossError", 15),
        ("UnauthenticatedError", 16),
    ],
)
def test_error_classes(name, code):
    cls = getattr(tf.errors, name)
    assert issubclass(cls, tf.errors.OpError)
    error = cls(None, None, "boom")
    assert error.error_code == code
    assert error.message == "boom"
    assert str(error) == "boom"
    assert cls("short form").message == "short form"


def test_invalid_argument_is_a_value_error():
    with pytest.raises(ValueError):
        raise tf.errors.InvalidArgumentError(None, None, "bad")
    assert tf.errors.INVALID_ARGUMENT == 3


def test_eager_dtype_mix_raises_invalid_argument():
    with pytest.raises(tf.errors.InvalidArgumentError, match="AddV2.*float32.*int32"):
        tf.constant(1.0) + tf.constant(1)
