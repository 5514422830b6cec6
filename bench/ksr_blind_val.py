"""A KSR body's validation PSNR-Y given a DKENet's ESTIMATED codes (blind, flat depth) and given the TRUE
kernels, on the validation images of a stage-2 config (what `ssr train` logs as `val` for that config).

    .venv/bin/python bench/ksr_blind_val.py [CONFIG] [BODY_WEIGHTS]
    (defaults: configs/ksr2_x4.yaml, train_state/ksr_x4/model.safetensors = the stage-1 body)
"""

import sys
from pathlib import Path

from ssr.models.registry import load_model
from ssr.train.config import load_config
from ssr.train.real_use_data import real_use_val_set
from ssr.train.trainer import make_stage


def main() -> None:
    config = load_config(sys.argv[1] if len(sys.argv) > 1 else "configs/ksr2_x4.yaml")
    body = load_model(Path(sys.argv[2] if len(sys.argv) > 2 else "train_state/ksr_x4/model.safetensors")).model.eval()
    stage = make_stage(config)
    val = real_use_val_set(config, config.settings)
    stage.estimator = stage.load_estimator(body)
    print(f"blind (estimated codes): {stage.validate(body, val):.3f} dB on {len(val)} images")
    stage.estimator = None
    print(f"true kernels: {stage.validate(body, val):.3f} dB")


if __name__ == "__main__":
    main()
