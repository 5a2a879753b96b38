"""The Keras callback base: `Callback` and its hooks, `CallbackList` that calls them in
order, and `History`, which `fit` always adds.

Batch hooks run once per dispatch of K steps (as Keras's with steps_per_execution), with
the index of the dispatch's last batch and the running logs.
"""
from __future__ import annotations


class Callback:
    """Keras Callback: override any of the hooks; `self.model` and `self.params` are set.

    Examples:
        >>> class Count(callbacks.Callback):
        ...     def on_epoch_end(self, epoch, logs=None):
        ...         print(epoch, sorted(logs))
        ...
        >>> Count().on_epoch_end(0, {"loss": 0.5})
        0 ['loss']
    """

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        """Called by `fit` with the model being trained (then `self.model`)."""
        self.model = model

    def set_params(self, params):
        """Called by `fit` with its settings (epochs, steps, verbose)."""
        self.params = params

    def on_train_begin(self, logs=None):
        """Called once at the start of `fit`."""
    def on_train_end(self, logs=None):
        """Called once at the end of `fit`."""
    def on_epoch_begin(self, epoch, logs=None):
        """Called at the start of each epoch."""
    def on_epoch_end(self, epoch, logs=None):
        """Called at the end of each epoch with its logs (`loss`, metrics, `val_*`)."""
    def on_test_begin(self, logs=None):
        """Called at the start of `evaluate` (and of each validation pass)."""
    def on_test_end(self, logs=None):
        """Called at the end of `evaluate` (and of each validation pass)."""
    def on_predict_begin(self, logs=None):
        """Called at the start of `predict`."""
    def on_predict_end(self, logs=None):
        """Called at the end of `predict`."""
    def on_batch_begin(self, batch, logs=None):
        """Alias of `on_train_batch_begin`, as in Keras."""
    def on_batch_end(self, batch, logs=None):
        """Alias of `on_train_batch_end`, as in Keras."""

    def on_train_batch_begin(self, batch, logs=None):
        """Called before each batch (before each dispatch of K batches with
        compile(steps_per_execution=K))."""
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        """Called after each batch (each dispatch of K batches with
        compile(steps_per_execution=K): its last batch's index), with the running logs."""
        self.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch, logs=None):
        """Called before each batch of `evaluate` (and of fit's validation), as in Keras."""
    def on_test_batch_end(self, batch, logs=None):
        """Called after each batch of `evaluate` (and of fit's validation), with the
        running logs."""
    def on_predict_batch_begin(self, batch, logs=None):
        """Called before each `predict` batch."""
    def on_predict_batch_end(self, batch, logs=None):
        """Called after each `predict` batch, with `{"outputs": ...}` (device arrays)."""


_BATCH_HOOKS = ("on_train_batch_begin", "on_train_batch_end", "on_batch_begin", "on_batch_end")
_TEST_BATCH_HOOKS = ("on_test_batch_begin", "on_test_batch_end")


def wants_batch_logs(callback, hooks=_BATCH_HOOKS) -> bool:
    """True when a callback overrides a train-batch hook (or one of `hooks`): only then
    are the running logs read back after every dispatch."""
    return any(hook in vars(callback) or getattr(type(callback), hook) is not getattr(Callback, hook)
               for hook in hooks)


class CallbackList:
    """Calls every callback's hook in order."""

    def __init__(self, callbacks, model, params):
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must be graphnet.callbacks.Callback instances, "
                                f"received {type(cb).__name__}")
            cb.set_model(model)
            cb.set_params(params)
        self.wants_batch_logs = any(wants_batch_logs(cb) for cb in self.callbacks)
        self.wants_test_batch_logs = any(wants_batch_logs(cb, _TEST_BATCH_HOOKS)
                                         for cb in self.callbacks)

    def initial_epoch(self, requested: int) -> int:
        """The epoch `fit` starts at: a callback's `resume_epoch` (BackupAndRestore's, set
        in `on_train_begin`) when it has one, else the one `fit` was given."""
        for cb in self.callbacks:
            resume = getattr(cb, "resume_epoch", None)
            if resume:
                return resume
        return requested

    def __getattr__(self, hook):
        if not hook.startswith("on_"):
            raise AttributeError(hook)

        def call(*args, **kwargs):
            for cb in self.callbacks:
                getattr(cb, hook)(*args, **kwargs)
        return call


class History(Callback):
    """Records the epoch logs: `history.history` is a dict of lists, `history.epoch` a list.

    Examples:
        >>> inputs = graphnet.Input(shape=(3,), name="x")
        >>> model = graphnet.Model(inputs, layers.Dense(2, name="dense")(inputs), name="tiny")
        >>> x = np.ones((8, 3), dtype="float32")
        >>> y = np.zeros((8, 2), dtype="float32")
        >>> model.compile(optimizer="sgd", loss="mse")
        >>> history = model.fit(x, y, epochs=2, verbose=0)
        >>> history.epoch, sorted(history.history)
        ([0, 1], ['loss'])
    """

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        """Start the list of epoch numbers afresh at the beginning of `fit`."""
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        """Append each of the epoch's logs to `history[name]`."""
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)

    def plot(self, to_file="history.png"):
        """Draw each loss and metric per epoch (training and validation together) to PNG/SVG."""
        from ..plot import plot_history
        return plot_history(self, to_file)
