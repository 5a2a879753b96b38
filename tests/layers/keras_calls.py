"""Keras 3 layers called through a jitted `stateless_call`: the same numbers as an eager
call, without Keras running a scan step by step."""
import jax


def keras_call(layer, *args, **kwargs):
    """A built Keras layer's call, jitted through its `stateless_call` (an eager Keras scan
    runs step by step, several times slower)."""
    def run(trainable, others, args):
        return layer.stateless_call(trainable, others, *args, **kwargs)[0]
    values = [[v.value for v in vs] for vs in (layer.trainable_variables,
                                               layer.non_trainable_variables)]
    return jax.jit(run)(*values, args)
