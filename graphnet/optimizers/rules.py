"""Keras 3's update rules as optax GradientTransformations.

optax's `adam` adds epsilon to sqrt(v_hat) and `nadam` has no momentum schedule; Keras adds
epsilon to sqrt(v) and folds both bias corrections into the step size, and its Nadam decays
the momentum with Dozat's 0.96 schedule. Where epsilon matters (small gradients, a large
learning rate) the two drift apart by far more than rounding, so these transformations copy
Keras's arithmetic, operation for operation, in float32. Each takes `learning_rate` as optax
aliases do (a float, a scalar array or a schedule of the step count) and returns the final
update (already scaled by -learning_rate), so it composes with `optax.chain` like any other.
"""
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import optax

F32 = jnp.float32


def _lr(learning_rate, count):
    value = learning_rate(count) if callable(learning_rate) else learning_rate
    return jnp.asarray(value, F32)


def _step(count):
    """Keras's `local_step = iterations + 1` as float32."""
    return (count + 1).astype(F32)


def _power(base, exponent):
    return jnp.power(jnp.asarray(base, F32), exponent)


def _zeros(params):
    return jax.tree_util.tree_map(lambda p: jnp.zeros_like(p, F32), params)


class KerasAdamState(NamedTuple):
    count: jax.Array
    m: Any
    v: Any
    v_hat: Any          # amsgrad's running maximum of v (empty without amsgrad)


def keras_adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False,
               weight_decay=None) -> optax.GradientTransformation:
    """Keras Adam (and AdamW with `weight_decay`): `alpha = lr * sqrt(1 - b2^t) / (1 - b1^t)`,
    `p -= m * alpha / (sqrt(v) + epsilon)`. The decay, as in Keras's AdamW, is
    `p -= p * weight_decay * lr`, taken before the Adam step (it needs `params`).

    Examples:
        >>> tx = optimizers.keras_adam(learning_rate=0.1)
        >>> params = {"w": np.array([1.0, -2.0], dtype="float32")}
        >>> updates, _ = tx.update({"w": np.array([0.5, 0.5], dtype="float32")}, tx.init(params), params)
        >>> print(np.asarray(updates["w"]).round(4))
        [-0.1 -0.1]
    """
    b1, b2, eps = float(beta_1), float(beta_2), float(epsilon)

    def init(params):
        return KerasAdamState(jnp.zeros((), jnp.int32), _zeros(params), _zeros(params),
                              _zeros(params) if amsgrad else ())

    def update(grads, state, params=None):
        if weight_decay is not None and params is None:
            raise ValueError("AdamW needs the parameters: call update(grads, state, params)")
        lr, t = _lr(learning_rate, state.count), _step(state.count)
        alpha = lr * jnp.sqrt(1 - _power(b2, t)) / (1 - _power(b1, t))
        m = jax.tree_util.tree_map(lambda m, g: m + (g - m) * (1 - b1), state.m, grads)
        v = jax.tree_util.tree_map(lambda v, g: v + (jnp.square(g) - v) * (1 - b2), state.v, grads)
        v_hat = jax.tree_util.tree_map(jnp.maximum, state.v_hat, v) if amsgrad else ()
        denom_v = v_hat if amsgrad else v
        updates = jax.tree_util.tree_map(lambda m, v: -(m * alpha) / (jnp.sqrt(v) + eps),
                                         m, denom_v)
        if weight_decay is not None:
            wd = jnp.asarray(weight_decay, F32)
            updates = jax.tree_util.tree_map(lambda u, p: u - p * wd * lr, updates, params)
        return updates, KerasAdamState(optax.safe_int32_increment(state.count), m, v, v_hat)

    return optax.GradientTransformation(init, update)


def keras_adamw(learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                epsilon=1e-7, amsgrad=False) -> optax.GradientTransformation:
    """Keras AdamW: Adam plus the decoupled decay `p -= p * weight_decay * lr`."""
    return keras_adam(learning_rate, beta_1, beta_2, epsilon, amsgrad,
                      weight_decay=float(weight_decay))


class KerasNadamState(NamedTuple):
    count: jax.Array
    m: Any
    v: Any
    u_product: jax.Array    # product of the momentum schedule so far


def keras_nadam(learning_rate=0.001, beta_1=0.9, beta_2=0.999,
                epsilon=1e-7) -> optax.GradientTransformation:
    """Keras Nadam: momentum `u_t = b1 * (1 - 0.5 * 0.96^t)` (Dozat's schedule), the bias
    correction by the running product of u, epsilon added to sqrt(v_hat)."""
    b1, b2, eps = float(beta_1), float(beta_2), float(epsilon)

    def init(params):
        return KerasNadamState(jnp.zeros((), jnp.int32), _zeros(params), _zeros(params),
                               jnp.ones((), F32))

    def update(grads, state, params=None):
        del params
        lr, t = _lr(learning_rate, state.count), _step(state.count)
        beta_1 = jnp.asarray(b1, F32)
        u_t = beta_1 * (1.0 - 0.5 * _power(0.96, t))
        u_t_1 = beta_1 * (1.0 - 0.5 * _power(0.96, t + 1))
        u_product_t = state.u_product * b1 * (1.0 - 0.5 * _power(0.96, t))
        u_product_t_1 = u_product_t * u_t_1
        b2_power = _power(b2, t)
        m = jax.tree_util.tree_map(lambda m, g: m + (g - m) * (1 - beta_1), state.m, grads)
        v = jax.tree_util.tree_map(
            lambda v, g: v + (jnp.square(g) - v) * (1 - jnp.asarray(b2, F32)), state.v, grads)

        def step(m, v, g):
            m_hat = u_t_1 * m / (1 - u_product_t_1) + (1 - u_t) * g / (1 - u_product_t)
            v_hat = v / (1 - b2_power)
            return -(m_hat * lr) / (jnp.sqrt(v_hat) + eps)
        updates = jax.tree_util.tree_map(step, m, v, grads)
        return updates, KerasNadamState(optax.safe_int32_increment(state.count), m, v,
                                        u_product_t)

    return optax.GradientTransformation(init, update)


def clip_by_norm(clipnorm) -> optax.GradientTransformation:
    """Keras's `clipnorm`: each gradient tensor scaled to L2 norm <= clipnorm,
    as `g * clipnorm / max(norm, clipnorm)`."""
    clipnorm = float(clipnorm)

    def clip(g):
        l2sum = jnp.sum(jnp.square(g))
        safe = jnp.where(l2sum > 0, l2sum, jnp.ones_like(l2sum))
        norm = jnp.where(l2sum > 0, jnp.sqrt(safe), l2sum)
        return (g * clipnorm) / jnp.maximum(norm, clipnorm)
    return optax.stateless(lambda updates, params=None: jax.tree_util.tree_map(clip, updates))


def clip_by_global_norm(global_clipnorm) -> optax.GradientTransformation:
    """Keras's `global_clipnorm`: all gradients scaled by `clip * min(1/norm, 1/clip)`
    (NaN when the norm is not finite, as in Keras)."""
    clip = float(global_clipnorm)

    def scale(updates, params=None):
        leaves = jax.tree_util.tree_leaves(updates)
        norm = jnp.sqrt(jnp.sum(jnp.stack([jnp.sum(jnp.square(g)) for g in leaves])))
        factor = clip * jnp.minimum(1.0 / norm, 1.0 / clip) + (norm - norm)
        return jax.tree_util.tree_map(lambda g: g * factor.astype(g.dtype), updates)
    return optax.stateless(scale)


def clip_by_value(clipvalue) -> optax.GradientTransformation:
    """Keras's `clipvalue`: each gradient element clipped to [-clipvalue, clipvalue]."""
    v = float(clipvalue)
    return optax.stateless(
        lambda updates, params=None: jax.tree_util.tree_map(lambda g: jnp.clip(g, -v, v), updates))


# ---- the learning rate as state, in any form ------------------------------------------------
@jax.tree_util.register_pytree_node_class
class LearningRateState:
    """Optimizer state holding the learning rate: `learning_rate` (a float32 array: the rate
    used by the last step, or the set rate) and `schedule` (None or a callable of the step
    count). The schedule is static pytree data, so replacing a float by a schedule (or one
    schedule by another) makes the compiled step trace again, while changing a float rate is
    only a new array value: no recompile (ReduceLROnPlateau)."""

    def __init__(self, count, learning_rate, inner_state, schedule=None):
        self.count, self.learning_rate = count, learning_rate
        self.inner_state, self.schedule = inner_state, schedule

    def tree_flatten(self):
        return (self.count, self.learning_rate, self.inner_state), self.schedule

    @classmethod
    def tree_unflatten(cls, schedule, children):
        return cls(*children, schedule=schedule)

    def replace(self, **changes):
        fields = {"count": self.count, "learning_rate": self.learning_rate,
                  "inner_state": self.inner_state, "schedule": self.schedule, **changes}
        return LearningRateState(**fields)

    def current(self):
        """The rate the next step will use."""
        if self.schedule is not None:
            return jnp.asarray(self.schedule(self.count), F32)
        return self.learning_rate

    def __repr__(self):
        return (f"LearningRateState(count={self.count}, learning_rate={self.learning_rate}, "
                f"schedule={self.schedule!r})")


def inject_learning_rate(factory: Callable[[Any], optax.GradientTransformation],
                         learning_rate) -> optax.GradientTransformation:
    """`factory(lr)` with the learning rate kept in a `LearningRateState`: a float or a
    schedule, swappable between steps (see `LearningRateState`)."""
    def init(params):
        schedule = learning_rate if callable(learning_rate) else None
        first = schedule(0) if schedule is not None else learning_rate
        return LearningRateState(jnp.zeros((), jnp.int32), jnp.asarray(first, F32),
                                 factory(first).init(params), schedule)

    def update(updates, state, params=None):
        lr = state.current()
        updates, inner = factory(lr).update(updates, state.inner_state, params)
        return updates, state.replace(count=optax.safe_int32_increment(state.count),
                                      learning_rate=lr, inner_state=inner)

    return optax.GradientTransformation(init, update)


def find_learning_rate_states(state):
    """Every LearningRateState inside an optimizer state (outermost first)."""
    is_lr = lambda x: isinstance(x, LearningRateState)  # noqa: E731
    return [s for s in jax.tree_util.tree_leaves(state, is_leaf=is_lr) if is_lr(s)]


def replace_learning_rate(state, learning_rate):
    """`state` with its LearningRateState set to `learning_rate` (a float or a schedule)."""
    is_lr = lambda x: isinstance(x, LearningRateState)  # noqa: E731

    def swap(s):
        if not is_lr(s):
            return s
        if callable(learning_rate):
            return s.replace(schedule=learning_rate,
                             learning_rate=jnp.asarray(learning_rate(s.count), F32))
        return s.replace(schedule=None, learning_rate=jnp.asarray(learning_rate, F32))
    return jax.tree_util.tree_map(swap, state, is_leaf=is_lr)
