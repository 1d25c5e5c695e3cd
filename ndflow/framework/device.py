"""Devices and the array backend: the one place that decides which array library runs a kernel.

The CPU runs kernels on NumPy. A GPU device will map to CuPy here, imported lazily; nothing else
in ndflow imports an array library to pick a backend.
"""

import contextlib

import numpy as np

from ndflow.framework import context

CPU_NAME = "/job:localhost/replica:0/task:0/device:CPU:0"


class PhysicalDevice:
    """A device visible to ndflow (`tf.config.PhysicalDevice`)."""

    __slots__ = ("name", "device_type")

    def __init__(self, name, device_type):
        self.name = name
        self.device_type = device_type

    def __eq__(self, other):
        return isinstance(other, PhysicalDevice) and (self.name, self.device_type) == (
            other.name,
            other.device_type,
        )

    def __hash__(self):
        return hash((self.name, self.device_type))

    def __repr__(self):
        return f"PhysicalDevice(name='{self.name}', device_type='{self.device_type}')"


def _gpu_count():
    """Number of CUDA devices CuPy can see; 0 when CuPy is not installed."""
    try:
        import cupy  # noqa: PLC0415 - optional extra, imported only when asked
    except ImportError:
        return 0
    try:
        return cupy.cuda.runtime.getDeviceCount()
    except Exception:  # CuPy installed but no driver/device
        return 0


def list_physical_devices(device_type=None):
    """`tf.config.list_physical_devices`: the CPU, plus CUDA GPUs when CuPy sees them."""
    devices = [PhysicalDevice("/physical_device:CPU:0", "CPU")]
    if device_type is None or device_type.upper() == "GPU":
        devices += [
            PhysicalDevice(f"/physical_device:GPU:{i}", "GPU") for i in range(_gpu_count())
        ]
    if device_type is None:
        return devices
    return [d for d in devices if d.device_type == device_type.upper()]


def canonical_device_name(name):
    """'/CPU:0', 'cpu:0', '/device:CPU:0' ... -> TF's fully qualified device name."""
    if not name:
        return CPU_NAME
    text = name.strip("/")
    parts = [p for p in text.split("/") if p and not p.startswith(("job:", "replica:", "task:"))]
    last = parts[-1] if parts else "CPU:0"
    if last.lower().startswith("device:"):
        last = last[len("device:"):]
    kind, _, index = last.partition(":")
    kind = kind.upper()
    if kind not in ("CPU", "GPU"):
        raise ValueError(f"tf.device: unknown device type in {name!r}; expected CPU or GPU")
    return f"/job:localhost/replica:0/task:0/device:{kind}:{index or 0}"


@contextlib.contextmanager
def device(device_name):
    """`tf.device(name)`: places ops created in the block on a device.

    Only the CPU runs kernels today; a GPU name is accepted (TF's soft placement falls back to the
    CPU when no GPU exists, and so does ndflow).
    """
    if callable(device_name):
        raise RuntimeError("tf.device does not support functions when eager execution is enabled")
    name = canonical_device_name(device_name) if device_name else None
    previous = context.state.device_stack
    context.state.device_stack = previous + (name,)
    try:
        yield
    finally:
        context.state.device_stack = previous


def current_device():
    """The fully qualified name of the device the next op runs on."""
    for name in reversed(context.state.device_stack):
        if name is not None:
            return name if name.endswith(("CPU:0",)) or _gpu_count() else CPU_NAME
    return CPU_NAME


def array_namespace(device_name=CPU_NAME):
    """The array library (`xp`) whose kernels run on a device. NumPy for the CPU."""
    return np
