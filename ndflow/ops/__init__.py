"""Op definitions by family. Each module registers its primitives and exposes the public
functions; `API` tables in each module say where they appear in the `tf` namespace."""

import warnings

# TF computes inf - inf and 0 * inf silently; NumPy warns. Kernels that often meet such values
# are marked quiet and run under np.errstate; for the cheapest element-wise ops (add, sub, mul),
# where errstate would double the eager cost, this filter, scoped to ndflow's kernel modules,
# keeps the warning from reaching users.
warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"ndflow\.ops\.")


def _OP_MODULES():  # noqa: N802 - read by ndflow/__init__ only
    """The op modules, imported in dependency order."""
    import importlib  # noqa: PLC0415

    names = ["array", "reduce", "math", "manip", "indexing", "linalg", "linalg_ext", "conv", "pool",
             "random", "image", "control_flow", "tensor_array", "logging", "script", "check", "state", "nn", "strings",
             "rnn_ops", "training_ops", "fused_conv"]
    return [importlib.import_module(f"ndflow.ops.{name}") for name in names]
