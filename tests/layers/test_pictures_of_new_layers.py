"""Every newer catalogue layer draws: one model through them, as SVG, DOT and Mermaid."""
import xml.etree.ElementTree as ET

import graphnet as gn
from graphnet import layers


def test_new_layers_appear_in_every_picture(tmp_path):
    image = gn.Input((8, 8, 3), name="image")
    x = layers.Rescaling(1 / 255)(image)
    x = layers.RandomFlip()(x)
    x = layers.RandomRotation(0.1)(x)
    x = layers.RandomZoom(0.1)(x)
    x = layers.RandomTranslation(0.1, 0.1)(x)
    x = layers.RandomContrast(0.1)(x)
    x = layers.ZeroPadding2D(1)(x)
    x = layers.Cropping2D(1)(x)
    x = layers.UpSampling2D()(x)
    x = layers.Conv2D(4, 3)(x)
    x = layers.PReLU()(x)
    x = layers.SpatialDropout2D(0.1)(x)
    x = layers.MaxPool2D()(x)
    x = layers.Reshape((7 * 7, 4))(x)
    seq = layers.Masking()(x)
    seq = layers.TimeDistributed(layers.Dense(4))(seq)
    seq = layers.Attention()([seq, seq])
    seq = layers.AdditiveAttention()([seq, seq])
    seq = layers.UpSampling1D()(seq)
    seq = layers.ZeroPadding1D()(seq)
    seq = layers.Cropping1D()(seq)
    seq = layers.SpatialDropout1D(0.1)(seq)
    seq = layers.Conv1DTranspose(4, 2)(seq)
    v = layers.GlobalAvgPool1D()(seq)
    v = layers.GaussianNoise(0.1)(v)
    v = layers.GaussianDropout(0.1)(v)
    v = layers.Normalization(mean=0.0, variance=1.0)(v)
    v = layers.ReLU()(v)
    v = layers.LeakyReLU()(v)
    v = layers.ELU()(v)
    out = layers.Softmax()(layers.Dense(3)(v))
    model = gn.Model(image, out)
    names = {type(layer).__name__ for layer in model.layers} - {"InputLayer"}
    gn.plot_model(model, tmp_path / "m.svg")
    svg = (tmp_path / "m.svg").read_text()
    ET.fromstring(svg)                      # well-formed
    for text in (svg, model.to_dot(), model.to_mermaid()):
        missing = [n for n in names if n not in text]
        assert not missing, missing
