"""Each node's pure call compiled alone on abstract values: XLA's counts and the residuals.

A node's call is `layer.call_with_losses(params, state, *tensors)` with the graph's
constant arguments filled in, traced on `jax.ShapeDtypeStruct`s: no data is made. Nodes of
the same layer type, config, shapes and dtypes are costed once per table, so a model of
thousands of repeated blocks compiles each kind of node once.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import jax
import jax.numpy as jnp
import numpy as np

from ..graph import flat
from ..interpret import make_run, plan
from .formulas import formula_flops
from .table import Cost, NodeCost


def nbytes(aval) -> int:
    return int(math.prod(aval.shape)) * np.dtype(aval.dtype).itemsize


def tree_bytes(tree) -> int:
    return sum(nbytes(leaf) for leaf in jax.tree_util.tree_leaves(tree))


def abstract(tree):
    return jax.tree_util.tree_map(lambda x: jax.ShapeDtypeStruct(np.shape(x), x.dtype), tree)


def is_float(aval) -> bool:
    return jnp.issubdtype(aval.dtype, jnp.inexact)


def input_avals(model, batch_size: int, input_shape) -> list:
    """One ShapeDtypeStruct per model input; an unknown non-batch size needs `input_shape`."""
    graph = model.graph
    keys = flat(graph.graph["inputs"])
    specs = [graph.nodes[k]["outputs"][0] for k in keys]
    if input_shape is None:
        shapes = [tuple(s.shape[1:]) for s in specs]
    elif isinstance(input_shape, dict):
        missing = [k for k in keys if k not in input_shape]
        if missing:
            raise ValueError(f"cost: input_shape has no entry for input(s) {missing} of model "
                             f"'{model.name}'")
        shapes = [tuple(input_shape[k]) for k in keys]
    elif len(keys) == 1 and all(isinstance(d, int) for d in input_shape):
        shapes = [tuple(input_shape)]
    else:
        if len(input_shape) != len(keys):
            raise ValueError(f"cost: model '{model.name}' has {len(keys)} inputs {keys}; "
                             f"input_shape gives {len(input_shape)} shapes")
        shapes = [tuple(s) for s in input_shape]
    out = []
    for key, spec, shape in zip(keys, specs, shapes):
        if len(shape) != len(spec.shape) - 1 or any(
                known is not None and known != given for known, given in zip(spec.shape[1:], shape)):
            raise ValueError(f"cost: input '{key}' of model '{model.name}' has shape "
                             f"{spec.shape}; input_shape gives {shape} (without the batch axis)")
        if any(d is None for d in shape):
            raise ValueError(f"cost: input '{key}' of model '{model.name}' has unknown sizes "
                             f"{spec.shape} besides the batch; pass input_shape= with the sizes "
                             f"to cost, e.g. input_shape={tuple(8 if d is None else d for d in shape)}")
        out.append(jax.ShapeDtypeStruct((batch_size, *shape), spec.dtype))
    return keys, out


def node_call(step, training):
    """The step as `f(params, state, tensors, rng) -> (outputs, new_state)`; `tensors` holds
    one value per distinct argument slot (Add()([x, x]) takes x once)."""
    slots = list(dict.fromkeys(s for _, s in step.fill))

    def f(params, state, tensors, rng):
        leaves = list(step.leaves)
        for position, s in step.fill:
            leaves[position] = tensors[slots.index(s)]
        args, kwargs = step.treedef.unflatten(leaves)
        kwargs = dict(kwargs)
        node_training = kwargs.pop("training", training)
        outputs, new_state, _ = step.layer.call_with_losses(
            params, state, *args, training=node_training, rng=rng, **kwargs)
        return outputs, new_state
    return f, slots


# LLVM's expensive passes only speed up the generated code; XLA's cost analysis is of the
# optimized HLO, before LLVM, so skipping them changes no count and compiles faster.
COMPILER_OPTIONS = {"xla_llvm_disable_expensive_passes": True}


def analysis(found) -> dict:
    if isinstance(found, (list, tuple)):          # older jax: one dict per computation
        found = found[0] if found else {}
    return dict(found or {})


def lower(fn, *avals) -> dict:
    """`fn` lowered for XLA, with XLA's count of the program as written (before its
    optimization passes): `{"lowered": ..., "hlo_flops": ...}`."""
    lowered = jax.jit(fn).lower(*avals)
    return {"lowered": lowered, "hlo_flops": analysis(lowered.cost_analysis()).get("flops", 0.0)}


def compiled_numbers(lowered) -> dict:
    """XLA's cost analysis of a lowered program compiled alone."""
    return analysis(lowered.compile(compiler_options=COMPILER_OPTIONS).cost_analysis())


def xla_numbers(fn, *avals) -> dict:
    """XLA's cost analysis of `fn` compiled alone, plus `hlo_flops` (see `lower`)."""
    program = lower(fn, *avals)
    return {**compiled_numbers(program["lowered"]), "hlo_flops": program["hlo_flops"]}


def split_differentiable(params, tensors, trainable):
    """Which leaves the backward pass differentiates: float tensors, and float params of a
    trainable layer. Returns (diff params mask, diff tensors mask)."""
    p_mask = jax.tree_util.tree_map(lambda a: bool(trainable and is_float(a)), params)
    t_mask = [is_float(t) for t in tensors]
    return p_mask, t_mask


def residuals(fn, primals: list, mask: list, aux=True):
    """Classify what `jax.vjp` of `fn` over the masked primals keeps for the backward pass.

    Returns (bytes made inside, indices of primals saved, indices of output leaves saved,
    output avals). Traced abstractly; residuals are told apart by identity with the
    primal and output tracers, so nothing is counted twice.
    """
    found = {}

    def probe(*values):
        diff = [v for v, m in zip(values, mask) if m]

        def g(*d):
            it = iter(d)
            full = [next(it) if m else v for v, m in zip(values, mask)]
            return fn(*full)
        out, vjp_fn, aux_out = jax.vjp(g, *diff, has_aux=True)
        res = list({id(r): r for r in jax.tree_util.tree_leaves(vjp_fn)}.values())
        out_leaves = jax.tree_util.tree_leaves(out)
        found["inputs"] = tuple(i for i, v in enumerate(values)
                                if any(r is v for r in res))
        found["outputs"] = tuple(i for i, o in enumerate(out_leaves) if any(r is o for r in res))
        known = [*values, *out_leaves]
        found["inside"] = sum(nbytes(r) for r in res if not any(r is k for k in known))
        return out, aux_out
    shapes = jax.eval_shape(probe, *primals)
    return found["inside"], found["inputs"], found["outputs"], shapes


def measure_step(step, params, state, tensors, rng, training):
    """One node's numbers before compiling: output avals, residuals, lowered programs.

    A node XLA cannot count (a custom call: host code, a foreign op) is an error, shown as
    n/a; residuals that cannot be traced (no JVP rule) make only the saved bytes n/a."""
    layer = step.layer
    f, _ = node_call(step, training)
    p_leaves, p_tree = jax.tree_util.tree_flatten(params)
    p_mask, t_mask = split_differentiable(p_leaves, tensors, layer.trainable)
    n_p, n_t = len(p_leaves), len(tensors)
    s_leaves, s_tree = jax.tree_util.tree_flatten((state, rng))

    def flat_fn(*values):        # params leaves, tensors, then state and rng (not differentiated)
        s, key = s_tree.unflatten(values[n_p + n_t:])
        return f(p_tree.unflatten(values[:n_p]), s, list(values[n_p:n_p + n_t]), key)
    result = {}
    try:
        inside, saved_in, saved_out, (outs, _) = residuals(
            flat_fn, [*p_leaves, *tensors, *s_leaves], [*p_mask, *t_mask, *[False] * len(s_leaves)])
        result.update(saved_inside=inside, saves_outputs=saved_out,
                      saves_inputs=tuple(i - n_p for i in saved_in if n_p <= i < n_p + n_t))
    except Exception as error:
        outs, _ = jax.eval_shape(f, params, state, tensors, rng)
        result.update(saved_inside=None, saves_outputs=(), saves_inputs=(),
                      note=f"saved bytes {na(error)}")
    out_leaves = jax.tree_util.tree_leaves(outs)
    result["out_avals"] = out_leaves
    result["forward"] = lower(f, params, state, tensors, rng)
    foreign = custom_calls(result["forward"]["lowered"])
    if foreign:
        return {"out_avals": out_leaves, "error": f"n/a: XLA counts nothing inside custom "
                f"call(s) {', '.join(foreign)} (host code or a foreign op)"}
    if training and result["saved_inside"] is None:
        result["no_backward"] = True            # the forward count alone would pass for both
    elif training and any([*p_mask, *t_mask]):
        def step_fn(p, s, xs, key, cotangent):
            def g(p_diff, x_diff):
                return f(p_diff, s, x_diff, key)
            out, vjp_fn, _ = jax.vjp(g, p, xs, has_aux=True)
            return out, vjp_fn(cotangent)
        if all(is_float(a) for a in out_leaves):
            result["both"] = lower(step_fn, params, state, tensors, rng, outs)
        else:
            result["note"] = "integer output: forward FLOPs only"
    return result


# Custom calls that are layout or sharding markers, not computation XLA leaves uncounted.
STRUCTURAL_CALLS = {"Sharding", "SPMDFullToShardShape", "SPMDShardToFullShape",
                    "annotate_device_placement"}


def custom_calls(lowered) -> list:
    """Targets of the program's custom calls whose work XLA's cost analysis does not see."""
    text = lowered.as_text()
    found = re.findall(r'custom_call\s*@([\w.$-]+)|call_target_name\s*=\s*"([^"]+)"', text)
    names = {a or b for a, b in found}
    return sorted(n for n in names if n not in STRUCTURAL_CALLS)


def compile_all(found: list) -> None:
    """Compile the lowered programs of `measure_step` results, several at once (XLA's
    compiler runs outside the GIL), and put XLA's numbers in the results."""
    def one(result):
        try:
            forward = compiled_numbers(result["forward"]["lowered"])
            both = compiled_numbers(result["both"]["lowered"]) if "both" in result else forward
        except Exception as error:              # shown as n/a with the reason
            return {"error": na(error)}
        numbers = {"forward_flops": forward.get("flops", 0.0),
                   "flops": None if result.get("no_backward") else both.get("flops", 0.0),
                   "xla_bytes_accessed": both.get("bytes accessed"),
                   "xla_transcendentals": both.get("transcendentals"),
                   "hlo_flops": result.get("both", result["forward"])["hlo_flops"]}
        return numbers
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        for result, numbers in zip(found, pool.map(one, found)):
            result.update(numbers)
            result.pop("forward", None)
            result.pop("both", None)
            if "error" in numbers:
                result.pop("note", None)


def na(error) -> str:
    first = str(error).splitlines()[0][:120] if str(error) else ""
    return f"n/a: {type(error).__name__}: {first}".rstrip(": ")


def cache_key(layer, params, state, tensors, rng, training, step):
    """Equal keys mean equal programs: type, config without the name, constants, avals."""
    try:
        config = dict(layer.get_config())
        config.pop("name", None)
        text = json.dumps(config, sort_keys=True, default=repr)
    except Exception:                   # a layer without a config is costed alone
        text = f"id:{id(layer)}"
    if callable(getattr(layer, "function", None)):      # Lambda: the function is the program
        text += f"|fn:{id(layer.function)}"
    if not type(layer).__module__.startswith("graphnet."):
        text += f"|layer:{id(layer)}"       # a user's config may leave out what its call reads
    avals = tuple((a.shape, str(a.dtype)) for a in jax.tree_util.tree_leaves(
        (params, state, tensors)))
    trees = str(jax.tree_util.tree_structure((params, state)))
    constants = repr([constant_key(leaf) for leaf in step.leaves if leaf is not None]) + str(
        step.treedef)
    return (type(layer), text, avals, trees, constants, rng is None, training, layer.trainable,
            tuple(i for i, _ in enumerate(step.fill)))


def constant_key(leaf):
    """A constant argument as a key: arrays by shape, dtype and a digest of their bytes
    (their repr elides the middle of large arrays)."""
    if isinstance(leaf, (np.ndarray, jax.Array)):
        array = np.asarray(leaf)
        return (array.shape, str(array.dtype), hashlib.sha256(array.tobytes()).hexdigest())
    return repr(leaf)


def cost(model, batch_size=1, training=False, input_shape=None) -> Cost:
    """The cost of every node of `model.graph` for one batch, as a `graphnet.costing.Cost`.

    Each node's call is compiled alone on abstract inputs (no data is made), so XLA counts
    that node and nothing else; nodes of equal type, config and shapes compile once.
    `training=True` counts the forward and backward pass, with layers in training mode.
    `input_shape`: the sizes without the batch axis (one tuple, a list per input or a dict
    by input name), needed when an input has unknown sizes besides the batch.

    Examples:
        >>> inputs = graphnet.Input(shape=(3,), name="x")
        >>> model = graphnet.Model(inputs, layers.Dense(2, name="dense")(inputs), name="tiny")
        >>> table = graphnet.cost(model, batch_size=4)
        >>> len(table.rows), table.rows[-1].flops
        (2, 56.0)
    """
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError(f"cost: batch_size must be a positive int, received {batch_size!r}")
    graph = model.graph
    input_keys, avals = input_avals(model, batch_size, input_shape)
    input_slots, steps, _, n_slots, _ = plan(graph)
    values = [None] * n_slots
    producer = {}
    table = Cost(model.name, batch_size, bool(training))
    avals_of = {}
    for key, s, aval in zip(input_keys, input_slots, avals):
        values[s], producer[s] = aval, (key, 0)
        avals_of[(key, 0)] = aval
        table.rows.append(NodeCost(key, graph.nodes[key]["layer"].name, "InputLayer",
                                   [aval.shape], flops=0.0, forward_flops=0.0,
                                   output_bytes=nbytes(aval), saved_bytes=0,
                                   output_sizes=(nbytes(aval),)))
    key_aval = jax.eval_shape(lambda: jax.random.key(0))
    keys = [k for k in graph.nodes if k not in set(input_keys)]
    params, state = model.params, model.state
    cache, counted, pending = {}, set(), []
    calls, weights = {}, {}          # layer name -> its rows; -> its trained weights
    for key, step in zip(keys, steps):
        layer = step.layer
        p, st = abstract(params[layer.name]), abstract(state[layer.name])
        _, slots = node_call(step, training)
        rng = key_aval if training and layer.uses_rng else None   # as fit passes keys
        tensors = [values[s] for s in slots]
        row = NodeCost(key, layer.name, type(layer).__name__, [])
        row.param_bytes = 0 if layer.name in counted else tree_bytes(p)
        counted.add(layer.name)
        calls.setdefault(layer.name, []).append(row)
        weights[layer.name] = sum(math.prod(a.shape) for a in jax.tree_util.tree_leaves(p)
                                  if layer.trainable and is_float(a))
        row.inputs = tuple((producer[s], nbytes(t)) for s, t in zip(slots, tensors))
        ck = cache_key(layer, p, st, tensors, rng, training, step)
        if ck not in cache:
            try:
                cache[ck] = measure_step(step, p, st, tensors, rng, training)
            except Exception as error:          # shown as n/a with the reason
                cache[ck] = {"error": na(error)}
        found = cache[ck]
        pending.append((row, found))
        if "out_avals" not in found:
            try:                                # shapes still flow from the graph if known
                out_avals = [jax.ShapeDtypeStruct((batch_size, *spec.shape[1:]), spec.dtype)
                             for spec in graph.nodes[key]["outputs"]]
            except TypeError:
                out_avals = []
        else:
            out_avals = found["out_avals"]
        if "error" not in found:
            row.formula_flops = formula_flops(layer, [t.shape for t in tensors],
                                              [a.shape for a in out_avals])
        row.output_shapes = [tuple(a.shape) for a in out_avals]
        row.output_sizes = tuple(nbytes(a) for a in out_avals)
        row.output_bytes = sum(row.output_sizes)
        for i, (s, a) in enumerate(zip(step.outputs, out_avals)):
            values[s], producer[s] = a, (key, i)
            avals_of[(key, i)] = a
        table.rows.append(row)
    compile_all([found for found in cache.values() if "error" not in found and "forward" in found])
    for row, found in pending:
        if "error" in found:
            row.note, row.saved_inside = found["error"], None
            continue
        for name in ("flops", "forward_flops", "hlo_flops", "xla_bytes_accessed",
                     "xla_transcendentals", "saved_inside", "saves_outputs"):
            setattr(row, name, found[name])
        row.note = found.get("note", "")
        row.saves_inputs = tuple(row.inputs[i][0] for i in found["saves_inputs"])
    if training:
        add_gradient_sums(table.rows, avals_of, [tuple(r) for r in flat(graph.graph["outputs"])])
        for name, rows in calls.items():      # a shared layer's weights get a gradient per call
            if len(rows) > 1 and rows[0].flops is not None:
                rows[0].flops += (len(rows) - 1) * weights[name]
                rows[0].hlo_flops = (rows[0].hlo_flops or 0.0) + (len(rows) - 1) * weights[name]
    attribute_saved(table.rows)
    return table


def add_gradient_sums(rows, avals_of, outputs) -> None:
    """A tensor read by k consumers (a model output counts as one) gets k gradients that
    the backward pass adds up: k - 1 additions per element, counted on its producer."""
    readers = Counter(outputs)
    for row in rows:
        readers.update({ref for ref, _ in row.inputs})
    for row in rows:
        for i in range(len(row.output_sizes)):
            aval, k = avals_of.get((row.node, i)), readers[(row.node, i)]
            if k > 1 and aval is not None and is_float(aval) and row.flops is not None:
                extra = (k - 1) * math.prod(aval.shape)
                row.flops += extra
                row.hlo_flops = (row.hlo_flops or 0.0) + extra


def saved_tensors(rows, remat=()) -> set:
    """The tensors `(node, output index)` the backward pass keeps when the nodes in `remat`
    are recomputed: a recomputed node keeps its tensor inputs and nothing inside."""
    remat = set(remat)
    kept = set()
    for row in rows:
        if row.node in remat:
            kept.update(ref for ref, _ in row.inputs)
        else:
            kept.update((row.node, i) for i in row.saves_outputs)
            kept.update(row.saves_inputs)
    return kept


def attribute_saved(rows) -> None:
    """Each row's `saved_bytes`: what it makes inside plus its outputs that are kept by
    anyone, so that the column adds up to the model's residuals."""
    kept = saved_tensors(rows)
    for row in rows:
        if row.saved_inside is None:
            continue
        row.saved_bytes = row.saved_inside + sum(
            size for i, size in enumerate(row.output_sizes) if (row.node, i) in kept)


def whole_model(model, batch_size=1, training=False, input_shape=None) -> dict:
    """XLA's count for the whole model compiled as one program (forward, or forward and
    backward with `training=True`) and the bytes its backward pass keeps: the numbers the
    table is checked against.

    Examples:
        >>> inputs = graphnet.Input(shape=(3,), name="x")
        >>> model = graphnet.Model(inputs, layers.Dense(2, name="dense")(inputs), name="tiny")
        >>> sorted(graphnet.costing.whole_model(model, batch_size=4))
        ['flops', 'hlo_flops', 'saved_bytes', 'xla_bytes_accessed']
    """
    _, avals = input_avals(model, batch_size, input_shape)
    params, state = abstract(model.params), abstract(model.state)
    rng = jax.eval_shape(lambda: jax.random.key(0)) if training and model.uses_rng else None

    run = make_run(model.graph)

    def forward(p, s, xs, key):
        outputs, new_state, _ = run(p, s, xs, training, key)
        return outputs, new_state
    p_leaves, p_tree = jax.tree_util.tree_flatten(params)
    trainable = trainable_mask(model, params)
    p_mask = [bool(t and is_float(a)) for a, t in zip(p_leaves, trainable)]
    t_mask = [is_float(a) for a in avals]
    n_p, n_t = len(p_leaves), len(avals)
    s_leaves, s_tree = jax.tree_util.tree_flatten((state, rng))

    def flat_fn(*values):
        s, key = s_tree.unflatten(values[n_p + n_t:])
        return forward(p_tree.unflatten(values[:n_p]), s, list(values[n_p:n_p + n_t]), key)
    inside, saved_in, saved_out, (outs, _) = residuals(
        flat_fn, [*p_leaves, *avals, *s_leaves], [*p_mask, *t_mask, *[False] * len(s_leaves)])
    out_leaves = jax.tree_util.tree_leaves(outs)
    saved = inside + sum(nbytes(avals[i - n_p]) for i in saved_in if n_p <= i < n_p + n_t) + sum(
        nbytes(out_leaves[i]) for i in saved_out)
    if training:
        def step_fn(p, s, xs, key, cotangent):
            out, vjp_fn, _ = jax.vjp(lambda a, b: forward(a, s, b, key), p, xs, has_aux=True)
            return out, vjp_fn(cotangent)
        numbers = xla_numbers(step_fn, params, state, avals, rng, outs)
    else:
        numbers = xla_numbers(forward, params, state, avals, rng)
    return {"flops": numbers.get("flops"), "hlo_flops": numbers["hlo_flops"],
            "saved_bytes": saved, "xla_bytes_accessed": numbers.get("bytes accessed")}


def trainable_mask(model, params) -> list:
    """Per params leaf: whether its layer is trainable (layer names key `params`)."""
    by_name = {layer.name: layer.trainable for layer in model.layers}
    return [by_name.get(name, True) for name in sorted(params)
            for _ in jax.tree_util.tree_leaves(params[name])]
