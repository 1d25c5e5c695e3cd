"""Side-by-side benchmarks: ndflow against TensorFlow and PyTorch, in one process run."""
