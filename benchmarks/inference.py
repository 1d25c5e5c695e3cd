"""Inference workloads on the seed CNN: `predict_latency` (one 28x28x1 sample through
`model.predict(x)` and through `model(x)`, microseconds) and `cnn_inference` (forward
throughput with `model.predict` on batches of 256, samples per second).

ndflow and TensorFlow run the same code; PyTorch runs the equivalent model in eval mode under
`torch.no_grad()` (it has one call path, so its two latency rows are the same call).
"""

from benchmarks import harness, models
from benchmarks.harness import MICRO, ROUND, Case, Target

TF_API = ("ndflow", "tensorflow")
BATCH = 256
# samples per timed round, samples per warm-up run, rounds: (full, quick)
SIZES = ((5120, 512, 5), (768, 256, 3))


def _torch_forward(torch):
    model = models.torch_seed_cnn(torch)
    model.eval()

    def forward(batch):
        with torch.no_grad():
            return model(batch).softmax(1).numpy()

    return forward


def predict_latency(frameworks, quick):
    sample, _ = models.mnist_like(1, seed=5)
    predict, call = {}, {}
    for name in TF_API:
        tf = frameworks.get(name)
        if tf is None:
            continue
        model = harness.try_build(models.seed_cnn, tf)
        if isinstance(model, str):
            predict[name] = call[name] = model
            continue
        predict[name] = lambda model=model: model.predict(sample, verbose=0)
        call[name] = lambda model=model: model(sample)
    torch = frameworks.get("torch")
    if torch is not None:
        forward = _torch_forward(torch)
        batch = models.torch_images(torch, sample)
        predict["torch"] = call["torch"] = lambda: forward(batch)
    rounds = 5 if quick else 15
    return [Case("predict_latency.predict", predict, MICRO, "us", False, Target("<=", 0.02),
                 rounds=rounds),
            Case("predict_latency.call", call, MICRO, "us", False, Target("<=", 0.1),
                 rounds=rounds)]


def cnn_inference(frameworks, quick):
    samples, warmup_samples, rounds = SIZES[1 if quick else 0]
    images, _ = models.mnist_like(max(samples, warmup_samples), seed=6)
    runs = {}
    for name in TF_API:
        tf = frameworks.get(name)
        if tf is None:
            continue
        model = harness.try_build(models.seed_cnn, tf)
        runs[name] = model if isinstance(model, str) else (
            lambda count, model=model: model.predict(images[:count], batch_size=BATCH,
                                                     verbose=0))
    torch = frameworks.get("torch")
    if torch is not None:
        forward = _torch_forward(torch)
        batches = models.torch_images(torch, images)

        def torch_run(count):
            for start in range(0, count, BATCH):
                forward(batches[start:min(start + BATCH, count)])

        runs["torch"] = torch_run
    return [Case("cnn_inference", runs, ROUND, "samples/s", True, Target(">=", 1.2),
                 rounds=rounds, warmup=1, samples=samples, warmup_samples=warmup_samples)]

