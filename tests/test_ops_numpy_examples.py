"""The examples of the NumPy-named ops (graphnet/ops/numpy_examples*.py): one for each op of
both tables, none for an op that is not there, and each in its op's docstring. Running them
is tests/test_docstrings.py's job."""
import graphnet
from graphnet import ops
from graphnet.ops import numpy_examples

TABLES = {**ops._NUMPY_SAME, **ops._arrays._SAME}


def test_every_numpy_named_op_has_an_example():
    missing = sorted(set(TABLES) - set(numpy_examples.EXAMPLES))
    assert not missing, f"add an example to graphnet/ops/numpy_examples*.py for {missing}"


def test_every_example_and_note_names_a_numpy_named_op():
    unknown = sorted((set(numpy_examples.EXAMPLES) | set(numpy_examples.NOTES)) - set(TABLES))
    assert not unknown, f"no NumPy-named op is called {unknown}"


def test_the_two_example_tables_do_not_overlap():
    from graphnet.ops import numpy_examples_arrays
    both = set(numpy_examples.ELEMENTWISE_EXAMPLES) & set(numpy_examples_arrays.ARRAY_EXAMPLES)
    assert not both, f"two examples for {sorted(both)}"


def test_each_example_calls_its_own_op_and_shows_an_output():
    for name, example in numpy_examples.EXAMPLES.items():
        lines = [line.strip() for line in example.strip().splitlines()]
        assert lines[0].startswith(">>> ") and f"ops.{name}(" in example, name
        assert not lines[-1].startswith(">>>"), f"the example of {name} shows no output"


def test_the_docstring_keeps_its_first_line_then_the_example():
    doc = ops.amax.__doc__
    assert doc.splitlines()[0] == "Keras `ops.amax` (as `jax.numpy.max`)."
    assert "Keras's other name for `max`." in doc
    assert "Examples:\n    >>> print(ops.amax(" in doc
    assert graphnet.ops.numpy.sum.__doc__ == ops.sum.__doc__


def test_an_op_without_an_entry_keeps_the_one_line():
    assert numpy_examples.docstring("nothing", "nothing") == (
        "Keras `ops.nothing` (as `jax.numpy.nothing`).")
