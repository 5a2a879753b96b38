"""Core layers: Dense, Activation, Dropout, the reshaping layers, Lambda and Identity."""
import inspect
import math

import jax
import jax.numpy as jnp
import numpy as np

from .. import activations, constraints, initializers, regularizers
from ..registry import get_registered, registered_name
from .base import Layer, shape_str


class Dense(Layer):
    """Keras Dense: activation(x @ kernel + bias) on the last axis.

    Examples:
        >>> x = graphnet.Input(shape=(4,))
        >>> layers.Dense(3, activation="relu")(x).shape
        (None, 3)
    """
    weight_names = ("kernel", "bias")
    activation_last = True
    supports_masking = True

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(units, (int, np.integer)) or isinstance(units, bool) or units < 1:
            raise ValueError(f"Dense '{self.name}': units must be a positive int, received {units!r}")
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.weight_regularizers = {"kernel": regularizers.get(kernel_regularizer),
                                    "bias": regularizers.get(bias_regularizer)}
        self.weight_constraints = constraints.of(kernel=kernel_constraint, bias=bias_constraint)

    def _check_rank(self, input_shape):
        if len(input_shape) < 2:
            raise ValueError(f"Dense '{self.name}' expects an input of rank >= 2 (batch, ..., "
                             f"features), received shape {shape_str(input_shape)}")

    def output_shape(self, input_shape):
        # Checked here: JAX's matmul error names no layer.
        self._check_rank(input_shape)
        if input_shape[-1] != self.params["kernel"].shape[0]:
            raise ValueError(f"Dense '{self.name}' expects input shape (..., "
                             f"{self.params['kernel'].shape[0]}), received {shape_str(input_shape)}")
        return (*input_shape[:-1], self.units)

    def build(self, input_shape, *, generator):
        self._check_rank(input_shape)
        if input_shape[-1] is None:
            raise ValueError(f"Dense '{self.name}': the last axis of its input must be known, "
                             f"received shape {shape_str(input_shape)}")
        params = {"kernel": self.kernel_initializer((input_shape[-1], self.units), self.dtype, generator)}
        if self.use_bias:
            params["bias"] = self.bias_initializer((self.units,), self.dtype, generator)
        return params, {}

    def call(self, params, state, x, *, training=False, rng=None):
        y = x @ params["kernel"]
        if self.use_bias:
            y = y + params["bias"]
        return self.activation(y), state

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.weight_regularizers["kernel"]),
                "bias_regularizer": regularizers.serialize(self.weight_regularizers["bias"]),
                **constraints.config_of(self.weight_constraints, "kernel", "bias")}


class Activation(Layer):
    """Keras Activation: applies a named or callable activation.

    Examples:
        >>> x = graphnet.Input(shape=(4,))
        >>> layers.Activation("tanh")(x).shape
        (None, 4)
    """
    supports_masking = True
    activation_last = True

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def output_shape(self, input_shape):
        return input_shape

    def call(self, params, state, x, *, training=False, rng=None, mask=None):
        return self.activation(x), state

    def get_config(self):
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


class Dropout(Layer):
    """Keras Dropout: zeroes a fraction `rate` when training, scaling the rest by 1/(1-rate).

    Examples:
        >>> x = graphnet.Input(shape=(4,))
        >>> layers.Dropout(0.3)(x).shape
        (None, 4)
    """
    supports_masking = True

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= rate < 1:
            raise ValueError(f"Dropout '{self.name}': rate must be in [0, 1), received {rate!r}")
        self.rate, self.noise_shape, self.seed = float(rate), noise_shape, seed

    @property
    def uses_rng(self) -> bool:
        return self.rate > 0

    def output_shape(self, input_shape):
        return input_shape

    def call(self, params, state, x, *, training=False, rng=None, mask=None):
        if not training or self.rate == 0:
            return x, state
        if rng is None:
            raise ValueError(f"Dropout '{self.name}' needs a random key when training=True: pass "
                             f"rng= to apply")
        shape = x.shape if self.noise_shape is None else tuple(
            x.shape[i] if d is None else d for i, d in enumerate(self.noise_shape))
        keep = jax.random.bernoulli(rng, 1.0 - self.rate, shape)
        return jnp.where(keep, x / (1.0 - self.rate), jnp.zeros((), x.dtype)).astype(x.dtype), state

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "noise_shape": self.noise_shape,
                "seed": self.seed}


class Flatten(Layer):
    """Keras Flatten: (batch, ...) to (batch, prod(...)).

    Examples:
        >>> x = graphnet.Input(shape=(2, 3))
        >>> layers.Flatten()(x).shape
        (None, 6)
    """

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = data_format

    def output_shape(self, input_shape):
        rest = input_shape[1:]
        return (input_shape[0], None if None in rest else math.prod(rest))

    def call(self, params, state, x, *, training=False, rng=None):
        return x.reshape(x.shape[0], -1), state

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class Reshape(Layer):
    """Keras Reshape: `target_shape` excludes the batch axis; one -1 is inferred.

    Examples:
        >>> x = graphnet.Input(shape=(6,))
        >>> layers.Reshape((3, 2))(x).shape
        (None, 3, 2)
    """

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(target_shape)
        if sum(d == -1 for d in self.target_shape) > 1:
            raise ValueError(f"Reshape '{self.name}': at most one -1 in target_shape, received "
                             f"{self.target_shape}")

    def output_shape(self, input_shape):
        rest = input_shape[1:]
        if None in rest:
            return (input_shape[0], *[None if d == -1 else d for d in self.target_shape])
        size = math.prod(rest)
        known = math.prod(d for d in self.target_shape if d != -1)
        if (-1 in self.target_shape and size % known) or (-1 not in self.target_shape and size != known):
            raise ValueError(f"Reshape '{self.name}' cannot reshape input of shape "
                             f"{shape_str(input_shape)} ({size} values per sample) to "
                             f"{self.target_shape}")
        return (input_shape[0], *[size // known if d == -1 else d for d in self.target_shape])

    def call(self, params, state, x, *, training=False, rng=None):
        return x.reshape(x.shape[0], *self.target_shape), state

    def get_config(self):
        return {**super().get_config(), "target_shape": list(self.target_shape)}


class Permute(Layer):
    """Keras Permute: `dims` are 1-indexed and exclude the batch axis.

    Examples:
        >>> x = graphnet.Input(shape=(2, 3))
        >>> layers.Permute((2, 1))(x).shape
        (None, 3, 2)
    """

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        self.dims = tuple(dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(f"Permute '{self.name}': dims must be a permutation of 1..{len(self.dims)}, "
                             f"received {self.dims}")

    def output_shape(self, input_shape):
        if len(input_shape) != len(self.dims) + 1:
            raise ValueError(f"Permute '{self.name}' with dims {self.dims} expects an input of rank "
                             f"{len(self.dims) + 1}, received {shape_str(input_shape)}")
        return (input_shape[0], *[input_shape[d] for d in self.dims])

    def call(self, params, state, x, *, training=False, rng=None):
        return jnp.transpose(x, (0, *self.dims)), state

    def get_config(self):
        return {**super().get_config(), "dims": list(self.dims)}


class RepeatVector(Layer):
    """Keras RepeatVector: (batch, features) to (batch, n, features).

    Examples:
        >>> x = graphnet.Input(shape=(3,))
        >>> layers.RepeatVector(2)(x).shape
        (None, 2, 3)
    """

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        self.n = int(n)

    def output_shape(self, input_shape):
        if len(input_shape) != 2:
            raise ValueError(f"RepeatVector '{self.name}' expects an input of rank 2 (batch, "
                             f"features), received {shape_str(input_shape)}")
        return (input_shape[0], self.n, input_shape[1])

    def call(self, params, state, x, *, training=False, rng=None):
        return jnp.repeat(x[:, None, :], self.n, axis=1), state

    def get_config(self):
        return {**super().get_config(), "n": self.n}


class Identity(Layer):
    """Keras Identity: returns its input unchanged.

    Examples:
        >>> x = graphnet.Input(shape=(3,))
        >>> layers.Identity()(x).shape
        (None, 3)
    """
    supports_masking = True

    def output_shape(self, input_shape):
        return input_shape

    def call(self, params, state, x, *, training=False, rng=None, mask=None):
        return x, state


class Lambda(Layer):
    """Keras Lambda: wraps `function(inputs, **arguments)`; its output shape is traced.

    Saved by the name it was registered under (`graphnet.register_serializable`), or, for
    an unregistered function, as its compiled Python code, as Keras does. Loading code
    runs it, so `load_model` refuses it unless given `safe_mode=False`.

    Examples:
        >>> x = graphnet.Input(shape=(3,))
        >>> layers.Lambda(lambda t: t * 2.0 + 1.0)(x).shape
        (None, 3)
    """
    loads_code = True         # from_config takes safe_mode (the loader passes its own)

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"Lambda '{self.name}': function must be callable, received {function!r}")
        self.function = function
        self.mask = mask
        self.supports_masking = mask is not None
        self.declared_output_shape = None if output_shape is None else tuple(output_shape)
        self.arguments = dict(arguments or {})

    def _takes(self, name) -> bool:
        """Whether the function has a parameter `name` (Keras passes mask and training)."""
        try:
            return name in inspect.signature(self.function).parameters
        except (TypeError, ValueError):
            return False

    @property
    def receives_mask(self) -> bool:
        return self._takes("mask")

    def call(self, params, state, x, *, training=False, rng=None, mask=None):
        kwargs = dict(self.arguments)
        if self._takes("mask"):
            kwargs["mask"] = mask
        if self._takes("training"):
            kwargs["training"] = training
        return self.function(x, **kwargs), state

    def compute_mask(self, inputs, mask=None):
        """Keras: `mask(inputs, mask)` when `mask` is callable, else `mask` itself (None:
        the mask stops here)."""
        return self.mask(inputs, mask) if callable(self.mask) else self.mask

    def get_config(self):
        config = {**super().get_config(), "function": self._function_config(self.function),
                  "output_shape": None if self.declared_output_shape is None
                  else list(self.declared_output_shape), "arguments": self.arguments}
        if callable(self.mask):          # Keras keeps `mask` as it keeps `function`
            config["mask"] = self._function_config(self.mask)
        elif self.mask is not None:
            kind = "__tensor__" if isinstance(self.mask, jax.Array) else "__numpy__"
            mask = np.asarray(self.mask)
            config["mask"] = {"class_name": kind,
                              "config": {"value": mask.tolist(), "dtype": mask.dtype.name}}
        return config

    def _function_config(self, function):
        name = registered_name(function)
        return name if name is not None else _code_config(function, self.name)

    @classmethod
    def from_config(cls, config, safe_mode=True):
        config = dict(config)
        config["function"] = _function_from(config["function"], config, safe_mode)
        mask = config.get("mask")
        if isinstance(mask, dict) and mask.get("class_name") in ("__tensor__", "__numpy__"):
            config["mask"] = jnp.asarray(np.asarray(mask["config"]["value"],
                                                    mask["config"]["dtype"]))
        elif isinstance(mask, (str, dict)):          # a registered name, or code
            config["mask"] = _function_from(mask, config, safe_mode)
        return cls(**config)


def _function_from(function, config, safe_mode):
    """A Lambda's function (or mask function) from its config: a registered name, or code
    run only with safe_mode=False."""
    if isinstance(function, dict):
        if safe_mode:
            raise ValueError(
                f"Lambda '{config.get('name', '?')}' holds a Python function saved as code; "
                f"loading it would run code from the file, which is refused by default. If "
                f"you trust the file, pass safe_mode=False to load_model, or register the "
                f"function with @graphnet.register_serializable() before saving")
        return _code_function(function)
    return get_registered(function)


def _code_config(function, layer_name):
    """A Python function as Keras saves a lambda: marshalled code (base64), defaults,
    closure values, and the modules its global names refer to."""
    import base64
    import marshal
    import types
    if not isinstance(function, types.FunctionType):
        raise ValueError(f"Lambda '{layer_name}': its function {function!r} is not a Python "
                         f"function and is not registered, so it cannot be saved; decorate it "
                         f"with @graphnet.register_serializable()")
    code = function.__code__
    names, stack = set(), [code]
    while stack:
        c = stack.pop()
        names.update(c.co_names)
        stack.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
    modules, constants = {}, {}
    for n in sorted(names):
        value = function.__globals__.get(n)
        if isinstance(value, types.ModuleType):
            modules[n] = value.__name__
        elif isinstance(value, (bool, int, float, str)):
            constants[n] = value
    closure = [c.cell_contents for c in function.__closure__ or ()]
    for value in list(closure) + list(function.__defaults__ or ()):
        if not (value is None or isinstance(value, (bool, int, float, str))):
            raise ValueError(f"Lambda '{layer_name}': its function closes over or defaults to "
                             f"{value!r}, which cannot be saved; pass it in `arguments=`, or "
                             f"register the function with @graphnet.register_serializable()")
    return {"code": base64.b64encode(marshal.dumps(code)).decode("ascii"),
            "defaults": list(function.__defaults__ or ()), "closure": closure,
            "modules": modules, "constants": constants}


def _code_function(config):
    """The function `_code_config` saved (runs code from a file: only with safe_mode=False)."""
    import base64
    import builtins
    import importlib
    import marshal
    import types
    code = marshal.loads(base64.b64decode(config["code"]))
    scope = {"__builtins__": builtins}
    scope.update({n: importlib.import_module(m) for n, m in config.get("modules", {}).items()})
    scope.update(config.get("constants", {}))
    closure = tuple(types.CellType(v) for v in config.get("closure", []))
    return types.FunctionType(code, scope, code.co_name, tuple(config.get("defaults", [])) or None,
                              closure or None)
