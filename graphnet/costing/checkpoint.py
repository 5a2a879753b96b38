"""A layer call recomputed in the backward pass instead of keeping its residuals."""
import jax


def checkpointed(call):
    """`call` under `jax.checkpoint`: the backward pass keeps only the call's array
    arguments and runs the call again. Non-array arguments (`training`, constants) stay
    Python values, so layers still branch on them while tracing."""
    def wrapped(*args, **kwargs):
        leaves, treedef = jax.tree_util.tree_flatten((args, kwargs))
        where = [i for i, leaf in enumerate(leaves) if isinstance(leaf, jax.Array)]

        def inner(arrays):
            full = list(leaves)
            for i, array in zip(where, arrays):
                full[i] = array
            a, k = treedef.unflatten(full)
            return call(*a, **k)
        return jax.checkpoint(inner)([leaves[i] for i in where])
    return wrapped
