"""Tests for ndflow/module.py: tf.Module's variable and sub-module tracking and name scopes."""

import pytest

import ndflow as tf


class Dense(tf.Module):
    def __init__(self, units, name=None):
        super().__init__(name=name)
        self.w = tf.Variable(tf.ones([2, units]), name="w")
        self.b = tf.Variable(tf.zeros([units]), name="b")
        self.step = tf.Variable(0, trainable=False, name="step")

    def __call__(self, x):
        return tf.matmul(x, self.w) + self.b


class Net(tf.Module):
    def __init__(self):
        super().__init__()
        self.z_layer = Dense(3, name="second")
        self.a_layers = [Dense(2, name="first"), {"k": tf.Variable(1.0, name="k")}]
        self.same = self.z_layer  # an alias must not be listed twice
        self.scale = tf.Variable(2.0, name="scale")


def names(values):
    return [v.name for v in values]


def test_default_name_is_the_snake_case_class_name():
    assert Net().name == "net"
    assert tf.Module().name == "module"

    class HTTPServerLayer(tf.Module):
        pass

    assert HTTPServerLayer().name == "http_server_layer"
    assert tf.Module(name="custom").name == "custom"


@pytest.mark.parametrize("bad", ["1abc", "a/b", "a.b", "a-b", "", "a b"])
def test_invalid_names(bad):
    with pytest.raises(ValueError, match=f"'{bad}' is not a valid module name"):
        tf.Module(name=bad)


def test_variables_in_attribute_order_module_leaves_first():
    net = Net()
    # TF's walk: the module's own attributes by name (a_layers, same, scale, z_layer; lists and
    # dicts flattened), each leaf once, then each sub-module's attributes in turn.
    assert names(net.variables) == ["k:0", "scale:0", "b:0", "step:0", "w:0", "b:0", "step:0",
                                    "w:0"]
    first, second = net.a_layers[0], net.z_layer
    assert net.variables[2] is first.b and net.variables[5] is second.b
    assert names(net.trainable_variables) == ["k:0", "scale:0", "b:0", "w:0", "b:0", "w:0"]
    assert names(net.non_trainable_variables) == ["step:0", "step:0"]


def test_submodules_deduplicated_in_walk_order():
    net = Net()
    assert net.submodules == (net.a_layers[0], net.z_layer)
    assert net.a_layers[0].submodules == ()


def test_nested_containers_and_tuples():
    module = tf.Module()
    v1 = tf.Variable(1.0)
    v2 = tf.Variable(2.0)
    module.holder = {"b": (v2,), "a": [[v1]]}
    assert module.variables == (v1, v2)
    module.again = [v1, v2]
    assert len(module.variables) == 2


def test_cycles_do_not_recurse_forever():
    parent = tf.Module(name="parent")
    child = tf.Module(name="child")
    parent.child = child
    child.parent = parent
    child.v = tf.Variable(1.0)
    assert parent.submodules == (child,)
    assert parent.variables == (child.v,)


def test_ignored_properties():
    class Hidden(tf.Module):
        _TF_MODULE_IGNORED_PROPERTIES = frozenset(["cache"])

        def __init__(self):
            super().__init__()
            self.cache = tf.Variable(0.0)
            self.kept = tf.Variable(1.0)

    hidden = Hidden()
    assert hidden.variables == (hidden.kept,)


def test_name_scope_prefixes_variables():
    module = tf.Module(name="block")
    assert module.name_scope.name == "block/"
    with module.name_scope:
        v = tf.Variable(1.0, name="inner")
        inner = tf.Module(name="nested")
        with inner.name_scope:
            w = tf.Variable(1.0, name="deep")
    assert v.name == "block/inner:0"
    assert w.name == "block/nested/deep:0"
    assert tf.Variable(1.0, name="outside").name == "outside:0"


def test_with_name_scope_decorator():
    class Lazy(tf.Module):
        @tf.Module.with_name_scope
        def __call__(self, x):
            if not hasattr(self, "v"):
                self.v = tf.Variable(x, name="v")
            return self.v * x

    lazy = Lazy()
    result = lazy(tf.constant(3.0))
    assert float(result) == 9.0
    assert lazy.v.name == "lazy/v:0"
    assert Lazy.__call__.__name__ == "__call__"


def test_training_a_module_with_a_tape():
    layer = Dense(1)
    x = tf.constant([[1.0, 2.0]])
    with tf.GradientTape() as tape:
        y = layer(x)
    grads = tape.gradient(y, layer.trainable_variables)
    assert [g.shape for g in grads] == [(1,), (2, 1)]
    assert grads[1].numpy().tolist() == [[1.0], [2.0]]
