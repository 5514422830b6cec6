"""Helpers shared by the tests (imported as `from util import ...`; conftest.py holds fixtures only)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image


def skip_without_peers(reason: str) -> None:
    """Skip a `peers` test on the base install; fail instead where CI installed the peers stack."""
    if os.environ.get("SSR_REQUIRE_PEERS"):
        pytest.fail(f"peers stack required but unavailable: {reason}")
    pytest.skip(f"{reason}; `bash scripts/setup.sh --peers` enables it")


def smooth_image(seed: int, height: int, width: int, channels: int = 3) -> np.ndarray:
    """A natural-looking test image: low-frequency colour blobs plus some edges, float32 [0, 1]."""
    rng = np.random.default_rng(seed)
    small = rng.random((max(2, height // 8), max(2, width // 8), channels)).astype(np.float32)
    planes = [np.asarray(Image.fromarray(small[..., c], "F").resize((width, height), Image.Resampling.BICUBIC))
              for c in range(channels)]
    image = np.stack(planes, axis=2)
    image[height // 3: height // 3 + 3] = 1.0  # a sharp bright stripe
    image[:, width // 2: width // 2 + 2] = 0.0  # and a dark one
    return np.clip(image, 0, 1).astype(np.float32)


def save_png(path: Path, image: np.ndarray) -> Path:
    data = np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)
    Image.fromarray(data[..., 0] if data.shape[2] == 1 else data).save(path)
    return path


def write_tiny_weights(folder: Path, scale: int = 4, with_depth: bool = False, with_refiner: bool = False,
                       refiner_start: str = "svkr", perturb_refiner: bool = True,
                       refiner_code_id: str | None = "match") -> Path:
    """A weights folder with tiny randomly initialised SVKR models + manifest (seeded, a few KB).

    `with_refiner` adds a tiny diffusion refiner (chain start `refiner_start`) whose zero-initialised
    output layer is perturbed unless `perturb_refiner` is False, so it changes its input (an untrained
    refiner returns its start point unchanged). `refiner_code_id`: the code space it claims to be
    trained on ("match" = the tiny SR network's, None = not recorded, as in older files)."""
    import torch

    from ssr.hashing import sha256_file
    from ssr.models.depthnet import DepthNet
    from ssr.models.dkenet import DKENet
    from ssr.models.kernel_code import sample_prior_kernels
    from ssr.models.registry import save_model
    from ssr.models.rrdb import KernelConditionedRRDB

    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    rrdb_kwargs = {"scale": scale, "channels": 8, "growth": 4, "blocks": 1, "code_dim": 6}
    rrdb = KernelConditionedRRDB(**rrdb_kwargs)
    rrdb.code.fit(sample_prior_kernels(2000, 21, scale))
    save_model(folder / "rrdb.safetensors", "ssr.rrdb", rrdb, scale, rrdb_kwargs)
    save_model(folder / "dkenet.safetensors", "ssr.dkenet", DKENet(channels=8, depth_channels=4), scale,
               {"channels": 8, "depth_channels": 4})
    roles = [("rrdb", scale), ("dkenet", scale)]
    if with_depth:
        depth_kwargs = {"widths": [4, 8], "view_side": 32}
        save_model(folder / "depth.safetensors", "ssr.depthnet", DepthNet(**depth_kwargs), 1, depth_kwargs)
        roles.append(("depth", 1))
    if with_refiner:
        from ssr.models.refiner import RefinerNet

        refiner_kwargs = {"scale": scale, "widths": [8, 8], "code_dim": 6, "steps": 4, "kappa": 0.5,
                          "start": refiner_start,
                          "code_id": rrdb.code.fingerprint() if refiner_code_id == "match" else refiner_code_id}
        refiner = RefinerNet(**refiner_kwargs)
        if perturb_refiner:
            with torch.no_grad():
                refiner.out.weight.normal_(0, 0.02)
        save_model(folder / "refiner.safetensors", "ssr.refiner", refiner, scale, refiner_kwargs)
        roles.append(("refiner", scale))
    files = [{"file": f"{role}.safetensors", "role": role, "scale": s, "sha256": sha256_file(folder / f"{role}.safetensors")}
             for role, s in roles]
    (folder / "manifest.json").write_text(json.dumps({"files": files}))
    return folder


def image_folder(folder: Path, count: int = 2, height: int = 72, width: int = 80) -> Path:
    """A folder of `count` smooth test PNGs (training / validation images of tiny training runs)."""
    if not folder.exists():
        folder.mkdir(parents=True)
        for i in range(count):
            save_png(folder / f"t{i}.png", smooth_image(i, height, width))
    return folder


def write_fake_stlpips(path: Path) -> Path:
    """An ST-LPIPS weight file laid out as the stlpips-pytorch wheel's (its key names), random values."""
    import torch

    from ssr.models.stlpips import ShiftTolerantAlexNet

    torch.manual_seed(0)
    state = {("scaling_layer." if k in ("shift", "scale") else "net.") + k: v
             for k, v in ShiftTolerantAlexNet().state_dict().items()}
    for i, c in enumerate((64, 192, 384, 256, 256)):
        state[f"lin{i}.model.1.weight"] = torch.rand(1, c, 1, 1) * 0.1
    torch.save(state, path)
    return path
