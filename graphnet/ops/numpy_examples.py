"""The docstrings of the NumPy-named ops: Keras's name, the `jax.numpy` function, an example.

Each example is text, written and checked by hand against NumPy: the docstring tests run
them, so a value shown here is a value the op gives. Inputs are small enough to check in
one's head; outputs print as NumPy prints (`print(...)`), with the dtype shown where it is
the point. This module holds the element-wise ops; `numpy_examples_arrays` the reductions,
arrangement, linear algebra and creation ops.
"""
from __future__ import annotations

import textwrap

from .numpy_examples_arrays import ARRAY_EXAMPLES

# a second sentence where Keras's name is another name for an op
NOTES = {
    "absolute": "Another name for `abs`.",
    "conjugate": "Another name for `conj`.",
    "true_divide": "Another name for `divide`.",
    "invert": "Another name for `bitwise_not`.",
    "bitwise_invert": "Another name for `bitwise_not`.",
    "left_shift": "Another name for `bitwise_left_shift`.",
    "right_shift": "Another name for `bitwise_right_shift`.",
    "amax": "Keras's other name for `max`.",
    "amin": "Keras's other name for `min`.",
}

ELEMENTWISE_EXAMPLES = {
    # arithmetic and rounding
    "abs": """
        >>> print(ops.abs(np.array([-1.5, 0.0, 2.0])))
        [1.5 0.  2. ]""",
    "absolute": """
        >>> print(ops.absolute(np.array([-3, 4])))
        [3 4]""",
    "fabs": """
        >>> print(ops.fabs(np.array([-2.5, 1.0])))
        [2.5 1. ]""",
    "negative": """
        >>> print(ops.negative(np.array([1.0, -2.0])))
        [-1.  2.]""",
    "sign": """
        >>> print(ops.sign(np.array([-2.0, 0.0, 3.0])))
        [-1.  0.  1.]""",
    "signbit": """
        >>> print(ops.signbit(np.array([-1.0, 0.0, -0.0])))
        [ True False  True]""",
    "copysign": """
        >>> print(ops.copysign(np.array([1.0, 2.0]), np.array([-1.0, 1.0])))
        [-1.  2.]""",
    "add": """
        >>> print(ops.add(np.array([[1], [2]]), np.array([10, 20])))
        [[11 21]
         [12 22]]""",
    "subtract": """
        >>> print(ops.subtract(np.array([5, 3]), 1))
        [4 2]""",
    "multiply": """
        >>> print(ops.multiply(np.array([1.5, 2.0]), 2.0))
        [3. 4.]""",
    "divide": """
        >>> print(ops.divide(np.array([1, 3]), 2))
        [0.5 1.5]""",
    "true_divide": """
        >>> print(ops.true_divide(np.array([3.0, 1.0]), 4.0))
        [0.75 0.25]""",
    "floor_divide": """
        >>> print(ops.floor_divide(np.array([7, -7]), 2))
        [ 3 -4]""",
    "mod": """
        >>> print(ops.mod(np.array([7, -7]), 3))
        [1 2]""",
    "fmod": """
        >>> print(ops.fmod(np.array([7, -7]), 3))
        [ 1 -1]""",
    "power": """
        >>> print(ops.power(np.array([2, 3]), 3))
        [ 8 27]""",
    "square": """
        >>> print(ops.square(np.array([-3, 2])))
        [9 4]""",
    "sqrt": """
        >>> print(np.asarray(ops.sqrt(np.array([4.0, 9.0, 2.0]))).round(3))
        [2.    3.    1.414]""",
    "cbrt": """
        >>> print(np.asarray(ops.cbrt(np.array([8.0, -27.0]))).round(3))
        [ 2. -3.]""",
    "reciprocal": """
        >>> print(ops.reciprocal(np.array([2.0, 4.0, -0.5])))
        [ 0.5   0.25 -2.  ]""",
    "hypot": """
        >>> print(np.asarray(ops.hypot(np.array([3.0, 5.0]), np.array([4.0, 12.0]))).round(3))
        [ 5. 13.]""",
    "gcd": """
        >>> print(ops.gcd(np.array([12, 18]), 8))
        [4 2]""",
    "lcm": """
        >>> print(ops.lcm(np.array([4, 6]), 6))
        [12  6]""",
    "floor": """
        >>> print(ops.floor(np.array([-1.5, 0.5, 2.0])))
        [-2.  0.  2.]""",
    "ceil": """
        >>> print(ops.ceil(np.array([-1.5, 0.5, 2.0])))
        [-1.  1.  2.]""",
    "trunc": """
        >>> print(ops.trunc(np.array([-1.5, 0.5, 2.7])))
        [-1.  0.  2.]""",
    "maximum": """
        >>> print(ops.maximum(np.array([1, 5]), np.array([4, 2])))
        [4 5]""",
    "minimum": """
        >>> print(ops.minimum(np.array([1, 5]), np.array([4, 2])))
        [1 2]""",
    "fmax": """
        >>> print(ops.fmax(np.array([1.0, np.nan]), np.array([2.0, 3.0])))
        [2. 3.]""",
    "fmin": """
        >>> print(ops.fmin(np.array([1.0, np.nan]), np.array([2.0, 3.0])))
        [1. 3.]""",
    "clip": """
        >>> print(ops.clip(np.array([-2, 0, 5]), 0, 3))
        [0 0 3]""",
    "heaviside": """
        >>> print(ops.heaviside(np.array([-1.0, 0.0, 2.0]), 0.5))
        [0.  0.5 1. ]""",
    "nextafter": """
        >>> print(ops.nextafter(np.float32(1.0), np.float32(2.0)) - 1)
        1.1920929e-07""",
    "nan_to_num": """
        >>> print(ops.nan_to_num(np.array([np.nan, 1.0, np.inf]), posinf=9.0))
        [0. 1. 9.]""",
    # exponentials, logarithms, trigonometry
    "exp": """
        >>> print(np.asarray(ops.exp(np.array([0.0, 1.0]))).round(3))
        [1.    2.718]""",
    "exp2": """
        >>> print(ops.exp2(np.array([0.0, 3.0, -1.0])))
        [1.  8.  0.5]""",
    "expm1": """
        >>> print(np.asarray(ops.expm1(np.array([0.0, 1.0]))).round(3))
        [0.    1.718]""",
    "log": """
        >>> print(np.asarray(ops.log(np.array([1.0, 10.0]))).round(3))
        [0.    2.303]""",
    "log1p": """
        >>> print(np.asarray(ops.log1p(np.array([0.0, 1.0]))).round(3))
        [0.    0.693]""",
    "log2": """
        >>> print(np.asarray(ops.log2(np.array([1.0, 8.0, 0.5]))).round(3))
        [ 0.  3. -1.]""",
    "log10": """
        >>> print(np.asarray(ops.log10(np.array([1.0, 100.0]))).round(3))
        [0. 2.]""",
    "sin": """
        >>> print(np.asarray(ops.sin(np.array([0.0, np.pi / 2]))).round(3))
        [0. 1.]""",
    "cos": """
        >>> print(np.asarray(ops.cos(np.array([0.0, np.pi]))).round(3))
        [ 1. -1.]""",
    "tan": """
        >>> print(np.asarray(ops.tan(np.array([0.0, np.pi / 4]))).round(3))
        [0. 1.]""",
    "arcsin": """
        >>> print(np.asarray(ops.arcsin(np.array([0.0, 1.0]))).round(3))
        [0.    1.571]""",
    "arccos": """
        >>> print(np.asarray(ops.arccos(np.array([1.0, -1.0]))).round(3))
        [0.    3.142]""",
    "arctan": """
        >>> print(np.asarray(ops.arctan(np.array([0.0, 1.0]))).round(3))
        [0.    0.785]""",
    "arctan2": """
        >>> print(np.asarray(ops.arctan2(np.array([1.0, 1.0]), np.array([1.0, -1.0]))).round(3))
        [0.785 2.356]""",
    "sinh": """
        >>> print(np.asarray(ops.sinh(np.array([0.0, 1.0]))).round(3))
        [0.    1.175]""",
    "cosh": """
        >>> print(np.asarray(ops.cosh(np.array([0.0, 1.0]))).round(3))
        [1.    1.543]""",
    "tanh": """
        >>> print(np.asarray(ops.tanh(np.array([0.0, 1.0]))).round(3))
        [0.    0.762]""",
    "arcsinh": """
        >>> print(np.asarray(ops.arcsinh(np.array([0.0, 1.0]))).round(3))
        [0.    0.881]""",
    "arccosh": """
        >>> print(np.asarray(ops.arccosh(np.array([1.0, 2.0]))).round(3))
        [0.    1.317]""",
    "arctanh": """
        >>> print(np.asarray(ops.arctanh(np.array([0.0, 0.5]))).round(3))
        [0.    0.549]""",
    "deg2rad": """
        >>> print(np.asarray(ops.deg2rad(np.array([180.0, 90.0]))).round(3))
        [3.142 1.571]""",
    "rad2deg": """
        >>> print(np.asarray(ops.rad2deg(np.array([np.pi, np.pi / 2]))).round(3))
        [180.  90.]""",
    # tests of values
    "isnan": """
        >>> ops.isnan(np.array([1.0, np.nan]))
        Array([False,  True], dtype=bool)""",
    "isinf": """
        >>> ops.isinf(np.array([1.0, np.inf, -np.inf]))
        Array([False,  True,  True], dtype=bool)""",
    "isfinite": """
        >>> ops.isfinite(np.array([1.0, np.inf, np.nan]))
        Array([ True, False, False], dtype=bool)""",
    "isneginf": """
        >>> print(ops.isneginf(np.array([-np.inf, np.inf, 1.0])))
        [ True False False]""",
    "isposinf": """
        >>> print(ops.isposinf(np.array([-np.inf, np.inf, 1.0])))
        [False  True False]""",
    "isreal": """
        >>> print(ops.isreal(np.array([1 + 0j, 1 + 2j])))
        [ True False]""",
    "isin": """
        >>> print(ops.isin(np.array([1, 2, 3]), np.array([2, 3, 5])))
        [False  True  True]""",
    # complex numbers
    "conj": """
        >>> print(ops.conj(np.array([1 + 2j, 3 - 1j])))
        [1.-2.j 3.+1.j]""",
    "conjugate": """
        >>> print(ops.conjugate(np.array([1 + 2j, 3 - 1j])))
        [1.-2.j 3.+1.j]""",
    "real": """
        >>> print(ops.real(np.array([1 + 2j, 3 - 1j])))
        [1. 3.]""",
    "imag": """
        >>> print(ops.imag(np.array([1 + 2j, 3 - 1j])))
        [ 2. -1.]""",
    # comparisons and logic
    "equal": """
        >>> print(ops.equal(np.array([1, 2, 3]), 2))
        [False  True False]""",
    "not_equal": """
        >>> print(ops.not_equal(np.array([1, 2, 3]), 2))
        [ True False  True]""",
    "less": """
        >>> print(ops.less(np.array([1, 2, 3]), 2))
        [ True False False]""",
    "less_equal": """
        >>> print(ops.less_equal(np.array([1, 2, 3]), 2))
        [ True  True False]""",
    "greater": """
        >>> print(ops.greater(np.array([1, 2, 3]), 2))
        [False False  True]""",
    "greater_equal": """
        >>> print(ops.greater_equal(np.array([1, 2, 3]), 2))
        [False  True  True]""",
    "logical_and": """
        >>> print(ops.logical_and(np.array([True, True, False]), np.array([True, False, False])))
        [ True False False]""",
    "logical_or": """
        >>> print(ops.logical_or(np.array([True, True, False]), np.array([True, False, False])))
        [ True  True False]""",
    "logical_xor": """
        >>> print(ops.logical_xor(np.array([True, True, False]), np.array([True, False, False])))
        [False  True False]""",
    "logical_not": """
        >>> print(ops.logical_not(np.array([True, False])))
        [False  True]""",
    "where": """
        >>> print(ops.where(np.array([True, False, True]), np.array([1, 2, 3]), 0))
        [1 0 3]
        >>> x = graphnet.Input(shape=(3,))
        >>> ops.where(ops.greater(x, 0.0), x, 0.0).shape
        (None, 3)""",
    # bits
    "bitwise_and": """
        >>> print(ops.bitwise_and(np.array([12, 9]), 6))
        [4 0]""",
    "bitwise_or": """
        >>> print(ops.bitwise_or(np.array([12, 9]), 6))
        [14 15]""",
    "bitwise_xor": """
        >>> print(ops.bitwise_xor(np.array([12, 9]), 6))
        [10 15]""",
    "bitwise_not": """
        >>> print(ops.bitwise_not(np.array([0, 5])))
        [-1 -6]""",
    "bitwise_invert": """
        >>> print(ops.bitwise_invert(np.array([0, 5])))
        [-1 -6]""",
    "invert": """
        >>> print(ops.invert(np.array([True, False])))
        [False  True]""",
    "bitwise_left_shift": """
        >>> print(ops.bitwise_left_shift(np.array([1, 3]), 2))
        [ 4 12]""",
    "left_shift": """
        >>> print(ops.left_shift(np.array([1, 5]), 1))
        [ 2 10]""",
    "bitwise_right_shift": """
        >>> print(ops.bitwise_right_shift(np.array([8, 13]), 2))
        [2 3]""",
    "right_shift": """
        >>> print(ops.right_shift(np.array([16, -16]), 2))
        [ 4 -4]""",
}

EXAMPLES = {**ELEMENTWISE_EXAMPLES, **ARRAY_EXAMPLES}


def docstring(name: str, jnp_name: str) -> str:
    """The docstring of the op `name` that is `jax.numpy.<jnp_name>`: the line naming both,
    its note, then its example (none where the tables have no entry for `name`)."""
    parts = [f"Keras `ops.{name}` (as `jax.numpy.{jnp_name}`)."]
    if name in NOTES:
        parts.append(NOTES[name])
    if name in EXAMPLES:
        example = textwrap.dedent(EXAMPLES[name]).strip("\n")
        parts.append("Examples:\n" + textwrap.indent(example, "    "))
    return "\n\n".join(parts)
