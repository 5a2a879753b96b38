"""utils.timeseries_dataset_from_array: Keras's windows and batches, worked out by hand from
Keras's documented semantics (its own implementation needs TensorFlow), and `fit` on them."""
import numpy as np
import pytest

import graphnet as gn
from graphnet import layers
from graphnet.utils import timeseries_dataset_from_array


def test_the_books_dummy_dataset():
    """Chapter 10's example: windows of 3 over 0..6, each with the next value as target."""
    seq = np.arange(10)
    ds = timeseries_dataset_from_array(seq[:-3], targets=seq[3:], sequence_length=3,
                                       batch_size=2)
    batches = [(x.tolist(), y.tolist()) for x, y in ds]
    assert batches == [([[0, 1, 2], [1, 2, 3]], [3, 4]), ([[2, 3, 4], [3, 4, 5]], [5, 6]),
                       ([[4, 5, 6]], [7])]
    assert len(ds) == 3 and [len(x) for x, _ in ds] == [2, 2, 1]       # re-iterable


def test_sampling_rate_stride_and_index_range_by_hand():
    data = np.arange(100).reshape(50, 2)        # step i holds (2i, 2i + 1)
    targets = np.arange(50) * 10
    ds = timeseries_dataset_from_array(data, targets, sequence_length=3, sampling_rate=2,
                                       sequence_stride=4, batch_size=3, start_index=5,
                                       end_index=20)
    # windows start at 5 + 0, 4, 8 (5 + 8 + 2*2 = 17 < 20; the next, 5 + 12, would end at 21)
    x, y = zip(*ds)
    x, y = np.concatenate(x), np.concatenate(y)
    starts = [5, 9, 13]
    np.testing.assert_array_equal(x, [data[[s, s + 2, s + 4]] for s in starts])
    np.testing.assert_array_equal(y, [targets[s] for s in starts])
    assert x.dtype == data.dtype and y.dtype == targets.dtype
    # start_index=0 is the whole start, as in Keras (the book passes it explicitly)
    whole = timeseries_dataset_from_array(data, None, sequence_length=5, start_index=0,
                                          end_index=10, batch_size=None)
    windows = [w.tolist() for w in whole]
    assert windows == [data[s:s + 5].tolist() for s in range(6)]


def test_targets_shorter_than_the_windows_limit_them():
    ds = timeseries_dataset_from_array(np.arange(10), np.arange(4), sequence_length=2,
                                       batch_size=10)
    (x, y), = list(ds)
    assert x.tolist() == [[0, 1], [1, 2], [2, 3], [3, 4]] and y.tolist() == [0, 1, 2, 3]


def test_shuffle_keeps_the_windows_and_follows_keras_first_draw():
    data = np.arange(40)
    ds = timeseries_dataset_from_array(data, data * 2, sequence_length=4, batch_size=3,
                                       shuffle=True, seed=7)
    starts = np.arange(37, dtype="int32")
    np.random.RandomState(7).shuffle(starts)          # Keras's first shuffle, by hand
    np.testing.assert_array_equal(ds.starts, starts)
    passes = []
    for _ in range(2):
        x, y = map(np.concatenate, zip(*ds))
        np.testing.assert_array_equal(y, x[:, 0] * 2)
        np.testing.assert_array_equal(x, x[:, :1] + np.arange(4))
        assert sorted(x[:, 0].tolist()) == list(range(37))
        passes.append(x[:, 0].tolist())
    assert passes[0] != passes[1]                     # a new order each pass, as tf.data
    again = timeseries_dataset_from_array(data, data * 2, sequence_length=4, batch_size=3,
                                          shuffle=True, seed=7)
    first = np.concatenate([b[1] for b in again]).tolist()
    assert first == [p * 2 for p in passes[0]]         # the same seed, the same passes


def test_fit_takes_it_and_trains_as_on_the_same_batches():
    r = np.random.default_rng(0)
    series = r.normal(size=(60, 2)).astype("float32")
    target = series[:, 0].copy()
    ds = timeseries_dataset_from_array(series[:-2], target[2:], sequence_length=4, batch_size=8)
    x, y = map(np.concatenate, zip(*ds))

    def model():
        inp = gn.Input((4, 2))
        m = gn.Model(inp, layers.Dense(1)(layers.Flatten()(inp)))
        m.set_weights([np.full((8, 1), 0.1, "float32"), np.zeros(1, "float32")])
        m.compile(optimizer="sgd", loss="mse")
        return m
    a, b = model(), model()
    a.fit(ds, epochs=2, verbose=0)
    b.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-6)
    np.testing.assert_allclose(a.evaluate(ds, verbose=0), b.evaluate(x, y, verbose=0), rtol=1e-6)


def test_grain_format_same_batches_and_a_whole_shuffle():
    data = np.arange(30)
    tf_like = [b.tolist() for b in timeseries_dataset_from_array(data, None, 3, batch_size=4)]
    grain = [b.tolist() for b in timeseries_dataset_from_array(data, None, 3, batch_size=4,
                                                                format="grain")]
    assert grain == tf_like
    shuffled = timeseries_dataset_from_array(data, None, 3, batch_size=4, shuffle=True, seed=3,
                                             format="grain")
    firsts = np.concatenate(list(shuffled))[:, 0]
    assert sorted(firsts.tolist()) == list(range(28)) and firsts.tolist() != list(range(28))
    with pytest.raises(ValueError, match='`format` should be either "tf" or "grain"'):
        timeseries_dataset_from_array(data, None, 3, format="torch")


@pytest.mark.parametrize("kw,message", [
    (dict(start_index=-1), "`start_index` must be 0 or greater"),
    (dict(start_index=10), "`start_index` must be lower than the length of the data"),
    (dict(start_index=4, end_index=3), "`end_index` must be higher than `start_index`"),
    (dict(end_index=10), "`end_index` must be lower than the length of the data"),
    (dict(sampling_rate=0), "`sampling_rate` must be 1 or greater"),
    (dict(sequence_stride=10), "`sequence_stride` must be lower than the length"),
])
def test_bad_arguments_are_refused_as_keras_does(kw, message):
    with pytest.raises(ValueError, match=message):
        timeseries_dataset_from_array(np.arange(10), None, sequence_length=2, **kw)
    with pytest.raises(TypeError, match="`sequence_length` must be an int"):
        timeseries_dataset_from_array(np.arange(10), None, sequence_length=2.5)
