"""`python -m ndflow.saved_model show --dir DIR [--tag_set serve] [--signature_def KEY] [--all]`

Inspects a SavedModel like TF's `saved_model_cli show`: the tag-sets, the signature keys, a
signature's inputs and outputs, or (`--all`) every signature and every saved function. It only
reads `saved_model.json`; nothing is loaded or run.
"""

import argparse
import sys

from ndflow.saved_model import api, codec

_DT = {"float16": "DT_HALF", "bfloat16": "DT_BFLOAT16", "float32": "DT_FLOAT",
       "float64": "DT_DOUBLE", "int8": "DT_INT8", "int16": "DT_INT16", "int32": "DT_INT32",
       "int64": "DT_INT64", "uint8": "DT_UINT8", "uint16": "DT_UINT16", "uint32": "DT_UINT32",
       "uint64": "DT_UINT64", "bool": "DT_BOOL", "complex64": "DT_COMPLEX64",
       "complex128": "DT_COMPLEX128", "string": "DT_STRING", "resource": "DT_RESOURCE"}


def _shape_text(shape):
    if shape is None:
        return "unknown_rank"
    dims = ", ".join("-1" if d is None else str(d) for d in shape)
    return f"({dims},)" if len(shape) == 1 else f"({dims})"


def _tensor_lines(kind, record, signature_key):
    name = f"{signature_key}_{record['name']}:0" if kind == "inputs" else (
        f"StatefulPartitionedCall:{record.get('index', 0)}")
    return [f"    {kind}['{record['name']}'] tensor_info:",
            f"        dtype: {_DT.get(record['dtype'], record['dtype'])}",
            f"        shape: {_shape_text(record['shape'])}",
            f"        name: {name}"]


def signature_text(key, signature):
    lines = ["The given SavedModel SignatureDef contains the following input(s):"]
    for record in signature["inputs"]:
        lines += _tensor_lines("inputs", record, key)
    lines.append("The given SavedModel SignatureDef contains the following output(s):")
    for record in signature["outputs"]:
        lines += _tensor_lines("outputs", record, key)
    lines.append("Method name is: tensorflow/serving/predict")
    return "\n".join(lines)


def _spec_text(shape, dtype, name):
    dims = "None" if shape is None else "(" + ", ".join(
        "None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"
    return f"TensorSpec(shape={dims}, dtype=tf.{dtype}, name={name!r})"


def _structure_text(call, inputs, names):
    """The saved call structure with each tensor leaf replaced by its TensorSpec."""

    def text(item):
        if "tensor" in item:
            index = item["tensor"]
            shape, dtype = inputs[index]
            return _spec_text(shape, dtype, names[index] if index < len(names) else None)
        if "list" in item or "tuple" in item:
            parts = [text(v) for v in item.get("list", item.get("tuple"))]
            return ("[" + ", ".join(parts) + "]") if "list" in item else (
                "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")")
        if "dict" in item:
            return "{" + ", ".join(f"{k!r}: {text(v)}" for k, v in item["dict"]) + "}"
        return repr(item.get("value"))

    return [text(v) for v in call["args"].get("list", [])], [
        f"{k}={text(v)}" for k, v in call["kwargs"].get("dict", [])]


def functions_text(document):
    root = document["objects"][0]
    lines = ["Concrete Functions:"]
    for name in sorted(root.get("functions", {})):
        lines.append(f"  Function Name: '{name}'")
        for option, index in enumerate(root["functions"][name], start=1):
            record = document["concrete_functions"][index]
            ops = record["graph"]["ops"]
            inputs = [(ops[i]["outputs"][j][0], ops[i]["outputs"][j][1])
                      for i, j in record["graph"]["inputs"]]
            args, kwargs = _structure_text(record["call"], inputs,
                                           record.get("input_names", []))
            lines += [f"    Option #{option}", "      Callable with:"]
            for number, arg in enumerate(args + kwargs, start=1):
                lines += [f"        Argument #{number}", f"          {arg}"]
    return "\n".join(lines)


def show(directory, tag_set=None, signature_def=None, show_all=False):
    """The text `saved_model_cli show` prints for these options."""
    document, _ = api.read_document(directory)
    tags = ", ".join(document.get("tags", [api.SERVING]))
    signatures = document.get("signatures", {})
    if show_all:
        parts = [f"MetaGraphDef with tag-set: '{tags}' contains the following SignatureDefs:"]
        for key in sorted(signatures):
            parts.append(f"\nsignature_def['{key}']:\n" + "\n".join(
                "  " + line for line in signature_text(key, signatures[key]).splitlines()))
        parts.append("\n" + functions_text(document))
        return "\n".join(parts)
    if tag_set is None:
        return f"The given SavedModel contains the following tag-sets:\n'{tags}'"
    if set(tag_set.split(",")) != set(document.get("tags", [])):
        raise ValueError(f"show: the SavedModel has no tag-set '{tag_set}'; available: "
                         f"'{tags}'")
    if signature_def is None:
        keys = "\n".join(f'SignatureDef key: "{key}"' for key in sorted(signatures))
        return (f"The given SavedModel MetaGraphDef contains SignatureDefs with the following "
                f"keys:\n{keys}")
    if signature_def not in signatures:
        raise ValueError(f"show: no signature '{signature_def}' in the SavedModel; available: "
                         f"{sorted(signatures)}")
    return signature_text(signature_def, signatures[signature_def])


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m ndflow.saved_model",
                                     description="Inspect an ndflow SavedModel directory.")
    commands = parser.add_subparsers(dest="command", required=True)
    show_parser = commands.add_parser("show", help="show tag-sets, signatures and functions")
    show_parser.add_argument("--dir", required=True, help="the SavedModel directory")
    show_parser.add_argument("--tag_set", help="comma-separated tags, e.g. serve")
    show_parser.add_argument("--signature_def", help="a signature key, e.g. serving_default")
    show_parser.add_argument("--all", action="store_true", help="show everything")
    args = parser.parse_args(argv)
    try:
        text = show(args.dir, args.tag_set, args.signature_def, args.all)
    except (OSError, ValueError, codec.FormatError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
