"""The examples of the NumPy-named reductions, arrangement, linear algebra and creation ops.

Text written and checked by hand against NumPy, as in `numpy_examples` (which adds the
element-wise ops and writes the docstrings): small inputs, an `axis=` where the op takes
one, and for a few ops the shape they give on a symbolic tensor (the node they add).
"""
from __future__ import annotations

ARRAY_EXAMPLES = {
    # reductions
    "sum": """
        >>> print(ops.sum(np.array([[1, 2, 3], [4, 5, 6]]), axis=0))
        [5 7 9]
        >>> ops.sum(graphnet.Input(shape=(3, 4)), axis=-1).shape
        (None, 3)""",
    "nansum": """
        >>> print(ops.nansum(np.array([[1.0, np.nan], [3.0, 4.0]]), axis=1))
        [1. 7.]""",
    "mean": """
        >>> print(ops.mean(np.array([[1.0, 2.0], [3.0, 5.0]]), axis=1))
        [1.5 4. ]""",
    "nanmean": """
        >>> print(ops.nanmean(np.array([[1.0, np.nan], [3.0, 4.0]]), axis=1))
        [1.  3.5]""",
    "average": """
        >>> print(ops.average(np.array([1.0, 2.0, 4.0]), weights=np.array([1.0, 1.0, 2.0])))
        2.75""",
    "max": """
        >>> print(ops.max(np.array([[1, 5], [7, 2]]), axis=1))
        [5 7]""",
    "amax": """
        >>> print(ops.amax(np.array([[1, 5], [7, 2]]), axis=0))
        [7 5]""",
    "nanmax": """
        >>> print(ops.nanmax(np.array([1.0, np.nan, 3.0])))
        3.0""",
    "min": """
        >>> print(ops.min(np.array([[1, 5], [7, 2]]), axis=1))
        [1 2]""",
    "amin": """
        >>> print(ops.amin(np.array([[1, 5], [7, 2]]), axis=0))
        [1 2]""",
    "nanmin": """
        >>> print(ops.nanmin(np.array([1.0, np.nan, 3.0])))
        1.0""",
    "ptp": """
        >>> print(ops.ptp(np.array([[1, 7], [4, 2]]), axis=1))
        [6 2]""",
    "prod": """
        >>> print(ops.prod(np.array([[1, 2], [3, 4]]), axis=1))
        [ 2 12]""",
    "nanprod": """
        >>> print(ops.nanprod(np.array([2.0, np.nan, 3.0])))
        6.0""",
    "std": """
        >>> print(ops.std(np.array([[1.0, 3.0], [2.0, 2.0]]), axis=1))
        [1. 0.]""",
    "nanstd": """
        >>> print(ops.nanstd(np.array([1.0, np.nan, 3.0])))
        1.0""",
    "var": """
        >>> print(ops.var(np.array([[1.0, 3.0], [2.0, 6.0]]), axis=1))
        [1. 4.]""",
    "nanvar": """
        >>> print(ops.nanvar(np.array([1.0, np.nan, 5.0])))
        4.0""",
    "all": """
        >>> print(ops.all(np.array([[True, False], [True, True]]), axis=1))
        [False  True]""",
    "any": """
        >>> print(ops.any(np.array([[True, False], [False, False]]), axis=1))
        [ True False]""",
    "count_nonzero": """
        >>> print(ops.count_nonzero(np.array([[0, 1, 2], [0, 0, 3]]), axis=1))
        [2 1]""",
    "argmax": """
        >>> ops.argmax(np.array([[1, 9, 3], [8, 2, 4]]), axis=1)
        Array([1, 0], dtype=int32)""",
    "nanargmax": """
        >>> ops.nanargmax(np.array([1.0, np.nan, 3.0]))
        Array(2, dtype=int32)""",
    "argmin": """
        >>> ops.argmin(np.array([[1, 9, 3], [8, 2, 4]]), axis=1)
        Array([0, 1], dtype=int32)""",
    "nanargmin": """
        >>> ops.nanargmin(np.array([np.nan, 1.0, 3.0]))
        Array(1, dtype=int32)""",
    "cumsum": """
        >>> print(ops.cumsum(np.array([[1, 2, 3], [4, 5, 6]]), axis=1))
        [[ 1  3  6]
         [ 4  9 15]]""",
    "nancumsum": """
        >>> print(ops.nancumsum(np.array([1.0, np.nan, 3.0])))
        [1. 1. 4.]""",
    "cumprod": """
        >>> print(ops.cumprod(np.array([1, 2, 3, 4])))
        [ 1  2  6 24]""",
    "nancumprod": """
        >>> print(ops.nancumprod(np.array([2.0, np.nan, 3.0])))
        [2. 2. 6.]""",
    "median": """
        >>> print(ops.median(np.array([[1.0, 3.0, 2.0], [4.0, 6.0, 9.0]]), axis=1))
        [2. 6.]""",
    "nanmedian": """
        >>> print(ops.nanmedian(np.array([1.0, np.nan, 3.0, 8.0])))
        3.0""",
    "quantile": """
        >>> print(ops.quantile(np.array([1.0, 2.0, 3.0, 4.0]), np.array([0.25, 0.5])))
        [1.75 2.5 ]""",
    "nanquantile": """
        >>> print(ops.nanquantile(np.array([1.0, np.nan, 3.0]), 0.5))
        2.0""",
    "percentile": """
        >>> print(ops.percentile(np.array([1.0, 2.0, 3.0, 4.0]), 50))
        2.5""",
    "nanpercentile": """
        >>> print(ops.nanpercentile(np.array([1.0, np.nan, 3.0]), 50))
        2.0""",
    "trace": """
        >>> print(ops.trace(np.array([[1, 2], [3, 4]])))
        5""",
    "trapezoid": """
        >>> print(ops.trapezoid(np.array([1.0, 2.0, 3.0])))
        4.0""",
    "corrcoef": """
        >>> print(np.asarray(ops.corrcoef(np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]]))).round(3))
        [[ 1. -1.]
         [-1.  1.]]""",
    "correlate": """
        >>> print(ops.correlate(np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.5])))
        [2.  3.5]""",
    # shapes and arrangement
    "reshape": """
        >>> print(ops.reshape(np.arange(6), (2, 3)))
        [[0 1 2]
         [3 4 5]]
        >>> ops.reshape(graphnet.Input(shape=(6,)), (-1, 2, 3)).shape
        (None, 2, 3)""",
    "ravel": """
        >>> print(ops.ravel(np.array([[1, 2], [3, 4]])))
        [1 2 3 4]""",
    "transpose": """
        >>> print(ops.transpose(np.array([[1, 2, 3], [4, 5, 6]])))
        [[1 4]
         [2 5]
         [3 6]]""",
    "swapaxes": """
        >>> ops.swapaxes(np.zeros((2, 3, 4)), 0, 2).shape
        (4, 3, 2)""",
    "moveaxis": """
        >>> ops.moveaxis(np.zeros((2, 3, 4)), 0, -1).shape
        (3, 4, 2)""",
    "expand_dims": """
        >>> ops.expand_dims(np.array([1, 2]), axis=0).shape
        (1, 2)""",
    "squeeze": """
        >>> ops.squeeze(np.zeros((1, 3, 1))).shape
        (3,)
        >>> ops.squeeze(np.zeros((1, 3, 1)), axis=0).shape
        (3, 1)""",
    "atleast_1d": """
        >>> ops.atleast_1d(3).shape
        (1,)""",
    "broadcast_to": """
        >>> print(ops.broadcast_to(np.array([1, 2]), (2, 2)))
        [[1 2]
         [1 2]]""",
    "concatenate": """
        >>> print(ops.concatenate([np.array([[1, 2]]), np.array([[3, 4]])], axis=0))
        [[1 2]
         [3 4]]
        >>> x = graphnet.Input(shape=(2,))
        >>> ops.concatenate([x, x], axis=-1).shape
        (None, 4)""",
    "append": """
        >>> print(ops.append(np.array([1, 2]), np.array([3, 4])))
        [1 2 3 4]""",
    "stack": """
        >>> print(ops.stack([np.array([1, 2]), np.array([3, 4])], axis=1))
        [[1 3]
         [2 4]]""",
    "hstack": """
        >>> print(ops.hstack([np.array([1, 2]), np.array([3])]))
        [1 2 3]""",
    "vstack": """
        >>> print(ops.vstack([np.array([1, 2]), np.array([3, 4])]))
        [[1 2]
         [3 4]]""",
    "dstack": """
        >>> print(ops.dstack([np.array([1, 2]), np.array([3, 4])]))
        [[[1 3]
          [2 4]]]""",
    "split": """
        >>> a, b = ops.split(np.array([1, 2, 3, 4]), 2)
        >>> print(a, b)
        [1 2] [3 4]""",
    "array_split": """
        >>> print([part.tolist() for part in ops.array_split(np.array([1, 2, 3, 4, 5]), 2)])
        [[1, 2, 3], [4, 5]]""",
    "hsplit": """
        >>> a, b = ops.hsplit(np.array([[1, 2, 3, 4]]), 2)
        >>> print(a, b)
        [[1 2]] [[3 4]]""",
    "vsplit": """
        >>> a, b = ops.vsplit(np.array([[1, 2], [3, 4]]), 2)
        >>> print(a, b)
        [[1 2]] [[3 4]]""",
    "dsplit": """
        >>> [part.shape for part in ops.dsplit(np.zeros((1, 2, 4)), 2)]
        [(1, 2, 2), (1, 2, 2)]""",
    "tile": """
        >>> print(ops.tile(np.array([1, 2]), 2))
        [1 2 1 2]""",
    "repeat": """
        >>> print(ops.repeat(np.array([1, 2]), 2))
        [1 1 2 2]""",
    "flip": """
        >>> print(ops.flip(np.array([[1, 2], [3, 4]]), axis=1))
        [[2 1]
         [4 3]]""",
    "fliplr": """
        >>> print(ops.fliplr(np.array([[1, 2], [3, 4]])))
        [[2 1]
         [4 3]]""",
    "flipud": """
        >>> print(ops.flipud(np.array([[1, 2], [3, 4]])))
        [[3 4]
         [1 2]]""",
    "roll": """
        >>> print(ops.roll(np.array([[1, 2, 3], [4, 5, 6]]), 1, axis=1))
        [[3 1 2]
         [6 4 5]]""",
    "sort": """
        >>> print(ops.sort(np.array([[3, 1, 2], [9, 7, 8]]), axis=1))
        [[1 2 3]
         [7 8 9]]""",
    "argsort": """
        >>> print(ops.argsort(np.array([3, 1, 2])))
        [1 2 0]""",
    "take": """
        >>> print(ops.take(np.array([10, 20, 30]), np.array([2, 0])))
        [30 10]""",
    "take_along_axis": """
        >>> print(ops.take_along_axis(np.array([[10, 30, 20]]), np.array([[1, 2, 0]]), axis=1))
        [[30 20 10]]""",
    "select": """
        >>> x = np.array([-1, 0, 2])
        >>> print(ops.select([x < 0, x > 0], [-x, x * 10], 0))
        [ 1  0 20]""",
    "nonzero": """
        >>> ops.nonzero(np.array([0, 4, 0, 7]))
        (Array([1, 3], dtype=int32),)""",
    "unravel_index": """
        >>> ops.unravel_index(np.array([5, 1]), (2, 3))
        (Array([1, 0], dtype=int32), Array([2, 1], dtype=int32))""",
    "unique": """
        >>> print(ops.unique(np.array([3, 1, 3, 2, 1])))
        [1 2 3]""",
    "digitize": """
        >>> print(ops.digitize(np.array([0.5, 1.5, 3.0]), np.array([1.0, 2.0])))
        [0 1 2]""",
    "searchsorted": """
        >>> print(ops.searchsorted(np.array([1, 3, 5]), np.array([0, 3, 6])))
        [0 1 3]""",
    "isclose": """
        >>> print(ops.isclose(np.array([1.0, 1.1]), 1.0))
        [ True False]""",
    "allclose": """
        >>> print(ops.allclose(np.array([1.0, 2.0]), np.array([1.0, 2.0000001])))
        True""",
    "diff": """
        >>> print(ops.diff(np.array([1, 4, 9, 16])))
        [3 5 7]""",
    "copy": """
        >>> print(ops.copy(np.array([1, 2])))
        [1 2]""",
    # matrices and linear algebra
    "tril": """
        >>> print(ops.tril(np.ones((3, 3), "int32")))
        [[1 0 0]
         [1 1 0]
         [1 1 1]]""",
    "triu": """
        >>> print(ops.triu(np.ones((3, 3), "int32")))
        [[1 1 1]
         [0 1 1]
         [0 0 1]]""",
    "diag": """
        >>> print(ops.diag(np.array([1, 2])))
        [[1 0]
         [0 2]]
        >>> print(ops.diag(np.array([[1, 2], [3, 4]])))
        [1 4]""",
    "diagflat": """
        >>> print(ops.diagflat(np.array([[1, 2]])))
        [[1 0]
         [0 2]]""",
    "diagonal": """
        >>> print(ops.diagonal(np.array([[1, 2], [3, 4]]), offset=1))
        [2]""",
    "matmul": """
        >>> print(ops.matmul(np.array([[1, 2], [3, 4]]), np.array([[1], [1]])))
        [[3]
         [7]]
        >>> x = graphnet.Input(shape=(3,))
        >>> ops.matmul(x, np.ones((3, 2), "float32")).shape
        (None, 2)""",
    "dot": """
        >>> print(ops.dot(np.array([1, 2, 3]), np.array([4, 5, 6])))
        32""",
    "vdot": """
        >>> print(ops.vdot(np.array([[1, 2], [3, 4]]), np.array([[1, 1], [1, 1]])))
        10""",
    "inner": """
        >>> print(ops.inner(np.array([1, 2]), np.array([3, 4])))
        11""",
    "outer": """
        >>> print(ops.outer(np.array([1, 2]), np.array([1, 10, 100])))
        [[  1  10 100]
         [  2  20 200]]""",
    "tensordot": """
        >>> print(ops.tensordot(np.array([[1, 2], [3, 4]]), np.array([1, 1]), axes=1))
        [3 7]""",
    "einsum": """
        >>> print(ops.einsum("ij,j->i", np.array([[1, 2], [3, 4]]), np.array([1, 10])))
        [21 43]""",
    "kron": """
        >>> print(ops.kron(np.array([1, 2]), np.array([1, 10])))
        [ 1 10  2 20]""",
    "cross": """
        >>> print(ops.cross(np.array([1, 0, 0]), np.array([0, 1, 0])))
        [0 0 1]""",
    "meshgrid": """
        >>> xs, ys = ops.meshgrid(np.array([1, 2, 3]), np.array([4, 5]))
        >>> print(xs)
        [[1 2 3]
         [1 2 3]]
        >>> print(ys)
        [[4 4 4]
         [5 5 5]]""",
    "vander": """
        >>> print(ops.vander(np.array([1, 2, 3]), 3))
        [[1 1 1]
         [4 2 1]
         [9 3 1]]""",
    # creation
    "array": """
        >>> ops.array([1, 2, 3])
        Array([1, 2, 3], dtype=int32)""",
    "zeros": """
        >>> ops.zeros((2,))
        Array([0., 0.], dtype=float32)""",
    "ones": """
        >>> ops.ones((3,))
        Array([1., 1., 1.], dtype=float32)""",
    "full": """
        >>> print(ops.full((2, 2), 7))
        [[7 7]
         [7 7]]""",
    "zeros_like": """
        >>> ops.zeros_like(np.array([[1, 2]]))
        Array([[0, 0]], dtype=int32)""",
    "ones_like": """
        >>> ops.ones_like(np.array([1.5, 2.5]))
        Array([1., 1.], dtype=float32)""",
    "full_like": """
        >>> print(ops.full_like(np.array([1, 2, 3]), 7))
        [7 7 7]""",
    "empty_like": """
        >>> e = ops.empty_like(np.array([[1, 2]]))
        >>> e.shape, e.dtype
        ((1, 2), dtype('int32'))""",
    "eye": """
        >>> print(ops.eye(2, 3))
        [[1. 0. 0.]
         [0. 1. 0.]]""",
    "identity": """
        >>> print(ops.identity(2))
        [[1. 0.]
         [0. 1.]]""",
    "tri": """
        >>> print(ops.tri(2))
        [[1. 0.]
         [1. 1.]]""",
    "arange": """
        >>> ops.arange(4)
        Array([0, 1, 2, 3], dtype=int32)""",
    "linspace": """
        >>> print(ops.linspace(0.0, 1.0, 5))
        [0.   0.25 0.5  0.75 1.  ]""",
    "logspace": """
        >>> print(np.asarray(ops.logspace(0.0, 2.0, 3)).round(3))
        [  1.  10. 100.]""",
    "geomspace": """
        >>> print(np.asarray(ops.geomspace(1.0, 1000.0, 4)).round(3))
        [   1.   10.  100. 1000.]""",
}
