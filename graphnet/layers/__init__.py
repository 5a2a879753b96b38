"""Keras-named layers."""
from ..symbolic import Input
from .base import InputLayer, InputSpec, Layer
from .core import (Activation, Dense, Dropout, Flatten, Identity, Lambda, Permute, RepeatVector,
                   Reshape)
from .merging import (Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract)
from .attention import MultiHeadAttention
from .convolutional import (Conv1D, Conv2D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D)
from .embedding import Embedding
from .normalization import BatchNormalization, LayerNormalization
from .pooling import (AveragePooling1D, AveragePooling2D, GlobalAveragePooling1D,
                      GlobalAveragePooling2D, GlobalMaxPooling1D, GlobalMaxPooling2D,
                      MaxPooling1D, MaxPooling2D)
from .recurrent import GRU, LSTM, Bidirectional, SimpleRNN
from .operation import Operation
from .merging import add, average, concatenate, dot, maximum, minimum, multiply, subtract
