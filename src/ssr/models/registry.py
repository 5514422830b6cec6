"""Model files: safetensors with metadata, recognised by architecture, carried with a descriptor.

As in spandrel, a loaded model comes with what a caller needs to run it (scale, input kinds, dtypes,
tile needs). The architecture is read from the file's metadata and checked against its tensors;
construction arguments are stored in the metadata too, so a file is self-describing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open, save_file
from torch import nn

from ssr.errors import UnavailableError
from ssr.hashing import publish, sha256_file
from ssr.models.depthnet import DepthNet
from ssr.models.dkenet import DKENet
from ssr.models.ksrnet import KSRNet
from ssr.models.refiner import RefinerNet
from ssr.models.rrdb import KernelConditionedRRDB

def _sd_adapter(**kwargs) -> nn.Module:
    from ssr.sd_backend import SDAdapter  # diffusers is only needed to RUN it, not to build it

    return SDAdapter(**kwargs)


ARCHITECTURES: dict[str, Callable[..., nn.Module]] = {
    "ssr.rrdb": KernelConditionedRRDB,
    "ssr.dkenet": DKENet,
    "ssr.depthnet": DepthNet,
    "ssr.ksrnet": KSRNet,
    "ssr.refiner": RefinerNet,
    "ssr.sd_adapter": _sd_adapter,
}
# checked in this order (a KSRNet also has code.basis, so it comes before the RRDB)
_SIGNATURE_KEYS = {"ssr.sd_adapter": "mid.weight", "ssr.refiner": "amf.inject.0.weight", "ssr.ksrnet": "blocks.0.sft.gamma.weight", "ssr.rrdb": "code.basis",
                   "ssr.dkenet": "depth_branch.0.weight", "ssr.depthnet": "head.weight"}


@dataclass
class ModelDescriptor:
    architecture: str
    model: nn.Module
    scale: int
    kwargs: dict
    supported_dtypes: tuple[torch.dtype, ...] = (torch.float32, torch.bfloat16)
    tile_multiple: int = 2  # DKENet downsamples once: tiles must have even LR sizes
    min_tile: int = 16
    metadata: dict | None = None
    path: Path | None = None  # where it was loaded from, and the file's SHA-256 (provenance in run outputs)
    sha256: str | None = None


def save_model(path: Path, architecture: str, model: nn.Module, scale: int, kwargs: dict,
               extra: dict | None = None) -> None:
    """Write weights (float32) + self-description; atomic (temporary file, then rename)."""
    path = Path(path)
    state = {k: v.detach().float().contiguous().cpu() for k, v in model.state_dict().items()}
    metadata = {"architecture": architecture, "scale": str(scale), "kwargs": json.dumps(kwargs),
                **{k: str(v) for k, v in (extra or {}).items()}}
    tmp = path.with_name(f".{path.name}.tmp")
    save_file(state, str(tmp), metadata=metadata)
    publish(tmp, path)  # normal permissions (safetensors creates 0600), then the atomic rename


def load_model(path: Path, expected_sha256: str | None = None, device: str = "cpu") -> ModelDescriptor:
    path = Path(path)
    if not path.is_file():
        raise UnavailableError(f"weights not found: {path}")
    digest = sha256_file(path)
    if expected_sha256 and digest != expected_sha256:
        raise UnavailableError(f"{path}: checksum mismatch (file changed or corrupt)")
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
        state = load_file(str(path), device=device)
    except (SafetensorError, OSError, ValueError) as exc:
        raise UnavailableError(f"{path}: not a readable safetensors file ({exc})") from None
    architecture = metadata.get("architecture")
    if architecture not in ARCHITECTURES:
        architecture = next((a for a, key in _SIGNATURE_KEYS.items() if key in state), None)
        if architecture is None:
            raise UnavailableError(f"{path}: unknown model architecture")
    kwargs = json.loads(metadata.get("kwargs", "{}"))
    model = ARCHITECTURES[architecture](**kwargs)
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise UnavailableError(f"{path}: tensors do not match {architecture} "
                               f"(missing {len(missing)}, unexpected {len(unexpected)})")
    model.eval().to(device)
    scale = int(metadata.get("scale", kwargs.get("scale", 4)))
    return ModelDescriptor(architecture, model, scale, kwargs, metadata=metadata, path=path, sha256=digest)
