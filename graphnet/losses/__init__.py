"""Losses with Keras 3's names, arguments and numerics: per-sample functions and classes.

A function returns one value per sample (the last axis reduced, as Keras); a `Loss` object
reduces those with `sample_weight` like Keras's "sum_over_batch_size". Probabilities are
clipped to [1e-7, 1 - 1e-7] as Keras does, so values match it, not only the optimum.
"""
from .. import registry
from ..registry import lookup
from .base import (CLIPPED_LOGITS, CLIPPED_ONE_HOT, EPSILON, KLD, MAE, MAPE,
                   MASKABLE_REDUCTIONS, MSE, MSLE, REDUCTIONS, Loss, LossFunctionWrapper,
                   behind_activation, binary_crossentropy, categorical_crossentropy,
                   categorical_hinge, cosine_similarity, ctc, hinge, huber, kl_divergence,
                   kld, log_cosh, logcosh, mae, mape, maskable, match_ranks, match_weight,
                   mean_absolute_error, mean_absolute_percentage_error, mean_squared_error,
                   mean_squared_logarithmic_error, mse, msle, one_hot_rows, padding_scale,
                   poisson, reduce_weighted, sparse_categorical_crossentropy, squared_hinge)
from .classes import (CTC, BinaryCrossentropy, CategoricalCrossentropy, CategoricalHinge,
                      CosineSimilarity, Hinge, Huber, KLDivergence, LogCosh, MeanAbsoluteError,
                      MeanAbsolutePercentageError, MeanSquaredError, MeanSquaredLogarithmicError,
                      Poisson, SparseCategoricalCrossentropy, SquaredHinge)
from .focal import (BinaryFocalCrossentropy, CategoricalFocalCrossentropy,
                    CategoricalGeneralizedCrossEntropy, binary_focal_crossentropy,
                    categorical_focal_crossentropy, categorical_generalized_cross_entropy)
from .similarity import Circle, Dice, Tversky, circle, dice, tversky

LOSSES = {
    "mse": mean_squared_error, "mean_squared_error": mean_squared_error,
    "mae": mean_absolute_error, "mean_absolute_error": mean_absolute_error,
    "mape": mean_absolute_percentage_error,
    "mean_absolute_percentage_error": mean_absolute_percentage_error,
    "msle": mean_squared_logarithmic_error,
    "mean_squared_logarithmic_error": mean_squared_logarithmic_error,
    "binary_crossentropy": binary_crossentropy, "bce": binary_crossentropy,
    "categorical_crossentropy": categorical_crossentropy,
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
    "huber": huber, "huber_loss": huber, "log_cosh": log_cosh, "logcosh": log_cosh,
    "kld": kl_divergence, "kl_divergence": kl_divergence,
    "kullback_leibler_divergence": kl_divergence, "poisson": poisson,
    "hinge": hinge, "squared_hinge": squared_hinge, "categorical_hinge": categorical_hinge,
    "cosine_similarity": cosine_similarity, "ctc": ctc,
    "binary_focal_crossentropy": binary_focal_crossentropy,
    "categorical_focal_crossentropy": categorical_focal_crossentropy,
    "dice": dice, "tversky": tversky, "circle": circle,
}

CLASSES = {cls.__name__: cls for cls in (
    MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, BinaryCrossentropy, CategoricalCrossentropy,
    SparseCategoricalCrossentropy, Huber, LogCosh, KLDivergence, Poisson, Hinge, SquaredHinge,
    CategoricalHinge, CosineSimilarity, CTC, BinaryFocalCrossentropy,
    CategoricalFocalCrossentropy, CategoricalGeneralizedCrossEntropy, Dice, Tversky, Circle)}


def _from_name(name):
    """A loss class's name (Keras accepts "MeanSquaredError") or a function's."""
    if name in CLASSES:
        return CLASSES[name]()
    return LossFunctionWrapper(lookup(LOSSES, name, "loss function"), name=name)


def get(identifier):
    """A Loss object from a name, a Loss, a Loss class or a function `fn(y_true, y_pred)`."""
    return registry.get(
        identifier, KIND, base=Loss, none=None, from_callable=LossFunctionWrapper,
        from_name=_from_name,
        expected="A loss must be a string, a graphnet.losses.Loss or a function "
                 "(y_true, y_pred)")


KIND = registry.Kind("loss", CLASSES, LOSSES, LossFunctionWrapper)


def serialize(loss):
    """A JSON-able description (the registry's one shape); custom ones must be registered."""
    return registry.serialize(loss, KIND)


def deserialize(config):
    """A loss from the dict `serialize` made (or a registered custom loss)."""
    return registry.deserialize(config, KIND)
