"""Symbolic outputs to the model's `nx.DiGraph`, and every error about the graph's shape.

Nodes are keyed by name: a layer's name for its first call in this graph, `name@i` for
its i-th further call (shared layers). Node attributes: `layer`, `call` (the CallNode);
edge attributes: `shape` (batch axis None) and `dtype` of the tensor it carries.
"""
import networkx as nx

from .symbolic import SymbolicTensor


def _is_input(node) -> bool:
    return not node.leaves and type(node.layer).__name__ == "InputLayer"


def check_tensors(tensors, role: str, model_name: str) -> None:
    for i, t in enumerate(tensors):
        if not isinstance(t, SymbolicTensor):
            raise TypeError(f"Model '{model_name}': {role}[{i}] must be a symbolic tensor "
                            f"(from graphnet.Input or a layer call), received {type(t).__name__}")


def reachable_nodes(inputs, outputs, model_name: str) -> list:
    """Call nodes between `inputs` and `outputs`, in creation (hence topological) order."""
    input_nodes = {t.node for t in inputs}
    for t in inputs:
        if not _is_input(t.node):
            raise ValueError(f"Model '{model_name}': input '{t.name}' is not a graphnet.Input "
                             f"(it is an output of layer '{t.node.layer.name}'); models start "
                             f"from Input tensors")
    seen, stack = set(), [(t.node, t) for t in outputs]
    while stack:
        node, wanted = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if _is_input(node) and node not in input_nodes:
            names = [t.name for t in inputs]
            raise ValueError(f"Model '{model_name}': output '{wanted.name}' depends on input "
                             f"'{node.layer.name}', which is not among the model's inputs "
                             f"{names}. Pass it in `inputs`")
        stack.extend((t.node, wanted) for t in node.inputs)
    seen |= input_nodes
    return sorted(seen, key=lambda n: n.id)


def keras_layer_order(inputs, outputs) -> list:
    """The layers as Keras 3 lists them (`model.layers`, hence `get_weights()` order).

    Keras's map_graph: a depth-first walk from the outputs numbers each layer when first
    seen; a layer's depth is its longest path to an output (a shared layer takes its
    deepest call); layers go deepest first, ties by that number; an unused input counts as an output layer.
    """
    index, post_order, finished = {}, [], set()
    for out in outputs:
        stack = [(out.node, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                if node not in finished:
                    finished.add(node)
                    post_order.append(node)
                continue
            if node in finished:
                continue
            index.setdefault(node.layer, len(index))
            stack.append((node, True))
            stack.extend((t.node, False) for t in reversed(node.inputs))
    node_depth, layer_depth = {}, {}
    for node in reversed(post_order):
        depth = max(node_depth.setdefault(node, 0), layer_depth.get(node.layer, 0))
        layer_depth[node.layer] = node_depth[node] = depth
        for t in node.inputs:
            node_depth[t.node] = max(depth + 1, node_depth.get(t.node, 0))
    for t in inputs:
        if t.node.layer not in layer_depth:
            layer_depth[t.node.layer], index[t.node.layer] = 0, -1
    return sorted(layer_depth, key=lambda layer: (-layer_depth[layer], index[layer]))


def build_graph(inputs, outputs, model_name: str):
    """Returns `(graph, keys)`: the DiGraph and each CallNode's key in it."""
    nodes = reachable_nodes(inputs, outputs, model_name)
    graph = nx.DiGraph(name=model_name)
    keys, calls_per_layer, layer_by_name = {}, {}, {}
    for node in nodes:
        layer = node.layer
        other = layer_by_name.setdefault(layer.name, layer)
        if other is not layer:
            raise ValueError(f"Model '{model_name}': two different layers are named "
                             f"'{layer.name}'; layer names must be unique in a model")
        count = calls_per_layer.get(layer, 0)
        calls_per_layer[layer] = count + 1
        key = layer.name if count == 0 else f"{layer.name}@{count}"
        keys[node] = key
        graph.add_node(key, layer=layer, call=node)
        for t in node.inputs:
            parent = keys[t.node]
            if graph.has_edge(parent, key):
                graph.edges[parent, key]["tensors"].append(t)
            else:
                graph.add_edge(parent, key, shape=t.shape, dtype=t.dtype.name, tensors=[t])
    return graph, keys
