"""Counting tokens the way a loaded model's tokenizer does (for token-length rules)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def token_counter(tokenizer: Any) -> Callable[[str], int]:
    """Tokens of a completion as the model would produce them: no special tokens added."""

    def count(text: str) -> int:
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])

    return count
