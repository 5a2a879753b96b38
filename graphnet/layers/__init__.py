"""Keras-named layers."""
from .base import InputSpec, Layer
from .input_layer import Input, InputLayer
from .core import (Activation, Dense, Dropout, Flatten, Identity, Lambda, Permute, RepeatVector,
                   Reshape)
from .merging import (Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract)
from .attention import AdditiveAttention, Attention, MultiHeadAttention
from .adaptive_pooling import (AdaptiveAveragePooling1D, AdaptiveAveragePooling2D,
                               AdaptiveAveragePooling3D, AdaptiveMaxPooling1D,
                               AdaptiveMaxPooling2D, AdaptiveMaxPooling3D)
from .activation import ELU, LeakyReLU, PReLU, ReLU, Softmax
from .convolutional import (Conv1D, Conv1DTranspose, Conv2D, Conv2DTranspose, Conv3D,
                            Conv3DTranspose, DepthwiseConv1D, DepthwiseConv2D, SeparableConv1D,
                            SeparableConv2D)
from .embedding import Embedding
from .normalization import (BatchNormalization, GroupNormalization, LayerNormalization,
                            RMSNormalization, UnitNormalization)
from .noise import (ActivityRegularization, AlphaDropout, GaussianDropout, GaussianNoise,
                    SpatialDropout1D, SpatialDropout2D, SpatialDropout3D)
from .pooling import (AveragePooling1D, AveragePooling2D, AveragePooling3D,
                      GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalAveragePooling3D,
                      GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D, MaxPooling1D,
                      MaxPooling2D, MaxPooling3D)
from .preprocessing import (CategoryEncoding, Normalization, RandomContrast, RandomFlip,
                            RandomRotation, RandomTranslation, RandomZoom, Rescaling)
from .reshaping import (Cropping1D, Cropping2D, Cropping3D, UpSampling1D, UpSampling2D,
                        UpSampling3D, ZeroPadding1D, ZeroPadding2D, ZeroPadding3D)
from .wrappers import Masking, TimeDistributed
from .recurrent import GRU, LSTM, Bidirectional, SimpleRNN
from .operation import Operation
# The generic RNN and its cells, ConvLSTM, and the rest of Keras's catalogue.
from .rnn_cells import GRUCell, LSTMCell, SimpleRNNCell, StackedRNNCells
from .rnn import RNN
from .conv_lstm import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D
from .einsum_dense import EinsumDense
from .reversible_embedding import ReversibleEmbedding
from .wrapper import SpectralNormalization, Wrapper
from .jax_layer import FlaxLayer, JaxLayer
from .group_query_attention import GroupQueryAttention
from .image_resizing import CenterCrop, RandomCrop, Resizing
from .pipeline import Pipeline
from .image_color import (AutoContrast, RandomBrightness, RandomColorDegeneration,
                          Equalization, RandomGrayscale, RandomInvert, RandomPosterization,
                          Solarization)
from .image_mixing import CutMix, MixUp
from .image_hsv import (RandomColorJitter, RandomGaussianBlur, RandomHue, RandomSaturation,
                        RandomSharpness)
from .image_geometry import RandomErasing, RandomPerspective, RandomShear
from .merging import add, average, concatenate, dot, maximum, minimum, multiply, subtract

# Keras's aliases: the same classes under their short names.
Convolution1D, Convolution2D, Convolution3D = Conv1D, Conv2D, Conv3D
Convolution1DTranspose, Convolution2DTranspose, Convolution3DTranspose = (
    Conv1DTranspose, Conv2DTranspose, Conv3DTranspose)
SeparableConvolution1D, SeparableConvolution2D = SeparableConv1D, SeparableConv2D
MaxPool1D, MaxPool2D, MaxPool3D = MaxPooling1D, MaxPooling2D, MaxPooling3D
AvgPool1D, AvgPool2D, AvgPool3D = AveragePooling1D, AveragePooling2D, AveragePooling3D
GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D = (GlobalMaxPooling1D, GlobalMaxPooling2D,
                                                     GlobalMaxPooling3D)
GlobalAvgPool1D, GlobalAvgPool2D, GlobalAvgPool3D = (GlobalAveragePooling1D,
                                                     GlobalAveragePooling2D,
                                                     GlobalAveragePooling3D)
from .discretization import Discretization
from .hashing import HashedCrossing, Hashing
from .lookup import IntegerLookup, StringLookup
from .text import TextVectorization
# Keras's layer (de)serialization, the spectrogram layers.
from .serialization import keras_deserialize as deserialize, keras_serialize as serialize
from .spectrogram import MelSpectrogram, STFTSpectrogram
