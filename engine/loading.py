"""Load a causal language model and its tokenizer, safely.

Only safetensors weights load unless the spec allows pickle files; a model's own code
runs only when the spec trusts it. Every failure becomes a ModelLoadError naming the
path and what to do. torch/transformers are imported inside the functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.cast_on_read import load_cast_on_read, stored_wider, weight_files
from engine.device import pick_device, pick_dtype
from engine.errors import EngineError, ModelLoadError
from engine.export.adapter_folder import is_adapter_folder, resolve_adapter_base
from engine.model_source import ModelSpec, resolve, snapshot_problem

PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl")
# Files skipped when downloading from the Hub: other frameworks' weights, and pickle
# weights unless allowed.
_ALWAYS_IGNORED = ["*.h5", "*.msgpack", "*.onnx", "*.onnx_data", "*.gguf", "*.tflite", "original/*"]


@dataclass
class LoadedModel:
    """A model in eval mode on ``device`` in ``dtype``, with its tokenizer (left padding,
    a pad token set). ``name`` is for display; ``source_dir`` the folder it came from."""

    model: Any
    tokenizer: Any
    device: str
    dtype: str
    name: str
    source_dir: Path


def _weight_files(folder: Path) -> tuple[list[Path], list[Path]]:
    # Only the folder itself: that is where from_pretrained looks for weights.
    files = [p for p in folder.iterdir() if p.is_file()]
    safe = [p for p in files if p.suffix == ".safetensors"]
    pickled = [
        p
        for p in files
        if p.suffix in PICKLE_SUFFIXES
        and "optimizer" not in p.name
        and "training_args" not in p.name
        and "rng_state" not in p.name
    ]
    return safe, pickled


def _check_weights(folder: Path, spec: ModelSpec) -> bool | None:
    """Return the ``use_safetensors`` value for from_pretrained, or raise."""
    safe, pickled = _weight_files(folder)
    if safe:
        return True
    if pickled:
        if not spec.allow_pickle:
            names = ", ".join(sorted(p.name for p in pickled)[:3])
            raise ModelLoadError(
                f"The weights in {folder} are pickle files ({names}), which can run "
                "arbitrary code when they are loaded; only safetensors weights load by default.",
                "Allow pickle weights for this model only if you trust where it came from, "
                "or convert the weights to safetensors.",
            )
        return None
    raise ModelLoadError(
        f"No model weights (*.safetensors) were found in {folder}.",
        "Pick the folder that holds the model's config.json and its weights.",
    )


def _download(spec: ModelSpec, repo_id: str, cache_dir: Path | None) -> Path:
    from huggingface_hub import snapshot_download

    ignore = list(_ALWAYS_IGNORED)
    if not spec.allow_pickle:
        ignore += [f"*{s}" for s in PICKLE_SUFFIXES]
    if not spec.trust_remote_code:
        ignore.append("*.py")
    try:
        folder = snapshot_download(
            repo_id,
            revision=spec.revision,
            cache_dir=str(cache_dir) if cache_dir is not None else None,
            ignore_patterns=ignore,
        )
    except Exception as exc:
        raise ModelLoadError(
            f"Could not download {repo_id!r} from the Hugging Face Hub: {exc}",
            "Check the model id and the network connection; gated models need a token "
            "(`hf auth login`).",
        ) from exc
    return Path(folder)


def _remote_code_error(folder: Path) -> ModelLoadError:
    return ModelLoadError(
        f"The model in {folder} needs its own Python code to load, and running a model's "
        "code is off for this model.",
        "Allow 'trust remote code' for this model only if you trust its author and have "
        "read the code.",
    )


def _wrap(folder: Path, what: str, exc: Exception) -> ModelLoadError:
    if "trust_remote_code" in str(exc):
        return _remote_code_error(folder)
    if "out of memory" in str(exc).lower():
        return ModelLoadError(
            f"Ran out of memory while loading the {what} from {folder}.",
            "Pick a smaller model, a lower-precision dtype, or another device; check the fit estimate.",
        )
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return ModelLoadError(
        f"Could not load the {what} from {folder}: {first_line}",
        "Check that the folder is a complete Hugging Face causal language model "
        "(config.json, tokenizer files, weights) and that its transformers version is supported.",
    )


def _reserved_pad(tokenizer) -> str | None:
    """A special token the vocabulary reserves for padding (Llama 3.1's
    ``<|finetune_right_pad_id|>``), which no text or end of turn ever uses."""
    added = getattr(tokenizer, "added_tokens_decoder", None) or {}
    for _, token in sorted(added.items()):
        if getattr(token, "special", False) and "pad" in str(token).lower():
            return str(token)
    return None


def _set_pad_token(tokenizer) -> None:
    """Give a tokenizer without a pad token one. Padded positions are masked out of
    attention and of every loss, so reusing eos is safe; a reserved pad token is preferred
    where the vocabulary has one."""
    if tokenizer.pad_token is not None:
        return
    reserved = _reserved_pad(tokenizer)
    if reserved is not None:
        tokenizer.pad_token = reserved
    elif tokenizer.eos_token is not None:
        tokenizer.pad_token = tokenizer.eos_token
    elif tokenizer.unk_token is not None:
        tokenizer.pad_token = tokenizer.unk_token
    else:
        # Any id works: padded positions are masked out by the attention mask.
        tokenizer.pad_token = tokenizer.convert_ids_to_tokens(0)


QUANTIZATIONS = (None, "4bit")


def quantization_config(quantization: str | None, device: str) -> Any:
    """transformers' BitsAndBytesConfig for QLoRA (``"4bit"``: NF4 weights with double-
    quantized scales, bf16 compute), or None. Refused, with what to do, anywhere but on a
    CUDA GPU with bitsandbytes installed: its 4-bit kernels exist only there."""
    if quantization is None:
        return None
    if quantization not in QUANTIZATIONS:
        raise EngineError(
            f"Unknown quantization {quantization!r}.", "Use none or 4bit (QLoRA, CUDA only)."
        )
    if not device.startswith("cuda"):
        raise EngineError(
            f"4-bit (QLoRA) loading needs a CUDA GPU; this model would load on {device}.",
            "Turn 4-bit loading off, or run on a machine with an NVIDIA GPU.",
        )
    import importlib.util

    if importlib.util.find_spec("bitsandbytes") is None:
        raise EngineError(
            "4-bit (QLoRA) loading needs the bitsandbytes package, which is not installed.",
            "Install it into the app's environment (`pip install bitsandbytes`), or turn "
            "4-bit loading off.",
        )
    import torch
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=torch.bfloat16,
    )


def attention_implementation(device: str, dtype: str) -> str:
    """flash-attention 2 on a CUDA GPU in half precision when it is installed, else
    PyTorch's scaled-dot-product attention (both skip the seq x seq attention matrix)."""
    import importlib.util

    half = dtype in ("float16", "bfloat16")
    if device.startswith("cuda") and half and importlib.util.find_spec("flash_attn") is not None:
        return "flash_attention_2"
    return "sdpa"


def model_folder(
    spec: ModelSpec, offline: bool = True, *, cache_dir: Path | None = None
) -> tuple[Path, str]:
    """(local folder, display name) of ``spec``, downloading it first if allowed."""
    resolved = resolve(spec, offline=offline, cache_dir=cache_dir)
    if resolved.kind == "hub":
        folder = _download(spec, resolved.repo_id or spec.path, cache_dir)
    else:
        assert resolved.local_dir is not None
        folder = resolved.local_dir
        if resolved.kind == "cache":
            problem = snapshot_problem(folder, resolved.repo_id)
            if problem is not None:  # never load half a model
                raise ModelLoadError(problem, "Complete the download, then try again.")
    if not (folder / "config.json").is_file():
        raise ModelLoadError(
            f"{folder} has no config.json, so it is not a Hugging Face model folder.",
            "Pick the folder that holds config.json, the tokenizer files and the weights.",
        )
    return folder, resolved.repo_id or folder.name


def load_tokenizer(folder: Path, trust_remote_code: bool = False):
    """The folder's tokenizer as every part of the engine expects it: left padding and a
    pad token set."""
    try:
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(
            folder, trust_remote_code=trust_remote_code, padding_side="left"
        )
    except Exception as exc:
        raise _wrap(folder, "tokenizer", exc) from exc
    tokenizer.padding_side = "left"
    _set_pad_token(tokenizer)
    return tokenizer


def load_model(
    spec: ModelSpec,
    device: str = "auto",
    dtype: str = "auto",
    offline: bool = True,
    *,
    cache_dir: Path | None = None,
    quantization: str | None = None,
) -> LoadedModel:
    """Load ``spec`` in eval mode on ``device`` (see pick_device) in ``dtype`` (see
    pick_dtype), with sdpa (or flash-attention) attention, and 4-bit NF4 weights when
    ``quantization`` is "4bit" (CUDA only). Raises ModelLoadError (or EngineError for a
    bad device, dtype or quantization)."""
    adapter_dir = Path(spec.path).expanduser()
    if is_adapter_folder(adapter_dir):
        return _load_adapter_model(spec, adapter_dir, device, dtype, offline, cache_dir)
    device = pick_device(device)
    dtype = pick_dtype(device, dtype)
    quantized = quantization_config(quantization, device)
    folder, name = model_folder(spec, offline, cache_dir=cache_dir)
    use_safetensors = _check_weights(folder, spec)

    try:
        import torch
        from transformers import AutoConfig, AutoModelForCausalLM
    except ImportError as exc:  # pragma: no cover - broken installation
        raise EngineError(
            f"The ML libraries could not be imported: {exc}.", "Reinstall the application."
        ) from exc

    try:
        config = AutoConfig.from_pretrained(folder, trust_remote_code=spec.trust_remote_code)
    except Exception as exc:
        raise _wrap(folder, "model configuration", exc) from exc
    tokenizer = load_tokenizer(folder, spec.trust_remote_code)

    torch_dtype = getattr(torch, dtype)
    kwargs: dict[str, Any] = {
        "config": config,
        "dtype": torch_dtype,
        "trust_remote_code": spec.trust_remote_code,
        "use_safetensors": use_safetensors,
        "attn_implementation": attention_implementation(device, dtype),
    }
    if quantized is not None:
        kwargs["quantization_config"] = quantized
    if device != "cpu":
        kwargs["device_map"] = {"": device}

    def from_pretrained() -> Any:
        # Weights stored wider than they load (float32 on disk, bfloat16 here) are read
        # tensor by tensor on the CPU, so the stored copy never counts in our memory.
        plain = device == "cpu" and use_safetensors and not spec.trust_remote_code
        files = weight_files(folder) if plain and quantized is None else None
        if files and stored_wider(files, dtype):
            try:
                return load_cast_on_read(folder, files, kwargs)
            except (TypeError, AttributeError, KeyError):
                # A safetensors without its pread backend (before 0.8), a transformers
                # whose loader takes no state dict this way, an architecture missing from
                # its mapping: the usual load, which maps the file instead.
                pass
        return AutoModelForCausalLM.from_pretrained(folder, **kwargs)

    try:
        try:
            model = from_pretrained()
        except ValueError as exc:
            if "attn" not in str(exc) and "sdpa" not in str(exc).lower():
                raise
            # An architecture without sdpa support: its own (eager) attention.
            kwargs["attn_implementation"] = "eager"
            model = from_pretrained()
        if device == "cpu":
            model = model.to(device)
    except Exception as exc:
        raise _wrap(folder, "model", exc) from exc
    model.eval()
    gen_config = getattr(model, "generation_config", None)
    if gen_config is not None and gen_config.pad_token_id is None:
        gen_config.pad_token_id = tokenizer.pad_token_id
    return LoadedModel(
        model=model,
        tokenizer=tokenizer,
        device=device,
        dtype=dtype,
        name=name,
        source_dir=folder,
    )


def _load_adapter_model(
    spec: ModelSpec,
    adapter_dir: Path,
    device: str,
    dtype: str,
    offline: bool,
    cache_dir: Path | None,
) -> LoadedModel:
    """An exported PEFT adapter used as a model: its base loaded as any model is, the
    adapter merged in (so LoRA training on top starts from base + adapter), and the
    adapter's own tokenizer when it saved one."""
    from dataclasses import replace

    base = load_model(
        replace(spec, path=resolve_adapter_base(adapter_dir), revision=None),
        device,
        dtype,
        offline,
        cache_dir=cache_dir,
    )
    try:
        from peft import PeftModel

        model = PeftModel.from_pretrained(base.model, adapter_dir).merge_and_unload()
    except Exception as exc:
        raise _wrap(adapter_dir, "LoRA adapter", exc) from exc
    model.eval()
    tokenizer = base.tokenizer
    if (adapter_dir / "tokenizer_config.json").is_file():
        tokenizer = load_tokenizer(adapter_dir, spec.trust_remote_code)
    return LoadedModel(
        model=model,
        tokenizer=tokenizer,
        device=base.device,
        dtype=base.dtype,
        name=adapter_dir.name,
        source_dir=adapter_dir,
    )
