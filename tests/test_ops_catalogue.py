"""The rest of keras.ops against Keras on random inputs: NaN reductions, windows, linear
algebra, Fourier transforms, shrink activations, pixel shuffles, patches, CTC, control flow;
and symbolic shapes against Keras's `compute_output_spec`."""
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest

import graphnet as gn
from graphnet import ops

rng = np.random.default_rng(1)
X = rng.normal(size=(3, 4)).astype("float32")
Y = rng.normal(size=(3, 4)).astype("float32")
P = (np.abs(X) + 0.5).astype("float32")
XN = X.copy()
XN[0, 1] = XN[2, 3] = np.nan
I = np.array([[4, 6, 9], [2, 12, 7]], "int32")
J = np.array([[2, 4, 3], [5, 8, 1]], "int32")
SPD = (X.T @ X + 4 * np.eye(4)).astype("float32")          # symmetric positive definite
LOW = np.linalg.cholesky(SPD).astype("float32")
SQ = (rng.normal(size=(2, 3, 3)) + 3 * np.eye(3)).astype("float32")
B = rng.normal(size=(2, 3, 2)).astype("float32")
SIG = rng.normal(size=(2, 40)).astype("float32")
RE, IM = rng.normal(size=(2, 3, 8)).astype("float32")
IMG = rng.normal(size=(2, 4, 6, 8)).astype("float32")
NCHW = rng.normal(size=(2, 3, 5, 6)).astype("float32")
SEG = np.array([0, 0, 2, 1])
CTC_TARGET = np.array([[1, 2, 0], [3, 3, 1]], "int32")
CTC_LOGITS = rng.normal(size=(2, 7, 5)).astype("float32")

CASES = [
    # NaN-aware and other reductions
    ("nansum", (XN,), {"axis": 1}), ("nanmean", (XN,), {}), ("nanmax", (XN,), {"axis": 0}),
    ("nanmin", (XN,), {"axis": -1, "keepdims": True}), ("nanprod", (XN,), {"axis": 1}),
    ("nanstd", (XN,), {"axis": 1}), ("nanvar", (XN,), {}), ("nanmedian", (XN,), {"axis": 1}),
    ("nanargmax", (XN,), {"axis": 1}), ("nanargmin", (XN,), {"axis": 0}),
    ("nancumsum", (XN,), {"axis": 1}), ("nancumprod", (XN,), {"axis": 0}),
    ("nanquantile", (XN, 0.3), {"axis": 1}), ("nanpercentile", (XN, 70.0), {"axis": 0}),
    ("percentile", (X, 25.0), {"axis": 1}), ("ptp", (X,), {"axis": 0}),
    ("trapezoid", (X,), {"dx": 0.5, "axis": 0}),
    # element-wise
    ("cbrt", (X,), {}), ("deg2rad", (X,), {}), ("rad2deg", (X,), {}), ("fabs", (X,), {}),
    ("fmax", (XN, Y), {}), ("fmin", (XN, Y), {}), ("fmod", (X, P), {}),
    ("nextafter", (X, Y), {}), ("signbit", (X,), {}), ("isneginf", (X / 0,), {}),
    ("isposinf", (X / 0,), {}), ("isreal", (X,), {}), ("sinc", (X,), {}), ("i0", (X,), {}),
    ("angle", (X,), {}), ("logaddexp", (X, Y), {}), ("logaddexp2", (X, Y), {}),
    ("ldexp", (X, np.array([1, -2, 0, 3], "int32")), {}), ("divide_no_nan", (X, np.where(Y > 0, Y, 0)), {}),
    ("gcd", (I, J), {}), ("lcm", (I, J), {}), ("left_shift", (I, J), {}),
    ("right_shift", (I, J), {}), ("bitwise_left_shift", (I, J), {}),
    ("bitwise_right_shift", (I, J), {}), ("bitwise_invert", (I,), {}),
    ("erfc", (X,), {}), ("isin", (I, J), {}), ("copy", (X,), {}),
    ("saturate_cast", (X * 300, "uint8"), {}), ("saturate_cast", (X * 1e5, "int16"), {}),
    # arrangement and creation
    ("diagflat", (X[0],), {"k": 1}), ("dstack", ([X, Y],), {}), ("fliplr", (X,), {}),
    ("flipud", (X,), {}), ("hsplit", (X, 2), {}), ("vsplit", (IMG[0], 2), {}),
    ("dsplit", (IMG[0], 2), {}), ("rot90", (X,), {}), ("rot90", (IMG,), {"k": 3, "axes": (1, 2)}),
    ("vander", (X[0],), {"N": 3}), ("select", ([X > 0.5, X < -0.5], [X, Y]), {"default": 1.0}),
    ("unravel_index", (np.array([1, 7, 11]), (3, 4)), {}), ("view", (X, "int32"), {}),
    ("argpartition", (X, 2), {}), ("geomspace", (1.0, 100.0, 5), {}),
    ("corrcoef", (X,), {}), ("correlate", (X[0], Y[0][:2]), {}),
    ("correlate", (X[0], Y[0]), {"mode": "full"}), ("cdist", (X, Y), {}),
    ("array", (X,), {}),
    ("empty_like", (X,), {}),
    ("histogram", (X.ravel(),), {"bins": 4}),
    # segments
    ("segment_min", (X.T, SEG), {"num_segments": 3}),
    ("segment_prod", (X.T, SEG), {"num_segments": 3}),
    # linear algebra
    ("cholesky", (SPD,), {"upper": True}), ("cholesky_inverse", (LOW.T,), {"upper": True}),
    ("det", (SQ,), {}), ("inv", (SQ,), {}), ("slogdet", (SQ,), {}), ("logdet", (SPD,), {}),
    ("eigh", (SPD,), {}), ("solve", (SQ, B), {}), ("solve_triangular", (LOW, X.T), {"lower": True}),
    ("lu_factor", (SQ,), {}), ("qr", (X,), {}), ("qr", (X,), {"mode": "complete"}),
    ("svd", (X,), {"compute_uv": False}), ("lstsq", (X, Y[:, :2]), {}),
    ("matrix_rank", (X,), {}), ("matrix_rank", (SPD,), {"tol": 5.0}), ("pinv", (X,), {}),
    ("norm", (I,), {}),
    # Fourier
    ("fft", ((RE, IM),), {}), ("fft2", ((RE, IM),), {}), ("ifft2", ((RE, IM),), {}),
    ("rfft", (RE,), {}), ("rfft", (RE,), {"fft_length": 12}), ("irfft", ((RE, IM),), {}),
    ("irfft", ((RE, IM),), {"fft_length": 10}), ("extract_sequences", (SIG, 8, 3), {}),
    ("stft", (SIG, 8, 4, 16), {}), 
    ("stft", (SIG, 8, 2, 8), {"window": np.linspace(0.1, 1.0, 8).astype("float32"),
                              "center": False}),
    ("view_as_real", (RE + 1j * IM,), {}), ("view_as_complex", (np.stack([RE, IM], -1),), {}),
    # neural
    ("celu", (X,), {"alpha": 0.7}), ("glu", (X,), {}), ("hard_tanh", (X * 2,), {}),
    ("hard_shrink", (X,), {}), ("soft_shrink", (X,), {"threshold": 0.3}),
    ("tanh_shrink", (X,), {}), ("threshold", (X, 0.1, -2.0), {}), ("sparse_plus", (X,), {}),
    ("sparse_sigmoid", (X,), {}), ("squareplus", (X,), {"b": 2}), ("sparsemax", (X,), {"axis": 0}), ("psnr", (P, P * 1.1, 2.0), {}),
    ("layer_normalization", (X,), {}), ("layer_normalization", (X, P[0], Y[0]), {"epsilon": 1e-3}),
    ("layer_normalization", (IMG, P[0], P[1]), {"axis": [1]}),
    ("layer_normalization", (X, P[0]), {"rms_scaling": True}),
    ("rms_normalization", (X,), {}), ("rms_normalization", (X, P[0]), {"epsilon": 1e-2}),
    ("polar", (P, X), {}),
    ("conv_transpose", (IMG, rng.normal(size=(3, 3, 5, 8)).astype("float32")), {"strides": 2}),
    ("conv_transpose", (IMG, rng.normal(size=(2, 3, 4, 8)).astype("float32")),
     {"strides": (2, 1), "padding": "same"}),
    ("conv_transpose", (IMG, rng.normal(size=(3, 3, 4, 8)).astype("float32")),
     {"strides": 2, "output_padding": 1, "dilation_rate": 1}),
    ("depth_to_space", (IMG, 2), {}), ("space_to_depth", (IMG, 2), {}),
    ("depth_to_space", (NCHW[:, :, :, :4].transpose(0, 3, 1, 2).copy(), 2),
     {"data_format": "channels_first"}),
    ("adaptive_average_pool", (IMG, (3, 4)), {}), ("adaptive_max_pool", (IMG, 5), {}),
    ("adaptive_average_pool", (SIG[..., None], 7), {}),
    ("unfold", (NCHW, (2, 3)), {"dilation": (2, 1), "padding": 1, "stride": 2}),
    ("fold", (np.asarray(keras.ops.unfold(NCHW, 2, padding=1, stride=2)), (5, 6), 2),
     {"padding": 1, "stride": 2}),
    ("ctc_loss", (CTC_TARGET, CTC_LOGITS, np.array([2, 3]), np.array([7, 5])), {}),
    ("ctc_decode", (CTC_LOGITS, np.array([6, 7])), {"merge_repeated": False, "mask_index": 2}),
    ("rearrange", (IMG, "b (h h1) (w w1) c -> b h w (c h1 w1)"), {"h1": 2, "w1": 2}),
]


def keras_reference(fn, *args, **kwargs):
    """Keras's result; some of its JAX code mixes dtypes, so it runs with JAX's standard
    promotion (graphnet's runs under the tests' strict one)."""
    with jax.numpy_dtype_promotion("standard"):
        return fn(*args, **kwargs)


def _leaves(value):
    return [np.asarray(v) for v in jax.tree_util.tree_leaves(value)]


# value-dependent shapes or host checks: these run eagerly, the others as one compiled program
# each (compiling one program costs far less than compiling each primitive eagerly)
EAGER = {"cholesky", "ldexp", "rearrange"}


def run(fn, name, args, kwargs):
    if name in EAGER:
        return fn(*args, **kwargs)
    return jax.jit(lambda: fn(*args, **kwargs))()


@pytest.mark.parametrize("name,args,kwargs", CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_op_matches_keras(name, args, kwargs):
    expected = _leaves(keras_reference(run, getattr(keras.ops, name), name, args, kwargs))
    got = _leaves(run(getattr(ops, name), name, args, kwargs))
    assert len(got) == len(expected)
    for e, g in zip(expected, got):
        assert e.shape == g.shape and e.dtype == g.dtype, (e.shape, g.shape, e.dtype, g.dtype)
        if name in ("empty_like",):
            continue                        # values unspecified, as in NumPy
        np.testing.assert_allclose(g, e, rtol=2e-5, atol=1e-5)


def test_windows_and_counts_are_numpys():
    # Keras's windows are NumPy's cast to float32; its bincount is NumPy's
    names = ("bartlett", "blackman", "hamming", "hanning")
    got = jax.jit(lambda: [getattr(ops, n)(6) for n in names] + [ops.kaiser(7, 3.0)])()
    for g, e in zip(got, [getattr(np, n)(6) for n in names] + [np.kaiser(7, 3.0)]):
        assert g.dtype == np.float32
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-7)
    counts = np.array([0, 3, 1, 3])
    np.testing.assert_array_equal(ops.bincount(counts, minlength=6),
                                  np.bincount(counts, minlength=6))


def test_istft_inverts_stft_as_keras():
    for window, center, length in (("hamming", False, None), (None, True, 33)):
        def inverse(o):
            spec = o.stft(SIG, 8, 4, 16, window=window, center=center)
            return o.istft(spec, 8, 4, 16, length=length, window=window, center=center)
        expected = keras_reference(jax.jit(lambda: inverse(keras.ops)))
        got = jax.jit(lambda: inverse(ops))()
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, rtol=2e-5, atol=1e-5)


def test_eig_and_svd_factor_their_input():
    values, vectors = ops.eig(SQ[0])
    np.testing.assert_allclose(SQ[0].astype("complex64") @ np.asarray(vectors),
                               np.asarray(vectors * values),
                               rtol=1e-4, atol=1e-4)
    u, s, vh = ops.svd(X)
    np.testing.assert_allclose(np.asarray(u[:, :3] * s @ vh[:3]), X, rtol=1e-5, atol=1e-5)


# symbolic tensors: each op records a node whose shape is Keras's
SYMBOLIC = [
    ("nanmean", lambda o, x: o.nanmean(x, axis=1)), ("cbrt", lambda o, x: o.cbrt(x)),
    ("logaddexp", lambda o, x: o.logaddexp(x, x)), ("rot90", lambda o, x: o.rot90(x, axes=(1, 2))),
    ("rfft", lambda o, x: o.rfft(x)), ("stft", lambda o, x: o.stft(x, 4, 2, 8)),
    ("inv", lambda o, x: o.inv(o.matmul(o.transpose(x, (0, 2, 1)), x))),
    ("sparsemax", lambda o, x: o.sparsemax(x)), ("glu", lambda o, x: o.glu(x)),
    ("layer_normalization", lambda o, x: o.layer_normalization(x)),
    ("cdist", lambda o, x: o.cdist(x, x)),
]


@pytest.mark.parametrize("name,build", SYMBOLIC, ids=[s[0] for s in SYMBOLIC])
def test_symbolic_shapes_match_keras(name, build):
    k_out = keras.tree.flatten(keras_reference(build, keras.ops, keras.Input((6, 6))))
    g_out = keras.tree.flatten(build(ops, gn.Input((6, 6))))
    assert [tuple(t.shape) for t in g_out] == [tuple(t.shape) for t in k_out]
    assert [str(np.dtype(t.dtype)) for t in g_out] == [str(t.dtype) for t in k_out]


def test_symbolic_ops_run_in_a_model_with_keras_numbers():
    x = rng.normal(size=(2, 6, 6)).astype("float32")

    def build(o, inp):
        real, imag = o.rfft(inp)
        return o.nanmean(o.sparsemax(real), axis=1) + o.logsumexp(imag, axis=1)
    k_in, g_in = keras.Input((6, 6)), gn.Input((6, 6))
    with jax.numpy_dtype_promotion("standard"):
        expected = keras.Model(k_in, build(keras.ops, k_in)).predict(x, verbose=0)
    got = gn.Model(g_in, build(ops, g_in)).predict(x)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_rearrange_on_a_symbolic_tensor_keeps_the_batch_axis_unknown():
    # Keras cannot infer this shape with an unknown batch size; graphnet can
    inp = gn.Input((4, 6))
    out = ops.rearrange(inp, "b h w -> b (w h)")
    assert out.shape == (None, 24)
    x = rng.normal(size=(2, 4, 6)).astype("float32")
    np.testing.assert_array_equal(gn.Model(inp, out).predict(x),
                                  x.transpose(0, 2, 1).reshape(2, 24))


def test_control_flow_ops_match_keras():
    branches = [lambda a: a * 2, lambda a: a - 1, lambda a: -a]

    def run_all(o):                          # one compiled program per library
        return [o.switch(7, branches, X),     # clamped to the last branch
                o.associative_scan(jnp.add, X, reverse=True, axis=1),
                o.vectorize(lambda a, b: a * b + 1)(X, Y)]
    for g, e in zip(jax.jit(lambda: run_all(ops))(),
                    keras_reference(jax.jit(lambda: run_all(keras.ops)))):
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6)
    primal, tangent = jax.jit(lambda: ops.jvp(jnp.sin, (X,), (Y,)))()
    np.testing.assert_allclose(tangent, np.cos(X) * Y, rtol=1e-5, atol=1e-6)


def test_loops_match_keras():
    def run_all(o):
        return [o.cond(X.sum() > 0, lambda: X * 2.0, lambda: X),
                o.fori_loop(0, 3, lambda i, v: v * 2.0 + 1.0, X),
                o.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, v * 2.0), (0, X)),
                o.scan(lambda c, x: (c + x, c * x), X[0], X[1:]),
                o.map(lambda row: row @ row, X),
                o.vectorized_map(lambda row: row[::-1], X)]
    ours, theirs = _leaves(run_all(ops)), _leaves(keras_reference(run_all, keras.ops))
    assert len(ours) == len(theirs) == 8
    for g, e in zip(ours, theirs):
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("sort", [True, False])
def test_top_k_matches_keras_with_ties_sorted_or_not(sort):
    x = np.array([[1.0, 5.0, 3.0, 5.0, 4.0], [0.0, -1.0, 2.0, 2.0, 2.0]], "float32")
    ours, theirs = ops.top_k(x, 3, sorted=sort), keras.ops.top_k(x, 3, sorted=sort)
    assert type(ours) is type(theirs)              # a list, as Keras's JAX backend gives
    np.testing.assert_array_equal(ours[0], [[5.0, 5.0, 4.0], [2.0, 2.0, 2.0]])
    np.testing.assert_array_equal(ours[1], [[1, 3, 4], [2, 3, 4]])   # lower position first
    for g, e in zip(ours, theirs):
        np.testing.assert_array_equal(g, e)


def test_lstsq_takes_one_system_as_keras_and_maps_over_a_batch():
    a = rng.normal(size=(2, 4, 3)).astype("float32")
    b = rng.normal(size=(2, 4)).astype("float32")
    for args in ((a, b), (a[0], b), (a[0], b[0, :3])):
        with pytest.raises(ValueError, match=r"ops\.lstsq: expects a of shape \(m, n\)"):
            ops.lstsq(*args)
        with pytest.raises((ValueError, TypeError)):      # Keras refuses them too
            keras.ops.lstsq(*args)
    mapped = ops.vectorized_map(lambda ab: ops.lstsq(*ab), (a, b))
    by_numpy = [np.linalg.lstsq(a[i].astype("float64"), b[i].astype("float64"), rcond=None)[0]
                for i in range(2)]
    np.testing.assert_allclose(mapped, by_numpy, rtol=1e-4, atol=1e-5)


def test_ops_taking_functions_run_inside_a_custom_layer():
    class PrefixSums(gn.layers.Layer):
        def call(self, inputs):
            sums = ops.associative_scan(jnp.add, inputs, axis=1)
            return ops.switch(1, [lambda a: a, lambda a: a * 2.0], sums)
    inp = gn.Input((4,))
    model = gn.Model(inp, PrefixSums()(inp))
    np.testing.assert_allclose(model.predict(X), 2 * np.cumsum(X, axis=1), rtol=1e-5,
                               atol=1e-6)


def test_custom_gradient_sets_the_gradient():
    @ops.custom_gradient
    def clipped_identity(x):
        def grad(upstream):
            return jnp.clip(upstream, -0.5, 0.5)
        return x * 1.0, grad
    g = jax.grad(lambda x: jnp.sum(clipped_identity(x) * 3.0))(X)
    np.testing.assert_array_equal(np.asarray(g), np.full_like(X, 0.5))


def test_ops_taking_functions_refuse_symbolic_tensors_by_name():
    inp = gn.Input((4,))
    with pytest.raises(TypeError, match="switch.*Lambda"):
        ops.switch(0, [lambda a: a], inp)
    with pytest.raises(TypeError, match="associative_scan"):
        ops.associative_scan(jnp.add, inp)


LOOPS = {
    "cond": lambda s: ops.cond(s, lambda: 1.0, lambda: 0.0),
    "fori_loop": lambda s: ops.fori_loop(0, 2, lambda i, v: v + 1.0, s),
    "while_loop": lambda s: ops.while_loop(lambda v: False, lambda v: v, (s,)),
    "scan": lambda s: ops.scan(lambda c, x: (c, x), 0.0, s),
    "map": lambda s: ops.map(lambda row: row, s),
    "vectorized_map": lambda s: ops.vectorized_map(lambda row: row, s),
}


@pytest.mark.parametrize("name", LOOPS)
def test_loops_refuse_symbolic_tensors_by_name(name):
    with pytest.raises(TypeError, match=rf"ops\.{name} takes Python functions.*Lambda"):
        LOOPS[name](gn.Input((4,)))


def test_loops_refuse_a_symbolic_tensor_a_function_returns():
    inp = gn.Input((4,))
    with pytest.raises(TypeError, match=r"ops\.cond takes Python functions"):
        ops.cond(True, lambda: inp * 2.0, lambda: inp)
    with pytest.raises(TypeError, match=r"ops\.map takes Python functions"):
        ops.map(lambda row: inp, X)


def test_bad_arguments_name_the_op():
    with pytest.raises(ValueError, match="ops.inv: expects square"):
        ops.inv(X)
    with pytest.raises(ValueError, match="ops.fft: x must be a tuple"):
        ops.fft(X)
    with pytest.raises(TypeError, match="ops.ldexp: the exponent"):
        ops.ldexp(X, Y)
    with pytest.raises(ValueError, match="ops.cholesky: the decomposition failed"):
        ops.cholesky(-SPD)
    with pytest.raises(NotImplementedError, match="beam_search"):
        ops.ctc_decode(CTC_LOGITS, np.array([7, 7]), strategy="beam_search")
    with pytest.raises(ValueError, match="ops.rearrange: both sides"):
        ops.rearrange(X, "a b -> a c")


def test_sub_namespaces_hold_keras_names():
    for ns in ("linalg", "nn", "numpy"):
        theirs = {n for n in dir(getattr(keras.ops, ns)) if not n.startswith("_")}
        missing = sorted(n for n in theirs if not hasattr(getattr(ops, ns), n))
        assert not missing, (ns, missing)
    assert ops.linalg.qr is ops.qr and ops.nn.sparsemax is ops.sparsemax
