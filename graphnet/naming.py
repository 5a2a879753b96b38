"""Automatic layer names and the random streams graphnet draws from.

Its counters are module state on purpose: names must be unique across a session (as in
Keras) and `set_random_seed` must reach every draw.
"""
import re

import numpy as np

_name_counts: dict[str, int] = {}
_seed = {"base": 0, "count": 0}


def snake_case(class_name: str) -> str:
    """`Conv2DTranspose` -> `conv2d_transpose`: Keras's `to_snake_case`, rule for rule."""
    name = re.sub(r"\W+", "", class_name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub("([a-z])([A-Z])", r"\1_\2", name)
    return name.lower()


def unique_name(base: str) -> str:
    """`dense`, then `dense_1`, `dense_2`, ... as Keras names layers."""
    count = _name_counts.get(base, 0)
    _name_counts[base] = count + 1
    return base if count == 0 else f"{base}_{count}"


def clear_names() -> None:
    """Default names count from the start again (`dense`, `dense_1`, ...), as after Keras's
    `clear_session()`."""
    _name_counts.clear()


def reset(seed: int) -> None:
    _seed["base"] = int(seed)
    _seed["count"] = 0


def next_seed() -> int:
    """A fresh integer seed, reproducible after `set_random_seed`."""
    _seed["count"] += 1
    return int(np.random.SeedSequence([_seed["base"], _seed["count"]]).generate_state(1)[0])


def next_generator() -> np.random.Generator:
    """A NumPy generator for initial weights (named `generator` wherever it is passed on:
    `rng` and `key` are JAX keys).

    Weights are drawn on the host: with jax 0.10 on CPU an eager `jax.random.uniform` of a
    4-D conv kernel shape compiles for ~10 s, and every new shape compiles again.
    """
    return np.random.default_rng(next_seed())


_node_ids = {"next": 0}


def next_node_id() -> int:
    """Creation order of call nodes: a node is always created after its inputs, so this
    order is topological and breaks ties the same way on every run."""
    _node_ids["next"] += 1
    return _node_ids["next"]


def check_name(who: str, name) -> None:
    """A layer's `name=`: a string without `/`, which Keras refuses since it separates the
    parts of weight paths (a `.keras` file with such a name does not load in Keras)."""
    if name is None:
        return
    if not isinstance(name, str):
        raise TypeError(f"{who}: name must be a string, received {name!r}")
    if "/" in name:
        raise ValueError(f"{who}: a layer name cannot contain the character '/' (as in Keras, "
                         f"where it separates weight paths), received name={name!r}")
