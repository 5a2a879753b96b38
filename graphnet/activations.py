"""Activation functions with Keras 3's names and defaults."""
import jax
import jax.numpy as jnp

from . import registry
from .registry import get_registered, lookup, registered_name


def linear(x):
    """The identity: `x` unchanged (`activation=None` or `"linear"`).

    Examples:
        >>> x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0], dtype="float32")
        >>> print(np.asarray(activations.linear(x)).round(3))
        [-2.  -0.5  0.   0.5  2. ]
    """
    return x


def relu(x):
    """Rectified linear unit: max(x, 0).

    Examples:
        >>> x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0], dtype="float32")
        >>> print(np.asarray(activations.relu(x)).round(3))
        [0.  0.  0.  0.5 2. ]
    """
    return jax.nn.relu(x)


def relu6(x):
    """ReLU capped at 6: min(max(x, 0), 6).

    Examples:
        >>> x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0], dtype="float32")
        >>> print(np.asarray(activations.relu6(x)).round(3))
        [0.  0.  0.  0.5 2. ]
    """
    return jax.nn.relu6(x)


def sigmoid(x):
    """Logistic sigmoid: 1 / (1 + exp(-x)).

    Examples:
        >>> x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0], dtype="float32")
        >>> print(np.asarray(activations.sigmoid(x)).round(3))
        [0.119 0.378 0.5   0.622 0.881]
    """
    return jax.nn.sigmoid(x)


def hard_sigmoid(x):
    """Keras 3's piecewise-linear sigmoid: relu6(x + 3) / 6.

    Examples:
        >>> x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0], dtype="float32")
        >>> print(np.asarray(activations.hard_sigmoid(x)).round(3))
        [0.167 0.417 0.5   0.583 0.833]
    """
    return jax.nn.relu6(x + 3.0) / 6.0


def softmax(x, axis=-1):
    """Softmax along `axis`: exp(x) / sum(exp(x)), each row sums to 1.

    Examples:
        >>> x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0], dtype="float32")
        >>> print(np.asarray(activations.softmax(x)).round(3))
        [0.013 0.056 0.093 0.153 0.685]
    """
    return jax.nn.softmax(x, axis=axis)


def log_softmax(x, axis=-1):
    """Logarithm of the softmax along `axis`, computed stably.

    Examples:
        >>> x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0], dtype="float32")
        >>> print(np.asarray(activations.log_softmax(x)).round(3))
        [-4.378 -2.878 -2.378 -1.878 -0.378]
    """
    return jax.nn.log_softmax(x, axis=axis)


def tanh(x):
    """Hyperbolic tangent: (exp(x) - exp(-x)) / (exp(x) + exp(-x)), values in (-1, 1).

    Examples:
        >>> x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0], dtype="float32")
        >>> print(np.asarray(activations.tanh(x)).round(3))
        [-0.964 -0.462  0.     0.462  0.964]
    """
    return jnp.tanh(x)


def gelu(x, approximate=False):
    """Keras's default is the exact (erf) GELU, unlike `jax.nn.gelu`'s tanh default.

    Examples:
        >>> x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0], dtype="float32")
        >>> print(np.asarray(activations.gelu(x)).round(3))
        [-0.046 -0.154  0.     0.346  1.954]
    """
    return jax.nn.gelu(x, approximate=approximate)


def elu(x, alpha=1.0):
    """Exponential linear unit: x if x > 0 else alpha * (exp(x) - 1).

    Examples:
        >>> x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0], dtype="float32")
        >>> print(np.asarray(activations.elu(x)).round(3))
        [-0.865 -0.393  0.     0.5    2.   ]
    """
    return jax.nn.elu(x, alpha)


def selu(x):
    """Scaled ELU with the self-normalizing constants of Klambauer et al. (2017).

    Examples:
        >>> x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0], dtype="float32")
        >>> print(np.asarray(activations.selu(x)).round(3))
        [-1.52  -0.692  0.     0.525  2.101]
    """
    return jax.nn.selu(x)


def softplus(x):
    """Smooth ReLU: log(1 + exp(x)).

    Examples:
        >>> x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0], dtype="float32")
        >>> print(np.asarray(activations.softplus(x)).round(3))
        [0.127 0.474 0.693 0.974 2.127]
    """
    return jax.nn.softplus(x)


def softsign(x):
    """x / (1 + |x|).

    Examples:
        >>> x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0], dtype="float32")
        >>> print(np.asarray(activations.softsign(x)).round(3))
        [-0.667 -0.333  0.     0.333  0.667]
    """
    return jax.nn.soft_sign(x)


def silu(x):
    """Sigmoid-weighted linear unit: x * sigmoid(x) (also `"swish"`).

    Examples:
        >>> x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0], dtype="float32")
        >>> print(np.asarray(activations.swish(x)).round(3))
        [-0.238 -0.189  0.     0.311  1.762]
    """
    return jax.nn.silu(x)


swish = silu


def leaky_relu(x, negative_slope=0.2):
    """Keras 3's default slope is 0.2 (jax.nn uses 0.01).

    Examples:
        >>> x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0], dtype="float32")
        >>> print(np.asarray(activations.leaky_relu(x)).round(3))
        [-0.4 -0.1  0.   0.5  2. ]
    """
    return jax.nn.leaky_relu(x, negative_slope)


def exponential(x):
    """Keras `exponential`: exp(x), e.g. for a positive rate (a Poisson output).

    Examples:
        >>> x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0], dtype="float32")
        >>> print(np.asarray(activations.exponential(x)).round(3))
        [0.135 0.607 1.    1.649 7.389]
    """
    return jnp.exp(x)


def mish(x):
    """Mish: x * tanh(softplus(x)).

    Examples:
        >>> x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0], dtype="float32")
        >>> print(np.asarray(activations.mish(x)).round(3))
        [-0.253 -0.221  0.     0.375  1.944]
    """
    return x * jnp.tanh(jax.nn.softplus(x))



def celu(x, alpha=1.0):
    """Continuously differentiable ELU: max(x, 0) + min(0, alpha * (exp(x / alpha) - 1)).

    Examples:
        >>> x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0], dtype="float32")
        >>> print(np.asarray(activations.celu(x)).round(3))
        [-0.865 -0.393  0.     0.5    2.   ]
    """
    return jax.nn.celu(x, alpha=alpha)


def glu(x, axis=-1):
    """Gated linear unit: the first half of `axis` times the sigmoid of the second half.

    Examples:
        >>> x = np.array([1.0, 2.0, 0.0, 3.0], dtype="float32")
        >>> print(np.asarray(activations.glu(x)).round(3))
        [0.5   1.905]
    """
    return jax.nn.glu(x, axis=axis)


def hard_silu(x):
    """Hard SiLU (hard swish): x * relu6(x + 3) / 6.

    Examples:
        >>> x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0], dtype="float32")
        >>> print(np.asarray(activations.hard_silu(x)).round(3))
        [-0.333 -0.208  0.     0.292  1.667]
    """
    return jax.nn.hard_silu(x)


hard_swish = hard_silu


def hard_tanh(x):
    """tanh's piecewise-linear form: clip(x, -1, 1).

    Examples:
        >>> x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0], dtype="float32")
        >>> print(np.asarray(activations.hard_tanh(x)).round(3))
        [-1.  -0.5  0.   0.5  1. ]
    """
    return jax.nn.hard_tanh(x)


def hard_shrink(x, threshold=0.5):
    """x where |x| > threshold, else 0.

    Examples:
        >>> x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0], dtype="float32")
        >>> print(np.asarray(activations.hard_shrink(x)).round(3))
        [-2.  0.  0.  0.  2.]
    """
    return jnp.where(jnp.abs(x) > threshold, x, jnp.zeros((), x.dtype))


def soft_shrink(x, threshold=0.5):
    """x moved `threshold` towards 0, and 0 within [-threshold, threshold].

    Examples:
        >>> x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0], dtype="float32")
        >>> print(np.asarray(activations.soft_shrink(x)).round(3))
        [-1.5  0.   0.   0.   1.5]
    """
    return jnp.where(x > threshold, x - threshold,
                     jnp.where(x < -threshold, x + threshold, jnp.zeros((), x.dtype)))


def tanh_shrink(x):
    """Keras `tanh_shrink`: x - tanh(x), near 0 for small inputs and close to x for large ones.

    Examples:
        >>> x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0], dtype="float32")
        >>> print(np.asarray(activations.tanh_shrink(x)).round(3))
        [-1.036 -0.038  0.     0.038  1.036]
    """
    return x - jnp.tanh(x)


def threshold(x, threshold, default_value):
    """x where x > threshold, else `default_value`.

    Examples:
        >>> x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0], dtype="float32")
        >>> print(np.asarray(activations.threshold(x, 0.0, -1.0)).round(3))
        [-1.  -1.  -1.   0.5  2. ]
    """
    return jnp.where(x > threshold, x, jnp.asarray(default_value, x.dtype))


def log_sigmoid(x):
    """log(sigmoid(x)), computed stably as -softplus(-x).

    Examples:
        >>> x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0], dtype="float32")
        >>> print(np.asarray(activations.log_sigmoid(x)).round(3))
        [-2.127 -0.974 -0.693 -0.474 -0.127]
    """
    return jax.nn.log_sigmoid(x)


def sparse_plus(x):
    """0 below -1, x above 1, (x + 1)^2 / 4 between: a piecewise softplus.

    Examples:
        >>> x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0], dtype="float32")
        >>> print(np.asarray(activations.sparse_plus(x)).round(3))
        [0.    0.062 0.25  0.562 2.   ]
    """
    return jax.nn.sparse_plus(x)


def sparse_sigmoid(x):
    """0 below -1, 1 above 1, (x + 1) / 2 between: a piecewise sigmoid.

    Examples:
        >>> x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0], dtype="float32")
        >>> print(np.asarray(activations.sparse_sigmoid(x)).round(3))
        [0.   0.25 0.5  0.75 1.  ]
    """
    return jax.nn.sparse_sigmoid(x)


def squareplus(x, b=4):
    """(x + sqrt(x^2 + b)) / 2: a smooth ReLU.

    Examples:
        >>> x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0], dtype="float32")
        >>> print(np.asarray(activations.squareplus(x)).round(3))
        [0.414 0.781 1.    1.281 2.414]
    """
    return jax.nn.squareplus(x, b=b)


def sparsemax(x, axis=-1):
    """Sparsemax: the Euclidean projection of x onto the simplex along `axis` (a softmax whose
    small entries are exactly 0), written as Keras's JAX backend computes it.

    Examples:
        >>> x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0], dtype="float32")
        >>> print(np.asarray(activations.sparsemax(x)).round(3))
        [0. 0. 0. 0. 1.]
    """
    x_sorted = -jnp.sort(-x, axis=axis)
    cumsum = jnp.cumsum(x_sorted, axis=axis)
    shape = [1] * x.ndim
    shape[axis] = -1
    r = jnp.arange(1, x.shape[axis] + 1, dtype=x.dtype).reshape(shape)
    support = x_sorted - (cumsum - 1) / r > 0
    k = jnp.sum(support, axis=axis, keepdims=True).astype(x.dtype)
    tau = (jnp.sum(jnp.where(support, cumsum, jnp.zeros((), x.dtype)), axis=axis,
                   keepdims=True) - 1) / k
    return jnp.maximum(x - tau, jnp.zeros((), x.dtype))

ACTIVATIONS = {
    "linear": linear, "relu": relu, "relu6": relu6, "sigmoid": sigmoid,
    "hard_sigmoid": hard_sigmoid, "softmax": softmax, "log_softmax": log_softmax,
    "tanh": tanh, "gelu": gelu, "elu": elu, "selu": selu, "softplus": softplus,
    "softsign": softsign, "swish": swish, "silu": silu, "leaky_relu": leaky_relu,
    "exponential": exponential, "mish": mish, "celu": celu, "glu": glu,
    "hard_silu": hard_silu, "hard_swish": hard_swish, "hard_tanh": hard_tanh,
    "hard_shrink": hard_shrink, "soft_shrink": soft_shrink, "tanh_shrink": tanh_shrink,
    "log_sigmoid": log_sigmoid, "sparse_plus": sparse_plus,
    "sparse_sigmoid": sparse_sigmoid, "squareplus": squareplus, "sparsemax": sparsemax,
}


def get(identifier):
    """A string, a callable or None (linear) to the activation function."""
    return registry.get(identifier, KIND, none=linear, from_name=_from_name,
                        from_callable=lambda fn: fn,
                        expected="An activation must be a string or a callable")


def _from_name(name):
    if ">" in name:                # a registered name, as earlier versions saved it
        return get_registered(name)
    return lookup(ACTIVATIONS, name, "activation")


KIND = registry.Kind("activation", {}, ACTIVATIONS)


def name_of(fn) -> str:
    """`fn`'s name in graphnet's table, or the name it was registered under (what a picture
    of the layer shows)."""
    for name, value in ACTIVATIONS.items():
        if value is fn:
            return name
    name = registered_name(fn)
    if name is None:
        raise ValueError(f"Activation {fn!r} is not a graphnet activation; register it with "
                         f"@graphnet.register_serializable() to save it")
    return name


def serialize(fn):
    """What `get` maps back to `fn`: a graphnet activation's name, as Keras writes it in a
    layer's config; a registered function in the registry's shape,
    `{"class_name": "function", "config": its registered name}`."""
    name = name_of(fn)
    return name if name in ACTIVATIONS else registry.serialize(fn, KIND)


def deserialize(config):
    """Keras `activations.deserialize`: the function a name or a `serialize` entry stands for.

    Examples:
        >>> activations.deserialize("relu") is activations.relu
        True
    """
    return get(config)
