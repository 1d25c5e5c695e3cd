"""`tf.nest`: flatten and rebuild nested structures of lists, tuples, namedtuples and dicts.

Dicts flatten in sorted key order, as in TensorFlow; None is a leaf; strings are leaves.
"""

import collections.abc


def _is_namedtuple(value):
    return isinstance(value, tuple) and hasattr(type(value), "_fields")


def is_nested(structure):
    """True for lists, tuples, dicts and other mappings (the containers nest walks)."""
    return isinstance(structure, (list, tuple, collections.abc.Mapping)) or _is_attrs(structure)


is_sequence = is_nested
is_nested_or_composite = is_nested


def _is_attrs(value):
    return hasattr(type(value), "__attrs_attrs__")


def _sorted_keys(mapping):
    try:
        return sorted(mapping)
    except TypeError:
        return list(mapping)


def _children(structure):
    if isinstance(structure, collections.abc.Mapping):
        return [structure[k] for k in _sorted_keys(structure)]
    if _is_attrs(structure):
        return [getattr(structure, a.name) for a in type(structure).__attrs_attrs__]
    return list(structure)


def flatten(structure, expand_composites=False):
    """The leaves of a nested structure, in TF's order (`tf.nest.flatten`)."""
    if not is_nested(structure):
        return [structure]
    output = []

    def walk(node):
        if is_nested(node):
            for child in _children(node):
                walk(child)
        else:
            output.append(node)

    walk(structure)
    return output


def _rebuild(structure, leaves):
    if isinstance(structure, collections.abc.Mapping):
        keys = _sorted_keys(structure)
        values = {k: _rebuild(structure[k], leaves) for k in keys}
        if isinstance(structure, collections.defaultdict):
            result = collections.defaultdict(structure.default_factory)
            result.update((k, values[k]) for k in structure)
            return result
        try:
            return type(structure)((k, values[k]) for k in structure)
        except TypeError:
            return {k: values[k] for k in structure}
    if _is_attrs(structure):
        values = [_rebuild(getattr(structure, a.name), leaves)
                  for a in type(structure).__attrs_attrs__]
        return type(structure)(*values)
    if _is_namedtuple(structure):
        return type(structure)(*[_rebuild(child, leaves) for child in structure])
    if isinstance(structure, (list, tuple)):
        items = [_rebuild(child, leaves) for child in structure]
        return items if isinstance(structure, list) else type(structure)(items)
    return next(leaves)


def pack_sequence_as(structure, flat_sequence, expand_composites=False):
    """Rebuilds `structure` with the leaves taken in order from `flat_sequence`."""
    flat_sequence = list(flat_sequence)
    expected = len(flatten(structure))
    if expected != len(flat_sequence):
        raise ValueError(f"Could not pack sequence. Structure had {expected} atoms, but "
                         f"flat_sequence had {len(flat_sequence)} items.")
    if not is_nested(structure):
        return flat_sequence[0]
    return _rebuild(structure, iter(flat_sequence))


def assert_same_structure(nest1, nest2, check_types=True, expand_composites=False):
    """Raises ValueError (or TypeError for differing container types) unless both structures
    have the same nesting."""
    if is_nested(nest1) != is_nested(nest2):
        raise ValueError(f"The two structures don't have the same nested structure.\n\n"
                         f"First structure: {nest1!r}\n\nSecond structure: {nest2!r}")
    if not is_nested(nest1):
        return
    if check_types and type(nest1) is not type(nest2):
        sequence_types = (list, tuple)
        if not (isinstance(nest1, sequence_types) and isinstance(nest2, sequence_types)
                and not _is_namedtuple(nest1) and not _is_namedtuple(nest2)
                and type(nest1) is type(nest2)):
            raise TypeError(f"The two structures don't have the same sequence type. First "
                            f"structure has type {type(nest1)}, while second structure has "
                            f"type {type(nest2)}.")
    if isinstance(nest1, collections.abc.Mapping):
        if set(nest1) != set(nest2):
            raise ValueError(f"The two dictionaries don't have the same set of keys. First "
                             f"structure has keys {list(nest1)}, while second structure has "
                             f"keys {list(nest2)}.")
    children1, children2 = _children(nest1), _children(nest2)
    if len(children1) != len(children2):
        raise ValueError(f"The two structures don't have the same number of elements.\n\n"
                         f"First structure: {nest1!r}\n\nSecond structure: {nest2!r}")
    for a, b in zip(children1, children2):
        assert_same_structure(a, b, check_types)


def map_structure(func, *structure, **kwargs):
    """Applies `func` to corresponding leaves of one or more structures (`tf.nest.map_structure`).
    """
    check_types = kwargs.pop("check_types", True)
    kwargs.pop("expand_composites", None)
    if kwargs:
        raise ValueError(f"Only valid keyword arguments are `check_types` and "
                         f"`expand_composites`, got {list(kwargs)}")
    if not structure:
        raise ValueError("Must provide at least one structure")
    for other in structure[1:]:
        assert_same_structure(structure[0], other, check_types=check_types)
    flats = [flatten(s) for s in structure]
    return pack_sequence_as(structure[0], [func(*leaves) for leaves in zip(*flats)])


def flatten_with_joined_string_paths(structure, separator="/", expand_composites=False):
    """(path, leaf) pairs where the path joins the keys/indices leading to the leaf."""
    result = []

    def walk(node, path):
        if isinstance(node, collections.abc.Mapping):
            for key in _sorted_keys(node):
                walk(node[key], path + (str(key),))
        elif is_nested(node):
            for index, child in enumerate(_children(node)):
                walk(child, path + (str(index),))
        else:
            result.append((separator.join(path), node))

    walk(structure, ())
    return result
