"""Layer: configuration on the object, weights as plain dicts, values in and out.

A layer's `call(params, state, *args, training, rng)` is pure; `self.params` and
`self.state` only hold the current values between compiled calls. `Layer` inherits its
weights API (`add_weight`, `weights`, `get_weights`, ...) from `LayerWeights`
(layer_weights.py), and its pure calls and dtype properties from `PureCalls` (pure_calls.py).
"""
from __future__ import annotations

import jax
import numpy as np

from .. import mixed_precision, naming, regularizers
from ..random import SeedGenerator
from ..symbolic import CallNode, SymbolicTensor, TensorSpec, normalize_shape, shape_str
from ..variables import Variable, current_scope
from .call_masks import check_mask, eager_call
from .input_spec import InputSpec, check_inputs
from .keras_form import (accepts, add_loss, bind_by_position, call_in_scope, generator_keyword,
                         held_in_attributes, is_keras_form)
from .building import keyless_build
from .layer_weights import LayerWeights
from .pure_calls import PureCalls
from .tracing import device_value, is_symbolic, mark_masks, shapes_of, with_mask

__all__ = ["InputSpec", "Layer", "TensorSpec", "shape_str"]


class Layer(LayerWeights, PureCalls):
    """Base of every layer (and of Model), in either of two forms.

    graphnet's pure form: `build(*input_shapes, generator) -> (params, state)` and
    `call(params, state, *args, training, rng) -> (outputs, state)`, optionally
    `output_shape(*input_shapes)` to check shapes with an error that names the layer.

    Keras's form: `build(input_shape)` making weights with `self.add_weight(...)`, and
    `call(inputs, training=None, mask=None)` reading them as attributes. Its weights are
    still plain params/state dicts: during a call each `Variable` stands for the value the
    call was given (so the layer works under jit and grad), and non-trainable variables
    assigned in `call` become the call's new state. Layers held in attributes are
    sub-layers: their weights nest under their names.

    Examples:
        >>> class Double(layers.Layer):
        ...     def call(self, inputs):
        ...         return 2.0 * inputs
        >>> Double()(graphnet.Input(shape=(3,))).shape
        (None, 3)
    """
    weight_names: tuple = ()          # Keras get_weights() order, over params then state
    supports_masking = False           # its outputs carry `compute_mask`'s mask (Keras's rule)
    build_kwargs: tuple = ()           # call keywords whose shapes `build` needs (MHA's key)
    input_spec = None                  # an InputSpec or a list of them, checked at each call
    activation_last = False            # call ends in `self.activation(y)` (see logits_activation)
    no_autocast_weights: tuple = ()    # params kept in variable_dtype (add_weight(autocast=False))
    keras_class_name = None            # the class name a Keras file gave it (custom_objects)
    _keras_form = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._keras_form = is_keras_form(cls)
        keyless_build(cls)            # Keras's `layer.build(input_shape)`, no generator
        if "compute_mask" in cls.__dict__ and "supports_masking" not in cls.__dict__:
            cls.supports_masking = True     # Keras: a layer with its own compute_mask masks

    @property
    def keras_form(self) -> bool:
        """Whether `call` is written Keras's way, `call(inputs, training=None, mask=None)`
        over `add_weight` variables, rather than graphnet's pure `call(params, state, ...)`.

        Examples:
            >>> layers.Dense(2).keras_form        # graphnet's own layers use the pure form
            False
        """
        return self._keras_form

    @property
    def sublayers(self) -> list:
        """Layers held in a Keras-form layer's attributes: their weights nest under their
        names in this layer's. Found when the layer builds.

        Examples:
            >>> class Block(layers.Layer):
            ...     def __init__(self):
            ...         super().__init__()
            ...         self.dense = layers.Dense(2)
            ...     def call(self, inputs):
            ...         return self.dense(inputs)
            >>> block = Block(); _ = block(graphnet.Input(shape=(3,)))
            >>> block.sublayers == [block.dense]
            True
        """
        return list(self._sublayers)

    @property
    def seed_generators(self) -> list:
        """`SeedGenerator`s held in this layer's attributes: their states are its state.

        Examples:
            >>> class Jitter(layers.Layer):
            ...     def __init__(self):
            ...         super().__init__()
            ...         self.seed_generator = graphnet.random.SeedGenerator(7)
            ...     def call(self, inputs):
            ...         return inputs + graphnet.random.normal((3,), seed=self.seed_generator)
            >>> jitter = Jitter(); _ = jitter(graphnet.Input(shape=(3,)))
            >>> jitter.seed_generators == [jitter.seed_generator]
            True
        """
        return list(self._seed_generators)

    @property
    def batch_dependent(self) -> bool:
        """Whether a sample's training output or loss depends on the other samples of its
        batch (batch statistics, losses added per batch): then fit never pads a last batch.
        graphnet's own layers say so where they do; a layer defined elsewhere is assumed to.

        Examples:
            >>> layers.BatchNormalization().batch_dependent, layers.Dense(2).batch_dependent
            (True, False)
        """
        return type(self).__module__.split(".")[0] != "graphnet"

    @property
    def uses_rng(self) -> bool:
        """Whether `call` draws randomness when training (needs `rng`). graphnet's own layers
        say so where they do; a layer defined elsewhere is assumed to, so it always gets a
        key. A model none of whose layers draws is trained without any random key.

        Examples:
            >>> layers.Dropout(0.5).uses_rng, layers.Dense(2).uses_rng
            (True, False)
        """
        return type(self).__module__.split(".")[0] != "graphnet"

    def __init__(self, *, name=None, trainable=True, dtype=None, autocast=True, input_shape=None,
                 input_dim=None, batch_input_shape=None, activity_regularizer=None, **unknown):
        if unknown:
            raise TypeError(f"{type(self).__name__}() got unexpected keyword argument(s) "
                            f"{sorted(unknown)}")
        naming.check_name(type(self).__name__, name)
        self._params, self._state = {}, {}
        self._variables: list[Variable] = []
        self._sublayers: list = []
        self._seed_generators: list = []
        self._build_generator = None
        self.name = name if name is not None else naming.unique_name(naming.snake_case(type(self).__name__))
        self.trainable = bool(trainable)
        self.dtype_policy = mixed_precision.get(dtype)
        self.autocast = bool(autocast)
        if batch_input_shape is not None:
            input_shape = tuple(batch_input_shape)[1:]
        if input_dim is not None:
            input_shape = (input_dim,)
        self.input_shape_hint = None if input_shape is None else normalize_shape(
            input_shape, f"{type(self).__name__} '{self.name}' input_shape")
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.weight_regularizers: dict = {}
        self.weight_constraints: dict = {}      # weight name -> w -> w, after each update
        self.params: dict = {}
        self.state: dict = {}
        self.built = False
        self.call_nodes: list[CallNode] = []

    # ---- what subclasses define ------------------------------------------------------
    def build(self, *input_shapes, generator=None, **kwargs):
        """Make the layer's weights for the given input shapes (pure form).

        Args:
            *input_shapes: one shape per input tensor, without the batch axis's size (None).
            generator: a seeded NumPy Generator to draw initial weights from (drawn on the
                host: see `naming.next_generator`). A `build` that names it `rng` gets it
                under that name.

        Returns:
            `(params, state)`: dicts of arrays, the trainable weights and the others (batch
            statistics, counters). The base layer has neither.

        Examples:
            A pure-form layer returns its weights; the layer keeps them in `params`:

            >>> class Scale(layers.Layer):
            ...     def build(self, input_shape, *, generator):
            ...         return {"scale": np.ones(input_shape[-1], "float32")}, {}
            ...     def call(self, params, state, x, *, training=False, rng=None):
            ...         return x * params["scale"], state
            >>> layer = Scale(); _ = layer(graphnet.Input(shape=(3,)))
            >>> layer.params
            {'scale': array([1., 1., 1.], dtype=float32)}

            Keras's `layer.build(input_shape)` builds a layer before any call:

            >>> dense = layers.Dense(2); dense.build((None, 3)); dense.count_params()
            8
        """
        return {}, {}

    def call(self, params, state, *args, training=False, rng=None, **kwargs):
        """The layer's computation (pure form): a function of its weights and inputs.

        Args:
            params: the trainable weights, as `build` made them.
            state: the non-trainable weights.
            *args: the input tensors.
            training: True inside `fit` (dropout, batch statistics), else False.
            rng: a JAX key, given when the layer draws randomness in training.

        Returns:
            `(outputs, new_state)`.

        Examples:
            >>> class Shift(layers.Layer):
            ...     def build(self, input_shape, *, generator):
            ...         return {"shift": np.zeros(input_shape[-1], "float32")}, {}
            ...     def call(self, params, state, x, *, training=False, rng=None):
            ...         return x + params["shift"], state
            >>> layer = Shift()
            >>> x = np.array([[1.0, 2.0]], "float32")
            >>> out, state = layer.call({"shift": np.array([10.0, 20.0], "float32")}, {}, x)
            >>> print(np.asarray(out))                 # a function of the weights given
            [[11. 22.]]
            >>> print(np.asarray(layer(x)))            # calling the layer uses its own
            [[1. 2.]]
        """
        raise NotImplementedError(f"{type(self).__name__} must define call()")

    def output_shape(self, *input_shapes, **kwargs):
        """Default: infer by tracing `call`; subclasses override to check and name errors.

        Args:
            *input_shapes: one shape per input tensor, the batch axis None.
            **kwargs: the call's keyword tensors, as shapes.

        Returns:
            The output's shape (a tuple, batch axis included), a list or tuple of them for
            several outputs, or None to have it traced.

        Examples:
            >>> class Pairs(layers.Layer):
            ...     def output_shape(self, input_shape):
            ...         if input_shape[-1] % 2:
            ...             raise ValueError(f"Pairs '{self.name}' needs an even last "
            ...                              f"axis, received {input_shape}")
            ...         return (*input_shape[:-1], input_shape[-1] // 2, 2)
            ...     def call(self, params, state, x, *, training=False, rng=None):
            ...         return ops.reshape(x, (-1, x.shape[-1] // 2, 2)), state
            >>> Pairs()(graphnet.Input(shape=(4,))).shape
            (None, 2, 2)
            >>> Pairs(name="pairs")(graphnet.Input(shape=(3,)))
            Traceback (most recent call last):
            ...
            ValueError: Pairs 'pairs' needs an even last axis, received (None, 3)
        """
        return None

    def compute_mask(self, inputs, mask=None):
        """Keras `compute_mask`: the mask of the output of a call on `inputs` (a tensor, or a
        list for several), given the incoming `mask`; passed on unchanged by default.

        Outputs carry it only when `supports_masking` (as in Keras). A layer with several
        outputs may return a tuple with one mask (or None) per output.

        Args:
            inputs: the call's input tensor, or a list of them.
            mask: the mask the inputs carry, or None.

        Examples:
            A layer defining `compute_mask` supports masking; its outputs carry the mask:

            >>> class MaskZeros(layers.Layer):
            ...     def call(self, inputs):
            ...         return inputs
            ...     def compute_mask(self, inputs, mask=None):
            ...         return ops.not_equal(inputs, 0.0)
            >>> y = MaskZeros()(np.array([[1.0, 0.0, 2.0]], "float32"))
            >>> print(np.asarray(y._keras_mask))
            [[ True False  True]]
        """
        return mask

    def get_config(self) -> dict:
        """The constructor arguments that rebuild this layer: what `save` writes and
        `from_config` reads. A layer with its own arguments adds them to the base's dict.

        Examples:
            >>> class Repeat(layers.Layer):
            ...     def __init__(self, times=2, **kwargs):
            ...         super().__init__(**kwargs)
            ...         self.times = times
            ...     def call(self, inputs):
            ...         return ops.tile(inputs, (1, self.times))
            ...     def get_config(self):
            ...         return {**super().get_config(), "times": self.times}
            >>> config = Repeat(3, name="repeat").get_config()
            >>> config["name"], config["times"], config["dtype"]["config"]
            ('repeat', 3, {'name': 'float32'})
        """
        config = {"name": self.name, "trainable": self.trainable,
                  "dtype": mixed_precision.serialize(self.dtype_policy)}
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config: dict):
        """A new layer from the dict `get_config` returned.

        Examples:
            >>> config = layers.Dense(4, activation="relu", name="hidden").get_config()
            >>> copy = layers.Dense.from_config(config)
            >>> copy.name, copy.units, copy.built
            ('hidden', 4, False)
        """
        return cls(**config)

    # ---- values: own weights plus sub-layers' (Keras form) ----------------------------
    @property
    def params(self) -> dict:
        """The trainable weights: a dict name -> array, sub-layers' dicts nested under their
        names. Assigning a dict of the same structure replaces them.

        Examples:
            >>> layer = layers.Dense(2); _ = layer(graphnet.Input(shape=(3,)))
            >>> {name: value.shape for name, value in layer.params.items()}
            {'kernel': (3, 2), 'bias': (2,)}
        """
        if not self._sublayers:
            return self._params
        return {**self._params, **{s.name: s.params for s in self._sublayers}}

    @params.setter
    def params(self, value):
        value = dict(value)
        for sub in self._sublayers:
            if sub.name in value:
                sub.params = value.pop(sub.name)
        self._params = value

    @property
    def state(self) -> dict:
        """The non-trainable weights (batch statistics, seed generators' counters), as a dict
        like `params`.

        Examples:
            >>> layer = layers.BatchNormalization(); _ = layer(graphnet.Input(shape=(3,)))
            >>> sorted(layer.state)
            ['moving_mean', 'moving_variance']
        """
        # A SeedGenerator attribute's [seed, counter] is state under the generator's name.
        seeds = {g.name: g.own_values("state") for g in getattr(self, "_seed_generators", ())}
        if not self._sublayers and not seeds:
            return self._state
        return {**self._state, **seeds, **{s.name: s.state for s in self._sublayers}}

    @state.setter
    def state(self, value):
        value = dict(value)
        for sub in self._sublayers:
            if sub.name in value:
                sub.state = value.pop(sub.name)
        for gen in getattr(self, "_seed_generators", ()):
            if gen.name in value:
                gen.set_own_values("state", value.pop(gen.name))
        self._state = value

    # ---- Keras's layer-writing API -------------------------------------------------
    def add_loss(self, loss) -> None:
        """Keras `add_loss` inside `call`: added to the training loss of that call.

        In a subclassed model's `call` the loss is a symbolic tensor: it is traced into the
        model's graph with the outputs (see `Model._trace`).

        Raises:
            ValueError: called outside a call (or with a symbolic tensor outside a subclassed
                model's `call`).

        Examples:
            >>> class ActivityPenalty(layers.Layer):
            ...     def call(self, inputs):
            ...         self.add_loss(0.5 * ops.sum(inputs))
            ...         return inputs
            >>> layer = ActivityPenalty(); _ = layer(np.array([[1.0, 2.0]], "float32"))
            >>> [float(loss) for loss in layer.losses]
            [1.5]
        """
        add_loss(self, loss, getattr(self, "_traced_losses", None))

    def __getattr__(self, name):
        # `layer.kernel`, `layer.bias`: graphnet's built-in layers hold weights in dicts;
        # Keras code reads them as attributes.
        if not name.startswith("_"):
            d = self.__dict__
            for collection in ("_params", "_state"):
                values = d.get(collection)
                if values and name in values and hasattr(values[name], "shape"):
                    value = values[name]
                    return Variable(self, name, value.shape, value.dtype, collection == "_params")
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    @property
    def receives_mask(self) -> bool:
        """Whether calls get the incoming mask as `mask=`: `supports_masking`, or a
        Keras-form `call` with a `mask` parameter (Keras's rule).

        Examples:
            >>> layers.LSTM(2).receives_mask, layers.Dense(2).receives_mask
            (True, False)
        """
        return (self.supports_masking or self._keras_form) and accepts(self.call, "mask")

    def output_mask(self, args, mask):
        """The mask of a call's output: `compute_mask(inputs, mask)` where the layer
        `supports_masking`, else None (the mask stops here, as in Keras).

        Args:
            args: the call's input tensors.
            mask: the mask they carry.

        Examples:
            >>> mask = np.array([[True, False]])
            >>> print(layers.Dense(2).output_mask([np.ones((1, 2, 3), "float32")], mask))
            [[ True False]]
            >>> print(layers.Flatten().output_mask([np.ones((1, 2, 3), "float32")], mask))
            None
        """
        if not self.supports_masking:
            return None
        return self.compute_mask(args[0] if len(args) == 1 else list(args), mask)

    # ---- the two forms behind one pure interface ---------------------------------
    def make_weights(self, shapes, generator, extra=None):
        """`(params, state)` for these input shapes, whichever form the layer is written in,
        initial values drawn from the NumPy `generator`.

        Args:
            shapes: one shape per input, the batch axis None.
            generator: a seeded NumPy Generator.
            extra: shapes of the call keywords the layer's `build` needs (`build_kwargs`).

        Examples:
            >>> params, state = layers.Dense(2).make_weights([(None, 3)],
            ...                                               np.random.default_rng(0))
            >>> {name: value.shape for name, value in params.items()}, state
            ({'kernel': (3, 2), 'bias': (2,)}, {})
        """
        extra = extra or {}
        if not self._keras_form:
            return self.build(*shapes, **{generator_keyword(type(self)): generator}, **extra)
        self._sublayers = held_in_attributes(self, Layer)
        self._seed_generators = held_in_attributes(self, SeedGenerator)
        if type(self).build is not Layer.build:
            self._build_generator = generator
            try:
                arg = shapes[0] if len(shapes) == 1 else list(shapes)
                self.build(arg, **extra)
            finally:
                self._build_generator = None
        self._sublayers = held_in_attributes(self, Layer)
        self._seed_generators = held_in_attributes(self, SeedGenerator)
        # Sub-layers build on their first call, in the first trace of `call`.
        return self.params, self.state

    def _call_in_scope(self, scope, args, kwargs):
        """A call with arrays inside another layer's call: the scope's values, not ours."""
        return call_in_scope(self, scope, args, kwargs, self._build_from)

    # ---- calling -------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        if kwargs and not self._keras_form:
            args, kwargs = bind_by_position(type(self), args, kwargs)
        check_mask(self, args, kwargs.get("mask"))
        leaves, treedef = jax.tree_util.tree_flatten((args, kwargs))
        if any(is_symbolic(leaf) for leaf in leaves):
            if kwargs.get("training", 0) is None or kwargs.get("mask", 0) is None:
                # Keras code passes its own `training=None` on; the graph decides later.
                kwargs = {k: v for k, v in kwargs.items()
                          if not (k in ("training", "mask") and v is None)}
                leaves, treedef = jax.tree_util.tree_flatten((args, kwargs))
            return self._call_symbolic(args, kwargs, leaves, treedef)
        scope = current_scope()
        if scope is not None:
            return self._call_in_scope(scope, args, kwargs)
        return self._call_eager(args, kwargs)

    def _build_from(self, args, kwargs):
        shapes = [shapes_of(a) for a in args]
        extra = {k: shapes_of(kwargs[k]) for k in self.build_kwargs if kwargs.get(k) is not None}
        if self.input_shape_hint is not None and shapes and isinstance(shapes[0], tuple):
            expected = (None, *self.input_shape_hint)
            received = tuple(shapes[0])
            if len(received) != len(expected) or any(
                    e is not None and r is not None and e != r for e, r in zip(expected, received)):
                raise ValueError(f"Layer '{self.name}' was declared with input_shape "
                                 f"{shape_str(expected)}, received {shape_str(received)}")
        # Builds may run inside another layer's first trace: weights stay concrete arrays.
        with jax.ensure_compile_time_eval():
            self.params, self.state = self.make_weights(shapes, naming.next_generator(), extra)
        self.built = True

    def _call_symbolic(self, args, kwargs, leaves, treedef):
        for leaf in leaves:
            if isinstance(leaf, (np.ndarray, jax.Array)):
                raise TypeError(f"Layer '{self.name}' received both symbolic tensors and an "
                                f"array; wrap constants in the layer or a Lambda")
        check_inputs(self, args)
        if not self.built:
            self._build_from(args, kwargs)
        spec_leaves, out_treedef = jax.tree_util.tree_flatten(self.compute_output_spec(
            *args, **with_mask(self, args, kwargs)), is_leaf=lambda s: isinstance(s, TensorSpec))
        node = CallNode(layer=self, treedef=treedef, leaves=leaves, out_treedef=out_treedef)
        node.outputs = [SymbolicTensor(s.shape, s.dtype, node, i) for i, s in enumerate(spec_leaves)]
        mark_masks(self, args, kwargs, node.outputs)
        self.call_nodes.append(node)
        return out_treedef.unflatten(node.outputs)

    def _call_eager(self, args, kwargs):
        args, kwargs = jax.tree_util.tree_map(
            lambda x: device_value(x, self), (args, kwargs),
            is_leaf=lambda x: isinstance(x, np.ndarray))
        spec_args, spec_kwargs = jax.tree_util.tree_map(
            lambda x: SymbolicTensor((None, *x.shape[1:]), x.dtype, None)
            if hasattr(x, "shape") else x, (args, kwargs))
        check_inputs(self, spec_args)
        if not self.built:
            self._build_from(spec_args, spec_kwargs)
        # The same shape check as a symbolic call, so an eager mistake names the layer too.
        self.output_shape(*[shapes_of(a) for a in spec_args],
                          **{k: shapes_of(v) for k, v in spec_kwargs.items() if k != "training"})
        training = bool(kwargs.pop("training", False))
        # Eager training calls draw their own key (reproducible), as Keras's layers do.
        rng = jax.random.key(naming.next_seed()) if training else None
        outputs, new_state, self._eager_losses = eager_call(self, args, kwargs, training, rng)
        if self._keras_form:
            self.state = new_state      # Keras: an eager call updates the layer's variables
        return outputs

    # ---- the graph around this layer (Keras's layer.input / layer.output) ------------
    def _only_node(self, what):
        if not self.call_nodes:
            raise ValueError(f"Layer '{self.name}' has never been called, so it has no {what}")
        if len(self.call_nodes) > 1:
            raise ValueError(f"Layer '{self.name}' has been called {len(self.call_nodes)} times; "
                             f"its {what} is ambiguous: use the tensors its calls returned")
        return self.call_nodes[0]

    @property
    def output(self):
        """The symbolic tensor(s) the layer's only call returned (Keras's `layer.output`).

        Raises:
            ValueError: the layer was never called, or was called more than once.

        Examples:
            >>> layer = layers.Dense(2); y = layer(graphnet.Input(shape=(3,)))
            >>> layer.output is y
            True
        """
        return self._only_node("output").out_treedef.unflatten(self._only_node("output").outputs)

    @property
    def input(self):
        """The symbolic tensor(s) the layer's only call received (Keras's `layer.input`).

        Raises:
            ValueError: the layer was never called, or was called more than once.

        Examples:
            >>> x = graphnet.Input(shape=(3,)); layer = layers.Dense(2); _ = layer(x)
            >>> layer.input is x
            True
        """
        node = self._only_node("input")
        args, kwargs = node.treedef.unflatten(node.leaves)
        return args[0] if len(args) == 1 else list(args)

    def __repr__(self):
        return f"<{type(self).__name__} name='{self.name}' built={self.built}>"

