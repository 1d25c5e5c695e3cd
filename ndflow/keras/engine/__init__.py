"""The Keras engine: Layer, Model (functional, Sequential, subclassed), training loops."""
