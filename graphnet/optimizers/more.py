"""Keras Adamax, Adadelta, Ftrl, Lion, Lamb and Adafactor, with Keras 3's arithmetic.

Each rule is written as Keras's `update_step` is, one variable at a time and operation for
operation in float32 (optax's `adamax`, `lion`, `lamb`, `adafactor` and `ftrl`-like rules
place epsilon, the bias corrections and the trust ratio elsewhere, so their numbers drift
from Keras's). Keras's `weight_decay` (`p -= p * weight_decay * lr`) is taken before the
step, as Keras's `apply` does: Ftrl, Lamb and Adafactor read the decayed variable.
"""
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import optax

from .base import Optimizer

F32 = jnp.float32


class SlotState(NamedTuple):
    count: jax.Array
    slots: tuple        # one pytree like the parameters per slot (Keras's optimizer variables)


def per_variable(learning_rate, slot_inits, step: Callable, weight_decay=None):
    """An optax transformation that runs `step(g, p, slots, lr, t) -> (update, slots)` on
    each variable, `t` being Keras's `iterations + 1` in float32.

    `slot_inits` are functions of a parameter giving each slot's initial value; `update` is
    what is added to the (decayed) variable."""
    def init(params):
        slots = tuple(jax.tree_util.tree_map(f, params) for f in slot_inits)
        return SlotState(jnp.zeros((), jnp.int32), slots)

    def update(grads, state, params=None):
        if params is None:
            raise ValueError("This optimizer reads the parameters: call "
                             "update(grads, state, params)")
        value = learning_rate(state.count) if callable(learning_rate) else learning_rate
        lr, t = jnp.asarray(value, F32), (state.count + 1).astype(F32)
        leaves, treedef = jax.tree_util.tree_flatten(grads)
        originals = treedef.flatten_up_to(params)
        slot_leaves = [treedef.flatten_up_to(s) for s in state.slots]
        updates, new_slots = [], [[] for _ in slot_leaves]
        for i, (g, p) in enumerate(zip(leaves, originals)):
            g = g.astype(F32)
            decayed = p if weight_decay is None else p - p * jnp.asarray(weight_decay, F32) * lr
            u, slots = step(g, decayed, tuple(s[i] for s in slot_leaves), lr, t)
            updates.append(u if weight_decay is None else (decayed - p) + u)
            for out, s in zip(new_slots, slots):
                out.append(s)
        slots = tuple(jax.tree_util.tree_unflatten(treedef, s) for s in new_slots)
        return (jax.tree_util.tree_unflatten(treedef, updates),
                SlotState(optax.safe_int32_increment(state.count), slots))

    return optax.GradientTransformation(init, update)


def _zeros(p):
    return jnp.zeros_like(p, F32)


def _rms(x):
    return jnp.sqrt(jnp.mean(jnp.square(x)))


class _KerasRule(Optimizer):
    """The shared part: Keras's `weight_decay` argument and the rule from `_step`."""
    slots: tuple = ()

    def __init__(self, learning_rate=0.001, weight_decay=None, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.weight_decay = None if weight_decay is None else float(weight_decay)

    def _slot_inits(self):
        return (_zeros,) * len(self.slots)

    def _step(self, g, p, slots, lr, t) -> tuple[Any, tuple]:
        raise NotImplementedError(f"{type(self).__name__} must define _step(g, p, slots, lr, t): "
                                  f"one variable's update and its new slots")

    def _base(self, learning_rate):
        return per_variable(learning_rate, self._slot_inits(), self._step, self.weight_decay)

    def _rule_config(self) -> dict:
        return {}

    def _hyper(self):
        return {**self._rule_config(), "weight_decay": self.weight_decay}


class Adamax(_KerasRule):
    """Keras Adamax(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7): Adam with
    the infinity norm; epsilon added to u, the bias correction in the denominator.

    Examples:
        >>> opt = optimizers.Adamax(learning_rate=0.1)
        >>> params = {"w": np.array([1.0, -2.0], dtype="float32")}
        >>> state = opt.init(params)
        >>> grads = {"w": np.array([0.5, 0.5], dtype="float32")}
        >>> updates, state = opt.tx.update(grads, state, params)
        >>> print(np.asarray(updates["w"]).round(4))
        [-0.1 -0.1]
    """
    slots = ("momentum", "norm")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)

    def _step(self, g, p, slots, lr, t):
        m, u = slots
        beta_1_power = jnp.power(jnp.asarray(self.beta_1, F32), t)
        m = m + (g - m) * (1 - self.beta_1)
        u = jnp.maximum(self.beta_2 * u, jnp.abs(g))
        return -((lr * m) / ((1 - beta_1_power) * (u + self.epsilon))), (m, u)

    def _rule_config(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


class Adadelta(_KerasRule):
    """Keras Adadelta(learning_rate=0.001, rho=0.95, epsilon=1e-7); epsilon inside both square
    roots, the step scaled by learning_rate as in Keras.

    Examples:
        >>> opt = optimizers.Adadelta(learning_rate=0.1)
        >>> params = {"w": np.array([1.0, -2.0], dtype="float32")}
        >>> state = opt.init(params)
        >>> grads = {"w": np.array([0.5, 0.5], dtype="float32")}
        >>> updates, state = opt.tx.update(grads, state, params)
        >>> print(np.asarray(updates["w"]).round(4))
        [-0.0001 -0.0001]
    """
    slots = ("accumulated_grad", "accumulated_delta_var")

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.rho, self.epsilon = float(rho), float(epsilon)

    def _step(self, g, p, slots, lr, t):
        accumulated_grad, accumulated_delta = slots
        rho, eps = self.rho, self.epsilon
        accumulated_grad = rho * accumulated_grad + (1 - rho) * jnp.square(g)
        delta = -((jnp.sqrt(accumulated_delta + eps) * g) / jnp.sqrt(accumulated_grad + eps))
        accumulated_delta = rho * accumulated_delta + (1 - rho) * jnp.square(delta)
        return lr * delta, (accumulated_grad, accumulated_delta)

    def _rule_config(self):
        return {"rho": self.rho, "epsilon": self.epsilon}


class Ftrl(_KerasRule):
    """Keras Ftrl(learning_rate=0.001, learning_rate_power=-0.5, initial_accumulator_value=0.1,
    l1_regularization_strength=0.0, l2_regularization_strength=0.0,
    l2_shrinkage_regularization_strength=0.0, beta=0.0): the variable is recomputed from the
    linear and accumulator slots each step, as Keras assigns it.

    Examples:
        >>> opt = optimizers.Ftrl(learning_rate=0.1)
        >>> params = {"w": np.array([1.0, -2.0], dtype="float32")}
        >>> state = opt.init(params)
        >>> grads = {"w": np.array([0.5, 0.5], dtype="float32")}
        >>> updates, state = opt.tx.update(grads, state, params)
        >>> print(np.asarray(updates["w"]).round(4))
        [-0.619   0.9845]
    """
    slots = ("accumulator", "linear")

    def __init__(self, learning_rate=0.001, learning_rate_power=-0.5,
                 initial_accumulator_value=0.1, l1_regularization_strength=0.0,
                 l2_regularization_strength=0.0, l2_shrinkage_regularization_strength=0.0,
                 beta=0.0, **kwargs):
        super().__init__(learning_rate, **kwargs)
        checks = {"initial_accumulator_value": initial_accumulator_value,
                  "l1_regularization_strength": l1_regularization_strength,
                  "l2_regularization_strength": l2_regularization_strength,
                  "l2_shrinkage_regularization_strength": l2_shrinkage_regularization_strength}
        for name, value in checks.items():
            if float(value) < 0:
                raise ValueError(f"Ftrl: `{name}` must be >= 0, received {value}")
        if float(learning_rate_power) > 0:
            raise ValueError(f"Ftrl: `learning_rate_power` must be <= 0, received "
                             f"{learning_rate_power}")
        self.learning_rate_power = float(learning_rate_power)
        self.initial_accumulator_value = float(initial_accumulator_value)
        self.l1_regularization_strength = float(l1_regularization_strength)
        self.l2_regularization_strength = float(l2_regularization_strength)
        self.l2_shrinkage_regularization_strength = float(l2_shrinkage_regularization_strength)
        self.beta = float(beta)

    def _slot_inits(self):
        return (lambda p: jnp.full_like(p, self.initial_accumulator_value, F32), _zeros)

    def _step(self, g, p, slots, lr, t):
        accum, linear = slots
        power = -self.learning_rate_power
        l2_reg = self.l2_regularization_strength + self.beta / (2.0 * lr)
        grad_to_use = g + 2 * self.l2_shrinkage_regularization_strength * p
        new_accum = accum + jnp.square(g)
        linear = linear + (grad_to_use
                           - ((jnp.power(new_accum, power) - jnp.power(accum, power)) / lr) * p)
        quadratic = jnp.power(new_accum, power) / lr + 2 * l2_reg
        l1 = self.l1_regularization_strength
        new_p = (jnp.clip(linear, -l1, l1) - linear) / quadratic
        return new_p - p, (new_accum, linear)

    def _rule_config(self):
        return {"learning_rate_power": self.learning_rate_power,
                "initial_accumulator_value": self.initial_accumulator_value,
                "l1_regularization_strength": self.l1_regularization_strength,
                "l2_regularization_strength": self.l2_regularization_strength,
                "l2_shrinkage_regularization_strength":
                    self.l2_shrinkage_regularization_strength,
                "beta": self.beta}


class Lion(_KerasRule):
    """Keras Lion(learning_rate=0.001, beta_1=0.9, beta_2=0.99): the sign of the interpolated
    momentum, the momentum updated after the step.

    Examples:
        >>> opt = optimizers.Lion(learning_rate=0.1)
        >>> params = {"w": np.array([1.0, -2.0], dtype="float32")}
        >>> state = opt.init(params)
        >>> grads = {"w": np.array([0.5, 0.5], dtype="float32")}
        >>> updates, state = opt.tx.update(grads, state, params)
        >>> print(np.asarray(updates["w"]).round(4))
        [-0.1 -0.1]
    """
    slots = ("momentum",)

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, **kwargs):
        super().__init__(learning_rate, **kwargs)
        if not 0 < float(beta_1) <= 1:
            raise ValueError(f"Lion: `beta_1` must be in (0, 1], received {beta_1}")
        self.beta_1, self.beta_2 = float(beta_1), float(beta_2)

    def _step(self, g, p, slots, lr, t):
        (m,) = slots
        beta_1, beta_2 = jnp.asarray(self.beta_1, F32), jnp.asarray(self.beta_2, F32)
        update = -(lr * jnp.sign(m * beta_1 + g * (1.0 - beta_1)))
        return update, (m * beta_2 + g * (1.0 - beta_2),)

    def _rule_config(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2}


class Lamb(_KerasRule):
    """Keras Lamb(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7): Adam's step
    scaled per variable by the trust ratio ||w|| / ||step|| (1 where either is 0).

    Examples:
        >>> opt = optimizers.Lamb(learning_rate=0.1)
        >>> params = {"w": np.array([1.0, -2.0], dtype="float32")}
        >>> state = opt.init(params)
        >>> grads = {"w": np.array([0.5, 0.5], dtype="float32")}
        >>> updates, state = opt.tx.update(grads, state, params)
        >>> print(np.asarray(updates["w"]).round(4))
        [-0.1581 -0.1581]
    """
    slots = ("momentum", "velocity")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)

    def _step(self, g, p, slots, lr, t):
        m, v = slots
        beta_1_power = jnp.power(jnp.asarray(self.beta_1, F32), t)
        beta_2_power = jnp.power(jnp.asarray(self.beta_2, F32), t)
        m = m + (g - m) * (1 - self.beta_1)
        v = v + (jnp.square(g) - v) * (1 - self.beta_2)
        step = (m / (1.0 - beta_1_power)) / (jnp.sqrt(v / (1.0 - beta_2_power)) + self.epsilon)
        w_norm = jnp.sqrt(jnp.sum(jnp.power(p, 2)))
        g_norm = jnp.sqrt(jnp.sum(jnp.power(step, 2)))
        ratio = jnp.where(w_norm > 0, jnp.where(g_norm > 0, w_norm / g_norm, 1.0), 1.0)
        return -(ratio * lr * step), (m, v)

    def _rule_config(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


class Adafactor(_KerasRule):
    """Keras Adafactor(learning_rate=0.001, beta_2_decay=-0.8, epsilon_1=1e-30, epsilon_2=1e-3,
    clip_threshold=1.0, relative_step=True): the second moment factored over the last two
    axes (row and column means) for variables of rank 2 and more.

    The step size is `min(learning_rate, 1/sqrt(t))` whatever `relative_step` says, as in
    Keras 3 (which takes that minimum twice when it is True).

    Examples:
        >>> opt = optimizers.Adafactor(learning_rate=0.1)
        >>> params = {"w": np.array([1.0, -2.0], dtype="float32")}
        >>> state = opt.init(params)
        >>> grads = {"w": np.array([0.5, 0.5], dtype="float32")}
        >>> updates, state = opt.tx.update(grads, state, params)
        >>> print(np.asarray(updates["w"]).round(4))
        [-0.1581 -0.1581]
    """
    slots = ("r", "c", "velocity")

    def __init__(self, learning_rate=0.001, beta_2_decay=-0.8, epsilon_1=1e-30, epsilon_2=1e-3,
                 clip_threshold=1.0, relative_step=True, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_2_decay, self.epsilon_1 = float(beta_2_decay), float(epsilon_1)
        self.epsilon_2, self.clip_threshold = float(epsilon_2), float(clip_threshold)
        self.relative_step = bool(relative_step)

    def _slot_inits(self):
        def r(p):
            return jnp.zeros(p.shape[:-1], F32) if p.ndim >= 2 else jnp.zeros((), F32)

        def c(p):
            return jnp.zeros((*p.shape[:-2], p.shape[-1]), F32) if p.ndim >= 2 \
                else jnp.zeros((), F32)
        return (r, c, _zeros)

    def _step(self, g, p, slots, lr, t):
        r, c, v = slots
        rho_t = jnp.minimum(lr, 1 / jnp.sqrt(t))
        alpha_t = jnp.maximum(jnp.asarray(self.epsilon_2, F32), _rms(p)) * rho_t
        regulated = jnp.square(g) + self.epsilon_1
        beta_2_t = 1 - jnp.power(t, self.beta_2_decay)
        if p.ndim >= 2:
            r = beta_2_t * r + (1 - beta_2_t) * jnp.mean(regulated, axis=-1)
            c = beta_2_t * c + (1 - beta_2_t) * jnp.mean(regulated, axis=-2)
            v = (jnp.expand_dims(r / jnp.mean(r, axis=-1, keepdims=True), -1)
                 * jnp.expand_dims(c, -2))
        else:
            v = beta_2_t * v + (1 - beta_2_t) * regulated
        u_t = g / jnp.sqrt(v)
        u_hat = u_t / jnp.maximum(jnp.asarray(1.0, F32), _rms(u_t) / self.clip_threshold)
        return -(alpha_t * u_hat), (r, c, v)

    def _rule_config(self):
        return {"beta_2_decay": self.beta_2_decay, "epsilon_1": self.epsilon_1,
                "epsilon_2": self.epsilon_2, "clip_threshold": self.clip_threshold,
                "relative_step": self.relative_step}
