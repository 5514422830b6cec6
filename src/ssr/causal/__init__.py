"""CausalSR's training side (issue 12, in progress): counterfactual siblings of training pairs."""

from ssr.causal.siblings import Sibling, SiblingSampler

__all__ = ["Sibling", "SiblingSampler"]
