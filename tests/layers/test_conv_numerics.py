"""ops.conv and ops.pool: values against NumPy loops, gradients against jax.grad of lax.conv."""
import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from jax import lax

from graphnet import _conv as ops

FAST = settings(max_examples=15, deadline=None)


def numpy_conv(x, kernel, strides, pads, dilation, groups=1):
    """Direct-loop N-D convolution (channels last) after explicit zero padding."""
    rank = x.ndim - 2
    x = np.pad(x, [(0, 0), *pads, (0, 0)])
    k_sizes, (c_group, c_out) = kernel.shape[:rank], kernel.shape[-2:]
    spans = [(k - 1) * d + 1 for k, d in zip(k_sizes, dilation)]
    out_sizes = [(n - sp) // s + 1 for n, sp, s in zip(x.shape[1:-1], spans, strides)]
    out = np.zeros((x.shape[0], *out_sizes, c_out), np.float64)
    out_group = c_out // groups
    for pos in np.ndindex(*out_sizes):
        for tap in np.ndindex(*k_sizes):
            idx = tuple(p * s + t * d for p, s, t, d in zip(pos, strides, tap, dilation))
            patch = x[(slice(None), *idx)]                    # (batch, c_in)
            for g in range(groups):
                out[(slice(None), *pos, slice(g * out_group, (g + 1) * out_group))] += (
                    patch[:, g * c_group:(g + 1) * c_group] @ kernel[tap][:, g * out_group:(g + 1) * out_group])
    return out


@st.composite
def conv_cases(draw):
    rank = draw(st.integers(1, 2))
    groups = draw(st.sampled_from([1, 1, 2]))
    c_group, out_group = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    strides = tuple(draw(st.integers(1, 2)) for _ in range(rank))
    dilation = tuple(1 if max(strides) > 1 else draw(st.integers(1, 2)) for _ in range(rank))
    sizes = tuple(draw(st.integers(4, 7)) for _ in range(rank))
    padding = draw(st.sampled_from(["valid", "same"]))
    return rank, groups, c_group, out_group, kernel, strides, dilation, sizes, padding


@FAST
@given(conv_cases(), st.integers(0, 2**16))
def test_conv_matches_numpy_loops(case, seed):
    rank, groups, c_group, out_group, kernel, strides, dilation, sizes, padding = case
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(2, *sizes, groups * c_group)).astype("float32")
    w = rng.normal(size=(*kernel, c_group, groups * out_group)).astype("float32")
    pads = ops.conv_padding(sizes, kernel, strides, dilation, padding)
    got = ops.conv(jnp.asarray(x), jnp.asarray(w), strides, padding, dilation, groups=groups)
    want = numpy_conv(x, w, strides, pads, dilation, groups)
    assert got.shape == want.shape
    assert got.shape[1:-1] == tuple(ops.conv_output_length(n, k, s, d, padding)
                                    for n, k, s, d in zip(sizes, kernel, strides, dilation))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@settings(max_examples=12, deadline=None)
@given(conv_cases(), st.integers(1, 2), st.integers(0, 2**16))
def test_conv_gradients_equal_jax_grad_of_lax_conv(case, lhs_dilation, seed):
    """The custom VJP (canonical convolutions) against JAX's own transpose rules, including
    strides, dilation, input dilation (Conv2DTranspose), groups and uneven padding."""
    rank, groups, c_group, out_group, kernel, strides, dilation, sizes, _ = case
    rng = np.random.default_rng(seed)
    pads = tuple((int(lo), int(hi)) for lo, hi in rng.integers(0, 3, (rank, 2)))
    lhs = (lhs_dilation,) * rank
    x = jnp.asarray(rng.normal(size=(2, *sizes, groups * c_group)), jnp.float32)
    w = jnp.asarray(rng.normal(size=(*kernel, c_group, groups * out_group)), jnp.float32)
    spatial = "HW"[-rank:] if rank < 3 else "DHW"
    dn = (f"N{spatial}C", f"{spatial}IO", f"N{spatial}C")

    def reference(x, w):
        return lax.conv_general_dilated(x, w, strides, pads, lhs, dilation, dimension_numbers=dn,
                                        feature_group_count=groups)

    def ours(x, w):
        return ops.conv(x, w, strides, pads, dilation, lhs_dilation=lhs, groups=groups)

    @jax.jit
    def both(x, w, cotangent):
        (y, vjp), (y_ref, vjp_ref) = jax.vjp(ours, x, w), jax.vjp(reference, x, w)
        return y, y_ref, vjp(cotangent), vjp_ref(cotangent)
    shape = jax.eval_shape(reference, x, w).shape
    cotangent = jnp.asarray(rng.normal(size=shape), jnp.float32)
    y, y_ref, grads, grads_ref = both(x, w, cotangent)
    np.testing.assert_allclose(y, y_ref, rtol=1e-6, atol=1e-6)
    for got, want in zip(grads, grads_ref):
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_conv_gradients_of_an_empty_output_are_zero():
    """A dilated kernel wider than its padded input gives no output: the gradients are zero
    (JAX's own transpose agrees), not a convolution with an empty window."""
    x = jnp.ones((2, 4, 1), jnp.float32)
    w = jnp.ones((3, 1, 1), jnp.float32)

    def loss(x, w):
        return jnp.sum(ops.conv(x, w, 1, "valid", 2))
    assert jax.eval_shape(lambda x, w: ops.conv(x, w, 1, "valid", 2), x, w).shape == (2, 0, 1)
    dx, dw = jax.jit(jax.grad(loss, argnums=(0, 1)))(x, w)
    np.testing.assert_array_equal(dx, np.zeros((2, 4, 1)))
    np.testing.assert_array_equal(dw, np.zeros((3, 1, 1)))


def test_conv_gradient_inside_scan_equals_outside():
    """The case the custom VJP exists for: a conv's kernel gradient inside lax.scan."""
    rng = np.random.default_rng(0)
    xs = jnp.asarray(rng.normal(size=(3, 4, 6, 6, 2)), jnp.float32)
    w = jnp.asarray(rng.normal(size=(3, 3, 2, 5)), jnp.float32)

    def loss(w, x):
        return jnp.sum(jnp.tanh(ops.conv(x, w, 1, "same")))

    def scanned(w):
        return lax.scan(lambda acc, x: (acc + jax.grad(loss)(w, x), None), jnp.zeros_like(w), xs)[0]
    plain = sum(jax.grad(lambda w, x: jnp.sum(jnp.tanh(lax.conv_general_dilated(
        x, w, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")))))(w, x) for x in xs)
    np.testing.assert_allclose(jax.jit(scanned)(w), plain, rtol=1e-5, atol=1e-5)


def numpy_pool(x, size, strides, padding, kind):
    """Loops over windows; "same" pads with nothing (max ignores, average divides by real count)."""
    rank = x.ndim - 2
    pads = ops.conv_padding(x.shape[1:-1], size, strides, (1,) * rank, padding)
    out_sizes = [ops.conv_output_length(n, p, s, 1, padding)
                 for n, p, s in zip(x.shape[1:-1], size, strides)]
    out = np.zeros((x.shape[0], *out_sizes, x.shape[-1]), np.float64)
    for pos in np.ndindex(*out_sizes):
        window = tuple(slice(max(p * s - lo, 0), min(p * s - lo + k, n))
                       for p, s, (lo, _), k, n in zip(pos, strides, pads, size, x.shape[1:-1]))
        patch = x[(slice(None), *window)].reshape(x.shape[0], -1, x.shape[-1])
        out[(slice(None), *pos)] = patch.max(1) if kind == "max" else patch.mean(1)
    return out


@FAST
@given(st.integers(1, 2), st.integers(1, 3), st.integers(1, 3), st.sampled_from(["valid", "same"]),
       st.sampled_from(["max", "average"]), st.integers(0, 2**16))
def test_pool_matches_numpy_loops(rank, size, stride, padding, kind, seed):
    x = np.random.default_rng(seed).normal(size=(2, *(7,) * rank, 3)).astype("float32")
    got = jax.jit(ops.pool, static_argnums=(1, 2, 3, 4))(
        jnp.asarray(x), (size,) * rank, (stride,) * rank, padding, kind)
    np.testing.assert_allclose(got, numpy_pool(x, (size,) * rank, (stride,) * rank, padding, kind),
                               rtol=1e-6, atol=1e-6)


def test_pool_gradients_equal_those_of_reshaped_reductions():
    """Non-overlapping 2x2 windows are a reshape then max/mean, whose gradients JAX knows."""
    x = jnp.asarray(np.random.default_rng(0).normal(size=(2, 6, 4, 3)), jnp.float32)

    def blocks(x):
        return x.reshape(2, 3, 2, 2, 2, 3)
    for kind, reduce in (("max", jnp.max), ("average", jnp.mean)):
        ours = jax.grad(lambda x: jnp.sum(jnp.sin(ops.pool(x, (2, 2), (2, 2), "valid", kind))))(x)
        want = jax.grad(lambda x: jnp.sum(jnp.sin(reduce(blocks(x), axis=(2, 4)))))(x)
        np.testing.assert_allclose(ours, want, rtol=1e-6, atol=1e-6)
