"""`keras.ops` under its own names: NumPy-like and neural-network operations.

Each op works on arrays (NumPy, JAX, traced values inside `call`, `add_weight` variables)
and on symbolic tensors: given one, it adds a node to the graph (an `Operation` layer named
after the op, drawn and saved like any layer) and returns its symbolic output. Semantics
and defaults are Keras 3's (`ops.gelu` is approximate by default, `ops.leaky_relu`'s slope
is 0.2, `ops.binary_crossentropy` is element-wise, `ops.shape` gives a tuple).

Examples:
    >>> print(np.asarray(ops.softmax(np.array([1.0, 2.0, 3.0], dtype="float32"))).round(3))
    [0.09  0.245 0.665]
    >>> x = graphnet.Input(shape=(4,))
    >>> ops.mean(x, axis=-1).shape
    (None,)
"""
from __future__ import annotations

import sys

import jax.numpy as jnp

from ..symbolic import SymbolicTensor
from .general import *  # noqa: F401,F403  (each module's __all__: its ops)
from .indexing import *  # noqa: F401,F403
from .activations import *  # noqa: F401,F403
from .convolution import *  # noqa: F401,F403
from .neural import *   # noqa: F401,F403
from .arrays import *   # noqa: F401,F403
from .linear_algebra import *  # noqa: F401,F403
from .spectral import *  # noqa: F401,F403
from .spatial import *  # noqa: F401,F403
from .control import *  # noqa: F401,F403
from . import arrays as _arrays
from . import image  # noqa: F401  (`ops.image`, a namespace of its own as in Keras)
from .recording import same as _same

_NUMPY_SAME = {
    # element-wise
    "abs": jnp.abs, "absolute": jnp.absolute, "negative": jnp.negative, "sign": jnp.sign,
    "exp": jnp.exp, "exp2": jnp.exp2, "expm1": jnp.expm1, "log": jnp.log, "log1p": jnp.log1p,
    "log2": jnp.log2, "log10": jnp.log10, "sqrt": jnp.sqrt, "square": jnp.square,
    "reciprocal": jnp.reciprocal, "sin": jnp.sin, "cos": jnp.cos, "tan": jnp.tan,
    "arcsin": jnp.arcsin, "arccos": jnp.arccos, "arctan": jnp.arctan, "arctan2": jnp.arctan2,
    "sinh": jnp.sinh, "cosh": jnp.cosh, "tanh": jnp.tanh, "arcsinh": jnp.arcsinh,
    "arccosh": jnp.arccosh, "arctanh": jnp.arctanh, "floor": jnp.floor, "ceil": jnp.ceil,
    "trunc": jnp.trunc, "isnan": jnp.isnan, "isinf": jnp.isinf, "isfinite": jnp.isfinite,
    "conj": jnp.conj, "conjugate": jnp.conjugate, "real": jnp.real, "imag": jnp.imag,
    "add": jnp.add, "subtract": jnp.subtract, "multiply": jnp.multiply, "divide": jnp.divide,
    "true_divide": jnp.true_divide, "floor_divide": jnp.floor_divide, "mod": jnp.mod,
    "power": jnp.power, "maximum": jnp.maximum, "minimum": jnp.minimum,
    "equal": jnp.equal, "not_equal": jnp.not_equal, "less": jnp.less,
    "less_equal": jnp.less_equal, "greater": jnp.greater, "greater_equal": jnp.greater_equal,
    "logical_and": jnp.logical_and, "logical_or": jnp.logical_or,
    "logical_not": jnp.logical_not, "logical_xor": jnp.logical_xor,
    "bitwise_and": jnp.bitwise_and, "bitwise_or": jnp.bitwise_or,
    "bitwise_xor": jnp.bitwise_xor, "bitwise_not": jnp.bitwise_not, "invert": jnp.invert,
    "nan_to_num": jnp.nan_to_num, "clip": jnp.clip, "where": jnp.where,
    "heaviside": jnp.heaviside, "hypot": jnp.hypot, "copysign": jnp.copysign,
    # reductions
    "sum": jnp.sum, "mean": jnp.mean, "max": jnp.max, "min": jnp.min, "amax": jnp.max,
    "amin": jnp.min, "prod": jnp.prod, "std": jnp.std, "var": jnp.var, "all": jnp.all,
    "any": jnp.any, "argmax": jnp.argmax, "argmin": jnp.argmin, "cumsum": jnp.cumsum,
    "cumprod": jnp.cumprod, "median": jnp.median, "quantile": jnp.quantile,
    "count_nonzero": jnp.count_nonzero, "average": jnp.average, "trace": jnp.trace,
    # shapes and arrangement
    "reshape": jnp.reshape, "transpose": jnp.transpose, "expand_dims": jnp.expand_dims,
    "squeeze": jnp.squeeze, "concatenate": jnp.concatenate, "stack": jnp.stack,
    "hstack": jnp.hstack, "vstack": jnp.vstack, "tile": jnp.tile, "repeat": jnp.repeat,
    "broadcast_to": jnp.broadcast_to, "flip": jnp.flip, "roll": jnp.roll,
    "swapaxes": jnp.swapaxes, "moveaxis": jnp.moveaxis, "ravel": jnp.ravel,
    "append": jnp.append, "take": jnp.take, "take_along_axis": jnp.take_along_axis,
    "sort": jnp.sort, "argsort": jnp.argsort, "tril": jnp.tril, "triu": jnp.triu,
    "diag": jnp.diag, "diagonal": jnp.diagonal, "meshgrid": jnp.meshgrid,
    "split": jnp.split, "array_split": jnp.array_split, "atleast_1d": jnp.atleast_1d,
    "nonzero": jnp.nonzero, "unique": jnp.unique, "digitize": jnp.digitize,
    "searchsorted": jnp.searchsorted, "isclose": jnp.isclose, "allclose": jnp.allclose,
    "diff": jnp.diff, "cross": jnp.cross, "kron": jnp.kron,
    # linear algebra
    "matmul": jnp.matmul, "dot": jnp.dot, "tensordot": jnp.tensordot, "einsum": jnp.einsum,
    "outer": jnp.outer, "inner": jnp.inner, "vdot": jnp.vdot,
    # creation
    "zeros_like": jnp.zeros_like, "ones_like": jnp.ones_like, "full_like": jnp.full_like,
    "zeros": jnp.zeros, "ones": jnp.ones, "full": jnp.full, "eye": jnp.eye,
    "identity": jnp.identity, "arange": jnp.arange, "linspace": jnp.linspace,
    "logspace": jnp.logspace, "tri": jnp.tri,
}
for _name, _fn in _NUMPY_SAME.items():
    globals()[_name] = _same(_fn, _name)


class _Namespace:
    """`ops.nn`, `ops.numpy`, ...: Keras's sub-namespaces, all views of this module."""

    def __init__(self, names):
        for n in names:
            setattr(self, n, globals()[n])


_NN_NAMES = ("relu", "relu6", "sigmoid", "log_sigmoid", "hard_sigmoid", "hard_silu",
             "hard_swish", "softplus", "softsign", "silu", "swish", "gelu", "elu", "selu",
             "leaky_relu", "softmax", "log_softmax", "one_hot", "multi_hot",
             "binary_crossentropy", "categorical_crossentropy",
             "sparse_categorical_crossentropy", "moments", "batch_normalization", "normalize",
             "conv", "depthwise_conv", "separable_conv", "max_pool", "average_pool",
             "dot_product_attention", "celu", "glu", "hard_shrink", "hard_tanh", "soft_shrink",
             "sparse_plus", "sparse_sigmoid", "sparsemax", "squareplus", "tanh_shrink",
             "threshold", "psnr", "layer_normalization", "rms_normalization", "polar",
             "conv_transpose", "depth_to_space", "space_to_depth", "adaptive_average_pool",
             "adaptive_max_pool", "unfold", "fold", "ctc_loss", "ctc_decode")
nn = _Namespace(_NN_NAMES)
numpy = _Namespace([n for n in _NUMPY_SAME] + _arrays.__all__
                   + ["round", "pad", "get_item", "view_as_complex", "view_as_real", "ndim",
                      "size", "slogdet", "vectorize"])
linalg = _Namespace(["norm", "cholesky", "cholesky_inverse", "det", "eig", "eigh", "inv",
                     "jvp", "lstsq", "lu_factor", "matrix_rank", "pinv", "qr", "solve",
                     "solve_triangular", "svd"])
math = _Namespace(["logsumexp", "rsqrt", "erf", "erfc", "erfinv", "top_k", "in_top_k",
                   "segment_sum", "segment_max", "segment_min", "segment_prod",
                   "extract_sequences", "fft", "fft2", "ifft2", "rfft", "irfft", "stft",
                   "istft", "logdet", "view_as_complex", "view_as_real", "cdist"])
core = _Namespace(["cast", "stop_gradient", "shape", "convert_to_tensor", "convert_to_numpy",
                   "cond", "fori_loop", "while_loop", "scan", "slice", "slice_update",
                   "scatter", "scatter_update", "is_tensor", "unstack", "vectorized_map",
                   "switch", "associative_scan", "custom_gradient", "saturate_cast", "map"])

# `x + y`, `x[0]`, ... on a symbolic tensor record these ops.
SymbolicTensor.record_ops_with(sys.modules[__name__])

# `from graphnet.ops import *` gives the ops and Keras's sub-namespaces, never the modules
# that implement them (`activations` would hide `graphnet.activations`): every module's
# `__all__` but `image`'s, whose ops stay under `ops.image` as in Keras.
__all__ = sorted({name for module in tuple(globals().values())
                  if isinstance(module, type(sys)) and module is not image
                  and module.__name__.startswith(f"{__name__}.")
                  for name in getattr(module, "__all__", ())}
                 | set(_NUMPY_SAME) | {"nn", "numpy", "linalg", "math", "core", "image"})
