"""Any optax transformation as a graphnet optimizer: `compile(optimizer=optax.adam(...))`.

Its learning rate can be read and changed between epochs only where the transformation was
made with `optax.inject_hyperparams`: the value lives in its state, so changing it never
recompiles the training step."""
import jax
import jax.numpy as jnp
import optax

from .base import Optimizer, check_learning_rate, standard_promotion

def _is_injected(x):
    return isinstance(x, (optax.InjectHyperparamsState, optax.InjectStatefulHyperparamsState))


def _injected(state):
    return [s for s in jax.tree_util.tree_leaves(state, is_leaf=_is_injected) if _is_injected(s)]


def _set_lr(state, value, name):
    replaced = []

    def swap(s):
        if _is_injected(s) and "learning_rate" in s.hyperparams:
            old = s.hyperparams["learning_rate"]
            replaced.append(True)
            hyperparams = {**s.hyperparams, "learning_rate": jnp.asarray(value, old.dtype)}
            # optax's state is a NamedTuple: rebuilt field by field, hyperparams replaced
            return type(s)(*(hyperparams if field is s.hyperparams else field for field in s))
        return s
    state = jax.tree_util.tree_map(swap, state, is_leaf=_is_injected)
    if not replaced:
        raise ValueError(f"{name}: this optax transformation has no injected learning_rate; "
                         f"wrap it with optax.inject_hyperparams to change it")
    return state


class OptaxOptimizer(Optimizer):
    """Any optax.GradientTransformation, used as it is (no clipping or LR injection added).

    Examples:
        >>> import optax
        >>> opt = optimizers.OptaxOptimizer(optax.sgd(0.1))
        >>> model = graphnet.Sequential([graphnet.Input(shape=(2,)), layers.Dense(1)])
        >>> model.compile(optimizer=opt, loss="mse")
    """

    def __init__(self, tx, name="optax"):
        self._tx_given = standard_promotion(tx)
        super().__init__(0.0, name=name)

    @property
    def tx(self):
        return self._tx_given

    @property
    def learning_rate(self) -> float:
        if self.state is None:
            raise ValueError(f"{self.name}: the learning rate of an optax transformation is "
                             f"known once fit has initialized its state")
        return float(self._lr_state()["learning_rate"])

    @learning_rate.setter
    def learning_rate(self, value):
        if self.state is None:
            raise ValueError(f"{self.name}: the learning rate of an optax transformation can be "
                             f"set once fit has initialized its state")
        if callable(value):
            raise TypeError(f"{self.name}: a schedule cannot be set on an optax transformation; "
                            f"build it with the schedule (optax.adam(schedule)) or compile with "
                            f"a graphnet.optimizers class")
        self.state = _set_lr(self.state, check_learning_rate(self.name, value), self.name)

    lr = learning_rate

    def _lr_state(self):
        found = [s.hyperparams for s in _injected(self.state) if "learning_rate" in s.hyperparams]
        if not found:
            raise ValueError(f"{self.name}: this optax transformation has no injected "
                             f"learning_rate; wrap it with optax.inject_hyperparams to read or "
                             f"change it")
        return found[0]

    @property
    def iterations(self) -> int:
        counts = [s.count for s in _injected(self.state)] if self.state is not None else []
        return int(counts[0]) if counts else 0

    def init(self, params):
        self.state, self._built_for = self.tx.init(params), None
        return self.state

    def get_config(self):
        raise ValueError("An optax transformation given to compile cannot be saved by name; "
                         "use a graphnet.optimizers class to save the optimizer")
