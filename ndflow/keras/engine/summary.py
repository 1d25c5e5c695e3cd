"""`Model.summary()`: the table of layers, output shapes and parameter counts (Keras 3 style)."""

from ndflow.util import nest


def _shape_text(layer):
    try:
        shape = layer.output_shape
    except (AttributeError, ValueError, TypeError):
        return "?"
    if isinstance(shape, tuple) and (not shape or not isinstance(shape[0], tuple)):
        return str(shape)
    return str(nest.flatten(shape) if isinstance(shape, dict) else list(shape))


def _count(weights):
    total = 0
    for weight in weights:
        size = 1
        for dim in weight.shape.as_list():
            size *= dim
        total += size
    return total


def _bytes_text(count, itemsize=4):
    size = float(count * itemsize)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} GB"


def print_summary(model, line_length=None, print_fn=None, show_trainable=False):
    print_fn = print_fn or print
    widths = [33, 24, 15]
    if line_length:
        scale = line_length / (sum(widths) + 4)
        widths = [max(int(w * scale), 8) for w in widths]
    headers = ["Layer (type)", "Output Shape", "Param #"]
    layers = model.layers  # functional models list their InputLayers, as Keras 3 does

    def row(cells, left="\u2502", sep="\u2502", right="\u2502"):
        text = []
        for index, (cell, width) in enumerate(zip(cells, widths)):
            cell = str(cell)
            text.append(f" {cell:>{width - 2}} " if index == 2 else f" {cell:<{width - 2}} ")
        return left + sep.join(text) + right

    def rule(left, mid, right, fill):
        return left + mid.join(fill * w for w in widths) + right

    lines = [f'Model: "{model.name}"',
             rule("\u250f", "\u2533", "\u2513", "\u2501"),
             row(headers, "\u2503", "\u2503", "\u2503"),
             rule("\u2521", "\u2547", "\u2529", "\u2501")]
    for index, layer in enumerate(layers):
        params = _count(layer.weights) if layer.built else 0
        name = f"{layer.name} ({type(layer).__name__})"
        lines.append(row([name, _shape_text(layer) if layer.built else "?", f"{params:,}"]))
        if index < len(layers) - 1:
            lines.append(rule("\u251c", "\u253c", "\u2524", "\u2500"))
    lines.append(rule("\u2514", "\u2534", "\u2518", "\u2500"))
    trainable = _count(model.trainable_weights)
    non_trainable = _count(model.non_trainable_weights)
    total = trainable + non_trainable
    optimizer_params = 0
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and hasattr(optimizer, "variables"):
        try:
            optimizer_params = _count(optimizer.variables)
        except (TypeError, AttributeError):
            optimizer_params = 0
    lines.append(f" Total params: {total + optimizer_params:,} "
                 f"({_bytes_text(total + optimizer_params)})")
    lines.append(f" Trainable params: {trainable:,} ({_bytes_text(trainable)})")
    lines.append(f" Non-trainable params: {non_trainable:,} ({_bytes_text(non_trainable)})")
    if optimizer_params:
        lines.append(f" Optimizer params: {optimizer_params:,} "
                     f"({_bytes_text(optimizer_params)})")
    for line in lines:
        print_fn(line)
