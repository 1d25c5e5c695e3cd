"""Node: one call of a layer on symbolic inputs, the edge list of functional models."""

from ndflow.keras.engine.keras_tensor import KerasTensor
from ndflow.util import nest


class Node:
    """Records `layer(*call_args, **call_kwargs) -> outputs` on KerasTensors."""

    def __init__(self, layer, call_args=(), call_kwargs=None, outputs=None):
        self.layer = layer
        self.call_args = tuple(call_args)
        self.call_kwargs = dict(call_kwargs or {})
        self.outputs = outputs
        flat = nest.flatten((self.call_args, self.call_kwargs))
        self.input_tensors = [t for t in flat if isinstance(t, KerasTensor)]
        self.output_tensors = [t for t in nest.flatten(outputs) if isinstance(t, KerasTensor)]
        self.index = len(layer._inbound_nodes)
        layer._inbound_nodes.append(self)
        for index, tensor in enumerate(self.output_tensors):
            tensor._keras_history = (layer, self.index, index)
        for tensor in self.input_tensors:
            if tensor._keras_history is not None:
                tensor._keras_history[0]._outbound_nodes.append(self)

    @property
    def parent_nodes(self):
        """The nodes that produced this node's inputs."""
        result = []
        for tensor in self.input_tensors:
            layer, index, _ = tensor._keras_history
            node = layer._inbound_nodes[index]
            if all(node is not n for n in result):
                result.append(node)
        return result

    @property
    def is_input(self):
        return not self.input_tensors

    @property
    def input_tensors_structure(self):
        return self.call_args[0] if self.call_args else None

    @property
    def output_structure(self):
        return self.outputs

    def __repr__(self):
        return f"<Node {self.layer.name}#{self.index}>"
