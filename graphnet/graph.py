"""The model's `nx.DiGraph`: its schema, layer calls to graph, and graph back to layer calls.

The graph is the program: `interpret.make_run` reads only it, and `Model.from_graph`
builds a model from any DiGraph in this schema.

- Node key: the layer's name for its first call in the graph, `name@i` for its i-th
  further call (a shared layer).
- Node attributes: `layer` (the layer object; an `InputLayer` for an input),
  `arguments` (the call's `(args, kwargs)`, each tensor replaced by `Arg(k)`, k its
  position among the call's tensors, constants kept as they are; `((), {})` for an input:
  a node with no arguments is an input), `outputs` (a tuple of `TensorSpec(shape, dtype)`, one
  per output tensor of the call), and `host=True` on a call of a layer that runs on the
  host before the compiled program (text and lookup layers; see `host_prefix`).
- Edge attributes: `tensors`, a tuple of `(output, argument)` pairs (output `output` of the
  source is tensor argument `argument` of the target: `Add()([x, x])` is one edge with
  `((0, 0), (0, 1))`), and `shape` (batch axis None) and `dtype` of the first tensor it carries,
  and `mask`: the shape of the mask that tensor carries (Keras's `_keras_mask`), or None.
- Graph attributes: `name`; `inputs`, the input node keys as one key, a list or a dict
  name -> key; `outputs`, `(key, output)` pairs as one pair, a list or a dict name -> pair;
  optionally `losses`, a list of `(key, output)` pairs whose values are added to the
  training loss (`add_loss` in a subclassed model's call).
- Node order: the program's order, the order the calls were made (an input where its
  `Input` was made). It is topological, and `Model.from_graph` keeps a graph's own order
  (an input included), so a model rebuilt, cloned or edited lists its nodes as its graph
  did, with a node an edit adds where the edit put it.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass

import jax
import networkx as nx
import numpy as np

from . import naming
from .layers.tracing import mark_masks
from .symbolic import CallNode, SymbolicTensor, TensorSpec, shape_str


@dataclass(frozen=True)
class Arg:
    """Tensor argument `index` of a call, in a node's `arguments`."""
    index: int

    def __repr__(self):
        return f"Arg({self.index})"


# ---- read-only: a model's graph is its program, so in-place edits are refused ----------------
class ReadOnlyGraphError(nx.NetworkXError, TypeError):
    """Raised by any in-place change of a model's graph."""


READ_ONLY = ("model.graph is read-only: it is the model's program, and changing it in place "
             "would not change the model. Edit a copy (g = model.graph.copy(); ...; "
             "graphnet.Model.from_graph(g)) or use graphnet.edit (insert_after, insert_before, "
             "replace, remove, cut)")


def _refuse(*args, **kwargs):
    raise ReadOnlyGraphError(READ_ONLY)


class _ReadOnlyDict(dict):
    """A node, edge or graph attribute dict of a model's graph."""
    __setitem__ = __delitem__ = update = pop = popitem = clear = setdefault = __ior__ = _refuse

    def __copy__(self):
        return dict(self)

    def __reduce__(self):
        return (dict, (dict(self),))


class ModelGraph(nx.DiGraph):
    """`model.graph`: a DiGraph that refuses changes; `copy()` gives an editable DiGraph."""

    def copy(self, as_view=False):
        if as_view:
            return nx.graphviews.generic_graph_view(self)
        g = nx.DiGraph()
        g.graph.update({k: _copy_structure(v) for k, v in self.graph.items()})
        g.add_nodes_from((n, _copy_node(d)) for n, d in self._node.items())
        g.add_edges_from((u, v, dict(d)) for u, nbrs in self._adj.items() for v, d in nbrs.items())
        return g

    sources = None

    @property
    def graph(self):
        """The graph attribute dict (networkx's `G.graph`); not replaceable once frozen."""
        return self.__dict__["graph"]

    @graph.setter
    def graph(self, value):
        if isinstance(self.__dict__.get("graph"), _ReadOnlyDict):    # after freeze()
            _refuse()
        self.__dict__["graph"] = value

    def freeze(self):
        for name in ("add_node", "add_nodes_from", "remove_node", "remove_nodes_from",
                     "add_edge", "add_edges_from", "add_weighted_edges_from", "remove_edge",
                     "remove_edges_from", "clear", "clear_edges", "update"):
            setattr(self, name, _refuse)
        for n in self._node:
            self._node[n] = _ReadOnlyDict(self._node[n])
        for u, nbrs in self._adj.items():
            for v in nbrs:
                data = _ReadOnlyDict(nbrs[v])
                nbrs[v] = data
                self._pred[v][u] = data
        self.graph = _ReadOnlyDict(self.graph)
        self.frozen = True
        self.sources = {key: argument_sources(self, key) for key in self._node}
        return self


def _copy_structure(value):
    if isinstance(value, dict):
        return {k: _copy_structure(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy_structure(v) for v in value]
    return value


def _copy_node(data):
    out = dict(data)
    if "arguments" in out:
        args, kwargs = out["arguments"]
        out["arguments"] = (args, dict(kwargs))
    return out


# ---- graph attributes: inputs and outputs ------------------------------------------------------
def flat(structure) -> list:
    """The items of a graph's `inputs` or `outputs` attribute, in order."""
    if isinstance(structure, dict):
        return list(structure.values())
    if isinstance(structure, list):
        return list(structure)
    return [structure]


def pack(structure, items):
    """`items` in the shape of `structure` (one item, a list, or a dict)."""
    if isinstance(structure, dict):
        return dict(zip(structure, items))
    if isinstance(structure, list):
        return list(items)
    return items[0]


def has_arguments(graph, key) -> bool:
    return graph.in_degree(key) > 0 or any(
        isinstance(leaf, Arg) for leaf in jax.tree_util.tree_leaves(graph.nodes[key].get("arguments", ((), {}))))


def argument_sources(graph, key) -> list:
    """`[(source key, output index)]` per tensor argument of the call at `key`, in order."""
    known = getattr(graph, "sources", None)          # a model's read-only graph keeps them
    if known is not None:
        return known[key]
    slots, free = {}, 0
    for source, data in graph.pred[key].items():
        pairs = data.get("tensors")
        if pairs is None:
            while free in slots:
                free += 1
            pairs = ((0, free),)
        for output, argument in pairs:
            if argument in slots:
                raise ValueError(f"graph: tensor argument {argument} of node '{key}' comes both "
                                 f"from '{slots[argument][0]}' and from '{source}'")
            slots[argument] = (source, output)
    if sorted(slots) != list(range(len(slots))):
        raise ValueError(f"graph: the edges into node '{key}' give tensor arguments "
                         f"{sorted(slots)}; they must be numbered 0, 1, ... without gaps")
    return [slots[i] for i in range(len(slots))]


# ---- layer calls to the graph --------------------------------------------------------------------
def check_tensors(tensors, role: str, model_name: str) -> None:
    for i, t in enumerate(tensors):
        if not isinstance(t, SymbolicTensor):
            raise TypeError(f"Model '{model_name}': {role}[{i}] must be a symbolic tensor "
                            f"(from graphnet.Input or a layer call), received {type(t).__name__}")


def reachable_nodes(inputs, outputs, model_name: str, ranks=None) -> list:
    """Call nodes between `inputs` and `outputs`, in creation (hence topological) order.

    `ranks` (CallNode -> number) places some nodes elsewhere: an input replayed from a
    graph takes its place in that graph rather than where its `Input` was made."""
    input_nodes, names = {}, []
    for t in inputs:
        if not t.node.is_input:
            raise ValueError(f"Model '{model_name}': input '{t.name}' is not a graphnet.Input "
                             f"(it is an output of layer '{t.node.layer.name}'); models start "
                             f"from Input tensors")
        if t.node in input_nodes:
            raise ValueError(f"Model '{model_name}': input '{t.name}' is listed twice in "
                             f"`inputs`; each Input may be given once")
        input_nodes[t.node] = t
        names.append(t.name)
    seen, stack = set(), [(t.node, t) for t in outputs]
    while stack:
        node, wanted = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if node.is_input and node not in input_nodes:
            raise ValueError(f"Model '{model_name}': output '{wanted.name}' depends on input "
                             f"'{node.layer.name}', which is not among the model's inputs "
                             f"{names}. Pass it in `inputs`")
        stack.extend((t.node, wanted) for t in node.inputs)
    seen |= set(input_nodes)
    ranks = ranks or {}
    return sorted(seen, key=lambda n: ranks.get(n, n.id))


def node_key(name: str, count: int) -> str:
    """The key of a layer's call in a graph: its name for the first call, `name@i` for
    the i-th further one (a shared layer)."""
    return name if count == 0 else f"{name}@{count}"


def build_graph(inputs, outputs, input_structure, output_structure, model_name: str,
                losses=(), ranks=None):
    """Returns `(graph, keys)`: the read-only graph and each CallNode's key in it.

    `input_structure` / `output_structure` are `(kind, dict keys)`: kind "single", "list"
    or "dict", as the model's inputs / outputs were given. `losses`: tensors added to the
    training loss (`add_loss` in a subclassed model's call), in the graph attribute
    `losses` as `(key, output)` pairs. `ranks`: see `reachable_nodes`.
    """
    nodes = reachable_nodes(inputs, [*outputs, *losses], model_name, ranks)
    graph = ModelGraph(name=model_name)
    keys, calls_per_layer, layer_by_name = {}, {}, {}
    for node in nodes:
        layer = node.layer
        other = layer_by_name.setdefault(layer.name, layer)
        if other is not layer:
            raise ValueError(f"Model '{model_name}': two different layers are named "
                             f"'{layer.name}'; layer names must be unique in a model")
        count = calls_per_layer.get(layer, 0)
        calls_per_layer[layer] = count + 1
        key = node_key(layer.name, count)
        keys[node] = key
        template, edges, k = [], {}, 0
        for leaf in node.leaves:
            if isinstance(leaf, SymbolicTensor):
                template.append(Arg(k))
                edges.setdefault(keys[leaf.node], []).append((leaf.index, k, leaf))
                k += 1
            else:
                template.append(leaf)
        graph.add_node(key, layer=layer, arguments=node.treedef.unflatten(template),
                       outputs=tuple(TensorSpec(t.shape, t.dtype) for t in node.outputs),
                       **({"host": True} if getattr(layer, "runs_on_host", False) else {}))
        for parent, pairs in edges.items():
            first = pairs[0][2]
            graph.add_edge(parent, key, tensors=tuple((o, a) for o, a, _ in pairs),
                           shape=first.shape, dtype=first.dtype.name,
                           mask=None if first.mask_spec is None else first.mask_spec.shape)
    graph.graph["inputs"] = _structure([keys[t.node] for t in inputs], *input_structure)
    graph.graph["outputs"] = _structure([(keys[t.node], t.index) for t in outputs],
                                        *output_structure)
    if losses:
        graph.graph["losses"] = [(keys[t.node], t.index) for t in losses]
    return graph.freeze(), keys


def _structure(items, kind: str, dict_keys):
    if kind == "dict":
        return dict(zip(dict_keys, items))
    return items if kind == "list" else items[0]


def layer_order(graph) -> list:
    """The layers as Keras 3 lists them (`model.layers`, hence `get_weights()` order).

    Keras's map_graph: a depth-first walk from the outputs numbers each layer when first
    seen; a layer's depth is its longest path to an output (a shared layer takes its
    deepest call); layers go deepest first, ties by that number; an unused input counts
    as an output layer.
    """
    sources = {key: [s for s, _ in argument_sources(graph, key)] for key in graph.nodes}
    layer_of = {key: graph.nodes[key]["layer"] for key in graph.nodes}
    index, post_order, finished = {}, [], set()
    for out_key, _ in [*flat(graph.graph["outputs"]), *graph.graph.get("losses", ())]:
        stack = [(out_key, False)]
        while stack:
            key, expanded = stack.pop()
            if expanded:
                if key not in finished:
                    finished.add(key)
                    post_order.append(key)
                continue
            if key in finished:
                continue
            index.setdefault(layer_of[key], len(index))
            stack.append((key, True))
            stack.extend((s, False) for s in reversed(sources[key]))
    node_depth, layer_depth = {}, {}
    for key in reversed(post_order):
        depth = max(node_depth.setdefault(key, 0), layer_depth.get(layer_of[key], 0))
        layer_depth[layer_of[key]] = node_depth[key] = depth
        for s in sources[key]:
            node_depth[s] = max(depth + 1, node_depth.get(s, 0))
    for key in flat(graph.graph["inputs"]):
        if layer_of[key] not in layer_depth:
            layer_depth[layer_of[key]], index[layer_of[key]] = 0, -1
    return sorted(layer_depth, key=lambda layer: (-layer_depth[layer], index[layer]))


def trunk_layers(graph, outputs) -> list:
    """Names of the layers that are ancestors of two or more of `outputs` (output indices
    in the graph's `outputs` order): the shared trunk, in `layer_order`."""
    output_keys = [key for key, _ in flat(graph.graph["outputs"])]
    counts = {}
    for i in outputs:
        key = output_keys[i]
        names = {graph.nodes[k]["layer"].name for k in nx.ancestors(graph, key) | {key}}
        for name in names:
            counts[name] = counts.get(name, 0) + 1
    return [layer.name for layer in layer_order(graph) if counts.get(layer.name, 0) >= 2]


# ---- the graph back to layer calls ------------------------------------------------------------
# Calls a graph was built from, per layer: a call with the same arguments (shapes, dtypes,
# constants) gives the same output specs, so replaying it needs no shape inference.
_replayed: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _signature(leaves):
    return [("tensor", leaf.shape, leaf.dtype) if isinstance(leaf, SymbolicTensor)
            else ("constant", leaf) for leaf in leaves]


def _node_signature(node):
    """A call node's signature, kept on the node (its leaves never change)."""
    found = node.__dict__.get("_signature")
    if found is None:
        found = node.__dict__["_signature"] = _signature(node.leaves)
    return found


def _same(a, b) -> bool:
    try:
        return len(a) == len(b) and all(bool(x == y) for x, y in zip(a, b))
    except Exception:                      # an odd constant that cannot be compared
        return False


def call_layer(layer, args, kwargs):
    """`layer(*args, **kwargs)` for a graph being rebuilt.

    A call identical to one the layer already made reuses that call's output specs. The
    call is recorded on the layer (`layer.output`) only if it is the layer's first: a
    layer kept by an edit still answers `.output` with its own first call, as in Keras.
    """
    leaves, treedef = jax.tree_util.tree_flatten((args, kwargs))
    signature = _signature(leaves)
    try:
        known = _replayed.setdefault(layer, [])
    except TypeError:                      # not weak-referenceable: no reuse
        known = []
    # A model used as a layer is asked again: a Sequential can grow after its calls.
    reusable = [] if hasattr(type(layer), "layers") else [*layer.call_nodes, *known]
    for old in reusable:
        if old.treedef == treedef and _same(signature, _node_signature(old)):
            node = CallNode(layer=layer, treedef=treedef, leaves=leaves,
                            out_treedef=old.out_treedef)
            node.outputs = [SymbolicTensor(t.shape, t.dtype, node, i)
                            for i, t in enumerate(old.outputs)]
            mark_masks(layer, args, kwargs, node.outputs)    # from these inputs' masks
            if not layer.call_nodes:
                layer.call_nodes.append(node)
            return old.out_treedef.unflatten(node.outputs)
    before = len(layer.call_nodes)
    outputs = layer(*args, **kwargs)
    if before and len(layer.call_nodes) > before:
        known.append(layer.call_nodes.pop())
        del known[:-8]
    return outputs


def topological_order(graph) -> list:
    """The nodes in insertion order where that is topological (a model's graph), else the
    topological order closest to it."""
    position = {key: i for i, key in enumerate(graph.nodes)}
    if all(position[u] < position[v] for u, v in graph.edges):
        return list(graph.nodes)
    try:
        return list(nx.lexicographical_topological_sort(graph, key=position.__getitem__))
    except nx.NetworkXUnfeasible:
        cycle = [u for u, _ in nx.find_cycle(graph)]
        raise ValueError(f"graph: the nodes {cycle} form a cycle; a model's graph must be "
                         f"acyclic") from None


def default_arguments(n: int):
    """A node with no `arguments`: `layer(x)` for one tensor, `layer([x0, x1, ...])` for more."""
    return ((Arg(0),), {}) if n == 1 else (([Arg(i) for i in range(n)],), {})


def replay(graph, who: str, feeds=None, call=None, layer_map=None, ranks=None) -> dict:
    """Calls every node's layer on its arguments, in topological order.

    `feeds` maps input keys to the tensors they stand for (default: the InputLayer's own
    tensor); `layer_map(key, layer)` may swap a node's layer; `call(layer, *args, **kwargs)`
    makes each call (default `call_layer`). Returns key -> list of output tensors.
    `ranks`, a dict, receives each input's CallNode -> its place among the calls made here
    (the input's own node was made earlier), for `build_graph` to keep the graph's order.
    """
    feeds = feeds or {}
    produced = {}
    for key in topological_order(graph):
        data = graph.nodes[key]
        if "layer" not in data:
            raise ValueError(f"{who}: node '{key}' has no 'layer' attribute; every node of a "
                             f"model's graph holds its layer")
        layer = data["layer"]
        sources = argument_sources(graph, key)
        if not sources:
            produced[key] = [_input_tensor(key, layer, feeds, who)]
            if ranks is not None:
                ranks[produced[key][0].node] = naming.next_node_id()
            continue
        if layer_map is not None:
            layer = layer_map(key, layer)
        tensors = []
        for i, (source, output) in enumerate(sources):
            outs = produced[source]
            if not 0 <= output < len(outs):
                raise ValueError(f"{who}: the edge '{source}' -> '{key}' takes output {output} "
                                 f"of '{source}', which has {len(outs)} output(s)")
            tensors.append(outs[output])
        arguments = data.get("arguments")
        if arguments is None:
            arguments = default_arguments(len(tensors))
        template, treedef = jax.tree_util.tree_flatten(arguments)
        wanted = sorted(leaf.index for leaf in template if isinstance(leaf, Arg))
        if wanted != list(range(len(tensors))):
            raise ValueError(f"{who}: node '{key}' (layer '{layer.name}') takes tensor "
                             f"arguments {wanted} but its incoming edges give "
                             f"{list(range(len(tensors)))}")
        args, kwargs = treedef.unflatten([tensors[leaf.index] if isinstance(leaf, Arg) else leaf
                                          for leaf in template])
        try:
            outputs = (call or _call)(layer, *args, **kwargs)
        except ValueError as err:
            raise ValueError(_shape_error(who, key, layer, tensors, err)) from None
        produced[key] = [t for t in jax.tree_util.tree_leaves(outputs)]
        for t in produced[key]:
            if not isinstance(t, SymbolicTensor):
                raise TypeError(f"{who}: the call of node '{key}' (layer '{layer.name}') "
                                f"returned {type(t).__name__}, not symbolic tensors")
    return produced


def _call(layer, *args, **kwargs):
    return call_layer(layer, args, kwargs)


def _input_tensor(key, layer, feeds, who):
    if key in feeds:
        return feeds[key]
    if getattr(layer, "call_nodes", None) and layer.call_nodes[0].is_input:
        return layer.call_nodes[0].outputs[0]
    raise ValueError(f"{who}: node '{key}' has no arguments, so it is a model input, but its "
                     f"layer '{getattr(layer, 'name', layer)}' is a {type(layer).__name__}, not "
                     f"an InputLayer (graphnet.Input)")


def _shape_error(who, key, layer, tensors, err) -> str:
    """The edit's error: the layer, the shape it now receives and the one it was built for."""
    received = ", ".join(shape_str(t.shape) for t in tensors)
    first = next((n for n in getattr(layer, "call_nodes", ()) if n.inputs), None)
    before = "" if first is None else (
        f" (it was built for {', '.join(shape_str(t.shape) for t in first.inputs)})")
    return (f"{who}: layer '{layer.name}' ({type(layer).__name__}) at node '{key}' cannot take "
            f"input shape {received}{before}: {err}")

