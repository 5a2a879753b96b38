"""A graph run as one layer, and the one way from a graph to a model.

`Functional` is the layer protocol over a model's graph: what the interpreter, an outer
model and the trainer call (the pure call, weights, penalties, constraints, masks of
trainability). `Model` adds what a Keras user calls. `from_graph` is where every model
made from a graph ends: `Model.from_graph`, the edits, `clone_model` and both loaders
build a DiGraph in `graph.py`'s schema and hand it here.
"""
from __future__ import annotations

import jax
import networkx as nx
import numpy as np

from . import naming
from . import graph as graphs
from .graph import build_graph, check_tensors, layer_order
from .host_prefix import split as split_host_prefix
from .interpret import make_run
from .layers.base import Layer
from .layers.call_masks import attach
from .layers.input_layer import InputLayer
from .symbolic import SymbolicTensor, TensorSpec, shape_str


def structure(x, role: str, model_name: str):
    """(kind, keys, flat list) of a model's inputs or outputs."""
    if isinstance(x, dict):
        if not x:
            raise ValueError(f"Model '{model_name}': {role} is an empty dict")
        for k in x:
            if not isinstance(k, str):
                raise TypeError(f"Model '{model_name}': {role} dict keys must be strings, received {k!r}")
        return "dict", list(x), list(x.values())
    if isinstance(x, (list, tuple)):
        if not x:
            raise ValueError(f"Model '{model_name}': {role} is an empty list")
        return "list", None, list(x)
    return "single", None, [x]


def unique_names(names) -> list:
    """Keras's output names: a repeated name gets `_1`, `_2`, ..."""
    seen, out = {}, []
    for n in names:
        count = seen.get(n, 0)
        seen[n] = count + 1
        out.append(n if count == 0 else f"{n}_{count}")
    return out


def pack(flat, kind, keys):
    """A flat list in a model's structure: one item, a list, or a dict by key."""
    if kind == "single":
        return flat[0]
    if kind == "dict":
        return dict(zip(keys, flat))
    return list(flat)


def _looks_like_data(x) -> bool:
    """A list given to a one-input model: nested numbers (data), or one array per input?"""
    return len(x) != 1 or not hasattr(x[0], "shape")


class Functional(Layer):
    """A graph as one layer: `call` runs the graph, weights are the graph's layers'.

    Everything here is derived from `self.graph` (built once by `build_graph`), so a model
    nested in another behaves as any layer does.
    """
    added_losses: list = ()   # tensors a subclassed model's call gave add_loss (in the graph)
    _graph_layers: tuple = ()
    _host = None              # a HostPrefix when the graph begins with host layers
    subclassed = False        # a subclass with Keras's `call(inputs)`: traced into a graph, and
                              # saved with its layer attributes
    masks_from_graph = True   # used as a layer, its outputs carry the masks its graph computes

    def __init__(self, inputs, outputs, name=None, trainable=True, *, losses=(), ranks=None,
                 **kwargs):
        """`losses`: scalar tensors added to the training loss (a subclassed model's
        `add_loss`), kept in the graph beside the outputs. `ranks`: where replayed inputs
        go in the node order (graph.reachable_nodes)."""
        super().__init__(name=self._default_name(name), trainable=trainable, **kwargs)
        self._init_graph(inputs, outputs, losses, ranks)
        if not self.trainable:
            self.trainable = False          # now that the layers are known

    @property
    def trainable(self) -> bool:
        """Keras's `trainable`: False freezes the model's weights."""
        return self.__dict__.get("_trainable", True)

    @trainable.setter
    def trainable(self, value):
        # As Keras: setting it on a model sets it on every inner layer (nested models too).
        self._trainable = bool(value)
        for layer in self.__dict__.get("_all_layers", ()):
            layer.trainable = value

    def _default_name(self, name):
        if name is not None:
            return name
        base = naming.snake_case(type(self).__name__) if self.subclassed else "functional"
        return naming.unique_name(base)

    def _init_graph(self, inputs, outputs, losses=(), ranks=None):
        self._input_kind, self._input_keys, self.inputs = structure(inputs, "inputs", self.name)
        self._output_kind, self._output_keys, self.outputs = structure(outputs, "outputs", self.name)
        if self._output_kind == "list" and len(self.outputs) == 1:
            self._output_kind = "single"      # Keras 3: a one-element list gives one array
        check_tensors(self.inputs, "inputs", self.name)
        check_tensors(self.outputs, "outputs", self.name)
        self.added_losses = list(losses)
        check_tensors(self.added_losses, "add_loss", self.name)
        self.graph, self.node_keys = build_graph(
            self.inputs, self.outputs, (self._input_kind, self._input_keys),
            (self._output_kind, self._output_keys), self.name, self.added_losses, ranks)
        layers = layer_order(self.graph)
        self._all_layers = layers
        self._graph_layers = tuple(l for l in layers if not isinstance(l, InputLayer))
        self.input_names = (list(self._input_keys) if self._input_kind == "dict"
                            else [t.node.layer.name for t in self.inputs])
        self.output_names = (list(self._output_keys) if self._output_kind == "dict"
                             else unique_names([t.name for t in self.outputs]))
        # Host layers (text, lookups) run before the compiled program, which starts from
        # their outputs: see host_prefix.
        self._host = split_host_prefix(self.graph, self.name)
        self._run = make_run(self.graph if self._host is None else self._host.device_graph)
        # Inference: (outputs, new_state). The state comes back because a call may change
        # it even when not training (a SeedGenerator's counter, a Keras-form layer's
        # assign), and Keras keeps such changes; the key feeds layers called training=True.
        # The outputs' masks come back too: an eager call sets their `_keras_mask`.
        self._jit_forward = jax.jit(lambda p, s, x, rng, in_masks=None: _without_penalty(
            self._run(p, s, x, False, rng, masks=True, input_masks=in_masks)))
        self.built = True

    # ---- structures ----------------------------------------------------------------------
    def _pack_inputs(self, flat):
        return pack(flat, self._input_kind, self._input_keys)

    def _pack_outputs(self, flat):
        return pack(flat, self._output_kind, self._output_keys)

    def _flatten_inputs(self, x, who: str = "Model"):
        """The user's inputs (one array, a list or a dict) as a list in `self.inputs` order."""
        n = len(self.inputs)
        if isinstance(x, dict):
            lookup = dict(zip(self.input_names, self.input_names))
            if self._input_kind == "dict":
                lookup.update({t.node.layer.name: k for t, k in zip(self.inputs, self._input_keys)})
            unknown = [k for k in x if k not in lookup]
            if unknown:
                raise ValueError(f"{who} '{self.name}': unknown input name(s) {unknown}; the "
                                 f"model's inputs are {self.input_names}")
            by_key = {lookup[k]: v for k, v in x.items()}
            missing = [k for k in self.input_names if k not in by_key]
            if missing:
                raise ValueError(f"{who} '{self.name}': input(s) {missing} were not passed; "
                                 f"expected {self.input_names}")
            return [by_key[k] for k in self.input_names]
        if isinstance(x, (list, tuple)) and not (n == 1 and _looks_like_data(x)):
            if len(x) != n:
                raise ValueError(f"{who} '{self.name}' expects {n} input(s) {self.input_names}, "
                                 f"received a {type(x).__name__} of {len(x)}")
            return list(x)
        if n != 1:
            raise ValueError(f"{who} '{self.name}' expects {n} inputs {self.input_names} as a "
                             f"list or dict, received one {type(x).__name__}")
        return [x]

    def _prepare_inputs(self, x, who: str = "predict"):
        """Check and convert the user's arrays: names, numeric dtype, shape, equal lengths;
        host layers at the start of the model run first, on the host."""
        arrays = []
        given, specs = self._flatten_inputs(x, who), self.inputs
        if self._host is not None:
            given = self._host.run(given, self.input_names, self.name, who)
            specs = self._host.device_specs
        for t, name, a in zip(specs, self.input_names, given):
            if not isinstance(a, jax.Array):
                try:
                    a = np.asarray(a)
                except (ValueError, TypeError) as err:
                    raise ValueError(f"{who}: input '{name}' of model '{self.name}' must be a "
                                     f"numeric array of shape {shape_str(t.shape)}; it could not "
                                     f"be made one ({err})") from None
                if a.dtype.kind not in "biuf":
                    raise TypeError(f"{who}: input '{name}' of model '{self.name}' must be "
                                    f"numeric, received an array of dtype {a.dtype}")
            expected = t.shape
            if a.ndim != len(expected) or any(e is not None and e != r for e, r in zip(expected[1:], a.shape[1:])):
                raise ValueError(f"{who}: input '{name}' of model '{self.name}' expects shape "
                                 f"{shape_str(expected)}, received {tuple(a.shape)}")
            if a.dtype != t.dtype:
                _check_int_range(a, t.dtype, f"{who}: input '{name}' of model '{self.name}'")
                a = a.astype(t.dtype) if isinstance(a, jax.Array) else np.asarray(a, t.dtype)
            arrays.append(a)
        lengths = {name: a.shape[0] for name, a in zip(self.input_names, arrays)}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"{who}: inputs of model '{self.name}' have different numbers of "
                             f"samples {lengths}")
        return arrays

    # ---- values: the params view ---------------------------------------------------------
    @property
    def params(self) -> dict:
        """The current weights: a dict layer name -> dict of arrays (the pytree `apply` takes); assignable.

        Examples:
            >>> inputs = graphnet.Input(shape=(3,), name="x")
            >>> model = graphnet.Model(inputs, layers.Dense(2, name="dense")(inputs), name="tiny")
            >>> sorted(model.params["dense"])
            ['bias', 'kernel']
            >>> model.params["dense"]["kernel"].shape
            (3, 2)
        """
        return {layer.name: layer.params for layer in self._graph_layers}

    @params.setter
    def params(self, value):
        """The current weights: a dict layer name -> dict of arrays (the pytree `apply` takes); assignable."""
        for layer in self._graph_layers:
            if layer.name not in value:
                raise KeyError(f"Model '{self.name}': params have no entry for layer '{layer.name}'")
            layer.params = value[layer.name]

    @property
    def state(self) -> dict:
        """The current non-weight state (e.g. moving statistics), a dict like `params`; assignable.

        Examples:
            >>> inputs = graphnet.Input(shape=(3,))
            >>> model = graphnet.Model(inputs, layers.BatchNormalization(name="bn")(inputs))
            >>> sorted(model.state["bn"])
            ['moving_mean', 'moving_variance']
        """
        return {layer.name: layer.state for layer in self._graph_layers}

    @state.setter
    def state(self, value):
        """The current non-weight state (e.g. moving statistics), a dict like `params`; assignable."""
        for layer in self._graph_layers:
            if layer.name not in value:
                raise KeyError(f"Model '{self.name}': state has no entry for layer '{layer.name}'")
            layer.state = value[layer.name]

    def _sub_weights_owners(self) -> list:
        return list(self._graph_layers)

    def get_weights(self) -> list:
        """Every weight as a NumPy array, in Keras's order and layouts.

        Examples:
            >>> inputs = graphnet.Input(shape=(3,), name="x")
            >>> model = graphnet.Model(inputs, layers.Dense(2, name="dense")(inputs), name="tiny")
            >>> [w.shape for w in model.get_weights()]
            [(3, 2), (2,)]
        """
        return [w for layer in self._graph_layers for w in layer.get_weights()]

    def set_weights(self, weights) -> None:
        """Set every weight from a list in `get_weights`'s order; shapes are checked.

        Examples:
            >>> inputs = graphnet.Input(shape=(3,), name="x")
            >>> model = graphnet.Model(inputs, layers.Dense(2, name="dense")(inputs), name="tiny")
            >>> model.set_weights([np.ones((3, 2)), np.zeros(2)])
            >>> model.predict(np.ones((1, 3), dtype="float32"), verbose=0)
            array([[3., 3.]], dtype=float32)
        """
        weights = list(weights)
        expected = sum(len(layer.get_weights()) for layer in self._graph_layers)
        if len(weights) != expected:
            raise ValueError(f"Model '{self.name}' expects {expected} weight arrays, received "
                             f"{len(weights)}")
        start = 0
        for layer in self._graph_layers:
            count = len(layer.get_weights())
            layer.set_weights(weights[start:start + count])
            start += count

    def count_params(self) -> int:
        """Weights of every layer, each layer once (also one both nested and called directly).

        Examples:
            >>> inputs = graphnet.Input(shape=(3,), name="x")
            >>> model = graphnet.Model(inputs, layers.Dense(2, name="dense")(inputs), name="tiny")
            >>> model.count_params()
            8
        """
        return sum(layer.count_params() for layer in leaf_layers(self))

    # ---- Keras 3's stateless API ------------------------------------------------------
    @property
    def trainable_variables(self) -> list:
        """Keras `model.trainable_variables`: the `Variable`s training changes, in Keras's order."""
        return self.trainable_weights

    @property
    def non_trainable_variables(self) -> list:
        """Keras `model.non_trainable_variables`: every other weight (moving statistics,
        frozen layers' weights), in Keras's order."""
        return self.non_trainable_weights

    # ---- what training asks of the graph's layers -----------------------------------------
    @property
    def uses_rng(self) -> bool:
        """Whether any layer draws randomness when training: if none does, training passes
        no random key, and no random-number code is compiled."""
        return any(layer.uses_rng for layer in self._graph_layers)

    @property
    def batch_dependent(self) -> bool:
        """Whether some layer mixes samples when training (batch statistics), or a loss
        added by `add_loss` is computed over the batch."""
        return bool(self.added_losses) or any(layer.batch_dependent
                                              for layer in self._graph_layers)

    @property
    def has_activity_regularizer(self) -> bool:
        """Whether the run adds loss terms of its own (activity penalties, add_loss)."""
        return bool(self.added_losses) or any(layer.activity_regularizer is not None or
                   getattr(layer, "has_activity_regularizer", False)
                   for layer in self._graph_layers)

    def trainable_mask(self, parent: bool = True) -> dict:
        """A pytree of bools like `params`: False under any frozen layer or model."""
        mask, parent = {}, parent and self.trainable
        for layer in self._graph_layers:
            mask[layer.name] = layer.trainable_mask(parent)
        return mask

    def weight_penalty(self, params):
        """Sum of every layer's kernel/bias regularizers (shared layers counted once)."""
        total = 0.0
        for layer in self._graph_layers:
            total = total + layer.weight_penalty(params[layer.name])
        return total

    def apply_constraints(self, params):
        """`params` with every layer's weight constraints applied (shared layers once)."""
        return {**params, **{layer.name: layer.apply_constraints(params[layer.name])
                             for layer in self._graph_layers if layer.has_constraints}}

    @property
    def has_constraints(self) -> bool:
        return any(layer.has_constraints for layer in self._graph_layers)

    # ---- Keras's views of the graph's ends ----------------------------------------------
    @property
    def input(self):
        """The input tensor (a list or dict of them for several inputs), as Keras's `model.input`.

        Examples:
            >>> inputs = graphnet.Input(shape=(3,), name="x")
            >>> model = graphnet.Model(inputs, layers.Dense(2, name="dense")(inputs), name="tiny")
            >>> model.input.shape
            (None, 3)
        """
        return self._pack_inputs(self.inputs)

    @property
    def output(self):
        """The output tensor (a list or dict of them for several outputs).

        Examples:
            >>> inputs = graphnet.Input(shape=(3,), name="x")
            >>> model = graphnet.Model(inputs, layers.Dense(2, name="dense")(inputs), name="tiny")
            >>> model.output.shape
            (None, 2)
        """
        return self._pack_outputs(self.outputs)

    @property
    def input_shape(self):
        """Keras `model.input_shape`: one shape (batch axis None), or a list of them."""
        shapes = [t.shape for t in self.inputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_shape(self):
        """Keras `model.output_shape`: one shape (batch axis None), or a list of them."""
        shapes = [t.shape for t in self.outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    # ---- the graph used as a layer --------------------------------------------------------
    def _run_graph(self, params, state, inputs, training=False, rng=None, logits=False,
                   masks=False):
        """`(outputs, new_state, activity_penalty)` for a flat list of inputs in `inputs`
        order, outputs as a list in `outputs` order: what training differentiates. Reads
        the current graph's run at each call (a Sequential's graph grows)."""
        return self._run(params, state, inputs, training, rng, logits=logits, masks=masks)

    def _forward_only(self, params, state, inputs, rng):
        """Jitted inference, `(outputs, new_state)`: what predict runs on each batch."""
        return self._jit_forward(params, state, inputs, rng)[:2]

    def _pure_call(self, params, state, *args, training=False, rng=None, **kwargs):
        return self.call_with_losses(params, state, *args, training=training, rng=rng, **kwargs)

    def compute_output_spec(self, inputs, **kwargs):
        """The output tensors of a call on symbolic inputs (the model used as a layer)."""
        for t, name, given in zip(self.inputs, self.input_names, self._flatten_inputs(inputs, "Model")):
            if not isinstance(given, SymbolicTensor):
                raise TypeError(f"Model '{self.name}' input '{name}' received {type(given).__name__}")
            if len(given.shape) != len(t.shape) or any(
                    a is not None and b is not None and a != b for a, b in zip(t.shape, given.shape)):
                raise ValueError(f"Model '{self.name}' input '{name}' expects shape "
                                 f"{shape_str(t.shape)}, received {shape_str(given.shape)}")
        return self._pack_outputs([TensorSpec(t.shape, t.dtype) for t in self.outputs])

    def _autocast(self, params, args, kwargs):
        """Nothing: each layer inside casts its own inputs and weights to its policy."""
        return params, args, kwargs

    def call(self, params, state, inputs, *, training=False, rng=None):
        """The graph as a layer's call: `(outputs, new_state)`, for a model used inside another."""
        outputs, state, _ = self.call_with_losses(params, state, inputs, training=training, rng=rng)
        return outputs, state

    def call_with_losses(self, params, state, inputs, *, training=False, rng=None):
        """As `call`, also returning the activity-regularization losses of the call."""
        outputs, state, loss = self._run(params, state, self._flatten_inputs(inputs, "Model"),
                                         training, rng)
        return self._pack_outputs(outputs), state, loss

    def call_with_masks(self, params, state, inputs, *, masks=None, training=False, rng=None):
        """As `call_with_losses` given the inputs' masks (in the inputs' structure), also
        returning the outputs' masks in the order of the outputs' leaves: as Keras's
        Functional, a model used as a layer runs its graph on the masks its inputs carry
        and passes on the masks its graph computes (an Embedding's inside it too)."""
        outputs, state, loss, out_masks = self._run(
            params, state, self._flatten_inputs(inputs, "Model"), training, rng, masks=True,
            input_masks=self._flatten_masks(masks))
        order = jax.tree_util.tree_leaves(self._pack_outputs(list(range(len(out_masks)))))
        return self._pack_outputs(outputs), state, loss, tuple(out_masks[i] for i in order)

    def output_mask(self, args, mask):
        """The outputs' masks (a tuple for several) found by running the graph: what the
        outer graph's tensors carry while it is built (traced, so nothing is computed)."""
        out = self.call_with_masks(self.params, self.state, args[0], masks=mask)[3]
        return out[0] if len(out) == 1 else out

    def own_output_masks(self) -> tuple:
        """The outputs' mask specs when no mask comes in (as `call_with_masks` orders them):
        those its graph gave them when it was built, so no trace is needed."""
        order = jax.tree_util.tree_leaves(self._pack_outputs(list(range(len(self.outputs)))))
        return tuple(self.outputs[i].mask_spec for i in order)

    def _flatten_masks(self, masks):
        """The masks given for the inputs as a list in `self.inputs` order, or None."""
        if not jax.tree_util.tree_leaves(masks) or self._host is not None:
            return None                     # no mask given (host layers carry none)
        if len(self.inputs) == 1 and not isinstance(masks, dict):
            flat = list(masks) if isinstance(masks, (list, tuple)) else [masks]
        else:
            flat = self._flatten_inputs(masks, "Model")
        return None if all(m is None for m in flat) else flat

    def _call_eager(self, args, kwargs):
        if len(args) != 1:
            raise TypeError(f"Model '{self.name}' is called with one argument (an array, a list "
                            f"or a dict of arrays), received {len(args)}")
        training = kwargs.pop("training", False)
        mask = kwargs.pop("mask", None)
        if mask is None:        # Keras: the masks the input arrays carry
            mask = jax.tree_util.tree_map(lambda a: getattr(a, "_keras_mask", None), args[0])
        in_masks = self._flatten_masks(mask)
        if kwargs:
            raise TypeError(f"Model '{self.name}' got unexpected keyword argument(s) {sorted(kwargs)}")
        arrays = self._prepare_inputs(args[0], "Model call")
        # An eager call updates the model's state, as Keras's eager calls update its
        # variables (moving statistics when training, SeedGenerator counters always).
        added = 0.0
        if training:
            rng = jax.random.key(naming.next_seed())
            outputs, self.state, added, masks = self._run(self.params, self.state, arrays,
                                                          True, rng, masks=True,
                                                          input_masks=in_masks)
        elif self.has_activity_regularizer:     # the losses the call adds: `model.losses`
            outputs, self.state, added, masks = self._run(self.params, self.state, arrays,
                                                          False, self._inference_key(),
                                                          masks=True, input_masks=in_masks)
        else:
            outputs, self.state, masks = self._jit_forward(self.params, self.state, arrays,
                                                           self._inference_key(), in_masks)
        for output, mask in zip(outputs, masks):     # Keras's `_keras_mask` on the outputs
            attach(output, mask)
        self._eager_losses = [] if isinstance(added, float) else [added]
        return self._pack_outputs(outputs)

    def _inference_key(self):
        """A fresh key for an inference call of a model with random layers (a layer called
        with training=True draws from it, as Keras's layers draw from their seed generators
        in predict), else None: then no random-number code is compiled."""
        return jax.random.key(naming.next_seed()) if self.uses_rng else None


def _without_penalty(run_result):
    outputs, state, _, masks = run_result
    return outputs, state, masks


def graph_layers(graph) -> list:
    """A model graph's layers in Keras's order, inputs left out, each layer once."""
    return [layer for layer in layer_order(graph) if not isinstance(layer, InputLayer)]


def walk_layers(model, prefix: str = "", seen=None):
    """Yield (path, layer) for every layer under `model`, nested models opened (their names
    joined by "/" in the path), each layer once."""
    seen = set() if seen is None else seen
    for layer in graph_layers(model.graph) if model.built else ():
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        if isinstance(layer, Functional):
            yield from walk_layers(layer, f"{prefix}{layer.name}/", seen)
        else:
            yield prefix + layer.name, layer


def leaf_layers(model) -> list:
    """Every layer under `model`, nested models opened, each layer once."""
    return [layer for _, layer in walk_layers(model)]


def fresh_call(layer, *args, **kwargs):
    """A plain call, for layers made for the graph being built (a loaded file): each of
    their calls is their own and is recorded on them, as when a user makes the calls."""
    return layer(*args, **kwargs)


def from_graph(graph, cls, name=None, *, who="Model.from_graph", trainable=True, feeds=None,
               call=None, layer_map=None):
    """A model of class `cls` (a Functional) from a DiGraph in `graph.py`'s schema.

    The graph's calls are replayed (`graph.replay`: `feeds`, `call` and `layer_map` as
    there) and the resulting tensors wrapped without running `cls.__init__`, so a
    subclassed model comes back as its traced graph. The graph's own node order is kept,
    an input included (its Input was made before every call replayed here).
    """
    if not isinstance(graph, nx.DiGraph) or graph.is_multigraph():
        raise TypeError(f"{who} expects a networkx.DiGraph in model.graph's schema, received "
                        f"{type(graph).__name__}")
    ranks = {}
    produced = graphs.replay(graph, who, feeds=feeds, call=call, layer_map=layer_map,
                             ranks=ranks)
    inputs = graph.graph.get("inputs")
    if inputs is None:
        keys = [k for k in graph.nodes if not graphs.has_arguments(graph, k)]
        inputs = keys[0] if len(keys) == 1 else keys
    outputs = graph.graph.get("outputs")
    if outputs is None:
        sinks = [(k, 0) for k in graph.nodes if graph.out_degree(k) == 0 and
                 graphs.has_arguments(graph, k)]
        outputs = sinks[0] if len(sinks) == 1 else sinks

    def tensor(key, output=0):
        if key not in produced:
            raise ValueError(f"{who}: the graph's inputs/outputs name node {key!r}, which is "
                             f"not in the graph")
        outs = produced[key]
        if not 0 <= output < len(outs):
            raise ValueError(f"{who}: the graph's outputs name output {output} of node "
                             f"'{key}', which has {len(outs)} output(s)")
        return outs[output]
    for key in graphs.flat(inputs):
        if key in produced and graphs.has_arguments(graph, key):
            raise ValueError(f"{who}: the graph's inputs name node '{key}', which has "
                             f"arguments; inputs are nodes without arguments")
    model = cls.__new__(cls)
    Functional.__init__(
        model, graphs.pack(inputs, [tensor(k) for k in graphs.flat(inputs)]),
        graphs.pack(outputs, [tensor(*ref) for ref in graphs.flat(outputs)]),
        name=name if name is not None else graph.graph.get("name"), trainable=trainable,
        losses=[tensor(*ref) for ref in graph.graph.get("losses", ())], ranks=ranks)
    return model


def _check_int_range(a, dtype, what):
    """Integers cast to a narrower integer dtype must fit it: a cast would wrap them."""
    dtype = np.dtype(dtype)
    if dtype.kind not in "iu" or a.dtype.kind not in "iu" or not a.size \
            or not isinstance(a, np.ndarray):
        return
    info = np.iinfo(dtype)
    low, high = a.min(), a.max()
    if low < info.min or high > info.max:
        bad = high if high > info.max else low
        raise ValueError(f"{what} holds the integer {int(bad)}, outside the range "
                         f"[{info.min}, {info.max}] of its dtype {dtype.name}; a cast would "
                         f"wrap it")
