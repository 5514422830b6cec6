"""Training stages, by the name a config's `stage:` gives. One file per stage; register it here."""

from __future__ import annotations

from ssr.train.stages.base import Stage
from ssr.train.stages.causal import CausalStage
from ssr.train.stages.depth import DepthStage
from ssr.train.stages.dkenet import DKENetStage
from ssr.train.stages.dkenet_code import DKENetCodeStage
from ssr.train.stages.ksr import KSRStage
from ssr.train.stages.refiner import RefinerStage
from ssr.train.stages.rrdb import RRDBStage
from ssr.train.stages.sd_adapter import SDAdapterStage

STAGES: dict[str, type[Stage]] = {
    "rrdb": RRDBStage,
    "dkenet": DKENetStage,
    "depth": DepthStage,
    "ksr": KSRStage,
    "dkenet_code": DKENetCodeStage,
    "causal": CausalStage,
    "refiner": RefinerStage,
    "sd_adapter": SDAdapterStage,
}

__all__ = ["STAGES", "Stage"]
