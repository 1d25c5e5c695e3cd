"""Interleaved timing of one workload on several frameworks, with medians and ratios.

Each framework provides a zero-argument callable per workload. After a warm-up, the callables
run in rounds (A B C, A B C, ...) so that machine noise hits every framework alike; each
sample times a batch of calls and reports microseconds per call.
"""

import json
import statistics
import time


def _time_batch(func, calls):
    start = time.perf_counter()
    for _ in range(calls):
        func()
    return (time.perf_counter() - start) / calls * 1e6


def calibrate(func, target_seconds=0.02):
    """Number of calls that take about `target_seconds`."""
    calls = 1
    while True:
        elapsed = _time_batch(func, calls) * calls / 1e6
        if elapsed >= target_seconds or calls >= 1 << 20:
            return calls
        calls *= 2


def compare(candidates, rounds=15, warmup=3, target_seconds=0.02):
    """Times each `name -> callable` interleaved; returns `name -> stats` (microseconds/call)."""
    calls = {}
    for name, func in candidates.items():
        for _ in range(warmup):
            func()
        calls[name] = calibrate(func, target_seconds)
    samples = {name: [] for name in candidates}
    for _ in range(rounds):
        for name, func in candidates.items():
            samples[name].append(_time_batch(func, calls[name]))
    return {
        name: {
            "median_us": statistics.median(values),
            "min_us": min(values),
            "max_us": max(values),
            "calls_per_sample": calls[name],
        }
        for name, values in samples.items()
    }


def report(workload, stats, base="ndflow"):
    """Prints one workload's table: median, min-max, and the ratio ndflow/peer."""
    print(f"\n{workload}")
    print(f"  {'framework':<12}{'median us':>12}{'min-max us':>22}{'ndflow/peer':>14}")
    ours = stats.get(base)
    for name, values in stats.items():
        ratio = ""
        if ours is not None and name != base:
            ratio = f"{ours['median_us'] / values['median_us']:.3f}"
        spread = f"{values['min_us']:.2f}-{values['max_us']:.2f}"
        print(f"  {name:<12}{values['median_us']:>12.2f}{spread:>22}{ratio:>14}")


def write_json(path, results):
    import os  # noqa: PLC0415
    import tempfile  # noqa: PLC0415

    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=directory, suffix=".tmp")
    with os.fdopen(fd, "w") as handle:
        json.dump(results, handle, indent=2)
    os.replace(temporary, path)
