import collections

import pytest

import ndflow as tf


def test_flatten_orders_dict_keys_and_keeps_none():
    structure = {"b": [1, (2, None)], "a": 3}
    assert tf.nest.flatten(structure) == [3, 1, 2, None]
    assert tf.nest.flatten(5) == [5]


def test_pack_sequence_as_round_trip():
    Point = collections.namedtuple("Point", "x y")
    structure = {"p": Point(1, [2, 3]), "q": (4,)}
    flat = tf.nest.flatten(structure)
    rebuilt = tf.nest.pack_sequence_as(structure, [v * 10 for v in flat])
    assert rebuilt == {"p": Point(10, [20, 30]), "q": (40,)}
    with pytest.raises(ValueError, match="Structure had 4 atoms"):
        tf.nest.pack_sequence_as(structure, [1, 2])


def test_map_structure_and_assert_same_structure():
    assert tf.nest.map_structure(lambda a, b: a + b, [1, (2,)], [10, (20,)]) == [11, (22,)]
    with pytest.raises(ValueError):
        tf.nest.assert_same_structure([1, 2], [1])
    with pytest.raises(TypeError):
        tf.nest.assert_same_structure([1, 2], (1, 2))
