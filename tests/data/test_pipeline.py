"""Order and flow: shuffle against TF's recorded orders, repeat/take/skip/shard, cache,
prefetch, interleave, window, group_by_window, bucketing, sampling, save/load, options."""

import json
import os
import threading

import numpy as np
import pytest

import ndflow as tf

D = tf.data.Dataset
with open(os.path.join(os.path.dirname(__file__), "fixtures", "tf_orders.json")) as _handle:
    TF_ORDERS = json.load(_handle)


def values(dataset):
    return [v.tolist() if isinstance(v, np.ndarray) else v
            for v in dataset.as_numpy_iterator()]


@pytest.fixture(autouse=True)
def _no_global_seed():
    tf.random.set_seed(None)
    yield
    tf.random.set_seed(None)


@pytest.mark.parametrize("size,buffer,seed", [(10, 4, 7), (10, 100, 7), (25, 5, 0), (50, 1, 3),
                                              (37, 8, 123)],
                         ids=lambda v: str(v))
def test_shuffle_matches_tensorflow_order(size, buffer, seed):
    dataset = D.range(size).shuffle(buffer, seed=seed)
    first, second = TF_ORDERS[f"shuffle_{size}_{buffer}_{seed}"]
    assert values(dataset) == first
    assert values(dataset) == second  # reshuffled on the next pass, as TF does
    assert values(D.range(size).shuffle(buffer, seed=seed)) == first  # rebuilt: same order
    fixed = D.range(size).shuffle(buffer, seed=seed, reshuffle_each_iteration=False)
    assert values(fixed) == TF_ORDERS[f"fixed_{size}_{buffer}_{seed}"] == values(fixed)


def test_shuffle_repeat_batch_and_global_seed_match_tensorflow():
    assert values(D.range(10).shuffle(4, seed=7).repeat(3)) == TF_ORDERS["shuffle_repeat"]
    assert values(D.range(20).shuffle(6, seed=11).batch(4)) == TF_ORDERS["shuffle_batch"]
    tf.random.set_seed(5)
    assert values(D.range(10).shuffle(4)) == TF_ORDERS["global_seed_only"]
    tf.random.set_seed(5)
    assert values(D.range(10).shuffle(4, seed=3)) == TF_ORDERS["global_and_op_seed"]


def test_shuffle_of_slices_batched_by_gather_matches_element_path():
    images = np.arange(30).reshape(15, 2)
    fast = values(D.from_tensor_slices(images).shuffle(5, seed=2).batch(4))
    slow = values(D.from_tensor_slices(images).shuffle(5, seed=2).map(lambda x: x).batch(4))
    assert fast == slow and sorted(np.concatenate(fast)[:, 0].tolist()) == list(range(0, 30, 2))


def test_unseeded_shuffle_is_a_permutation():
    assert sorted(values(D.range(50).shuffle(10))) == list(range(50))
    with pytest.raises(tf.errors.InvalidArgumentError, match="buffer_size must be greater"):
        D.range(3).shuffle(0)


def test_infinite_repeat_with_take_and_cardinalities():
    endless = D.range(3).repeat()
    assert int(endless.cardinality()) == tf.data.INFINITE_CARDINALITY
    limited = endless.take(7)
    assert values(limited) == [0, 1, 2, 0, 1, 2, 0] and len(limited) == 7
    assert int(D.range(3).repeat(2).cardinality()) == 6
    assert values(D.range(0).repeat()) == []
    assert values(D.range(10).skip(7)) == [7, 8, 9] and len(D.range(10).skip(-1)) == 0
    assert values(D.range(10).shard(3, 1)) == [1, 4, 7] and len(D.range(10).shard(3, 1)) == 3
    with pytest.raises(tf.errors.InvalidArgumentError, match="index must be in \\[0, 3\\)"):
        D.range(3).shard(3, 3)


def test_memory_cache_replays_after_first_full_pass():
    calls = []
    dataset = D.range(3).map(lambda x: tf.py_function(lambda v: (calls.append(1), v)[1],
                                                        [x], tf.int64)).cache()
    assert values(dataset) == [0, 1, 2] and values(dataset) == [0, 1, 2]
    assert len(calls) == 3


def test_file_cache_survives_a_new_pipeline(tmp_path):
    path = str(tmp_path / "cache")
    assert values(D.range(4).map(lambda x: x * 3).cache(path)) == [0, 3, 6, 9]
    assert values(D.range(0).map(lambda x: x * 3).cache(path)) == [0, 3, 6, 9]


def test_prefetch_runs_ahead_on_a_thread_and_forwards_errors():
    names = []

    def record(x):
        names.append(threading.current_thread().name)
        return x

    dataset = D.range(5).map(lambda x: tf.py_function(record, [x], tf.int64)).prefetch(2)
    assert values(dataset) == [0, 1, 2, 3, 4]
    assert all(name.startswith("ndflow-prefetch") for name in names)
    failing = D.range(3).map(lambda x: tf.py_function(lambda v: 1 // 0, [x], tf.int64))
    with pytest.raises(tf.errors.OpError, match="element 0"):
        values(failing.prefetch(tf.data.AUTOTUNE))
    iterator = iter(D.range(1000).prefetch(1))
    assert int(next(iterator)) == 0  # abandoning a prefetching iterator must not hang
    del iterator


def test_interleave_and_window_match_tensorflow():
    interleaved = D.range(1, 5).interleave(lambda x: D.from_tensors(x).repeat(x),
                                           cycle_length=2, block_length=2)
    assert values(interleaved) == TF_ORDERS["interleave"]
    windows = D.range(7).window(3, shift=2, stride=2).flat_map(lambda w: w.batch(3))
    assert values(windows) == TF_ORDERS["window"]
    assert values(D.range(3).flat_map(lambda x: D.range(x))) == [0, 0, 1]


def test_group_by_window_and_bucket_by_sequence_length():
    grouped = D.range(1, 8).group_by_window(lambda x: x % 2, lambda key, w: w.batch(10),
                                            window_size=2)
    assert values(grouped) == [[1, 3], [2, 4], [5, 7], [6]]
    sequences = D.range(1, 7).map(lambda x: tf.fill([x], x))
    buckets = values(sequences.bucket_by_sequence_length(lambda x: tf.shape(x)[0], [3, 5],
                                                         [2, 2, 2]))
    assert buckets[0] == [[1, 0], [2, 2]]
    assert [len(b[0]) for b in buckets] == [2, 4, 6]
    with pytest.raises(ValueError, match="bucket_batch_sizes"):
        sequences.bucket_by_sequence_length(lambda x: tf.shape(x)[0], [3], [2])


def test_choose_and_sample_from_datasets():
    choice = D.from_tensor_slices(np.array([0, 1, 1, 0, 1], np.int64))
    chosen = D.choose_from_datasets([D.range(2), D.range(10, 12)], choice)
    assert values(chosen) == [0, 10, 11, 1]
    sampled = D.sample_from_datasets([D.range(100), D.range(100, 200)], [0.5, 0.5], seed=3)
    first = values(sampled.take(40))
    assert first == values(sampled.take(40)) or len(first) == 40
    assert any(v >= 100 for v in first) and any(v < 100 for v in first)
    with pytest.raises(ValueError, match="weights"):
        D.sample_from_datasets([D.range(2)], [-1.0])


def test_save_and_load_round_trip(tmp_path):
    dataset = D.from_tensor_slices({"x": np.arange(6.0, dtype=np.float32).reshape(3, 2),
                                    "s": [b"a", b"\0", b"c"]})
    dataset.save(str(tmp_path / "saved"))
    loaded = D.load(str(tmp_path / "saved"))
    assert loaded.element_spec == dataset.element_spec
    got = values(loaded)
    assert got[1]["s"] == b"\0" and got[2]["x"].tolist() == [4.0, 5.0]
    with pytest.raises(tf.errors.NotFoundError, match="element_spec.json"):
        D.load(str(tmp_path / "nothing"))


def test_options_deterministic_false_reaches_parallel_map():
    options = tf.data.Options()
    options.deterministic = False
    options.threading.private_threadpool_size = 4
    dataset = D.range(4).map(lambda x: x, num_parallel_calls=2).with_options(options)
    assert dataset.options().deterministic is False
    assert dataset.options().threading.private_threadpool_size == 4
    assert sorted(values(dataset)) == [0, 1, 2, 3]
    assert tf.data.Options().deterministic is None
