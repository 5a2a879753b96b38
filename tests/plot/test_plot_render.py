"""SVG and PNG pictures rendered by graphviz-pure: content, geometry, and no system `dot`."""
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from plot_helpers import parse_svg, shared_encoder, siamese, two_branch

import graphnet as gn
from graphnet import layers
from graphnet.layers.base import shape_str
from graphnet.plot import render

ROOT = Path(__file__).resolve().parents[2]


def svg_of(model, **options):
    return render.render(model.to_dot(**options), "svg")


def overlapping(boxes):
    items = sorted(boxes.items())
    return [(a, b) for i, (a, (x0, y0, x1, y1)) in enumerate(items) for b, (u0, v0, u1, v1) in items[i + 1:]
            if x0 < u1 - 0.5 and u0 < x1 - 0.5 and y0 < v1 - 0.5 and v0 < y1 - 0.5]


def test_svg_shows_every_layer_name_and_output_shape_in_its_box(book_model):
    nodes, _ = parse_svg(svg_of(book_model))
    assert set(nodes) == set(book_model.graph.nodes)
    for key, data in book_model.graph.nodes(data=True):
        texts = nodes[key][0]
        assert data["layer"].name in texts, (key, texts)
        out = ", ".join(shape_str(t.shape) for t in data["outputs"])
        assert texts[-1].endswith(out), (key, texts, out)
        assert type(data["layer"]).__name__ in texts or "Input" in texts


def test_svg_boxes_do_not_overlap(book_model):
    nodes, _ = parse_svg(svg_of(book_model, show_layer_activations=True, show_dtype=True))
    assert not overlapping({k: v[1] for k, v in nodes.items()})


def test_wide_model_boxes_do_not_overlap_in_either_direction():
    x = gn.Input((8,), name="x")
    branches = [layers.Dense(4, name=f"branch_with_a_long_name_{i}")(x) for i in range(12)]
    model = gn.Model(x, layers.Concatenate(name="cat")(branches))
    for rankdir in ("TB", "LR"):
        nodes, _ = parse_svg(svg_of(model, rankdir=rankdir))
        assert len(nodes) == 14
        assert not overlapping({k: v[1] for k, v in nodes.items()})


def center(box):
    x0, y0, x1, y1 = box
    return (x0 + x1) / 2, (y0 + y1) / 2


@pytest.mark.parametrize("rankdir, rank_axis", [("TB", 1), ("LR", 0)])
def test_two_branches_sit_side_by_side(rankdir, rank_axis):
    nodes, _ = parse_svg(svg_of(two_branch(), rankdir=rankdir))
    a, b = center(nodes["relu_branch"][1]), center(nodes["tanh_branch"][1])
    assert abs(a[rank_axis] - b[rank_axis]) < 1.0          # same rank
    assert abs(a[1 - rank_axis] - b[1 - rank_axis]) > 50   # side by side
    top, bottom = center(nodes["pixels"][1]), center(nodes["trunk"][1])
    assert top[rank_axis] < a[rank_axis] < bottom[rank_axis]


def test_inputs_and_outputs_look_different_from_inner_layers():
    nodes, _ = parse_svg(svg_of(two_branch()))
    fills = {k: v[2] for k, v in nodes.items()}
    assert fills["digit"] == fills["big"]
    assert len({fills["pixels"], fills["trunk"], fills["digit"]}) == 3


def test_shared_layer_drawn_once_per_call_with_its_name_and_marked():
    model = siamese()
    nodes, _ = parse_svg(svg_of(model))
    assert {"shared_dense", "shared_dense@1"} <= set(nodes)
    for key, call in (("shared_dense", 1), ("shared_dense@1", 2)):
        texts = nodes[key][0]
        assert "shared_dense" in texts
        assert f"shared · call {call} of 2" in texts
    assert not any("shared ·" in t for t in nodes["merge"][0])


def test_nested_model_is_one_box_unless_expanded_into_a_cluster_per_call():
    model = shared_encoder()
    nodes, clusters = parse_svg(svg_of(model))
    assert clusters == {}
    assert {"encoder", "encoder@1"} <= set(nodes)
    assert "enc_hidden" not in str(nodes)

    nodes, clusters = parse_svg(svg_of(model, expand_nested=True))
    assert set(clusters) == {"cluster_encoder", "cluster_encoder@1"}
    assert "encoder" not in nodes
    for prefix, cluster in (("encoder/", "cluster_encoder"), ("encoder@1/", "cluster_encoder@1")):
        cx0, cy0, cx1, cy1 = clusters[cluster][1]
        for inner in ("enc_hidden", "code"):
            x0, y0, x1, y1 = nodes[prefix + inner][1]
            assert cx0 <= x0 and cy0 <= y0 and x1 <= cx1 and y1 <= cy1
    assert not overlapping({k: v[1] for k, v in nodes.items()})


def test_names_with_markup_characters_are_escaped():
    x = gn.Input((3,), name='in "quoted" <x> & y')
    model = gn.Model(x, layers.Dense(2, name="out\\<b>")(x))
    nodes, _ = parse_svg(svg_of(model))
    assert 'in "quoted" <x> & y' in nodes['in "quoted" <x> & y'][0]
    assert "out\\<b>" in nodes["out\\<b>"][0]


def test_png_is_rendered_without_any_dot_on_path(tmp_path):
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    marker = tmp_path / "called"
    for name in ("dot", "graphviz-pure"):
        script = fake_bin / name
        script.write_text(f"#!/bin/sh\ntouch {marker}\nexit 1\n")
        script.chmod(0o755)
    target = tmp_path / "model.png"
    code = textwrap.dedent(f"""
        import shutil, sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        assert shutil.which("dot") == {str(fake_bin / 'dot')!r}
        import graphnet as gn
        from plot_helpers import two_branch
        gn.plot_model(two_branch(), {str(target)!r}, dpi=96)
    """)
    env = {"PATH": str(fake_bin), "PYTHONPATH": str(ROOT), "JAX_PLATFORMS": "cpu",
           "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert not marker.exists()
    data = target.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    from PIL import Image
    with Image.open(target) as image:
        image.load()
        width, height = image.size
        colors = image.convert("RGB").getcolors(maxcolors=1 << 20)
    assert 200 < width < 2000 and 200 < height < 2000, (width, height)
    assert len(colors) > 10   # drawn, not blank


def test_png_size_follows_dpi(tmp_path):
    from PIL import Image
    model = siamese()
    sizes = []
    for dpi in (72, 144):
        gn.plot_model(model, tmp_path / f"m{dpi}.png", dpi=dpi)
        with Image.open(tmp_path / f"m{dpi}.png") as image:
            sizes.append(image.size)
    assert abs(sizes[1][0] / sizes[0][0] - 2) < 0.05


def test_two_hundred_layer_model_renders(tmp_path):
    x = inputs = gn.Input((8,), name="x")
    for i in range(100):
        h = layers.Dense(8, activation="relu", name=f"dense_{i}")(x)
        x = layers.Add(name=f"add_{i}")([x, h])
    model = gn.Model(inputs, x)
    assert len(model.graph) == 201
    start = time.perf_counter()
    gn.plot_model(model, tmp_path / "deep.svg")
    seconds = time.perf_counter() - start
    print(f"\n200-layer residual model to SVG in {seconds:.2f} s")
    nodes, _ = parse_svg((tmp_path / "deep.svg").read_bytes())
    assert len(nodes) == 201
    assert not overlapping({k: v[1] for k, v in nodes.items()})


def test_renderer_is_the_packaged_program_not_one_on_path():
    exe = render.executable()
    assert exe.name.startswith("graphviz-pure")
    assert os.access(exe, os.X_OK)
    assert Path(sys.prefix).resolve() in exe.parents or Path(sys.base_prefix).resolve() in exe.parents


def test_render_reports_bad_dot_and_format():
    with pytest.raises(RuntimeError, match="graphviz-pure"):
        render.render("digraph { a -> }", "svg")
    with pytest.raises(ValueError, match="svg"):
        render.render("digraph { a }", "pdf")


def test_svg_lines_are_placed_by_the_viewer_centred_on_their_box():
    """A viewer without Helvetica draws the runs of a line one after another in its own font
    (one `<text>` per line, a `<tspan>` per run), centred on the box, so they never overlap;
    the box has room for a wide font (0.62 em per character at the label's 12 pt)."""
    import xml.etree.ElementTree as ET

    from plot_helpers import SVG, bounds
    x = gn.Input((8,), name="a_rather_long_input_name")
    model = gn.Model(x, layers.Dense(4, name="w" * 30)(x))
    root = ET.fromstring(svg_of(model))
    nodes = [g for g in root.iter(f"{SVG}g") if g.get("class") == "node"]
    assert len(nodes) == 2
    for node in nodes:
        x0, _, x1, _ = bounds(node.find(f"{SVG}path").get("d"))
        lines = list(node.iter(f"{SVG}text"))
        assert len(lines) == 2                               # name and type; shapes
        assert len({line.get("y") for line in lines}) == 2
        for line in lines:
            assert line.get("text-anchor") == "middle"
            assert float(line.get("x")) == pytest.approx((x0 + x1) / 2, abs=0.01)
        head = "".join(s.text for s in lines[0].iter(f"{SVG}tspan"))
        assert x1 - x0 >= 0.62 * 12 * len(head.strip()), (head, x1 - x0)
