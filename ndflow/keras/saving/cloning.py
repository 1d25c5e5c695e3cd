"""`keras.models.clone_model`: a new model with the same architecture and fresh weights."""

from ndflow.keras.saving import serialization
from ndflow.util import nest


def _clone_layer(layer):
    """`layer.__class__.from_config(layer.get_config())`; a Lambda keeps its function."""
    from ndflow.keras.layers import Lambda

    config = layer.get_config()
    if isinstance(layer, Lambda):
        config.update(function=layer.function, output_shape=layer._output_shape,
                      mask=layer._mask)
        return type(layer)(**config)
    return serialization.instantiate(type(layer), config, None)


def clone_model(model, input_tensors=None, clone_function=None, call_function=None,
                recursive=False, **kwargs):
    """Clones a Functional or Sequential model (new layers, newly initialized weights) or,
    for a subclassed model, rebuilds it from its config (`keras.models.clone_model`).

    Args:
      model: the model to clone.
      input_tensors: optional `keras.Input` tensors (structure of the model's inputs) to
        build the clone on.
      clone_function: `layer -> new layer` (default: from_config(get_config())).
      call_function: `(layer, *args, **kwargs) -> outputs`, to change how cloned layers are
        called (Functional models).
      recursive: also clone nested Sequential/Functional models with `clone_function`.

    Raises:
      ValueError: unexpected arguments for the model kind.
    """
    from ndflow.keras.engine.functional import Functional
    from ndflow.keras.engine.sequential import Sequential

    if kwargs:
        raise ValueError(f"Unexpected keyword argument(s) for clone_model: {sorted(kwargs)}")
    layer_fn = clone_function or _clone_layer
    if recursive:
        inner = layer_fn

        def layer_fn(layer):
            if isinstance(layer, Functional):
                return clone_model(layer, clone_function=clone_function,
                                   call_function=call_function, recursive=True)
            return inner(layer)

    if isinstance(model, Sequential):
        return _clone_sequential(model, input_tensors, layer_fn)
    if isinstance(model, Functional):
        return _clone_functional(model, input_tensors, layer_fn, call_function)
    if clone_function is not None or input_tensors is not None:
        raise ValueError("Arguments `clone_function` and `input_tensors` are only supported "
                         f"for Sequential or Functional models. Received model of type "
                         f"'{type(model).__name__}'")
    config = serialization.serialize_keras_object(model)
    config.pop("compile_config", None)
    return serialization.deserialize_keras_object(config)


def _clone_sequential(model, input_tensors, layer_fn):
    from ndflow.keras.engine.input_layer import Input
    from ndflow.keras.engine.sequential import Sequential

    layers = [layer_fn(layer) for layer in model.layers]
    if input_tensors is not None:
        first = nest.flatten(input_tensors)[0]
        return Sequential([first._keras_history[0]] + layers, name=model.name)
    if model._input_tensor is not None:
        source = model._input_tensor
        inputs = Input(batch_shape=tuple(source.shape.as_list()), dtype=source.dtype,
                       name=source._keras_history[0].name)
        return Sequential([inputs._keras_history[0]] + layers, name=model.name)
    return Sequential(layers, name=model.name)


def _clone_functional(model, input_tensors, layer_fn, call_function):
    from ndflow.keras.engine.functional import Functional
    from ndflow.keras.engine.input_layer import Input
    from ndflow.keras.engine.keras_tensor import KerasTensor

    new_tensors = {}
    if input_tensors is not None:
        given = nest.flatten(input_tensors)
        if len(given) != len(model._inputs):
            raise ValueError(f"clone_model: the model has {len(model._inputs)} inputs, but "
                             f"{len(given)} input tensors were given.")
        new_tensors.update((id(old), new) for old, new in zip(model._inputs, given))
    for old in model._inputs:
        if id(old) not in new_tensors:
            new_tensors[id(old)] = Input(batch_shape=tuple(old.shape.as_list()),
                                         dtype=old.dtype, name=old._keras_history[0].name)
    new_layers = {}
    for node in model._nodes:
        if node.is_input:
            continue
        layer = node.layer
        if id(layer) not in new_layers:
            new_layers[id(layer)] = layer_fn(layer)

        def swap(value):
            return new_tensors[id(value)] if isinstance(value, KerasTensor) else value

        args = nest.map_structure(swap, list(node.call_args))
        kwargs = nest.map_structure(swap, dict(node.call_kwargs))
        clone = new_layers[id(layer)]
        outputs = call_function(clone, *args, **kwargs) if call_function else clone(*args,
                                                                                    **kwargs)
        for old, new in zip(node.output_tensors, nest.flatten(outputs)):
            new_tensors[id(old)] = new
    inputs = nest.map_structure(lambda t: new_tensors[id(t)], model._input_structure)
    outputs = nest.map_structure(lambda t: new_tensors[id(t)], model._output_structure)
    return Functional(inputs, outputs, name=model.name)
