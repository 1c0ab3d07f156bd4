"""The tokenizer of a model folder as GGUF metadata: tokens, their types, merges, special
token ids and the chat template, as llama.cpp's convert_hf_to_gguf.py writes them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import gguf

from engine.export.gguf_support import GgufPlan, read_json

# llama.cpp refuses a gpt2-model vocabulary without a merges array, and the gguf writer
# cannot write an empty one. A one-token-per-character vocabulary needs no merges, so it
# gets one between two control tokens: control tokens are cut out of the text before BPE
# runs, so no symbol ever equals one and the merge never fires (``build_vocab``).


@dataclass
class GgufVocab:
    model: str  # tokenizer.ggml.model: gpt2 or llama
    pre: str
    tokens: list[bytes] = field(default_factory=list)
    types: list[int] = field(default_factory=list)
    scores: list[float] | None = None
    merges: list[str] = field(default_factory=list)


def _added_tokens(tok: dict) -> dict[int, dict]:
    return {int(t["id"]): t for t in tok.get("added_tokens", [])}


def _byte_level(text: str) -> str:
    encoder = gguf.vocab.bytes_to_unicode()
    return "".join(encoder[b] for b in text.encode("utf-8"))


def _vocab_tokens(folder: Path, vocab_size: int, encode_chars: bool) -> GgufVocab:
    tok = read_json(folder / "tokenizer.json")
    added = _added_tokens(tok)
    by_id = {int(i): t for t, i in (tok["model"].get("vocab") or {}).items()}
    out = GgufVocab(model="gpt2", pre="default")
    for token_id in range(max([vocab_size - 1, *by_id, *added]) + 1):
        if token_id in added:
            entry = added[token_id]
            out.tokens.append(entry["content"].encode("utf-8"))
            special = entry.get("special", False)
            out.types.append(gguf.TokenType.CONTROL if special else gguf.TokenType.USER_DEFINED)
        elif token_id in by_id:
            text = _byte_level(by_id[token_id]) if encode_chars else by_id[token_id]
            out.tokens.append(text.encode("utf-8"))
            out.types.append(gguf.TokenType.NORMAL)
        else:  # rows of the embedding no token uses, as llama.cpp's converter names them
            out.tokens.append(f"[PAD{token_id}]".encode())
            out.types.append(gguf.TokenType.UNUSED)
    return out


def _llama_hf_tokens(folder: Path, vocab_size: int) -> GgufVocab:
    vocab = gguf.vocab.LlamaHfVocab(folder)
    out = GgufVocab(model="llama", pre="default", scores=[])
    assert out.scores is not None
    for text, score, kind in vocab.all_tokens():
        out.tokens.append(text)
        out.scores.append(score)
        out.types.append(kind)
    for token_id in range(len(out.tokens), vocab_size):
        out.tokens.append(f"[PAD{token_id}]".encode())
        out.scores.append(-1000.0)
        out.types.append(gguf.TokenType.UNUSED)
    return out


def build_vocab(folder: Path, plan: GgufPlan, vocab_size: int) -> tuple[GgufVocab, object]:
    """(tokens, gguf.SpecialVocab with ids, merges and chat template)."""
    if plan.tokenizer == "llama":
        vocab = _llama_hf_tokens(folder, vocab_size)
    else:
        vocab = _vocab_tokens(folder, vocab_size, encode_chars=plan.tokenizer == "chars")
        vocab.pre = plan.pre
    special = gguf.SpecialVocab(folder, load_merges=plan.tokenizer == "bpe", n_vocab=vocab_size)
    if plan.tokenizer == "chars":
        controls = [
            t.decode()
            for t, k in zip(vocab.tokens, vocab.types, strict=True)
            if k == gguf.TokenType.CONTROL
        ]
        if not controls:
            from engine.export.formats import ExportError

            raise ExportError(
                f"The character tokenizer of {folder.name} has no special tokens, which its "
                "GGUF vocabulary needs."
            )
        special.merges = [f"{controls[0]} {controls[0]}"]
    if "bos" not in special.special_token_ids:
        # No BOS token: llama.cpp must not prepend one its default would pick.
        special.add_special_token["bos"] = False
    return vocab, special


def add_vocab(writer: gguf.GGUFWriter, vocab: GgufVocab, special: object) -> None:
    writer.add_tokenizer_model(vocab.model)
    writer.add_tokenizer_pre(vocab.pre)
    writer.add_token_list(vocab.tokens)
    writer.add_token_types(vocab.types)
    if vocab.scores is not None:
        writer.add_token_scores(vocab.scores)
    special.add_to_gguf(writer, quiet=True)  # type: ignore[attr-defined]
