"""Keras's `layer.build(input_shape)` for graphnet's pure-form layers, whose `build` takes
the NumPy generator to draw initial weights from: called without one, as Keras code calls
it, the layer draws from graphnet's global seed stream and keeps its weights."""
import functools
import inspect

import jax

from .. import naming


def _generator_keyword(build):
    """"generator" or "rng" where `build` requires it by keyword, else None."""
    try:
        params = inspect.signature(build).parameters
    except (TypeError, ValueError):
        return None
    for name in ("generator", "rng"):
        p = params.get(name)
        if p is not None and p.kind is p.KEYWORD_ONLY and p.default is p.empty:
            return name
    return None


def keyless_build(cls):
    """Makes a pure-form layer class's own `build` run also as Keras's
    `layer.build(input_shape)`: with no generator it draws one (`naming.next_generator`,
    so `set_random_seed` repeats it), stores the weights on the layer, marks it built and
    returns None, as Keras's build does."""
    build = cls.__dict__.get("build")
    keyword = None if build is None or cls._keras_form else _generator_keyword(build)
    if keyword is None:
        return

    @functools.wraps(build)
    def wrapper(self, *shapes, **kwargs):
        if keyword in kwargs:
            return build(self, *shapes, **kwargs)
        with jax.ensure_compile_time_eval():
            params, state = build(self, *shapes, **{keyword: naming.next_generator()},
                                  **kwargs)
        self.params, self.state = params, state
        self.built = True
        return None
    cls.build = wrapper
