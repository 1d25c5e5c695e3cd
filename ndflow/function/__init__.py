"""tf.function: tracing Python into graphs, graph passes, and the compiled executor."""
