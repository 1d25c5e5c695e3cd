"""Workload `data_pipeline`: input pipeline throughput, one full pass per call (issue #6).

(a) from_tensor_slices -> shuffle(10000) -> batch(64) -> prefetch over 60,000 28x28 images;
(b) the same with a map that normalises and augments (flip, noise), num_parallel_calls=AUTOTUNE,
    over the first 6,000 images (ndflow's per-element random ops make a 60,000 pass ~45 s);
(c) a TFRecord file of 10,000 serialized Examples read with batch(64) and parse_example.
ndflow and TensorFlow run the same tf.data code; elements/s = elements / (us per call) * 1e6.
Target: at least TF's throughput on (a) and (c).
"""

import os
import tempfile

import numpy as np

IMAGES = 60_000
AUGMENTED = 6_000
RECORDS = 10_000
BATCH = 64


def _mnist_like():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(IMAGES, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=IMAGES).astype(np.int64)
    return images, labels


def _drain(dataset):
    def run():
        count = 0
        for images, _ in dataset:
            count += images.shape[0]
        return count

    return run


def _slices(tf, images, labels):
    return (tf.data.Dataset.from_tensor_slices((images, labels)).shuffle(10_000, seed=1)
            .batch(BATCH).prefetch(tf.data.AUTOTUNE))


def _augmented(tf, images, labels):
    def augment(image, label):
        image = tf.cast(image, tf.float32) / 255.0
        image = tf.image.random_flip_left_right(image[:, :, None])
        image = image + tf.random.normal([28, 28, 1], stddev=0.05)
        return image, label

    return (tf.data.Dataset.from_tensor_slices((images[:AUGMENTED], labels[:AUGMENTED]))
            .shuffle(10_000, seed=1).map(augment, num_parallel_calls=tf.data.AUTOTUNE).batch(BATCH)
            .prefetch(tf.data.AUTOTUNE))


def _write_records(tf, path, images, labels):
    with tf.io.TFRecordWriter(path) as writer:
        for index in range(RECORDS):
            feature = {
                "image": tf.train.Feature(float_list=tf.train.FloatList(
                    value=images[index].reshape(-1).astype(np.float32) / 255.0)),
                "label": tf.train.Feature(int64_list=tf.train.Int64List(
                    value=[int(labels[index])])),
            }
            example = tf.train.Example(features=tf.train.Features(feature=feature))
            writer.write(example.SerializeToString())


def _records(tf, path):
    features = {"image": tf.io.FixedLenFeature([784], tf.float32),
                "label": tf.io.FixedLenFeature([], tf.int64)}

    def parse(serialized):
        parsed = tf.io.parse_example(serialized, features)
        return parsed["image"], parsed["label"]

    return tf.data.TFRecordDataset(path).batch(BATCH).map(parse).prefetch(tf.data.AUTOTUNE)


def candidates(frameworks):
    images, labels = _mnist_like()
    directory = tempfile.mkdtemp(prefix="ndflow-bench-")
    path = os.path.join(directory, "examples.tfrecord")
    _write_records(frameworks["ndflow"], path, images, labels)
    workloads = {f"data_pipeline.a_slices_shuffle_batch_{IMAGES}": {},
                 f"data_pipeline.b_map_augment_{AUGMENTED}": {},
                 f"data_pipeline.c_tfrecord_parse_example_{RECORDS}": {}}
    for name in ("ndflow", "tensorflow"):
        tf = frameworks.get(name)
        if tf is None:
            continue
        a, b, c = workloads.values()
        a[name] = _drain(_slices(tf, images, labels))
        b[name] = _drain(_augmented(tf, images, labels))
        c[name] = _drain(_records(tf, path))
    return workloads


if __name__ == "__main__":
    import time

    from benchmarks import frameworks as _frameworks

    loaded = _frameworks.load(("ndflow", "tensorflow"))
    for workload, runs in candidates(loaded).items():
        for framework, run in runs.items():
            run()
            start = time.perf_counter()
            count = run()
            rate = count / (time.perf_counter() - start)
            print(f"{workload:<45} {framework:<11} {rate:>12,.0f} elements/s")
