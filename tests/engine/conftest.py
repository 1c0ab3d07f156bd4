"""Shared builders for engine tests: a tiny character-level tokenizer and tiny Llama
models built from a config and saved to temporary folders (nothing is downloaded)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

SPECIAL = ["<pad>", "<s>", "</s>", "<unk>"]
CHAT_TOKENS = ["<|user|>", "<|assistant|>", "<|system|>", "<|end|>"]
CHARS = list("abcdefghijklmnopqrstuvwxyz0123456789 +-=?.,:")
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}<|end|>{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Tiny models run fastest on one thread; on a busy shared CPU, torch's default
    thread pool spins and makes each generation step ~50x slower."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def build_tokenizer(*, chat_template: bool = True, pad: bool = True):
    """A PreTrainedTokenizerFast over one token per character (plus special tokens)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {tok: i for i, tok in enumerate(SPECIAL + CHARS)}
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Split("", behavior="isolated")
    backend.decoder = decoders.Fuse()
    backend.add_special_tokens(CHAT_TOKENS)
    kwargs = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}
    if pad:
        kwargs["pad_token"] = "<pad>"
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, **kwargs)
    if chat_template:
        tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def tiny_config(vocab_size: int, **overrides):
    from transformers import LlamaConfig

    settings = dict(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        intermediate_size=64,
        vocab_size=vocab_size,
        max_position_embeddings=128,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=0,
        tie_word_embeddings=False,
    )
    settings.update(overrides)
    return LlamaConfig(**settings)


def build_model_dir(
    folder: Path,
    *,
    chat_template: bool = True,
    pad: bool = True,
    seed: int = 0,
    pickle_only: bool = False,
    **config_overrides,
) -> Path:
    """Save a tiny random Llama and its tokenizer to ``folder`` and return it."""
    import torch
    from transformers import LlamaForCausalLM

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tokenizer(chat_template=chat_template, pad=pad)
    tokenizer.save_pretrained(folder)
    torch.manual_seed(seed)
    model = LlamaForCausalLM(tiny_config(len(tokenizer), **config_overrides))
    if pickle_only:
        model.config.save_pretrained(folder)
        torch.save(model.state_dict(), folder / "pytorch_model.bin")
    else:
        model.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A tiny chat model (read-only for tests: build your own to modify it)."""
    return build_model_dir(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture(scope="session")
def tiny_base_model_dir(tmp_path_factory) -> Path:
    """A tiny model without a chat template."""
    return build_model_dir(tmp_path_factory.mktemp("tiny-base"), chat_template=False, seed=1)


@pytest.fixture
def loaded_tiny(tiny_model_dir):
    """A fresh LoadedModel of the tiny chat model on the CPU in float32."""
    from engine.loading import load_model
    from engine.model_source import ModelSpec

    return load_model(ModelSpec(str(tiny_model_dir)), device="cpu", dtype="float32")


def make_fake_hf_cache(
    cache: Path,
    repo_id: str,
    files: dict[str, bytes],
    commit: str = "a" * 40,
    ref: str | None = "main",
) -> Path:
    """Lay out ``models--org--name/{blobs,snapshots/<commit>,refs/<ref>}`` like the Hub
    client does (snapshot files are symlinks to blobs) and return the snapshot folder."""
    import hashlib
    import os

    repo = cache / ("models--" + repo_id.replace("/", "--"))
    blobs = repo / "blobs"
    snapshot = repo / "snapshots" / commit
    blobs.mkdir(parents=True, exist_ok=True)
    snapshot.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        blob = blobs / hashlib.sha256(data).hexdigest()
        blob.write_bytes(data)
        target = snapshot / name
        target.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(os.path.relpath(blob, target.parent), target)
    if ref is not None:
        (repo / "refs").mkdir(exist_ok=True)
        (repo / "refs" / ref).write_text(commit)  # no newline, as the Hub client writes it
    return snapshot


def model_dir_files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in Path(folder).iterdir() if p.is_file()}


def config_dict(folder: Path) -> dict:
    return json.loads((Path(folder) / "config.json").read_text())


@pytest.fixture(scope="session")
def family_model_dir(tmp_path_factory):
    """``family_model_dir(name)``: the folder of a tiny random model of that family
    (tests/engine/architecture_families.py), its tokenizer trained once per session."""
    from tests.engine.architecture_families import BY_NAME, build_family_model, train_tokenizer

    root = tmp_path_factory.mktemp("families")
    built: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in built:
            family = BY_NAME[name]
            built[name] = build_family_model(family, root / name, train_tokenizer(family))
        return built[name]

    return get
