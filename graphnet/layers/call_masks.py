"""Masks a layer call is handed and the masks its outputs carry, outside the graph: an
explicit `mask=` checked against the input, and eager calls on arrays that read and set
`_keras_mask` as Keras's `Layer.__call__` does."""
from __future__ import annotations

import jax
import numpy as np

from ..symbolic import shape_str
from .tracing import incoming_mask


def check_mask(layer, args, mask):
    """A `mask=` given to one of graphnet's layers must be a bool (or integer) array whose
    shape is the input's leading axes, (batch, steps) for a (batch, steps, features) input;
    a list input takes a list of masks, one per input (None allowed). A Keras-form layer's
    `mask` means what its author wants, so it is not checked."""
    if mask is None or not args or layer.keras_form:
        return
    first = args[0]
    if isinstance(first, (list, tuple)):
        if not isinstance(mask, (list, tuple)) or len(mask) != len(first):
            raise ValueError(f"Layer '{layer.name}' ({type(layer).__name__}) takes one mask per "
                             f"input ({len(first)} inputs), received {_describe(mask)}")
        for x, m in zip(first, mask):
            _check_one(layer, x, m)
    else:
        _check_one(layer, first, mask)


def _describe(mask):
    if isinstance(mask, (list, tuple)):
        return f"a {type(mask).__name__} of {len(mask)}"
    return f"a mask of shape {shape_str(tuple(mask.shape))}" if hasattr(mask, "shape") \
        else f"a {type(mask).__name__}"


def _check_one(layer, x, mask):
    if mask is None or not hasattr(x, "shape"):
        return
    who = f"Layer '{layer.name}' ({type(layer).__name__})"
    if not hasattr(mask, "shape") or not hasattr(mask, "dtype"):
        raise TypeError(f"{who} expects a mask as a bool array, received {type(mask).__name__}")
    dtype = np.dtype(mask.dtype)
    if dtype != np.bool_ and not np.issubdtype(dtype, np.integer):
        raise TypeError(f"{who} expects a bool mask, received one of dtype {dtype.name} and "
                        f"shape {shape_str(tuple(mask.shape))}")
    given, shape = tuple(mask.shape), tuple(x.shape)
    if len(given) > len(shape) or any(a is not None and b is not None and a != b
                                      for a, b in zip(shape, given)):
        raise ValueError(f"{who} received a mask of shape {shape_str(given)} for an input of "
                         f"shape {shape_str(shape)}: a mask has the input's leading axes, "
                         f"{shape_str(shape[:-1])} here")


def eager_call(layer, args, kwargs, training, rng):
    """`(outputs, new_state, losses)` of a call on arrays: the first argument's
    `_keras_mask` (or the `mask=` given) reaches a `call` that takes it, and the outputs
    carry the mask `compute_mask` gives where the layer `supports_masking`, as in Keras.
    `losses` is what the call added (add_loss, activity penalties) as Keras's list, kept
    for `layer.losses`."""
    mask = kwargs.get("mask")
    mask = incoming_mask(args, "_keras_mask") if mask is None else mask
    others = [*args[1:], *(v for k, v in kwargs.items() if k not in ("mask", "training"))]
    only_one = not any(hasattr(leaf, "shape") for leaf in jax.tree_util.tree_leaves(others))
    if mask is not None and "mask" not in kwargs and layer.receives_mask and only_one:
        kwargs = {**kwargs, "mask": mask}      # Keras: only a call of one tensor argument
    outputs, new_state, added = layer.call_with_losses(layer.params, layer.state, *args,
                                                       training=training, rng=rng, **kwargs)
    if layer.supports_masking:
        attach(outputs, layer.output_mask(args, mask))
    return outputs, new_state, [] if isinstance(added, float) else [added]


def attach(outputs, masks):
    """Set `_keras_mask` on each array of `outputs`: `masks` one per output (a tuple or
    list as long as the outputs) or one for all; None sets nothing."""
    leaves = jax.tree_util.tree_leaves(outputs)
    per = (masks if isinstance(masks, (tuple, list)) and len(masks) == len(leaves) > 1
           else [masks] * len(leaves))
    for value, m in zip(leaves, per):
        if m is not None and not isinstance(m, (tuple, list)):
            try:
                setattr(value, "_keras_mask", m)     # Keras's attribute name
            except AttributeError:          # an array type that takes no attributes
                pass
