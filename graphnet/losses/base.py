"""Losses with Keras 3's names, arguments and numerics: the per-sample functions and the
`Loss` base with its reduction.

A function returns one value per sample (the last axis reduced, as Keras); a `Loss` object
reduces those with `sample_weight` like Keras's "sum_over_batch_size". Probabilities are
clipped to [1e-7, 1 - 1e-7] as Keras does, so values match it, not only the optimum.
"""
import jax
import jax.numpy as jnp
import numpy as np
import optax

from ..loss_masks import apply_mask

EPSILON = 1e-7
# log of Keras's clip bounds as float32 holds them (1 - 1e-7 rounds to 1 - 2**-23).
_LOG_LOW = float(np.log(np.float32(EPSILON)))
_LOG_HIGH = float(np.log(np.float32(1.0 - EPSILON)))
# `from_logits` values for logits behind a softmax/sigmoid output: see `behind_activation`.
CLIPPED_LOGITS = "clipped"
CLIPPED_ONE_HOT = "clipped, one-hot targets"   # targets known to be one-hot rows
REDUCTIONS = ("sum_over_batch_size", "sum", "none", "mean", "mean_with_sample_weight")


def _float(x, dtype):
    x = jnp.asarray(x)
    return x if x.dtype == dtype else x.astype(dtype)


def match_ranks(y_true, y_pred):
    """Keras's squeeze_or_expand_to_same_rank: (batch,) targets fit a (batch, 1) output."""
    if y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1] == 1:
        if y_pred.ndim == 1:
            y_pred = y_pred[..., None]
        else:
            y_true = y_true[..., 0]
    elif y_pred.ndim == y_true.ndim + 1 and y_pred.shape[-1] == 1:
        if y_true.ndim == 1:
            y_true = y_true[..., None]
        else:
            y_pred = y_pred[..., 0]
    return y_true, y_pred


def match_weight(values, weight):
    """Keras's squeeze_or_expand_to_same_rank for a weight, then a weight of shape
    (batch, 1, ...) with more axes than the values loses its trailing 1s: a padding mask
    shaped by a target's rank meets the loss values by axis (Keras would broadcast the two
    into a larger array, never a loss)."""
    values, weight = match_ranks(values, weight)
    extra = weight.ndim - values.ndim
    if extra > 0 and values.ndim >= 1 and all(d == 1 for d in weight.shape[values.ndim:]):
        weight = weight.reshape(weight.shape[:values.ndim])
    return values, weight


def _prepare(y_true, y_pred):
    y_pred = jnp.asarray(y_pred)
    if not jnp.issubdtype(y_pred.dtype, jnp.floating):
        y_pred = y_pred.astype(jnp.float32)
    return match_ranks(_float(y_true, y_pred.dtype), y_pred)


# The other loss modules start as these functions do: float predictions, targets cast to
# their dtype, ranks matched as Keras's LossFunctionWrapper does.
prepare = _prepare


# ---- per-sample functions --------------------------------------------------------------
def mean_squared_error(y_true, y_pred):
    """Per sample: the mean of `(y_pred - y_true) ** 2` over the last axis (alias `mse`).

    >>> y_true, y_pred = [[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [1.0, 0.0]]
    >>> print(np.round(np.asarray(losses.mean_squared_error(y_true, y_pred)), 4))
    [0.5 0.5]
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    return jnp.mean(jnp.square(y_pred - y_true), axis=-1)


def mean_absolute_error(y_true, y_pred):
    """Per sample: the mean of `|y_pred - y_true|` over the last axis (alias `mae`).

    >>> y_true, y_pred = [[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [1.0, 0.0]]
    >>> print(np.round(np.asarray(losses.mean_absolute_error(y_true, y_pred)), 4))
    [0.5 0.5]
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    return jnp.mean(jnp.abs(y_pred - y_true), axis=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    """Per sample: `100 * mean(|y_true - y_pred| / |y_true|)` over the last axis (`mape`).

    >>> y_true, y_pred = [[1.0, 2.0], [2.0, 1.0]], [[1.0, 1.0], [2.0, 2.0]]
    >>> print(np.round(np.asarray(losses.mean_absolute_percentage_error(y_true, y_pred)), 4))
    [25. 50.]
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    diff = jnp.abs((y_true - y_pred) / jnp.maximum(jnp.abs(y_true), EPSILON))
    return 100.0 * jnp.mean(diff, axis=-1)


def mean_squared_logarithmic_error(y_true, y_pred):
    """Per sample: the mean of `(log(y_pred + 1) - log(y_true + 1)) ** 2` over the last axis
    (alias `msle`).

    >>> y_true, y_pred = [[1.0, 2.0], [2.0, 1.0]], [[1.0, 1.0], [2.0, 2.0]]
    >>> print(np.round(np.asarray(losses.mean_squared_logarithmic_error(y_true, y_pred)), 4))
    [0.0822 0.0822]
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    first = jnp.log(jnp.maximum(y_pred, EPSILON) + 1.0)
    second = jnp.log(jnp.maximum(y_true, EPSILON) + 1.0)
    return jnp.mean(jnp.square(first - second), axis=-1)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Mean over `axis` of the element-wise crossentropy; logits use log-sigmoid (exact).

    >>> y_true, y_pred = [[0.0, 1.0], [0.0, 0.0]], [[0.6, 0.4], [0.4, 0.6]]
    >>> print(np.round(np.asarray(losses.binary_crossentropy(y_true, y_pred)), 4))
    [0.9163 0.7136]
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits == CLIPPED_LOGITS:
        log_p = _clip_log(jax.nn.log_sigmoid(y_pred))
        log_q = _clip_log(jax.nn.log_sigmoid(-y_pred))
        bce = -(y_true * log_p + (1.0 - y_true) * log_q)
    elif from_logits:
        # -(t log s(x) + (1 - t) log s(-x)), stable for large |x|.
        bce = -(y_true * jax.nn.log_sigmoid(y_pred) + (1.0 - y_true) * jax.nn.log_sigmoid(-y_pred))
    else:
        p = jnp.clip(y_pred, EPSILON, 1.0 - EPSILON)
        bce = -(y_true * jnp.log(p) + (1.0 - y_true) * jnp.log(1.0 - p))
    return jnp.mean(bce, axis=axis)


@jax.custom_jvp
def _clip_log(log_p):
    """Log-probabilities clipped to Keras's bounds [log 1e-7, log(1 - 1e-7)]."""
    return jnp.clip(log_p, _LOG_LOW, _LOG_HIGH)


@_clip_log.defjvp
def _clip_log_jvp(primals, tangents):
    # Zero where clipped, as Keras; one select instead of the min/max rules' ties.
    log_p, = primals
    inside = (log_p > _LOG_LOW) & (log_p < _LOG_HIGH)
    return _clip_log(log_p), jnp.where(inside, tangents[0], jnp.zeros_like(tangents[0]))


def _log_softmax(y_pred, from_logits, axis):
    """log p: from logits, from logits with Keras's probability clip, or from probabilities
    (renormalized and clipped, as Keras)."""
    if from_logits == CLIPPED_LOGITS:
        return _clip_log(jax.nn.log_softmax(y_pred, axis=axis))
    if from_logits:
        return jax.nn.log_softmax(y_pred, axis=axis)
    p = y_pred / jnp.sum(y_pred, axis=axis, keepdims=True)
    return jnp.log(jnp.clip(p, EPSILON, 1.0 - EPSILON))


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Per sample; probabilities are renormalized then clipped, as Keras does.

    >>> y_true, y_pred = [[0.0, 1.0], [1.0, 0.0]], [[0.4, 0.6], [0.3, 0.7]]
    >>> print(np.round(np.asarray(losses.categorical_crossentropy(y_true, y_pred)), 4))
    [0.5108 1.204 ]
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    if label_smoothing:
        classes = y_pred.shape[axis]
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / classes
    if from_logits == CLIPPED_ONE_HOT and not label_smoothing:
        return -_clip_log(jnp.sum(y_true * jax.nn.log_softmax(y_pred, axis=axis), axis=axis))
    log_p = _log_softmax(y_pred, CLIPPED_LOGITS if from_logits == CLIPPED_ONE_HOT
                         else from_logits, axis)
    return -jnp.sum(y_true * log_p, axis=axis)


def _sparse_labels(y_true, y_pred):
    y_true = jnp.asarray(y_true)
    if y_true.ndim == jnp.ndim(y_pred) and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    return y_true.astype(jnp.int32)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, axis=-1,
                                   ignore_class=None):
    """Integer class targets, shape (batch, ...) or (batch, ..., 1). Targets equal to
    `ignore_class` add 0 (Keras; the class's reduction then averages over the others).

    >>> y_true, y_pred = [1, 0], [[0.4, 0.6], [0.3, 0.7]]
    >>> print(np.round(np.asarray(losses.sparse_categorical_crossentropy(y_true, y_pred)), 4))
    [0.5108 1.204 ]
    """
    y_pred = jnp.asarray(y_pred)
    labels = _sparse_labels(y_true, y_pred)
    if from_logits in (CLIPPED_LOGITS, CLIPPED_ONE_HOT):
        # Integer labels are one-hot rows: the clip applies to each sample's own log p
        # (see behind_activation); a label outside the classes adds 0, as Keras's.
        log_p = jax.nn.log_softmax(y_pred, axis=axis)
        one_hot = jax.nn.one_hot(labels, y_pred.shape[axis], dtype=log_p.dtype, axis=axis)
        values = -_clip_log(jnp.sum(one_hot * log_p, axis=axis)) * jnp.sum(one_hot, axis=axis)
    else:
        log_p = _log_softmax(y_pred, from_logits, axis)
        one_hot = jax.nn.one_hot(labels, y_pred.shape[axis], dtype=log_p.dtype, axis=axis)
        values = -jnp.sum(one_hot * log_p, axis=axis)
    if ignore_class is not None:
        values = jnp.where(labels == int(ignore_class), jnp.zeros((), values.dtype), values)
    return values


def huber(y_true, y_pred, delta=1.0):
    """Huber loss per sample: squared error below `delta`, linear above it (mean over the last axis).

    >>> y_true, y_pred = [[1.0, 2.0], [2.0, 1.0]], [[1.0, 1.0], [2.0, 2.0]]
    >>> print(np.round(np.asarray(losses.huber(y_true, y_pred)), 4))
    [0.25 0.25]
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    err = jnp.abs(y_pred - y_true)
    values = jnp.where(err <= delta, 0.5 * jnp.square(err), delta * err - 0.5 * delta * delta)
    return jnp.mean(values, axis=-1)


def log_cosh(y_true, y_pred):
    """log(cosh(y_pred - y_true)) per sample (mean over the last axis), computed without overflow.

    >>> y_true, y_pred = [[1.0, 2.0], [2.0, 1.0]], [[1.0, 1.0], [2.0, 2.0]]
    >>> print(np.round(np.asarray(losses.log_cosh(y_true, y_pred)), 4))
    [0.2169 0.2169]
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    x = y_pred - y_true
    # log(cosh(x)) = x + softplus(-2x) - log 2, without overflow.
    return jnp.mean(x + jax.nn.softplus(-2.0 * x) - jnp.log(2.0).astype(x.dtype), axis=-1)


def kl_divergence(y_true, y_pred):
    """Kullback-Leibler divergence per sample, y_true and y_pred clipped to [1e-7, 1] as in Keras.

    >>> y_true, y_pred = [[0.0, 1.0], [1.0, 0.0]], [[0.4, 0.6], [0.3, 0.7]]
    >>> print(np.round(np.asarray(losses.kl_divergence(y_true, y_pred)), 4))
    [0.5108 1.204 ]
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    y_true = jnp.clip(y_true, EPSILON, 1.0)
    y_pred = jnp.clip(y_pred, EPSILON, 1.0)
    return jnp.sum(y_true * jnp.log(y_true / y_pred), axis=-1)


def poisson(y_true, y_pred):
    """Poisson loss per sample: mean of y_pred - y_true * log(y_pred + 1e-7).

    >>> y_true, y_pred = [[1.0, 2.0], [2.0, 1.0]], [[1.0, 1.0], [2.0, 2.0]]
    >>> print(np.round(np.asarray(losses.poisson(y_true, y_pred)), 4))
    [1.     0.9603]
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    return jnp.mean(y_pred - y_true * jnp.log(y_pred + EPSILON), axis=-1)


def _signed(y_true):
    """Keras maps {0, 1} labels to {-1, 1} for the hinge losses."""
    is_binary = jnp.all((y_true == 0) | (y_true == 1))
    return jnp.where(is_binary, 2.0 * y_true - 1.0, y_true)


def hinge(y_true, y_pred):
    """Hinge loss per sample: mean of max(1 - y_true * y_pred, 0); labels in {0, 1} become {-1, 1}.

    >>> y_true, y_pred = [[-1.0, 1.0], [1.0, -1.0]], [[0.6, 0.4], [0.4, 0.6]]
    >>> print(np.round(np.asarray(losses.hinge(y_true, y_pred)), 4))
    [1.1 1.1]
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    return jnp.mean(jnp.maximum(1.0 - _signed(y_true) * y_pred, 0.0), axis=-1)


def squared_hinge(y_true, y_pred):
    """Squared hinge loss per sample: mean of max(1 - y_true * y_pred, 0) ** 2.

    >>> y_true, y_pred = [[-1.0, 1.0], [1.0, -1.0]], [[0.6, 0.4], [0.4, 0.6]]
    >>> print(np.round(np.asarray(losses.squared_hinge(y_true, y_pred)), 4))
    [1.46 1.46]
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    return jnp.mean(jnp.square(jnp.maximum(1.0 - _signed(y_true) * y_pred, 0.0)), axis=-1)


def categorical_hinge(y_true, y_pred):
    """Categorical hinge per sample: max(max_wrong - correct + 1, 0) for one-hot y_true.

    >>> y_true, y_pred = [[0.0, 1.0], [1.0, 0.0]], [[0.4, 0.6], [0.3, 0.7]]
    >>> print(np.round(np.asarray(losses.categorical_hinge(y_true, y_pred)), 4))
    [0.8 1.4]
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    pos = jnp.sum(y_true * y_pred, axis=-1)
    neg = jnp.max((1.0 - y_true) * y_pred, axis=-1)
    return jnp.maximum(neg - pos + 1.0, 0.0)


def cosine_similarity(y_true, y_pred, axis=-1):
    """Negative cosine similarity per sample (-1 when y_pred points the way of y_true).

    >>> y_true, y_pred = [[0.0, 1.0], [1.0, 1.0]], [[1.0, 1.0], [1.0, 1.0]]
    >>> print(np.round(np.asarray(losses.cosine_similarity(y_true, y_pred)), 4))
    [-0.7071 -1.    ]
    """
    y_true, y_pred = _prepare(y_true, y_pred)

    def unit(x):
        return x / jnp.sqrt(jnp.maximum(jnp.sum(jnp.square(x), axis=axis, keepdims=True), 1e-12))
    return -jnp.sum(unit(y_true) * unit(y_pred), axis=axis)


def ctc(y_true, y_pred):
    """Keras's CTC: integer labels (batch, max_len) with 0 as blank/padding; logits
    (batch, time, classes). Every time step counts (no output padding), as in Keras.

    >>> logits = np.log(np.array([[[0.2, 0.5, 0.3], [0.3, 0.2, 0.5], [0.4, 0.3, 0.3]]], "float32"))
    >>> y_true, y_pred = [[1, 2]], logits
    >>> print(np.round(np.asarray(losses.ctc(y_true, y_pred)), 4))
    [1.3394]
    """
    y_true, y_pred = jnp.asarray(y_true), jnp.asarray(y_pred)
    if y_true.ndim != 2:
        raise ValueError(f"ctc expects y_true of shape (batch, max_length), received "
                         f"{tuple(y_true.shape)}")
    if y_pred.ndim != 3:
        raise ValueError(f"ctc expects y_pred of shape (batch, time, classes), received "
                         f"{tuple(y_pred.shape)}")
    labels = y_true.astype(jnp.int32)
    logit_paddings = jnp.zeros(y_pred.shape[:2], y_pred.dtype)
    label_paddings = (labels == 0).astype(y_pred.dtype)
    return optax.ctc_loss(y_pred, logit_paddings, labels, label_paddings, blank_id=0)


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kl_divergence
logcosh = log_cosh


# ---- reduction and classes -------------------------------------------------------------
def reduce_weighted(values, sample_weight=None, reduction="sum_over_batch_size"):
    """Keras's reduce_weighted_values: weight, then sum or divide by the element count."""
    if sample_weight is not None:
        sample_weight = _float(sample_weight, values.dtype)
        values, sample_weight = match_weight(values, sample_weight)
        values = values * sample_weight
    if reduction in (None, "none") or values.ndim == 0:
        return values
    total = jnp.sum(values)
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        divisor = jnp.sum(jnp.broadcast_to(sample_weight, values.shape))
    else:
        divisor = jnp.asarray(values.size, values.dtype)
    return jnp.where(divisor == 0, jnp.zeros((), values.dtype), total / divisor)


class Loss:
    """Keras Loss base: `call(y_true, y_pred)` per sample, `__call__` reduces it.

    >>> class Doubled(losses.Loss):
    ...     def call(self, y_true, y_pred):
    ...         return 2.0 * ops.mean(ops.abs(y_pred - y_true), axis=-1)
    >>> y_true = np.array([[0.0, 1.0], [1.0, 1.0]], "float32")
    >>> y_pred = np.array([[1.0, 1.0], [0.0, 0.0]], "float32")
    >>> print(round(float(Doubled(reduction="sum")(y_true, y_pred)), 4))
    3.0
    """
    # True where a sample's value depends on the other samples of the batch (Dice over the
    # whole batch, Circle's pairs): padding a batch would change it.
    couples_samples = False

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        self.dtype = dtype
        if reduction is not None and reduction not in REDUCTIONS:
            raise ValueError(f"Loss {name or type(self).__name__}: reduction must be one of "
                             f"{REDUCTIONS} or None, received {reduction!r}")
        self.name = name or _snake(type(self).__name__)
        self.reduction = reduction

    def call(self, y_true, y_pred):
        """Per-sample loss values, shape (batch,), before reduction; override in a subclass.

        Args:
            y_true: the targets.
            y_pred: the model's outputs, at least float32 (cast up under a mixed policy).

        Examples:
            >>> loss = losses.MeanSquaredError()
            >>> y_true = np.array([[0.0, 1.0], [1.0, 1.0]], "float32")
            >>> y_pred = np.array([[1.0, 1.0], [0.0, 3.0]], "float32")
            >>> print(np.asarray(loss.call(y_true, y_pred)))      # per sample
            [0.5 2.5]
            >>> print(np.asarray(loss(y_true, y_pred)))           # their mean
            1.5
        """
        raise NotImplementedError(f"{type(self).__name__} must define call(y_true, y_pred)")

    def __call__(self, y_true, y_pred, sample_weight=None):
        # Losses are computed in float32 under a mixed precision policy, as Keras's.
        y_pred = jax.tree_util.tree_map(_at_least_float32, y_pred)
        values = jnp.asarray(self.call(y_true, y_pred))
        valid = self.valid_mask(y_true, y_pred)
        if valid is not None:
            sample_weight = apply_mask(values, valid, sample_weight, self.reduction)
        return reduce_weighted(values, sample_weight, self.reduction)

    def valid_mask(self, y_true, y_pred):
        """Which per-sample values count (None: all). Keras's loss mask: masked values are
        left out of the "sum_over_batch_size" average too.

        Args:
            y_true: the targets.
            y_pred: the model's outputs.

        Returns:
            None, or booleans shaped like `call`'s values (True: the value counts).

        Examples:
            >>> loss = losses.SparseCategoricalCrossentropy(ignore_class=0)
            >>> print(np.asarray(loss.valid_mask(np.array([0, 2]), np.ones((2, 3), "float32"))))
            [False  True]
            >>> print(losses.MeanSquaredError().valid_mask(np.zeros(2), np.zeros(2)))
            None
        """
        return None

    def get_config(self):
        """The constructor's arguments, for saving (a subclass adds its own to these).

        Examples:
            >>> losses.MeanSquaredError(reduction="sum").get_config()
            {'name': 'mean_squared_error', 'reduction': 'sum'}
        """
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        """A new loss from the dict `get_config` returned.

        Examples:
            >>> loss = losses.MeanSquaredError.from_config({"name": "sse", "reduction": "sum"})
            >>> loss.name, loss.reduction
            ('sse', 'sum')
        """
        return cls(**config)


def _at_least_float32(x):
    x = jnp.asarray(x)
    if jnp.issubdtype(x.dtype, jnp.floating) and jnp.finfo(x.dtype).bits < 32:
        return x.astype(jnp.float32)
    return x


def _snake(name):
    from ..naming import snake_case
    return snake_case(name)


class LossFunctionWrapper(Loss):
    """A per-sample function `fn(y_true, y_pred, **kwargs)` as a Loss; `sample_weight`
    weighs each sample's value before the batch average.

    >>> loss = losses.LossFunctionWrapper(losses.huber, name="huber_2", delta=2.0)
    >>> y_true, y_pred = [[0.0], [0.0]], [[1.0], [3.0]]
    >>> print(round(float(loss(y_true, y_pred, sample_weight=[1.0, 0.5])), 4))
    1.25
    """

    def __init__(self, fn, name=None, reduction="sum_over_batch_size", **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", "loss"), reduction=reduction)
        self.fn = fn
        self.fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        """The wrapped function applied to (y_true, y_pred) with the stored arguments."""
        return self.fn(y_true, y_pred, **self.fn_kwargs)

    def get_config(self):
        """The constructor's arguments, for saving."""
        return {**super().get_config(), **self.fn_kwargs}

    def valid_mask(self, y_true, y_pred):
        ignore = self.fn_kwargs.get("ignore_class")
        if ignore is None:
            return None
        return _sparse_labels(y_true, y_pred) != int(ignore)

    def __repr__(self):
        return f"<{type(self).__name__} name='{self.name}'>"


def wrapper_init(fn, default_name, arg_names=()):
    """A Keras loss class over `fn` whose constructor takes `arg_names` (Keras order)."""
    defaults = dict(arg_names)

    def __init__(self, *args, reduction="sum_over_batch_size", name=default_name, **kwargs):
        if len(args) > len(defaults):
            raise TypeError(f"{type(self).__name__} takes at most {len(defaults)} positional "
                            f"arguments {list(defaults)}, received {len(args)}")
        values = dict(defaults)
        values.update(zip(defaults, args))
        unknown = set(kwargs) - set(defaults)
        if unknown:
            raise TypeError(f"{type(self).__name__}() got unexpected keyword argument(s) "
                            f"{sorted(unknown)}")
        values.update(kwargs)
        LossFunctionWrapper.__init__(self, fn, name=name, reduction=reduction, **values)

    return __init__


# Probability crossentropies and the output activation whose logits they can start from.
_BEHIND = {categorical_crossentropy: "softmax", sparse_categorical_crossentropy: "softmax",
           binary_crossentropy: "sigmoid"}


def behind_activation(loss, activation: str, one_hot_targets: bool = False):
    """`loss` computed from the logits behind a `softmax`/`sigmoid` output, or None.

    The log-probabilities come from log-softmax/log-sigmoid and are clipped to Keras's
    bounds [log 1e-7, log(1 - 1e-7)]: the values Keras computes from the probabilities (up
    to float rounding, about 1e-7 absolute per sample) and the same zero gradient where it
    clips. The renormalize-and-clip of probabilities costs about 0.3 s more per compiled
    training program on CPU. Keras's TensorFlow backend makes the same substitution
    (`_keras_logits`), without the clip.

    When every target row is one-hot (integer labels always are; `one_hot_targets` says so
    for a categorical crossentropy's arrays), sum_c y_c clip(log p_c) is clip(log p_label):
    the clip then acts on one number per sample instead of every class, with the same
    values and gradients, and XLA compiles it as fast as plain logits.
    """
    if not isinstance(loss, LossFunctionWrapper) or type(loss).call is not LossFunctionWrapper.call:
        return None
    if type(loss).__call__ is not Loss.__call__ or _BEHIND.get(loss.fn) != activation:
        return None
    kwargs = dict(loss.fn_kwargs)
    if kwargs.get("from_logits") or kwargs.get("axis", -1) != -1:
        return None
    one_hot = one_hot_targets and loss.fn is categorical_crossentropy
    kwargs["from_logits"] = CLIPPED_ONE_HOT if one_hot else CLIPPED_LOGITS
    return LossFunctionWrapper(loss.fn, name=loss.name, reduction=loss.reduction, **kwargs)


def one_hot_rows(y) -> bool:
    """Whether every row of targets `y` (host or device array) is one-hot: zeros and a
    single one along the last axis."""
    if y is None or np.ndim(y) < 2 or y.shape[-1] < 1:
        return False
    y = np.asarray(y)
    if y.dtype.kind not in "fiub":
        return False
    return bool(((y == 0) | (y == 1)).all() and (y.sum(axis=-1) == 1).all())


MASKABLE_REDUCTIONS = ("sum_over_batch_size", "sum", "mean_with_sample_weight")


def maskable(loss) -> bool:
    """Whether `loss` on a batch padded with rows of sample weight 0 gives the unpadded
    batch's value once multiplied by `padding_scale`: true for Loss's own reduction."""
    if not isinstance(loss, Loss) or type(loss).__call__ is not Loss.__call__:
        return False
    if loss.couples_samples:
        return False
    if loss.reduction not in MASKABLE_REDUCTIONS:
        return False
    if isinstance(loss, LossFunctionWrapper):
        return loss.fn_kwargs.get("ignore_class") is None
    return type(loss).valid_mask is Loss.valid_mask


def padding_scale(loss, padded, rows):
    """The factor that turns `loss` over a padded batch (padding weighted 0) into its value
    over the `rows` real samples: only a mean over the batch's size needs one."""
    return padded / rows if loss.reduction == "sum_over_batch_size" else 1.0
