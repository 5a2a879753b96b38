"""Edits of a model's graph: each takes a model and gives a new one, the original untouched.

A node is named by its key in `model.graph` (`dense`, `dense@1` for a shared layer's second
call) or by its layer's name; `"encoder/dense"` names node `dense` inside the nested model
called at node `encoder` (that call only). Every edit is a plain networkx change of
`model.graph.copy()` followed by `Model.from_graph`: kept layers are the same objects (their
weights are shared with the original) and shapes are inferred again from the edit on, so a
kept layer that cannot take its new input is a ValueError naming it and both shapes.

Examples:
    >>> inputs = graphnet.Input(shape=(3,), name="x")
    >>> model = graphnet.Model(inputs, layers.Dense(2, name="dense")(inputs), name="tiny")
    >>> bigger = graphnet.edit.insert_after(model, "dense", layers.Dense(4, name="wider"))
    >>> [layer.name for layer in bigger.layers]
    ['x', 'dense', 'wider']
"""
from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx
import numpy as np

from . import graph as graphs
from .graph import Arg, argument_sources
from .layers.base import Layer, shape_str
from .layers.input_layer import InputLayer
from .functional import from_graph
from .model import Model
from .sequential import Sequential
from .symbolic import SymbolicTensor

__all__ = ["insert_after", "insert_before", "replace", "remove", "cut", "diff", "Diff",
           "clone_model"]


# ---- naming nodes ---------------------------------------------------------------------------
def _check_model(model, who):
    if not isinstance(model, Model):
        raise TypeError(f"{who} expects a graphnet Model or Sequential, received "
                        f"{type(model).__name__}")
    if not model.built:
        raise ValueError(f"{who}: Sequential '{model.name}' is not built yet (no input shape), "
                         f"so it has no graph to edit")


def _path(model, node, who) -> list:
    """`node` as a list of keys: one for the model's own graph, more into nested models."""
    _check_model(model, who)
    graph = model.graph
    if isinstance(node, Layer):
        node = node.name
    if not isinstance(node, str):
        raise TypeError(f"{who}: a node is named by its key in model.graph or its layer's name "
                        f"(a str), received {type(node).__name__}")
    if node in graph:
        return [node]
    for key, layer in graph.nodes(data="layer"):
        if layer.name == node:
            return [key]
    head, sep, rest = node.partition("/")
    if sep and head in graph:
        inner = graph.nodes[head]["layer"]
        if isinstance(inner, Model):
            return [head, *_path(inner, rest, who)]
    raise ValueError(f"{who}: model '{model.name}' has no node {node!r}; its nodes are "
                     f"{list(graph.nodes)}")


def _edit(model, node, who, change):
    """Applies `change(graph, key)` (it edits the graph, or returns a new one) to the graph
    holding `node`; nested models on the way are rebuilt."""
    return _edit_path(model, _path(model, node, who), who, change)


def _edit_path(model, path, who, change):
    g = model.graph.copy()
    key = path[0]
    if len(path) == 1:
        g = change(g, key) or g
    else:
        inner = g.nodes[key]["layer"]
        edited = _edit_path(inner, path[1:], who, change)
        # Edited per call: another call of the same nested model keeps the original, and
        # two different layers may not share a name in one graph.
        if any(layer is inner for k, layer in g.nodes(data="layer") if k != key):
            edited.name = _fresh_name(g, inner.name)
        g.nodes[key]["layer"] = edited
    return from_graph(g, Model, model.name, who=who)


def _fresh_name(g, base) -> str:
    names = {layer.name for _, layer in g.nodes(data="layer")}
    i = 1
    while f"{base}_{i}" in names:
        i += 1
    return f"{base}_{i}"


def _new_key(g, layer) -> str:
    key, i = layer.name, 1
    while key in g:
        key, i = f"{layer.name}@new{i}", i + 1
    return key


def _check_layer(layer, who):
    if isinstance(layer, SymbolicTensor) and layer.node.is_input:
        layer = layer.node.layer
    if not isinstance(layer, Layer):
        raise TypeError(f"{who} expects a graphnet layer to put in the model, received "
                        f"{type(layer).__name__}")
    return layer


def _placed(g, key, attrs, anchor, after) -> nx.DiGraph:
    """`g` with a new node `key` right after (or before) `anchor` in node order, so
    summary rows, shared-call numbering and dropout streams keep their order."""
    out = nx.DiGraph()
    out.graph.update(g.graph)
    for n, data in g.nodes(data=True):
        if n == anchor and not after:
            out.add_node(key, **attrs)
        out.add_node(n, **data)
        if n == anchor and after:
            out.add_node(key, **attrs)
    out.add_edges_from(g.edges(data=True))
    return out


def _retarget(g, old, new):
    """Model outputs and inputs that name `old` (a key or (key, output)) name `new`."""
    def swap(item):
        return new if item == old else item
    for attr in ("inputs", "outputs"):
        value = g.graph.get(attr)
        if isinstance(value, dict):
            g.graph[attr] = {k: swap(v) for k, v in value.items()}
        elif isinstance(value, list):
            g.graph[attr] = [swap(v) for v in value]
        elif value is not None:
            g.graph[attr] = swap(value)


def _single_output(g, key, who):
    n = len(g.nodes[key]["outputs"])
    if n != 1:
        raise ValueError(f"{who}: node '{key}' (layer '{g.nodes[key]['layer'].name}') has {n} "
                         f"outputs; this edit needs a node with one output")


# ---- the edits ----------------------------------------------------------------------------
def _as_it_was_on_failure(layer, edit):
    """Runs `edit()`; if it fails, the user's new layer is put back as it was, so it is not
    left built for the shape of an edit that never happened."""
    saved = {k: (v.copy() if isinstance(v, (list, dict)) else v) for k, v in vars(layer).items()}
    try:
        return edit()
    except BaseException:
        vars(layer).clear()
        vars(layer).update(saved)
        raise


def insert_after(model, node, layer):
    """A new model with `layer` called on `node`'s output, feeding all of `node`'s consumers
    (and the model output it was).

    Examples:
        >>> inputs = graphnet.Input(shape=(3,), name="x")
        >>> model = graphnet.Model(inputs, layers.Dense(2, name="dense")(inputs), name="tiny")
        >>> bigger = graphnet.edit.insert_after(model, "dense", layers.Dense(4, name="wider"))
        >>> bigger.output_shape
        (None, 4)
    """
    who = "insert_after"
    layer = _check_layer(layer, who)

    def change(g, key):
        _single_output(g, key, who)
        if not g.out_degree(key) and (key, 0) not in graphs.flat(g.graph["outputs"]):
            raise ValueError(f"{who}: node '{key}' feeds no layer and is not a model output, "
                             f"so a layer after it would compute nothing the model returns")
        new = _new_key(g, layer)
        h = _placed(g, new, dict(layer=layer, arguments=((Arg(0),), {})), key, after=True)
        for consumer, data in list(h.succ[key].items()):
            h.add_edge(new, consumer, **data)
            h.remove_edge(key, consumer)
        h.add_edge(key, new, tensors=((0, 0),))
        _retarget(h, (key, 0), (new, 0))
        return h
    return _as_it_was_on_failure(layer, lambda: _edit(model, node, who, change))


def insert_before(model, node, layer):
    """A new model with `layer` between `node` and its one tensor argument (that call only:
    other consumers of the argument still read it).

    Examples:
        >>> inputs = graphnet.Input(shape=(3,), name="x")
        >>> model = graphnet.Model(inputs, layers.Dense(2, name="dense")(inputs), name="tiny")
        >>> bigger = graphnet.edit.insert_before(model, "dense", layers.Dense(3, name="first"))
        >>> [layer.name for layer in bigger.layers]
        ['x', 'first', 'dense']
    """
    who = "insert_before"
    layer = _check_layer(layer, who)

    def change(g, key):
        sources = argument_sources(g, key)
        if len(sources) != 1:
            what = ("is a model input; use insert_after on it" if not sources else
                    f"takes {len(sources)} tensors (from {[s for s, _ in sources]}); use "
                    f"insert_after on the one to change")
            raise ValueError(f"{who}: node '{key}' {what}")
        (source, output), = sources
        new = _new_key(g, layer)
        h = _placed(g, new, dict(layer=layer, arguments=((Arg(0),), {})), key, after=False)
        h.remove_edge(source, key)
        h.add_edge(source, new, tensors=((output, 0),))
        h.add_edge(new, key, tensors=((0, 0),))
        return h
    return _as_it_was_on_failure(layer, lambda: _edit(model, node, who, change))


def replace(model, node, layer):
    """A new model where `layer` takes `node`'s arguments and feeds its consumers.

    Replacing a model input with another `graphnet.Input` changes the input (its shape,
    dtype or name); shapes downstream are inferred again.

    Examples:
        >>> inputs = graphnet.Input(shape=(3,), name="x")
        >>> model = graphnet.Model(inputs, layers.Dense(2, name="dense")(inputs), name="tiny")
        >>> swapped = graphnet.edit.replace(model, "dense", layers.Dense(4, name="dense4"))
        >>> swapped.output_shape
        (None, 4)
    """
    who = "replace"
    layer = _check_layer(layer, who)

    def change(g, key):
        is_input = not argument_sources(g, key)
        if is_input != isinstance(layer, InputLayer):
            raise ValueError(f"{who}: node '{key}' is {'a model input' if is_input else 'a layer call'}"
                             f"; it can only be replaced by "
                             f"{'a graphnet.Input' if is_input else 'a layer (not an Input)'}, "
                             f"received {type(layer).__name__} '{layer.name}'")
        data = dict(g.nodes[key])
        data["layer"] = layer
        new = _new_key(g, layer) if layer is not g.nodes[key]["layer"] else key + "@replaced"
        h = _placed(g, new, data, key, after=True)
        for source, d in h.pred[key].items():
            h.add_edge(source, new, **d)
        for consumer, d in h.succ[key].items():
            h.add_edge(new, consumer, **d)
        h.remove_node(key)
        _retarget(h, key, new)
        for i in range(len(data.get("outputs", ()))):
            _retarget(h, (key, i), (new, i))
        return h
    return _as_it_was_on_failure(layer, lambda: _edit(model, node, who, change))


def remove(model, node):
    """A new model without `node`: its consumers (and the model output it was) take its one
    tensor argument instead.

    Examples:
        >>> inputs = graphnet.Input(shape=(3,), name="x")
        >>> hidden = layers.Dense(3, name="hidden")(inputs)
        >>> model = graphnet.Model(inputs, layers.Dense(2, name="dense")(hidden))
        >>> smaller = graphnet.edit.remove(model, "hidden")
        >>> [layer.name for layer in smaller.layers]
        ['x', 'dense']
    """
    who = "remove"

    def change(g, key):
        sources = argument_sources(g, key)
        if len(sources) != 1:
            what = ("is a model input" if not sources else
                    f"takes {len(sources)} tensors (from {[s for s, _ in sources]}), so which "
                    f"one its consumers should take is ambiguous")
            raise ValueError(f"{who}: node '{key}' {what}; remove takes a node with one tensor "
                             f"argument")
        _single_output(g, key, who)
        (source, output), = sources
        for consumer, data in list(g.succ[key].items()):
            pairs = tuple((output, argument) for _, argument in data.get("tensors", ((0, 0),)))
            if g.has_edge(source, consumer):
                pairs = tuple(g.edges[source, consumer].get("tensors", ((0, 0),))) + pairs
            g.add_edge(source, consumer, **{**data, "tensors": pairs})
        g.remove_node(key)
        _retarget(g, (key, 0), (source, output))
    return _edit(model, node, who, change)


def cut(model, outputs):
    """A model whose outputs are those nodes' outputs, keeping only what they need (feature
    extraction). `outputs`: a node, a list, or a dict name -> node; a node with several
    outputs gives them all, `(node, i)` gives its output i. Inputs no output needs are
    dropped.

    Examples:
        >>> inputs = graphnet.Input(shape=(3,), name="x")
        >>> hidden = layers.Dense(3, name="hidden")(inputs)
        >>> model = graphnet.Model(inputs, layers.Dense(2, name="dense")(hidden))
        >>> trunk = graphnet.edit.cut(model, ["hidden"])
        >>> trunk.output_shape
        (None, 3)
    """
    who = "cut"
    _check_model(model, who)
    g = model.graph

    def refs(item):
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], (int, np.integer)):
            key = _top_key(model, item[0], who)
            n = len(g.nodes[key]["outputs"])
            if not 0 <= item[1] < n:
                raise ValueError(f"{who}: node '{key}' has {n} output(s), no output {item[1]}")
            return [(key, int(item[1]))]
        key = _top_key(model, item, who)
        return [(key, i) for i in range(len(g.nodes[key]["outputs"]))]

    if isinstance(outputs, dict):
        structure = {}
        for name, item in outputs.items():
            found = refs(item)
            if len(found) != 1:
                raise ValueError(f"{who}: output '{name}' names node {item!r} with "
                                 f"{len(found)} outputs; name one as (node, index)")
            structure[name] = found[0]
    else:
        items = outputs if isinstance(outputs, list) else [outputs]
        flat_refs = [r for item in items for r in refs(item)]
        if not flat_refs:
            raise ValueError(f"{who}: no outputs given")
        structure = flat_refs[0] if len(flat_refs) == 1 and not isinstance(outputs, list) \
            else flat_refs
    wanted = {key for key, _ in graphs.flat(structure)}
    keep = set(wanted)
    for key in wanted:
        keep |= nx.ancestors(g, key)
    h = g.subgraph([n for n in g.nodes if n in keep]).copy()
    h.graph.update({k: v for k, v in g.graph.items() if k not in ("inputs", "outputs")})
    inputs = g.graph["inputs"]
    if isinstance(inputs, dict):
        h.graph["inputs"] = {k: v for k, v in inputs.items() if v in keep}
    else:
        kept = [k for k in graphs.flat(inputs) if k in keep]
        h.graph["inputs"] = kept[0] if len(kept) == 1 else kept
    h.graph["outputs"] = structure
    if "losses" in g.graph:     # added losses the kept part still computes stay with it
        losses = [ref for ref in g.graph["losses"] if ref[0] in keep]
        if losses:
            h.graph["losses"] = losses
        else:
            del h.graph["losses"]
    return from_graph(h, Model, model.name, who=who)


def _top_key(model, node, who):
    path = _path(model, node, who)
    if len(path) > 1:
        raise ValueError(f"{who}: {node!r} is inside nested model '{path[0]}'; cut that model "
                         f"itself (model.get_layer('{path[0]}')), then call the cut one")
    return path[0]


# ---- what changed ---------------------------------------------------------------------------
@dataclass
class Diff:
    """Nodes of `b` that `a` lacks (added), of `a` that `b` lacks (removed), and nodes of
    both whose layer type, config, output shapes or inputs differ (changed: key -> list of
    (what, before, after)). Print it, or draw it: `plot_model(b, ..., highlight=diff(a, b))`.

    Examples:
        >>> inputs = graphnet.Input(shape=(3,), name="x")
        >>> model = graphnet.Model(inputs, layers.Dense(2, name="dense")(inputs), name="tiny")
        >>> bigger = graphnet.edit.insert_after(model, "dense", layers.Dense(4, name="wider"))
        >>> change = graphnet.edit.diff(model, bigger)
        >>> change.added, change.removed
        ({'wider': 'wider (Dense) -> (None, 4)'}, {})
    """
    added: dict = field(default_factory=dict)       # key -> "name (Type) -> shapes"
    removed: dict = field(default_factory=dict)
    changed: dict = field(default_factory=dict)

    def __bool__(self):
        return bool(self.added or self.removed or self.changed)

    def marks(self) -> dict:
        """{node key: "added" | "changed" | "removed"}, what `plot_model(highlight=)` reads.

        Examples:
            >>> change = graphnet.edit.Diff(added={"wider": "wider (Dense) -> (None, 4)"},
            ...                             removed={"old": "old (Dense) -> (None, 2)"})
            >>> change.marks()
            {'old': 'removed', 'wider': 'added'}
        """
        out = {key: "removed" for key in self.removed}
        out.update({key: "changed" for key in self.changed})
        out.update({key: "added" for key in self.added})
        return out

    def __str__(self):
        if not self:
            return "no difference"
        lines = [f"{len(self.added)} added, {len(self.removed)} removed, "
                 f"{len(self.changed)} changed"]
        lines += [f"+ {what}" for what in self.added.values()]
        lines += [f"- {what}" for what in self.removed.values()]
        for key, changes in self.changed.items():
            for what, before, after in changes:
                lines.append(f"~ {key}: {what} {before} -> {after}")
        return "\n".join(lines)


def _describe(g, key) -> str:
    data = g.nodes[key]
    shapes = ", ".join(shape_str(spec.shape) for spec in data["outputs"])
    return f"{key} ({type(data['layer']).__name__}) -> {shapes}"


def _config(layer):
    try:
        return layer.get_config()
    except Exception:                   # a layer without a config still compares by type
        return None


def diff(a, b) -> Diff:
    """What changed from model `a` to model `b`, node by node (keys of their graphs).

    Examples:
        >>> inputs = graphnet.Input(shape=(3,), name="x")
        >>> model = graphnet.Model(inputs, layers.Dense(2, name="dense")(inputs), name="tiny")
        >>> bigger = graphnet.edit.insert_after(model, "dense", layers.Dense(4, name="wider"))
        >>> graphnet.edit.diff(model, bigger).added
        {'wider': 'wider (Dense) -> (None, 4)'}
    """
    for m in (a, b):
        _check_model(m, "diff")
    ga, gb = a.graph, b.graph
    result = Diff()
    for key in gb.nodes:
        if key not in ga:
            result.added[key] = _describe(gb, key)
    for key in ga.nodes:
        if key not in gb:
            result.removed[key] = _describe(ga, key)
    for key in gb.nodes:
        if key not in ga:
            continue
        la, lb = ga.nodes[key]["layer"], gb.nodes[key]["layer"]
        changes = []
        if type(la) is not type(lb):
            changes.append(("type", type(la).__name__, type(lb).__name__))
        elif la is not lb:
            ca, cb = _config(la), _config(lb)
            if ca != cb:
                keys = sorted(k for k in set(ca or {}) | set(cb or {})
                              if (ca or {}).get(k) != (cb or {}).get(k))
                changes.append(("config", {k: (ca or {}).get(k) for k in keys},
                                {k: (cb or {}).get(k) for k in keys}))
        sa = [shape_str(s.shape) for s in ga.nodes[key]["outputs"]]
        sb = [shape_str(s.shape) for s in gb.nodes[key]["outputs"]]
        if sa != sb:
            changes.append(("output shape", ", ".join(sa), ", ".join(sb)))
        ia = [s for s, _ in argument_sources(ga, key)]
        ib = [s for s, _ in argument_sources(gb, key)]
        if ia != ib:
            changes.append(("inputs", ia, ib))
        if changes:
            result.changed[key] = changes
    return result


# ---- Keras's clone_model --------------------------------------------------------------------
def clone_model(model, input_tensors=None, clone_function=None, call_function=None,
                recursive=False):
    """Keras 3 `clone_model`: the same graph with new layers (from their configs, fresh
    weights) on new inputs, unless `clone_function(layer)` returns the layer itself.

    `input_tensors`: tensors (same structure as `model.input`) to build on, else new Inputs.
    `call_function(layer, *args, **kwargs)` makes each call (functional models only): it may
    add layers around it. `recursive=True` clones nested models with the same functions.
    A compiled model's clone is compiled the same way.

    Examples:
        >>> inputs = graphnet.Input(shape=(3,), name="x")
        >>> model = graphnet.Model(inputs, layers.Dense(2, name="dense")(inputs), name="tiny")
        >>> clone = graphnet.clone_model(model)
        >>> clone.get_layer("dense") is model.get_layer("dense")
        False
    """
    return _clone(model, input_tensors, clone_function, call_function, recursive, {})


def _clone(model, input_tensors, clone_function, call_function, recursive, cache):
    if not isinstance(model, Model):
        raise TypeError(f"clone_model expects a graphnet Model or Sequential, received "
                        f"{type(model).__name__}")
    if clone_function is not None and not callable(clone_function):
        raise ValueError(f"clone_model: clone_function must be a callable taking a layer, "
                         f"received {clone_function!r}")

    def clone(layer):
        if id(layer) not in cache:
            if recursive and isinstance(layer, Model):
                cache[id(layer)] = _clone(layer, None, clone_function,
                                          None if isinstance(layer, Sequential) else call_function,
                                          True, cache)
            elif clone_function is not None:
                cache[id(layer)] = clone_function(layer)
            else:
                cache[id(layer)] = type(layer).from_config(layer.get_config())
        return cache[id(layer)]

    if isinstance(model, Sequential):
        if call_function is not None:
            raise ValueError(f"clone_model: call_function is not supported for Sequential "
                             f"model '{model.name}' (its layers are listed, not called); use it "
                             f"with functional models")
        new = Sequential(name=model.name, trainable=model.trainable)
        if input_tensors is not None:
            if isinstance(input_tensors, (list, tuple)):
                if len(input_tensors) != 1:
                    raise ValueError(f"clone_model: Sequential '{model.name}' has one input; "
                                     f"input_tensors holds {len(input_tensors)}")
                input_tensors = input_tensors[0]
            new.add(input_tensors)
        elif model.built:
            new.add(_new_input(model.inputs[0]))
        for layer in model.layers:
            new.add(clone(layer))
    else:
        keys = graphs.flat(model.graph.graph["inputs"])
        if input_tensors is None:
            fed = [_new_input(t) for t in model.inputs]
        else:
            fed = _same_structure(model, input_tensors)
        feeds = dict(zip(keys, fed))

        def call(layer, *args, **kwargs):
            if call_function is not None:
                return call_function(layer, *args, **kwargs)
            return graphs.call_layer(layer, args, kwargs)

        cls = type(model) if type(model).__init__ is Model.__init__ else Model
        new = from_graph(model.graph, cls, model.name, who="clone_model", feeds=feeds,
                         call=call, layer_map=lambda key, layer: clone(layer))
        new.trainable = model.trainable
    compile_config = model.get_compile_config()
    if compile_config is not None:
        new.compile_from_config(compile_config)
    return new


def _new_input(t):
    layer = t.node.layer
    return InputLayer(shape=t.shape[1:], dtype=t.dtype, name=layer.name,
                      batch_size=t.shape[0]).output


def _same_structure(model, given) -> list:
    reference = model.input
    if isinstance(reference, dict):
        ok = isinstance(given, dict) and set(given) == set(reference)
        flat = [given[k] for k in reference] if ok else None
    elif isinstance(reference, list):
        ok = isinstance(given, (list, tuple)) and len(given) == len(reference)
        flat = list(given) if ok else None
    else:
        if isinstance(given, (list, tuple)) and len(given) == 1:
            given = given[0]
        ok, flat = not isinstance(given, (list, tuple, dict)), [given]
    if not ok:
        raise ValueError(f"clone_model: input_tensors must have the structure of "
                         f"model.input ({_structure_text(reference)}), received "
                         f"{_structure_text(given)}")
    for i, t in enumerate(flat):
        if not isinstance(t, SymbolicTensor):
            raise ValueError(f"clone_model: input_tensors[{i}] must be a symbolic tensor "
                             f"(graphnet.Input), received {type(t).__name__}")
    return flat


def _structure_text(x) -> str:
    if isinstance(x, dict):
        return f"a dict with keys {sorted(x)}"
    if isinstance(x, (list, tuple)):
        return f"a {type(x).__name__} of {len(x)}"
    return "one tensor"
