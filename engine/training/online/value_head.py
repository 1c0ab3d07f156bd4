"""PPO's critic: a linear value head on the policy's last hidden states. The backbone
(with its LoRA adapter) is shared with the policy, as in TRL's value-head models, so the
critic costs one extra (H -> 1) layer rather than a second model."""

from __future__ import annotations

from pathlib import Path

import torch

VALUE_HEAD_FILE = "value_head.pt"


class ValueHead(torch.nn.Module):
    def __init__(self, hidden_size: int, seed: int):
        super().__init__()
        self.linear = torch.nn.Linear(hidden_size, 1)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            # Small weights and a zero bias: initial values near 0, so the first
            # advantages are the rewards themselves rather than noise.
            torch.nn.init.normal_(self.linear.weight, std=1.0 / (hidden_size + 1))
            torch.nn.init.zeros_(self.linear.bias)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:  # (N, T, H) -> (N, T, 1)
        return self.linear(hidden.to(self.linear.weight.dtype))


def hidden_size(model) -> int:
    config = model.config
    getter = getattr(config, "get_text_config", None)
    if getter is not None:
        config = getter()
    return int(config.hidden_size)


def save_value_head(head: ValueHead, folder: Path) -> None:
    torch.save(head.state_dict(), Path(folder) / VALUE_HEAD_FILE)


def load_value_head(head: ValueHead, folder: Path) -> None:
    path = Path(folder) / VALUE_HEAD_FILE
    if path.is_file():
        head.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
