"""Runs the benchmark suite: `python -m benchmarks [--quick] [--only NAME] [--json PATH]`.

Every workload runs for ndflow and, when installed, TensorFlow and PyTorch, interleaved in one
process; the table gives the median, the min-max range and the ratio ndflow/peer (below 1 means
ndflow is faster). Results also go to a JSON file.
"""

import argparse
import platform
import sys
import time

from benchmarks import conv_layers, data_pipeline, eager_op, frameworks, harness

WORKLOADS = {"eager_op": eager_op, "conv_layers": conv_layers, "data_pipeline": data_pipeline}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer rounds (about a minute)")
    parser.add_argument("--only", action="append", help="run only these workloads")
    parser.add_argument("--json", default="benchmarks/results/latest.json")
    parser.add_argument("--frameworks", default="ndflow,tensorflow,torch")
    args = parser.parse_args(argv)
    loaded = frameworks.load(tuple(args.frameworks.split(",")))
    print("frameworks:", ", ".join(f"{n} {getattr(m, '__version__', '?')}"
                                   for n, m in loaded.items()))
    rounds = 7 if args.quick else 21
    results = {"python": sys.version.split()[0], "machine": platform.machine(),
               "time": time.strftime("%Y-%m-%dT%H:%M:%S"), "workloads": {}}
    for name, module in WORKLOADS.items():
        if args.only and name not in args.only:
            continue
        for workload, candidates in module.candidates(loaded).items():
            stats = harness.compare(candidates, rounds=rounds)
            harness.report(workload, stats)
            results["workloads"][workload] = stats
    harness.write_json(args.json, results)
    print(f"\nwritten: {args.json}")


if __name__ == "__main__":
    main()
