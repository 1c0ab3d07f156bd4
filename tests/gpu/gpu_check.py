"""The GPU check's rows (run by tests/gpu/check.sh): one DPO and one GRPO LoRA step of ours
and of TRL's trainers on the same random model and data (tests/benchmarks/bench_memory.py's
rows, in bf16 on the GPU), for a model of Qwen2.5-0.5B's shape and, with 4-bit NF4 weights
(QLoRA) and gradient checkpointing, one of Qwen2.5-7B's shape. Each row runs in its own
process; the table gives tokens/s, peak GPU memory and model FLOP utilisation (6 x
parameters x tokens per second over the GPU's dense bf16 peak; a rough, conventional
figure: LoRA skips the weight gradients, GRPO's sampling is counted as its tokens only).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "benchmarks"))

import bench_memory  # noqa: E402 (the benchmark's rows, found through the path above)

QWEN25_7B = {
    "model_type": "qwen2",
    "hidden_size": 3584,
    "intermediate_size": 18944,
    "num_hidden_layers": 28,
    "num_attention_heads": 28,
    "num_key_value_heads": 4,
    "max_position_embeddings": 32768,
    "rope_theta": 1000000.0,
    "rms_norm_eps": 1e-6,
    "tie_word_embeddings": False,
    "vocab_size": 152064,
}
# Dense bf16 peak of the GPUs the check is sized for, in FLOP/s.
PEAK_FLOPS = {"H100": 989e12, "H200": 989e12, "A100": 312e12}


def _peak_flops() -> float | None:
    import torch

    name = torch.cuda.get_device_name(0)
    return next((v for k, v in PEAK_FLOPS.items() if k in name), None)


def _parameters(folder: Path) -> int:
    import math

    from engine.fit import read_tensor_shapes

    return sum(math.prod(s) for s in (read_tensor_shapes(folder) or {}).values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=512)
    parser.add_argument("--work", default=None)
    parser.add_argument("--skip-7b", action="store_true")
    args = parser.parse_args(argv)
    work = Path(args.work or tempfile.mkdtemp(prefix="gpu-check-"))
    shapes = [("qwen2.5-0.5B", bench_memory.QWEN25_05B, None)]
    if not args.skip_7b:
        if importlib.util.find_spec("bitsandbytes") is None:
            print("QLoRA rows skipped: bitsandbytes is not installed.")
        else:
            shapes.append(("qwen2.5-7B", QWEN25_7B, "4bit"))
    peak = _peak_flops()
    print(f"\nlength {args.length}, batch 2, LoRA r {bench_memory.LORA['r']}, bf16\n")
    print("| model | row | tokens/s | peak GPU memory (GiB) | MFU | s/step |")
    print("|---|---|---|---|---|---|")
    for name, shape, quantization in shapes:
        folder = bench_memory.build_model(work / name, shape, dtype="bfloat16")
        params = _parameters(folder)
        # ours with gradient checkpointing, as TRL's default (QLoRA rows have it anyway)
        for row in ("ours-dpo-gc", "trl-dpo", "ours-grpo-gc", "trl-grpo"):
            r = bench_memory._spawn(row, folder, args.length, 8, work, "cuda", quantization)
            if "error" in r:
                print(f"| {name} | {row} | failed: {r['error']} | | | |")
                continue
            rate = r["tokens"] / r["step_s"]
            mfu = f"{6 * params * rate / peak:.1%}" if peak else "(unknown GPU)"
            print(
                f"| {name}{' QLoRA' if quantization else ''} | {row} | {rate:.0f} "
                f"| {r['gpu_peak'] / 2**30:.2f} | {mfu} | {r['step_s']:.2f} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
