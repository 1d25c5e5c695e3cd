"""The framework floor: dtypes, shapes, errors, devices, tensors, the op registry."""
