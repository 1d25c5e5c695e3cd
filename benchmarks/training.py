"""Training workloads: seed_cnn_fit, seed_cnn_custom_loop, mlp_fit, lstm_fit, and gemm_fraction
(achieved FLOP/s of seed_cnn_fit over the machine's float32 GEMM FLOP/s, measured in the run).

Every round trains one epoch over the round's samples, after a warm-up fit on fewer samples
(tracing and first-call costs excluded). ndflow and TensorFlow run the same `models` code;
PyTorch runs the equivalent model in a plain training loop with Adam. Unit: samples per second.
"""

import time

import numpy as np

from benchmarks import harness, models
from benchmarks.harness import ROUND, Case, Target

TF_API = ("ndflow", "tensorflow")

# samples per timed round, samples per warm-up run, rounds: (full, quick)
SIZES = {
    "seed_cnn": ((12800, 640, 3), (256, 128, 3)),
    "mlp": ((12800, 1280, 5), (1280, 256, 3)),
    "lstm": ((3200, 128, 3), (128, 64, 2)),
}


def _sizes(family, quick):
    samples, warmup_samples, rounds = SIZES[family][1 if quick else 0]
    return {"samples": samples, "warmup_samples": warmup_samples, "rounds": rounds, "warmup": 1}


def _fit_run(tf, build, inputs, targets, batch_size):
    """`run(samples)`: `model.fit` for one epoch on the first `samples` examples."""
    model = build(tf)

    def run(samples):
        model.fit(inputs[:samples], targets[:samples], batch_size=batch_size, epochs=1,
                  verbose=0)

    return run


def _custom_loop_run(tf, images, labels, batch_size):
    """The seed's GradientTape loop inside a tf.function, over shuffled batches."""
    model = models.seed_cnn(tf, compile=False)
    loss_fn = tf.keras.losses.CategoricalCrossentropy()
    optimizer = tf.keras.optimizers.Adam()
    accuracy = tf.keras.metrics.CategoricalAccuracy()

    @tf.function
    def train_step(x, y):
        with tf.GradientTape() as tape:
            predictions = model(x, training=True)
            loss = loss_fn(y, predictions)
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables))
        accuracy.update_state(y, predictions)
        return loss

    rng = np.random.default_rng(1)

    def run(samples):
        order = rng.permutation(samples)
        for start in range(0, samples, batch_size):
            index = order[start:start + batch_size]
            train_step(tf.constant(images[index]), tf.constant(labels[index]))
        accuracy.reset_state()

    return run


def _torch_classifier_run(torch, model, inputs, labels, batch_size):
    loss_fn = torch.nn.CrossEntropyLoss()  # softmax + categorical crossentropy, on logits

    def correct(output, target):
        return (output.argmax(1) == target.argmax(1)).sum()

    return models.torch_train_loop(torch, model, loss_fn, inputs, torch.from_numpy(labels),
                                   batch_size, correct)


def _torch_lstm_run(torch, tokens, labels, batch_size):
    loss_fn = torch.nn.BCEWithLogitsLoss()  # sigmoid + binary crossentropy, on logits

    def correct(output, target):
        return ((output > 0) == (target > 0.5)).sum()

    return models.torch_train_loop(torch, models.torch_lstm(torch), loss_fn,
                                   torch.from_numpy(tokens.astype(np.int64)),
                                   torch.from_numpy(labels), batch_size, correct)


def _runs(frameworks, tf_builder, torch_builder):
    runs = {name: harness.try_build(tf_builder, frameworks[name])
            for name in TF_API if name in frameworks}
    if "torch" in frameworks:
        runs["torch"] = harness.try_build(torch_builder, frameworks["torch"])
    return runs


def seed_cnn_fit(frameworks, quick):
    sizes = _sizes("seed_cnn", quick)
    images, labels = models.mnist_like(max(sizes["samples"], sizes["warmup_samples"]))

    def torch_builder(torch):
        return _torch_classifier_run(torch, models.torch_seed_cnn(torch),
                                     models.torch_images(torch, images), labels, 64)

    runs = _runs(frameworks, lambda tf: _fit_run(tf, models.seed_cnn, images, labels, 64),
                 torch_builder)
    return [Case("seed_cnn_fit", runs, ROUND, "samples/s", True, Target(">=", 1.2), **sizes)]


def seed_cnn_custom_loop(frameworks, quick):
    sizes = _sizes("seed_cnn", quick)
    images, labels = models.mnist_like(max(sizes["samples"], sizes["warmup_samples"]))

    def torch_builder(torch):
        return _torch_classifier_run(torch, models.torch_seed_cnn(torch),
                                     models.torch_images(torch, images), labels, 64)

    runs = _runs(frameworks, lambda tf: _custom_loop_run(tf, images, labels, 64), torch_builder)
    return [Case("seed_cnn_custom_loop", runs, ROUND, "samples/s", True, Target(">=", 1.2),
                 **sizes)]


def mlp_fit(frameworks, quick):
    sizes = _sizes("mlp", quick)
    images, labels = models.mnist_like(max(sizes["samples"], sizes["warmup_samples"]), seed=2)
    flat = images.reshape(len(images), -1)

    def torch_builder(torch):
        return _torch_classifier_run(torch, models.torch_mlp(torch), torch.from_numpy(flat),
                                     labels, 128)

    runs = _runs(frameworks, lambda tf: _fit_run(tf, models.mlp, flat, labels, 128),
                 torch_builder)
    return [Case("mlp_fit", runs, ROUND, "samples/s", True, Target(">=", 1.5), **sizes)]


def lstm_fit(frameworks, quick):
    sizes = _sizes("lstm", quick)
    tokens, labels = models.sequences(max(sizes["samples"], sizes["warmup_samples"]))
    runs = _runs(frameworks, lambda tf: _fit_run(tf, models.lstm, tokens, labels, 64),
                 lambda torch: _torch_lstm_run(torch, tokens, labels, 64))
    return [Case("lstm_fit", runs, ROUND, "samples/s", True, Target(">=", 1.0), **sizes)]


# --- gemm_fraction ---------------------------------------------------------------------------

def _matmul_calls(frameworks, size):
    """`library -> zero-argument float32 (size x size) @ (size x size)` for every library."""
    rng = np.random.default_rng(3)
    a = rng.standard_normal((size, size), dtype=np.float32)
    b = rng.standard_normal((size, size), dtype=np.float32)
    calls = {"numpy": lambda: np.matmul(a, b)}
    for name in TF_API:
        if name in frameworks:
            tf = frameworks[name]
            ta, tb = tf.constant(a), tf.constant(b)
            calls[name] = lambda tf=tf, ta=ta, tb=tb: tf.matmul(ta, tb)
    if "torch" in frameworks:
        torch = frameworks["torch"]
        pa, pb = torch.from_numpy(a), torch.from_numpy(b)
        calls["torch"] = lambda: torch.mm(pa, pb)
    return calls


def gemm_flops(frameworks, sizes=(512, 1024), repeats=5):
    """`library -> best float32 GEMM FLOP/s` of square products (2 n^3 FLOPs each)."""
    best = {}
    for size in sizes:
        for name, call in _matmul_calls(frameworks, size).items():
            call()
            for _ in range(repeats):
                start = time.perf_counter()
                call()
                rate = 2 * size**3 / (time.perf_counter() - start)
                best[name] = max(best.get(name, 0.0), rate)
    return best


def achieved_fractions(rates, flops_per_sample, peak):
    """Fractions of `peak` FLOP/s reached by training at `rates` samples per second."""
    return [rate * flops_per_sample / peak for rate in rates]


def gemm_fraction(frameworks, quick):
    """Derived from seed_cnn_fit (measured just before, in the same run)."""
    flops = models.seed_cnn_training_flops()
    case = Case("gemm_fraction", {}, harness.DERIVED, "fraction of GEMM peak", True,
                Target(">=", 1.0), warmup=0)
    peak = {}

    def derive(name, results):
        fit = results.get("seed_cnn_fit", {}).get(name, {})
        if "samples" not in fit:
            raise RuntimeError(f"seed_cnn_fit has no measurement for {name} in this run")
        if not peak:
            peak.update(gemm_flops(frameworks))
            case.notes["GEMM GFLOP/s by library"] = {
                library: round(rate / 1e9, 1) for library, rate in peak.items()}
            case.notes["machine peak GFLOP/s (best library)"] = round(max(peak.values()) / 1e9, 1)
            case.notes["training GFLOP per sample"] = round(flops / 1e9, 5)
        return achieved_fractions(fit["samples"], flops, max(peak.values()))

    for name in (*TF_API, "torch"):
        if name in frameworks:
            case.runs[name] = lambda results, name=name: derive(name, results)
    return [case]
