"""Every layer graphnet exports goes through the one harness (`run_layer_test`): here for the
layers no family test runs through it, with Keras 3's layer alongside where Keras has it."""
import pytest

from graphnet import layers
from graphnet.layers.base import Layer
from graphnet.layers.operation import decode
from harness import keras, run_layer_test


def k(name, *args, **kwargs):
    """Keras 3's layer `name`, made when the test runs."""
    return lambda: getattr(keras().layers, name)(*args, **kwargs)


# name -> (make the layer, input shape (batch axis None), harness options)
CASES = {
    "EinsumDense": (lambda: layers.EinsumDense("abc,cde->abde", (None, 2, 3), bias_axes="e"),
                    (None, 4, 5), dict(keras_layer=k("EinsumDense", "abc,cde->abde",
                                                      (None, 2, 3), bias_axes="e"))),
    "ReversibleEmbedding": (lambda: layers.ReversibleEmbedding(5, 3, tie_weights=False),
                            (None, 4), dict(dtype="int32", keras_layer=k(
                                "ReversibleEmbedding", 5, 3, tie_weights=False))),
    "SpectralNormalization": (lambda: layers.SpectralNormalization(layers.Dense(3)), (None, 4),
                              dict(keras_layer=lambda: keras().layers.SpectralNormalization(
                                  keras().layers.Dense(3)))),
    "GroupQueryAttention": (lambda: layers.GroupQueryAttention(2, 4, 2), [(None, 4, 5), (None, 6, 5)],
                            dict(spread=True, atol=1e-5,
                                 keras_layer=k("GroupQueryAttention", 2, 4, 2))),
    "Resizing": (lambda: layers.Resizing(3, 5), (None, 6, 4, 2),
                 dict(keras_layer=k("Resizing", 3, 5), atol=1e-5)),
    "CenterCrop": (lambda: layers.CenterCrop(3, 2), (None, 6, 4, 2),
                   dict(keras_layer=k("CenterCrop", 3, 2))),
    # Same size as the window: RandomCrop's inference output has its declared shape.
    "RandomCrop": (lambda: layers.RandomCrop(4, 3), (None, 4, 3, 2),
                   dict(keras_layer=k("RandomCrop", 4, 3))),
    "STFTSpectrogram": (lambda: layers.STFTSpectrogram(frame_length=8, frame_step=4,
                                                       fft_length=8), (None, 16, 2),
                        dict(keras_layer=k("STFTSpectrogram", frame_length=8, frame_step=4,
                                           fft_length=8), atol=1e-5)),
    # Keras's needs standard dtype promotion: compared with it in test_spectrogram.py
    "MelSpectrogram": (lambda: layers.MelSpectrogram(fft_length=32, sequence_stride=8,
                                                     num_mel_bins=6), (None, 64), {}),
    # ConvLSTM1D/2D are compared with Keras in test_conv_lstm.py
    "ConvLSTM1D": (lambda: layers.ConvLSTM1D(2, 2), (None, 3, 5, 2), {}),
    "ConvLSTM3D": (lambda: layers.ConvLSTM3D(1, 2, return_state=True), (None, 2, 3, 3, 3, 1),
                   dict(keras_layer=k("ConvLSTM3D", 1, 2, return_state=True), atol=1e-5)),
    "BatchNormalization": (lambda: layers.BatchNormalization(), (None, 4, 3),
                           dict(keras_layer=k("BatchNormalization"))),
    "LayerNormalization": (lambda: layers.LayerNormalization(), (None, 4, 3),
                           dict(keras_layer=k("LayerNormalization"))),
    "SimpleRNN": (lambda: layers.SimpleRNN(3), (None, 5, 2),
                  dict(keras_layer=k("SimpleRNN", 3), masked=True, atol=1e-5)),
    "LSTM": (lambda: layers.LSTM(3, return_sequences=True), (None, 5, 2),
             dict(keras_layer=k("LSTM", 3, return_sequences=True), masked=True, atol=1e-5)),
    "GRU": (lambda: layers.GRU(3, return_state=True), (None, 5, 2),
            dict(keras_layer=k("GRU", 3, return_state=True), masked=True, atol=1e-5)),
    "Bidirectional": (lambda: layers.Bidirectional(layers.LSTM(3)), (None, 5, 2),
                      dict(keras_layer=lambda: keras().layers.Bidirectional(
                          keras().layers.LSTM(3)), masked=True, atol=1e-5)),
    "MultiHeadAttention": (lambda: layers.MultiHeadAttention(num_heads=2, key_dim=3),
                           [(None, 4, 5), (None, 6, 5)],
                           dict(spread=True, atol=1e-5,
                                keras_layer=k("MultiHeadAttention", num_heads=2, key_dim=3))),
    "Conv1D": (lambda: layers.Conv1D(3, 2, padding="same"), (None, 6, 2),
               dict(keras_layer=k("Conv1D", 3, 2, padding="same"))),
    "Conv2D": (lambda: layers.Conv2D(3, 2, strides=2), (None, 6, 5, 2),
               dict(keras_layer=k("Conv2D", 3, 2, strides=2))),
    "SeparableConv2D": (lambda: layers.SeparableConv2D(3, 2), (None, 5, 5, 2),
                        dict(keras_layer=k("SeparableConv2D", 3, 2))),
    "DepthwiseConv2D": (lambda: layers.DepthwiseConv2D(2, depth_multiplier=2), (None, 5, 5, 2),
                        dict(keras_layer=k("DepthwiseConv2D", 2, depth_multiplier=2))),
    "Conv2DTranspose": (lambda: layers.Conv2DTranspose(3, 2, strides=2), (None, 3, 4, 2),
                        dict(keras_layer=k("Conv2DTranspose", 3, 2, strides=2))),
    "MaxPooling1D": (lambda: layers.MaxPooling1D(2), (None, 6, 2),
                     dict(keras_layer=k("MaxPooling1D", 2))),
    "AveragePooling1D": (lambda: layers.AveragePooling1D(2, padding="same"), (None, 5, 2),
                         dict(keras_layer=k("AveragePooling1D", 2, padding="same"))),
    "MaxPooling2D": (lambda: layers.MaxPooling2D(2), (None, 4, 6, 2),
                     dict(keras_layer=k("MaxPooling2D", 2))),
    "AveragePooling2D": (lambda: layers.AveragePooling2D(2), (None, 4, 6, 2),
                         dict(keras_layer=k("AveragePooling2D", 2))),
    "GlobalMaxPooling1D": (lambda: layers.GlobalMaxPooling1D(), (None, 5, 3),
                           dict(keras_layer=k("GlobalMaxPooling1D"), masked=True)),
    "GlobalAveragePooling1D": (lambda: layers.GlobalAveragePooling1D(), (None, 5, 3),
                               dict(keras_layer=k("GlobalAveragePooling1D"), masked=True)),
    "GlobalMaxPooling2D": (lambda: layers.GlobalMaxPooling2D(), (None, 4, 5, 3),
                           dict(keras_layer=k("GlobalMaxPooling2D"))),
    "GlobalAveragePooling2D": (lambda: layers.GlobalAveragePooling2D(), (None, 4, 5, 3),
                               dict(keras_layer=k("GlobalAveragePooling2D"))),
    "Embedding": (lambda: layers.Embedding(5, 3), (None, 4), dict(
        dtype="int32", keras_layer=k("Embedding", 5, 3))),
    "SpatialDropout3D": (lambda: layers.SpatialDropout3D(0.3), (None, 2, 3, 4, 2),
                         dict(keras_layer=k("SpatialDropout3D", 0.3))),
    # No Keras layer: a graph node for one graphnet.ops call (here `ops.exp(x)`).
    "Operation": (lambda: layers.Operation("exp", (decode({"arg": 0}),)), (None, 3), {}),
}

# Layers a family test already runs through `run_layer_test` (tests/layers/test_<family>.py).
ELSEWHERE = {
    "Activation", "Add", "AdditiveAttention", "Attention", "Average", "AveragePooling3D",
    "CategoryEncoding", "Concatenate", "Discretization", "Conv1DTranspose", "Conv3D", "Conv3DTranspose",
    "ActivityRegularization", "AdaptiveAveragePooling1D", "AdaptiveAveragePooling2D",
    "AdaptiveAveragePooling3D", "AdaptiveMaxPooling1D", "AdaptiveMaxPooling2D",
    "AdaptiveMaxPooling3D", "AlphaDropout", "DepthwiseConv1D", "SeparableConv1D",
    "Cropping1D", "Cropping2D", "Cropping3D",
    "UpSampling3D", "ZeroPadding3D", "Dense", "Dot", "Dropout", "ELU", "Flatten", "GaussianDropout",
    "GaussianNoise", "GlobalAveragePooling3D", "GroupNormalization", "RMSNormalization",
    "UnitNormalization", "GlobalMaxPooling3D", "Identity", "Lambda",
    "LeakyReLU", "Masking", "MaxPooling3D", "Maximum", "Minimum", "Multiply", "Normalization",
    "PReLU", "Permute", "RandomContrast", "RandomFlip", "RandomRotation", "RandomTranslation",
    "RandomZoom", "ReLU", "RepeatVector", "Rescaling", "Reshape", "Softmax", "SpatialDropout1D",
    "SpatialDropout2D", "Subtract", "TimeDistributed", "UpSampling1D", "UpSampling2D",
    "ZeroPadding1D", "ZeroPadding2D",
    # test_rnn_cells.py: RNN(StackedRNNCells([LSTMCell, GRUCell])) and SimpleRNNCell alone
    "RNN", "StackedRNNCells", "LSTMCell", "GRUCell", "SimpleRNNCell",
    "ConvLSTM2D",           # test_conv_lstm.py
    "JaxLayer",             # test_jax_layer.py
    "Pipeline",             # test_pipeline.py
    # test_image_color.py
    "AutoContrast", "Equalization", "Solarization", "RandomBrightness", "RandomGrayscale", "RandomInvert",
    "RandomPosterization", "RandomColorDegeneration",
    "MixUp", "CutMix",      # test_image_mixing.py
    # test_image_hsv.py
    "RandomSharpness", "RandomHue", "RandomSaturation", "RandomColorJitter", "RandomGaussianBlur",
    # test_image_geometry.py
    "RandomErasing", "RandomShear", "RandomPerspective",
}

# Not layers a model calls on a tensor: the base class (run through the harness by the
# custom layers of test_base.py) and the layer behind `Input` (the start of every case).
# Wrapper: a subclass in test_wrapper.py; FlaxLayer needs flax, not installed with graphnet.
NOT_CALLED = {"Layer", "InputLayer", "Wrapper", "FlaxLayer"}

# Layers that run on the host with NumPy (strings, vocabularies, hashes): applied to the data
# before a model, so no model holds them; tests/layers/test_text.py checks them against Keras.
HOST = {"HashedCrossing", "Hashing", "IntegerLookup", "StringLookup", "TextVectorization"}


def test_every_exported_layer_goes_through_the_harness():
    exported = {name for name, obj in vars(layers).items()
                if isinstance(obj, type) and issubclass(obj, Layer) and obj.__name__ == name}
    missing = exported - set(CASES) - ELSEWHERE - NOT_CALLED - HOST
    assert not missing, f"layers no test runs through run_layer_test: {sorted(missing)}"
    assert not (set(CASES) | ELSEWHERE | NOT_CALLED | HOST) - exported


@pytest.mark.parametrize("name", sorted(CASES))
def test_layer(name):
    make, shape, options = CASES[name]
    run_layer_test(make, shape, **options)
