import pytest

import ndflow as tf


def test_list_physical_devices_has_the_cpu():
    devices = tf.config.list_physical_devices()
    assert devices[0].device_type == "CPU"
    assert devices[0].name == "/physical_device:CPU:0"
    assert tf.config.list_physical_devices("CPU") == devices[:1]
    assert all(d.device_type == "GPU" for d in tf.config.list_physical_devices("GPU"))


def test_device_scope_runs_ops_on_the_cpu():
    with tf.device("/CPU:0"):
        result = tf.constant([1.0]) + 1.0
    assert result.device == "/job:localhost/replica:0/task:0/device:CPU:0"
    assert float(result[0]) == 2.0


def test_device_names_are_canonicalised():
    from ndflow.framework.device import canonical_device_name

    assert canonical_device_name("cpu:0").endswith("device:CPU:0")
    assert canonical_device_name("/device:GPU:1").endswith("device:GPU:1")
    with pytest.raises(ValueError, match="TPU"):
        canonical_device_name("/TPU:0")
