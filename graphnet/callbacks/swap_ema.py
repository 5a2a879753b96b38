"""Keras's SwapEMAWeights: evaluate (and, with swap_on_epoch, end each epoch) with the
optimizer's moving average of the weights in the model."""
from __future__ import annotations

from ..optimizers.ema import copy_weights_to_ema, ema_states, swap_ema_weights
from .base import Callback


class SwapEMAWeights(Callback):
    """Keras SwapEMAWeights(swap_on_epoch=False): swaps the model's weights with the
    optimizer's moving average (`use_ema=True`) around evaluation, and around each epoch's
    end with `swap_on_epoch=True` (so ModelCheckpoint saves the averages).

    The swap happens on the host between dispatches; the training step never sees it.

    Examples:
        >>> model = graphnet.Sequential([graphnet.Input(shape=(2,)), layers.Dense(1)])
        >>> model.compile(optimizer=optimizers.SGD(use_ema=True), loss="mse")
        >>> x = np.ones((4, 2), "float32")
        >>> history = model.fit(x, x[:, :1], epochs=1, verbose=0,
        ...                     callbacks=[callbacks.SwapEMAWeights(swap_on_epoch=True)])
        >>> model.optimizer.use_ema
        True
    """

    def __init__(self, swap_on_epoch=False):
        super().__init__()
        self.swap_on_epoch = swap_on_epoch
        self._ema_weights_in_model = False

    def _check(self):
        optimizer = self.model.optimizer
        inner = getattr(optimizer, "inner_optimizer", optimizer)
        if not getattr(inner, "use_ema", False) or not ema_states(optimizer.state):
            raise ValueError(f"SwapEMAWeights needs an optimizer created with use_ema=True; "
                             f"model '{self.model.name}' was compiled with "
                             f"{type(inner).__name__}(use_ema="
                             f"{getattr(inner, 'use_ema', False)})")

    def _swap(self):
        self._check()
        swap_ema_weights(self.model)

    def on_epoch_begin(self, epoch, logs=None):
        if self.swap_on_epoch and self._ema_weights_in_model:
            self._swap()
            self._ema_weights_in_model = False

    def on_epoch_end(self, epoch, logs=None):
        if self.swap_on_epoch and not self._ema_weights_in_model:
            self._swap()
            self._ema_weights_in_model = True
            # The end of fit copies the averages into the model: make them the (averaged)
            # weights the model now holds, as Keras does after the last epoch.
            if epoch == self.params["epochs"] - 1:
                copy_weights_to_ema(self.model)

    def on_test_begin(self, logs=None):
        if not self._ema_weights_in_model:
            self._swap()
            self._ema_weights_in_model = True

    def on_test_end(self, logs=None):
        if self._ema_weights_in_model:
            self._swap()
            self._ema_weights_in_model = False

    def on_predict_begin(self, logs=None):
        if not self._ema_weights_in_model:
            self._swap()
            self._ema_weights_in_model = True

    def on_predict_end(self, logs=None):
        # As Keras's: the averages stay in the model after predict (its test reads
        # `not in model`, so this swap never runs once on_predict_begin swapped).
        if not self._ema_weights_in_model:
            self._swap()
            self._ema_weights_in_model = False
