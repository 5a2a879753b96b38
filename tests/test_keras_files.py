"""Keras 3 files both ways: `.keras` written by Keras loads in graphnet with the same
outputs, graphnet's `.keras` loads in Keras, `.weights.h5` moves both ways, and damaged
files are clear errors."""
import io
import json
import os
import zipfile

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "jax")
keras = pytest.importorskip("keras")
h5py = pytest.importorskip("h5py")
from keras import layers as kl  # noqa: E402

import graphnet as gn  # noqa: E402
from graphnet import layers  # noqa: E402

RTOL, ATOL = 1e-5, 1e-6


def data(shape, seed=0, kind="normal"):
    rng = np.random.default_rng(seed)
    if kind == "ints":
        return rng.integers(0, 10, size=(3, *shape)).astype("int32")
    return rng.normal(size=(3, *shape)).astype("float32")


def perturbed(model):
    """Non-trivial weights everywhere (biases, BatchNormalization statistics too)."""
    rng = np.random.default_rng(1)
    model.set_weights([w + rng.uniform(0.1, 0.5, size=w.shape).astype(w.dtype)
                       for w in model.get_weights()])
    return model


def assert_close(a, b):
    if isinstance(a, dict):
        assert sorted(a) == sorted(b)
        for k in a:
            assert_close(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_close(x, y)
    else:
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=RTOL, atol=ATOL)


def both_ways(kmodel, x, tmp_path):
    """Keras writes, graphnet reads (same outputs); graphnet writes, Keras reads."""
    kmodel = perturbed(kmodel)
    expected = kmodel.predict(x, verbose=0)
    kmodel.save(tmp_path / "keras.keras")
    gmodel = gn.load_model(tmp_path / "keras.keras")
    assert_close(gmodel.predict(x), expected)
    gmodel.save(tmp_path / "graphnet.keras")
    back = keras.saving.load_model(tmp_path / "graphnet.keras")
    assert_close(back.predict(x, verbose=0), expected)
    return gmodel


# ---- every catalogue layer ------------------------------------------------------------------
CATALOGUE = [
    ("Dense", lambda: kl.Dense(3, activation="relu"), (4,)),
    ("Activation", lambda: kl.Activation("tanh"), (4,)),
    ("Dropout", lambda: kl.Dropout(0.3), (4,)),
    ("Flatten", lambda: kl.Flatten(), (2, 3)),
    ("Reshape", lambda: kl.Reshape((3, 2)), (6,)),
    ("Permute", lambda: kl.Permute((2, 1)), (2, 3)),
    ("RepeatVector", lambda: kl.RepeatVector(2), (3,)),
    ("Identity", lambda: kl.Identity(), (3,)),
    ("Conv1D", lambda: kl.Conv1D(2, 3, padding="same", strides=1), (6, 2)),
    ("Conv2D", lambda: kl.Conv2D(2, 2, strides=2, activation="relu"), (6, 6, 2)),
    ("SeparableConv2D", lambda: kl.SeparableConv2D(3, 2, padding="same"), (5, 5, 2)),
    ("DepthwiseConv2D", lambda: kl.DepthwiseConv2D(2, depth_multiplier=2), (5, 5, 2)),
    ("Conv2DTranspose", lambda: kl.Conv2DTranspose(2, 3, strides=2, padding="same"), (4, 4, 2)),
    ("MaxPooling1D", lambda: kl.MaxPooling1D(2), (6, 2)),
    ("MaxPooling2D", lambda: kl.MaxPooling2D(2), (4, 4, 2)),
    ("AveragePooling1D", lambda: kl.AveragePooling1D(2), (6, 2)),
    ("AveragePooling2D", lambda: kl.AveragePooling2D(2, padding="same"), (5, 5, 2)),
    ("GlobalMaxPooling1D", lambda: kl.GlobalMaxPooling1D(), (6, 2)),
    ("GlobalMaxPooling2D", lambda: kl.GlobalMaxPooling2D(), (4, 4, 2)),
    ("GlobalAveragePooling1D", lambda: kl.GlobalAveragePooling1D(), (6, 2)),
    ("GlobalAveragePooling2D", lambda: kl.GlobalAveragePooling2D(), (4, 4, 2)),
    ("BatchNormalization", lambda: kl.BatchNormalization(), (4,)),
    ("LayerNormalization", lambda: kl.LayerNormalization(), (4,)),
    ("SimpleRNN", lambda: kl.SimpleRNN(3, return_sequences=True), (5, 2)),
    ("LSTM", lambda: kl.LSTM(3), (5, 2)),
    ("GRU", lambda: kl.GRU(3, go_backwards=True), (5, 2)),
    ("Bidirectional", lambda: kl.Bidirectional(kl.LSTM(2, return_sequences=True)), (5, 2)),
    ("UpSampling1D", lambda: kl.UpSampling1D(2), (3, 2)),
    ("UpSampling2D", lambda: kl.UpSampling2D((2, 1)), (2, 3, 2)),
    ("ZeroPadding1D", lambda: kl.ZeroPadding1D((1, 2)), (3, 2)),
    ("ZeroPadding2D", lambda: kl.ZeroPadding2D(((1, 0), (0, 2))), (2, 3, 2)),
    ("Cropping1D", lambda: kl.Cropping1D((1, 2)), (6, 2)),
    ("Cropping2D", lambda: kl.Cropping2D(((1, 0), (0, 2))), (4, 5, 2)),
    ("Rescaling", lambda: kl.Rescaling(0.5, offset=-1.0), (4,)),
    ("Normalization", lambda: kl.Normalization(mean=[0.5, -1.0, 0.0, 2.0],
                                               variance=[4.0, 1.0, 0.25, 9.0]), (4,)),
    ("ReLU", lambda: kl.ReLU(max_value=0.8, threshold=0.1), (4,)),
    ("LeakyReLU", lambda: kl.LeakyReLU(negative_slope=0.2), (4,)),
    ("Softmax", lambda: kl.Softmax(axis=1), (3, 2)),
    ("ELU", lambda: kl.ELU(alpha=0.7), (4,)),
    ("PReLU", lambda: kl.PReLU(), (4,)),
    ("Masking", lambda: kl.Masking(0.0), (5, 2)),
    ("TimeDistributed", lambda: kl.TimeDistributed(kl.Dense(2)), (3, 4)),
    ("GaussianNoise", lambda: kl.GaussianNoise(0.5), (4,)),
    ("GaussianDropout", lambda: kl.GaussianDropout(0.3), (4,)),
    ("SpatialDropout1D", lambda: kl.SpatialDropout1D(0.3), (5, 2)),
    ("SpatialDropout2D", lambda: kl.SpatialDropout2D(0.3), (3, 3, 2)),
    ("Conv1DTranspose", lambda: kl.Conv1DTranspose(2, 3, strides=2, padding="same"), (4, 2)),
    ("Conv3D", lambda: kl.Conv3D(2, 2, activation="relu"), (3, 3, 3, 2)),
    ("MaxPooling3D", lambda: kl.MaxPooling3D(2), (4, 4, 4, 2)),
    ("AveragePooling3D", lambda: kl.AveragePooling3D(2, padding="same"), (3, 3, 3, 2)),
    ("RandomFlip", lambda: kl.RandomFlip(), (4, 4, 2)),
    ("RandomRotation", lambda: kl.RandomRotation(0.1), (4, 4, 2)),
    ("RandomZoom", lambda: kl.RandomZoom(0.1), (4, 4, 2)),
    ("RandomTranslation", lambda: kl.RandomTranslation(0.1, 0.1), (4, 4, 2)),
    ("RandomContrast", lambda: kl.RandomContrast(0.2), (4, 4, 2)),
]


@pytest.mark.parametrize("name, make, shape", CATALOGUE, ids=[c[0] for c in CATALOGUE])
def test_catalogue_layer_both_ways(name, make, shape, tmp_path):
    kmodel = keras.Sequential([keras.Input(shape), make()])
    both_ways(kmodel, data(shape), tmp_path)


def test_adapted_normalization_both_ways(tmp_path):
    """An adapted Normalization keeps mean, variance and count as weights."""
    norm = kl.Normalization()
    norm.adapt(data((4,), seed=2) * 3.0 + 1.0)
    kmodel = keras.Sequential([keras.Input((4,)), norm])
    x = data((4,))
    expected = kmodel.predict(x, verbose=0)
    np.testing.assert_allclose(expected, (x - norm.mean) / np.sqrt(norm.variance), rtol=1e-5)
    kmodel.save(tmp_path / "keras.keras")
    gmodel = gn.load_model(tmp_path / "keras.keras")
    assert_close(gmodel.predict(x), expected)
    gmodel.save(tmp_path / "graphnet.keras")
    assert_close(keras.saving.load_model(tmp_path / "graphnet.keras").predict(x, verbose=0),
                 expected)


def test_category_encoding_both_ways(tmp_path):
    kmodel = keras.Sequential([keras.Input((4,), dtype="int32"),
                               kl.CategoryEncoding(10, output_mode="count")])
    both_ways(kmodel, data((4,), kind="ints"), tmp_path)


def test_attention_layers_functional_both_ways(tmp_path):
    q, v = keras.Input((3, 4), name="q"), keras.Input((5, 4), name="v")
    dot = kl.Attention(use_scale=True, score_mode="dot")([q, v])
    additive = kl.AdditiveAttention()([q, v, v])
    kmodel = keras.Model([q, v], [dot, additive])
    both_ways(kmodel, [data((3, 4)), data((5, 4), 1)], tmp_path)


def test_embedding_with_mask_into_lstm_both_ways(tmp_path):
    kmodel = keras.Sequential([keras.Input((5,), dtype="int32"),
                               kl.Embedding(10, 4, mask_zero=True), kl.LSTM(3)])
    x = data((5,), kind="ints")
    x[:, 3:] = 0
    both_ways(kmodel, x, tmp_path)


def test_merging_layers_and_attention_functional_both_ways(tmp_path):
    a, b = keras.Input((5, 4), name="a"), keras.Input((5, 4), name="b")
    merged = [kl.Add()([a, b]), kl.Subtract()([a, b]), kl.Multiply()([a, b]),
              kl.Average()([a, b]), kl.Maximum()([a, b]), kl.Minimum()([a, b])]
    x = kl.Concatenate()(merged)
    x = kl.Dense(4)(x)
    att = kl.MultiHeadAttention(num_heads=2, key_dim=3)(x, b)
    dot = kl.Dot(axes=(2, 2))([att, a])
    kmodel = keras.Model([a, b], [att, kl.Flatten()(dot)])
    both_ways(kmodel, [data((5, 4)), data((5, 4), 1)], tmp_path)


def test_dict_inputs_and_outputs_shared_and_nested_both_ways(tmp_path):
    inner_in = keras.Input((3,))
    inner = keras.Model(inner_in, kl.Dense(2, name="inner_dense")(inner_in), name="inner")
    seq = keras.Sequential([keras.Input((2,)), kl.Dense(2), kl.Dense(3)], name="tail")
    shared = kl.Dense(3, name="shared")
    x, y = keras.Input((3,), name="x"), keras.Input((3,), name="y")
    left, right = inner(shared(x)), inner(shared(y))
    kmodel = keras.Model({"x": x, "y": y},
                         {"sum": seq(kl.Add()([left, right])), "left": left})
    gmodel = both_ways(kmodel, {"x": data((3,)), "y": data((3,), 1)}, tmp_path)
    assert sum(isinstance(layer, gn.Model) for layer in gmodel.layers) == 2


# ---- the book's models, compiled: evaluate gives Keras's numbers, fit continues -----------
def test_book_mnist_model_evaluates_as_keras_and_trains_on(tmp_path):
    kmodel = keras.Sequential([keras.Input((28 * 28,)), kl.Dense(16, activation="relu"),
                               kl.Dense(10, activation="softmax")])
    kmodel.compile(optimizer=keras.optimizers.RMSprop(learning_rate=0.002),
                   loss="categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 784)).astype("float32")
    y = np.eye(10, dtype="float32")[rng.integers(0, 10, 32)]
    kmodel.fit(x, y, epochs=1, batch_size=16, verbose=0)
    kmodel.save(tmp_path / "book.keras")
    expected = kmodel.evaluate(x, y, verbose=0, return_dict=True)
    gmodel = gn.load_model(tmp_path / "book.keras")
    got = gmodel.evaluate(x, y, verbose=0, return_dict=True)
    np.testing.assert_allclose(got["loss"], expected["loss"], rtol=1e-5)
    np.testing.assert_allclose(got["accuracy"], expected["accuracy"], rtol=1e-5)
    history = gmodel.fit(x, y, epochs=2, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < got["loss"]
    assert gn.load_model(tmp_path / "book.keras", compile=False).get_compile_config() is None


def test_book_convnet_and_loss_weights_compile_config(tmp_path):
    inputs = keras.Input((8, 8, 1))
    x = kl.Conv2D(4, 3, activation="relu")(inputs)
    x = kl.MaxPooling2D(2)(x)
    x = kl.Flatten()(x)
    kmodel = keras.Model(inputs, [kl.Dense(3, activation="softmax", name="cls")(x),
                                  kl.Dense(1, name="reg")(x)])
    kmodel.compile(optimizer="adam", loss=["sparse_categorical_crossentropy", "mse"],
                   loss_weights=[1.0, 0.5], metrics=[["accuracy"], ["mae"]])
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 8, 8, 1)).astype("float32")
    y = [rng.integers(0, 3, 16), rng.normal(size=(16, 1)).astype("float32")]
    kmodel.save(tmp_path / "conv.keras")
    expected = kmodel.evaluate(x, y, verbose=0, return_dict=True)
    got = gn.load_model(tmp_path / "conv.keras").evaluate(x, y, verbose=0, return_dict=True)
    np.testing.assert_allclose(got["loss"], expected["loss"], rtol=1e-5)


# ---- refused, with reasons -------------------------------------------------------------------
def test_lambda_is_refused_under_safe_mode_and_loads_when_trusted(tmp_path):
    kmodel = keras.Sequential([keras.Input((3,)), kl.Lambda(lambda t: t * 2)])
    kmodel.save(tmp_path / "lambda.keras")
    with pytest.raises(ValueError, match=r"safe_mode=True.*run\s+code"):
        gn.load_model(tmp_path / "lambda.keras")
    trusted = gn.load_model(tmp_path / "lambda.keras", safe_mode=False)
    assert_close(trusted.predict(data((3,))), data((3,)) * 2)


@keras.saving.register_keras_serializable(package="Tests")
class Doubler(kl.Layer):
    def call(self, x):
        return x * 2


def test_unknown_class_names_itself_and_custom_objects(tmp_path):
    kmodel = keras.Sequential([keras.Input((3,)), Doubler(name="twice")])
    kmodel.save(tmp_path / "custom.keras")
    with pytest.raises(ValueError, match="'Doubler'.*custom_objects"):
        gn.load_model(tmp_path / "custom.keras")

    class GnDoubler(gn.layers.Layer):
        def call(self, params, state, x, *, training=False, rng=None):
            return x * 2, state
    loaded = gn.load_model(tmp_path / "custom.keras", custom_objects={"Doubler": GnDoubler})
    assert_close(loaded.predict(data((3,))), data((3,)) * 2)


# ---- weights files both ways ----------------------------------------------------------
def _pair():
    kmodel = keras.Sequential([keras.Input((4,)), kl.Dense(3), kl.BatchNormalization(),
                               kl.Dense(2)])
    gmodel = gn.Sequential([gn.Input((4,)), layers.Dense(3), layers.BatchNormalization(),
                            layers.Dense(2)])
    return perturbed(kmodel), gmodel


def test_weights_h5_both_ways(tmp_path):
    kmodel, gmodel = _pair()
    kmodel.save_weights(tmp_path / "k.weights.h5")
    gmodel.load_weights(tmp_path / "k.weights.h5")
    x = data((4,))
    assert_close(gmodel.predict(x), kmodel.predict(x, verbose=0))
    gmodel = perturbed(gmodel)
    gmodel.save_weights(tmp_path / "g.weights.h5")
    kmodel.load_weights(tmp_path / "g.weights.h5")
    assert_close(kmodel.predict(x, verbose=0), gmodel.predict(x))
    with pytest.raises(ValueError, match="weights only"):
        gn.load_model(tmp_path / "g.weights.h5")


# ---- damaged files ---------------------------------------------------------------------
@pytest.fixture
def keras_file(tmp_path):
    kmodel = keras.Sequential([keras.Input((4,)), kl.Dense(3), kl.Dense(2)])
    kmodel.save(tmp_path / "m.keras")
    return tmp_path / "m.keras"


def _rewrite(path, edit):
    with zipfile.ZipFile(path) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    edit(files)
    with zipfile.ZipFile(path, "w") as zf:
        for name, blob in files.items():
            zf.writestr(name, blob)


def test_truncated_keras_file(keras_file):
    blob = keras_file.read_bytes()
    keras_file.write_bytes(blob[:len(blob) // 2])
    with pytest.raises(ValueError, match="truncated"):
        gn.load_model(keras_file)


@pytest.mark.parametrize("edit, message", [
    (lambda f: f.update({"config.json": b"[1, 2]"}), "no model config"),
    (lambda f: f.update({"config.json": b"{not json"}), "config.json is not valid JSON"),
    (lambda f: f.update({"model.weights.h5": b"not hdf5"}), "not a readable HDF5"),
    (lambda f: f.pop("model.weights.h5"), "has no model.weights.h5"),
])
def test_wrong_member_types(keras_file, edit, message):
    _rewrite(keras_file, edit)
    with pytest.raises(ValueError, match=message):
        gn.load_model(keras_file)


def test_h5_dataset_of_the_wrong_shape(keras_file):
    def edit(files):
        buffer = io.BytesIO(files["model.weights.h5"])
        with h5py.File(buffer, "r+") as h5:
            del h5["layers/dense/vars/0"]
            h5["layers/dense/vars/0"] = np.zeros((5, 3), "float32")
        files["model.weights.h5"] = buffer.getvalue()
    _rewrite(keras_file, edit)
    with pytest.raises(ValueError, match=r"shape \(4, 3\) in the model, \(5, 3\) in the file"):
        gn.load_model(keras_file)


def test_a_file_is_read_by_its_ending(tmp_path, keras_file):
    renamed = tmp_path / "m.graphnet"
    renamed.write_bytes(keras_file.read_bytes())
    with pytest.raises(ValueError, match="not a graphnet file"):
        gn.load_model(renamed)
    native = tmp_path / "n.keras"
    gn.Sequential([gn.Input((2,)), layers.Dense(1)]).save(tmp_path / "n.graphnet")
    native.write_bytes((tmp_path / "n.graphnet").read_bytes())
    with pytest.raises(ValueError, match="not a complete .keras file"):
        gn.load_model(native)


def test_missing_h5py_names_the_extra(tmp_path, monkeypatch):
    import builtins
    real_import = builtins.__import__

    def no_h5py(name, *args, **kwargs):
        if name == "h5py":
            raise ImportError("No module named 'h5py'")
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", no_h5py)
    model = gn.Sequential([gn.Input((2,)), layers.Dense(1)])
    with pytest.raises(ImportError, match=r"pip install .graphnet-jax\[keras\]"):
        model.save(tmp_path / "m.keras")
    assert not os.listdir(tmp_path)


def test_graphnet_model_compiled_with_mean_reduction_evaluates_the_same_in_keras(tmp_path):
    inputs = gn.Input((4,), name="features")
    trunk = layers.Dense(5, activation="relu")(inputs)
    model = gn.Model(inputs, [layers.Dense(1, name="a")(trunk), layers.Dense(2, name="b")(trunk)])
    model.compile(optimizer="adam", loss=["mse", "mae"], loss_weights=[2.0, 1.0])
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 4)).astype("float32")
    y = [rng.normal(size=(8, 1)).astype("float32"), rng.normal(size=(8, 2)).astype("float32")]
    model.save(tmp_path / "m.keras")
    kmodel = keras.saving.load_model(tmp_path / "m.keras")
    assert_close(kmodel.predict(x, verbose=0), model.predict(x))
    np.testing.assert_allclose(kmodel.evaluate(x, y, verbose=0)[0],
                               model.evaluate(x, y, verbose=0)["loss"]
                               if isinstance(model.evaluate(x, y, verbose=0), dict)
                               else model.evaluate(x, y, verbose=0)[0], rtol=1e-5)
