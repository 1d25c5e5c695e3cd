"""Graph optimisation passes run on a traced graph before it is compiled to a plan."""


def optimize(graph, inputs, outputs, fuse=False):
    """Returns the (possibly rewritten) output tensors; passes rewrite `graph` in place."""
    return outputs
