"""Loading the peers (ndflow always, TensorFlow and PyTorch when they are installed) and
describing the machine the run happens on."""

import importlib
import os
import platform
import sys

THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def load(names=("ndflow", "tensorflow", "torch")):
    """`name -> module` for every framework that imports; absent ones are skipped."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TF's C++ log lines, not its threads
    loaded = {}
    for name in names:
        try:
            loaded[name] = importlib.import_module(name)
        except ImportError:
            continue
    return loaded


def cpu_model():
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def blas():
    """NumPy's BLAS libraries and their thread counts (threadpoolctl when installed)."""
    try:
        import threadpoolctl

        return [{key: info.get(key) for key in ("internal_api", "version", "num_threads",
                                                "threading_layer", "architecture")}
                for info in threadpoolctl.threadpool_info() if info.get("user_api") == "blas"]
    except ImportError:
        pass
    try:
        import numpy

        config = numpy.show_config(mode="dicts").get("Build Dependencies", {}).get("blas", {})
        return [{key: config.get(key) for key in ("name", "version", "openblas configuration")}]
    except (TypeError, AttributeError):
        return []


def load_average():
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:
        return None


def describe(loaded):
    """The run's environment, for the printed header and the JSON file."""
    import numpy

    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "load_average_1_5_15_min": load_average(),
        "versions": {"numpy": numpy.__version__,
                     **{name: getattr(module, "__version__", "?")
                        for name, module in loaded.items()}},
        "blas": blas(),
        "thread_variables": {name: os.environ.get(name) for name in THREAD_VARIABLES},
    }
