"""Keras Muon and ScheduleFreeAdamW, written as Keras 3's `update_step`s are: one variable at
a time, operation for operation in float32, Keras's weight decay taken before the step."""
import re
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from .base import Optimizer
from .more import F32, per_variable


class ScheduleFreeAdamW(Optimizer):
    """Keras ScheduleFreeAdamW(learning_rate=0.0025, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
    warmup_steps=0, weight_decay=None): Adam's scaled step on a sequence `z` (the momentum
    slot, starting at the weights), the weights an interpolation of `z` and its running
    average, so no learning-rate schedule is needed.

    Examples:
        >>> import numpy as np
        >>> from graphnet import optimizers
        >>> tx = optimizers.ScheduleFreeAdamW(learning_rate=0.1).tx
        >>> params = {"w": np.ones(2, "float32")}
        >>> updates, _ = tx.update({"w": np.ones(2, "float32")}, tx.init(params), params)
        >>> print(np.round(np.asarray(updates["w"]), 4))
        [-0.1 -0.1]
    """

    def __init__(self, learning_rate=0.0025, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 warmup_steps=0, weight_decay=None, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)
        self.warmup_steps = int(warmup_steps)
        self.weight_decay = None if weight_decay is None else float(weight_decay)

    def _base(self, learning_rate):
        return per_variable(learning_rate, (lambda p: jnp.asarray(p, F32), _zeros),
                            self._step, self.weight_decay)

    def _step(self, g, y_old, slots, lr, t):
        z, v = slots
        beta_1, beta_2 = jnp.asarray(self.beta_1, F32), jnp.asarray(self.beta_2, F32)
        if self.warmup_steps > 0:
            lr = lr * jnp.minimum(t / jnp.asarray(self.warmup_steps, F32), 1.0)
        v = v + (jnp.square(g) - v) * (1 - beta_2)
        denom = jnp.sqrt(v / (1 - jnp.power(beta_2, t))) + jnp.asarray(self.epsilon, F32)
        z_new = z - (lr * g) / denom
        weight = 1.0 / t
        x_old = (y_old - (1 - beta_1) * z) / beta_1
        x_new = (1 - weight) * x_old + weight * z_new
        y_new = (1 - beta_1) * z_new + beta_1 * x_new
        return y_new - y_old, (z_new, v)

    def _hyper(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                "warmup_steps": self.warmup_steps, "weight_decay": self.weight_decay}


def _zeros(p):
    return jnp.zeros_like(p, F32)


class MuonState(NamedTuple):
    count: jax.Array
    momentums: object       # like the parameters
    velocities: object      # like the parameters (read only for the variables Adam updates)


def _path(keys) -> str:
    """A variable's path as Keras writes it ("dense/kernel") from a pytree key path."""
    parts = []
    for key in keys:
        for attr in ("key", "name", "idx"):
            if hasattr(key, attr):
                parts.append(str(getattr(key, attr)))
                break
    return "/".join(parts)


def variable_paths(tree, names=None) -> list:
    """Each leaf's path as Keras writes it ("dense/kernel"), in flatten order.

    `fit` hands the optimizer a flat list of the trainable weights (with the learned loss
    weights after them when there are some) and their paths as `names`; any other tree
    (a dict of weights) gives its own key paths."""
    flat = jax.tree_util.tree_flatten_with_path(tree)[0]
    if names is not None:
        names = list(names)
        if isinstance(tree, list) and len(tree) == len(names):
            return names
        if (isinstance(tree, tuple) and len(tree) == 2 and isinstance(tree[0], list)
                and len(tree[0]) == len(names)):
            return names + ["loss_weights"] * (len(flat) - len(names))
    return [_path(keys) for keys, _ in flat]


class Muon(Optimizer):
    """Keras Muon: momentum orthogonalized by Newton-Schulz iterations for 2-D weights, and
    Keras's AdamW step for every other variable (biases, embeddings, excluded layers).

    Which rule a variable gets depends on its path, `"layer/weight"` as Keras names it:
    `exclude_embeddings` sends paths containing "embedding" to AdamW, `exclude_layers` are
    regular expressions searched in the path. `fit` tells the optimizer the paths of the
    weights it trains (`variable_paths`).

    Examples:
        >>> import numpy as np
        >>> from graphnet import optimizers
        >>> tx = optimizers.Muon(learning_rate=0.1, weight_decay=None).tx
        >>> params = {"dense": {"kernel": np.eye(2, dtype="float32")}}
        >>> grads = {"dense": {"kernel": np.eye(2, dtype="float32")}}
        >>> updates, _ = tx.update(grads, tx.init(params), params)
        >>> print(updates["dense"]["kernel"].shape)
        (2, 2)
    """

    def __init__(self, learning_rate=0.001, adam_beta_1=0.9, adam_beta_2=0.999,
                 adam_weight_decay=0.004, epsilon=1e-7, weight_decay=0.004, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, name=None, exclude_layers=None,
                 exclude_embeddings=True, muon_a=3.4445, muon_b=-4.7750, muon_c=2.0315,
                 adam_lr_ratio=1, momentum=0.95, ns_steps=5, nesterov=True, rms_rate=0.2,
                 **kwargs):
        super().__init__(learning_rate, clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, name=name, **kwargs)
        self.adam_beta_1, self.adam_beta_2 = adam_beta_1, adam_beta_2
        self.adam_weight_decay, self.weight_decay = adam_weight_decay, weight_decay
        self.epsilon, self.exclude_layers = epsilon, list(exclude_layers or [])
        self.exclude_embeddings = exclude_embeddings
        self.muon_a, self.muon_b, self.muon_c = muon_a, muon_b, muon_c
        self.adam_lr_ratio, self.momentum, self.ns_steps = adam_lr_ratio, momentum, ns_steps
        self.nesterov, self.rms_rate = nesterov, rms_rate

    variable_paths = None        # set by fit: the trained weights' paths, in order

    def uses_adamw(self, path: str, shape) -> bool:
        """Whether the variable at `path` gets the AdamW step rather than Muon's.

        Examples:
            >>> from graphnet import optimizers
            >>> muon = optimizers.Muon()
            >>> muon.uses_adamw("dense/kernel", (4, 3)), muon.uses_adamw("dense/bias", (3,))
            (False, True)
            >>> muon.uses_adamw("embedding/embeddings", (10, 4))     # exclude_embeddings
            True
        """
        if len(shape) != 2:
            return True
        if self.exclude_embeddings and "embedding" in path.lower():
            return True
        return any(re.search(keyword, path) for keyword in self.exclude_layers)

    def _base(self, learning_rate):
        def init(params):
            return MuonState(jnp.zeros((), jnp.int32), jax.tree_util.tree_map(_zeros, params),
                             jax.tree_util.tree_map(_zeros, params))

        def update(grads, state, params=None):
            if params is None:
                raise ValueError("Muon reads the parameters: call update(grads, state, params)")
            value = learning_rate(state.count) if callable(learning_rate) else learning_rate
            lr, t = jnp.asarray(value, F32), (state.count + 1).astype(F32)
            leaves, treedef = jax.tree_util.tree_flatten(grads)
            paths = variable_paths(grads, self.variable_paths)
            originals = treedef.flatten_up_to(params)
            ms, vs = treedef.flatten_up_to(state.momentums), treedef.flatten_up_to(state.velocities)
            updates, new_ms, new_vs = [], [], []
            for path, g, p, m, v in zip(paths, leaves, originals, ms, vs):
                adam = self.uses_adamw(path, jnp.shape(p))
                decay = self.adam_weight_decay if adam else self.weight_decay
                decayed = p if decay is None else p - p * jnp.asarray(decay, F32) * lr
                g = g.astype(F32)
                if adam:
                    new_p, m, v = self._adamw(g, decayed, m, v, lr * self.adam_lr_ratio, t)
                else:
                    new_p, m = self._muon(g, decayed, m, lr)
                updates.append(new_p - p)
                new_ms.append(m)
                new_vs.append(v)
            unflatten = lambda leaves: jax.tree_util.tree_unflatten(treedef, leaves)  # noqa: E731
            return unflatten(updates), MuonState(optax.safe_int32_increment(state.count),
                                                 unflatten(new_ms), unflatten(new_vs))

        return optax.GradientTransformation(init, update)

    def _adamw(self, g, p, m, v, lr, t):
        beta_1, beta_2 = jnp.asarray(self.adam_beta_1, F32), jnp.asarray(self.adam_beta_2, F32)
        alpha = lr * jnp.sqrt(1 - jnp.power(beta_2, t)) / (1 - jnp.power(beta_1, t))
        m = m + (g - m) * (1 - beta_1)
        v = v + (jnp.square(g) - v) * (1 - beta_2)
        return p - (m * alpha) / (jnp.sqrt(v) + self.epsilon), m, v

    def _muon(self, g, p, m, lr):
        m = m + (g + m * (self.momentum - 1))
        direction = g + self.momentum * m if self.nesterov else m
        step = lr * self._orthogonalize(direction)
        if self.rms_rate is not None:
            step = step * jnp.sqrt(jnp.asarray(max(step.shape[0], step.shape[1]), F32)) \
                * self.rms_rate
        return p - step, m

    def _orthogonalize(self, x):
        """Keras's zeropower_via_newtonschulz5: the quintic iteration on x / ||x||_F."""
        a, b, c = self.muon_a, self.muon_b, self.muon_c
        tall = x.shape[-2] > x.shape[-1]
        if tall:
            x = jnp.swapaxes(x, -1, -2)
        x = x / (jnp.linalg.norm(x, axis=(-2, -1), keepdims=True) + 1e-7)
        for _ in range(self.ns_steps):
            gram = x @ jnp.swapaxes(x, -1, -2)
            x = a * x + (b * gram + c * gram @ gram) @ x
        return jnp.swapaxes(x, -1, -2) if tall else x

    def _hyper(self):
        return {"adam_beta_1": self.adam_beta_1, "adam_beta_2": self.adam_beta_2,
                "epsilon": self.epsilon, "exclude_layers": self.exclude_layers,
                "muon_a": self.muon_a, "muon_b": self.muon_b, "muon_c": self.muon_c,
                "adam_lr_ratio": self.adam_lr_ratio, "momentum": self.momentum,
                "ns_steps": self.ns_steps, "nesterov": self.nesterov,
                "exclude_embeddings": self.exclude_embeddings,
                "adam_weight_decay": self.adam_weight_decay, "weight_decay": self.weight_decay,
                "rms_rate": self.rms_rate}
