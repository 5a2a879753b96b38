"""Where masks travel, shown: the `mask` edge attribute of `model.graph`, the masked edges of
plot_model's pictures with their legend, and the summary's line on where masks stop."""
import graphnet as gn
from graphnet import layers


def masked_model():
    inp = gn.Input((None,), dtype="int32", name="ids")
    h = layers.Embedding(20, 4, mask_zero=True, name="embed")(inp)
    h = layers.Dense(4, name="proj")(h)
    tags = layers.Dense(3, name="tags")(h)
    vector = layers.LSTM(2, name="rnn")(h)
    return gn.Model(inp, [tags, layers.Dense(1, name="score")(vector)])


def test_the_graph_says_which_edges_carry_a_mask():
    graph = masked_model().graph
    masks = {(u, v): m for u, v, m in graph.edges(data="mask")}
    assert masks == {("ids", "embed"): None, ("embed", "proj"): (None, None),
                     ("proj", "tags"): (None, None), ("proj", "rnn"): (None, None),
                     ("rnn", "score"): None}
    rebuilt = gn.Model.from_graph(graph.copy()).graph
    assert {(u, v): m for u, v, m in rebuilt.edges(data="mask")} == masks


def test_pictures_mark_the_masked_edges_with_a_legend():
    model = masked_model()
    dot = model.to_dot()
    assert '"embed" -> "proj" [weight=3, color="#1D5FD1"' in dot
    assert '"rnn" -> "score" [weight=3];' in dot and '"ids" -> "embed" [weight=3];' in dot
    assert dot.count('color="#1D5FD1", penwidth') == 3
    assert "thick blue arrows carry a mask" in dot
    mermaid = model.to_mermaid()
    assert mermaid.count("==>") == 3 and mermaid.count("-->") == 2
    assert "linkStyle 1,2,3 stroke:#1D5FD1" in mermaid
    plain = gn.Sequential([gn.Input((3,)), layers.Dense(2)])
    assert "mask" not in plain.to_dot() and "==>" not in plain.to_mermaid()


def test_the_summary_says_where_masks_stop(capsys):
    masked_model().summary()
    gn.Sequential([gn.Input((3,)), layers.Dense(2)]).summary()
    masked, plain = capsys.readouterr().out.split('Model: "sequential')
    assert "\nMasks: made by embed; stop at rnn; weight the loss of tags\n" in masked
    assert "Masks" not in plain
