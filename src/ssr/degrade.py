"""The degradation SCM for researchers: sample a record, render it, intervene on one factor.

    import numpy as np
    from ssr import degrade
    rng = np.random.default_rng(0)
    record = degrade.sample("sv", scale=4, rng=rng)              # exogenous values, JSON-serialisable
    nodes = degrade.render(record, hr)                          # hr: (H, W, 3) float [0, 1]
    nodes.lr, nodes.blurred, nodes.noise                         # every node of the graph
    sibling = degrade.intervene(record, "noise.level", 0.0)      # do(noise.level = 0), all else kept
    assert np.array_equal(degrade.render(sibling, hr).blurred, nodes.blurred)

A record fixes every exogenous value (kernel field, noise seed and level, JPEG quality, second-order
pass), so `render` is deterministic and an intervention changes only the intervened path.
Protocols: "sv" (smooth random Gaussian fields) and "dof" (thin-lens defocus; needs `depth`, relative
inverse depth (H, W) in [0, 1]). `settings` overrides a protocol's ranges (`ProtocolSettings`).
"""

from __future__ import annotations

import numpy as np

from ssr.degradation import protocols as _protocols
from ssr.degradation.protocols import ProtocolSettings
from ssr.degradation.scm import Rendering, intervene, render, validate
from ssr.errors import ConfigError


def sample(protocol: str, scale: int = 4, rng: np.random.Generator | int = 0, *, depth: np.ndarray | None = None,
           settings: ProtocolSettings | dict[str, str] | None = None, second_order: bool = False) -> dict:
    """A record of `protocol` ("sv", "dof" or "compound") for `scale`; `rng` a Generator or a seed."""
    generator = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(int(rng))
    base = ProtocolSettings.for_scale(scale)
    if isinstance(settings, dict):
        base = base.with_overrides(settings)
    elif settings is not None:
        base = settings
    if protocol == "sv":
        record = _protocols.sample_sv(generator, scale, base)
    elif protocol == "compound":
        record = _protocols.sample_compound(generator, scale, base)
    elif protocol == "dof":
        if depth is None:
            raise ConfigError("protocol 'dof' needs depth= (relative inverse depth, (H, W) in [0, 1])")
        record = _protocols.sample_dof(generator, scale, base, depth)
    else:
        raise ConfigError(f"unknown protocol '{protocol}' (sv, dof, compound)")
    if second_order:
        record["second_order"] = _protocols.sample_second_order(generator)
    return validate(record)


__all__ = ["sample", "render", "intervene", "validate", "Rendering", "ProtocolSettings"]
