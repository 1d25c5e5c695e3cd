"""The suite around the harness: workload selection, the legacy workload protocol, the JSON
file of a run, FLOP counting, synthetic data, the child process and the overhead workloads'
callables (run once each, untimed)."""

import json

import numpy as np
import pytest

import benchmarks.__main__ as suite
from benchmarks import child, frameworks, harness, models, overhead, processes, training
from benchmarks.harness import VALUE, Case, Target


def test_seed_cnn_flops_by_hand():
    conv1, conv2 = 2 * 9 * 26 * 26 * 32, 2 * 288 * 11 * 11 * 64
    dense1, dense2 = 2 * 1600 * 128, 2 * 128 * 10
    forward = conv1 + conv2 + dense1 + dense2
    assert models.seed_cnn_forward_flops() == forward == 5_262_080
    # forward + weight gradients + input gradients except the first layer's
    assert models.seed_cnn_training_flops() == 3 * forward - conv1 == 15_396_864


def test_achieved_fractions():
    assert training.achieved_fractions([1000.0, 2000.0], 1e6, 1e10) == [0.1, 0.2]


def test_gemm_fraction_derives_from_seed_cnn_fit(monkeypatch):
    monkeypatch.setattr(training, "gemm_flops", lambda loaded: {"numpy": 2e10, "torch": 1e10})
    (case,) = training.gemm_fraction({"ndflow": object(), "torch": object()}, quick=True)
    results = {"seed_cnn_fit": {"ndflow": harness.summarize([1000.0, 3000.0]),
                                "torch": {"unavailable": "unavailable: x"}}}
    stats = harness.measure(case, rounds=3, results=results)
    flops = models.seed_cnn_training_flops()
    assert stats["ndflow"]["samples"] == pytest.approx([1000 * flops / 2e10, 3000 * flops / 2e10])
    assert "seed_cnn_fit has no measurement for torch" in stats["torch"]["unavailable"]
    assert case.notes["machine peak GFLOP/s (best library)"] == 20.0


def test_synthetic_data_shapes_and_dtypes():
    images, labels = models.mnist_like(5)
    assert images.shape == (5, 28, 28, 1) and images.dtype == np.float32
    assert labels.shape == (5, 10) and np.all(labels.sum(axis=1) == 1)
    tokens, targets = models.sequences(3)
    assert tokens.shape == (3, 100) and tokens.dtype == np.int32 and tokens.max() < 10000
    assert targets.shape == (3, 1) and set(np.unique(targets)) <= {0.0, 1.0}


@pytest.mark.parametrize("only,expected", [
    (None, list(suite.WORKLOADS)),
    (["mlp_fit"], ["mlp_fit"]),
    (["gemm_fraction"], ["seed_cnn_fit", "gemm_fraction"]),
    (["import_time,eager_op", "mlp_fit"], ["mlp_fit", "eager_op", "import_time"]),
], ids=["all", "one", "with-requirement", "comma-and-repeat"])
def test_selected_keeps_suite_order(only, expected):
    assert suite.selected(only) == expected


def test_selected_rejects_unknown_names():
    with pytest.raises(SystemExit, match="unknown workload.*: nope; known: seed_cnn_fit"):
        suite.selected(["nope"])


class _LegacyWorkload:
    """A workload in the older protocol (`candidates(frameworks)`), like data_pipeline."""

    @staticmethod
    def candidates(loaded):
        return {"legacy.op": {"ndflow": lambda: None}}


def test_legacy_protocol_becomes_micro_cases():
    (case,) = suite.cases(_LegacyWorkload, {}, quick=True)
    assert (case.name, case.kind, case.unit, case.rounds, case.warmup) == (
        "legacy.op", "micro", "us", 3, 1)


def _fake_factory(loaded, quick):
    values = iter([1.0, 2.0, 3.0, 4.0])
    return [Case("fake", {"ndflow": lambda: 10.0, "tensorflow": lambda: next(values)}, VALUE,
                 "s", False, Target("<=", 5.0), rounds=2, warmup=0)]


def test_main_writes_json_with_environment_and_cases(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(suite, "WORKLOADS", {"fake": _fake_factory})
    monkeypatch.setattr(frameworks, "load", lambda names: {})
    path = tmp_path / "run.json"
    suite.main(["--quick", "--json", str(path)])
    results = json.loads(path.read_text())
    assert results["quick"] is True
    assert {"cpu", "cores", "load_average_1_5_15_min", "blas", "versions", "seconds",
            "thread_variables"} <= set(results["environment"])
    record = results["cases"]["fake"]
    assert record["frameworks"]["tensorflow"]["samples"] == [1.0, 2.0]
    assert record["ratio_ndflow_over_peer"] == {"tensorflow": 10.0 / 1.5}
    assert record["target"]["verdict"] == "not met"
    printed = capsys.readouterr().out
    assert "fake  [s, lower is better" in printed and "targets (ratio = ndflow/peer" in printed


def test_list_prints_workloads(capsys):
    suite.main(["--list"])
    assert capsys.readouterr().out.split() == list(suite.WORKLOADS)


def test_child_import_time_and_peak_rss():
    assert child.import_time("json") >= 0.0
    assert child.peak_rss_mib() > 1.0


def test_run_child_returns_value_and_reports_failure():
    assert processes.run_child("import_time", "json", timeout=60) >= 0.0
    with pytest.raises(RuntimeError, match="child import_time no_such_module_xyz failed"):
        processes.run_child("import_time", "no_such_module_xyz", timeout=60)


def test_process_cases_cover_loaded_frameworks_only():
    (case,) = processes.import_time({"ndflow": object()}, quick=True)
    assert list(case.runs) == ["ndflow"] and case.target.op == "<="
    (case,) = processes.peak_memory({"ndflow": object(), "torch": object()}, quick=False)
    assert list(case.runs) == ["ndflow", "torch"]
    assert case.notes["seed_cnn_fit samples in the child"] == 12800


def test_overhead_callables_run_on_ndflow():
    import ndflow

    loaded = {"ndflow": ndflow}
    add, matmul = overhead.eager_op(loaded, quick=True)
    assert list(add.runs) == ["ndflow", "numpy"]
    np.testing.assert_array_equal(np.asarray(add.runs["ndflow"]()), [[0, 2], [4, 6]])
    np.testing.assert_array_equal(np.asarray(matmul.runs["ndflow"]()),
                                  np.asarray(matmul.runs["numpy"]()))
    call, large = overhead.function_call(loaded, quick=True)
    assert np.isfinite(float(call.runs["ndflow"]()))
    assert large.name == "function_call.200_ops"
    assert np.isfinite(float(large.runs["ndflow"]()))


def test_ten_ops_matches_numpy():
    import ndflow

    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((2, 4, 4), dtype=np.float32) * 0.1
    expected = np.sum(np.square(np.maximum(
        np.exp(np.tanh(np.maximum(((x + y) * x - y) @ x, 0))), y)))
    got = overhead.ten_ops(ndflow)(ndflow.constant(x), ndflow.constant(y))
    np.testing.assert_allclose(float(got), expected, rtol=1e-5)


def test_describe_reports_thread_variables_unset_or_set(monkeypatch):
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    info = frameworks.describe({})
    assert info["thread_variables"]["OPENBLAS_NUM_THREADS"] == "1"
    assert info["cores"] >= 1 and info["versions"]["numpy"] == np.__version__


def test_children_together_return_values_and_errors_in_order():
    values = processes.run_children_together([("import_time", "json"),
                                              ("import_time", "no_such_module_xyz")], timeout=60)
    assert values[0] >= 0.0
    assert isinstance(values[1], RuntimeError) and "no_such_module_xyz" in str(values[1])


def test_peak_memory_starts_children_once(monkeypatch):
    launched = []

    def fake(argument_lists):
        launched.append(argument_lists)
        return [100.0, RuntimeError("child peak_memory torch failed")]

    monkeypatch.setattr(processes, "run_children_together", fake)
    (case,) = processes.peak_memory({"ndflow": object(), "torch": object()}, quick=True)
    stats = harness.measure(case, rounds=1)
    assert launched == [[("peak_memory", "ndflow", 256), ("peak_memory", "torch", 256)]]
    assert stats["ndflow"]["median"] == 100.0
    assert "child peak_memory torch failed" in stats["torch"]["unavailable"]
