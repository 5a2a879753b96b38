"""The cost of every node: FLOPs, bytes and activation memory read from the model's graph,
and the nodes to recompute (rematerialize) chosen from them."""
from .measure import cost, whole_model
from .remat import RematPlan, choose_remat, remat_plan
from .report import cost_summary, shading
from .table import Cost, NodeCost

__all__ = ["cost", "whole_model", "Cost", "NodeCost", "RematPlan", "choose_remat", "remat_plan",
           "cost_summary", "shading"]
