"""GEMMs split across threads by ndflow itself, so a busy core slows a step down instead of
stalling it.

NumPy's threaded BLAS (OpenBLAS) splits each product statically between its threads and then
waits for all of them. When another process holds one of the two cores, the waiting thread
spins until the descheduled one gets its time slice back: measured here, a seed-CNN training
step went from 25 ms to 100-300 ms with one other busy process, while TensorFlow (whose thread
pool lets the calling thread take over queued work) lost about a third.

So a graph plan with large products (`worth_splitting`) has a `Tuner`: it runs BLAS's own threads
as configured (faster on an idle machine: measured 10-40% on the training workloads) and, when
those runs look contended, times a block of runs in ndflow's own mode (`blas_owned`): BLAS set to
one thread for the run, each product of 20 MFLOP or more split into row (or column) blocks that
the calling thread and the worker threads take from a shared counter, so when a worker is not
scheduled the caller simply does its blocks (no thread waits for one that has not started). The
faster mode is kept and re-checked now and then. Kernels with other parallel work (fused conv
chunks, conv gradients, large Adam updates) use the same threads through `run_blocks` in that
mode. Measured with one other busy process: ~40 ms per seed-CNN step in ndflow's mode against
~100 ms in BLAS's.

The number of threads is the one the BLAS library is configured with, so `OPENBLAS_NUM_THREADS`
(or `MKL_NUM_THREADS`, ...) keeps deciding how many cores ndflow uses, and the library's setting
is restored when the run ends. This needs the `threadpoolctl` package (ndflow's `fast` extra,
also installed with scikit-learn); without it, or with `NDFLOW_BLAS_THREADS=blas`, BLAS runs
every product with its own threads. Eager ops always leave BLAS threading alone.
"""

import itertools
import os
import threading

_MIN_FLOPS = 20_000_000  # smaller products: one BLAS call (a split costs ~50-100 us)
_BLOCKS_PER_THREAD = 2  # a stalled worker holds at most a small block

_state = {"checked": False, "libraries": (), "pool": None}
_local = threading.local()
_active = [0]  # blas_owned contexts open in any thread: 0 keeps `matmul` to one check


def _blas_libraries():
    """threadpoolctl's controllers of the loaded BLAS libraries, found once."""
    if _state["checked"]:
        return _state["libraries"]
    _state["checked"] = True
    if os.environ.get("NDFLOW_BLAS_THREADS", "").strip().lower() == "blas":
        return ()
    try:
        from threadpoolctl import ThreadpoolController  # noqa: PLC0415 - optional, lazy

        libraries = tuple(ThreadpoolController().select(user_api="blas").lib_controllers)
        for library in libraries:
            library.get_num_threads()
    except Exception:  # noqa: BLE001 - not installed, or an unusual BLAS build: leave it alone
        return ()
    _state["libraries"] = libraries
    return libraries


class blas_owned:  # noqa: N801 - used as a context manager, like a function
    """While active (re-entrant, per thread), BLAS runs one thread and `matmul` splits large
    products across as many of ndflow's own threads as BLAS was configured to use."""

    __slots__ = ("_restore",)

    def __enter__(self):
        self._restore = None
        depth = getattr(_local, "depth", 0)
        _local.depth = depth + 1
        if depth:
            return self
        restore = []
        count = 1
        for library in _state["libraries"] if _state["checked"] else _blas_libraries():
            configured = library.get_num_threads() or 1
            if configured > 1:
                restore.append((library, configured))
                library.set_num_threads(1)
                count = max(count, configured)
        _local.threads = count
        self._restore = restore
        _active[0] += 1
        return self

    def __exit__(self, *exc):
        _local.depth -= 1
        if self._restore is not None:
            _local.threads = 1
            _active[0] -= 1
            for library, configured in self._restore:
                library.set_num_threads(configured)
        return False


class Tuner:
    """Chooses, per plan, between BLAS's own threads (the default) and ndflow's split products
    by timing whole runs of the plan.

    On an idle machine BLAS's threads were faster on every training workload measured here
    (whole processes forced into one mode: seed-CNN step 10-15%, LSTM ~15%, MLP 25-40%), so the
    tuner stays with them and tries ndflow's mode only when BLAS's runs look contended: the
    median of its last counted runs above `_CONTENDED` times its fastest run of the last
    `_HISTORY` (another busy process on the second core made steps 4x slower). A trial is a
    block of runs in ndflow's mode whose first runs are not counted (BLAS's idle threads keep
    spinning for a while after a switch); the faster mode is kept. While ndflow's mode is kept,
    a block of BLAS runs every `_RECHECK` runs notices when the load has gone; trials of
    ndflow's mode are at least `_RECHECK` runs apart."""

    __slots__ = ("runs", "samples", "best", "block_mode", "block_left", "last_trial",
                 "continued", "history")

    _WARMUP = 3
    _BLOCK = 6
    _COUNTED = 4  # the last runs of a block that follows a switch
    _RECHECK = 60
    _CONTENDED = 1.3
    _HISTORY = 60

    def __init__(self):
        self.runs = 0
        self.samples = {False: [], True: []}
        self.best = False
        self.block_mode = None
        self.block_left = 0
        self.last_trial = -self._RECHECK
        self.continued = False  # this block runs in the same mode as the one before
        self.history = []  # recent BLAS-mode times

    def usable(self):
        return bool(_state["libraries"] if _state["checked"] else _blas_libraries())

    def choose(self):
        """(own threads?, count this run?) for the next run."""
        self.runs += 1
        if self.runs <= self._WARMUP:
            return False, False
        if self.block_left == 0:
            self._next_block()
        self.block_left -= 1
        return self.block_mode, self.continued or self.block_left < self._COUNTED

    def _next_block(self):
        previous = self.block_mode
        if previous is not None and previous != self.best:
            self._decide()  # a trial block has ended
        if self.runs - self.last_trial < self._RECHECK:
            mode = self.best
        elif self.best or self._contended():
            mode = not self.best  # recheck BLAS, or try ndflow's threads under contention
            self.last_trial = self.runs
        else:
            mode = self.best
        self.continued = mode == previous
        self.block_mode = mode
        self.block_left = self._BLOCK

    def _contended(self):
        recent = self.samples[False]
        if len(recent) < self._COUNTED or len(self.history) < 2 * self._COUNTED:
            return False
        return _median(recent) > self._CONTENDED * min(self.history)

    def _decide(self):
        if self.samples[False] and self.samples[True]:
            self.best = _median(self.samples[True]) < _median(self.samples[False])

    def record(self, own, seconds):
        times = self.samples[own]
        times.append(seconds)
        if len(times) > self._COUNTED:
            del times[0]
        if not own:
            self.history.append(seconds)
            if len(self.history) > self._HISTORY:
                del self.history[0]


def _median(values):
    return sorted(values)[len(values) // 2]


def threads():
    """How many threads ndflow's split products use here (1: call BLAS as it is)."""
    return getattr(_local, "threads", 1) if getattr(_local, "depth", 0) else 1


def matmul(xp, a, b, out=None):
    """`a @ b` for 2-D arrays (into `out` when given); inside `blas_owned`, products of
    `_MIN_FLOPS` or more are split into row blocks (or, when `a` has few rows, column blocks
    of `b`) computed by the caller and the worker threads."""
    if not _active[0]:
        return xp.matmul(a, b, out=out)
    count = threads()
    if count == 1 or a.ndim != 2 or b.ndim != 2 or xp.__name__ != "numpy":
        return xp.matmul(a, b, out=out)
    rows, inner = a.shape
    cols = b.shape[1]
    if 2 * rows * inner * cols < _MIN_FLOPS:
        return xp.matmul(a, b, out=out)
    blocks = count * _BLOCKS_PER_THREAD
    if max(rows, cols) < 16 * blocks:
        return xp.matmul(a, b, out=out)  # a long inner dimension only: partial sums were slower
    if out is None:
        out = xp.empty((rows, cols), dtype=xp.result_type(a, b))
    if rows >= cols:
        step = -(-rows // blocks)

        def block(i):
            xp.matmul(a[i * step:(i + 1) * step], b, out=out[i * step:(i + 1) * step])

        count_blocks = -(-rows // step)
    else:
        step = -(-cols // blocks)

        def block(i):
            xp.matmul(a, b[:, i * step:(i + 1) * step], out=out[:, i * step:(i + 1) * step])

        count_blocks = -(-cols // step)
    _pool(count - 1).run(block, count_blocks)
    return out


class _Job:
    """Blocks 0..count-1 of one split product, taken from a shared counter."""

    __slots__ = ("fn", "count", "counter", "done", "lock", "finished", "error")

    def __init__(self, fn, count):
        self.fn = fn
        self.count = count
        self.counter = itertools.count()
        self.done = 0
        self.lock = threading.Lock()
        self.finished = threading.Event()
        self.error = None

    def work(self):
        while True:
            index = next(self.counter)  # atomic under the GIL
            if index >= self.count:
                return
            try:
                self.fn(index)
            except BaseException as error:  # noqa: BLE001 - re-raised in the calling thread
                self.error = error
            with self.lock:
                self.done += 1
                if self.done == self.count:
                    self.finished.set()


class _Pool:
    """Worker threads that join the current job when woken; one job at a time (a second
    caller meanwhile runs its product alone)."""

    def __init__(self, workers):
        self.condition = threading.Condition()
        self.busy = threading.Lock()
        self.job = None
        self.generation = 0
        self.workers = workers
        for number in range(workers):
            threading.Thread(target=self._serve, name=f"ndflow-gemm-{number}",
                             daemon=True).start()

    def _serve(self):
        seen = 0
        while True:
            with self.condition:
                while self.generation == seen:
                    self.condition.wait()
                seen = self.generation
                job = self.job
            if job is not None:  # None: the caller finished the job before this thread woke
                job.work()

    def run(self, fn, count):
        if not self.busy.acquire(blocking=False):
            for index in range(count):
                fn(index)
            return
        try:
            job = _Job(fn, count)
            with self.condition:
                self.job = job
                self.generation += 1
                self.condition.notify_all()
            job.work()
            job.finished.wait()  # only blocks that a worker already started remain
            self.job = None
        finally:
            self.busy.release()
        if job.error is not None:
            raise job.error


def _pool(workers):
    pool = _state["pool"]
    if pool is None or pool.workers < workers:
        pool = _state["pool"] = _Pool(workers)
    return pool


def run_blocks(fn, count):
    """Calls `fn(i)` for i in range(count) on the calling thread and ndflow's worker threads
    (blocks taken from a shared counter); sequentially when not inside `blas_owned`."""
    threads_here = threads()
    if threads_here == 1 or count < 2:
        for index in range(count):
            fn(index)
        return
    _pool(threads_here - 1).run(fn, count)


def worth_splitting(op):
    """Whether a graph op may do a product large enough to split (unknown shapes: yes)."""
    if op.type not in SPLIT_OPS:
        return False
    if not all(t.shape.is_fully_defined() for t in (*op.inputs, *op.outputs)):
        return True
    if op.type == "MatMul":
        (a0, a1), (b0, b1) = (t.shape.as_list() for t in op.inputs)
        rows, inner = (a1, a0) if op.attrs.get("transpose_a") else (a0, a1)
        cols = b0 if op.attrs.get("transpose_b") else b1
        return 2 * rows * inner * cols >= _MIN_FLOPS
    # a convolution: (output or output-gradient elements) x (filter taps x input depth)
    if op.type.startswith("_FusedConv2D"):  # its output may be pooled: count the input's positions
        x_shape, w_shape = (t.shape.as_list() for t in op.inputs[:2])
        return 2 * (x_shape[0] * x_shape[1] * x_shape[2]) * w_shape[0] * w_shape[1] * \
            w_shape[2] * w_shape[3] >= _MIN_FLOPS
    if "BackpropFilter" in op.type:
        gradient, filter_shape = op.inputs[2], op.outputs[0].shape
    elif "BackpropInput" in op.type:
        gradient, filter_shape = op.inputs[2], op.inputs[1].shape
    else:
        gradient, filter_shape = op.outputs[0], op.inputs[1].shape
    taps = 1
    for size in filter_shape.as_list()[:-1]:
        taps *= size
    return 2 * gradient.shape.num_elements() * taps >= _MIN_FLOPS


# Ops whose kernels do their large products through `matmul` (a plan with one of them gets a
# `Tuner`)
# (grouped and depthwise convolutions do theirs as batched products, not split).
SPLIT_OPS = frozenset([
    "MatMul", "Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter", "Conv3D",
    "Conv3DBackpropInputV2", "Conv3DBackpropFilterV2", "_FusedConv2D",
    "_FusedConv2DWithChoice",
])
