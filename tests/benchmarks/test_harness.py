"""benchmarks/harness.py: interleaving, warm-up, unavailable frameworks, statistics, ratios,
targets, the printed tables and the JSON file. No timing is asserted."""

import json

import pytest

from benchmarks import harness
from benchmarks.harness import DERIVED, MICRO, ROUND, VALUE, Case, Target


def _recorder(log, name, value=1.0):
    def run(*args):
        log.append((name, *args))
        return value

    return run


@pytest.mark.parametrize("op,bound,ratio,met", [
    (">=", 1.2, 1.3, True), (">=", 1.2, 1.2, True), (">=", 1.2, 1.1, False),
    ("<=", 0.1, 0.05, True), ("<=", 0.1, 0.2, False),
], ids=["above", "equal", "below", "time-met", "time-missed"])
def test_target_met(op, bound, ratio, met):
    assert Target(op, bound).met(ratio) is met
    assert str(Target(op, bound)) == f"{op} {bound:g}"


def test_value_rounds_interleave_after_warmup():
    log = []
    case = Case("x", {"ndflow": _recorder(log, "a"), "tensorflow": _recorder(log, "b")},
                VALUE, warmup=2)
    harness.measure(case, rounds=3)
    assert log == [("a",), ("a",), ("b",), ("b",)] + [("a",), ("b",)] * 3


def test_round_kind_warms_up_on_fewer_samples_then_times_full_rounds():
    log = []
    case = Case("fit", {"ndflow": _recorder(log, "a"), "torch": _recorder(log, "c")}, ROUND,
                "samples/s", True, samples=640, warmup_samples=64, warmup=1, rounds=2)
    stats = harness.measure(case, rounds=99)
    assert log == [("a", 64), ("c", 64), ("a", 640), ("c", 640), ("a", 640), ("c", 640)]
    assert len(stats["ndflow"]["samples"]) == 2
    assert all(value > 0 for value in stats["torch"]["samples"])


def test_micro_kind_times_batches_of_calls():
    counter = []
    case = Case("op", {"ndflow": lambda: counter.append(1)}, MICRO, warmup=0)
    stats = harness.measure(case, rounds=4, target_seconds=0.0)
    assert len(stats["ndflow"]["samples"]) == 4
    assert len(counter) == 1 + 4  # one calibration call (target 0 s), then 1 call per round


def test_value_statistics():
    values = iter([3.0, 1.0, 2.0, 10.0])
    case = Case("v", {"ndflow": lambda: next(values)}, VALUE, "MiB", warmup=0)
    stats = harness.measure(case, rounds=4)["ndflow"]
    assert (stats["median"], stats["min"], stats["max"]) == (2.5, 1.0, 10.0)
    assert stats["samples"] == [3.0, 1.0, 2.0, 10.0]


def test_derived_kind_reads_earlier_results():
    earlier = {"seed_cnn_fit": {"ndflow": {"samples": [1.0, 3.0]}}}
    case = Case("g", {"ndflow": lambda results: [2 * v for v in
                                                 results["seed_cnn_fit"]["ndflow"]["samples"]]},
                DERIVED, warmup=0)
    assert harness.measure(case, rounds=5, results=earlier)["ndflow"]["median"] == 4.0


def test_unavailable_string_is_reported_and_others_run():
    case = Case("c", {"ndflow": "unavailable: no LSTM layer", "tensorflow": lambda: 2.0}, VALUE,
                warmup=0)
    stats = harness.measure(case, rounds=2)
    assert stats["ndflow"] == {"unavailable": "unavailable: no LSTM layer"}
    assert stats["tensorflow"]["median"] == 2.0
    assert list(stats) == ["ndflow", "tensorflow"]


def test_failure_in_warmup_makes_framework_unavailable():
    def broken():
        raise AttributeError("module 'ndflow.keras.layers' has no attribute 'LSTM'")

    case = Case("c", {"ndflow": broken, "torch": lambda: 1.0}, VALUE, warmup=1)
    stats = harness.measure(case, rounds=2)
    assert stats["ndflow"]["unavailable"].startswith("unavailable: AttributeError: module")
    assert "LSTM" in stats["ndflow"]["unavailable"]
    assert stats["torch"]["median"] == 1.0


def test_failure_mid_round_drops_only_that_framework():
    calls = iter([1.0, RuntimeError("out of memory")])

    def flaky():
        value = next(calls)
        if isinstance(value, Exception):
            raise value
        return value

    case = Case("c", {"ndflow": flaky, "tensorflow": lambda: 4.0}, VALUE, warmup=0)
    stats = harness.measure(case, rounds=3)
    assert stats["ndflow"] == {"unavailable": "unavailable: RuntimeError: out of memory"}
    assert stats["tensorflow"]["samples"] == [4.0, 4.0, 4.0]


def test_try_build_returns_reason_on_error():
    def build(tf):
        raise ValueError(f"no layer in {tf}\nsecond line")

    assert harness.try_build(build, "ndflow") == "unavailable: ValueError: no layer in ndflow"
    assert harness.try_build(lambda tf: tf + 1, 1) == 2


def _stats(**medians):
    return {name: harness.summarize([value]) for name, value in medians.items()}


def test_ratios_are_ndflow_over_peer():
    ratios = harness.ratios(_stats(ndflow=2.0, tensorflow=8.0, torch=1.0))
    assert ratios == {"tensorflow": 0.25, "torch": 2.0}
    assert harness.ratios(_stats(tensorflow=8.0)) == {}


@pytest.mark.parametrize("stats,expected", [
    (_stats(ndflow=150.0, tensorflow=100.0), "met"),
    (_stats(ndflow=100.0, tensorflow=100.0), "not met"),
    ({"ndflow": {"unavailable": "unavailable: x"}, "tensorflow": {"median": 1.0}},
     "unmeasured (ndflow unavailable)"),
    (_stats(ndflow=1.0), "unmeasured (tensorflow unavailable)"),
], ids=["met", "not-met", "ndflow-missing", "peer-missing"])
def test_verdict(stats, expected):
    case = Case("fit", {}, ROUND, "samples/s", True, Target(">=", 1.2))
    assert harness.verdict(case, stats) == expected


def test_verdict_without_target_is_none():
    assert harness.verdict(Case("x", {}), _stats(ndflow=1.0, tensorflow=1.0)) is None


@pytest.mark.parametrize("higher,words", [
    (True, "samples/s, higher is better; ratio = ndflow/peer, above 1 means ndflow is better"),
    (False, "us, lower is better; ratio = ndflow/peer, below 1 means ndflow is better"),
], ids=["rate", "time"])
def test_table_header_states_direction(higher, words):
    case = Case("w", {}, ROUND if higher else MICRO, "samples/s" if higher else "us", higher)
    assert words in harness.format_table(case, _stats(ndflow=1.0))


def test_table_rows_ratio_target_and_unavailable():
    case = Case("eager_op.add_2x2", {}, MICRO, "us", False, Target("<=", 0.1))
    stats = {**_stats(ndflow=5.0, tensorflow=100.0), "torch": {"unavailable": "unavailable: x"}}
    table = harness.format_table(case, stats).splitlines()
    assert "ndflow/peer" in table[1]
    tf_row = next(line for line in table if line.strip().startswith("tensorflow"))
    assert "0.050" in tf_row and "<= 0.1: met" in tf_row
    assert any(line.strip() == "torch       unavailable: x".strip() for line in table)


def test_table_shows_target_when_peer_absent_and_notes():
    case = Case("c", {}, VALUE, "s", False, Target("<=", 0.1), notes={"GEMM GFLOP/s": 100})
    table = harness.format_table(case, _stats(ndflow=1.0))
    assert "target <= 0.1 vs tensorflow: unmeasured (tensorflow unavailable)" in table
    assert "note: GEMM GFLOP/s = 100" in table


def test_summary_lists_only_cases_with_targets():
    with_target = Case("mlp_fit", {}, ROUND, "samples/s", True, Target(">=", 1.5))
    without = Case("conv_layers.layer1_forward", {})
    summary = harness.format_summary([(with_target, _stats(ndflow=3.0, tensorflow=1.0)),
                                      (without, _stats(ndflow=1.0, tensorflow=1.0))])
    assert "mlp_fit" in summary and "3.000" in summary and ">= 1.5 vs tensorflow" in summary
    assert "met" in summary.splitlines()[1]
    assert "conv_layers" not in summary


def test_case_record_and_json_round_trip(tmp_path):
    case = Case("seed_cnn_fit", {}, ROUND, "samples/s", True, Target(">=", 1.2), samples=640)
    record = harness.case_record(case, _stats(ndflow=2.0, tensorflow=1.0))
    assert record["workload"] == "seed_cnn_fit" and record["samples_per_round"] == 640
    assert record["ratio_ndflow_over_peer"] == {"tensorflow": 2.0}
    assert record["target"] == {"op": ">=", "bound": 1.2, "peer": "tensorflow",
                                "verdict": "met"}
    path = tmp_path / "deep" / "results.json"
    harness.write_json(str(path), {"cases": {"seed_cnn_fit": record}})
    assert json.loads(path.read_text())["cases"]["seed_cnn_fit"] == record
    assert [item.name for item in path.parent.iterdir()] == ["results.json"]


def test_workload_is_the_name_before_the_dot():
    assert Case("eager_op.add_2x2", {}).workload == "eager_op"
    assert Case("mlp_fit", {}).workload == "mlp_fit"


@pytest.mark.parametrize("value,text", [(12345.6, "12,346"), (12.345, "12.35"),
                                        (0.012346, "0.01235")], ids=["large", "mid", "small"])
def test_number_format(value, text):
    assert harness._number(value) == text
