"""TensorFlow's exception classes (`tf.errors`) and their canonical error codes.

`InvalidArgumentError` also derives from `ValueError`, because TF users catch shape and value
errors that way; otherwise every class derives from `OpError` exactly as in TF.
"""

OK = 0
CANCELLED = 1
UNKNOWN = 2
INVALID_ARGUMENT = 3
DEADLINE_EXCEEDED = 4
NOT_FOUND = 5
ALREADY_EXISTS = 6
PERMISSION_DENIED = 7
RESOURCE_EXHAUSTED = 8
FAILED_PRECONDITION = 9
ABORTED = 10
OUT_OF_RANGE = 11
UNIMPLEMENTED = 12
INTERNAL = 13
UNAVAILABLE = 14
DATA_LOSS = 15
UNAUTHENTICATED = 16


class OpError(Exception):
    """Base class of errors raised while running an op (TF's `tf.errors.OpError`)."""

    error_code = UNKNOWN

    def __init__(self, node_def=None, op=None, message=None, *args):
        # TF's signature is (node_def, op, message); accept a lone message too.
        if message is None and op is None and isinstance(node_def, str):
            message, node_def = node_def, None
        super().__init__(message)
        self.node_def = node_def
        self.op = op
        self.message = message if message is not None else ""

    def __str__(self):
        return self.message

    def __reduce__(self):
        return (type(self), (self.node_def, self.op, self.message))


def _error(name, code, *bases, doc):
    cls = type(name, (OpError, *bases), {"error_code": code, "__doc__": doc})
    cls.__module__ = __name__
    return cls


CancelledError = _error("CancelledError", CANCELLED, doc="An operation was cancelled.")
UnknownError = _error("UnknownError", UNKNOWN, doc="Unknown error.")
InvalidArgumentError = _error(
    "InvalidArgumentError", INVALID_ARGUMENT, ValueError, doc="An op received an invalid argument."
)
DeadlineExceededError = _error(
    "DeadlineExceededError", DEADLINE_EXCEEDED, doc="A deadline expired before the op completed."
)
NotFoundError = _error("NotFoundError", NOT_FOUND, doc="A requested entity was not found.")
AlreadyExistsError = _error("AlreadyExistsError", ALREADY_EXISTS, doc="The entity already exists.")
PermissionDeniedError = _error(
    "PermissionDeniedError", PERMISSION_DENIED, doc="The caller may not run the operation."
)
ResourceExhaustedError = _error(
    "ResourceExhaustedError", RESOURCE_EXHAUSTED, doc="Some resource has been exhausted."
)
FailedPreconditionError = _error(
    "FailedPreconditionError", FAILED_PRECONDITION, doc="The system is not in a state to run it."
)
AbortedError = _error("AbortedError", ABORTED, doc="The operation was aborted.")
OutOfRangeError = _error(
    "OutOfRangeError", OUT_OF_RANGE, doc="An operation iterated past the valid input range."
)
UnimplementedError = _error("UnimplementedError", UNIMPLEMENTED, doc="Operation not supported.")
InternalError = _error("InternalError", INTERNAL, doc="An internal invariant was broken.")
UnavailableError = _error("UnavailableError", UNAVAILABLE, doc="The runtime is unavailable.")
DataLossError = _error("DataLossError", DATA_LOSS, doc="Unrecoverable data loss or corruption.")
UnauthenticatedError = _error(
    "UnauthenticatedError", UNAUTHENTICATED, doc="The request lacks valid credentials."
)

__all__ = [name for name in dir() if name.isupper() or name.endswith("Error")]
