"""Depth backends: one interface, local files only, tiny models built by the test."""

import numpy as np
import pytest
import torch

from util import smooth_image
from ssr.depth import make_depth_estimator
from ssr.depth.base import view_at_side
from ssr.imresize import resize_float
from ssr.errors import ConfigError, UnavailableError
from ssr.models.depthnet import DepthNet
from ssr.models.registry import save_model


def check_map(depth, shape):
    assert depth.shape == shape and depth.dtype == np.float32
    assert depth.min() >= 0 and depth.max() <= 1


def test_constant_backend():
    check_map(make_depth_estimator("none")(smooth_image(0, 30, 40)), (30, 40))


def _tiny_dpt(transformers, hidden: int, heads: int, intermediate: int, neck: list[int]):
    """A tiny randomly initialised transformers DPT (64x64 input, 4 layers) with a non-flat output."""
    config = transformers.DPTConfig(hidden_size=hidden, num_hidden_layers=4, num_attention_heads=heads,
                                    intermediate_size=intermediate, image_size=64, patch_size=16,
                                    neck_hidden_sizes=neck, fusion_hidden_size=8,
                                    backbone_out_indices=[0, 1, 2, 3], head_in_index=-1)
    torch.manual_seed(0)
    model = transformers.DPTForDepthEstimation(config)
    with torch.no_grad():  # HF's tiny init (std 0.02) gives a flat map: widen the conv weights
        for module in model.modules():
            if isinstance(module, torch.nn.Conv2d):
                torch.nn.init.normal_(module.weight, std=0.5)
        model.head.head[-2].bias.fill_(1.0)
    return model


def test_transformers_dpt_from_a_local_folder(tmp_path):
    transformers = pytest.importorskip("transformers")
    model = _tiny_dpt(transformers, hidden=32, heads=2, intermediate=37, neck=[8, 8, 8, 8])
    model.save_pretrained(tmp_path / "dpt")
    processor = transformers.DPTImageProcessor(size={"height": 64, "width": 64})
    processor.save_pretrained(tmp_path / "dpt")
    estimator = make_depth_estimator(f"hf:{tmp_path / 'dpt'}")
    image = smooth_image(1, 50, 70)
    depth = estimator(image)
    check_map(depth, (50, 70))
    assert np.array_equal(depth, estimator(image)) and depth.std() > 0
    # the adapter's output is the model's prediction resized and normalised, nothing else
    with torch.no_grad():
        raw = model.eval()(**processor(images=image, return_tensors="pt", do_rescale=False)).predicted_depth[0]
    expected = torch.nn.functional.interpolate(raw[None, None], size=(50, 70), mode="bilinear")[0, 0].numpy()
    low, high = np.percentile(expected, [1, 99])
    assert np.corrcoef(depth.ravel(), np.clip((expected - low) / (high - low), 0, 1).ravel())[0, 1] > 0.99


def _hf_to_midas_names(state: dict, hidden: int) -> dict:
    """The test's own writer of MiDaS (isl-org/MiDaS DPT) key names, independent of the loader's rules."""
    out = {}
    fixed = {"dpt.embeddings.cls_token": "pretrained.model.cls_token",
             "dpt.embeddings.position_embeddings": "pretrained.model.pos_embed"}
    for name, tensor in state.items():
        parts = name.split(".")
        if name in fixed:
            out[fixed[name]] = tensor
        elif name.startswith("dpt.embeddings.patch_embeddings.projection."):
            out["pretrained.model.patch_embed.proj." + parts[-1]] = tensor
        elif name.startswith("dpt.encoder.layer."):
            i, rest = parts[3], ".".join(parts[4:])
            if rest.startswith("attention.attention."):
                if parts[6] == "query":  # timm keeps q, k, v as one matrix
                    stacked = [state[name.replace("query", part)] for part in ("query", "key", "value")]
                    out[f"pretrained.model.blocks.{i}.attn.qkv.{parts[-1]}"] = torch.cat(stacked)
                continue
            timm = {"attention.output.dense": "attn.proj", "intermediate.dense": "mlp.fc1",
                    "output.dense": "mlp.fc2", "layernorm_before": "norm1", "layernorm_after": "norm2"}
            out[f"pretrained.model.blocks.{i}.{timm[rest.rsplit('.', 1)[0]]}.{parts[-1]}"] = tensor
        elif name.startswith("dpt.layernorm."):
            out["pretrained.model.norm." + parts[-1]] = tensor
        elif name.startswith("neck.reassemble_stage.readout_projects."):
            out[f"pretrained.act_postprocess{int(parts[3]) + 1}.0.project.0.{parts[-1]}"] = tensor
        elif name.startswith("neck.reassemble_stage.layers."):
            index = {"projection": 3, "resize": 4}[parts[4]]
            out[f"pretrained.act_postprocess{int(parts[3]) + 1}.{index}.{parts[-1]}"] = tensor
        elif name.startswith("neck.convs."):
            out[f"scratch.layer{int(parts[2]) + 1}_rn.{parts[-1]}"] = tensor
        elif name.startswith("neck.fusion_stage.layers."):
            block = f"scratch.refinenet{4 - int(parts[3])}"
            if parts[4] == "projection":
                out[f"{block}.out_conv.{parts[-1]}"] = tensor
            else:
                unit, conv = parts[4][-1], parts[5][-1]
                out[f"{block}.resConfUnit{unit}.conv{conv}.{parts[-1]}"] = tensor
        elif name.startswith("head.head."):
            out[f"scratch.output_conv.{parts[2]}.{parts[-1]}"] = tensor
        else:
            raise AssertionError(f"test writer does not know {name}")
    out["pretrained.model.head.weight"] = torch.zeros(10, hidden)  # timm's classifier: present, unused
    return out


def test_midas_dpt_checkpoint_loads_through_the_real_path(tmp_path):
    transformers = pytest.importorskip("transformers")
    model = _tiny_dpt(transformers, hidden=64, heads=1, intermediate=96, neck=[8, 16, 16, 16]).eval()
    state = _hf_to_midas_names(model.state_dict(), 64)
    assert "scratch.refinenet4.resConfUnit2.conv1.weight" in state  # names as MiDaS writes them
    torch.save(state, tmp_path / "dpt_tiny_64.pt")
    estimator = make_depth_estimator(f"midas:{tmp_path / 'dpt_tiny_64.pt'}")
    loaded = estimator.model.state_dict()
    for name, tensor in model.state_dict().items():  # every tensor arrived where it belongs
        assert torch.equal(loaded[name], tensor), name
    image = smooth_image(3, 40, 56)
    depth = estimator(image)
    check_map(depth, (40, 56))
    with torch.no_grad():
        raw = model(pixel_values=estimator.network_input(image)).predicted_depth[0]
    assert depth.std() > 0 and np.corrcoef(depth.ravel(), resize_float(raw.numpy(), 40, 56).ravel())[0, 1] > 0.99


def test_midas_families_other_than_dpt_vit_are_refused(tmp_path):
    torch.save({"pretrained.layer1.0.0.weight": torch.zeros(8, 3, 3, 3)}, tmp_path / "midas_v21_small.pt")
    with pytest.raises(UnavailableError, match="not supported.*DPT-ViT only"):
        make_depth_estimator(f"midas:{tmp_path / 'midas_v21_small.pt'}")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(UnavailableError, match="not a readable PyTorch checkpoint"):
        make_depth_estimator(f"midas:{tmp_path / 'junk.pt'}")


def test_builtin_network_from_a_file(tmp_path):
    torch.manual_seed(0)
    save_model(tmp_path / "depth.safetensors", "ssr.depthnet", DepthNet(widths=(4, 8), view_side=40), 1,
               {"widths": [4, 8], "view_side": 40})
    estimator = make_depth_estimator(f"builtin:{tmp_path / 'depth.safetensors'}")
    image = smooth_image(2, 33, 45)
    check_map(estimator(image), (33, 45))
    check_map(estimator(image, (11, 15)), (11, 15))  # produced straight at the asked shape
    # the same scene at x4 resolution is seen at the same view size, so the map hardly changes
    big = np.clip(resize_float(image, 132, 180, "bicubic"), 0, 1)
    assert np.abs(estimator(big, (33, 45)) - estimator(image, (33, 45))).mean() < 0.05


def test_views_have_the_asked_longer_side_up_or_down():
    image = smooth_image(3, 30, 60)
    assert view_at_side(image, 120).shape == (60, 120, 3)  # enlarged (MATLAB bicubic)
    assert view_at_side(image, 20).shape == (10, 20, 3)  # reduced (Pillow)
    assert view_at_side(image, 60) is image
    constant = np.full((10, 20, 3), 0.3, np.float32)
    np.testing.assert_allclose(view_at_side(constant, 50), 0.3, atol=1e-6)


def test_missing_models_are_one_line_errors(tmp_path):
    with pytest.raises(UnavailableError, match="no config.json"):
        make_depth_estimator(f"hf:{tmp_path}")
    with pytest.raises(UnavailableError, match="not found"):
        make_depth_estimator(f"midas:{tmp_path / 'none.pt'}")
    with pytest.raises(UnavailableError, match="weights not found"):
        make_depth_estimator(f"builtin:{tmp_path / 'none.safetensors'}")
    with pytest.raises(ConfigError, match="unknown depth backend"):
        make_depth_estimator("zoedepth")


def test_ssi_loss_ignores_scale_and_shift_only():
    from ssr.train.depth_data import ssi_mse

    target = torch.rand(2, 1, 16, 16)
    assert float(ssi_mse(3 * target - 0.4, target)) < 1e-10
    assert float(ssi_mse(torch.rand(2, 1, 16, 16), target)) > 1e-3


def test_synthetic_layers_are_nearer_than_what_they_cover():
    from ssr.train.depth_data import synthetic_scene

    images = [smooth_image(i, 80, 80) for i in range(3)]
    rgb, depth = synthetic_scene(np.random.default_rng(0), images, 64)
    assert rgb.shape == (64, 64, 3) and depth.shape == (64, 64)
    assert depth.max() > 0.35 >= depth.min()  # at least one layer above the far background plane (<= 0.3 + tilt)


def test_held_out_split_is_the_last_scenes(shared_data):
    from ssr.train.depth_data import depth_pairs

    train, held = depth_pairs(shared_data / "depth")
    names = [rgb.name for rgb, _ in held]
    assert len(held) == 7 and "Middlebury_30_output_color.png" in names and "1002.jpg" in names
    assert not {rgb for rgb, _ in train} & {rgb for rgb, _ in held}


