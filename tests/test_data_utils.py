"""pad_sequences, to_categorical, split_dataset and PyDataset against Keras 3 and NumPy."""
import numpy as np
import pytest

import graphnet as gn
from graphnet import layers

keras = pytest.importorskip("keras")
SEQS = [[1, 2, 3, 4], [5, 6], [], [7, 8, 9]]


@pytest.mark.parametrize("kw", [{}, {"maxlen": 3}, {"maxlen": 3, "padding": "post"},
                                {"maxlen": 2, "truncating": "post", "value": -1},
                                {"maxlen": 5, "dtype": "float32", "value": 0.5}])
def test_pad_sequences_matches_keras(kw):
    ours = gn.utils.pad_sequences(SEQS, **kw)
    theirs = keras.utils.pad_sequences(SEQS, **kw)
    assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)


def test_pad_sequences_of_vectors_and_errors():
    seqs = [np.ones((2, 3)), np.full((4, 3), 2.0)]
    out = gn.utils.pad_sequences(seqs, dtype="float32")
    assert out.shape == (2, 4, 3) and (out[0, :2] == 0).all() and (out[0, 2:] == 1).all()
    np.testing.assert_array_equal(out, keras.utils.pad_sequences(seqs, dtype="float32"))
    with pytest.raises(ValueError, match="padding must be"):
        gn.utils.pad_sequences(SEQS, padding="middle")


@pytest.mark.parametrize("y,n", [([0, 2, 1], None), ([[1], [3]], 5), (np.array([[0, 1], [2, 0]]), 3)])
def test_to_categorical_matches_keras(y, n):
    ours = gn.utils.to_categorical(y, n)
    theirs = keras.utils.to_categorical(y, n)
    # Keras returns float64 for NumPy labels; graphnet float32, the dtype models take.
    assert ours.shape == theirs.shape and ours.dtype == np.float32
    np.testing.assert_array_equal(ours, theirs)


def test_split_dataset_sizes_like_keras():
    """Keras's size rules (its split_dataset needs TensorFlow, so sizes are written out)."""
    x = np.arange(20).reshape(10, 2)
    y = np.arange(10)
    for kw, sizes in [({"left_size": 0.8}, (8, 2)), ({"right_size": 3}, (7, 3)),
                      ({"left_size": 4, "right_size": 0.5}, (4, 5))]:
        left, right = gn.utils.split_dataset((x, y), **kw)
        assert (len(left[0]), len(right[0])) == sizes
        np.testing.assert_array_equal(left[1], y[:sizes[0]])
        np.testing.assert_array_equal(right[1], y[10 - sizes[1]:])
    left, right = gn.utils.split_dataset({"a": x, "b": y}, left_size=0.5, shuffle=True, seed=1)
    together = np.sort(np.concatenate([left["b"], right["b"]]))
    np.testing.assert_array_equal(together, y)
    np.testing.assert_array_equal(left["a"][:, 0] // 2, left["b"])      # rows stay together
    with pytest.raises(ValueError, match="left_size"):
        gn.utils.split_dataset(x, left_size=1.5)
    with pytest.raises(ValueError, match="give left_size, right_size"):
        gn.utils.split_dataset(x)


class Squares(gn.utils.PyDataset):
    def __init__(self, n, batch_size):
        super().__init__()
        self.x = np.linspace(-1, 1, n, dtype="float32")[:, None]
        self.batch_size, self.epochs_seen = batch_size, 0

    def __len__(self):
        return len(self.x) // self.batch_size

    def __getitem__(self, i):
        part = self.x[i * self.batch_size:(i + 1) * self.batch_size]
        return part, part ** 2

    def on_epoch_end(self):
        self.epochs_seen += 1


def test_pydataset_trains_like_the_arrays():
    data = Squares(32, 8)
    i = gn.Input((1,))
    model = gn.Model(i, layers.Dense(1)(i))
    twin = gn.Model.from_config(model.get_config())
    twin.set_weights(model.get_weights())
    for m in (model, twin):
        m.compile(optimizer=gn.optimizers.SGD(0.1), loss="mse")
    history = model.fit(data, epochs=3, verbose=0)
    twin.fit(data.x, data.x ** 2, batch_size=8, epochs=3, shuffle=False, verbose=0)
    assert data.epochs_seen == 3 and len(history.history["loss"]) == 3
    for a, b in zip(model.get_weights(), twin.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    assert model.evaluate(data, verbose=0) == pytest.approx(twin.evaluate(
        data.x, data.x ** 2, batch_size=8, verbose=0), rel=1e-6)
