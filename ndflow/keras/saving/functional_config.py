"""Configs of Functional and Sequential models in Keras 3's layout.

A Functional config lists its layers in Keras' order (by depth from the outputs, then by
first visit), each with `name` and `inbound_nodes` = `[{"args": [...], "kwargs": {...}}]`
where tensors are `__keras_tensor__` references `[layer name, node index, tensor index]`;
`input_layers` / `output_layers` give the model's inputs and outputs the same way. Keras 2
configs (inbound nodes as lists of `[layer, node, tensor, kwargs]`) load too.
"""

import collections

from ndflow.keras.saving import serialization
from ndflow.util import nest


def _is_functional(layer):
    """A Keras 3 Functional (it starts with one node of its own); Sequential is not one."""
    from ndflow.keras.engine.functional import Functional
    from ndflow.keras.engine.sequential import Sequential

    return isinstance(layer, Functional) and not isinstance(layer, Sequential)


def _history(tensor):
    layer, node_index, tensor_index = tensor._keras_history
    return layer, layer._inbound_nodes[node_index], tensor_index


def keras_layer_order(model):
    """The model's layers in Keras 3's `Functional.operations` order."""
    finished, order, first_seen = set(), [], {}

    def visit(tensor):
        layer, node, _ = _history(tensor)
        if id(node) in finished:
            return
        first_seen.setdefault(id(layer), (len(first_seen), layer))
        if not node.is_input:
            for parent in node.input_tensors:
                visit(parent)
        finished.add(id(node))
        order.append(node)

    for tensor in model._outputs:
        visit(tensor)
    node_depth, layer_depth = {}, {}
    in_graph = {id(node) for node in order}
    for node in reversed(order):
        depth = max(node_depth.setdefault(id(node), 0), layer_depth.get(id(node.layer), 0))
        layer_depth[id(node.layer)] = depth
        node_depth[id(node)] = depth
        for parent in node.parent_nodes:
            if id(parent) in in_graph:
                node_depth[id(parent)] = max(depth + 1, node_depth.get(id(parent), 0))
    for tensor in model._inputs:
        layer = tensor._keras_history[0]
        if id(layer) not in layer_depth:
            layer_depth[id(layer)] = 0
            first_seen[id(layer)] = (-1, layer)
    ranked = sorted(first_seen.values(), key=lambda item: (-layer_depth[id(item[1])], item[0]))
    return [layer for _, layer in ranked]


def functional_get_config(model):
    """`Functional.get_config()` in Keras 3's layout."""
    from ndflow.keras.engine.keras_tensor import KerasTensor

    node_ids = {id(node) for node in model._nodes}

    def reference(tensor):
        layer, node_index, tensor_index = tensor._keras_history
        kept = sum(1 for node in layer._inbound_nodes[:node_index] if id(node) in node_ids)
        return [layer.name, kept + (1 if _is_functional(layer) else 0), tensor_index]

    def serialize_tensor(value):
        if not isinstance(value, KerasTensor):
            return serialization.serialize_keras_object(value)
        return {"class_name": "__keras_tensor__", "config": {
            "shape": value.shape.as_list() if value.shape.rank is not None else None,
            "dtype": value.dtype.name, "keras_history": reference(value)}}

    layers = []
    for layer in keras_layer_order(model):
        _check_serializable(layer)
        entry = serialization.serialize_keras_object(layer)
        entry["name"] = layer.name
        entry["inbound_nodes"] = [
            {"args": nest.map_structure(serialize_tensor, list(node.call_args)),
             "kwargs": nest.map_structure(serialize_tensor, dict(node.call_kwargs))}
            for node in layer._inbound_nodes if id(node) in node_ids and node.input_tensors]
        layers.append(entry)
    return {"name": model.name, "trainable": model.trainable, "layers": layers,
            "input_layers": nest.map_structure(reference, _structure(model._input_structure)),
            "output_layers": nest.map_structure(reference,
                                                _structure(model._output_structure))}


def _structure(structure):
    if isinstance(structure, tuple):
        return list(structure)
    return structure


def _check_serializable(layer):
    from ndflow.keras.engine.op_layer import OpLayer

    if isinstance(layer, OpLayer):
        raise ValueError(  # noqa: TRY004 - a malformed model, as Keras reports it
            f"Cannot serialize the functional model: layer '{layer.name}' is a raw ndflow op "
            f"({layer.op_type}) applied to Keras tensors. Wrap it in a Keras layer (or a "
            f"registered custom layer) to save the model's config.")


def functional_from_config(cls, config, custom_objects=None):
    """A Functional model (of class `cls`) rebuilt from its config."""
    config = dict(config)
    created = {}
    pending = collections.OrderedDict()
    legacy = any("module" not in entry for entry in config["layers"])
    for layer_data in config.pop("layers"):
        layer = _deserialize_layer(layer_data, custom_objects)
        created[layer_data["name"]] = layer
        pending[layer_data["name"]] = list(layer_data.get("inbound_nodes") or [])
    while any(pending.values()):
        progressed = False
        for name, nodes in pending.items():
            while nodes:
                try:
                    args, kwargs = _node_arguments(nodes[0], created)
                except IndexError:
                    break
                layer = created[name]
                if "mask" in kwargs and not getattr(layer, "_call_has_mask", True):
                    kwargs.pop("mask")  # ndflow propagates the mask on the tensor instead
                layer(*args, **kwargs)
                nodes.pop(0)
                progressed = True
        if not progressed:
            stuck = sorted(name for name, nodes in pending.items() if nodes)
            raise ValueError(f"Invalid Functional model configuration: the graph has loops or "
                             f"disconnected nodes; could not resolve the inputs of layers "
                             f"{stuck}")
    inputs = _map_references(config.pop("input_layers"), created)
    outputs = _map_references(config.pop("output_layers"), created)
    if legacy:  # Keras 2 wrapped single inputs/outputs in a list
        inputs = inputs[0] if isinstance(inputs, list) and len(inputs) == 1 else inputs
        outputs = outputs[0] if isinstance(outputs, list) and len(outputs) == 1 else outputs
    kwargs = {key: config.pop(key) for key in ("name", "trainable") if key in config}
    return cls(inputs=inputs, outputs=outputs, **kwargs)


def _deserialize_layer(layer_data, custom_objects):
    from ndflow.keras.engine.base_layer import Layer

    if "module" not in layer_data:
        layer_data = dict(layer_data, module="keras.layers")  # Keras 2 configs
    layer = serialization.deserialize_keras_object(layer_data, custom_objects)
    if not isinstance(layer, Layer):
        message = (f"Unexpected object from deserialization, expected a layer, got "
                   f"{type(layer).__name__}")
        raise ValueError(message)  # noqa: TRY004 - a malformed file, as Keras reports it
    return layer


def _tensor_at(created, name, node_index, tensor_index):
    if name not in created:
        raise ValueError(f"Invalid Functional model configuration: unknown layer '{name}'")
    layer = created[name]
    if _is_functional(layer):
        node_index -= 1
    if node_index >= len(layer._inbound_nodes):
        raise IndexError(f"layer '{name}' has no node {node_index} yet")
    return layer._inbound_nodes[node_index].output_tensors[tensor_index]


def _node_arguments(node_data, created):
    if isinstance(node_data, list):  # Keras 2: [[layer, node, tensor, kwargs], ...]
        tensors, kwargs = [], {}
        for entry in node_data:
            tensors.append(_tensor_at(created, entry[0], entry[1], entry[2]))
            if len(entry) > 3 and entry[3]:
                kwargs = dict(entry[3])
        return [tensors[0] if len(tensors) == 1 else tensors], kwargs

    def revive(value):
        if isinstance(value, dict) and value.get("__keras_tensor__"):
            history = value["keras_history"]
            return _tensor_at(created, history[0], history[1], history[2])
        return value

    args = _revive_structure(serialization.deserialize_keras_object(node_data["args"]), revive)
    kwargs = _revive_structure(serialization.deserialize_keras_object(node_data["kwargs"]),
                               revive)
    if isinstance(kwargs.get("training"), bool):
        # Keras records `training` at graph-building time and overrides it when the model
        # runs; ndflow's Functional would keep a recorded value, so it is not recorded.
        kwargs.pop("training")
    return list(args), dict(kwargs)


def _revive_structure(value, revive):
    if isinstance(value, dict) and not value.get("__keras_tensor__"):
        return {key: _revive_structure(item, revive) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_revive_structure(item, revive) for item in value)
    return revive(value)


def _map_references(references, created):
    if isinstance(references, list) and len(references) == 3 and isinstance(references[0], str):
        return _tensor_at(created, *references)
    if isinstance(references, dict):
        return {key: _map_references(value, created) for key, value in references.items()}
    return [_map_references(value, created) for value in references]


# --- Sequential -------------------------------------------------------------------------------


def sequential_get_config(model):
    """`Sequential.get_config()` in Keras 3's layout (InputLayer first, `build_input_shape`)."""
    layers = [serialization.serialize_keras_object(layer) for layer in model._stack]
    config = {"name": model.name, "trainable": model.trainable,
              "dtype": model.dtype_policy.get_config_entry(), "layers": layers}
    if model._input_tensor is not None:
        config["build_input_shape"] = model._input_tensor.shape.as_list()
    return config


def sequential_from_config(cls, config, custom_objects=None):
    """A Sequential model rebuilt from its config (Keras 3 or Keras 2 layout)."""
    from ndflow.keras.engine.input_layer import InputLayer

    entries = config["layers"] if isinstance(config, dict) else config
    name = config.get("name") if isinstance(config, dict) else None
    model = cls(name=name)
    for entry in entries:
        if "module" not in entry:
            entry = dict(entry, module="keras.layers")
        model.add(serialization.deserialize_keras_object(entry, custom_objects), rebuild=False)
    build_shape = config.get("build_input_shape") if isinstance(config, dict) else None
    if model._input_tensor is None and build_shape:
        model.build(build_shape)
    elif model._input_tensor is not None and any(not isinstance(layer, InputLayer)
                                                 for layer in model._stack):
        model._build_graph(model._input_tensor)
    if isinstance(config, dict) and config.get("trainable") is False:
        model.trainable = False
    return model
