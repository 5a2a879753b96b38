"""Every user mistake graphnet can see is an ordinary exception naming who and what."""
import jax.numpy as jnp
import numpy as np
import pytest

import graphnet as gn
from graphnet import layers


def two_input_model():
    a, b = gn.Input((3,), name="a"), gn.Input((2,), name="b")
    return gn.Model([a, b], layers.Dense(1, name="out")(layers.Concatenate()([a, b])), name="two")


# ---- at a layer call -------------------------------------------------------------------------
def test_shape_mismatch_at_a_symbolic_call():
    dense = layers.Dense(4, name="proj")
    dense(gn.Input((3,)))
    with pytest.raises(ValueError, match=r"Dense 'proj' expects input shape \(\.\.\., 3\), "
                                         r"received \(None, 5\)"):
        dense(gn.Input((5,)))


def test_shape_mismatch_at_an_eager_call():
    dense = layers.Dense(4, name="eager")
    dense(np.ones((2, 3), "float32"))
    with pytest.raises(ValueError, match=r"Dense 'eager' expects input shape \(\.\.\., 3\), "
                                         r"received \(None, 7\)"):
        dense(np.ones((2, 7), "float32"))


def test_dense_needs_a_known_last_axis_and_rank_two():
    with pytest.raises(ValueError, match=r"Dense 'var': the last axis of its input must be known"):
        layers.Dense(2, name="var")(gn.Input((None,)))
    with pytest.raises(ValueError, match=r"Dense 'flat' expects an input of rank >= 2"):
        layers.Dense(2, name="flat")(gn.Input(()))


def test_a_layer_without_output_shape_names_itself_when_tracing_fails():
    bad = layers.Lambda(lambda t: t @ jnp.ones((5, 2)), name="matmul")
    with pytest.raises(ValueError, match=r"Layer 'matmul' \(Lambda\) cannot be applied to inputs "
                                         r"of shape \(None, 3\)"):
        bad(gn.Input((3,)))


def test_merge_of_incompatible_shapes():
    with pytest.raises(ValueError, match=r"Add 'bad_add' expects inputs of the same shape, "
                                         r"received \(None, 3\), \(None, 2\)"):
        layers.Add(name="bad_add")([gn.Input((3,)), gn.Input((2,))])
    with pytest.raises(ValueError, match=r"Concatenate 'bad_cat' expects inputs that match"):
        layers.Concatenate(name="bad_cat", axis=1)([gn.Input((3, 2)), gn.Input((3, 4))])


def test_symbolic_and_array_mixed_in_one_call():
    with pytest.raises(TypeError, match="Layer 'mix' received both symbolic tensors and an array"):
        layers.Add(name="mix")([gn.Input((3,)), np.ones((1, 3), "float32")])


def test_symbolic_tensor_has_no_values():
    x = gn.Input((3,))
    with pytest.raises(TypeError, match="is symbolic: it has a shape but no values"):
        np.asarray(x)
    with pytest.raises(TypeError, match="no truth value"):
        bool(x)


# ---- building a model -------------------------------------------------------------------------
def test_output_not_reachable_from_the_inputs():
    a, orphan = gn.Input((3,), name="a"), gn.Input((3,), name="orphan")
    out = layers.Dense(1, name="head")(orphan)
    with pytest.raises(ValueError, match=r"Model 'm': output 'head' depends on input 'orphan', "
                                         r"which is not among the model's inputs \['a'\]"):
        gn.Model(a, out, name="m")


def test_model_needs_inputs_and_outputs():
    with pytest.raises(TypeError, match="needs inputs= and outputs="):
        gn.Model()
    with pytest.raises(ValueError, match="inputs is an empty list"):
        gn.Model([], gn.Input((2,)))


# ---- feeding a model --------------------------------------------------------------------------
def test_an_input_not_passed():
    model = two_input_model()
    with pytest.raises(ValueError, match=r"predict 'two': input\(s\) \['b'\] were not passed; "
                                         r"expected \['a', 'b'\]"):
        model.predict({"a": np.ones((1, 3))})


def test_unknown_input_name():
    model = two_input_model()
    with pytest.raises(ValueError, match=r"unknown input name\(s\) \['c'\]; the model's inputs "
                                         r"are \['a', 'b'\]"):
        model.predict({"a": np.ones((1, 3)), "b": np.ones((1, 2)), "c": np.ones((1, 1))})


def test_wrong_number_of_inputs():
    model = two_input_model()
    with pytest.raises(ValueError, match=r"predict 'two' expects 2 input\(s\) \['a', 'b'\], "
                                         r"received a list of 3"):
        model.predict([np.ones((1, 3))] * 3)
    with pytest.raises(ValueError, match=r"Model call 'two' expects 2 inputs \['a', 'b'\] as a "
                                         r"list or dict, received one ndarray"):
        model(np.ones((1, 3)))


def test_wrong_shape_to_predict_and_call():
    model = two_input_model()
    with pytest.raises(ValueError, match=r"predict: input 'b' of model 'two' expects shape "
                                         r"\(None, 2\), received \(4, 5\)"):
        model.predict([np.ones((4, 3)), np.ones((4, 5))])
    with pytest.raises(ValueError, match=r"Model call: input 'a' of model 'two' expects shape "
                                         r"\(None, 3\), received \(3,\)"):
        model([np.ones(3), np.ones((1, 2))])


def test_different_sample_counts():
    model = two_input_model()
    with pytest.raises(ValueError, match=r"different numbers of samples \{'a': 4, 'b': 5\}"):
        model.predict([np.ones((4, 3)), np.ones((5, 2))])


def test_non_numeric_data():
    model = two_input_model()
    with pytest.raises(TypeError, match=r"predict: input 'a' of model 'two' must be numeric, "
                                        r"received an array of dtype <U"):
        model.predict([np.array([["x", "y", "z"]]), np.ones((1, 2))])
    with pytest.raises(ValueError, match=r"input 'a' of model 'two' must be a numeric array of "
                                         r"shape \(None, 3\)"):
        model.predict([[[1, 2, 3], [1, 2]], np.ones((2, 2))])


def test_predict_batch_size_and_empty_input():
    model = two_input_model()
    with pytest.raises(ValueError, match="batch_size must be a positive int, received 0"):
        model.predict([np.ones((1, 3)), np.ones((1, 2))], batch_size=0)
    with pytest.raises(ValueError, match="received 0 samples"):
        model.predict([np.ones((0, 3)), np.ones((0, 2))])


def test_params_missing_a_layer():
    model = two_input_model()
    with pytest.raises(KeyError, match="Model 'two': params have no entry for layer"):
        model.params = {}


def test_apply_with_params_or_state_of_another_model():
    model = two_input_model()
    x = [np.ones((1, 3), "float32"), np.ones((1, 2), "float32")]
    with pytest.raises(KeyError, match=r"apply: model 'two' state have no entry for layer\(s\) "
                                       r"\['concatenate.*', 'out'\]; pass model.state"):
        model.apply(model.params, {}, x)
    with pytest.raises(KeyError, match=r"apply: model 'two' params have no entry"):
        model.apply({"out": {}}, model.state, x)


def test_model_call_rejects_unknown_keywords():
    model = two_input_model()
    with pytest.raises(TypeError, match=r"Model 'two' got unexpected keyword argument\(s\) \['masks'\]"):
        model([np.ones((1, 3)), np.ones((1, 2))], masks=None)     # Keras's `mask=` is taken


# ---- names and arguments ---------------------------------------------------------------------
def test_unknown_strings_list_the_valid_ones():
    with pytest.raises(ValueError, match=r"Unknown activation 'rleu'; valid activations are: .*relu"):
        layers.Dense(2, activation="rleu")
    with pytest.raises(ValueError, match=r"Unknown initializer 'glorot'; valid initializers are: "):
        layers.Dense(2, kernel_initializer="glorot")
    with pytest.raises(ValueError, match=r"Unknown regularizer 'l3'; valid regularizers are: .*l1.*l2"):
        layers.Dense(2, kernel_regularizer="l3")


@pytest.mark.parametrize("make", [lambda: layers.Dense(3, units2=4), lambda: layers.Dropout(0.1, rat=2),
                                  lambda: layers.Add(axis=1), lambda: gn.Model(gn.Input((1,)), gn.Input((1,)), foo=1)])
def test_unexpected_constructor_keywords(make):
    with pytest.raises(TypeError, match=r"\(\) got unexpected keyword argument\(s\) \["):
        make()


def test_bad_constructor_values():
    with pytest.raises(ValueError, match="Dense 'd0': units must be a positive int, received 0"):
        layers.Dense(0, name="d0")
    with pytest.raises(TypeError, match="name must be a string"):
        layers.Dense(2, name=3)
    with pytest.raises(TypeError, match=r"Input 'bad_shape': a shape must be a tuple of "
                                        r"non-negative ints or None, received \(2, -1\)"):
        gn.Input((2, -1), name="bad_shape")
    with pytest.raises(ValueError, match="Input needs shape="):
        gn.Input()


def test_set_weights_before_build():
    with pytest.raises(ValueError, match="Layer 'fresh' has no weights yet: call it"):
        layers.Dense(2, name="fresh").set_weights([np.ones((2, 2))])


@pytest.mark.parametrize("make", [lambda gn_or_keras: gn_or_keras.layers.Dense(2, name="a/b"),
                                  lambda gn_or_keras: gn_or_keras.Input((3,), name="x/y"),
                                  lambda gn_or_keras: gn_or_keras.Sequential(name="s/t")])
def test_a_slash_in_a_layer_name_is_refused_as_keras_refuses_it(make):
    keras = pytest.importorskip("keras")
    with pytest.raises(ValueError, match="cannot contain character `/`"):
        make(keras)
    with pytest.raises(ValueError, match=r"cannot contain the character '/'.*received name='\w/\w'"):
        make(gn)
