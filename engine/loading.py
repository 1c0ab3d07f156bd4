"""Load a causal language model and its tokenizer, safely.

Only safetensors weights load unless the spec allows pickle files; a model's own code
runs only when the spec trusts it. Every failure becomes a ModelLoadError naming the
path and what to do. torch/transformers are imported inside the functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.device import pick_device, pick_dtype
from engine.errors import EngineError, ModelLoadError
from engine.model_source import ModelSpec, resolve

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


def _set_pad_token(tokenizer) -> None:
    if tokenizer.pad_token is not None:
        return
    if tokenizer.eos_token is not None:
        tokenizer.pad_token = tokenizer.eos_token
    elif tokenizer.unk_token is not None:
        tokenizer.pad_token = tokenizer.unk_token
    else:
        # Any id works: padded positions are masked out by the attention mask.
        tokenizer.pad_token = tokenizer.convert_ids_to_tokens(0)


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
) -> LoadedModel:
    """Load ``spec`` in eval mode on ``device`` (see pick_device) in ``dtype`` (see
    pick_dtype). Raises ModelLoadError (or EngineError for a bad device/dtype)."""
    device = pick_device(device)
    dtype = pick_dtype(device, dtype)
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
    }
    if device != "cpu":
        kwargs["device_map"] = {"": device}
    try:
        model = AutoModelForCausalLM.from_pretrained(folder, **kwargs)
        if device == "cpu":
            # transformers wraps ``to`` with functools.wraps(torch.nn.Module.to), whose
            # stub signature keeps the unbound ``self``: mypy takes ``device`` for it.
            model = model.to(device)  # type: ignore[arg-type]
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
