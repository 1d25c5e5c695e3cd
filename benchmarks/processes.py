"""Fresh-process workloads: `import_time` (seconds to import each framework in a new Python
process) and `peak_memory` (peak resident memory of seed_cnn_fit in a new process, MiB).

Each measurement starts `python -m benchmarks.child` with the same interpreter and environment;
rounds interleave the frameworks. The child reports `resource.getrusage` peak RSS (psutil's peak
working set on Windows).
"""

import json
import os
import subprocess
import sys

from benchmarks.harness import VALUE, Case, Target

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FRAMEWORKS = ("ndflow", "tensorflow", "torch")


def run_child(*args, timeout=1800):
    """Runs `python -m benchmarks.child ARGS` from the repository root; returns its value."""
    completed = subprocess.run([sys.executable, "-m", "benchmarks.child", *map(str, args)],
                               cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                               check=False)
    lines = completed.stdout.strip().splitlines()
    if completed.returncode != 0 or not lines:
        error = completed.stderr.strip().splitlines()
        raise RuntimeError(f"child {' '.join(map(str, args))} failed with code "
                           f"{completed.returncode}: {error[-1] if error else 'no output'}")
    return json.loads(lines[-1])["value"]


def import_time(frameworks, quick):
    runs = {name: (lambda name=name: run_child("import_time", name))
            for name in FRAMEWORKS if name in frameworks}
    return [Case("import_time", runs, VALUE, "s", False, Target("<=", 0.1),
                 rounds=2 if quick else 7, warmup=0 if quick else 1)]


def peak_memory(frameworks, quick):
    samples = 256 if quick else 12800
    runs = {name: (lambda name=name: run_child("peak_memory", name, samples))
            for name in FRAMEWORKS if name in frameworks}
    case = Case("peak_memory", runs, VALUE, "MiB", False, Target("<=", 0.5), rounds=1,
                warmup=0)
    case.notes["seed_cnn_fit samples in the child"] = samples
    return [case]
