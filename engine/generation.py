"""Sample completions from a loaded model: batched, reproducible, stoppable.

``SamplingSettings`` is a plain dataclass the GUI builds and stores with every
completion; importing this module does not import torch (torch and transformers are
imported inside ``generate``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any

from engine.errors import EngineError, PromptTooLongError, SettingsError
from engine.padding import cut_at_end, left_pad, pad_token_id
from engine.seeding import seeded
from engine.tokens import end_token_ids, has_chat_template, render_chat, user_turn

if TYPE_CHECKING:
    from engine.loading import LoadedModel

Prompt = str | list[dict]


_MAX_SEED = 2**63 - 1


@dataclass
class SamplingSettings:
    """How to sample. Greedy decoding when ``do_sample`` is False or ``temperature`` is 0;
    ``top_k`` 0 and ``top_p`` 1.0 switch those filters off."""

    max_new_tokens: int = 64
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0
    do_sample: bool = True
    seed: int = 0

    @property
    def greedy(self) -> bool:
        return not self.do_sample or self.temperature == 0

    def validate(self) -> None:
        """Raise SettingsError (a ValueError) when a value is out of range."""
        if not isinstance(self.max_new_tokens, int) or self.max_new_tokens < 1:
            raise SettingsError(
                f"max_new_tokens must be a whole number of at least 1, not {self.max_new_tokens!r}."
            )
        if not 0 <= float(self.temperature) <= 100:
            raise SettingsError(f"temperature must be between 0 and 100, not {self.temperature!r}.")
        if not 0 < float(self.top_p) <= 1:
            raise SettingsError(f"top_p must be above 0 and at most 1, not {self.top_p!r}.")
        if not isinstance(self.top_k, int) or self.top_k < 0:
            raise SettingsError(
                f"top_k must be a whole number, 0 or more (0 = off), not {self.top_k!r}."
            )
        if not isinstance(self.seed, int) or not 0 <= self.seed <= _MAX_SEED:
            raise SettingsError(
                f"seed must be a whole number between 0 and {_MAX_SEED}, not {self.seed!r}."
            )

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> SamplingSettings:
        """Build from ``to_dict`` output; unknown keys are ignored, missing keys default.
        The result is validated."""
        types = {
            "max_new_tokens": int,
            "temperature": float,
            "top_p": float,
            "top_k": int,
            "do_sample": bool,
            "seed": int,
        }
        known = {f.name for f in fields(cls)}
        kwargs = {}
        for key, value in data.items():
            if key in known and value is not None:
                try:
                    kwargs[key] = types[key](value)
                except (TypeError, ValueError):
                    raise SettingsError(
                        f"{key} must be a {types[key].__name__}, not {value!r}."
                    ) from None
        settings = cls(**kwargs)
        settings.validate()
        return settings


@dataclass
class Generated:
    """One completion. ``num_tokens`` counts the new tokens including the stop token;
    ``finish_reason`` is "stop" (an eos / end-of-turn token was produced) or "length"
    (cut at max_new_tokens)."""

    text: str
    num_tokens: int
    finish_reason: str


def max_positions(model: Any) -> int | None:
    """The model's context window from its config, or None when it does not say."""
    config = getattr(model, "config", None)
    if config is None:
        return None
    get_text = getattr(config, "get_text_config", None)
    if callable(get_text):
        try:
            config = get_text()
        except Exception:  # some configs need arguments; the outer config then
            pass
    for name in (
        "max_position_embeddings",
        "n_positions",
        "max_sequence_length",
        "seq_length",
        "n_ctx",
    ):
        value = getattr(config, name, None)
        if isinstance(value, int) and value > 0:
            return value
    return None


def _check_messages(index: int, messages: list) -> None:
    if not messages:
        raise EngineError(
            f"Prompt {index} is an empty conversation.", "Give it at least one message."
        )
    for message in messages:
        if (
            not isinstance(message, dict)
            or not isinstance(message.get("role"), str)
            or not isinstance(message.get("content"), str)
        ):
            raise EngineError(
                f"Prompt {index} has a message that is not {{'role': str, 'content': str}}: {message!r}.",
                "Fix the prompt's messages.",
            )


def encode_prompts(tokenizer: Any, prompts: Sequence[Prompt]) -> list[list[int]]:
    """Token ids of each prompt. With a chat template, a plain string becomes one user
    message and the template is applied with the generation prompt; without one, a
    string is tokenized as is (with the tokenizer's special tokens)."""
    chat = has_chat_template(tokenizer)
    encoded: list[list[int]] = []
    for index, prompt in enumerate(prompts):
        if isinstance(prompt, str):
            if chat:
                text = render_chat(tokenizer, user_turn(prompt), add_generation_prompt=True)
                ids = tokenizer(text, add_special_tokens=False)["input_ids"]
            else:
                ids = tokenizer(prompt, add_special_tokens=True)["input_ids"]
        elif isinstance(prompt, list):
            _check_messages(index, prompt)
            if not chat:
                raise EngineError(
                    f"Prompt {index} is a chat conversation, but this model's tokenizer has no chat template.",
                    "Use a chat (instruct) model, or give the prompt as plain text.",
                )
            text = render_chat(tokenizer, prompt, add_generation_prompt=True)
            ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        else:
            raise EngineError(
                f"Prompt {index} is a {type(prompt).__name__}, not text or a list of messages.",
                "Give each prompt as a string or as a list of {'role', 'content'} messages.",
            )
        ids = list(ids)
        if not ids:
            if tokenizer.bos_token_id is None:
                raise EngineError(f"Prompt {index} is empty.", "Give it some text.")
            ids = [tokenizer.bos_token_id]
        encoded.append(ids)
    return encoded


def stop_token_ids(loaded: LoadedModel) -> list[int]:
    """Every id generation stops at: the chat template's end of turn, the model's eos ids
    (its generation config may list several) and the tokenizer's, and the end-of-turn
    special tokens the tokenizer has (engine.tokens.end_token_ids)."""
    gen_config = getattr(loaded.model, "generation_config", None)
    return end_token_ids(loaded.tokenizer, getattr(gen_config, "eos_token_id", None))


def batch_seed(seed: int, batch_index: int) -> int:
    """A well-mixed seed for one batch from the settings' seed and the batch index."""
    digest = hashlib.sha256(f"{seed}:{batch_index}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def generation_config(settings: SamplingSettings, pad_id: int, eos_ids: list[int]):
    from transformers import GenerationConfig

    # Every knob is set explicitly so that neither the model's own generation_config nor
    # the library's defaults (top_k=50) change what the stored settings say.
    common = {
        "max_new_tokens": settings.max_new_tokens,
        "min_new_tokens": 0,
        "num_beams": 1,
        "repetition_penalty": 1.0,
        "no_repeat_ngram_size": 0,
        "pad_token_id": pad_id,
        "eos_token_id": eos_ids or None,
        "use_cache": True,
    }
    if settings.greedy:
        return GenerationConfig(do_sample=False, **common)
    return GenerationConfig(
        do_sample=True,
        temperature=float(settings.temperature),
        top_p=float(settings.top_p),
        top_k=int(settings.top_k),
        typical_p=1.0,
        **common,
    )


def _decode_lean(
    model: Any,
    prompt_of_row: list[int],
    encoded: list[list[int]],
    settings: SamplingSettings,
    eos_ids: list[int],
    pad_id: int,
    device: Any,
) -> list[list[int]]:
    """One batch through the lean decode loop (``engine.decoding``): each distinct prompt
    of the batch prefilled once for all its rows; the same tokens ``generate()`` draws."""
    from engine.decoding.loop import decode
    from engine.decoding.sampler import Sampling

    distinct = sorted(set(prompt_of_row))  # rows are grouped by prompt, in prompt order
    where = {p: i for i, p in enumerate(distinct)}
    sampling = Sampling(
        settings.greedy, float(settings.temperature), int(settings.top_k), float(settings.top_p)
    )
    out = decode(
        model,
        [encoded[p] for p in distinct],
        [where[p] for p in prompt_of_row],
        max_new_tokens=settings.max_new_tokens,
        sampling=sampling,
        stop_ids=eos_ids,
        pad_id=pad_id,
        device=device,
        logprobs=False,
    )
    return out.tokens


def generate(
    loaded: LoadedModel,
    prompts: list[Prompt],
    settings: SamplingSettings,
    n: int = 1,
    batch_size: int = 16,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> list[list[Generated]]:
    """Generate ``n`` completions for each prompt; ``result[i]`` holds prompt i's.

    - Rows (each prompt repeated ``n`` times, in order) are run ``batch_size`` rows at a
      time, left-padded with the attention mask, with the KV cache. Models the lean
      decode loop covers (``engine.decoding.support``) prefill each prompt of a batch once
      and draw the same tokens as ``model.generate()``, which the others use.
    - Reproducible: batch b is sampled under the seed ``batch_seed(settings.seed, b)``
      (the global RNG state is restored afterwards), so the same (seed, prompts, n,
      batch_size) give the same texts on the same device and library versions.
    - Every prompt is checked first: one whose tokens plus max_new_tokens exceed the
      model's maximum positions raises PromptTooLongError before anything is generated.
    - ``progress(done_prompts, total_prompts)`` is called after each batch; a prompt is
      done when all its ``n`` completions are.
    - ``should_stop()`` is called before each batch. When it returns True, generation
      stops and the result holds only the prompts finished so far: a prefix of the
      prompts, so ``len(result) < len(prompts)`` tells a stopped run from a full one.
    - Texts are decoded from the new tokens only, skipping special tokens. A model in
      training mode is switched to eval mode for the call and back afterwards.
    """
    settings.validate()
    if n < 1:
        raise SettingsError(f"n must be at least 1, not {n!r}.")
    if batch_size < 1:
        raise SettingsError(f"batch_size must be at least 1, not {batch_size!r}.")
    total = len(prompts)
    if total == 0:
        return []

    tokenizer = loaded.tokenizer
    model = loaded.model
    encoded = encode_prompts(tokenizer, prompts)
    limit = max_positions(model)
    if limit is not None:
        for index, ids in enumerate(encoded):
            if len(ids) + settings.max_new_tokens > limit:
                raise PromptTooLongError(index, len(ids), limit, settings.max_new_tokens)

    import torch

    pad_id = pad_token_id(tokenizer)
    eos_ids = stop_token_ids(loaded)
    eos_set = set(eos_ids)
    gen_config = generation_config(settings, pad_id, eos_ids)
    device = torch.device(loaded.device)
    from engine.decoding.support import lean_decoding_supported

    lean = lean_decoding_supported(model, device)

    rows = [(p, j) for p in range(total) for j in range(n)]
    results: list[list[Generated]] = [[] for _ in range(total)]
    rows_done = 0
    was_training = bool(getattr(model, "training", False))
    model.eval()
    try:
        for batch_index, start in enumerate(range(0, len(rows), batch_size)):
            if should_stop is not None and should_stop():
                break
            batch = rows[start : start + batch_size]
            with (
                seeded(batch_seed(settings.seed, batch_index), loaded.device),
                torch.inference_mode(),
            ):
                if lean:
                    new_tokens = _decode_lean(
                        model, [p for p, _ in batch], encoded, settings, eos_ids, pad_id, device
                    )
                else:
                    input_ids, attention = left_pad([encoded[p] for p, _ in batch], pad_id)
                    out = model.generate(
                        input_ids=input_ids.to(device),
                        attention_mask=attention.to(device),
                        generation_config=gen_config,
                    )
                    new_tokens = out[:, input_ids.shape[1] :].tolist()
            for (p, _), tokens in zip(batch, new_tokens, strict=True):
                kept, truncated = cut_at_end(tokens, eos_set, settings.max_new_tokens)
                reason = "length" if truncated else "stop"
                text = tokenizer.decode(kept, skip_special_tokens=True)
                results[p].append(Generated(text=text, num_tokens=len(kept), finish_reason=reason))
            rows_done += len(batch)
            if progress is not None:
                progress(rows_done // n, total)
    finally:
        if was_training:
            model.train()
    return results[: rows_done // n]
