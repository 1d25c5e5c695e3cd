"""Automatic differentiation: GradientTape, custom_gradient."""
