"""Interleaved measurement of one case on several frameworks, its statistics, ratios and targets.

A `Case` holds one callable per framework. After a warm-up, the callables run in rounds
(A B C, A B C, ...) so that machine noise hits every framework alike. Four kinds of case:

- MICRO: `run()`, timed in batches of calls calibrated to ~20 ms; microseconds per call.
- ROUND: `run(samples)` processes `samples` examples (one epoch of training, or inference);
  warm-up runs it on `warmup_samples`; the value is samples per second.
- VALUE: `run()` returns the measured value itself (seconds of a child's import, MiB).
- DERIVED: `run(results)` returns a list of values computed from cases measured before it in
  the same run (e.g. achieved FLOP/s from seed_cnn_fit's samples per second).

The ratio is always ndflow's median divided by the peer's median, in the case's own unit; the
unit says which direction is better (`higher_is_better`). A framework whose callable is a string
("unavailable: reason") or raises is reported as unavailable; the suite goes on.
"""

import dataclasses
import json
import os
import statistics
import tempfile
import time
import traceback

MICRO = "micro"
ROUND = "round"
VALUE = "value"
DERIVED = "derived"
BASE = "ndflow"


@dataclasses.dataclass
class Target:
    """A goal on the ratio ndflow/peer: `op` is ">=" or "<="."""

    op: str
    bound: float
    peer: str = "tensorflow"

    def met(self, ratio):
        return ratio >= self.bound if self.op == ">=" else ratio <= self.bound

    def __str__(self):
        return f"{self.op} {self.bound:g}"


@dataclasses.dataclass
class Case:
    """One measured quantity, e.g. `seed_cnn_fit` or `eager_op.add_2x2`."""

    name: str
    runs: dict  # framework -> callable, or a string saying why it is unavailable
    kind: str = MICRO
    unit: str = "us"
    higher_is_better: bool = False
    target: Target | None = None
    rounds: int | None = None  # overrides the suite's default number of rounds
    warmup: int = 3  # warm-up calls (MICRO, VALUE) or warm-up runs (ROUND)
    samples: int = 0  # ROUND: samples per timed run
    warmup_samples: int = 0  # ROUND: samples per warm-up run
    notes: dict = dataclasses.field(default_factory=dict)  # extra facts for the report/JSON

    @property
    def workload(self):
        return self.name.split(".")[0]


def unavailable(error):
    """The reason string for a framework that cannot run a case."""
    if isinstance(error, str):
        return error if error.startswith("unavailable") else f"unavailable: {error}"
    text = str(error).strip().splitlines()
    detail = text[0][:160] if text else ""
    return f"unavailable: {type(error).__name__}: {detail}".rstrip(": ")


def try_build(builder, *args):
    """`builder(*args)`, or the unavailable string when building raises (a missing layer)."""
    try:
        return builder(*args)
    except Exception as error:  # noqa: BLE001 - any failure makes this framework unavailable
        return unavailable(error)


# --- timing ----------------------------------------------------------------------------------

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


def _warm(case, run, target_seconds):
    """Runs the warm-up; returns the calls per MICRO sample (1 for other kinds)."""
    if case.kind == ROUND:
        for _ in range(case.warmup):
            run(case.warmup_samples)
        return 1
    for _ in range(case.warmup):
        run()
    return calibrate(run, target_seconds) if case.kind == MICRO else 1


def _sample(case, run, calls):
    if case.kind == MICRO:
        return _time_batch(run, calls)
    if case.kind == ROUND:
        start = time.perf_counter()
        run(case.samples)
        return case.samples / (time.perf_counter() - start)
    return float(run())


def summarize(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "samples": list(values)}


def measure(case, rounds, results=None, target_seconds=0.02):
    """Measures `case` on every framework, interleaved; returns `framework -> stats`, where
    stats is `summarize(...)` or `{"unavailable": reason}`, in the order of `case.runs`."""
    outcome, live = {}, {}
    for name, run in case.runs.items():
        if isinstance(run, str):
            outcome[name] = {"unavailable": unavailable(run)}
            continue
        if case.kind == DERIVED:
            try:
                outcome[name] = summarize(run(results or {}))
            except Exception as error:  # noqa: BLE001
                outcome[name] = {"unavailable": unavailable(error)}
            continue
        try:
            live[name] = (run, _warm(case, run, target_seconds))
        except Exception as error:  # noqa: BLE001 - a failing framework must not stop the suite
            outcome[name] = {"unavailable": unavailable(error)}
            _debug(case, name)
    values = {name: [] for name in live}
    for _ in range(case.rounds or rounds):
        for name in list(live):
            run, calls = live[name]
            try:
                values[name].append(_sample(case, run, calls))
            except Exception as error:  # noqa: BLE001
                outcome[name] = {"unavailable": unavailable(error)}
                _debug(case, name)
                del live[name], values[name]
    for name, samples in values.items():
        outcome[name] = summarize(samples)
    return {name: outcome[name] for name in case.runs}


def _debug(case, framework):
    if os.environ.get("BENCHMARKS_DEBUG"):
        print(f"[{case.name} / {framework}]")
        traceback.print_exc()


# --- ratios, targets, report -----------------------------------------------------------------

def ratios(stats, base=BASE):
    """`peer -> ndflow median / peer median` for every peer measured beside ndflow."""
    ours = stats.get(base, {}).get("median")
    if ours is None:
        return {}
    return {name: ours / values["median"] for name, values in stats.items()
            if name != base and values.get("median")}


def verdict(case, stats):
    """'met', 'not met' or 'unmeasured (why)' for the case's target, or None without one."""
    if case.target is None:
        return None
    ratio = ratios(stats).get(case.target.peer)
    if ratio is None:
        missing = [name for name in (BASE, case.target.peer)
                   if "median" not in stats.get(name, {})]
        return f"unmeasured ({', '.join(missing)} unavailable)"
    return "met" if case.target.met(ratio) else "not met"


def direction(case):
    better = "higher" if case.higher_is_better else "lower"
    faster = "above" if case.higher_is_better else "below"
    return (f"{case.unit}, {better} is better; ratio = ndflow/peer, "
            f"{faster} 1 means ndflow is better")


def _number(value):
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.4g}"


def format_table(case, stats):
    """The printed table of one case: median, min-max, ratio ndflow/peer and the target."""
    lines = [f"{case.name}  [{direction(case)}]",
             f"  {'framework':<12}{'median':>14}{'min - max':>26}{'ndflow/peer':>13}  target"]
    peer_ratios = ratios(stats)
    for name, values in stats.items():
        if "median" not in values:
            lines.append(f"  {name:<12}{values['unavailable']}")
            continue
        spread = f"{_number(values['min'])} - {_number(values['max'])}"
        ratio = f"{peer_ratios[name]:.3f}" if name in peer_ratios else ""
        goal = ""
        if case.target is not None and name == case.target.peer:
            goal = f"{case.target}: {verdict(case, stats)}"
        lines.append(f"  {name:<12}{_number(values['median']):>14}{spread:>26}{ratio:>13}  {goal}")
    if case.target is not None and case.target.peer not in stats:
        lines.append(f"  target {case.target} vs {case.target.peer}: {verdict(case, stats)}")
    for key, value in case.notes.items():
        lines.append(f"  note: {key} = {value}")
    return "\n".join(lines)


def format_summary(entries):
    """The closing table of targets: one line per case that has one."""
    lines = [f"{'case':<28}{'ratio':>10}  {'target':<26}verdict"]
    for case, stats in entries:
        if case.target is None:
            continue
        ratio = ratios(stats).get(case.target.peer)
        shown = "-" if ratio is None else f"{ratio:.3f}"
        goal = f"{case.target} vs {case.target.peer}"
        lines.append(f"{case.name:<28}{shown:>10}  {goal:<26}{verdict(case, stats)}")
    return "\n".join(lines)


def case_record(case, stats):
    """The JSON entry of one measured case."""
    record = {"workload": case.workload, "kind": case.kind, "unit": case.unit,
              "higher_is_better": case.higher_is_better, "frameworks": stats,
              "ratio_ndflow_over_peer": ratios(stats)}
    if case.kind == ROUND:
        record["samples_per_round"] = case.samples
    if case.target is not None:
        record["target"] = {"op": case.target.op, "bound": case.target.bound,
                            "peer": case.target.peer, "verdict": verdict(case, stats)}
    if case.notes:
        record["notes"] = case.notes
    return record


def write_json(path, results):
    """Writes `results` atomically (a temporary file renamed over `path`)."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=directory, suffix=".tmp")
    with os.fdopen(fd, "w") as handle:
        json.dump(results, handle, indent=2)
    os.replace(temporary, path)

