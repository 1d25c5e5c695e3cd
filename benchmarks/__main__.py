"""Runs the benchmark suite: `python -m benchmarks [--quick] [--only NAME ...] [--json PATH]`.

Every workload runs for ndflow and, when installed, TensorFlow and PyTorch, interleaved in one
process run after a warm-up; each table gives the median, the min-max range and the ratio
ndflow/peer in the workload's own unit (the header says whether higher or lower is better), and
the target when the issue sets one. Results also go to a JSON file.
"""

import argparse
import time

from benchmarks import (
    conv_layers,
    data_pipeline,
    frameworks,
    harness,
    inference,
    overhead,
    processes,
    training,
)

# name -> factory(frameworks, quick) -> [Case], or a module with `candidates(frameworks)`
# returning {case name: {framework: zero-argument callable}} (microseconds per call).
WORKLOADS = {
    "seed_cnn_fit": training.seed_cnn_fit,
    "gemm_fraction": training.gemm_fraction,
    "seed_cnn_custom_loop": training.seed_cnn_custom_loop,
    "mlp_fit": training.mlp_fit,
    "lstm_fit": training.lstm_fit,
    "eager_op": overhead.eager_op,
    "function_call": overhead.function_call,
    "predict_latency": inference.predict_latency,
    "cnn_inference": inference.cnn_inference,
    "import_time": processes.import_time,
    "peak_memory": processes.peak_memory,
    "conv_layers": conv_layers,
    "data_pipeline": data_pipeline,
}
REQUIRES = {"gemm_fraction": ("seed_cnn_fit",)}


def selected(only, workloads=None):
    """Workload names to run, in suite order: all, or `only` plus what they require."""
    workloads = WORKLOADS if workloads is None else workloads
    if not only:
        return list(workloads)
    wanted = {name.strip() for item in only for name in item.split(",") if name.strip()}
    unknown = wanted - set(workloads)
    if unknown:
        raise SystemExit(f"unknown workload(s): {', '.join(sorted(unknown))}; "
                         f"known: {', '.join(workloads)}")
    for name in list(wanted):
        wanted.update(REQUIRES.get(name, ()))
    return [name for name in workloads if name in wanted]


def cases(entry, loaded, quick):
    """The Cases of one WORKLOADS entry, whichever protocol it follows."""
    if hasattr(entry, "candidates"):
        return [harness.Case(name, calls, rounds=3 if quick else 21, warmup=1 if quick else 3)
                for name, calls in entry.candidates(loaded).items()]
    return entry(loaded, quick)


def run(names, loaded, quick, log=print):
    """Measures every case of the named workloads; returns [(case, stats)]."""
    entries, by_name = [], {}
    for name in names:
        start = time.perf_counter()
        for case in cases(WORKLOADS[name], loaded, quick):
            stats = harness.measure(case, rounds=7 if quick else 21, results=by_name)
            by_name[case.name] = stats
            entries.append((case, stats))
            log("\n" + harness.format_table(case, stats))
        log(f"  ({name}: {time.perf_counter() - start:.1f} s)")
    return entries


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer samples and rounds "
                        "(under two minutes on a 2-core machine)")
    parser.add_argument("--only", action="append", help="run only these workloads "
                        "(repeatable or comma-separated)")
    parser.add_argument("--json", default="benchmarks/results/latest.json")
    parser.add_argument("--frameworks", default="ndflow,tensorflow,torch")
    parser.add_argument("--list", action="store_true", help="list the workloads and exit")
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(WORKLOADS))
        return
    names = selected(args.only)
    start = time.perf_counter()
    loaded = frameworks.load(tuple(args.frameworks.split(",")))
    environment = frameworks.describe(loaded)
    print(f"frameworks: {environment['versions']}")
    print(f"machine: {environment['cpu']}, {environment['cores']} cores, load average "
          f"{environment['load_average_1_5_15_min']}, BLAS {environment['blas']}")
    entries = run(names, loaded, args.quick)
    environment["load_average_at_end"] = frameworks.load_average()
    environment["seconds"] = round(time.perf_counter() - start, 1)
    print("\ntargets (ratio = ndflow/peer in each workload's unit)")
    print(harness.format_summary(entries))
    results = {"time": time.strftime("%Y-%m-%dT%H:%M:%S"), "quick": args.quick,
               "environment": environment,
               "cases": {case.name: harness.case_record(case, stats) for case, stats in entries}}
    harness.write_json(args.json, results)
    print(f"\nwritten: {args.json} ({environment['seconds']} s, load average at the end "
          f"{environment['load_average_at_end']})")


if __name__ == "__main__":
    main()
