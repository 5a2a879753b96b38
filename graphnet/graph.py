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
