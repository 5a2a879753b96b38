"""Activation functions with Keras 3's names and defaults."""
import jax
import jax.numpy as jnp

from . import registry
from .registry import get_registered, lookup, registered_name


def linear(x):
    """The identity: `x` unchanged (`activation=None` or `"linear"`)."""
    return x


def relu(x):
    """Rectified linear unit: max(x, 0)."""
    return jax.nn.relu(x)


def relu6(x):
    """ReLU capped at 6: min(max(x, 0), 6)."""
    return jax.nn.relu6(x)


def sigmoid(x):
    """Logistic sigmoid: 1 / (1 + exp(-x))."""
    return jax.nn.sigmoid(x)


def hard_sigmoid(x):
    """Keras 3's piecewise-linear sigmoid: relu6(x + 3) / 6."""
    return jax.nn.relu6(x + 3.0) / 6.0


def softmax(x, axis=-1):
    """Softmax along `axis`: exp(x) / sum(exp(x)), each row sums to 1."""
    return jax.nn.softmax(x, axis=axis)


def log_softmax(x, axis=-1):
    """Logarithm of the softmax along `axis`, computed stably."""
    return jax.nn.log_softmax(x, axis=axis)


def tanh(x):
    """Hyperbolic tangent."""
    return jnp.tanh(x)


def gelu(x, approximate=False):
    """Keras's default is the exact (erf) GELU, unlike `jax.nn.gelu`'s tanh default."""
    return jax.nn.gelu(x, approximate=approximate)


def elu(x, alpha=1.0):
    """Exponential linear unit: x if x > 0 else alpha * (exp(x) - 1)."""
    return jax.nn.elu(x, alpha)


def selu(x):
    """Scaled ELU with the self-normalizing constants of Klambauer et al. (2017)."""
    return jax.nn.selu(x)


def softplus(x):
    """Smooth ReLU: log(1 + exp(x))."""
    return jax.nn.softplus(x)


def softsign(x):
    """x / (1 + |x|)."""
    return jax.nn.soft_sign(x)


def silu(x):
    """Sigmoid-weighted linear unit: x * sigmoid(x) (also `"swish"`)."""
    return jax.nn.silu(x)


swish = silu


def leaky_relu(x, negative_slope=0.2):
    """Keras 3's default slope is 0.2 (jax.nn uses 0.01)."""
    return jax.nn.leaky_relu(x, negative_slope)


def exponential(x):
    """exp(x)."""
    return jnp.exp(x)


def mish(x):
    """Mish: x * tanh(softplus(x))."""
    return x * jnp.tanh(jax.nn.softplus(x))


ACTIVATIONS = {
    "linear": linear, "relu": relu, "relu6": relu6, "sigmoid": sigmoid,
    "hard_sigmoid": hard_sigmoid, "softmax": softmax, "log_softmax": log_softmax,
    "tanh": tanh, "gelu": gelu, "elu": elu, "selu": selu, "softplus": softplus,
    "softsign": softsign, "swish": swish, "silu": silu, "leaky_relu": leaky_relu,
    "exponential": exponential, "mish": mish,
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
