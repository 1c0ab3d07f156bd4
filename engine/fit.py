"""Estimate whether a model fits in memory before anything loads.

No torch here: the GUI shows the estimate before it starts the worker. The parameter
count comes from the safetensors headers (8-byte little-endian header length, then a JSON
header that lists every tensor's dtype and shape), so no weight is read; without
safetensors it comes from config.json arithmetic. Every term is a rough, documented
approximation: the estimate is for telling "fits easily" from "will not fit", not for
exact accounting.
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass
from pathlib import Path

from engine.errors import ModelLoadError

DTYPE_BYTES: dict[str, float] = {
    "float32": 4,
    "fp32": 4,
    "float16": 2,
    "fp16": 2,
    "bfloat16": 2,
    "bf16": 2,
    "int8": 1,
    "4bit": 0.5,
    "nf4": 0.5,
    "fp4": 0.5,
}

# Names of tensors that are not "linear layers" LoRA's "all-linear" targets.
_NOT_LINEAR = ("embed", "wte", "wpe", "lm_head", "norm", "ln_", "score", "classifier")

_MAX_HEADER_BYTES = 100 * 1024 * 1024

# The most logits the training loop holds at once (engine/training/logprobs.py applies the
# output head to the completion positions in chunks of this many logits; float32: 64 MiB).
LOGIT_CHUNK_ELEMENTS = 2**24


@dataclass
class FitEstimate:
    """Bytes per term; ``fits`` is None when the available memory is unknown."""

    weights_bytes: int
    adapter_bytes: int
    optimizer_bytes: int
    activations_bytes: int
    kv_cache_bytes: int
    total_bytes: int
    available_bytes: int | None
    fits: bool | None
    gradient_bytes: int = 0
    # What loading needs above the run's parts (a wider-stored tensor read beside the
    # weights); the total counts it, so the total is the sum of the terms.
    loading_bytes: int = 0
    num_parameters: int = 0
    trainable_parameters: int = 0

    def summary(self) -> str:
        """E.g. "needs ~1.2 GiB of 15.6 GiB available"."""
        need = f"needs ~{format_bytes(self.total_bytes)}"
        if self.available_bytes is None:
            return f"{need} (available memory unknown)"
        text = f"{need} of {format_bytes(self.available_bytes)} available"
        return text if self.fits else f"{text}: does not fit"


def format_bytes(n: float) -> str:
    """1536 -> "1.5 KiB"; binary units, one decimal."""
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{value:.0f} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"  # pragma: no cover


def _read_safetensors_header(path: Path) -> dict:
    with open(path, "rb") as handle:
        raw = handle.read(8)
        if len(raw) != 8:
            raise ValueError(f"{path.name} is too short to be a safetensors file")
        (length,) = struct.unpack("<Q", raw)
        if length > _MAX_HEADER_BYTES:
            raise ValueError(f"{path.name} has an implausible header length")
        header = json.loads(handle.read(length))
    header.pop("__metadata__", None)
    return header


def read_tensor_shapes(model_dir: Path) -> dict[str, list[int]] | None:
    """Map tensor name -> shape from the safetensors headers, or None when there are none.

    A sharded model is read through model.safetensors.index.json (its "weight_map"
    names the shard files); otherwise every *.safetensors file in the folder is read.
    """
    model_dir = Path(model_dir)
    index = model_dir / "model.safetensors.index.json"
    if index.is_file():
        weight_map = json.loads(index.read_text(encoding="utf-8")).get("weight_map", {})
        files = sorted({model_dir / name for name in weight_map.values()})
    else:
        files = sorted(model_dir.glob("*.safetensors"))
    if not files:
        return None
    shapes: dict[str, list[int]] = {}
    for file in files:
        for name, info in _read_safetensors_header(file).items():
            shapes[name] = [int(d) for d in info.get("shape", [])]
    return shapes


# safetensors' floating-point dtypes, by bytes per value.
STORED_WIDTH = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2}


def weight_files(folder: Path) -> list[Path] | None:
    """The safetensors files from_pretrained reads: the index's shards, or
    model.safetensors; None for any other layout (left to transformers)."""
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        weight_map = json.loads(index.read_text(encoding="utf-8")).get("weight_map", {})
        return sorted({folder / name for name in weight_map.values()}) or None
    single = folder / "model.safetensors"
    return [single] if single.is_file() else None


def largest_wider_tensor(files: list[Path], width: float) -> int:
    """Bytes of the largest tensor of ``files`` stored wider than ``width`` bytes a value
    (0: none)."""
    largest = 0
    for file in (f for f in files if f.is_file()):
        for info in _read_safetensors_header(file).values():
            stored = STORED_WIDTH.get(str(info.get("dtype")), 0)
            if stored > width:
                largest = max(largest, math.prod(info.get("shape", [])) * stored)
    return int(largest)


# From about this size the activations and the float32 weights are gigabytes (a 0.5 B
# model at 2 x 512 tokens: 1.8 GiB of weights, 7 GiB of activations without
# checkpointing); below it a run fits anywhere and float32 costs nothing that matters.
LARGE_MODEL_PARAMETERS = 100_000_000


def is_large(num_parameters: int) -> bool:
    return num_parameters >= LARGE_MODEL_PARAMETERS


def resolve_checkpointing(choice: str | bool, num_parameters: int) -> bool:
    """Whether a run recomputes activations: "on" (or true), "off" (or false), or for
    "auto" a large model."""
    if isinstance(choice, bool):
        return choice
    if choice == "auto":
        return is_large(num_parameters)
    return choice == "on"


def _text_config(config: dict) -> dict:
    # Multimodal configs keep the language model's settings under "text_config".
    inner = config.get("text_config")
    return {**config, **inner} if isinstance(inner, dict) else config


def _get(config: dict, *names: str, default=None):
    for name in names:
        if config.get(name) is not None:
            return config[name]
    return default


@dataclass
class _Arch:
    hidden: int
    layers: int
    heads: int
    kv_heads: int
    head_dim: int
    intermediate: int
    vocab: int
    tied: bool
    gated_mlp: bool


def _arch(config: dict) -> _Arch:
    hidden = int(_get(config, "hidden_size", "n_embd", "d_model", default=0))
    layers = int(_get(config, "num_hidden_layers", "n_layer", "num_layers", default=0))
    heads = int(_get(config, "num_attention_heads", "n_head", "num_heads", default=1))
    kv_heads = int(_get(config, "num_key_value_heads", "num_kv_heads", default=heads))
    head_dim = int(_get(config, "head_dim", default=hidden // max(heads, 1)))
    intermediate = int(_get(config, "intermediate_size", "n_inner", "ffn_dim", default=4 * hidden))
    vocab = int(_get(config, "vocab_size", default=0))
    tied = bool(config.get("tie_word_embeddings", True))
    # GPT-2 style models ("n_embd") have a two-matrix MLP; Llama/Mistral/Qwen/Gemma
    # style models a gated three-matrix MLP (gate, up, down).
    gated = "n_embd" not in config and config.get("model_type") not in {"gpt2", "gpt_neox", "opt"}
    return _Arch(hidden, layers, heads, kv_heads, head_dim, intermediate, vocab, tied, gated)


def _linear_shapes_from_config(a: _Arch) -> list[tuple[int, int]]:
    """(in, out) of every linear layer in the transformer blocks (what "all-linear" hits)."""
    per_layer = [
        (a.hidden, a.heads * a.head_dim),  # q
        (a.hidden, a.kv_heads * a.head_dim),  # k
        (a.hidden, a.kv_heads * a.head_dim),  # v
        (a.heads * a.head_dim, a.hidden),  # o
    ]
    if a.gated_mlp:
        per_layer += [
            (a.hidden, a.intermediate),
            (a.hidden, a.intermediate),
            (a.intermediate, a.hidden),
        ]
    else:
        per_layer += [(a.hidden, a.intermediate), (a.intermediate, a.hidden)]
    return per_layer * a.layers


def _params_from_config(a: _Arch) -> int:
    """Embedding (+ untied output head) + linear layers + two norms per block + final norm.
    Biases, rotary buffers and mixture-of-experts are ignored."""
    linear = sum(i * o for i, o in _linear_shapes_from_config(a))
    embed = a.vocab * a.hidden * (1 if a.tied else 2)
    norms = (2 * a.layers + 1) * a.hidden
    return embed + linear + norms


def _linear_shapes_from_tensors(shapes: dict[str, list[int]]) -> list[tuple[int, int]]:
    out = []
    for name, shape in shapes.items():
        if len(shape) == 2 and name.endswith(".weight") and not any(k in name for k in _NOT_LINEAR):
            out.append((shape[1], shape[0]))  # torch Linear weight is (out, in)
    return out


def _dtype_bytes(dtype: str) -> float:
    try:
        return DTYPE_BYTES[dtype.lower()]
    except KeyError:
        raise ValueError(f"Unknown dtype {dtype!r}; choose one of {sorted(DTYPE_BYTES)}") from None


def estimate_fit(
    model_dir: Path,
    *,
    dtype: str = "float32",
    lora_rank: int = 0,
    batch_size: int = 1,
    seq_len: int = 512,
    training: bool = False,
    available_bytes: int | None = None,
    quantization: str | None = None,
    gradient_checkpointing: bool | str = False,
) -> FitEstimate:
    """Estimate the memory a model needs for generation (``training`` False) or for a
    training step (``training`` True; LoRA when ``lora_rank`` > 0, else full fine-tuning).

    ``seq_len`` is the whole sequence (prompt plus generated tokens) per row. ``fits`` is
    ``total_bytes <= available_bytes`` (None when ``available_bytes`` is None).
    ``quantization`` "4bit" counts QLoRA's weights: the blocks' linear layers in NF4 with
    double-quantized scales, the rest (embeddings, head, norms) in ``dtype``.
    ``gradient_checkpointing`` is a run's setting: "auto" (on from 100 M parameters),
    "on", "off", or true/false.
    """
    if quantization not in (None, "4bit"):
        raise ValueError(f"Unknown quantization {quantization!r}; choose None or '4bit'.")
    model_dir = Path(model_dir)
    config_path = model_dir / "config.json"
    config: dict = {}
    if config_path.is_file():
        try:
            config = _text_config(json.loads(config_path.read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            raise ModelLoadError(
                f"Could not read {config_path}: {exc}.", "Check that the model folder is complete."
            ) from exc
    try:
        shapes = read_tensor_shapes(model_dir)
    except (OSError, ValueError) as exc:
        raise ModelLoadError(
            f"Could not read the safetensors headers in {model_dir}: {exc}.",
            "The weights may be incomplete or corrupt; download or copy them again.",
        ) from exc
    if not config and shapes is None:
        raise ModelLoadError(
            f"{model_dir} has neither config.json nor safetensors weights.",
            "Pick the folder that holds the model's config.json and weights.",
        )
    a = _arch(config)
    width = _dtype_bytes(dtype)

    # Weights: parameter count x bytes of the dtype the model will be loaded in (not the
    # dtype on disk). From the headers when there are safetensors, else config arithmetic.
    if shapes is not None:
        num_params = sum(math.prod(s) for s in shapes.values())
        linears = _linear_shapes_from_tensors(shapes) or _linear_shapes_from_config(a)
    else:
        num_params = _params_from_config(a)
        linears = _linear_shapes_from_config(a)
    weights = int(num_params * width)
    if quantization == "4bit":
        # NF4: 4 bits a weight, plus one 8-bit scale per 64 weights and one float32 scale
        # per 256 scales (double quantization): about 4.127 bits a weight.
        linear_params = sum(i * o for i, o in linears)
        weights = int(linear_params * 4.127 / 8 + (num_params - linear_params) * width)

    # Adapter: LoRA adds A (r x in) and B (out x r) to every targeted linear layer:
    # r * (in + out) parameters each, on all linear layers of the blocks ("all-linear";
    # embeddings and the output head are not targeted). Kept in float32.
    lora_params = sum(lora_rank * (i + o) for i, o in linears) if lora_rank > 0 else 0
    adapter = lora_params * 4

    trainable = 0
    optimizer = gradients = 0
    if training:
        # Trainable: the adapter with LoRA, every parameter without.
        trainable = lora_params if lora_rank > 0 else num_params
        # Optimizer: Adam/AdamW keeps 2 float32 states (first and second moment) per
        # trainable parameter.
        optimizer = trainable * 2 * 4
        # Gradients: one per trainable parameter, float32 for the adapter, the model's
        # dtype when fully fine-tuning.
        gradients = int(trainable * (4 if lora_rank > 0 else width))

    # Activations. Training keeps, for the backward pass, per layer and token about
    # 10 * hidden values (norm inputs and outputs, q/k/v, attention output, residuals, the
    # LoRA inputs being those same tensors) + 4 * intermediate (gate, up, the activation and
    # the product) + heads * seq_len attention probabilities (the CPU and MPS kernels keep
    # them; flash-attention on CUDA does not, so this errs on the safe side); measured on
    # Qwen2.5 shapes with tests/benchmarks/bench_memory.py. With gradient checkpointing
    # only each layer's input is kept, plus one layer's worth while it is recomputed.
    # Generation keeps only the working set of one layer:
    # batch * seq * (4 * hidden + 2 * intermediate) * bytes.
    # Both add float32 logits over the vocabulary: generation those of the last position;
    # training one chunk of completion positions (LOGIT_CHUNK_ELEMENTS), twice for the
    # log-softmax and its gradient, since the head never runs on the whole sequence.
    tokens = batch_size * seq_len
    if training:
        chunk = min(tokens * a.vocab, LOGIT_CHUNK_ELEMENTS)
        per_layer = 10 * a.hidden + 4 * a.intermediate + a.heads * seq_len
        kept_layers = tokens * per_layer * width
        if resolve_checkpointing(gradient_checkpointing, int(num_params)):
            activations = tokens * a.hidden * a.layers * width + kept_layers + chunk * 4 * 2
        else:
            activations = kept_layers * a.layers + chunk * 4 * 2
    else:
        activations = (
            tokens * (4 * a.hidden + 2 * a.intermediate) * width + batch_size * a.vocab * 4
        )
    activations = int(activations)

    # KV cache: keys and values (2) for every layer, kv head, head dim and position:
    # 2 * layers * kv_heads * head_dim * seq * batch * bytes. Counted for training too,
    # since online algorithms sample from the policy during a run.
    kv_cache = int(2 * a.layers * a.kv_heads * a.head_dim * seq_len * batch_size * width)

    # Loading: weights stored wider than they load (float32 on disk, bfloat16 here) are
    # read tensor by tensor and cast (engine/cast_on_read.py), so for a moment the largest
    # stored tensor sits beside the weights. With a 150k vocabulary that embedding (0.5 GiB
    # in float32) is the peak of a small model's run (bench_memory's fit check).
    files = weight_files(model_dir) if quantization is None else None
    loading = weights + (largest_wider_tensor(files, width) if files else 0)
    parts = weights + adapter + optimizer + gradients + activations + kv_cache
    # The load's peak over the run's own, where it is higher: a term of the total.
    loading_extra = max(0, loading - parts)
    total = parts + loading_extra
    fits = None if available_bytes is None else total <= available_bytes
    return FitEstimate(
        weights_bytes=weights,
        adapter_bytes=adapter,
        optimizer_bytes=optimizer,
        activations_bytes=activations,
        kv_cache_bytes=kv_cache,
        total_bytes=total,
        available_bytes=available_bytes,
        fits=fits,
        gradient_bytes=gradients,
        loading_bytes=loading_extra,
        num_parameters=int(num_params),
        trainable_parameters=int(trainable),
    )
