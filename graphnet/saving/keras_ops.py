"""Keras's op layers (`keras.src.ops` classes such as `NotEqual`, `GetItem`, `Reshape`) in
`.keras` files, both ways.

A Keras functional config records `x != 0` as a layer of class `NotEqual` whose config holds
the op's constructor arguments and whose inbound node holds the call's arguments. Reading one
gives a graphnet `Operation` node of the op of that name; writing an `Operation` splits its
arguments back the same way, so Keras loads it.

`_TABLE` lists, per Keras op class (Keras 3.15): its `keras.src.ops` module, the graphnet op,
and the op function's parameters in order, `=` marking those Keras passes to the class's
constructor (the others are call arguments).
"""
from __future__ import annotations

import inspect

import numpy as np

from ..layers.operation import OPS, Operation

_TABLE = (
    'numpy:Abs:abs:x numpy:Absolute:absolute:x '
    'nn:AdaptiveAveragePool:adaptive_average_pool:inputs,=output_size,=data_format '
    'nn:AdaptiveMaxPool:adaptive_max_pool:inputs,=output_size,=data_format numpy:Add:add:x1,x2 '
    'numpy:All:all:x,=axis,=keepdims numpy:AllClose:allclose:x1,x2,=rtol,=atol,=equal_nan '
    'numpy:Amax:amax:x,=axis,=keepdims numpy:Amin:amin:x,=axis,=keepdims numpy:Angle:angle:x '
    'numpy:Any:any:x,=axis,=keepdims numpy:Append:append:x1,x2,=axis '
    'numpy:Arange:arange:start,stop,step,=dtype numpy:Arccos:arccos:x numpy:Arccosh:arccosh:x '
    'numpy:Arcsin:arcsin:x numpy:Arcsinh:arcsinh:x numpy:Arctan:arctan:x '
    'numpy:Arctan2:arctan2:x1,x2 numpy:Arctanh:arctanh:x numpy:Argmax:argmax:x,=axis,=keepdims '
    'numpy:Argmin:argmin:x,=axis,=keepdims numpy:Argpartition:argpartition:x,=kth,=axis '
    'numpy:Argsort:argsort:x,=axis numpy:Array:array:x,=dtype '
    'numpy:ArraySplit:array_split:x,=indices_or_sections,=axis '
    'numpy:Average:average:x,=axis,weights '
    'nn:AveragePool:average_pool:inputs,=pool_size,=strides,=padding,=data_format '
    'nn:BatchNorm:batch_normalization:x,mean,variance,=axis,offset,scale,=epsilon '
    'nn:BinaryCrossentropy:binary_crossentropy:target,output,=from_logits '
    'numpy:BitwiseAnd:bitwise_and:x,y numpy:BitwiseInvert:bitwise_invert:x '
    'numpy:BitwiseLeftShift:bitwise_left_shift:x,y numpy:BitwiseNot:bitwise_not:x '
    'numpy:BitwiseOr:bitwise_or:x,y numpy:BitwiseRightShift:bitwise_right_shift:x,y '
    'numpy:BitwiseXor:bitwise_xor:x,y numpy:BroadcastTo:broadcast_to:x,=shape '
    'math:CDist:cdist:x,y '
    'nn:CTCDecode:ctc_decode:inputs,sequence_lengths,=strategy,=beam_width,=top_paths,=merge_repeated,=mask_index '
    'nn:CTCLoss:ctc_loss:target,output,target_length,output_length,=mask_index '
    'core:Cast:cast:x,=dtype '
    'nn:CategoricalCrossentropy:categorical_crossentropy:target,output,=from_logits,=axis '
    'numpy:Cbrt:cbrt:x numpy:Ceil:ceil:x nn:Celu:celu:x,=alpha linalg:Cholesky:cholesky:x,=upper '
    'linalg:CholeskyInverse:cholesky_inverse:x,=upper numpy:Clip:clip:x,=x_min,=x_max '
    'numpy:Concatenate:concatenate:xs,=axis numpy:Conj:conj:x numpy:Conjugate:conjugate:x '
    'nn:Conv:conv:inputs,kernel,=strides,=padding,=data_format,=dilation_rate '
    'nn:ConvTranspose:conv_transpose:inputs,kernel,=strides,=padding,=output_padding,=data_format,=dilation_rate '
    'numpy:Copy:copy:x numpy:Corrcoef:corrcoef:x numpy:Correlate:correlate:x1,x2,=mode '
    'numpy:Cos:cos:x numpy:Cosh:cosh:x numpy:CountNonzero:count_nonzero:x,=axis '
    'numpy:Cross:cross:x1,x2,=axisa,=axisb,=axisc,=axis numpy:Cumprod:cumprod:x,=axis,=dtype '
    'numpy:Cumsum:cumsum:x,=axis,=dtype numpy:Deg2rad:deg2rad:x '
    'nn:DepthToSpace:depth_to_space:x,=block_size,=data_format '
    'nn:DepthwiseConv:depthwise_conv:inputs,kernel,=strides,=padding,=data_format,=dilation_rate '
    'linalg:Det:det:x numpy:Diag:diag:x,=k numpy:Diagflat:diagflat:x,=k '
    'numpy:Diagonal:diagonal:x,=offset,=axis1,=axis2 numpy:Diff:diff:a,=n,=axis '
    'numpy:Digitize:digitize:x,bins numpy:Divide:divide:x1,x2 '
    'numpy:DivideNoNan:divide_no_nan:x1,x2 numpy:Dot:dot:x1,x2 '
    'nn:DotProductAttention:dot_product_attention:query,key,value,bias,mask,scale,=is_causal,=flash_attention,=attn_logits_soft_cap '
    'numpy:Dsplit:dsplit:x,=indices_or_sections numpy:Dstack:dstack:xs linalg:Eig:eig:x '
    'linalg:Eigh:eigh:x numpy:Einsum:einsum:=subscripts nn:Elu:elu:x,=alpha '
    'numpy:EmptyLike:empty_like:x,=dtype numpy:Equal:equal:x1,x2 math:Erf:erf:x math:Erfc:erfc:x '
    'math:Erfinv:erfinv:x numpy:Exp:exp:x numpy:Exp2:exp2:x numpy:ExpandDims:expand_dims:x,=axis '
    'numpy:Expm1:expm1:x '
    'math:ExtractSequences:extract_sequences:x,=sequence_length,=sequence_stride math:FFT:fft:x '
    'math:FFT2:fft2:x numpy:Fabs:fabs:x numpy:Flip:flip:x,=axis numpy:Fliplr:fliplr:x '
    'numpy:Flipud:flipud:x numpy:Floor:floor:x numpy:FloorDivide:floor_divide:x1,x2 '
    'numpy:Fmax:fmax:x1,x2 numpy:Fmin:fmin:x1,x2 numpy:Fmod:fmod:x1,x2 '
    'nn:Fold:fold:x,=output_size,=kernel_size,=dilation,=padding,=stride '
    'numpy:Full:full:=shape,fill_value,=dtype numpy:FullLike:full_like:x,fill_value,=dtype '
    'numpy:Gcd:gcd:x1,x2 nn:Gelu:gelu:x,=approximate '
    'numpy:Geomspace:geomspace:start,stop,=num,=endpoint,=dtype,=axis '
    'numpy:GetItem:get_item:x,key nn:Glu:glu:x,=axis numpy:Greater:greater:x1,x2 '
    'numpy:GreaterEqual:greater_equal:x1,x2 nn:HardShrink:hard_shrink:x,=threshold '
    'nn:HardSigmoid:hard_sigmoid:x nn:HardSilu:hard_silu:x nn:HardTanh:hard_tanh:x '
    'numpy:Heaviside:heaviside:x1,x2 numpy:Hsplit:hsplit:x,=indices_or_sections '
    'numpy:Hstack:hstack:xs numpy:Hypot:hypot:x1,x2 numpy:I0:i0:x math:IFFT2:ifft2:x '
    'math:IRFFT:irfft:x,=fft_length '
    'math:ISTFT:istft:x,=sequence_length,=sequence_stride,=fft_length,=length,=window,=center '
    'numpy:Imag:imag:x math:InTopK:in_top_k:targets,predictions,=k numpy:Inner:inner:x1,x2 '
    'linalg:Inv:inv:x numpy:IsIn:isin:x1,x2,=assume_unique,=invert '
    'numpy:Isclose:isclose:x1,x2,rtol,atol,=equal_nan numpy:Isfinite:isfinite:x '
    'numpy:Isinf:isinf:x numpy:Isnan:isnan:x numpy:Isneginf:isneginf:x numpy:Isposinf:isposinf:x '
    'numpy:Isreal:isreal:x numpy:Kron:kron:x1,x2 '
    'nn:LayerNorm:layer_normalization:x,gamma,beta,=axis,=epsilon,=rms_scaling '
    'numpy:Lcm:lcm:x1,x2 numpy:Ldexp:ldexp:x1,x2 nn:LeakyRelu:leaky_relu:x,=negative_slope '
    'numpy:LeftShift:left_shift:x,y numpy:Less:less:x1,x2 numpy:LessEqual:less_equal:x1,x2 '
    'numpy:Linspace:linspace:start,stop,=num,=endpoint,=retstep,=dtype,=axis numpy:Log:log:x '
    'numpy:Log10:log10:x numpy:Log1p:log1p:x numpy:Log2:log2:x nn:LogSigmoid:log_sigmoid:x '
    'nn:LogSoftmax:log_softmax:x,=axis numpy:Logaddexp:logaddexp:x1,x2 '
    'numpy:Logaddexp2:logaddexp2:x1,x2 math:Logdet:logdet:x numpy:LogicalAnd:logical_and:x1,x2 '
    'numpy:LogicalNot:logical_not:x numpy:LogicalOr:logical_or:x1,x2 '
    'numpy:LogicalXor:logical_xor:x1,x2 '
    'numpy:Logspace:logspace:start,stop,=num,=endpoint,=base,=dtype,=axis '
    'math:Logsumexp:logsumexp:x,=axis,=keepdims linalg:Lstsq:lstsq:a,b,=rcond '
    'linalg:LuFactor:lu_factor:x numpy:Matmul:matmul:x1,x2 linalg:MatrixRank:matrix_rank:x,=tol '
    'numpy:Max:max:x,=axis,=keepdims,=initial '
    'nn:MaxPool:max_pool:inputs,=pool_size,=strides,=padding,=data_format '
    'numpy:Maximum:maximum:x1,x2 numpy:Mean:mean:x,=axis,=keepdims '
    'numpy:Median:median:x,=axis,=keepdims numpy:Min:min:x,=axis,=keepdims,=initial '
    'numpy:Minimum:minimum:x1,x2 numpy:Mod:mod:x1,x2 '
    'nn:Moments:moments:x,=axes,=keepdims,=synchronized '
    'numpy:Moveaxis:moveaxis:x,=source,=destination '
    'nn:MultiHot:multi_hot:inputs,=num_classes,=axis,=dtype,=sparse numpy:Multiply:multiply:x1,x2 '
    'numpy:NanToNum:nan_to_num:x,=nan,=posinf,=neginf numpy:Nanargmax:nanargmax:x,=axis,=keepdims '
    'numpy:Nanargmin:nanargmin:x,=axis,=keepdims numpy:Nancumprod:nancumprod:x,=axis,=dtype '
    'numpy:Nancumsum:nancumsum:x,=axis,=dtype numpy:Nanmax:nanmax:x,=axis,=keepdims '
    'numpy:Nanmean:nanmean:x,=axis,=keepdims numpy:Nanmedian:nanmedian:x,=axis,=keepdims '
    'numpy:Nanmin:nanmin:x,=axis,=keepdims '
    'numpy:Nanpercentile:nanpercentile:x,q,=axis,=method,=keepdims '
    'numpy:Nanprod:nanprod:x,=axis,=keepdims '
    'numpy:Nanquantile:nanquantile:x,q,=axis,=method,=keepdims '
    'numpy:Nanstd:nanstd:x,=axis,=keepdims numpy:Nansum:nansum:x,=axis,=keepdims '
    'numpy:Nanvar:nanvar:x,=axis,=keepdims numpy:Negative:negative:x '
    'numpy:Nextafter:nextafter:x1,x2 numpy:Nonzero:nonzero:x '
    'linalg:Norm:norm:x,=ord,=axis,=keepdims nn:Normalize:normalize:x,=axis,=order,=epsilon '
    'numpy:NotEqual:not_equal:x1,x2 nn:OneHot:one_hot:x,=num_classes,=axis,=dtype,=sparse '
    'numpy:OnesLike:ones_like:x,=dtype numpy:Outer:outer:x1,x2 nn:PSNR:psnr:x1,x2,=max_val '
    'numpy:Pad:pad:x,=pad_width,=mode,constant_values '
    'numpy:Percentile:percentile:x,q,=axis,=method,=keepdims linalg:Pinv:pinv:x,=rcond '
    'nn:Polar:polar:abs_,angle numpy:Power:power:x1,x2 numpy:Prod:prod:x,=axis,=keepdims,=dtype '
    'numpy:Ptp:ptp:x,=axis,=keepdims linalg:Qr:qr:x,=mode '
    'numpy:Quantile:quantile:x,q,=axis,=method,=keepdims math:RFFT:rfft:x,=fft_length '
    'nn:RMSNorm:rms_normalization:x,scale,=axis,=epsilon numpy:Rad2deg:rad2deg:x '
    'numpy:Ravel:ravel:x numpy:Real:real:x einops:Rearrange:rearrange:tensor,pattern '
    'numpy:Reciprocal:reciprocal:x nn:Relu:relu:x nn:Relu6:relu6:x '
    'numpy:Repeat:repeat:x,=repeats,=axis numpy:Reshape:reshape:x,=newshape '
    'numpy:RightShift:right_shift:x,y numpy:Roll:roll:x,=shift,=axis '
    'numpy:Rot90:rot90:array,=k,=axes numpy:Round:round:x,=decimals math:Rsqrt:rsqrt:x '
    'math:STFT:stft:x,=sequence_length,=sequence_stride,=fft_length,=window,=center '
    'linalg:SVD:svd:x,=full_matrices,=compute_uv core:SaturateCast:saturate_cast:x,=dtype '
    'core:Scatter:scatter:indices,values,=shape '
    'core:ScatterUpdate:scatter_update:inputs,indices,updates,=reduction '
    'numpy:SearchSorted:searchsorted:sorted_sequence,values,=side '
    'math:SegmentMax:segment_max:data,segment_ids,=num_segments,=sorted '
    'math:SegmentMin:segment_min:data,segment_ids,=num_segments,=sorted '
    'math:SegmentProd:segment_prod:data,segment_ids,=num_segments,=sorted '
    'math:SegmentSum:segment_sum:data,segment_ids,=num_segments,=sorted '
    'numpy:Select:select:condlist,choicelist,default nn:Selu:selu:x '
    'nn:SeparableConv:separable_conv:inputs,depthwise_kernel,pointwise_kernel,=strides,=padding,=data_format,=dilation_rate '
    'nn:Sigmoid:sigmoid:x numpy:Sign:sign:x numpy:Signbit:signbit:x nn:Silu:silu:x '
    'numpy:Sin:sin:x numpy:Sinc:sinc:x numpy:Sinh:sinh:x '
    'core:Slice:slice:inputs,start_indices,=shape '
    'core:SliceUpdate:slice_update:inputs,start_indices,updates numpy:Slogdet:slogdet:x '
    'nn:SoftShrink:soft_shrink:x,=threshold nn:Softmax:softmax:x,=axis nn:Softplus:softplus:x '
    'nn:Softsign:softsign:x linalg:Solve:solve:a,b '
    'linalg:SolveTriangular:solve_triangular:a,b,=lower numpy:Sort:sort:x,=axis '
    'nn:SpaceToDepth:space_to_depth:x,=block_size,=data_format '
    'nn:SparseCategoricalCrossentropy:sparse_categorical_crossentropy:target,output,=from_logits,=axis '
    'nn:SparsePlus:sparse_plus:x nn:SparseSigmoid:sparse_sigmoid:x nn:Sparsemax:sparsemax:x,=axis '
    'numpy:Split:split:x,=indices_or_sections,=axis numpy:Sqrt:sqrt:x numpy:Square:square:x '
    'nn:Squareplus:squareplus:x,=b numpy:Squeeze:squeeze:x,=axis numpy:Stack:stack:x,=axis '
    'numpy:Std:std:x,=axis,=keepdims core:StopGradient:stop_gradient:variable '
    'numpy:Subtract:subtract:x1,x2 numpy:Sum:sum:x,=axis,=keepdims '
    'numpy:Swapaxes:swapaxes:x,=axis1,=axis2 numpy:Take:take:x,indices,=axis '
    'numpy:TakeAlongAxis:take_along_axis:x,indices,=axis numpy:Tan:tan:x numpy:Tanh:tanh:x '
    'nn:TanhShrink:tanh_shrink:x numpy:Tensordot:tensordot:x1,x2,=axes '
    'nn:Threshold:threshold:x,=threshold,=default_value numpy:Tile:tile:x,=repeats '
    'math:TopK:top_k:x,=k,=sorted numpy:Trace:trace:x,=offset,=axis1,=axis2 '
    'numpy:Transpose:transpose:x,=axes numpy:Trapezoid:trapezoid:y,=x,=dx,=axis '
    'numpy:Tril:tril:x,=k numpy:Triu:triu:x,=k numpy:TrueDivide:true_divide:x1,x2 '
    'numpy:Trunc:trunc:x nn:Unfold:unfold:x,=kernel_size,=dilation,=padding,=stride '
    'numpy:Unique:unique:x,=sorted,=return_index,=return_inverse,=return_counts,=axis,=size,=fill_value '
    'numpy:UnravelIndex:unravel_index:indices,=shape core:Unstack:unstack:x,=num,=axis '
    'numpy:Vander:vander:x,=N,=increasing numpy:Var:var:x,=axis,=keepdims numpy:Vdot:vdot:x1,x2 '
    'numpy:View:view:x,=dtype math:ViewAsComplex:view_as_complex:x math:ViewAsReal:view_as_real:x '
    'numpy:Vsplit:vsplit:x,=indices_or_sections numpy:Vstack:vstack:xs '
    'numpy:Where:where:condition,x1,x2 numpy:ZerosLike:zeros_like:x,=dtype '
)


def _parse():
    table = {}
    for entry in "".join(_TABLE).split():
        module, class_name, op, params = entry.split(":")
        names = [p.lstrip("=") for p in params.split(",") if p]
        init = {p[1:] for p in params.split(",") if p.startswith("=")}
        table[class_name] = (f"keras.src.ops.{module}", op, tuple(names), frozenset(init))
    return table


KERAS_OPS = _parse()
OP_CLASSES = {}
for _name, (_, _op, _, _) in KERAS_OPS.items():
    OP_CLASSES.setdefault(_op, _name)


def keras_values(value, writing=False):
    """Keras's serialized constants (`__slice__`, `__ellipsis__`, `__numpy__`, `__tensor__`)
    as Python
    values, or (`writing`) the other way; dtypes as names, tuples as lists in a config."""
    if writing:
        if isinstance(value, slice):
            return {"class_name": "__slice__", "config": {
                "start": keras_values(value.start, True), "stop": keras_values(value.stop, True),
                "step": keras_values(value.step, True)}}
        if value is Ellipsis:
            return {"class_name": "__ellipsis__", "config": {}}
        if isinstance(value, np.ndarray) or (hasattr(value, "__array__")
                                             and hasattr(value, "dtype")
                                             and getattr(value, "ndim", 0) > 0):
            array = np.asarray(value)
            return {"class_name": "__numpy__", "config": {"value": array.tolist(),
                                                          "dtype": array.dtype.name}}
        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, (type, np.dtype)):
            return np.dtype(value).name
        if isinstance(value, (list, tuple)):
            return [keras_values(v, True) for v in value]
        if isinstance(value, dict):
            return {k: keras_values(v, True) for k, v in value.items()}
        return value
    if isinstance(value, dict):
        kind, config = value.get("class_name"), value.get("config")
        if kind == "__slice__" and isinstance(config, dict):
            return slice(*(keras_values(config.get(k)) for k in ("start", "stop", "step")))
        if kind == "__ellipsis__":
            return Ellipsis
        if kind in ("__numpy__", "__tensor__") and isinstance(config, dict):
            return np.asarray(config["value"], dtype=config["dtype"])
        return {k: keras_values(v) for k, v in value.items()}
    if isinstance(value, list):
        return [keras_values(v) for v in value]
    if isinstance(value, tuple):
        return tuple(keras_values(v) for v in value)
    return value


def is_keras_op(entry) -> bool:
    """Whether a Keras layer entry is one of Keras's op layers that graphnet has."""
    module = entry.get("module") or ""
    return (entry.get("class_name") in KERAS_OPS and module.startswith("keras.src.ops")
            and KERAS_OPS[entry["class_name"]][1] in OPS)


def _our_names(op, keras_names):
    """{Keras parameter name: graphnet's}: the same name where the op has it, else the
    parameter at the same position (`newshape` -> `shape` for `jax.numpy.reshape`)."""
    try:
        ours = list(inspect.signature(OPS[op]).parameters.values())
    except (TypeError, ValueError):
        return {}
    positional = [p.name for p in ours
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    named = {p.name for p in ours if p.kind is not p.VAR_POSITIONAL}
    renames = {}
    for i, name in enumerate(keras_names):
        if name not in named and i < len(positional):
            renames[name] = positional[i]
    return renames


def operation_from_keras(entry, args, kwargs, tensor_index):
    """The graphnet `Operation` for a Keras op layer entry called with `(args, kwargs)`, whose
    tensor arguments `tensor_index(leaf)` numbers (None for a constant)."""
    class_name, config = entry["class_name"], dict(entry["config"])
    module, op, names, init = KERAS_OPS[class_name]
    layer_name = config.pop("name", entry.get("name"))
    unknown = [k for k in config if k not in init]
    if unknown:
        raise ValueError(f"layer '{layer_name}' ({class_name}): graphnet's op {op!r} has no "
                         f"argument {unknown[0]!r}")
    renames = _our_names(op, names)
    constructor = {renames.get(k, k): v for k, v in config.items()}
    if class_name == "Einsum":                     # einsum(subscripts, *operands)
        args = (constructor.pop("subscripts"), *args)
    if class_name == "GetItem" and len(args) > 1 and isinstance(args[1], list):
        args = (args[0], tuple(args[1]), *args[2:])   # Keras writes a tuple key as a list
    call_kwargs = {renames.get(k, k): v for k, v in kwargs.items()}
    return Operation.from_template(op, tuple(args), {**call_kwargs, **constructor},
                                   tensor_index, name=layer_name)


def _listed(value):
    """Tuples as lists, as Keras writes a call's constant arguments (it reads no tuple
    there)."""
    if isinstance(value, (tuple, list)):
        return [_listed(v) for v in value]
    return value


def keras_op_entry(layer, tensors):
    """`(entry, call args, call kwargs)` of a graphnet `Operation` as Keras writes its op
    layer, the call's tensors filled in from `tensors`."""
    class_name = OP_CLASSES.get(layer.op)
    if class_name is None:
        raise ValueError(f"Operation '{layer.name}' ({layer.op}) has no Keras op class, so a "
                         f".keras file cannot hold it; save the model as a .graphnet file")
    module, op, names, init = KERAS_OPS[class_name]
    args, kwargs = layer.arguments(tensors)
    entry = {"module": module, "class_name": class_name, "config": {"name": layer.name},
             "registered_name": class_name}
    if class_name == "Einsum":                     # Einsum(subscripts)(*operands)
        entry["config"]["subscripts"] = args[0]
        return entry, list(args[1:]), {}
    back = {ours: theirs for theirs, ours in _our_names(op, names).items()}
    if len(args) > len(names):
        raise ValueError(f"Operation '{layer.name}' ({op}): {len(args)} positional arguments, "
                         f"Keras's op takes {len(names)}")
    bound = dict(zip(names, args))
    for key, value in kwargs.items():
        key = back.get(key, key)
        if key not in names:
            raise ValueError(f"Operation '{layer.name}' ({op}): argument {key!r} is not one of "
                             f"Keras's ({', '.join(names)}), so Keras could not load it")
        bound[key] = value
    entry["config"].update({k: v for k, v in bound.items() if k in init})
    call = [k for k in names if k not in init]
    given = [k for k in call if k in bound]
    positional = call[:len(given)] if given == call[:len(given)] else []
    call_args = [_listed(bound[k]) for k in positional]
    call_kwargs = {k: _listed(bound[k]) for k in given if k not in positional}
    return entry, call_args, call_kwargs
