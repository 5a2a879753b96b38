"""Keras-named layers."""
from ..symbolic import Input
from .base import InputLayer, InputSpec, Layer
from .core import (Activation, Dense, Dropout, Flatten, Identity, Lambda, Permute, RepeatVector,
                   Reshape)
from .merging import (Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract)
