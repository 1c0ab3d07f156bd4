"""Tokens as a model's tokenizer and chat template make them: counting a completion's
tokens (for token-length rules), rendering a conversation, and the boundary between a
prompt and its completion, which ends with the template's end-of-turn token."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.errors import EngineError


def token_counter(tokenizer: Any) -> Callable[[str], int]:
    """Tokens of a completion as the model would produce them: no special tokens added."""

    def count(text: str) -> int:
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])

    return count


# A template that stamps today's date (Llama 3.1+: "Today Date: ...") would encode the same
# prompt differently from one day to the next, so that cached reference log-probs, a resumed
# run and the generation of a completion would disagree on the prompt's tokens. The date is
# fixed to the one the template itself falls back to.
CHAT_TEMPLATE_KWARGS: dict[str, Any] = {"date_string": "26 Jul 2024"}

# End-of-turn tokens of common chat templates; besides the template's own (found by
# rendering it), generation stops on those the tokenizer has as special tokens.
END_OF_TURN_TOKENS = (
    "<|im_end|>",
    "<|eot_id|>",
    "<|eom_id|>",
    "<|end|>",
    "<end_of_turn>",
    "<|end_of_text|>",
    "<|endoftext|>",
)

_PROBE_PROMPT = "Hi"
_PROBE_REPLY = "Hello"


def has_chat_template(tokenizer: Any) -> bool:
    return bool(getattr(tokenizer, "chat_template", None))


def user_turn(prompt: str | list[dict]) -> list[dict]:
    """A prompt as chat messages: a plain string is one user message."""
    return [{"role": "user", "content": prompt}] if isinstance(prompt, str) else list(prompt)


def render_chat(tokenizer: Any, messages: list[dict], *, add_generation_prompt: bool) -> str:
    """The template's text of ``messages`` (date fixed, see CHAT_TEMPLATE_KWARGS)."""
    return tokenizer.apply_chat_template(
        messages,
        tokenize=False,
        add_generation_prompt=add_generation_prompt,
        **CHAT_TEMPLATE_KWARGS,
    )


def _special_ids(tokenizer: Any) -> set[int]:
    ids = {int(i) for i in getattr(tokenizer, "all_special_ids", [])}
    added = getattr(tokenizer, "added_tokens_decoder", None) or {}
    ids.update(int(i) for i, token in added.items() if getattr(token, "special", False))
    return ids


def _assistant_tail(tokenizer: Any, prompt: str | list[dict], text: str) -> str | None:
    """What the template writes after the prompt (with its generation prompt) when the
    assistant answers ``text``; None when the prompt's rendering is not a prefix of the
    conversation's (a template that moves the system prompt into the last user turn)."""
    messages = user_turn(prompt)
    head = render_chat(tokenizer, messages, add_generation_prompt=True)
    full = render_chat(
        tokenizer,
        messages + [{"role": "assistant", "content": text}],
        add_generation_prompt=False,
    )
    return full[len(head) :] if full.startswith(head) else None


def template_end_id(tokenizer: Any) -> int | None:
    """The special token the chat template closes an assistant turn with (``<|im_end|>``,
    ``<|eot_id|>``, ``<end_of_turn>``, ``</s>``...), or None without a template."""
    if not has_chat_template(tokenizer):
        return None
    try:
        tail = _assistant_tail(tokenizer, _PROBE_PROMPT, _PROBE_REPLY)
    except Exception:  # a template that refuses the probe conversation has no known end
        return None
    if tail is None or _PROBE_REPLY not in tail:
        return None
    after = tail[tail.index(_PROBE_REPLY) + len(_PROBE_REPLY) :]
    special = _special_ids(tokenizer)
    for token_id in tokenizer(after, add_special_tokens=False)["input_ids"]:
        if int(token_id) in special:
            return int(token_id)
    return None


def end_token_ids(tokenizer: Any, generation_eos: Any = None) -> list[int]:
    """Every id a completion ends at: the template's end of turn first, then the ids of the
    model's generation config (``generation_eos``: an id or a list), the tokenizer's eos and
    the known end-of-turn special tokens it has."""
    ids: list[int] = []

    def add(value: Any) -> None:
        for item in value if isinstance(value, (list, tuple, set)) else [value]:
            if isinstance(item, int) and item not in ids:
                ids.append(item)

    add(template_end_id(tokenizer))
    add(generation_eos)
    add(tokenizer.eos_token_id)
    added = getattr(tokenizer, "added_tokens_decoder", None) or {}
    for token_id, token in sorted(added.items()):
        if getattr(token, "special", False) and str(token) in END_OF_TURN_TOKENS:
            add(int(token_id))
    return ids


def completion_token_ids(
    tokenizer: Any, prompt: str | list[dict], text: str, ends: list[int] | None = None
) -> list[int]:
    """The ids a model should produce after ``prompt``'s ids to answer ``text`` and stop:
    with a chat template, what the template writes for the assistant's turn (its leading
    space or think block, the text as it trims it) up to and including its end-of-turn
    token; without one, the text and the eos token.

    Prompt ids followed by these are the template's own tokens of the conversation, so the
    loss sees the token at which sampling stops (TRL #5213, #6105). ``ends`` (default
    ``end_token_ids(tokenizer)``) saves finding them again for every example."""
    ends = end_token_ids(tokenizer) if ends is None else ends
    tail = None
    if has_chat_template(tokenizer):
        # A template that moves the system prompt into the last user turn (Mistral's)
        # renders the prompt differently once an answer follows: the answer's turn is then
        # read from a plain one-question conversation.
        tail = _assistant_tail(tokenizer, prompt, text)
        if tail is None:
            tail = _assistant_tail(tokenizer, _PROBE_PROMPT, text)
    if tail is None:
        ids = list(tokenizer(text, add_special_tokens=False)["input_ids"])
    else:
        ids = list(tokenizer(tail, add_special_tokens=False)["input_ids"])
    stop_at = next((k for k, t in enumerate(ids) if t in ends), None)
    if stop_at is not None:
        return ids[: stop_at + 1]
    # Without the template's own end, the turn ends with eos (never a guessed token).
    close = template_end_id(tokenizer) if tail is not None else None
    close = tokenizer.eos_token_id if close is None else close
    if close is None:
        raise EngineError(
            "The tokenizer has no end-of-sequence token, so completions cannot end.",
            "Use a model whose tokenizer defines eos_token.",
        )
    return ids + [int(close)]
