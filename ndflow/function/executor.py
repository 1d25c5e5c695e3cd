"""The compiled executor: runs a graph as a flat, pre-resolved plan of kernel calls.

A `Plan` is built once per (graph, fed tensors, fetched tensors): it keeps the ops that are
needed (and, for tf.function, every stateful op, in program order), gives every tensor a slot
in a list, pre-loads constants, and records after which step each slot is dead so its buffer is
released as soon as its last consumer has run. Running it is one loop with no dictionary lookups
or dispatch per node.
"""

from time import perf_counter as _perf_counter

from ndflow.framework import errors, parallel
from ndflow.framework.device import array_namespace
from ndflow.framework.graph import Operation, SymbolicTensor
from ndflow.framework.memory import keep_freed_memory
from ndflow.framework.op_registry import kernel_error

_XP = array_namespace()


class Step:
    """One kernel call of a plan."""

    __slots__ = ("kernel", "inputs", "attrs", "outputs", "single", "op")

    def __init__(self, kernel, inputs, attrs, outputs, single, op):
        self.kernel = kernel
        self.inputs = inputs
        self.attrs = attrs
        self.outputs = outputs
        self.single = single
        self.op = op


def needed_operations(graph, fetch_ops, feed_tensors=(), keep_stateful=False):
    """The ops that must run to compute `fetch_ops` (and every stateful op if asked), in
    creation order, which is a valid execution order and keeps stateful ops in program order."""
    fed = {id(t) for t in feed_tensors}
    needed = set()
    stack = list(fetch_ops)
    if keep_stateful:
        stack += [op for op in graph._operations if op.opdef.side_effects]
    while stack:
        op = stack.pop()
        if id(op) in needed:
            continue
        needed.add(id(op))
        for tensor in op.inputs:
            if id(tensor) not in fed:
                stack.append(tensor.op)
        stack.extend(op.control_inputs)
    return [op for op in graph._operations if id(op) in needed]


class Plan:
    """A graph compiled for one set of fed inputs and fetched outputs."""

    def __init__(self, graph, inputs, outputs, keep_stateful=True, targets=()):
        keep_freed_memory()  # steady-state steps reuse freed blocks instead of new pages
        self.graph = graph
        self.inputs = list(inputs)
        self.outputs = list(outputs)
        fetch_ops = [t.op for t in self.outputs if isinstance(t, SymbolicTensor)]
        fetch_ops += [op for op in targets if isinstance(op, Operation)]
        operations = needed_operations(graph, fetch_ops, self.inputs, keep_stateful)
        slot_of = {}
        initial = []

        def slot(tensor):
            key = id(tensor)
            if key not in slot_of:
                slot_of[key] = len(initial)
                initial.append(None)
            return slot_of[key]

        self.input_slots = [slot(t) for t in self.inputs]
        fed = set(self.input_slots)
        steps = []
        for op in operations:
            if op.type == "Const":
                initial[slot(op.outputs[0])] = op.attrs["value"]
                continue
            out_slots = [slot(t) for t in op.outputs]
            if op.type == "Placeholder":
                if out_slots[0] not in fed:
                    raise errors.InvalidArgumentError(
                        f"You must feed a value for placeholder tensor '{op.name}' with dtype "
                        f"{op.outputs[0].dtype.name} and shape {op.outputs[0].shape} (created "
                        f"at {op.where()})")
                continue
            in_slots = tuple(slot(t) for t in op.inputs)
            single = op.opdef.num_outputs == 1
            steps.append(Step(op.opdef.kernel, in_slots, op.attrs, tuple(out_slots), single, op))
        self.output_slots = [slot(t) if isinstance(t, SymbolicTensor) else None
                             for t in self.outputs]
        self.initial = initial
        self.steps = steps
        self._fed = fed
        self._schedule_frees()
        self._reuse_buffers(operations)
        # Plans with large products time BLAS's threads against ndflow's (framework/parallel.py)
        self._tuner = parallel.Tuner() if any(
            parallel.worth_splitting(step.op) for step in steps) else None

    def _schedule_frees(self):
        """After each step, the slots whose last reader has run (never outputs or constants)."""
        keep = set(s for s in self.output_slots if s is not None)
        keep.update(i for i, value in enumerate(self.initial) if value is not None)
        last_use = {}
        for index, step in enumerate(self.steps):
            for s in step.inputs:
                last_use[s] = index
        frees = [[] for _ in self.steps]
        for s, index in last_use.items():
            if s not in keep:
                frees[index].append(s)
        self.frees = [tuple(f) for f in frees]
        self._last_use = last_use
        self._keep = keep

    def _reuse_buffers(self, operations):
        """Element-wise steps write into the buffer of an input that dies at that step, instead
        of allocating a new array: safe when that input was freshly computed by an element-wise
        op (so no variable, constant, fed array or view shares its memory), has no other
        reader, and has the output's shape and dtype."""
        readers = {}
        for op in operations:
            for tensor in op.inputs:
                readers[id(tensor)] = readers.get(id(tensor), 0) + 1
        for index, step in enumerate(self.steps):
            op = step.op
            ufunc = op.opdef.ufunc
            into = op.opdef.kernel_into
            out = op.outputs[0] if step.single else None
            if (ufunc is None and into is None) or out is None \
                    or not out.shape.is_fully_defined():
                continue
            if out.shape.num_elements() < _IN_PLACE_MIN:
                continue  # allocating a small array costs less than the in-place bookkeeping
            positions = range(len(op.inputs)) if ufunc is not None else (0,)
            for position in positions:
                tensor, s = op.inputs[position], step.inputs[position]
                producer = tensor.op
                if (self._last_use.get(s) == index and s not in self._keep
                        and s not in self._fed and readers.get(id(tensor)) == 1
                        and (producer.opdef.fresh_output or producer.type == "FusedElementwise")
                        and tensor.dtype is out.dtype and tensor.shape == out.shape):
                    step.kernel = _in_place(ufunc, position) if ufunc is not None else into
                    break


    def _program(self):
        """The steps as one generated Python function, straight-line code with a local
        variable per slot: `v7 = k3(xp, v2, c5, **a3)` then `v2 = None` where v2 dies. No loop,
        no list of slots, no per-step unpacking or branching: about half the Python time per
        op of the interpreted loop (`_interpret`), which very large plans still use."""
        if len(self.steps) > _GENERATED_MAX_STEPS:
            self._compiled = self._interpret
            return self._interpret
        constants = {s for s, value in enumerate(self.initial) if value is not None}
        namespace = {}

        def name(s):
            if s in constants:
                namespace[f"c{s}"] = self.initial[s]
                return f"c{s}"
            return f"v{s}"

        lines = ["def run(arrays, xp):"]
        if self.input_slots:
            lines.append(f"    {', '.join(f'v{s}' for s in self.input_slots)}, = arrays")
        self._step_at_line = {}  # a failing call's line number -> its step (`_failed_step`)
        for index, (step, free) in enumerate(zip(self.steps, self.frees)):
            namespace[f"k{index}"] = step.kernel
            args = ", ".join(["xp"] + [name(s) for s in step.inputs])
            if step.attrs:
                namespace[f"a{index}"] = step.attrs
                args += f", **a{index}"
            self._step_at_line[len(lines) + 1] = index
            if step.single:
                lines.append(f"    v{step.outputs[0]} = k{index}({args})")
            elif not step.outputs:
                lines.append(f"    k{index}({args})")
            else:
                lines.append(f"    r = k{index}({args})")
                lines.extend(f"    v{s} = r[{k}]" for k, s in enumerate(step.outputs))
            lines.extend(f"    v{s} = None" for s in free)
        outputs = ", ".join("None" if s is None else name(s) for s in self.output_slots)
        lines.append(f"    return [{outputs}]")
        exec(compile("\n".join(lines), _GENERATED_FILE, "exec"), namespace)  # noqa: S102
        self._compiled = namespace["run"]
        return self._compiled

    def _interpret(self, arrays, xp):
        """The plan as a loop over its steps (very large plans; same results)."""
        values = list(self.initial)
        for s, array in zip(self.input_slots, arrays):
            values[s] = array
        for i, step in enumerate(self.steps):
            attrs = step.attrs
            if attrs:
                result = step.kernel(xp, *[values[s] for s in step.inputs], **attrs)
            else:
                result = step.kernel(xp, *[values[s] for s in step.inputs])
            if step.single:
                values[step.outputs[0]] = result
            else:
                for s, array in zip(step.outputs, result):
                    values[s] = array
            for s in self.frees[i]:
                values[s] = None
        return [values[s] if s is not None else None for s in self.output_slots]

    def run(self, arrays):
        """Runs the plan on input arrays; returns the output arrays."""
        xp = _XP
        program = getattr(self, "_compiled", None) or self._program()
        # One errstate for the whole plan: kernels yield inf/nan silently, as TF's do.
        errstate = xp.errstate(all="ignore")
        errstate.__enter__()
        tuner = self._tuner
        owned = counted = None
        if tuner is not None and tuner.usable():
            own, counted = tuner.choose()
            if own:
                owned = parallel.blas_owned()
                owned.__enter__()
            started = _perf_counter()
        try:
            outputs = program(arrays, xp)
        except Exception as error:  # noqa: BLE001 - reported as TF does, with the op and line
            step, args = self._failed_step(error)
            reported = kernel_error(step.op.opdef, args, step.attrs, error)
            raise type(reported)(None, step.op, _located(step.op, reported.message)) from error
        finally:
            if owned is not None:
                owned.__exit__(None, None, None)
            errstate.__exit__(None, None, None)
        if counted:
            tuner.record(owned is not None, _perf_counter() - started)
        return outputs

    def _failed_step(self, error):
        """The step that raised and its input arrays, from the failing frame: the generated
        function's line number names the step and its locals `v<slot>` hold the inputs; the
        interpreted loop keeps `i` and `values`."""
        traceback = error.__traceback__
        while traceback is not None:
            frame = traceback.tb_frame
            if frame.f_code.co_filename == _GENERATED_FILE:
                step = self.steps[self._step_at_line[traceback.tb_lineno]]
                local = frame.f_locals
                return step, [self.initial[s] if self.initial[s] is not None else
                              local.get(f"v{s}") for s in step.inputs]
            if frame.f_code is Plan._interpret.__code__:
                step = self.steps[frame.f_locals["i"]]
                return step, [frame.f_locals["values"][s] for s in step.inputs]
            traceback = traceback.tb_next
        raise error  # not raised by a step (cannot happen: the plan's code only calls kernels)


_GENERATED_FILE = "<ndflow plan>"
_GENERATED_MAX_STEPS = 20000  # above: the interpreted loop (compiling the code costs more)


def _located(op, message):
    inputs = ", ".join(f"{t.name} {t.shape}" for t in op.inputs)
    return (f"{message}\n  in op '{op.name}' ({op.type}) with inputs [{inputs}], created at "
            f"{op.where()}")


_IN_PLACE_MIN = 4096  # elements


def _in_place(ufunc, position):
    function = getattr(_XP, ufunc)

    def kernel(xp, *arrays):
        return function(*arrays, out=arrays[position])

    return kernel
