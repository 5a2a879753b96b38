"""What training adds around a layer's call: activity and weight penalties (the
regularizers) and the weight constraints projected after each update, sub-layers
included."""
import jax
import jax.numpy as jnp


def activity_loss(regularizer, outputs):
    """The activity penalty of each output divided by its batch size, as Keras 3 does,
    so the total loss does not depend on `batch_size`."""
    loss = 0.0
    if regularizer is not None:
        for out in jax.tree_util.tree_leaves(outputs):
            penalty = regularizer(out)
            if jnp.ndim(out) > 0 and out.shape[0]:
                penalty = penalty / jnp.asarray(out.shape[0], jnp.result_type(penalty))
            loss = loss + penalty
    return loss


def weight_penalty(layer, params):
    """Sum of `layer`'s weight regularizers on `params`, its sub-layers' included."""
    total = 0.0
    for weight, reg in layer.weight_regularizers.items():
        if reg is not None and weight in params:
            total = total + reg(params[weight])
    for sub in layer.sublayers:
        if sub.name in params:
            total = total + sub.weight_penalty(params[sub.name])
    return total


def apply_constraints(layer, params):
    """`params` with `layer`'s weight constraints applied, its sub-layers' too."""
    if not layer.weight_constraints and not layer.sublayers:
        return params
    params = dict(params)
    for weight, constraint in layer.weight_constraints.items():
        if weight in params:
            params[weight] = constraint(params[weight]).astype(params[weight].dtype)
    for sub in layer.sublayers:
        if sub.name in params:
            params[sub.name] = sub.apply_constraints(params[sub.name])
    return params


def weight_losses(layer) -> list:
    """Keras's regularization part of `layer.losses`: each regularized trainable weight's
    penalty on its current value, in `trainable_weights` order (sub-layers included)."""
    out = []
    for owner in _owners(layer):
        params = owner.params
        for name, reg in owner.weight_regularizers.items():
            if reg is not None and name in params and owner.trainable:
                out.append(reg(params[name]))
    return out


def _owners(layer, seen=None) -> list:
    """`layer` and every layer under it (sub-layers, a model's layers), each once."""
    seen = set() if seen is None else seen
    if id(layer) in seen:
        return []
    seen.add(id(layer))
    found = [layer] if hasattr(layer, "weight_regularizers") else []
    for sub in (*getattr(layer, "sublayers", ()), *getattr(layer, "layers", ())):
        found += _owners(sub, seen)
    return found
