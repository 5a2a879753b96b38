"""Layer: configuration on the object, weights as plain dicts, values in and out.

A layer's `call(params, state, *args, training, rng)` is pure; `self.params` and
`self.state` only hold the current values between compiled calls.
"""
from __future__ import annotations

import copy
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .. import activations, naming, regularizers
from ..symbolic import CallNode, SymbolicTensor, normalize_shape

# Stand-ins for unknown (None) sizes when shapes are inferred by tracing: two different
# values, so any output size that follows them is unknown too (Keras does the same).
_PROBE_SIZES = (83, 89)


class Spec(NamedTuple):
    """Shape (batch axis None) and dtype of one layer output."""
    shape: tuple
    dtype: object


def _is_symbolic(x) -> bool:
    return isinstance(x, SymbolicTensor)


def shape_str(shape) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


class InputSpec:
    """Keras InputSpec: the rank, shape or axis sizes a layer accepts, checked at every call.

    A layer sets `self.input_spec` (one spec, or a list with one per input tensor) and gets
    Keras's error naming the layer, the input, what it expected and what it received.
    """

    def __init__(self, dtype=None, shape=None, ndim=None, max_ndim=None, min_ndim=None,
                 axes=None, name=None):
        self.dtype = dtype
        self.shape = None if shape is None else tuple(shape)
        self.ndim = len(self.shape) if self.shape is not None else ndim
        self.max_ndim, self.min_ndim, self.name = max_ndim, min_ndim, name
        self.axes = {int(k): v for k, v in (axes or {}).items()}

    def check(self, layer, index: int, shape: tuple, dtype) -> None:
        def fail(expected):
            raise ValueError(f"Input {index} of layer '{layer.name}' ({type(layer).__name__}) "
                             f"is incompatible with the layer: expected {expected}, received "
                             f"shape {shape_str(shape)}")
        rank = len(shape)
        if self.ndim is not None and rank != self.ndim:
            fail(f"ndim={self.ndim}")
        if self.max_ndim is not None and rank > self.max_ndim:
            fail(f"max_ndim={self.max_ndim}")
        if self.min_ndim is not None and rank < self.min_ndim:
            fail(f"min_ndim={self.min_ndim}")
        for axis, size in self.axes.items():
            if size is not None and (axis >= rank or axis < -rank or
                                     shape[axis] not in (None, size)):
                fail(f"axis {axis} of size {size}")
        if self.shape is not None and any(e is not None and r is not None and e != r
                                          for e, r in zip(self.shape, shape)):
            fail(f"shape {shape_str(self.shape)}")
        if self.dtype is not None and np.dtype(dtype) != np.dtype(self.dtype):
            raise ValueError(f"Input {index} of layer '{layer.name}' ({type(layer).__name__}) "
                             f"expects dtype {np.dtype(self.dtype).name}, received "
                             f"{np.dtype(dtype).name}")

    def __repr__(self):
        fields = {k: v for k, v in vars(self).items() if v not in (None, {})}
        return "InputSpec(" + ", ".join(f"{k}={v!r}" for k, v in fields.items()) + ")"


class Layer:
    """Base of every layer (and of Model).

    Subclasses define `build(*input_shapes, rng) -> (params, state)`,
    `call(params, state, *args, training, rng) -> (outputs, state)`, and optionally
    `output_shape(*input_shapes)` to check shapes with an error that names the layer.
    """
    weight_names: tuple = ()          # Keras get_weights() order, over params then state
    supports_masking = False           # receives `mask=` and passes it on
    build_kwargs: tuple = ()           # call keywords whose shapes `build` needs (MHA's key)
    input_spec = None                  # an InputSpec or a list of them, checked at each call
    activation_last = False            # call ends in `self.activation(y)` (see logits_activation)

    def __init__(self, *, name=None, trainable=True, dtype="float32", input_shape=None,
                 input_dim=None, batch_input_shape=None, activity_regularizer=None, **unknown):
        if unknown:
            raise TypeError(f"{type(self).__name__}() got unexpected keyword argument(s) "
                            f"{sorted(unknown)}")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"{type(self).__name__}: name must be a string, received {name!r}")
        self.name = name if name is not None else naming.unique_name(naming.snake_case(type(self).__name__))
        self.trainable = bool(trainable)
        self.dtype = np.dtype(dtype).name
        if batch_input_shape is not None:
            input_shape = tuple(batch_input_shape)[1:]
        if input_dim is not None:
            input_shape = (input_dim,)
        self.input_shape_hint = None if input_shape is None else normalize_shape(
            input_shape, f"{type(self).__name__} '{self.name}' input_shape")
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.weight_regularizers: dict = {}
        self.params: dict = {}
        self.state: dict = {}
        self.built = False
        self.call_nodes: list[CallNode] = []

    # ---- what subclasses define ------------------------------------------------------
    def build(self, *input_shapes, rng):
        return {}, {}

    def call(self, params, state, *args, training=False, rng=None, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define call()")

    def output_shape(self, *input_shapes, **kwargs):
        """Default: infer by tracing `call`; subclasses override to check and name errors."""
        return None

    def compute_mask(self, args, mask):
        """The mask of this call's output (traced inside apply): passed on by default.

        A layer with several outputs may return a tuple with one mask (or None) per output.
        """
        return mask if self.supports_masking else None

    def get_config(self) -> dict:
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    # ---- calling -------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        leaves, treedef = jax.tree_util.tree_flatten((args, kwargs))
        if any(_is_symbolic(leaf) for leaf in leaves):
            return self._call_symbolic(args, kwargs, leaves, treedef)
        return self._call_eager(args, kwargs)

    def _shapes_of(self, tree):
        leaves, treedef = jax.tree_util.tree_flatten(tree)
        return treedef.unflatten([leaf.shape if _is_symbolic(leaf) else leaf for leaf in leaves])

    def _check_input_spec(self, args):
        """Keras's assert_input_compatibility on the first argument's tensors."""
        if self.input_spec is None or not args:
            return
        specs = self.input_spec if isinstance(self.input_spec, (list, tuple)) else [self.input_spec]
        tensors = [t for t in jax.tree_util.tree_leaves(args[0]) if hasattr(t, "shape")]
        if len(specs) != len(tensors):
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}) expects "
                             f"{len(specs)} input tensor(s), received {len(tensors)}")
        for i, (spec, t) in enumerate(zip(specs, tensors)):
            if spec is not None:
                spec.check(self, i, tuple(t.shape), t.dtype)

    def _build_from(self, args, kwargs):
        shapes = [self._shapes_of(a) for a in args]
        extra = {k: self._shapes_of(kwargs[k]) for k in self.build_kwargs if kwargs.get(k) is not None}
        if self.input_shape_hint is not None and shapes and isinstance(shapes[0], tuple):
            expected = (None, *self.input_shape_hint)
            received = tuple(shapes[0])
            if len(received) != len(expected) or any(
                    e is not None and r is not None and e != r for e, r in zip(expected, received)):
                raise ValueError(f"Layer '{self.name}' was declared with input_shape "
                                 f"{shape_str(expected)}, received {shape_str(received)}")
        self.params, self.state = self.build(*shapes, rng=naming.next_rng(), **extra)
        self.built = True

    def _call_symbolic(self, args, kwargs, leaves, treedef):
        for leaf in leaves:
            if isinstance(leaf, (np.ndarray, jax.Array)):
                raise TypeError(f"Layer '{self.name}' received both symbolic tensors and an "
                                f"array; wrap constants in the layer or a Lambda")
        self._check_input_spec(args)
        if not self.built:
            self._build_from(args, kwargs)
        specs = self.compute_output_spec(*args, **kwargs)
        spec_leaves, out_treedef = jax.tree_util.tree_flatten(
            specs, is_leaf=lambda s: isinstance(s, Spec))
        node = CallNode(layer=self, treedef=treedef, leaves=leaves, out_treedef=out_treedef)
        node.outputs = [SymbolicTensor(s.shape, s.dtype, node, i) for i, s in enumerate(spec_leaves)]
        self.call_nodes.append(node)
        return out_treedef.unflatten(node.outputs)

    def compute_output_spec(self, *args, **kwargs):
        """Specs of this call's outputs: `output_shape` where defined, else traced."""
        shape_args = [self._shapes_of(a) for a in args]
        shape_kwargs = {k: self._shapes_of(v) for k, v in kwargs.items() if k != "training"}
        declared = self.output_shape(*shape_args, **shape_kwargs)
        traced = [self._trace(args, kwargs, size) for size in
                  (_PROBE_SIZES if declared is None else _PROBE_SIZES[:1])]
        leaves, treedef = jax.tree_util.tree_flatten(traced[0])
        if declared is None:
            others = jax.tree_util.tree_leaves(traced[1])
            shapes = [tuple(a if a == b else None for a, b in zip(x.shape, y.shape))
                      for x, y in zip(leaves, others)]
            # The batch axis stays unknown even where a layer reduces it away.
            return treedef.unflatten([Spec(s, x.dtype) for s, x in zip(shapes, leaves)])
        declared_leaves = jax.tree_util.tree_leaves(
            declared, is_leaf=lambda s: isinstance(s, tuple) and all(
                d is None or isinstance(d, (int, np.integer)) for d in s))
        return treedef.unflatten([Spec(tuple(s), x.dtype) for s, x in zip(declared_leaves, leaves)])

    def _trace(self, args, kwargs, size):
        def concrete(leaf):
            if _is_symbolic(leaf):
                return jax.ShapeDtypeStruct(tuple(size if d is None else d for d in leaf.shape),
                                            leaf.dtype)
            return leaf
        leaves, treedef = jax.tree_util.tree_flatten((args, kwargs))
        spec_leaves = [concrete(leaf) for leaf in leaves]
        tensor_positions = [i for i, leaf in enumerate(leaves) if _is_symbolic(leaf)]

        def run(params, state, tensors):
            filled = list(spec_leaves)
            for i, t in zip(tensor_positions, tensors):
                filled[i] = t
            call_args, call_kwargs = treedef.unflatten(filled)
            training = call_kwargs.pop("training", False)
            outputs, _ = self.call(params, state, *call_args, training=training,
                                   rng=jax.random.key(0), **call_kwargs)
            return outputs

        received = [leaves[i].shape for i in tensor_positions]
        try:
            return jax.eval_shape(run, self.params, self.state,
                                  [spec_leaves[i] for i in tensor_positions])
        except (TypeError, ValueError) as err:
            shapes = ", ".join(shape_str(s) for s in received)
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}) cannot be applied to "
                             f"inputs of shape {shapes}: {err}") from None

    def _call_eager(self, args, kwargs):
        args, kwargs = jax.tree_util.tree_map(
            lambda x: jnp.asarray(x) if isinstance(x, (np.ndarray, list)) else x, (args, kwargs),
            is_leaf=lambda x: isinstance(x, np.ndarray))
        spec_args, spec_kwargs = jax.tree_util.tree_map(
            lambda x: SymbolicTensor((None, *x.shape[1:]), x.dtype, None)
            if hasattr(x, "shape") else x, (args, kwargs))
        self._check_input_spec(spec_args)
        if not self.built:
            self._build_from(spec_args, spec_kwargs)
        # The same shape check as a symbolic call, so an eager mistake names the layer too.
        self.output_shape(*[self._shapes_of(a) for a in spec_args],
                          **{k: self._shapes_of(v) for k, v in spec_kwargs.items() if k != "training"})
        training = bool(kwargs.pop("training", False))
        # Eager training calls draw their own key (reproducible under set_random_seed), as
        # Keras's layers do; the pure `call` still needs one passed in.
        rng = jax.random.key(naming.next_seed()) if training else None
        outputs, _ = self.call(self.params, self.state, *args, training=training, rng=rng, **kwargs)
        return outputs

    def call_with_losses(self, params, state, *args, training=False, rng=None, **kwargs):
        """`call` plus this call's activity-regularization loss (Model adds its layers')."""
        outputs, state = self.call(params, state, *args, training=training, rng=rng, **kwargs)
        return outputs, state, self._activity_loss(outputs)

    def _activity_loss(self, outputs):
        loss = 0.0
        if self.activity_regularizer is not None:
            for out in jax.tree_util.tree_leaves(outputs):
                loss = loss + self.activity_regularizer(out)
        return loss

    def logits_activation(self):
        """"softmax" or "sigmoid" when this layer's output is that activation of values that
        `call_with_logits` can also return (losses then start from the logits), else None."""
        if not self.activation_last:
            return None
        if self.activation is activations.softmax:
            return "softmax"
        if self.activation is activations.sigmoid:
            return "sigmoid"
        return None

    def call_with_logits(self, params, state, *args, **kwargs):
        """`call_with_losses` plus the values the last activation was applied to.

        The call runs on a shallow copy whose activation is linear (nothing is mutated);
        the activation is then applied to its result, so the outputs are the same values.
        """
        bare = copy.copy(self)
        bare.activation = activations.linear
        logits, state = bare.call(params, state, *args, **kwargs)
        outputs = self.activation(logits)
        return outputs, state, self._activity_loss(outputs), logits

    def weight_penalty(self, params):
        """Sum of this layer's kernel/bias regularizers on `params`."""
        total = 0.0
        for weight, reg in self.weight_regularizers.items():
            if reg is not None and weight in params:
                total = total + reg(params[weight])
        return total

    # ---- weights, Keras layout -----------------------------------------------------
    def _present_weight_names(self):
        return [n for n in self.weight_names if n in self.params or n in self.state]

    def get_weights(self) -> list:
        return [np.asarray(self.params[n] if n in self.params else self.state[n])
                for n in self._present_weight_names()]

    def set_weights(self, weights) -> None:
        if not self.built:
            raise ValueError(f"Layer '{self.name}' has no weights yet: call it on an input "
                             f"(or add it to a model) before set_weights")
        names = self._present_weight_names()
        weights = list(weights)
        if len(weights) != len(names):
            raise ValueError(f"Layer '{self.name}' expects {len(names)} weights {names}, "
                             f"received {len(weights)}")
        params, state = dict(self.params), dict(self.state)
        for n, w in zip(names, weights):
            target = params if n in params else state
            current = target[n]
            w = np.asarray(w)
            if w.shape != current.shape:
                raise ValueError(f"Layer '{self.name}' weight '{n}' has shape {current.shape}, "
                                 f"received an array of shape {w.shape}")
            target[n] = jnp.asarray(w, dtype=current.dtype)
        self.params, self.state = params, state

    def count_params(self) -> int:
        return int(sum(np.size(x) for x in jax.tree_util.tree_leaves((self.params, self.state))))

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
        return self._only_node("output").out_treedef.unflatten(self._only_node("output").outputs)

    @property
    def input(self):
        node = self._only_node("input")
        args, kwargs = node.treedef.unflatten(node.leaves)
        return args[0] if len(args) == 1 else list(args)

    def __repr__(self):
        return f"<{type(self).__name__} name='{self.name}' built={self.built}>"


class InputLayer(Layer):
    """The layer behind `Input`: holds the shape and dtype the model is fed with."""

    def __init__(self, shape=None, dtype="float32", name=None, batch_size=None,
                 batch_shape=None, **kwargs):
        if batch_shape is not None:
            batch_size, shape = batch_shape[0], tuple(batch_shape)[1:]
        if shape is None:
            raise ValueError("Input needs shape= (the shape of one sample, without the batch axis)")
        super().__init__(name=name if name is not None else naming.unique_name("input_layer"),
                         dtype=dtype, **kwargs)
        self.shape = normalize_shape(shape, f"Input '{self.name}'")
        self.batch_size = batch_size
        self.built = True
        node = CallNode(layer=self, treedef=jax.tree_util.tree_structure(((), {})), leaves=[],
                        out_treedef=jax.tree_util.tree_structure(0))
        node.outputs = [SymbolicTensor((batch_size, *self.shape), self.dtype, node, 0)]
        self.call_nodes.append(node)

    def call(self, params, state, x, *, training=False, rng=None):
        return x, state

    def get_config(self):
        return {"name": self.name, "shape": list(self.shape), "dtype": self.dtype,
                "batch_size": self.batch_size}

    def __call__(self, *args, **kwargs):
        raise TypeError(f"InputLayer '{self.name}' is not called; use graphnet.Input(shape=...)")
