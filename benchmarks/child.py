"""The fresh-process side of `import_time` and `peak_memory`: `python -m benchmarks.child TASK
FRAMEWORK [SAMPLES]` prints one JSON line `{"value": ...}` as its last line of output.

Only the standard library is imported at the top, so `import_time` measures the whole cost of
importing the framework (NumPy included for ndflow).
"""

import json
import sys
import time


def import_time(module):
    """Seconds to import `module` in this (fresh) process."""
    import importlib

    start = time.perf_counter()
    importlib.import_module(module)
    return time.perf_counter() - start


def peak_rss_mib():
    """Peak resident memory of this process so far, in MiB.

    Linux: VmHWM of /proc/self/status, which starts afresh at exec (getrusage's ru_maxrss
    keeps the parent's peak across fork + exec: every child would report the suite's size).
    Elsewhere: getrusage, or psutil's peak working set on Windows."""
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 2**10  # kB
    except OSError:
        pass
    try:
        import resource
    except ImportError:
        import psutil

        return psutil.Process().memory_info().peak_wset / 2**20
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes there, KiB here


def peak_memory(framework, samples):
    """Peak RSS (MiB) of seed_cnn_fit: the 12,800-image data set, the model, a warm-up fit on
    128 samples and one epoch on `samples` of them."""
    import importlib

    from benchmarks import models, training

    module = importlib.import_module(framework)
    images, labels = models.mnist_like(max(12800, samples))
    if framework == "torch":
        run = training._torch_classifier_run(module, models.torch_seed_cnn(module),
                                             models.torch_images(module, images), labels, 64)
    else:
        run = training._fit_run(module, models.seed_cnn, images, labels, 64)
    run(128)
    run(samples)
    return peak_rss_mib()


def main(argv):
    task, framework = argv[0], argv[1]
    if task == "import_time":
        value = import_time(framework)
    elif task == "peak_memory":
        value = peak_memory(framework, int(argv[2]))
    else:
        raise SystemExit(f"benchmarks.child: unknown task {task!r}")
    print(json.dumps({"value": value}))


if __name__ == "__main__":
    main(sys.argv[1:])
