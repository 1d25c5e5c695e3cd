"""Model architectures used by the saving tests, written once against a `keras` module so that
real Keras 3 (fixtures, interop) and ndflow (`ndflow.keras`) build the same models.

Every layer type of the Keras layers issue appears in at least one case."""

import numpy as np

CUSTOM_PACKAGE = "ndflow_saving_test"


def custom_classes(keras):
    """A registered custom layer and a registered subclassed model, defined for `keras`."""
    registry = keras.saving.get_custom_objects()
    key_layer = f"{CUSTOM_PACKAGE}>ScaledDense"
    key_model = f"{CUSTOM_PACKAGE}>TwoTower"
    if key_layer in registry:
        return registry[key_layer], registry[key_model]

    @keras.saving.register_keras_serializable(package=CUSTOM_PACKAGE)
    class ScaledDense(keras.layers.Layer):
        def __init__(self, units, scale=2.0, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.scale = scale

        def build(self, input_shape):
            self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel",
                                          initializer="glorot_uniform")
            self.offset = self.add_weight(shape=(self.units,), name="offset",
                                          initializer="ones", trainable=False)

        def call(self, inputs):
            return (inputs @ self.kernel) * self.scale + self.offset

        def get_config(self):
            config = super().get_config()
            config.update(units=self.units, scale=self.scale)
            return config

    @keras.saving.register_keras_serializable(package=CUSTOM_PACKAGE)
    class TwoTower(keras.Model):
        def __init__(self, hidden=5, **kwargs):
            super().__init__(**kwargs)
            self.hidden = hidden
            self.left = keras.layers.Dense(hidden, activation="tanh")
            self.right = ScaledDense(hidden, scale=0.5)
            self.head = keras.layers.Dense(2)

        def call(self, inputs):
            return self.head(self.left(inputs) + self.right(inputs))

        def get_config(self):
            return {"hidden": self.hidden, "name": self.name}

    return ScaledDense, TwoTower


def build(keras, name):
    """(model, inputs) for case `name`; inputs are seeded NumPy arrays."""
    return BUILDERS[name](keras, np.random.default_rng(len(name)))


def _mlp_seq(keras, rng):
    L = keras.layers
    model = keras.Sequential([
        keras.Input((6,)), L.Dense(8, activation="relu"), L.BatchNormalization(),
        L.Dropout(0.2), L.Dense(3, activation="softmax"),
    ], name="mlp_seq")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    return model, rng.standard_normal((4, 6)).astype("float32")


def _func_merge(keras, rng):
    L = keras.layers
    a = keras.Input((6,), name="a")
    b = keras.Input((6,), name="b")
    da = L.Dense(6, name="da")(a)
    db = L.Dense(6, activation="sigmoid", name="db")(b)
    merged = [L.Add()([da, db]), L.Subtract()([da, db]), L.Multiply()([da, db]),
              L.Average()([da, db]), L.Maximum()([da, db]), L.Minimum()([da, db])]
    x = L.Concatenate()(merged)
    x = L.LayerNormalization()(x)
    x = L.ReLU()(x)
    x = L.LeakyReLU(negative_slope=0.2)(L.Dense(12)(x))
    x = L.ELU()(x)
    x = L.PReLU()(x)
    x = L.Reshape((3, 4))(x)
    x = L.Permute((2, 1))(x)
    x = L.Flatten()(x)
    x = L.Identity()(x)
    x = L.Activation("tanh")(x)
    dot = L.Dot(axes=1, normalize=True)([da, db])
    out1 = L.Softmax(name="probs")(L.Dense(4)(x))
    repeated = L.Flatten()(L.RepeatVector(2)(dot))
    out2 = L.UnitNormalization()(L.Concatenate(name="with_dot")([repeated, da]))
    model = keras.Model([a, b], [out1, out2], name="func_merge")
    inputs = [rng.standard_normal((3, 6)).astype("float32") for _ in range(2)]
    return model, inputs


def _conv2d(keras, rng):
    L = keras.layers
    inputs = keras.Input((8, 8, 3))
    x = L.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    x = L.DepthwiseConv2D(3, depth_multiplier=2, padding="same")(x)
    x = L.SeparableConv2D(5, 3, padding="valid")(x)
    x = L.BatchNormalization()(x)
    x = L.Conv2DTranspose(4, 3, strides=2, padding="same")(x)
    x = L.MaxPooling2D(2)(x)
    x = L.ZeroPadding2D(1)(x)
    x = L.AveragePooling2D(2)(x)
    x = L.UpSampling2D(2)(x)
    x = L.Cropping2D(1)(x)
    x = L.GroupNormalization(groups=2)(x)
    x = L.SpatialDropout2D(0.1)(x)
    x = L.GaussianNoise(0.1)(x)
    x = L.GaussianDropout(0.1)(x)
    pooled = L.GlobalAveragePooling2D()(x)
    peak = L.GlobalMaxPooling2D()(x)
    out = L.Dense(3)(L.Concatenate()([pooled, peak]))
    model = keras.Model(inputs, out, name="conv2d")
    return model, rng.standard_normal((2, 8, 8, 3)).astype("float32")


def _conv1d3d(keras, rng):
    L = keras.layers
    seq = keras.Input((10, 3), name="seq")
    x = L.Conv1D(4, 3, padding="causal")(seq)
    x = L.SeparableConv1D(4, 3, padding="same")(x)
    x = L.DepthwiseConv1D(3, padding="same")(x)
    x = L.Conv1DTranspose(3, 2, strides=2)(x)
    x = L.MaxPooling1D(2)(x)
    x = L.ZeroPadding1D(1)(x)
    x = L.AveragePooling1D(2)(x)
    x = L.UpSampling1D(2)(x)
    x = L.Cropping1D((1, 1))(x)
    s = L.GlobalMaxPooling1D()(x)
    vol = keras.Input((4, 4, 4, 2), name="vol")
    y = L.Conv3D(3, 2, padding="same")(vol)
    y = L.Conv3DTranspose(2, 2, strides=1)(y)
    y = L.MaxPooling3D(2)(y)
    y = L.ZeroPadding3D(1)(y)
    y = L.AveragePooling3D(2, padding="same")(y)
    y = L.UpSampling3D(2)(y)
    y = L.Cropping3D(1)(y)
    v = L.GlobalAveragePooling3D()(y)
    g = L.GlobalMaxPooling3D()(y)
    out = L.Dense(2)(L.Concatenate()([s, v, g]))
    model = keras.Model({"seq": seq, "vol": vol}, out, name="conv1d3d")
    inputs = {"seq": rng.standard_normal((2, 10, 3)).astype("float32"),
              "vol": rng.standard_normal((2, 4, 4, 4, 2)).astype("float32")}
    return model, inputs


def _rnn(keras, rng):
    L = keras.layers
    tokens = keras.Input((7,), dtype="int32", name="tokens")
    x = L.Embedding(20, 6, mask_zero=True)(tokens)
    x = L.LSTM(5, return_sequences=True)(x)
    x = L.Bidirectional(L.GRU(4, return_sequences=True))(x)
    x = L.TimeDistributed(L.Dense(3))(x)
    x = L.SimpleRNN(4, return_sequences=True, go_backwards=True)(x)
    cells = L.StackedRNNCells([L.SimpleRNNCell(3), L.LSTMCell(3), L.GRUCell(3)])
    x = L.RNN(cells, return_sequences=True)(x)
    x = L.Masking(mask_value=0.0)(x)
    x = L.GRU(3, reset_after=False)(x)
    model = keras.Model(tokens, x, name="rnn")
    ids = rng.integers(1, 20, size=(3, 7)).astype("int32")
    ids[0, 5:] = 0
    return model, ids


def _attention(keras, rng):
    L = keras.layers
    query = keras.Input((4, 6), name="query")
    value = keras.Input((5, 6), name="value")
    mha = L.MultiHeadAttention(num_heads=2, key_dim=3)(query, value)
    dot = L.Attention(use_scale=True)([query, value])
    additive = L.AdditiveAttention()([query, value])
    x = L.Concatenate()([mha, dot, additive])
    x = L.ActivityRegularization(l1=0.01)(x)
    x = L.AlphaDropout(0.1)(x)
    x = L.SpatialDropout1D(0.1)(x)
    x = L.GlobalAveragePooling1D()(x)
    model = keras.Model([query, value], x, name="attention")
    inputs = [rng.standard_normal((2, 4, 6)).astype("float32"),
              rng.standard_normal((2, 5, 6)).astype("float32")]
    return model, inputs


def _custom(keras, rng):
    scaled_dense, _ = custom_classes(keras)
    inputs = keras.Input((4,))
    x = scaled_dense(3, scale=1.5, name="scaled")(inputs)
    out = keras.layers.Dense(2, kernel_regularizer=keras.regularizers.L2(0.01),
                             kernel_constraint=keras.constraints.MaxNorm(2.0))(x)
    model = keras.Model(inputs, out, name="custom")
    return model, rng.standard_normal((3, 4)).astype("float32")


def _subclassed(keras, rng):
    _, two_tower = custom_classes(keras)
    model = two_tower(hidden=4, name="two_tower")
    data = rng.standard_normal((3, 6)).astype("float32")
    model(data)
    return model, data


BUILDERS = {
    "mlp_seq": _mlp_seq, "func_merge": _func_merge, "conv2d": _conv2d,
    "conv1d3d": _conv1d3d, "rnn": _rnn, "attention": _attention, "custom": _custom,
    "subclassed": _subclassed,
}


def train_one_step(model, inputs):
    """One fit step so that the optimizer's variables exist (mlp_seq only)."""
    targets = np.eye(3, dtype="float32")[np.arange(len(inputs)) % 3]
    model.fit(inputs, targets, epochs=1, batch_size=len(inputs), verbose=0)
