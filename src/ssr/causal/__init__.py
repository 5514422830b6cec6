"""CausalSR's training side (issue 12, in progress): counterfactual siblings of training pairs."""

from ssr.causal.siblings import CounterfactualBatch, Sibling, SiblingSampler, counterfactual_batch

__all__ = ["CounterfactualBatch", "Sibling", "SiblingSampler", "counterfactual_batch"]
