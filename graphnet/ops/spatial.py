"""Keras's neural-network ops on images and sequences beyond convolution and pooling:
transposed convolution, pixel shuffles, adaptive pooling, patches (`unfold`/`fold`) and
CTC."""
from __future__ import annotations

import jax.numpy as jnp
import optax
from jax import lax

from .. import _conv
from .recording import op as _op
from .recording import public_names


def _channels_last(data_format, who):
    _conv.channels_last_only(data_format, f"ops.{who}")


@_op
def conv_transpose(inputs, kernel, strides=1, padding="valid", output_padding=None,
                   data_format=None, dilation_rate=1):
    """Keras `ops.conv_transpose`: the transpose of `conv` (upsampling), channels last, kernel
    `(*spatial, out, in)` as Keras's ConvTranspose layers hold it, output size as Keras
    computes it.

    Args:
        inputs: `(batch, *spatial, in_channels)`, 1 to 3 spatial axes.
        kernel: `(*kernel_spatial, out_channels, in_channels)`.
        strides: the upsampling factor, an int or one per spatial axis.
        padding: "valid" (output length `(n - 1) * stride + kernel`, or `n * stride` when
            the kernel is shorter than the stride) or "same" (`n * stride`).
        output_padding: extra length added at the end of each spatial axis, less than the
            stride; None infers it from `padding`.
        data_format: "channels_last" or None; "channels_first" is not supported.
        dilation_rate: the spacing of the kernel's taps, an int or one per spatial axis.

    Raises:
        ValueError: the kernel's last axis is not the input channels.
        NotImplementedError: `data_format="channels_first"`.

    Examples:
        >>> x = np.array([1.0, 2.0], "float32").reshape(1, 2, 1)      # (batch, width, channels)
        >>> y = ops.conv_transpose(x, np.ones((2, 1, 1), "float32"), strides=2)
        >>> print(np.asarray(y)[0, :, 0])          # each input copied into a window of 2
        [1. 1. 2. 2.]
        >>> images, kernel = graphnet.Input(shape=(4, 4, 3)), np.ones((3, 3, 8, 3), "float32")
        >>> ops.conv_transpose(images, kernel, strides=2, padding="same").shape
        (None, 8, 8, 8)
    """
    _channels_last(data_format, "conv_transpose")
    inputs, kernel = jnp.asarray(inputs), jnp.asarray(kernel)
    if kernel.shape[-1] != inputs.shape[-1]:
        raise ValueError(f"ops.conv_transpose: the kernel's last axis ({kernel.shape[-1]}) must "
                         f"equal the input channels ({inputs.shape[-1]})")
    return _conv.conv_transpose(inputs, kernel, strides, padding, output_padding,
                                dilation_rate)


def _blocks_layout(data_format, who):
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"ops.{who}: data_format must be 'channels_last' or 'channels_first', "
                         f"received {data_format!r}")
    return data_format == "channels_first"


@_op
def depth_to_space(x, block_size, data_format="channels_last"):
    """Keras `ops.depth_to_space`: each pixel's channels as a `block_size` x `block_size`
    block of pixels (pixel shuffle).

    Args:
        x: images `(batch, height, width, channels)`, channels a multiple of
            `block_size ** 2`.
        block_size: the side of each block, an int.
        data_format: "channels_last" or "channels_first" (`(batch, channels, height,
            width)`).

    Returns:
        Images `(batch, height * block_size, width * block_size, channels / block_size ** 2)`
        (channels first if so given).

    Raises:
        ValueError: `data_format` is neither "channels_last" nor "channels_first".

    Examples:
        >>> x = np.arange(4.0, dtype="float32").reshape(1, 1, 1, 4)   # one pixel, 4 channels
        >>> y = ops.depth_to_space(x, 2)
        >>> y.shape
        (1, 2, 2, 1)
        >>> print(np.asarray(y)[0, :, :, 0])
        [[0. 1.]
         [2. 3.]]
        >>> ops.depth_to_space(graphnet.Input(shape=(3, 3, 8)), 2).shape
        (None, 6, 6, 2)
    """
    first = _blocks_layout(data_format, "depth_to_space")
    x = jnp.asarray(x)
    if first:
        x = jnp.moveaxis(x, 1, -1)
    n, h, w, c = x.shape
    b = block_size
    y = x.reshape(n, h, w, b, b, c // (b * b)).transpose(0, 1, 3, 2, 4, 5)
    y = y.reshape(n, h * b, w * b, c // (b * b))
    return jnp.moveaxis(y, -1, 1) if first else y


@_op
def space_to_depth(x, block_size, data_format="channels_last"):
    """Keras `ops.space_to_depth`: each `block_size` x `block_size` block of pixels as one
    pixel's channels (the inverse of `depth_to_space`).

    Args:
        x: images `(batch, height, width, channels)`, height and width multiples of
            `block_size`.
        block_size: the side of each block, an int.
        data_format: "channels_last" or "channels_first" (`(batch, channels, height,
            width)`).

    Returns:
        Images `(batch, height / block_size, width / block_size, channels * block_size ** 2)`
        (channels first if so given).

    Raises:
        ValueError: `data_format` is neither "channels_last" nor "channels_first".

    Examples:
        >>> x = np.arange(4.0, dtype="float32").reshape(1, 2, 2, 1)   # a 2 x 2 image
        >>> y = ops.space_to_depth(x, 2)
        >>> y.shape, np.asarray(y).ravel().tolist()
        ((1, 1, 1, 4), [0.0, 1.0, 2.0, 3.0])
    """
    first = _blocks_layout(data_format, "space_to_depth")
    x = jnp.asarray(x)
    if first:
        x = jnp.moveaxis(x, 1, -1)
    n, h, w, c = x.shape
    b = block_size
    y = x.reshape(n, h // b, b, w // b, b, c).transpose(0, 1, 3, 2, 4, 5)
    y = y.reshape(n, h // b, w // b, c * b * b)
    return jnp.moveaxis(y, -1, 1) if first else y


def _adaptive(inputs, output_size, data_format, reduce, who):
    _channels_last(data_format, who)
    x = jnp.asarray(inputs)
    rank = x.ndim - 2
    if not 1 <= rank <= 3:
        raise ValueError(f"ops.{who}: expects 1 to 3 spatial axes, received shape {x.shape}")
    sizes = _conv.as_tuple(output_size, rank)
    for axis, out in zip(range(1, rank + 1), sizes):
        length = x.shape[axis]
        # window i covers [floor(i L / out), ceil((i + 1) L / out)), as PyTorch and Keras
        pieces = [reduce(lax.slice_in_dim(x, (i * length) // out,
                                          -(-((i + 1) * length) // out), axis=axis),
                         axis=axis, keepdims=True) for i in range(out)]
        x = jnp.concatenate(pieces, axis=axis)
    return x


@_op
def adaptive_average_pool(inputs, output_size, data_format=None):
    """Keras `ops.adaptive_average_pool`: the mean over windows sized so that the output has
    `output_size` (channels last).

    Window `i` of an axis of length `L` pooled to `n` covers `[floor(i L / n), ceil((i + 1) L /
    n))`: windows may overlap and differ in size, as in Keras and PyTorch.

    Args:
        inputs: `(batch, *spatial, channels)`, 1 to 3 spatial axes.
        output_size: the output's spatial shape, an int (every axis) or one per axis.
        data_format: "channels_last" or None; "channels_first" is not supported.

    Raises:
        ValueError: `inputs` has no 1 to 3 spatial axes.
        NotImplementedError: `data_format="channels_first"`.

    Examples:
        >>> x = np.array([1.0, 3.0, 2.0, 6.0, 4.0], "float32").reshape(1, 5, 1)
        >>> print(np.asarray(ops.adaptive_average_pool(x, 2)).ravel())  # [1 3 2], [2 6 4]
        [2. 4.]
        >>> ops.adaptive_average_pool(graphnet.Input(shape=(7, 9, 3)), (2, 3)).shape
        (None, 2, 3, 3)
    """
    return _adaptive(inputs, output_size, data_format, jnp.mean, "adaptive_average_pool")


@_op
def adaptive_max_pool(inputs, output_size, data_format=None):
    """Keras `ops.adaptive_max_pool`: the maximum over windows sized so that the output has
    `output_size` (channels last).

    The windows are those of `adaptive_average_pool`.

    Args:
        inputs: `(batch, *spatial, channels)`, 1 to 3 spatial axes.
        output_size: the output's spatial shape, an int (every axis) or one per axis.
        data_format: "channels_last" or None; "channels_first" is not supported.

    Raises:
        ValueError: `inputs` has no 1 to 3 spatial axes.
        NotImplementedError: `data_format="channels_first"`.

    Examples:
        >>> x = np.array([1.0, 3.0, 2.0, 6.0, 4.0], "float32").reshape(1, 5, 1)
        >>> print(np.asarray(ops.adaptive_max_pool(x, 2)).ravel())      # [1 3 2], [2 6 4]
        [3. 6.]
        >>> ops.adaptive_max_pool(graphnet.Input(shape=(8, 8, 3)), 2).shape
        (None, 2, 2, 3)
    """
    return _adaptive(inputs, output_size, data_format, jnp.max, "adaptive_max_pool")


def _two(value):
    return (value, value) if isinstance(value, int) else tuple(value)


def _patch_grid(spatial, kernel, dilation, padding, stride):
    return tuple((size + 2 * p - d * (k - 1) - 1) // s + 1
                 for size, k, d, p, s in zip(spatial, kernel, dilation, padding, stride))


@_op
def unfold(x, kernel_size, dilation=1, padding=0, stride=1):
    """Keras `ops.unfold`: the sliding blocks of a channels-first image `(N, C, H, W)` as
    columns `(N, C * kH * kW, blocks)` (PyTorch's layout, as Keras).

    Row `c * kH * kW + i * kW + j` holds kernel tap `(i, j)` of channel `c`; the blocks are
    in row-major order.

    Args:
        x: images `(N, C, H, W)`.
        kernel_size: the block's `(kH, kW)`, or one int for both.
        dilation: the spacing between a block's taps, an int or a pair.
        padding: zeros added on each side of `H` and `W`, an int or a pair.
        stride: the step between blocks, an int or a pair.

    Raises:
        ValueError: `x` does not have 4 axes.

    Examples:
        >>> image = np.arange(9.0, dtype="float32").reshape(1, 1, 3, 3)
        >>> columns = ops.unfold(image, 2)           # 4 blocks of 2 x 2
        >>> print(np.asarray(columns)[0])            # column k: block k's 4 values
        [[0. 1. 3. 4.]
         [1. 2. 4. 5.]
         [3. 4. 6. 7.]
         [4. 5. 7. 8.]]
    """
    x = jnp.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"ops.unfold: expects (N, C, H, W), received shape {x.shape}")
    k, d, p, s = _two(kernel_size), _two(dilation), _two(padding), _two(stride)
    n, c = x.shape[:2]
    x = jnp.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))
    oh, ow = _patch_grid(x.shape[2:], k, d, (0, 0), s)
    patches = [x[:, :, i * d[0]:i * d[0] + s[0] * (oh - 1) + 1:s[0],
                 j * d[1]:j * d[1] + s[1] * (ow - 1) + 1:s[1]]
               for i in range(k[0]) for j in range(k[1])]
    return jnp.stack(patches, axis=2).reshape(n, c * k[0] * k[1], oh * ow)


@_op
def fold(x, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Keras `ops.fold`: columns `(N, C * kH * kW, blocks)` summed back into an image
    `(N, C, H, W)` (overlapping entries add up), the inverse layout of `unfold`.

    Args:
        x: columns `(N, C * kH * kW, blocks)`, as `unfold` makes them.
        output_size: the image's `(H, W)`, or one int for both.
        kernel_size: the block's `(kH, kW)`, or one int for both.
        dilation: the spacing between a block's taps, an int or a pair.
        padding: the padding `unfold` added on each side, cut off again.
        stride: the step between blocks, an int or a pair.

    Raises:
        ValueError: `x` does not have 3 axes.

    Examples:
        >>> ones = ops.unfold(np.ones((1, 1, 3, 3), "float32"), 2)
        >>> print(np.asarray(ops.fold(ones, (3, 3), 2))[0, 0])   # how many blocks cover each pixel
        [[1. 2. 1.]
         [2. 4. 2.]
         [1. 2. 1.]]
    """
    x = jnp.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"ops.fold: expects (N, C * kH * kW, blocks), received shape "
                         f"{x.shape}")
    size, k, d = _two(output_size), _two(kernel_size), _two(dilation)
    p, s = _two(padding), _two(stride)
    n, ckk, _ = x.shape
    c = ckk // (k[0] * k[1])
    oh, ow = _patch_grid(size, k, d, p, s)
    blocks = x.reshape(n, c, k[0] * k[1], oh, ow)
    out = jnp.zeros((n, c, size[0] + 2 * p[0], size[1] + 2 * p[1]), x.dtype)
    for i in range(k[0]):
        for j in range(k[1]):
            out = out.at[:, :, i * d[0]:i * d[0] + s[0] * (oh - 1) + 1:s[0],
                         j * d[1]:j * d[1] + s[1] * (ow - 1) + 1:s[1]].add(
                blocks[:, :, i * k[1] + j])
    return out[:, :, p[0]:p[0] + size[0], p[1]:p[1] + size[1]]


@_op
def ctc_loss(target, output, target_length, output_length, mask_index=0):
    """Keras `ops.ctc_loss`: per sample, the CTC loss of integer `target` (batch, max_len)
    against logits `output` (batch, time, classes), each cut to its length; `mask_index` is
    the blank class.

    The loss is `-log` of the total probability of every alignment of the target: blanks
    anywhere, each label repeated over consecutive steps. With 2 steps of probabilities
    (blank, "1") = (0.1, 0.9) then (0.9, 0.1), the target "1" has the alignments "1 1", "1
    blank" and "blank 1": the loss is `-log(0.09 + 0.81 + 0.01) = 0.094`.

    Args:
        target: the labels, integers `(batch, max_len)`.
        output: logits `(batch, time, classes)` (a softmax is applied over classes).
        target_length: each target's length, `(batch,)`.
        output_length: each output's number of valid steps, `(batch,)`.
        mask_index: the blank class.

    Returns:
        The losses, shape `(batch,)`, float32 at least.

    Examples:
        >>> target = graphnet.Input(shape=(3,), dtype="int32")        # up to 3 labels
        >>> logits = graphnet.Input(shape=(10, 5))                    # 10 steps, 5 classes
        >>> lengths = graphnet.Input(shape=(), dtype="int32")
        >>> ops.ctc_loss(target, logits, lengths, lengths).shape      # one loss per sample
        (None,)
    """
    output = jnp.asarray(output)
    output = output.astype(jnp.promote_types(output.dtype, jnp.float32))
    target = jnp.asarray(target).astype(jnp.int32)

    def paddings(lengths, size):
        return (jnp.arange(size)[None, :] >= jnp.asarray(lengths)[:, None]).astype(output.dtype)
    return optax.ctc_loss(output, paddings(output_length, output.shape[1]), target,
                          paddings(target_length, target.shape[1]), blank_id=mask_index)


@_op
def ctc_decode(inputs, sequence_lengths, strategy="greedy", beam_width=100, top_paths=1,
               merge_repeated=True, mask_index=0):
    """Keras `ops.ctc_decode` with `strategy="greedy"`: `(decoded, scores)`, decoded of shape
    `(1, batch, time)` holding each sequence's labels first and -1 after, scores the negated
    sums of the best log-probabilities, shape `(batch, 1)`.

    Greedy decoding takes each step's most likely class, merges repeats, then drops blanks.

    Args:
        inputs: logits or log-probabilities `(batch, time, classes)`.
        sequence_lengths: each sequence's number of valid steps, `(batch,)`.
        strategy: "greedy"; "beam_search" is not supported yet.
        beam_width: for beam search only; unused.
        top_paths: for beam search only; unused (greedy decoding gives one path).
        merge_repeated: merge a label repeated on consecutive steps into one.
        mask_index: the blank class; None is the last class.

    Returns:
        A pair `(decoded, scores)` as above: `decoded` int32, `scores` float32 at least.

    Raises:
        NotImplementedError: `strategy="beam_search"`.
        ValueError: another `strategy`.

    Examples:
        >>> probs = np.array([[[0.1, 0.8, 0.1], [0.1, 0.8, 0.1],     # class 0 is the blank
        ...                    [0.8, 0.1, 0.1], [0.1, 0.1, 0.8]]], "float32")
        >>> decoded, scores = ops.ctc_decode(np.log(probs), np.array([4]))
        >>> print(np.asarray(decoded))              # steps 1 1 0 2: labels 1, 2
        [[[ 1  2 -1 -1]]]
        >>> print(np.asarray(scores).round(3))      # -4 log 0.8
        [[0.893]]
        >>> print(np.asarray(ops.ctc_decode(np.log(probs), np.array([4]),
        ...                                 merge_repeated=False)[0]))
        [[[ 1  1  2 -1]]]
    """
    if strategy == "beam_search":
        raise NotImplementedError("ops.ctc_decode: strategy='beam_search' is not supported "
                                  "yet; use strategy='greedy'")
    if strategy != "greedy":
        raise ValueError(f"ops.ctc_decode: strategy must be 'greedy' or 'beam_search', "
                         f"received {strategy!r}")
    inputs = jnp.asarray(inputs)
    inputs = inputs.astype(jnp.promote_types(inputs.dtype, jnp.float32))
    time = inputs.shape[1]
    blank = inputs.shape[-1] - 1 if mask_index is None else mask_index
    past_end = jnp.arange(time)[None, :] >= jnp.asarray(sequence_lengths)[:, None]
    labels = jnp.where(past_end, blank, jnp.argmax(inputs, axis=-1))
    scores = jnp.where(past_end, 0.0, jnp.max(inputs, axis=-1))
    if merge_repeated:
        repeat = jnp.pad(labels[:, 1:] == labels[:, :-1], ((0, 0), (1, 0)))
        labels = jnp.where(repeat, blank, labels)
    dropped = labels == blank
    # kept labels first, in order; blanks after (a stable sort on the drop flag)
    order = jnp.argsort(jnp.where(dropped, time, jnp.arange(time)[None, :]), axis=-1)
    decoded = jnp.take_along_axis(jnp.where(dropped, -1, labels), order, axis=-1)
    return decoded[None], -jnp.sum(scores, axis=1)[:, None]


__all__ = public_names(globals(), __name__)
