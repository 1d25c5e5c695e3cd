"""Loading the peers: ndflow always, TensorFlow and PyTorch when they are installed."""

import importlib
import os


def load(names=("ndflow", "tensorflow", "torch")):
    """`name -> module` for every framework that imports; absent ones are skipped."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    loaded = {}
    for name in names:
        try:
            loaded[name] = importlib.import_module(name)
        except ImportError:
            continue
    return loaded
