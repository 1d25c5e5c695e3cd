"""`keras.utils.plot_model` / `model_to_dot`: the layer graph of a model.

With pydot and Graphviz installed they behave as in Keras (a `pydot.Dot`, an image file).
Without them ndflow still describes the graph: `model_to_dot` returns a `DotSource` holding
the Graphviz DOT text, and `plot_model` renders it with the `dot` program when it is on PATH,
otherwise writes the DOT text next to the requested file (`model.png` -> `model.dot`) and warns.
"""

import itertools
import os
import shutil
import subprocess
import warnings


class DotSource:
    """Graphviz DOT text of a model graph, the fallback of `model_to_dot` without pydot."""

    def __init__(self, text):
        self.text = text

    def to_string(self):
        return self.text

    def __str__(self):
        return self.text


def _layer_edges(model):
    """(layers, [(from_layer, to_layer)]) for functional, sequential or subclassed models."""
    nodes = getattr(model, "_nodes", None)
    if nodes:
        layers = []
        edges = []
        for node in nodes:
            if all(node.layer is not layer for layer in layers):
                layers.append(node.layer)
            for parent in node.parent_nodes:
                edges.append((parent.layer, node.layer))
        return layers, edges
    layers = list(model.layers)
    if type(model).__name__ == "Sequential":
        return layers, list(itertools.pairwise(layers))
    return layers, []


def _shape_text(layer, attribute):
    try:
        value = getattr(layer, attribute)
    except (AttributeError, ValueError, RuntimeError):
        return "?"
    return str(value)


def _label(layer, show_shapes, show_dtype, show_layer_names, show_layer_activations,
           show_trainable):
    kind = type(layer).__name__
    parts = [f"{layer.name} ({kind})" if show_layer_names else kind]
    activation = getattr(layer, "activation", None)
    if show_layer_activations and activation is not None:
        parts.append(f"activation: {getattr(activation, '__name__', activation)}")
    if show_dtype:
        parts.append(f"dtype: {getattr(layer, 'dtype', '?')}")
    if show_shapes:
        parts.append(f"input: {_shape_text(layer, 'input_shape')}")
        parts.append(f"output: {_shape_text(layer, 'output_shape')}")
    if show_trainable:
        parts.append(f"trainable: {layer.trainable}")
    return "\\n".join(p.replace('"', "'") for p in parts)


def _dot_text(model, show_shapes, show_dtype, show_layer_names, rankdir,
              show_layer_activations, show_trainable, dpi):
    layers, edges = _layer_edges(model)
    lines = [f'digraph "{model.name}" {{', f'  graph [rankdir="{rankdir}", dpi={dpi}];',
             '  node [shape="record"];']
    for layer in layers:
        label = _label(layer, show_shapes, show_dtype, show_layer_names,
                       show_layer_activations, show_trainable)
        lines.append(f'  "{id(layer)}" [label="{label}"];')
    for source, target in edges:
        lines.append(f'  "{id(source)}" -> "{id(target)}";')
    lines.append("}")
    return "\n".join(lines) + "\n"


def model_to_dot(model, show_shapes=False, show_dtype=False, show_layer_names=True,
                 rankdir="TB", expand_nested=False, dpi=200, subgraph=False,
                 show_layer_activations=False, show_trainable=False, **kwargs):
    """The model's layer graph (`keras.utils.model_to_dot`): a `pydot.Dot` when pydot is
    installed, else a `DotSource` with the same DOT text."""
    text = _dot_text(model, show_shapes, show_dtype, show_layer_names, rankdir,
                     show_layer_activations, show_trainable, dpi)
    try:
        import pydot
    except ImportError:
        return DotSource(text)
    graphs = pydot.graph_from_dot_data(text)
    return graphs[0] if graphs else DotSource(text)


def plot_model(model, to_file="model.png", show_shapes=False, show_dtype=False,
               show_layer_names=True, rankdir="TB", expand_nested=False, dpi=200,
               show_layer_activations=False, show_trainable=False, **kwargs):
    """Draws the model's layer graph to `to_file` (`keras.utils.plot_model`).

    The image format follows the extension (png, svg, pdf ...; `.dot` writes the DOT text).
    Without Graphviz's `dot` program the DOT text is written to `<to_file stem>.dot` instead,
    with a warning. Returns the path written.
    """
    text = _dot_text(model, show_shapes, show_dtype, show_layer_names, rankdir,
                     show_layer_activations, show_trainable, dpi)
    to_file = os.fspath(to_file)
    stem, extension = os.path.splitext(to_file)
    dirname = os.path.dirname(to_file)
    if dirname:
        os.makedirs(dirname, exist_ok=True)
    if extension.lower() in (".dot", ".gv", ".txt"):
        _write(to_file, text)
        return to_file
    dot = shutil.which("dot")
    if dot is None:
        fallback = stem + ".dot"
        _write(fallback, text)
        warnings.warn(f"plot_model: Graphviz's `dot` program is not installed, so {to_file} "
                      f"was not drawn; the graph was written as DOT text to {fallback} "
                      f"(render it with `dot -T{extension[1:] or 'png'}`).", stacklevel=2)
        return fallback
    subprocess.run([dot, f"-T{extension[1:] or 'png'}", "-o", to_file], input=text.encode(),
                   check=True)
    return to_file


def _write(path, text):
    with open(path, "w") as handle:
        handle.write(text)
