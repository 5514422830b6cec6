"""MiDaS v3 DPT-ViT checkpoint -> transformers DPTForDepthEstimation: key renaming and config.

MiDaS (isl-org/MiDaS) builds DPT from a timm ViT (`pretrained.model.*`), readout/reassemble
post-processing (`pretrained.act_postprocess{1..4}`), and a `scratch` decoder (`layer{1..4}_rn`
convs, `refinenet{4..1}` fusion blocks, `output_conv` head). transformers' DPT is the same network
with other names; its fusion stage runs from the deepest level, so refinenet4 is fusion layer 0.
The qkv matrix of each timm attention block is split into query, key, value. The configuration is
read off tensor shapes; the head count is not stored, and every MiDaS ViT uses 64-wide heads
(ViT-B 768/12, ViT-L 1024/16). Hooked blocks are evenly spaced as in MiDaS (ViT-L: 5, 11, 17, 23).
"""

from __future__ import annotations

import math
import re

import torch

from ssr.errors import UnavailableError

_DROPPED = re.compile(r"^pretrained\.model\.head\.")  # the ViT's ImageNet classifier, unused by DPT
_RULES: list[tuple[re.Pattern, object]] = [
    (re.compile(r"^pretrained\.model\.cls_token$"), "dpt.embeddings.cls_token"),
    (re.compile(r"^pretrained\.model\.pos_embed$"), "dpt.embeddings.position_embeddings"),
    (re.compile(r"^pretrained\.model\.patch_embed\.proj\."), "dpt.embeddings.patch_embeddings.projection."),
    (re.compile(r"^pretrained\.model\.blocks\.(\d+)\.norm1\."), r"dpt.encoder.layer.\1.layernorm_before."),
    (re.compile(r"^pretrained\.model\.blocks\.(\d+)\.norm2\."), r"dpt.encoder.layer.\1.layernorm_after."),
    (re.compile(r"^pretrained\.model\.blocks\.(\d+)\.attn\.proj\."), r"dpt.encoder.layer.\1.attention.output.dense."),
    (re.compile(r"^pretrained\.model\.blocks\.(\d+)\.mlp\.fc1\."), r"dpt.encoder.layer.\1.intermediate.dense."),
    (re.compile(r"^pretrained\.model\.blocks\.(\d+)\.mlp\.fc2\."), r"dpt.encoder.layer.\1.output.dense."),
    (re.compile(r"^pretrained\.model\.norm\."), "dpt.layernorm."),
    (re.compile(r"^pretrained\.act_postprocess([1-4])\.0\.project\.0\."),
     lambda m: f"neck.reassemble_stage.readout_projects.{int(m[1]) - 1}.0."),
    (re.compile(r"^pretrained\.act_postprocess([1-4])\.3\."),
     lambda m: f"neck.reassemble_stage.layers.{int(m[1]) - 1}.projection."),
    (re.compile(r"^pretrained\.act_postprocess([1-4])\.4\."),
     lambda m: f"neck.reassemble_stage.layers.{int(m[1]) - 1}.resize."),
    (re.compile(r"^scratch\.layer([1-4])_rn\."), lambda m: f"neck.convs.{int(m[1]) - 1}."),
    (re.compile(r"^scratch\.refinenet([1-4])\.out_conv\."),
     lambda m: f"neck.fusion_stage.layers.{4 - int(m[1])}.projection."),
    (re.compile(r"^scratch\.refinenet([1-4])\.resConfUnit([12])\.conv([12])\."),
     lambda m: f"neck.fusion_stage.layers.{4 - int(m[1])}.residual_layer{m[2]}.convolution{m[3]}."),
    (re.compile(r"^scratch\.output_conv\.(\d+)\."), r"head.head.\1."),
]
_QKV = re.compile(r"^pretrained\.model\.blocks\.(\d+)\.attn\.qkv\.(weight|bias)$")


def _family(state: dict[str, torch.Tensor]) -> str:
    keys = list(state)
    if any(k.startswith("pretrained.model.patch_embed.backbone.") for k in keys):
        return "DPT-hybrid (ResNet+ViT)"
    if any("relative_position" in k for k in keys):
        return "BEiT/Swin"
    if "pretrained.model.pos_embed" in state and any(_QKV.match(k) for k in keys):
        return "DPT-ViT"
    return "MiDaS v2.x (ResNeXt/EfficientNet) or unknown"


def dpt_config_from_midas(state: dict[str, torch.Tensor], where: str) -> dict:
    """DPTConfig keyword arguments that fit this checkpoint (one-line error if it is not DPT-ViT)."""
    family = _family(state)
    if family != "DPT-ViT":
        raise UnavailableError(f"{where}: MiDaS {family} checkpoints are not supported (DPT-ViT only: "
                               "dpt_large_384.pt, dpt_base_384.pt); use hf:DIR for other models")
    hidden = state["pretrained.model.pos_embed"].shape[-1]
    patch = state["pretrained.model.patch_embed.proj.weight"].shape[-1]
    grid = math.isqrt(state["pretrained.model.pos_embed"].shape[1] - 1)
    layers = 1 + max(int(_QKV.match(k)[1]) for k in state if _QKV.match(k))
    return {
        "hidden_size": hidden,
        "num_hidden_layers": layers,
        "num_attention_heads": max(1, hidden // 64),
        "intermediate_size": state["pretrained.model.blocks.0.mlp.fc1.weight"].shape[0],
        "image_size": grid * patch,
        "patch_size": patch,
        "backbone_out_indices": [layers * (i + 1) // 4 - 1 for i in range(4)],
        "neck_hidden_sizes": [state[f"pretrained.act_postprocess{i}.3.weight"].shape[0] for i in range(1, 5)],
        "fusion_hidden_size": state["scratch.layer1_rn.weight"].shape[0],
        "readout_type": "project",
        "head_in_index": -1,
        "qkv_bias": "pretrained.model.blocks.0.attn.qkv.bias" in state,
    }


def midas_key_to_dpt(name: str) -> str | None:
    """The transformers name of a MiDaS key (None: dropped); qkv is handled by midas_to_dpt_state."""
    if _DROPPED.match(name):
        return None
    for pattern, replacement in _RULES:
        if pattern.match(name):
            return pattern.sub(replacement, name, count=1)
    raise UnavailableError(f"unrecognised MiDaS checkpoint key '{name}'")


def midas_to_dpt_state(state: dict[str, torch.Tensor], hidden: int) -> dict[str, torch.Tensor]:
    out = {}
    for name, tensor in state.items():
        qkv = _QKV.match(name)
        if qkv:
            prefix = f"dpt.encoder.layer.{qkv[1]}.attention.attention"
            for part, chunk in zip(("query", "key", "value"), tensor.split(hidden, dim=0)):
                out[f"{prefix}.{part}.{qkv[2]}"] = chunk.clone()
            continue
        renamed = midas_key_to_dpt(name)
        if renamed is not None:
            out[renamed] = tensor
    return out
