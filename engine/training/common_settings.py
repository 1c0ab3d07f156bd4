"""The settings every training algorithm reads (optimizer, data length, evaluation and
checkpoint cadence, hardware); each algorithm's own settings are in its spec
(engine.algorithms.catalog)."""

from __future__ import annotations

from engine.algorithms.registry import names, offline_names, online_names
from engine.algorithms.settings import Setting
from engine.training.memory_defaults import BASE_DTYPES, CHECKPOINTING

SCHEDULERS = ("cosine", "linear", "constant")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
OPTIMIZERS = ("adamw_torch", "paged_adamw_8bit")

COMMON_SETTINGS = (
    Setting(
        "algorithm",
        "dpo",
        f"Offline, from labels or demonstrations: {', '.join(offline_names())}. "
        f"Online, sampling from the policy: {', '.join(online_names())}. "
        "Each is described in the Train view and the README's algorithm tables.",
        "method",
        "str",
        choices=names(),
    ),
    Setting(
        "max_steps",
        200,
        "Optimizer steps to run. Raise it for more data or a lower learning rate.",
        "optimization",
        "int",
        low=1,
    ),
    Setting(
        "learning_rate",
        5e-5,
        "Peak learning rate of AdamW for the LoRA weights. "
        "Typical: 5e-6 to 1e-4 for 1B+ models, higher for tiny ones.",
        "optimization",
        "float",
        low=0,
        low_open=True,
    ),
    Setting(
        "batch_size",
        8,
        "Per micro-batch on each process: pairs or examples (offline), or "
        "prompts, each sampled num_generations times (online).",
        "optimization",
        "int",
        low=1,
    ),
    Setting(
        "gradient_accumulation_steps",
        1,
        "Micro-batches summed into one optimizer step; "
        "raises the effective batch without more memory.",
        "optimization",
        "int",
        low=1,
    ),
    Setting(
        "lr_scheduler",
        "cosine",
        "Learning-rate schedule after warmup: cosine, linear or constant.",
        "optimization",
        "str",
        choices=SCHEDULERS,
        label="LR scheduler",
    ),
    Setting(
        "warmup_ratio",
        0.1,
        "Share of max_steps spent warming the learning rate up from 0.",
        "optimization",
        "float",
        low=0,
        high=1,
    ),
    Setting(
        "weight_decay",
        0.0,
        "AdamW weight decay on the LoRA weights.",
        "optimization",
        "float",
        low=0,
    ),
    Setting(
        "max_grad_norm",
        1.0,
        "Clip the gradient norm to this; 0 turns clipping off.",
        "optimization",
        "float",
        low=0,
    ),
    Setting(
        "max_length",
        256,
        "Longest prompt + completion in tokens; longer examples are left out "
        "and reported, never cut.",
        "data",
        "int",
        low=1,
        label="Max length (tokens)",
    ),
    Setting(
        "precision",
        "auto",
        "auto (bf16 on a GPU that has it, else fp32), fp32, bf16 or fp16 autocast.",
        "hardware",
        "str",
        choices=PRECISIONS,
    ),
    Setting(
        "gradient_checkpointing",
        "auto",
        "Recompute activations in the backward pass: less memory, about 30% slower. "
        "auto: on for models of 100 M parameters or more; on; off (true/false also read).",
        "hardware",
        "switch",
        choices=CHECKPOINTING,
    ),
    Setting(
        "base_dtype",
        "auto",
        "dtype of the frozen base weights (LoRA weights and optimizer stay float32). "
        "auto: bfloat16 for models of 100 M parameters or more where the device computes "
        "in it (CUDA with bf16, a CPU with AVX512-BF16 or AMX), else the device's default "
        "(float32 on the CPU); float32, bfloat16 or float16.",
        "hardware",
        "str",
        choices=BASE_DTYPES,
        label="Base dtype",
    ),
    Setting(
        "load_in_4bit",
        False,
        "QLoRA: load the base model's weights in 4-bit NF4 (double quantization, bf16 "
        "compute) with bitsandbytes, about a quarter of bf16's memory. CUDA GPUs only.",
        "hardware",
        "bool",
        label="Load in 4-bit (QLoRA)",
    ),
    Setting(
        "optim",
        "adamw_torch",
        "Optimizer of the LoRA weights: adamw_torch, or paged_adamw_8bit (bitsandbytes' "
        "8-bit AdamW, its states paged to CPU memory under pressure; CUDA GPUs only).",
        "optimization",
        "str",
        choices=OPTIMIZERS,
        label="Optimizer",
    ),
    Setting(
        "seed",
        0,
        "Seed for data order, LoRA initialisation and dropout.",
        "optimization",
        "int",
        low=0,
    ),
    Setting(
        "eval_every",
        50,
        "Evaluate on the eval split every this many steps (0: only at the end).",
        "evaluation",
        "int",
        low=0,
    ),
    Setting(
        "eval_batches",
        0,
        "Eval micro-batches per evaluation (0: the whole eval split).",
        "evaluation",
        "int",
        low=0,
        label="Eval batches",
    ),
    Setting(
        "checkpoint_every",
        100,
        "Save a checkpoint every this many steps (0: only at the end).",
        "evaluation",
        "int",
        low=0,
    ),
    Setting(
        "logging_every",
        1,
        "Record metrics every this many steps.",
        "evaluation",
        "int",
        low=1,
    ),
    Setting("device", "auto", "auto, cpu, cuda, cuda:N or mps.", "hardware", "str"),
)
COMMON = {s.name: s for s in COMMON_SETTINGS}
