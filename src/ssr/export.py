"""`ssr export`: the networks of a weight set as ONNX or TorchScript files, any spatial size.

Three files, each a plain tensor function (float32, NCHW, values in [0, 1]):

* `kernels`: (lr (1,3,h,w), depth (1,1,h,w)) -> kernel codes (1,D,h,w): DKENet, its per-pixel kernels
  projected on the SR network's kernel code (the 16 numbers per pixel the SR network reads).
* `sr`: (lr (1,3,h,w), codes (1,D,h,w)) -> SR (1,3,s*h,s*w): the kernel-conditioned SR network.
* `depth`: (view (1,3,H,W)) -> raw relative inverse depth (1,1,H,W); feed the whole image resized so its
  longer side is the `view_side` written in the manifest, resize the map to the LR size and stretch
  its 1st/99th percentiles to 0/1 (what `ssr.depth.builtin` does).

One SVKR round is then `sr(lr, kernels(lr, depth))`. The networks pad to a multiple of 2^k with shape
arithmetic that is always applied (0 when divisible), so exported graphs follow the PyTorch path at
every size, odd ones included (tests run two sizes through onnxruntime and compare with PyTorch). `manifest.json` beside the files gives scale, code
size, view side, the input/output names and the SHA-256 of each file.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from ssr.errors import ConfigError, UnavailableError
from ssr.hashing import sha256_file, write_json
from ssr.weights import has_role, load_default, resolve

FORMATS = ("onnx", "torchscript")


class KernelCodes(nn.Module):
    """DKENet -> kernel codes of the SR network (depth must have the LR image's size)."""

    def __init__(self, dkenet: nn.Module, code: nn.Module) -> None:
        super().__init__()
        self.dkenet, self.code = dkenet, code

    def forward(self, lr: torch.Tensor, depth: torch.Tensor) -> torch.Tensor:
        return self.dkenet.as_codes(self.dkenet(lr, depth), self.code)


class SRFromCodes(nn.Module):
    def __init__(self, sr: nn.Module) -> None:
        super().__init__()
        self.sr = sr

    def forward(self, lr: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
        return self.sr.forward_codes(lr, codes)


def modules(scale: int, weights: str | None = None) -> tuple[dict[str, tuple[nn.Module, tuple, list, list]], dict]:
    """name -> (module, example inputs, input names, output names), and facts for the manifest."""
    folder = resolve(weights)
    dkenet, sr = load_default("dkenet", scale, folder), load_default("sr", scale, folder)
    code = sr.model.code
    lr = torch.rand(1, 3, 24, 28)
    out = {
        "kernels": (KernelCodes(dkenet.model, code).eval(), (lr, torch.rand(1, 1, 24, 28)), ["lr", "depth"], ["codes"]),
        "sr": (SRFromCodes(sr.model).eval(), (lr, torch.zeros(1, code.dim, 24, 28)), ["lr", "codes"], ["sr"]),
    }
    facts = {"scale": scale, "code_dim": code.dim, "weights": str(folder),
             "sources": {"kernels": dkenet.sha256, "sr": sr.sha256}}
    if has_role("depth", folder):
        depth = load_default("depth", 1, folder)
        net = depth.model
        side = int(getattr(net, "view_side", 192))
        out["depth"] = (net.eval(), (torch.rand(1, 3, side * 3 // 4, side),), ["view"], ["inverse_depth"])
        facts["view_side"] = side
        facts["sources"]["depth"] = depth.sha256
    return out, facts


def _dynamic_axes(names: list[str]) -> dict:
    return {name: {2: "height", 3: "width"} for name in names}


def export(out_dir: Path, fmt: str, scale: int = 4, weights: str | None = None) -> dict:
    if fmt not in FORMATS:
        raise ConfigError(f"--format must be one of {', '.join(FORMATS)}, got '{fmt}'")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    nets, facts = modules(scale, weights)
    files = {}
    for name, (module, inputs, in_names, out_names) in nets.items():
        path = out_dir / f"{name}_x{scale}.{'onnx' if fmt == 'onnx' else 'pt'}"
        tmp = path.with_name(f".{path.name}.tmp")
        with torch.no_grad():
            if fmt == "onnx":
                _onnx(module, inputs, tmp, in_names, out_names)
            else:
                torch.jit.trace(module, inputs, check_trace=False).save(str(tmp))
        tmp.replace(path)
        files[name] = {"file": path.name, "inputs": in_names, "outputs": out_names, "sha256": sha256_file(path)}
    manifest = {"format": fmt, **facts, "files": files}
    write_json(out_dir / "manifest.json", manifest)
    return manifest


def _onnx(module: nn.Module, inputs: tuple, path: Path, in_names: list[str], out_names: list[str]) -> None:
    try:
        import onnx  # noqa: F401  (the exporter needs it)
    except ImportError:
        raise UnavailableError("ONNX export needs the onnx package: pip install 'ssr[export]'") from None
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about Python bools: the shapes are handled above
        torch.onnx.export(module, inputs, str(path), input_names=in_names, output_names=out_names,
                          dynamic_axes=_dynamic_axes(in_names + out_names), opset_version=17, dynamo=False)
