"""Supervised fine-tuning (InstructGPT's SFT stage, Ouyang et al. 2022, arXiv 2203.02155):
the negative log-likelihood of demonstrations, on their completion tokens only. The
prompt and completion are encoded as for the preference methods (chat template, end
token), so the model learns the answers it will be asked for at generation. The loss is
``engine.losses.sft.sft_loss``, through ``engine.training.sft_objective``."""

from __future__ import annotations

from typing import Any

from engine.training.batching import pad_sequences
from engine.training.encode import TooLong, encode_demonstrations
from engine.training.examples import DemonstrationExample
from engine.training.objectives import Objective
from engine.training.offline.base import GatherMean, OfflineAlgorithm, Sequence
from engine.training.sft_objective import sft_objective
from engine.training.split import Split


class SFT(OfflineAlgorithm):
    what = "demonstrations"
    where_to_get_them = (
        "Give train-split prompts a reference answer (Data view: import a chat or "
        'prompt/completion dataset), or set sft_source = "chosen" and label completions.'
    )

    def encode(
        self, tokenizer: Any, examples: list[DemonstrationExample]
    ) -> tuple[list, list[TooLong]]:
        return encode_demonstrations(tokenizer, examples, self.s.max_length)

    def reference_sequences(self, split: Split) -> list[Sequence]:
        return []  # no reference model

    def objective(
        self,
        model: Any,
        split: Split,
        indices: list[int],
        *,
        pad_id: int,
        device: Any,
        gather_mean: GatherMean,
    ) -> Objective:
        rows = split.rows(indices)
        batch = pad_sequences(
            [r.prompt_ids for r in rows], [r.completion_ids for r in rows], pad_id
        ).to(device)
        return sft_objective(model, batch)
