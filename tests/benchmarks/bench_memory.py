"""Benchmark: peak memory and seconds per step of one DPO step and one GRPO step on a random
model of Qwen2.5-0.5B's shape (about 0.5 B parameters, vocabulary 151,936), ours beside
TRL's trainers on the same model and data; then the fit estimate (engine/fit.py) against
the measured peak of our DPO step for three model sizes.

    OMP_NUM_THREADS=1 .venv/bin/python tests/benchmarks/bench_memory.py
    .venv/bin/python tests/benchmarks/bench_memory.py --length 256 --rows ours-dpo,trl-dpo

Every row runs in a fresh subprocess, which reports its peak resident memory
(``ru_maxrss``) and the RSS once the model is loaded; a step's seconds are the wall time of
the training steps (set-up, the model load and, for ours, the reference pass excluded; TRL's
DPO computes the reference inside its step). Sequences: ``--length`` tokens (half prompt,
half completion; GRPO samples the completion half), batch 2 (DPO: 2 pairs; GRPO: 1 prompt,
2 completions), LoRA r 16 on all linear layers; the model is stored in float32. TRL runs as
its users get it by default (DPOConfig/GRPOConfig defaults: gradient checkpointing on, bf16
autocast on, also on the CPU; the model in float32, as TRL loads a model id): the anchor
rows ``trl-dpo`` and ``trl-grpo``. The ``-bf16`` TRL rows load the model in bfloat16, as
``model_init_kwargs={"dtype": torch.bfloat16}`` does, the dtype our defaults hold the base
in here. Ours runs with our defaults (``base_dtype`` and ``gradient_checkpointing`` "auto":
for a model this size, the frozen base in bfloat16 where the device computes in it, and
checkpointing on; engine/training/memory_defaults.py), loaded as the application loads it;
``-fp32`` rows hold the base in float32, ``-gc`` rows force checkpointing on. Each row also
reports its peak RSS (VmHWM) after the model load, after the set-up (our offline reference
pass) and after the step, which says where the peak is.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.model_shapes import QWEN25_05B  # noqa: E402  (the shape; random weights here)

# Two smaller shapes for the fit check (same family, same vocabulary).
FIT_SHAPES = {
    "qwen-6L": {**QWEN25_05B, "num_hidden_layers": 6},
    "qwen-12L": {**QWEN25_05B, "num_hidden_layers": 12},
    "qwen2.5-0.5B": QWEN25_05B,
}
# "-bf16": TRL with the model loaded in bfloat16; "-fp32": ours with the base in float32;
# "-gc": ours with gradient checkpointing forced on (our default turns it on at this size).
ROWS = ("trl-dpo", "trl-dpo-bf16", "ours-dpo", "trl-grpo", "trl-grpo-bf16", "ours-grpo")
LORA = {"r": 16, "alpha": 32, "dropout": 0.0}


def _rss_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _hwm_bytes() -> int:
    """The peak RSS so far (VmHWM), read at each phase to find where the peak is."""
    with open("/proc/self/status") as handle:
        line = next(x for x in handle if x.startswith("VmHWM:"))
    return int(line.split()[1]) * 1024


def _peak_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def build_tokenizer(vocab_size: int):
    """A byte-level tokenizer whose vocabulary has the model's size: the 256 byte symbols
    (one token per character, so a text of n characters is n tokens), filler tokens, an
    end-of-text token; no chat template (plain-text prompts, as TRL's standard format)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    alphabet = pre_tokenizers.ByteLevel.alphabet()
    vocab = {ch: i for i, ch in enumerate(sorted(alphabet))}
    for i in range(len(vocab), vocab_size - 1):
        vocab[f"<x{i}>"] = i
    vocab["<|endoftext|>"] = vocab_size - 1
    backend = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    backend.decoder = decoders.ByteLevel()
    return PreTrainedTokenizerFast(
        tokenizer_object=backend, eos_token="<|endoftext|>", pad_token="<|endoftext|>"
    )


def build_model(folder: Path, shape: dict, dtype: str = "float32") -> Path:
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    if (folder / "config.json").is_file():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tokenizer(shape["vocab_size"])
    tokenizer.save_pretrained(folder)
    values = {k: v for k, v in shape.items() if k != "model_type"}
    config = AutoConfig.for_model(
        shape["model_type"], **values, eos_token_id=tokenizer.eos_token_id
    )
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config, dtype=getattr(torch, dtype))
    model.save_pretrained(folder)
    return folder


def _text(n: int, salt: int) -> str:
    words = "the model answers each question with care and then stops ".split()
    out = []
    while sum(len(w) + 1 for w in out) < n:
        out.append(words[(len(out) * 7 + salt) % len(words)])
    return " ".join(out)[:n]


def pairs(length: int) -> list[dict]:
    half = length // 2
    return [
        {
            "prompt": _text(half, i),
            "chosen": _text(half - 1, i + 1),
            "rejected": _text(half - 1, i + 2),
        }
        for i in range(2)
    ]


# --------------------------------------------------------------------------- child rows


# The device a child row runs on, and 4-bit weights or not (set from its command line;
# tests/gpu/gpu_check.py runs the same rows on a CUDA GPU in bf16, with QLoRA for 7B).
TARGET: dict = {"device": "cpu", "quantization": None, "ours": {}, "base_dtype": None}


def _cuda() -> bool:
    return str(TARGET["device"]).startswith("cuda")


def _base_dtype(folder: Path, ours: bool) -> str:
    """The dtype a row loads the model in: ours as the application loads a run's base
    (workbench/training/execution.py), TRL's in float32 (bf16 on CUDA) unless set."""
    if TARGET["base_dtype"]:
        return TARGET["base_dtype"]
    if not ours:
        return "bfloat16" if _cuda() else "float32"
    from engine.training.memory_defaults import folder_parameters, resolve_base_dtype

    return resolve_base_dtype("auto", str(TARGET["device"]), folder_parameters(folder))


def _loaded(folder: Path, ours: bool):
    from engine.loading import load_model
    from engine.model_source import ModelSpec

    dtype = _base_dtype(folder, ours)
    spec = ModelSpec(str(folder))
    return load_model(spec, str(TARGET["device"]), dtype, quantization=TARGET["quantization"])


def _our_settings(algorithm: str, length: int):
    from engine.training.config import TrainSettings

    common = dict(
        algorithm=algorithm,
        max_steps=1,
        learning_rate=1e-5,
        eval_every=0,
        checkpoint_every=0,
        samples_per_eval=0,
        samples_per_step=0,
        logging_every=1,
        max_length=length + 8,
        lora=LORA,
        precision="bf16" if _cuda() else "fp32",
        device=str(TARGET["device"]),
    )
    if TARGET["quantization"] is not None:
        common["gradient_checkpointing"] = True
    common.update(TARGET["ours"])
    if algorithm == "dpo":
        return TrainSettings.from_dict({**common, "batch_size": 2})
    return TrainSettings.from_dict(
        {
            **common,
            "batch_size": 1,
            "num_generations": 2,
            "max_completion_length": length // 2,
            "beta": 0.0,
            "eval_prompts": 0,
        }
    )


def run_ours(folder: Path, algorithm: str, length: int, work: Path) -> dict:
    from engine.training import train
    from engine.training.examples import PairExample, PromptExample
    from engine.training.hooks import TrainData, TrainHooks
    from engine.training.online.rewards import RewardSource, SourceScores

    loaded = _loaded(folder, ours=True)
    after_load = _rss_bytes()
    steps: list[float] = []
    started: dict[str, float] = {}

    phases = {"load": _hwm_bytes()}

    def on_log(text: str) -> None:
        if text.startswith("training "):
            started["t"] = time.perf_counter()
            phases["set-up"] = _hwm_bytes()  # reference pass included (offline)

    def on_progress(done: int, total: int, text: str) -> None:
        if text.startswith("step "):
            steps.append(time.perf_counter())
            phases["step"] = _hwm_bytes()

    run_dir = Path(tempfile.mkdtemp(prefix=f"ours-{algorithm}-", dir=work))
    hooks = TrainHooks(
        checkpoint_dir=lambda step: run_dir / f"step-{step}",
        on_log=on_log,
        on_progress=on_progress,
        reference_cache_dir=None,
    )
    data_pairs = pairs(length)
    if algorithm == "dpo":
        data = TrainData(
            train_pairs=[
                PairExample(f"k{i}", p["prompt"], p["chosen"], p["rejected"])
                for i, p in enumerate(data_pairs)
            ]
        )
        result = train(loaded, data, _our_settings("dpo", length), hooks)
    else:
        data = TrainData(train_prompts=[PromptExample(data_pairs[0]["prompt"], None, 0)])
        lengths = RewardSource(
            "length", 1.0, lambda p, c, r: SourceScores([float(len(t) % 5) for t in c])
        )
        result = train(loaded, data, _our_settings("grpo", length), hooks, rewards=[lengths])
    if result.status != "done":
        raise RuntimeError(f"our {algorithm} run ended {result.status}")
    return {
        "after_load": after_load,
        "step_s": steps[-1] - started["t"],
        "phases": phases,
        "dtype": loaded.dtype,
        "checkpointing": _our_checkpointing(loaded, algorithm, length),
    }


def _our_checkpointing(loaded, algorithm: str, length: int) -> bool:
    from engine.training.memory_defaults import resolve_checkpointing

    choice = _our_settings(algorithm, length).gradient_checkpointing
    return resolve_checkpointing(choice, sum(p.numel() for p in loaded.model.parameters()))


def _trl_common(work: Path) -> dict:
    return dict(
        output_dir=tempfile.mkdtemp(prefix="trl-", dir=work),
        max_steps=1,
        learning_rate=1e-5,
        # TRL's defaults otherwise: gradient checkpointing and bf16 autocast on (also on
        # the CPU), the model in float32 as TRL loads a model id.
        use_cpu=not _cuda(),
        report_to="none",
        logging_steps=1,
        save_strategy="no",
        eval_strategy="no",
        disable_tqdm=True,
        dataloader_num_workers=0,
        disable_dropout=False,
    )


def run_trl(folder: Path, algorithm: str, length: int, work: Path) -> dict:
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import TrainerCallback

    loaded = _loaded(folder, ours=False)
    after_load = _rss_bytes()
    marks: dict[str, float] = {}

    class Clock(TrainerCallback):
        def on_train_begin(self, args, state, control, **kwargs):
            marks["start"] = time.perf_counter()

        def on_step_end(self, args, state, control, **kwargs):
            marks["end"] = time.perf_counter()

    peft_config = LoraConfig(
        r=LORA["r"],
        lora_alpha=LORA["alpha"],
        lora_dropout=LORA["dropout"],
        target_modules="all-linear",
        task_type="CAUSAL_LM",
    )
    data_pairs = pairs(length)
    if algorithm == "dpo":
        from trl import DPOConfig, DPOTrainer

        args = DPOConfig(
            **_trl_common(work),
            per_device_train_batch_size=2,
            max_length=length + 8,
            loss_type=["sigmoid"],
        )
        trainer = DPOTrainer(
            model=loaded.model,
            args=args,
            train_dataset=Dataset.from_list(data_pairs),
            processing_class=loaded.tokenizer,
            peft_config=peft_config,
            callbacks=[Clock()],
        )
    else:
        from trl import GRPOConfig, GRPOTrainer

        args = GRPOConfig(
            **_trl_common(work),
            per_device_train_batch_size=2,
            num_generations=2,
            max_completion_length=length // 2,
            beta=0.0,
            top_k=0,
            log_completions=False,
        )
        trainer = GRPOTrainer(
            model=loaded.model,
            reward_funcs=[lambda completions, **kw: [float(len(c) % 5) for c in completions]],
            args=args,
            train_dataset=Dataset.from_list([{"prompt": data_pairs[0]["prompt"]}] * 2),
            processing_class=loaded.tokenizer,
            peft_config=peft_config,
            callbacks=[Clock()],
        )
    trainer.train()
    return {
        "after_load": after_load,
        "step_s": marks["end"] - marks["start"],
        "dtype": loaded.dtype,
        "checkpointing": bool(args.gradient_checkpointing),
    }


def child(args: argparse.Namespace) -> None:
    import torch

    torch.set_num_threads(args.threads)
    TARGET.update(device=args.device, quantization=args.quantization)
    TARGET.update(ours=json.loads(args.ours_set), base_dtype=args.base_dtype)
    folder, work = Path(args.folder), Path(args.work)
    algorithm = "dpo" if "-dpo" in args.row else "grpo"
    if args.row.endswith("-gc"):  # ours with gradient checkpointing forced on
        TARGET["ours"] = {**TARGET["ours"], "gradient_checkpointing": True}
    if args.row.endswith("-fp32"):  # ours with the base held in float32
        TARGET.update(base_dtype="float32")
        TARGET["ours"] = {**TARGET["ours"], "base_dtype": "float32"}
    if args.row.endswith("-bf16"):  # TRL with the model loaded in bfloat16
        TARGET.update(base_dtype="bfloat16")
    run = run_ours if args.row.startswith("ours") else run_trl
    out = run(folder, algorithm, args.length, work)
    out["peak"] = _peak_bytes()
    out["tokens"] = (4 if algorithm == "dpo" else 2) * args.length  # per step
    if _cuda():
        out["gpu_peak"] = torch.cuda.max_memory_allocated()
    Path(args.result).write_text(json.dumps(out))


# --------------------------------------------------------------------------- parent


def _spawn(
    row: str,
    folder: Path,
    length: int,
    threads: int,
    work: Path,
    device: str = "cpu",
    quantization: str | None = None,
    ours_set: str = "{}",
    base_dtype: str | None = None,
) -> dict:
    result = work / f"{row}-{folder.name}-{quantization or 'full'}.json"
    cmd = [sys.executable, __file__, "--child", row, "--folder", str(folder)]
    cmd += ["--length", str(length), "--threads", str(threads), "--work", str(work)]
    cmd += ["--result", str(result), "--device", device, "--ours-set", ours_set]
    cmd += ["--quantization", quantization] if quantization else []
    cmd += ["--base-dtype", base_dtype] if base_dtype else []
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "TOKENIZERS_PARALLELISM": "false"}
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        return {"error": (done.stderr or done.stdout).strip().splitlines()[-1]}
    return json.loads(result.read_text())


def _gib(n: float) -> str:
    return f"{n / 2**30:.2f}"


def _fit_estimate(folder: Path, length: int, dtype: str, checkpointing: bool) -> int:
    """The estimate for the row as it ran: its base dtype and checkpointing."""
    from engine.fit import estimate_fit

    estimate = estimate_fit(
        folder,
        dtype=dtype,
        lora_rank=LORA["r"],
        batch_size=4,
        seq_len=length,
        training=True,
        gradient_checkpointing=checkpointing,
    )
    return estimate.total_bytes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=512)
    parser.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", 1)))
    parser.add_argument("--rows", default=",".join(ROWS))
    parser.add_argument("--no-fit", action="store_true", help="skip the fit check")
    parser.add_argument("--work", default=None, help="keep models here (reused between runs)")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--folder", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--result", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--device", default="cpu", help=argparse.SUPPRESS)
    parser.add_argument("--quantization", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--ours-set", default="{}", help="JSON of our settings to override")
    parser.add_argument("--base-dtype", default=None, help="the dtype the rows load the model in")
    args = parser.parse_args(argv)
    if args.child:
        args.row = args.child
        child(args)
        return 0

    work = Path(args.work or tempfile.mkdtemp(prefix="bench-memory-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"load at start: {Path('/proc/loadavg').read_text().strip()}")
    print(
        f"threads {args.threads}, length {args.length}, batch 2, LoRA r {LORA['r']}, "
        "weights stored in float32"
    )
    main_folder = build_model(work / "qwen2.5-0.5B", QWEN25_05B)
    spawn = dict(ours_set=args.ours_set, base_dtype=args.base_dtype)
    results = {
        row: _spawn(row, main_folder, args.length, args.threads, work, **spawn)
        for row in args.rows.split(",")
    }
    _print_rows(results)
    for row, r in results.items():
        if "phases" in r:  # where the peak is: VmHWM after each phase
            marks = ", ".join(f"{k} {_gib(v)}" for k, v in r["phases"].items())
            print(f"{row} peak after: {marks} GiB")
    if not args.no_fit:
        print("\nFit estimate against our DPO step's measured peak growth over the process")
        print("before the model loads (peak RSS - RSS of the interpreter with torch imported):")
        print(
            "\n| model | parameters | base, checkpointing | estimate (GiB) | measured (GiB) "
            "| estimate / measured |"
        )
        print("|---|---|---|---|---|---|")
        base = _baseline_rss()
        for name, shape in FIT_SHAPES.items():
            folder = build_model(work / name, shape)
            r = results.get("ours-dpo") if name == "qwen2.5-0.5B" else None
            r = r or _spawn("ours-dpo", folder, args.length, args.threads, work, **spawn)
            if "error" in r:
                print(f"| {name} | failed: {r['error']} | | | |")
                continue
            from engine.fit import read_tensor_shapes

            params = sum(
                int(__import__("math").prod(s)) for s in (read_tensor_shapes(folder) or {}).values()
            )
            estimate = _fit_estimate(folder, args.length, r["dtype"], r["checkpointing"])
            measured = r["peak"] - base
            print(
                f"| {name} | {params / 1e6:.0f} M | {r['dtype']}, checkpointing "
                f"{'on' if r['checkpointing'] else 'off'} | {_gib(estimate)} | {_gib(measured)} "
                f"| {estimate / measured:.2f} |"
            )
    print(f"\nload at end: {Path('/proc/loadavg').read_text().strip()}")
    return 0


def _print_rows(results: dict[str, dict]) -> None:
    """The rows' table, then each of our rows beside every TRL row of its algorithm."""
    print(
        "\n| row | base dtype | checkpointing | peak RSS (GiB) | RSS after load (GiB) "
        "| growth (GiB) | s/step |"
    )
    print("|---|---|---|---|---|---|---|")
    for row, r in results.items():
        if "error" in r:
            print(f"| {row} | failed: {r['error']} | | | | | |")
            continue
        growth = r["peak"] - r["after_load"]
        on = "on" if r.get("checkpointing") else "off"
        print(
            f"| {row} | {r.get('dtype')} | {on} | {_gib(r['peak'])} | {_gib(r['after_load'])} "
            f"| {_gib(growth)} | {r['step_s']:.1f} |"
        )
    for row, ours in results.items():
        if not row.startswith("ours") or "error" in ours:
            continue
        algorithm = row.split("-")[1]
        for name, theirs in results.items():
            if name.startswith(f"trl-{algorithm}") and "error" not in theirs:
                print(
                    f"{row}: peak {ours['peak'] / theirs['peak']:.2f}x {name}'s, "
                    f"time {ours['step_s'] / theirs['step_s']:.2f}x {name}'s"
                )


def _baseline_rss() -> int:
    """The RSS of a fresh interpreter that has imported what a row imports before loading."""
    code = (
        "import torch, transformers, peft, engine.training, engine.loading;"
        "import os; print(int(open('/proc/self/statm').read().split()[1]) * os.sysconf('SC_PAGE_SIZE'))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    return int(done.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    sys.exit(main())
