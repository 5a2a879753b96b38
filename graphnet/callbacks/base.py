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
        """Called by `fit` (and `evaluate`, `predict`) with the model being run; the hooks
        then read it as `self.model`.

        Args:
            model: the `Model` being trained, evaluated or run.

        Examples:
            >>> model = graphnet.Sequential([layers.Input((2,)), layers.Dense(1)])
            >>> cb = callbacks.Callback()
            >>> cb.set_model(model)
            >>> cb.model is model
            True
        """
        self.model = model

    def set_params(self, params):
        """Called by `fit` with its settings (epochs, steps, verbose); the hooks then read
        them as `self.params`.

        Args:
            params: a dict: `{"epochs", "steps", "verbose"}` from `fit` (`steps` is the
                number of batches per epoch, None when unknown), `{"steps", "verbose"}`
                from `evaluate` and `predict`.

        Examples:
            >>> cb = callbacks.Callback()
            >>> cb.set_params({"epochs": 3, "steps": 2, "verbose": 0})   # as fit does
            >>> cb.params["epochs"]
            3
        """
        self.params = params

    def on_train_begin(self, logs=None):
        """Called once at the start of `fit`, after `set_model` and `set_params`.

        Args:
            logs: None (as Keras passes).

        Examples:
            >>> class Announce(callbacks.Callback):
            ...     def on_train_begin(self, logs=None):
            ...         print("training for", self.params["epochs"], "epochs")
            ...
            >>> cb = Announce()
            >>> cb.set_params({"epochs": 3, "steps": 2, "verbose": 0})
            >>> cb.on_train_begin()          # called here by hand, as fit calls it
            training for 3 epochs
        """

    def on_train_end(self, logs=None):
        """Called once at the end of `fit`.

        Args:
            logs: the last epoch's logs (as `on_epoch_end` received them).

        Examples:
            >>> class Final(callbacks.Callback):
            ...     def on_train_end(self, logs=None):
            ...         print("final loss:", logs["loss"])
            ...
            >>> Final().on_train_end({"loss": 0.25})     # by hand, as fit calls it
            final loss: 0.25
        """

    def on_epoch_begin(self, epoch, logs=None):
        """Called at the start of each epoch.

        Args:
            epoch: the epoch's index, from 0 (from `initial_epoch` when `fit` resumes).
            logs: None (as Keras passes).

        Examples:
            >>> class Header(callbacks.Callback):
            ...     def on_epoch_begin(self, epoch, logs=None):
            ...         print(f"epoch {epoch + 1}/{self.params['epochs']}")
            ...
            >>> cb = Header()
            >>> cb.set_params({"epochs": 2, "steps": 2, "verbose": 0})
            >>> cb.on_epoch_begin(0)           # by hand, as fit calls it
            epoch 1/2
        """

    def on_epoch_end(self, epoch, logs=None):
        """Called at the end of each epoch with its logs (`loss`, metrics, `val_*`).

        Args:
            epoch: the epoch's index, from 0.
            logs: a dict of the epoch's values: `loss`, each metric, and `val_` ones when
                `fit` validates. A callback may add entries (ReduceLROnPlateau adds
                `learning_rate`); `History` records them all.

        Examples:
            >>> class Best(callbacks.Callback):
            ...     best = None
            ...     def on_epoch_end(self, epoch, logs=None):
            ...         if self.best is None or logs["val_loss"] < self.best:
            ...             self.best = logs["val_loss"]
            ...
            >>> cb = Best()
            >>> cb.on_epoch_end(0, {"loss": 0.5, "val_loss": 0.75})   # by hand, as fit calls it
            >>> cb.on_epoch_end(1, {"loss": 0.25, "val_loss": 0.875})
            >>> cb.best
            0.75
        """

    def on_test_begin(self, logs=None):
        """Called at the start of `evaluate` (and of each validation pass).

        Args:
            logs: None (as Keras passes).

        Examples:
            >>> class Passes(callbacks.Callback):
            ...     count = 0
            ...     def on_test_begin(self, logs=None):
            ...         self.count += 1
            ...
            >>> cb = Passes()
            >>> cb.on_test_begin()             # by hand: fit calls it once per epoch
            >>> cb.on_test_begin()             # when it validates
            >>> cb.count
            2
        """

    def on_test_end(self, logs=None):
        """Called at the end of `evaluate` (and of each validation pass).

        Args:
            logs: the pass's results: `loss` and each metric (without the `val_` prefix).

        Examples:
            >>> class Report(callbacks.Callback):
            ...     def on_test_end(self, logs=None):
            ...         print("evaluated:", logs)
            ...
            >>> Report().on_test_end({"loss": 0.5})   # by hand, as evaluate calls it
            evaluated: {'loss': 0.5}
        """

    def on_predict_begin(self, logs=None):
        """Called at the start of `predict`.

        Args:
            logs: None (as Keras passes).

        Examples:
            >>> class Steps(callbacks.Callback):
            ...     def on_predict_begin(self, logs=None):
            ...         print("predicting", self.params["steps"], "batches")
            ...
            >>> cb = Steps()
            >>> cb.set_params({"steps": 4, "verbose": 0})   # what predict passes
            >>> cb.on_predict_begin()
            predicting 4 batches
        """

    def on_predict_end(self, logs=None):
        """Called at the end of `predict`.

        Args:
            logs: None (as Keras passes).

        Examples:
            >>> class Done(callbacks.Callback):
            ...     def on_predict_end(self, logs=None):
            ...         print("predictions ready")
            ...
            >>> Done().on_predict_end()        # by hand, as predict calls it
            predictions ready
        """

    def on_batch_begin(self, batch, logs=None):
        """Alias of `on_train_batch_begin`, as in Keras: the default `on_train_batch_begin`
        calls it.

        Args:
            batch: the batch's index within the epoch.
            logs: None (as Keras passes).

        Examples:
            >>> class Old(callbacks.Callback):
            ...     def on_batch_begin(self, batch, logs=None):
            ...         print("batch", batch)
            ...
            >>> Old().on_train_batch_begin(3)   # what fit calls, by hand
            batch 3
        """

    def on_batch_end(self, batch, logs=None):
        """Alias of `on_train_batch_end`, as in Keras: the default `on_train_batch_end`
        calls it.

        Args:
            batch: the batch's index within the epoch.
            logs: the running logs, as `on_train_batch_end` received them.

        Examples:
            >>> class Old(callbacks.Callback):
            ...     def on_batch_end(self, batch, logs=None):
            ...         print("batch", batch, "loss", logs["loss"])
            ...
            >>> Old().on_train_batch_end(3, {"loss": 0.5})   # what fit calls, by hand
            batch 3 loss 0.5
        """

    def on_train_batch_begin(self, batch, logs=None):
        """Called before each batch (before each dispatch of K batches with
        compile(steps_per_execution=K)).

        Args:
            batch: the batch's index within the epoch (of a dispatch's first batch).
            logs: None (as Keras passes).

        Examples:
            >>> class Starts(callbacks.Callback):
            ...     def on_train_batch_begin(self, batch, logs=None):
            ...         print(f"batch {batch + 1} of {self.params['steps']}")
            ...
            >>> cb = Starts()
            >>> cb.set_params({"epochs": 1, "steps": 2, "verbose": 0})
            >>> cb.on_train_batch_begin(0)     # by hand, as fit calls it
            batch 1 of 2
        """
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        """Called after each batch (each dispatch of K batches with
        compile(steps_per_execution=K): its last batch's index), with the running logs.

        Overriding it makes `fit` read the logs back after every dispatch; leave it alone
        when the epoch's logs are enough.

        Args:
            batch: the batch's index within the epoch (of a dispatch's last batch).
            logs: the running logs: `loss` and each metric averaged over the epoch so far.

        Examples:
            >>> class Batches(callbacks.Callback):
            ...     def on_train_batch_end(self, batch, logs=None):
            ...         print(batch, sorted(logs))
            ...
            >>> model = graphnet.Sequential([layers.Input((2,)), layers.Dense(1)])
            >>> model.compile(optimizer="sgd", loss="mse")
            >>> x, y = np.ones((4, 2), "float32"), np.zeros((4, 1), "float32")
            >>> _ = model.fit(x, y, batch_size=2, epochs=1, verbose=0, callbacks=[Batches()])
            0 ['loss']
            1 ['loss']
        """
        self.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch, logs=None):
        """Called before each batch of `evaluate` (and of fit's validation), as in Keras.

        Args:
            batch: the batch's index within the pass.
            logs: None (as Keras passes).

        Examples:
            >>> class Seen(callbacks.Callback):
            ...     def on_test_batch_begin(self, batch, logs=None):
            ...         print("evaluating batch", batch)
            ...
            >>> Seen().on_test_batch_begin(0)  # by hand, as evaluate calls it
            evaluating batch 0
        """

    def on_test_batch_end(self, batch, logs=None):
        """Called after each batch of `evaluate` (and of fit's validation), with the
        running logs.

        Args:
            batch: the batch's index within the pass.
            logs: `loss` and each metric averaged over the pass so far.

        Examples:
            >>> class Running(callbacks.Callback):
            ...     def on_test_batch_end(self, batch, logs=None):
            ...         print(batch, logs["loss"])
            ...
            >>> Running().on_test_batch_end(1, {"loss": 0.5})   # by hand, as evaluate calls it
            1 0.5
        """

    def on_predict_batch_begin(self, batch, logs=None):
        """Called before each `predict` batch.

        Args:
            batch: the batch's index.
            logs: None (as Keras passes).

        Examples:
            >>> class Seen(callbacks.Callback):
            ...     def on_predict_batch_begin(self, batch, logs=None):
            ...         print("predicting batch", batch)
            ...
            >>> Seen().on_predict_batch_begin(0)   # by hand, as predict calls it
            predicting batch 0
        """

    def on_predict_batch_end(self, batch, logs=None):
        """Called after each `predict` batch with its outputs, as Keras passes them.

        Only the batch's real rows: predict pads a ragged last batch to keep few compiled
        shapes, and the padding never reaches this hook.

        Args:
            batch: the batch's index.
            logs: a one-output model's `{"outputs": array}` (NumPy); a list-output model's
                `{"outputs": [array, ...]}`; a dict-output model's outputs themselves,
                `{name: array, ...}` (Keras's callbacks flatten a dict of logs).

        Examples:
            >>> class Shapes(callbacks.Callback):
            ...     def on_predict_batch_end(self, batch, logs=None):
            ...         print(batch, logs["outputs"].shape)
            ...
            >>> model = graphnet.Sequential([layers.Input((2,)), layers.Dense(1)])
            >>> x = np.ones((5, 2), "float32")
            >>> _ = model.predict(x, batch_size=4, verbose=0, callbacks=[Shapes()])
            0 (4, 1)
            1 (1, 1)
        """


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
        """Start the list of epoch numbers afresh at the beginning of `fit` (`history`
        is kept, as in Keras; `fit` makes a new History each time).

        Args:
            logs: None (as Keras passes).

        Examples:
            >>> history = callbacks.History()
            >>> history.on_epoch_end(0, {"loss": 0.5})
            >>> history.on_train_begin()
            >>> history.epoch, history.history
            ([], {'loss': [0.5]})
        """
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        """Append each of the epoch's logs to `history[name]`.

        Args:
            epoch: the epoch's index, appended to `epoch`.
            logs: the epoch's logs; each value goes to the list under its name.

        Examples:
            >>> history = callbacks.History()
            >>> history.on_epoch_end(0, {"loss": 0.5, "val_loss": 0.75})   # as fit calls it
            >>> history.on_epoch_end(1, {"loss": 0.25, "val_loss": 0.5})
            >>> history.epoch
            [0, 1]
            >>> history.history
            {'loss': [0.5, 0.25], 'val_loss': [0.75, 0.5]}
        """
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)

    def plot(self, to_file="history.png"):
        """Draw each loss and metric per epoch (training and validation together) to PNG/SVG.

        Args:
            to_file: the file to write; its ending, `.png` or `.svg`, names the format.

        Returns:
            The matplotlib `Figure`: one panel per loss or metric.

        Raises:
            ValueError: the history is empty, or `to_file` ends in neither `.png` nor `.svg`.

        Examples:
            >>> history = callbacks.History()
            >>> history.on_epoch_end(0, {"loss": 0.5, "val_loss": 0.75})
            >>> history.on_epoch_end(1, {"loss": 0.25, "val_loss": 0.5})
            >>> figure = history.plot("history.svg")
            >>> [axes.get_title() for axes in figure.axes]   # val_loss drawn with loss
            ['loss']
        """
        from ..plot import plot_history
        return plot_history(self, to_file)
