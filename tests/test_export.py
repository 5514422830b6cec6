"""`ssr export`: ONNX files run in onnxruntime like the PyTorch networks, at sizes never traced."""

import json

import numpy as np
import pytest
import torch

from ssr.cli import main
from ssr.export import modules


def _feeds(name: str, h: int, w: int, code_dim: int) -> list[torch.Tensor]:
    torch.manual_seed(h * 100 + w)
    if name == "depth":
        return [torch.rand(1, 3, h, w)]
    if name == "kernels":
        return [torch.rand(1, 3, h, w), torch.rand(1, 1, h, w)]
    return [torch.rand(1, 3, h, w), torch.randn(1, code_dim, h, w)]


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
def test_exported_networks_match_pytorch_at_other_sizes(fmt, tmp_path, capsys, monkeypatch):
    from util import write_tiny_weights

    monkeypatch.setenv("SSR_WEIGHTS", str(write_tiny_weights(tmp_path / "w", with_depth=True)))
    out = tmp_path / "export"
    assert main(["-q", "export", str(out), "--format", fmt]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["files"]) == {"kernels", "sr", "depth"} and manifest["scale"] == 4
    nets, facts = modules(4)
    worst = 0.0
    for name, (module, _, inputs, _) in nets.items():
        path = out / manifest["files"][name]["file"]
        if fmt == "onnx":
            ort = pytest.importorskip("onnxruntime")
            session = ort.InferenceSession(str(path))
            run = lambda feed: session.run(None, {n: t.numpy() for n, t in zip(inputs, feed)})[0]  # noqa: E731
        else:
            loaded = torch.jit.load(str(path))
            run = lambda feed: loaded(*feed).detach().numpy()  # noqa: E731
        for h, w in [(17, 23), (40, 30)]:  # odd and even, neither the traced 24x28
            feed = _feeds(name, h, w, facts["code_dim"])
            with torch.no_grad():
                expected = module(*feed).numpy()
            got = run(feed)
            assert got.shape == expected.shape
            worst = max(worst, float(np.abs(got - expected).max()))
    assert worst < 1e-4, worst  # float32 reordering only


def test_export_needs_a_known_format(capsys):
    assert main(["export", "x", "--format", "tflite"]) == 2
    assert "invalid choice: 'tflite'" in capsys.readouterr().err


def test_comfyui_node_upscales_a_comfy_image_batch(tiny_weights):
    import importlib.util
    from pathlib import Path

    from util import smooth_image

    path = Path(__file__).resolve().parent.parent / "integrations" / "comfyui" / "ssr_nodes.py"
    spec = importlib.util.spec_from_file_location("ssr_nodes", path)
    nodes = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(nodes)
    node = nodes.NODE_CLASS_MAPPINGS["SSRUpscale"]()
    assert "image" in node.INPUT_TYPES()["required"]
    batch = torch.from_numpy(np.stack([smooth_image(0, 12, 10), smooth_image(1, 12, 10)]))  # (B, H, W, C)
    (out,) = node.upscale(batch, scale=4, tile=0, rounds=1)
    assert out.shape == (2, 48, 40, 3) and out.dtype == torch.float32 and 0 <= float(out.min()) <= float(out.max()) <= 1


def test_kernel_codes_module_takes_a_code_predicting_dkenet_as_is():
    """The exported DKENet -> codes graph follows the pipeline's rule (DKENet.as_codes): kernels are
    projected onto the SR network's code, a code-predicting DKENet's output is already that code."""
    from ssr.export import KernelCodes
    from ssr.models.dkenet import DKENet
    from ssr.models.kernel_code import KernelCode, sample_prior_kernels

    torch.manual_seed(0)
    code = KernelCode(21, 4)
    code.fit(sample_prior_kernels(500, 21, 4))
    lr, depth = torch.rand(1, 3, 9, 11), torch.rand(1, 1, 9, 11)
    with torch.no_grad():
        taps, direct = DKENet(channels=8, depth_channels=4).eval(), DKENet(channels=8, depth_channels=4, code_dim=4).eval()
        torch.testing.assert_close(KernelCodes(taps, code)(lr, depth), code(taps(lr, depth)))
        torch.testing.assert_close(KernelCodes(direct, code)(lr, depth), direct(lr, depth))
        assert KernelCodes(direct, code)(lr, depth).shape == (1, 4, 9, 11)
