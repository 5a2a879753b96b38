"""Shapes before data: the specs of a layer call's outputs, declared by the layer's
`output_shape` or found by tracing its call with `jax.eval_shape` (no values computed)."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ..symbolic import SymbolicTensor, TensorSpec, shape_str

# Stand-ins for unknown (None) sizes when shapes are inferred by tracing: two different
# values, so any output size that follows them is unknown too (Keras does the same).
PROBE_SIZES = (83, 89)


def device_value(x, layer):
    """An eager call's argument as a JAX array (arrays and lists); strings are refused with
    the way to turn them into numbers, since strings never reach the device."""
    if isinstance(x, (str, bytes)) or (isinstance(x, np.ndarray) and x.dtype.kind in "USO"):
        got = f"an array of dtype {x.dtype}" if isinstance(x, np.ndarray) else "strings"
        raise TypeError(f"{type(layer).__name__} '{layer.name}' takes numbers, received {got}: "
                        f"strings never reach the device; turn them into numbers first with "
                        f"TextVectorization, StringLookup or Hashing")
    return jnp.asarray(x) if isinstance(x, (np.ndarray, list)) else x


def is_symbolic(x) -> bool:
    return isinstance(x, SymbolicTensor)


def shapes_of(tree):
    """`tree` with each symbolic tensor replaced by its shape."""
    leaves, treedef = jax.tree_util.tree_flatten(tree)
    return treedef.unflatten([leaf.shape if is_symbolic(leaf) else leaf for leaf in leaves])


def specs_of(tree):
    """Arrays in `tree` as symbolic stand-ins with an unknown batch axis (for building)."""
    return jax.tree_util.tree_map(
        lambda x: SymbolicTensor((None, *x.shape[1:]), x.dtype, None)
        if hasattr(x, "shape") and hasattr(x, "dtype") and len(x.shape) else x, tree)


def output_specs(layer, args, kwargs):
    """`TensorSpec`s of a call's outputs: shapes from `layer.output_shape` where it declares
    them, else from two traces (a size that differs between them is unknown); dtypes are
    always traced."""
    shape_args = [shapes_of(a) for a in args]
    shape_kwargs = {k: shapes_of(v) for k, v in kwargs.items() if k not in ("training", "mask")}
    declared = layer.output_shape(*shape_args, **shape_kwargs)
    traced = [trace(layer, args, kwargs, size) for size in
              (PROBE_SIZES if declared is None else PROBE_SIZES[:1])]
    leaves, treedef = jax.tree_util.tree_flatten(traced[0])
    if declared is None:
        others = jax.tree_util.tree_leaves(traced[1])
        shapes = [tuple(a if a == b else None for a, b in zip(x.shape, y.shape))
                  for x, y in zip(leaves, others)]
        # The batch axis stays unknown even where a layer reduces it away.
        return treedef.unflatten([TensorSpec(s, x.dtype) for s, x in zip(shapes, leaves)])
    declared_leaves = jax.tree_util.tree_leaves(
        declared, is_leaf=lambda s: isinstance(s, tuple) and all(
            d is None or isinstance(d, (int, np.integer)) for d in s))
    return treedef.unflatten([TensorSpec(tuple(s), x.dtype) for s, x in zip(declared_leaves, leaves)])


def trace(layer, args, kwargs, size):
    """The call's outputs as `jax.ShapeDtypeStruct`s, unknown sizes set to `size`."""
    def concrete(leaf):
        if is_symbolic(leaf):
            return jax.ShapeDtypeStruct(tuple(size if d is None else d for d in leaf.shape),
                                        leaf.dtype)
        return leaf
    leaves, treedef = jax.tree_util.tree_flatten((args, kwargs))
    spec_leaves = [concrete(leaf) for leaf in leaves]
    tensor_positions = [i for i, leaf in enumerate(leaves) if is_symbolic(leaf)]

    def run(params, state, tensors):
        filled = list(spec_leaves)
        for i, t in zip(tensor_positions, tensors):
            filled[i] = t
        call_args, call_kwargs = treedef.unflatten(filled)
        training = call_kwargs.pop("training", False)
        outputs, _, _ = layer.pure_call(params, state, *call_args, training=training,
                                        rng=jax.random.key(0), **call_kwargs)
        return outputs

    received = [leaves[i].shape for i in tensor_positions]
    try:
        # Keras-form layers build their sub-layers in this first trace, so the
        # weights are read inside it.
        return jax.eval_shape(lambda tensors: run(layer.params, layer.state, tensors),
                              [spec_leaves[i] for i in tensor_positions])
    except (TypeError, ValueError) as err:
        shapes = ", ".join(shape_str(s) for s in received)
        raise ValueError(f"Layer '{layer.name}' ({type(layer).__name__}) cannot be applied to "
                         f"inputs of shape {shapes}: {err}") from None


# ---- masks before data ------------------------------------------------------------------
def incoming_mask(args, attribute="mask_spec"):
    """The mask a call on symbolic `args` receives, as Keras reads it off the first
    argument: its mask spec, a list of them for a list, or None where none carries one
    (`attribute="_keras_mask"`: the masks arrays carry, for a call on arrays)."""
    if not args:
        return None
    first = args[0]
    if isinstance(first, (list, tuple)):
        masks = [getattr(t, attribute, None) for t in first]
        return None if all(m is None for m in masks) else masks
    return getattr(first, attribute, None)


def with_mask(layer, args, kwargs):
    """`kwargs` for tracing the call, with the incoming mask as `mask=` where `call` takes
    it: a custom layer's `call(inputs, mask=None)` sees it while the model is built."""
    mask = incoming_mask(args)
    if mask is None or "mask" in kwargs or not layer.receives_mask:
        return kwargs
    return {**kwargs, "mask": mask}


def _spec_trace(fn, tree):
    """`fn(tree)`'s results as symbolic specs (no graph node): two traces with the unknown
    sizes set to each of PROBE_SIZES; a size that differs between them is unknown."""
    leaves, treedef = jax.tree_util.tree_flatten(tree)
    positions = [i for i, leaf in enumerate(leaves) if is_symbolic(leaf)]

    def at(size):
        def run(tensors):
            filled = list(leaves)
            for i, t in zip(positions, tensors):
                filled[i] = t
            return fn(treedef.unflatten(filled))
        return jax.eval_shape(run, [jax.ShapeDtypeStruct(
            tuple(size if d is None else d for d in leaves[i].shape), leaves[i].dtype)
            for i in positions])
    first, second = (at(size) for size in PROBE_SIZES)
    out_leaves, out_treedef = jax.tree_util.tree_flatten(first)
    return out_treedef.unflatten([
        SymbolicTensor(tuple(a if a == b else None for a, b in zip(x.shape, y.shape)),
                       x.dtype, None)
        for x, y in zip(out_leaves, jax.tree_util.tree_leaves(second))])


def mark_masks(layer, args, kwargs, outputs):
    """Give each symbolic output the spec of the mask `compute_mask` gives it (Keras's
    `_keras_mask` on a KerasTensor), where the layer `supports_masking`; a model used as a
    layer gives the masks its graph computes."""
    mask = kwargs.get("mask")
    if getattr(layer, "masks_from_graph", False):   # a model: one mask per input, any structure
        if mask is None and args:
            mask = jax.tree_util.tree_map(lambda t: getattr(t, "mask_spec", None), args[0])
    elif not layer.supports_masking:
        return
    mask = incoming_mask(args) if mask is None else mask
    if getattr(layer, "masks_from_graph", False) and not jax.tree_util.tree_leaves(mask):
        out = tuple(None if m is None else SymbolicTensor(m.shape, m.dtype, None)
                    for m in layer.own_output_masks())
        out = out[0] if len(out) == 1 else out
    else:
        try:
            out = _spec_trace(lambda tree: layer.output_mask(*tree), (list(args), mask))
        except Exception:   # noqa: BLE001 - a mask that cannot be found before data
            return          # stays unknown here and is found when the model runs
    per_output = (out if isinstance(out, tuple) and len(outputs) > 1 and len(out) == len(outputs)
                  else [out] * len(outputs))
    for tensor, spec in zip(outputs, per_output):
        tensor.mask_spec = spec if is_symbolic(spec) else None
