"""Mixed precision: dtype policies (`keras.mixed_precision`).

A policy gives a layer its compute dtype (what `call` computes in) and variable dtype (what its
weights are stored in): "float32", "mixed_float16" (compute float16, variables float32),
"mixed_bfloat16". The Keras 2 spellings `experimental.Policy` / `experimental.set_policy` work.
"""

import types

from ndflow.framework import dtypes


class DTypePolicy:
    """A dtype policy (`keras.mixed_precision.Policy` / `keras.DTypePolicy`)."""

    def __init__(self, name="float32"):
        if isinstance(name, DTypePolicy):
            name = name.name
        name = dtypes.as_dtype(name).name if not isinstance(name, str) else name
        if name in ("mixed_float16", "mixed_bfloat16"):
            compute = "float16" if name == "mixed_float16" else "bfloat16"
            self._compute, self._variable = dtypes.as_dtype(compute), dtypes.float32
        else:
            try:
                dtype = dtypes.as_dtype(name)
            except TypeError:
                raise ValueError(f"Cannot convert '{name}' to a mixed precision policy. Valid "
                                 f"policies include 'mixed_float16', 'mixed_bfloat16', and the "
                                 f"name of any float dtype such as 'float32'.") from None
            self._compute = self._variable = dtype
            name = dtype.name
        self._name = name

    @property
    def name(self):
        return self._name

    @property
    def compute_dtype(self):
        return self._compute

    @property
    def variable_dtype(self):
        return self._variable

    def get_config(self):
        return {"name": self._name}

    def get_config_entry(self):
        """How layer configs store the policy: Keras 3 writes a DTypePolicy dict."""
        return {"module": "keras", "class_name": "DTypePolicy",
                "config": {"name": self._name}, "registered_name": None}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __eq__(self, other):
        return isinstance(other, DTypePolicy) and other.name == self.name

    def __hash__(self):
        return hash(self._name)

    def __repr__(self):
        return f'<DTypePolicy "{self._name}">'


Policy = DTypePolicy
_global = DTypePolicy("float32")


def set_global_policy(policy):
    """Sets the default policy of layers created afterwards."""
    global _global
    _global = DTypePolicy("float32" if policy is None else policy)


def global_policy():
    return _global


def set_dtype_policy(policy):
    set_global_policy(policy)


def dtype_policy():
    return _global


def get_policy_for(dtype):
    """The policy for a layer's `dtype` argument (None: the global policy)."""
    if dtype is None:
        return _global
    if isinstance(dtype, DTypePolicy):
        return dtype
    if isinstance(dtype, dict):
        return policy_from_config(dtype)
    return DTypePolicy(dtype if isinstance(dtype, str) else dtypes.as_dtype(dtype).name)


def policy_from_config(config):
    if "config" in config:
        config = config["config"]
    return DTypePolicy(config.get("name", "float32"))


experimental = types.SimpleNamespace(Policy=DTypePolicy, set_policy=set_global_policy,
                                     global_policy=global_policy)
