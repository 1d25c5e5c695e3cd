"""`tf.saved_model.save` / `load`: Modules and Keras models with their traced functions.

A SavedModel directory (docs/formats.md) holds `saved_model.json` (format name and version,
the object tree, the traced graphs op by op, the signatures), `constants.npz` (the graphs'
arrays), `variables/variables.index` + `.data-00000-of-00001` (an ndflow checkpoint of the
variables, keyed by their object paths) and `assets/`. Loading rebuilds each graph from
ndflow's op registry, recreates the variables, and returns an object whose attributes are the
saved functions, sub-objects and variables, with `.signatures` for serving: the original Python
classes are not needed. The directory is written under a temporary name and renamed into place,
so an interrupted save never damages an existing model.
"""

import inspect
import json
import os
import re
import shutil

import numpy as np

from ndflow.framework import errors
from ndflow.framework.tensor import Tensor
from ndflow.framework.tensor_spec import TensorSpec
from ndflow.saved_model import codec
from ndflow.train import checkpoint as checkpoint_lib
from ndflow.util import nest
from ndflow.variables import Variable

FORMAT_NAME = "ndflow-saved-model"
FORMAT_VERSION = 1
SAVED_MODEL_FILENAME = "saved_model.json"
CONSTANTS_FILENAME = "constants.npz"
VARIABLES_DIRECTORY = "variables"
VARIABLES_PREFIX = os.path.join(VARIABLES_DIRECTORY, "variables")
ASSETS_DIRECTORY = "assets"
SERVING = "serve"
DEFAULT_SERVING_SIGNATURE_DEF_KEY = "serving_default"


class SaveOptions:
    """Options for `save` (`tf.saved_model.SaveOptions`); accepted for compatibility."""

    def __init__(self, namespace_whitelist=None, save_debug_info=False, function_aliases=None,
                 experimental_io_device=None, experimental_variable_policy=None,
                 experimental_custom_gradients=True, experimental_image_format=False,
                 experimental_skip_saver=False, experimental_sharding_callback=None):
        self.function_aliases = function_aliases
        self.save_debug_info = save_debug_info


class LoadOptions:
    """Options for `load` (`tf.saved_model.LoadOptions`); accepted for compatibility."""

    def __init__(self, allow_partial_checkpoint=False, experimental_io_device=None,
                 experimental_skip_checkpoint=False, experimental_variable_policy=None,
                 experimental_load_function_aliases=False):
        self.experimental_skip_checkpoint = experimental_skip_checkpoint


# --- saving ---------------------------------------------------------------------------------


def _function_class():
    from ndflow.function.polymorphic import Function

    return Function


def _concrete_class():
    from ndflow.function.concrete import ConcreteFunction

    return ConcreteFunction


def _is_keras_object(obj):
    layer = checkpoint_lib._loaded_class("ndflow.keras.engine.base_layer", "Layer")
    return layer is not None and isinstance(obj, layer)


def _functions_of(obj):
    """{attribute: (Function, [ConcreteFunction])} for the traced tf.functions of `obj` (on
    Keras objects only those of user classes; an untraced function with an input_signature is
    traced now)."""
    function_class = _function_class()
    keras = _is_keras_object(obj)
    names = set()
    for cls in type(obj).__mro__:
        if keras and cls.__module__.startswith("ndflow."):
            continue
        names.update(n for n, v in vars(cls).items() if isinstance(v, function_class))
    if not keras:
        names.update(n for n, v in vars(obj).items() if isinstance(v, function_class))
    found = {}
    for name in sorted(names):
        bound = getattr(obj, name)
        concretes = list(bound._concretes)
        if not concretes and bound._input_signature is not None:
            concretes = [bound.get_concrete_function()]
        if concretes:
            found[name] = (bound, concretes)
    return found


def _key_structure(key, counter):
    """The JSON call structure of a traced function from its retracing key."""
    tag = key[0]
    if tag == "T":
        counter.append(None)
        return {"tensor": len(counter) - 1}
    if tag == "D":
        return {"dict": [[k, _key_structure(v, counter)] for k, v in key[1]]}
    if tag in (list, tuple) or isinstance(tag, type) and issubclass(tag, (list, tuple)):
        kind = "list" if issubclass(tag, list) else "tuple"
        return {kind: [_key_structure(v, counter) for v in key[1]]}
    if tag == "P" and (key[2] is None or isinstance(key[2], (bool, int, float, str))):
        return {"value": key[2]}
    raise ValueError(f"saved_model: a traced function takes an argument that cannot be saved "
                     f"({key!r}): only tensors and Python numbers, strings and None can be")


def _call_structure(function, concrete):
    """{"args": ..., "kwargs": ...}: how a call's arguments map to the graph's inputs."""
    if concrete._structure_key is None:
        signature = function._signature_structure if function is not None else None
        counter = []
        if signature is None:
            args = {"list": [_key_structure(("T",), counter) for _ in concrete.inputs]}
        else:
            leaf = _spec_leaf(counter)
            args = codec.encode_structure(list(signature), leaf)
        return {"args": args, "kwargs": {"dict": []}}
    counter = []
    args_key, kwargs_key = concrete._structure_key
    args = _key_structure(args_key, counter)
    args = {"list": args.get("tuple", args.get("list", []))}
    return {"args": args, "kwargs": _key_structure(kwargs_key, counter)}


def _spec_leaf(counter):
    def leaf(value):
        if isinstance(value, TensorSpec):
            counter.append(None)
            return {"tensor": len(counter) - 1}
        return None

    return leaf


def _argument_names(function, concrete, call):
    """A name per graph input: the TensorSpec name, else the Python parameter name."""
    names = [None] * len(concrete.inputs)
    parameters = []
    if function is not None:
        try:
            parameters = [p for p in inspect.signature(function.python_function).parameters
                          .values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        except (TypeError, ValueError):
            parameters = []
    for position, item in enumerate(call["args"].get("list", [])):
        if "tensor" in item and position < len(parameters):
            names[item["tensor"]] = parameters[position].name
    for key, item in call["kwargs"].get("dict", []):
        if "tensor" in item:
            names[item["tensor"]] = str(key)
    result, used = [], set()
    for index, (name, placeholder) in enumerate(zip(names, concrete.inputs)):
        op_name = placeholder.op.name
        spec_name = None if re.fullmatch(r"input(_\d+)?", op_name) else op_name
        chosen = spec_name or name or op_name
        while chosen in used:
            chosen = f"{chosen}_{index}"
        used.add(chosen)
        result.append(chosen)
    return result


def _output_names(structured):
    """(name, flat tensor index) pairs for a signature's outputs: dict keys, else output_i."""
    flat = [v for v in nest.flatten(structured) if isinstance(v, Tensor)]
    if isinstance(structured, dict) and all(isinstance(k, str) for k in structured):
        names = []
        for key in sorted(structured):
            if isinstance(structured[key], Tensor):
                names.append(key)
        if len(names) == len(flat):
            return list(zip(names, range(len(flat))))
    return [(f"output_{i}", i) for i in range(len(flat))]


def _tensor_spec_json(name, tensor):
    return {"name": name, "dtype": tensor.dtype.name, "shape": codec._shape_json(tensor.shape)}


class _Saver:
    """Collects objects, variables and functions, then writes the directory."""

    def __init__(self, root):
        self.graph = checkpoint_lib._ObjectGraph(root)
        self.variables = []
        self._variable_ids = {}
        self.keys = []
        for path, variable in self.graph.variables.items():
            self._add_variable(variable, path)
        self.encoder = codec.GraphEncoder(self._variable_index)
        self.functions = []
        self._function_ids = {}

    def _add_variable(self, variable, path):
        self._variable_ids[id(variable)] = len(self.variables)
        self.variables.append(variable)
        self.keys.append(path)
        return len(self.variables) - 1

    def _variable_index(self, variable):
        index = self._variable_ids.get(id(variable))
        if index is None:
            index = self._add_variable(variable, f"_untracked/{len(self.variables)}")
        return index

    def concrete(self, concrete, function=None):
        """The index of a traced function in `concrete_functions`, encoding it once."""
        if id(concrete) in self._function_ids:
            return self._function_ids[id(concrete)]
        call = _call_structure(function, concrete)
        outputs = list(concrete._tensor_outputs)
        position = iter(range(len(outputs)))

        def leaf(value):
            return {"tensor": next(position)} if isinstance(value, Tensor) else None

        record = {
            "name": concrete.name,
            "graph": self.encoder.graph(concrete.graph, concrete.inputs, outputs),
            "call": call,
            "input_names": _argument_names(function, concrete, call),
            "outputs": codec.encode_structure(concrete.structured_outputs, leaf),
        }
        self._function_ids[id(concrete)] = len(self.functions)
        self.functions.append(record)
        return len(self.functions) - 1

    def objects(self, extra_root_functions):
        ids = {id(obj): i for i, obj in enumerate(self.graph.nodes.values())}
        records = []
        for path, obj in self.graph.nodes.items():
            record = {"class": type(obj).__name__, "children": {}, "variables": {},
                      "functions": {}}
            for name, child in checkpoint_lib._children(obj):
                if checkpoint_lib._is_variable(child):
                    record["variables"][name] = self._variable_ids[id(child)]
                elif id(child) in ids:
                    record["children"][name] = ids[id(child)]
            functions = _functions_of(obj)
            if path == "":
                functions.update(extra_root_functions)
            for name, (function, concretes) in functions.items():
                record["functions"][name] = [self.concrete(c, function) for c in concretes]
            records.append(record)
        return records

    def signature(self, concrete, function=None):
        index = self.concrete(concrete, function)
        record = self.functions[index]
        outputs = [t for t in nest.flatten(concrete.structured_outputs) if isinstance(t, Tensor)]
        for value in nest.flatten(concrete.structured_outputs):
            if value is not None and not isinstance(value, Tensor):
                raise ValueError(f"saved_model: signature function {concrete.name} must return "
                                 f"tensors (or a dict of tensors), got {value!r}")
        names = record["input_names"]
        return {
            "function": index,
            "inputs": [_tensor_spec_json(n, t) for n, t in zip(names, concrete.inputs)],
            "outputs": [dict(_tensor_spec_json(name, outputs[i]), index=i)
                        for name, i in _output_names(concrete.structured_outputs)],
        }


def _signature_concrete(key, value):
    if isinstance(value, _concrete_class()):
        return value, None
    if isinstance(value, _function_class()):
        if value._input_signature is not None:
            return value.get_concrete_function(), value
        if len(value._concretes) == 1:
            return value._concretes[0], value
        raise ValueError(
            f"saved_model: signature '{key}' is a tf.function without an input_signature "
            f"(traced {len(value._concretes)} times); pass "
            f"fn.get_concrete_function(tf.TensorSpec(...)) or give it an input_signature")
    raise ValueError(f"saved_model: signature '{key}' must be a tf.function or a "
                     f"ConcreteFunction, got {value!r}")


def _normalize_signatures(signatures, root_functions):
    if signatures is None:
        with_signature = [(f, c) for f, c in root_functions.values()
                          if f._input_signature is not None]
        if len(with_signature) == 1:
            function, concretes = with_signature[0]
            return {DEFAULT_SERVING_SIGNATURE_DEF_KEY: (concretes[0], function)}
        return {}
    if not isinstance(signatures, dict):
        signatures = {DEFAULT_SERVING_SIGNATURE_DEF_KEY: signatures}
    return {str(k): _signature_concrete(k, v) for k, v in signatures.items()}


def _write_directory(export_dir, write):
    """Writes into `<dir>.ndflow-tmp`, then swaps it in for `export_dir` (the old copy is
    kept as `<dir>.ndflow-old` until the new one is in place)."""
    export_dir = os.path.abspath(os.fspath(export_dir))
    temporary, previous = export_dir + ".ndflow-tmp", export_dir + ".ndflow-old"
    shutil.rmtree(temporary, ignore_errors=True)
    os.makedirs(temporary)
    write(temporary)
    checkpoint_lib._fsync_dir(temporary)
    if os.path.isdir(export_dir):
        shutil.rmtree(previous, ignore_errors=True)
        os.rename(export_dir, previous)
    os.rename(temporary, export_dir)
    checkpoint_lib._fsync_dir(os.path.dirname(export_dir))
    shutil.rmtree(previous, ignore_errors=True)


def _save(obj, export_dir, signatures, extra_root_functions=None):
    saver = _Saver(obj)
    root_functions = dict(_functions_of(obj))
    root_functions.update(extra_root_functions or {})
    normalized = _normalize_signatures(signatures, root_functions)
    objects = saver.objects(extra_root_functions or {})
    signature_records = {key: saver.signature(concrete, function)
                         for key, (concrete, function) in normalized.items()}
    document = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "tags": [SERVING],
        "objects": objects,
        "variables": [{"key": key, "name": v.name.split(":")[0], "dtype": v.dtype.name,
                       "shape": codec._shape_json(v.shape), "trainable": bool(v.trainable)}
                      for key, v in zip(saver.keys, saver.variables)],
        "concrete_functions": saver.functions,
        "signatures": signature_records,
    }
    values = {f"{key}{checkpoint_lib.VALUE_SUFFIX}": (v.numpy(), v.dtype)
              for key, v in zip(saver.keys, saver.variables)}

    def write(directory):
        checkpoint_lib.write_bundle(os.path.join(directory, VARIABLES_PREFIX), values)
        os.makedirs(os.path.join(directory, ASSETS_DIRECTORY), exist_ok=True)
        with open(os.path.join(directory, CONSTANTS_FILENAME), "wb") as handle:
            np.savez(handle, **saver.encoder.constants)
        checkpoint_lib._fsync_write(os.path.join(directory, SAVED_MODEL_FILENAME),
                                    json.dumps(document, indent=1).encode("utf-8"))

    _write_directory(export_dir, write)


def save(obj, export_dir, signatures=None, options=None):
    """Saves a `tf.Module` or Keras model with its traced tf.functions (`tf.saved_model.save`).

    Args:
      obj: the object to save; its variables, sub-objects and traced tf.functions are saved.
      export_dir: the directory to write (replaced atomically if it exists).
      signatures: a tf.function with an input_signature, a ConcreteFunction, or a dict of
        them by signature key; by default a Keras model's call, or a Module's only tf.function
        with an input_signature, becomes "serving_default".
      options: a `SaveOptions` (accepted for compatibility).

    Raises:
      ValueError: if a function holds something that cannot be saved (a `py_function`) or a
        signature function has no traced signature.
    """
    if _is_keras_object(obj) and hasattr(obj, "inputs"):
        return _save_keras(obj, export_dir, signatures)
    return _save(obj, export_dir, signatures)


def _keras_input_signature(model):
    inputs = list(getattr(model, "inputs", None) or [])
    if not inputs:
        raise ValueError(
            f"export_keras_model: model '{model.name}' has no known inputs (a subclassed or "
            f"unbuilt model); call it on data first or pass "
            f"input_signature=[tf.TensorSpec(shape, dtype)]")
    specs = []
    for tensor in inputs:
        layer = tensor._keras_history[0] if getattr(tensor, "_keras_history", None) else None
        shape = [None] + list(tensor.shape.as_list()[1:])
        specs.append(TensorSpec(shape, tensor.dtype, getattr(layer, "name", None)))
    structure = getattr(model, "_input_structure", None)
    if structure is not None and nest.is_nested(structure):
        return [nest.pack_sequence_as(structure, specs)]
    return specs


def _keras_serving_function(model, input_signature):
    from ndflow.function.polymorphic import function

    if input_signature is None:
        input_signature = _keras_input_signature(model)

    def serve(*inputs):
        return model(inputs[0] if len(inputs) == 1 else list(inputs), training=False)

    serve.__name__ = "serve"
    traced = function(serve, input_signature=list(input_signature))
    return traced, traced.get_concrete_function()


def _save_keras(model, export_dir, signatures=None, input_signature=None):
    traced, concrete = _keras_serving_function(model, input_signature)
    if signatures is None:
        signatures = {DEFAULT_SERVING_SIGNATURE_DEF_KEY: concrete, SERVING: concrete}
    functions = {"serve": (traced, [concrete]), "__call__": (traced, [concrete])}
    _save(model, export_dir, signatures, functions)


def export_keras_model(model, filepath, input_signature=None, verbose=True, **kwargs):
    """Writes a Keras model's inference function (`call(x, training=False)`) as a SavedModel
    with the `serve` endpoint and the "serve"/"serving_default" signatures (`Model.export`)."""
    _save_keras(model, filepath, None, input_signature)
    if verbose:
        print(f"Saved artifact at '{filepath}'. The following endpoints are available:\n\n"
              f"* Endpoint 'serve'")


# --- loading --------------------------------------------------------------------------------


def _resolve_directory(export_dir):
    """The directory holding the model: `export_dir`, or the previous copy kept while an
    interrupted save was swapping directories."""
    export_dir = os.path.abspath(os.fspath(export_dir))
    if os.path.isfile(os.path.join(export_dir, SAVED_MODEL_FILENAME)):
        return export_dir
    previous = export_dir + ".ndflow-old"
    if os.path.isfile(os.path.join(previous, SAVED_MODEL_FILENAME)):
        return previous
    return None


def contains_saved_model(export_dir):
    """Whether `export_dir` holds an ndflow SavedModel."""
    return _resolve_directory(export_dir) is not None


def read_document(export_dir):
    """The parsed and checked `saved_model.json` of a SavedModel directory, and its path."""
    directory = _resolve_directory(export_dir)
    if directory is None:
        raise OSError(f"SavedModel file does not exist at: {os.fspath(export_dir)}/"
                      f"{{{SAVED_MODEL_FILENAME}}}")
    path = os.path.join(directory, SAVED_MODEL_FILENAME)
    try:
        with open(path, "rb") as handle:
            document = json.loads(handle.read().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise codec.FormatError(f"saved_model: {path} is not valid JSON ({error})") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT_NAME:
        raise codec.FormatError(f"saved_model: {path} is not an ndflow SavedModel (format "
                                f"{FORMAT_NAME!r} expected)")
    if not isinstance(document.get("version"), int) or document["version"] > FORMAT_VERSION:
        raise codec.FormatError(f"saved_model: {path} has format version "
                                f"{document.get('version')!r}; this ndflow reads versions up to "
                                f"{FORMAT_VERSION}")
    return document, directory


def _load_constants(directory):
    path = os.path.join(directory, CONSTANTS_FILENAME)
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except ValueError as error:
        raise codec.FormatError(f"saved_model: {path} cannot be read safely ({error}); "
                                f"ndflow never loads pickled data") from None
    except OSError as error:
        raise codec.FormatError(f"saved_model: cannot read {path}: {error}") from None


def _load_variables(directory, records, skip_values=False):
    reader = checkpoint_lib.CheckpointReader(os.path.join(directory, VARIABLES_PREFIX))
    keys = [f"{r['key']}{checkpoint_lib.VALUE_SUFFIX}" for r in records]
    missing = [k for k in keys if not reader.has_tensor(k)]
    if missing:
        raise codec.FormatError(f"saved_model: the variables checkpoint lacks {missing[:5]}")
    values = reader.values(keys)
    variables = []
    for record, key in zip(records, keys):
        shape = codec._shape(record["shape"])
        variables.append(Variable(values[key], trainable=bool(record.get("trainable", True)),
                                  name=str(record.get("name", "Variable")),
                                  dtype=codec._dtype(record["dtype"]), shape=shape))
    return variables


def load(export_dir, tags=None, options=None):
    """Loads a SavedModel written by `save` (`tf.saved_model.load`).

    Returns an object with the saved tf.functions as methods (called like the originals),
    the saved sub-objects and variables as attributes, `.variables`,
    `.trainable_variables`, and `.signatures` (called with keyword arguments, returning a
    dict of tensors). Nothing stored in the directory is executed: graphs are rebuilt only
    from ops in ndflow's registry.

    Raises:
      OSError: if `export_dir` holds no SavedModel.
      ValueError: (`codec.FormatError`) if a file is malformed, uses an unknown op type or
        holds pickled data.
    """
    from ndflow.saved_model import loaded

    document, directory = read_document(export_dir)
    if tags is not None:
        wanted = {tags} if isinstance(tags, str) else set(tags)
        if not wanted <= set(document.get("tags", [])):
            raise RuntimeError(f"MetaGraphDef associated with tags {sorted(wanted)} could not "
                               f"be found in SavedModel, with available tags "
                               f"'{document.get('tags')}'")
    constants = _load_constants(directory)
    try:
        variables = _load_variables(directory, document.get("variables", []))
        return loaded.build(document, constants, variables)
    except (KeyError, TypeError, IndexError) as error:
        raise codec.FormatError(f"saved_model: malformed {SAVED_MODEL_FILENAME} in "
                                f"{directory}: {type(error).__name__}: {error}") from None
    except errors.NotFoundError as error:
        raise codec.FormatError(f"saved_model: {error}") from None
