"""The `Stage` protocol: everything the stage-free training loop needs to know about one stage.

A stage owns its model family, its data, its named losses and its validation; the loop
(`ssr.train.trainer`) owns optimisation, EMA, logging, checkpoints and DDP. Adding a stage = one
file in this folder + one entry in `STAGES` (stages/__init__.py); its config section is its
`Settings` dataclass, validated strictly like every other section.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import torch
from torch import nn

if TYPE_CHECKING:
    from ssr.train.config import TrainConfig


class BatchSource(Protocol):
    """Pre-rendered training data: `batch(indices)` gives float tensors, the same for the same indices."""

    def __len__(self) -> int: ...

    def batch(self, indices: torch.Tensor) -> dict[str, torch.Tensor]: ...


class Stage(Protocol):
    name: ClassVar[str]
    architecture: ClassVar[str]  # the registry name its exported weights carry (ssr.models.registry)
    Settings: ClassVar[type]  # dataclass of the stage's config section
    val_name: ClassVar[str]  # what `validate` returns (log column "val")
    loss_terms: tuple[str, ...]  # names of the dict `losses` returns, in log order
    monitor_terms: tuple[str, ...]  # names of the dict `monitor` returns (logged, not optimised)

    def __init__(self, config: "TrainConfig") -> None: ...

    def model_kwargs(self) -> dict[str, Any]: ...

    def trained_module(self, model: nn.Module) -> nn.Module:
        """The part of `model` that `init` loads into and that is exported (training-only heads left out)."""

    def monitor(self) -> dict[str, float]:
        """Values logged beside the losses (e.g. an acceptance rate)."""

    def build_model(self) -> nn.Module: ...

    def export_scale(self) -> int: ...

    def load_data(self, rank: int, device: torch.device, start_step: int, model: nn.Module) -> tuple[BatchSource, list]:
        """(training data, validation items for rank 0). `start_step` > 0 on a resume (a stage may render
        a fresh cache then); `model` is the model being trained, after init/resume (a stage may need
        its fixed parts, e.g. a kernel code, to encode data). Every rank must build the same data."""

    def prepare_batch(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]: ...

    def losses(self, model: nn.Module, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]: ...

    def validate(self, model: nn.Module, val_set: list) -> float: ...

    def update_auxiliary(self) -> None:
        """Called after each optimiser step: a stage with a second trained part (e.g. a discriminator)
        steps it here, from what `losses` kept."""

    def auxiliary_state(self) -> dict[str, Any]:
        """What resuming needs of those parts (saved in the checkpoint, never exported)."""

    def load_auxiliary_state(self, state: dict[str, Any]) -> None: ...


class StageDefaults:
    """Defaults a stage may keep: export at the config's scale, batches used as they come, the whole
    model exported, nothing monitored."""

    monitor_terms: tuple[str, ...] = ()

    def __init__(self, config: "TrainConfig") -> None:
        self.config = config
        self.settings = config.settings

    def export_scale(self) -> int:
        return self.config.scale

    def prepare_batch(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return batch

    def trained_module(self, model: nn.Module) -> nn.Module:
        return model

    def monitor(self) -> dict[str, float]:
        return {}

    def update_auxiliary(self) -> None:
        pass

    def auxiliary_state(self) -> dict[str, Any]:
        return {}

    def load_auxiliary_state(self, state: dict[str, Any]) -> None:
        pass
