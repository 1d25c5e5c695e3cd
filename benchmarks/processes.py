"""Fresh-process workloads: `import_time` (seconds to import each framework in a new Python
process) and `peak_memory` (peak resident memory of seed_cnn_fit in a new process, MiB).

Each measurement starts `python -m benchmarks.child` with the same interpreter and environment;
import_time's rounds interleave the frameworks; peak_memory's children run side by side. The child reports `resource.getrusage` peak RSS (psutil's peak
working set on Windows).
"""

import json
import os
import subprocess
import sys

from benchmarks.harness import VALUE, Case, Target

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FRAMEWORKS = ("ndflow", "tensorflow", "torch")


def _command(args):
    return [sys.executable, "-m", "benchmarks.child", *map(str, args)]


def _value(args, returncode, stdout, stderr):
    lines = stdout.strip().splitlines()
    if returncode != 0 or not lines:
        error = stderr.strip().splitlines()
        raise RuntimeError(f"child {' '.join(map(str, args))} failed with code "
                           f"{returncode}: {error[-1] if error else 'no output'}")
    return json.loads(lines[-1])["value"]


def run_child(*args, timeout=1800):
    """Runs `python -m benchmarks.child ARGS` from the repository root; returns its value."""
    completed = subprocess.run(_command(args), cwd=ROOT, capture_output=True, text=True,
                               timeout=timeout, check=False)
    return _value(args, completed.returncode, completed.stdout, completed.stderr)


def run_children_together(argument_lists, timeout=1800):
    """Runs several children at once; returns one value, or the exception, per child.
    Only for measurements that do not depend on time (peak memory)."""
    children = [(args, subprocess.Popen(_command(args), cwd=ROOT, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True))
                for args in argument_lists]
    values = []
    for args, child in children:
        try:
            stdout, stderr = child.communicate(timeout=timeout)
            values.append(_value(args, child.returncode, stdout, stderr))
        except (RuntimeError, subprocess.TimeoutExpired, ValueError) as error:
            child.kill()
            values.append(error)
    return values


def import_time(frameworks, quick):
    runs = {name: (lambda name=name: run_child("import_time", name))
            for name in FRAMEWORKS if name in frameworks}
    return [Case("import_time", runs, VALUE, "s", False, Target("<=", 0.1),
                 rounds=1 if quick else 7, warmup=0 if quick else 1)]


def peak_memory(frameworks, quick):
    """One child per framework, all started together on the first call (peak memory does not
    depend on time, and this saves minutes); every framework's call returns its own child's."""
    samples = 256 if quick else 12800
    names = [name for name in FRAMEWORKS if name in frameworks]
    values = {}

    def measured(name):
        if not values:
            outcomes = run_children_together([("peak_memory", other, samples)
                                              for other in names])
            values.update(zip(names, outcomes))
        if isinstance(values[name], Exception):
            raise values[name]
        return values[name]

    runs = {name: (lambda name=name: measured(name)) for name in names}
    case = Case("peak_memory", runs, VALUE, "MiB", False, Target("<=", 0.5), rounds=1,
                warmup=0)
    case.notes["seed_cnn_fit samples in the child"] = samples
    return [case]
