"""Ctrl-C held back while the model's arrays change hands.

A compiled chunk donates its carry: from the moment it runs until its result is bound to a
name, the only live copy of the weights and optimizer state is that result. A
KeyboardInterrupt raised in between (CPython runs signal handlers between any two
bytecodes) would leave nothing but deleted arrays. Inside `held_interrupts()` a Ctrl-C is
recorded and raised when the block ends, after the model holds a whole, valid state.
"""
from __future__ import annotations

import contextlib
import signal
import threading

import jax


@contextlib.contextmanager
def held_interrupts():
    """Run the block with SIGINT recorded, then raised as the handler before it would.
    Outside the main thread (where no Python signal handler runs), or where SIGINT's
    handler was not set from Python (it could not be put back), it does nothing."""
    if threading.current_thread() is not threading.main_thread() \
            or signal.getsignal(signal.SIGINT) is None:
        yield
        return
    received = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(frame))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if received:
            if callable(previous):
                previous(signal.SIGINT, received[0])
            elif previous == signal.SIG_DFL:
                signal.raise_signal(signal.SIGINT)


def intact(tree) -> bool:
    """Whether no array of `tree` was deleted (donated to a dispatch that never returned)."""
    return not any(isinstance(leaf, jax.Array) and leaf.is_deleted()
                   for leaf in jax.tree_util.tree_leaves(tree))
