"""The cost table as plain data: one `NodeCost` per graph node, `Cost` for the whole model."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field


@dataclass
class NodeCost:
    """What one graph node costs for one batch.

    `flops` is XLA's count of the node compiled alone (forward; forward and backward when
    costed with `training=True`); `hlo_flops` XLA's count of the same program before its
    optimization passes (fusion may repeat cheap work, which the optimized count includes);
    `formula_flops` an analytical forward count (2 per
    multiply-add of the contraction, plus the bias) for the layers that have a standard one,
    kept as a cross-check. `saved_bytes` are the bytes of the values this node creates that
    the backward pass keeps: its internal residuals, plus its output when it or a consumer
    saves it, so each tensor is counted once over the table. `None` is "n/a": `note` says
    why, never a silent zero.

    Examples:
        >>> inputs = graphnet.Input(shape=(3,), name="x")
        >>> model = graphnet.Model(inputs, layers.Dense(2, name="dense")(inputs), name="tiny")
        >>> row = graphnet.cost(model, batch_size=4).rows[-1]
        >>> row.flops, row.param_bytes
        (56.0, 32)
    """
    node: str
    layer: str
    type: str
    output_shapes: list
    flops: float | None = None
    forward_flops: float | None = None
    formula_flops: float | None = None
    hlo_flops: float | None = None
    param_bytes: int = 0
    output_bytes: int = 0
    saved_bytes: int | None = None
    xla_bytes_accessed: float | None = None
    xla_transcendentals: float | None = None
    note: str = ""
    # How the saved bytes arise, for the rematerialization planner: bytes of residuals made
    # inside the call; which outputs and which tensor inputs (as (node, index)) it saves.
    saved_inside: int | None = 0
    saves_outputs: tuple = ()
    saves_inputs: tuple = ()
    inputs: tuple = ()                    # ((node, index), bytes) per tensor argument
    output_sizes: tuple = ()              # bytes per output

    def to_dict(self) -> dict:
        """The row as a dict of plain values (tuples as lists), ready for JSON.

        Examples:
            >>> inputs = graphnet.Input(shape=(3,), name="x")
            >>> model = graphnet.Model(inputs, layers.Dense(2, name="dense")(inputs), name="tiny")
            >>> row = graphnet.cost(model, batch_size=4).rows[-1]
            >>> row.to_dict()["flops"]
            56.0
        """
        out = asdict(self)
        out["output_shapes"] = [list(s) for s in self.output_shapes]
        out["saves_outputs"] = list(self.saves_outputs)
        out["saves_inputs"] = [list(ref) for ref in self.saves_inputs]
        out["inputs"] = [[list(ref), size] for ref, size in self.inputs]
        out["output_sizes"] = list(self.output_sizes)
        return out


@dataclass
class Cost:
    """`graphnet.cost(model)`: rows in graph order and their totals.

    `str()` is an aligned table; `to_dicts()` / `to_json()` give plain data. Index by node
    key (`table["dense"]`) or iterate the rows.

    Examples:
        >>> inputs = graphnet.Input(shape=(3,), name="x")
        >>> model = graphnet.Model(inputs, layers.Dense(2, name="dense")(inputs), name="tiny")
        >>> table = graphnet.cost(model, batch_size=4)
        >>> isinstance(table, graphnet.costing.Cost)
        True
    """
    model: str
    batch_size: int
    training: bool
    rows: list = field(default_factory=list)

    def __iter__(self):
        return iter(self.rows)

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, key):
        if isinstance(key, int):
            return self.rows[key]
        for row in self.rows:
            if row.node == key:
                return row
        raise KeyError(f"cost table of model '{self.model}' has no node '{key}'; nodes: "
                       f"{[r.node for r in self.rows]}")

    @property
    def unknown(self) -> list:
        """Nodes XLA could not cost alone ("n/a" rows).

        Examples:
            >>> inputs = graphnet.Input(shape=(3,), name="x")
            >>> model = graphnet.Model(inputs, layers.Dense(2, name="dense")(inputs), name="tiny")
            >>> graphnet.cost(model, batch_size=4).unknown
            []
        """
        return [r.node for r in self.rows if r.flops is None]

    @property
    def totals(self) -> dict:
        """Sums over the rows; FLOPs and saved bytes over the rows that have them (see
        `unknown`). Saved bytes add up because each tensor is counted by one row.

        Examples:
            >>> inputs = graphnet.Input(shape=(3,), name="x")
            >>> model = graphnet.Model(inputs, layers.Dense(2, name="dense")(inputs), name="tiny")
            >>> sorted(graphnet.cost(model, batch_size=4).totals)
            ['flops', 'forward_flops', 'hlo_flops', 'output_bytes', 'param_bytes', 'saved_bytes', 'unknown', 'xla_bytes_accessed']
        """
        def total(name):
            return sum(getattr(r, name) or 0 for r in self.rows)
        return {"flops": total("flops"), "forward_flops": total("forward_flops"),
                "hlo_flops": total("hlo_flops"),
                "param_bytes": total("param_bytes"), "output_bytes": total("output_bytes"),
                "saved_bytes": total("saved_bytes"),
                "xla_bytes_accessed": total("xla_bytes_accessed"), "unknown": self.unknown}

    def to_dicts(self) -> list:
        """One dict per row, in graph order.

        Examples:
            >>> inputs = graphnet.Input(shape=(3,), name="x")
            >>> model = graphnet.Model(inputs, layers.Dense(2, name="dense")(inputs), name="tiny")
            >>> rows = graphnet.cost(model, batch_size=4).to_dicts()
            >>> rows[-1]["flops"]
            56.0
        """
        return [row.to_dict() for row in self.rows]

    def to_json(self, **kwargs) -> str:
        """The rows and totals as JSON; `kwargs` go to `json.dumps` (e.g. `indent=1`).

        Examples:
            >>> inputs = graphnet.Input(shape=(3,), name="x")
            >>> model = graphnet.Model(inputs, layers.Dense(2, name="dense")(inputs), name="tiny")
            >>> text = graphnet.cost(model, batch_size=4).to_json()
            >>> text[:1] in "[{"
            True
        """
        return json.dumps({"model": self.model, "batch_size": self.batch_size,
                           "training": self.training, "rows": self.to_dicts(),
                           "totals": self.totals}, **kwargs)

    def __str__(self):
        what = "forward + backward" if self.training else "forward"
        head = ("Node (type)", "Output shape", "FLOPs", "Formula", "Params", "Output",
                "Saved", "XLA bytes", "Note")
        rows = [head]
        for r in self.rows:
            rows.append((f"{r.node} ({r.type})", ", ".join(shape_text(s) for s in r.output_shapes),
                         count(r.flops), count(r.formula_flops), size(r.param_bytes),
                         size(r.output_bytes), size(r.saved_bytes),
                         size(r.xla_bytes_accessed), r.note))
        t = self.totals
        rows.append(("Total", "", count(t["flops"]), "", size(t["param_bytes"]),
                     size(t["output_bytes"]), size(t["saved_bytes"]),
                     size(t["xla_bytes_accessed"]),
                     f"n/a: {', '.join(t['unknown'])}" if t["unknown"] else ""))
        title = (f'Cost of model "{self.model}": batch of {self.batch_size}, FLOPs {what} '
                 f"(XLA, each node compiled alone)")
        return title + "\n" + aligned(rows, right=range(2, 8))


def aligned(rows, right=()) -> str:
    """Rows of text cells as a table: a rule under the header and above the last row."""
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    right = set(right)

    def fmt(row):
        return "  ".join(f"{cell:>{w}}" if i in right else f"{cell:<{w}}"
                         for i, (cell, w) in enumerate(zip(row, widths))).rstrip()
    rule = "-" * len(fmt(rows[0]).ljust(sum(widths) + 2 * (len(widths) - 1)))
    return "\n".join([fmt(rows[0]), rule, *map(fmt, rows[1:-1]), rule, fmt(rows[-1])])


def shape_text(shape) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def count(value) -> str:
    """FLOPs with an SI prefix (1 decimal place below 100); "n/a" for unknown."""
    if value is None:
        return "n/a"
    for unit, scale in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if value >= scale:
            v = value / scale
            return f"{v:.1f}{unit}" if v < 100 else f"{v:.0f}{unit}"
    return f"{value:.0f}"


def size(value) -> str:
    """Bytes in binary units; "n/a" for unknown."""
    if value is None:
        return "n/a"
    for unit, scale in (("GiB", 2 ** 30), ("MiB", 2 ** 20), ("KiB", 2 ** 10)):
        if value >= scale:
            v = value / scale
            return f"{v:.1f} {unit}" if v < 100 else f"{v:.0f} {unit}"
    return f"{value:.0f} B"
