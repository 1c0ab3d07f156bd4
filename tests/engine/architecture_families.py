"""Tiny random models of the families users bring (Llama, Mistral, Qwen2, Qwen3, Gemma 2,
Phi-3, GPT-2, a tied-embedding SmolLM-style Llama), each with a byte-level BPE tokenizer
trained here with ``tokenizers`` on the demo task and the family's real chat template
(tests/data/chat_templates/), its special tokens, and the generation config the family
ships (several end tokens where the real one lists several). Nothing is downloaded."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "data" / "chat_templates"
VOCAB_SIZE = 400

# The blocks of every family: 2 layers, hidden 32, 2 heads (one kv head where the family
# has grouped-query attention).
_BLOCKS = dict(
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=2,
    num_key_value_heads=1,
    intermediate_size=64,
    max_position_embeddings=256,
)


@dataclass(frozen=True)
class Family:
    name: str
    model_type: str
    template: str | None  # file name under tests/data/chat_templates
    bos: str | None
    eos: str
    pad: str | None
    unk: str | None = None
    specials: tuple[str, ...] = ()  # more special tokens (turn markers, reserved pads)
    plain_added: tuple[str, ...] = ()  # added tokens that are not special (<think>)
    generation_eos: tuple[str, ...] = ()  # the generation config's eos list, when it has one
    turn_end: str | None = None  # the token the template closes an assistant turn with
    config: dict[str, Any] = field(default_factory=dict)

    def tokens(self) -> list[str]:
        named = [t for t in (self.bos, self.eos, self.pad, self.unk) if t is not None]
        return list(dict.fromkeys(named + list(self.specials)))


FAMILIES: tuple[Family, ...] = (
    Family(
        "llama",
        "llama",
        "llama3.1.jinja",
        bos="<|begin_of_text|>",
        eos="<|end_of_text|>",  # Llama 3.0's tokenizer: the turn's end is only in the config
        pad=None,
        specials=("<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>", "<|eom_id|>")
        + ("<|finetune_right_pad_id|>",),
        generation_eos=("<|end_of_text|>", "<|eom_id|>", "<|eot_id|>"),
        turn_end="<|eot_id|>",
        config={**_BLOCKS, "tie_word_embeddings": False},
    ),
    Family(
        "mistral",
        "mistral",
        "mistral-v0.3.jinja",
        bos="<s>",
        eos="</s>",
        pad=None,
        unk="<unk>",
        specials=("[INST]", "[/INST]"),
        turn_end="</s>",
        config={**_BLOCKS, "tie_word_embeddings": False, "sliding_window": None},
    ),
    Family(
        "qwen2",
        "qwen2",
        "qwen2.5.jinja",
        bos=None,
        eos="<|im_end|>",
        pad="<|endoftext|>",
        specials=("<|im_start|>",),
        generation_eos=("<|im_end|>", "<|endoftext|>"),
        turn_end="<|im_end|>",
        config={**_BLOCKS, "tie_word_embeddings": False},
    ),
    Family(
        "qwen3",
        "qwen3",
        "qwen3.jinja",
        bos=None,
        eos="<|im_end|>",
        pad="<|endoftext|>",
        specials=("<|im_start|>",),
        plain_added=("<think>", "</think>"),
        generation_eos=("<|im_end|>", "<|endoftext|>"),
        turn_end="<|im_end|>",
        config={**_BLOCKS, "head_dim": 16, "tie_word_embeddings": True},
    ),
    Family(
        "gemma2",
        "gemma2",
        "gemma.jinja",
        bos="<bos>",
        eos="<eos>",
        pad="<pad>",
        unk="<unk>",
        specials=("<start_of_turn>", "<end_of_turn>"),
        generation_eos=("<eos>", "<end_of_turn>"),
        turn_end="<end_of_turn>",
        config={
            **_BLOCKS,
            "head_dim": 16,
            "query_pre_attn_scalar": 16,
            "sliding_window": 64,
            "final_logit_softcapping": 30.0,
            "attn_logit_softcapping": 50.0,
            "tie_word_embeddings": True,
        },
    ),
    Family(
        "phi3",
        "phi3",
        "phi3.jinja",
        bos="<s>",
        eos="<|endoftext|>",
        pad="<|endoftext|>",
        unk="<unk>",
        specials=("<|system|>", "<|user|>", "<|assistant|>", "<|end|>"),
        generation_eos=("<|endoftext|>", "<|assistant|>", "<|end|>"),
        turn_end="<|end|>",
        config={**_BLOCKS, "num_key_value_heads": 2, "tie_word_embeddings": False},
    ),
    Family(
        "gpt2",
        "gpt2",
        None,
        bos="<|endoftext|>",
        eos="<|endoftext|>",
        pad=None,
        config={"n_embd": 32, "n_layer": 2, "n_head": 2, "n_positions": 256},
    ),
    Family(
        "smollm",
        "llama",
        "smollm2.jinja",
        bos="<|im_start|>",
        eos="<|im_end|>",
        pad="<|im_end|>",
        unk="<|endoftext|>",
        turn_end="<|im_end|>",
        config={**_BLOCKS, "tie_word_embeddings": True},
    ),
)
BY_NAME = {f.name: f for f in FAMILIES}


def template_text(family: Family) -> str | None:
    if family.template is None:
        return None
    return (TEMPLATES_DIR / family.template).read_text(encoding="utf-8")


def _corpus(family: Family) -> list[str]:
    """What the tokenizer learns its merges from: the demo task, in and out of the chat
    template (so that the template's words get merged as in a real vocabulary)."""
    from engine.demo.task import demo_splits, format_answer

    problems = [p for split in demo_splits().values() for p in split][:300]
    lines = [p.question for p in problems] + [format_answer(p.answer) for p in problems]
    template = template_text(family)
    if template is not None:
        lines += template.splitlines()
    return lines


def train_tokenizer(family: Family):
    """A PreTrainedTokenizerFast: byte-level BPE of about VOCAB_SIZE tokens."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=family.tokens(),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(_corpus(family), trainer=trainer)
    names = {"bos_token": family.bos, "eos_token": family.eos, "pad_token": family.pad}
    names["unk_token"] = family.unk
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, **{k: v for k, v in names.items() if v is not None}
    )
    if family.specials:
        tokenizer.add_special_tokens({"additional_special_tokens": list(family.specials)})
    if family.plain_added:
        tokenizer.add_tokens(list(family.plain_added))
    template = template_text(family)
    if template is not None:
        tokenizer.chat_template = template
    return tokenizer


def build_family_model(family: Family, folder: Path, tokenizer, seed: int = 0) -> Path:
    """Save a random model of ``family`` (config from a dict) with ``tokenizer``."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, GenerationConfig

    folder.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(folder)
    ids = {
        "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.eos_token_id,
        "pad_token_id": tokenizer.pad_token_id,
    }
    config = AutoConfig.for_model(
        family.model_type, vocab_size=len(tokenizer), **ids, **family.config
    )
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config)
    model.save_pretrained(folder)
    eos = [tokenizer.convert_tokens_to_ids(t) for t in family.generation_eos]
    generation = GenerationConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=eos if eos else tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    generation.save_pretrained(folder)
    (folder / "family.json").write_text(json.dumps({"family": family.name}), encoding="utf-8")
    return folder
