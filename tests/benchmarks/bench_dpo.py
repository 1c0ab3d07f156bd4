"""Benchmark: our offline DPO trainer against TRL's DPOTrainer, doing the same work.

    .venv/bin/python tests/benchmarks/bench_dpo.py                 # demo model, CPU, defaults
    .venv/bin/python tests/benchmarks/bench_dpo.py --pairs 256 --steps 60 --threads 2
    .venv/bin/python tests/benchmarks/bench_dpo.py --model /path/to/hf_folder --device cuda

Same model (the embedded demo model unless ``--model``), same pairs (the first ``--pairs``
problems of ``demo_splits()["train"]``: chosen "The answer is N.", rejected N+1), same batch
size, LoRA (r, alpha, dropout, "all-linear"), precision (fp32 on the CPU, bf16 autocast on
CUDA), optimizer (torch AdamW), learning rate and schedule, beta, steps, seed, and the same
batches in the same order (TRL is given our trainer's data order through its sampler).

Rows, each in a fresh subprocess so that peak memory and threads do not leak between them:
  1. ours, first run: reference log-probs computed (empty reference cache folder)
  2. ours, second run: reference log-probs read from that cache folder
  3. TRL DPOTrainer default: reference = the adapter-disabled forward, at every step
  4. TRL DPOTrainer with precompute_ref_log_probs=True (its own first-run analogue)

Measured in each child after the model is loaded: pairs/s over the training steps (from
the start of the training loop to the end of the last step, data loading and per-step
logging included; the reference pass and set-up excluded), the reference pass on its own,
the wall time from the loaded model to the end of training, and peak memory growth over
the loaded model (CPU: ``ru_maxrss``; CUDA: ``torch.cuda.max_memory_allocated``).
See tests/benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ROWS = (
    ("ours-first", "ours, first run (reference computed, empty cache)"),
    ("ours-cached", "ours, second run (reference from cache)"),
    ("trl-default", "TRL DPOTrainer default (adapter-disabled reference forward every step)"),
    ("trl-precompute", "TRL DPOTrainer precompute_ref_log_probs=True"),
)


# --------------------------------------------------------------------------- data


def build_pairs(n: int) -> list[dict]:
    """The first ``n`` demo training problems: the correct answer against answer + 1."""
    from engine.demo.task import demo_splits, format_answer

    problems = demo_splits()["train"]
    if not 1 <= n <= len(problems):
        raise SystemExit(f"--pairs must be between 1 and {len(problems)}, not {n}")
    return [
        {
            "prompt": p.question,
            "chosen": format_answer(p.answer),
            "rejected": format_answer(p.answer + 1),
        }
        for p in problems[:n]
    ]


def pair_examples(pairs: list[dict]):
    from engine.training.examples import PairExample, content_key

    return [
        PairExample(
            content_key(p["prompt"], p["chosen"], p["rejected"]),
            p["prompt"],
            p["chosen"],
            p["rejected"],
        )
        for p in pairs
    ]


def step_order(n: int, cfg: dict) -> list[int]:
    """Our trainer's data order (example indices, step by step), so TRL sees the same batches."""
    from engine.training.batching import StepSchedule

    schedule = StepSchedule(n, cfg["batch_size"], cfg["grad_accum"], 1, cfg["seed"])
    return [
        i
        for step in range(cfg["steps"])
        for micro in range(cfg["grad_accum"])
        for i in schedule.indices(step, micro, 0)
    ]


# --------------------------------------------------------------------------- child side


class Meter:
    """Peak memory over a baseline taken after the model is loaded, and the clock."""

    def __init__(self, device: str):
        import torch

        self.cuda = device.startswith("cuda")
        self.torch = torch
        if self.cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self.base = torch.cuda.memory_allocated()
        else:
            self.base = _maxrss_bytes()
        self.started = time.perf_counter()

    def now(self) -> float:
        if self.cuda:
            self.torch.cuda.synchronize()
        return time.perf_counter()

    def finish(self) -> dict:
        wall = self.now() - self.started
        if self.cuda:
            peak = self.torch.cuda.max_memory_allocated()
            kind = "cuda max_memory_allocated"
        else:
            peak = _maxrss_bytes()
            kind = "ru_maxrss"
        return {
            "wall_s": wall,
            "mem_kind": kind,
            "mem_base_mib": self.base / 2**20,
            "mem_peak_mib": peak / 2**20,
            "mem_growth_mib": (peak - self.base) / 2**20,
        }


def _maxrss_bytes() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def _durations(marks: dict) -> list[float]:
    ends = [marks["loop_start"], *marks["steps"]]
    return [b - a for a, b in zip(ends, ends[1:], strict=False)]


def _load(cfg: dict):
    from engine.loading import load_model
    from engine.model_source import ModelSpec

    return load_model(ModelSpec(cfg["model"]), device=cfg["device"], dtype=cfg["dtype"])


def run_ours(cfg: dict) -> dict:
    import torch

    from engine.lora import LoraSettings
    from engine.training import train
    from engine.training.config import TrainSettings
    from engine.training.hooks import TrainData, TrainHooks

    loaded = _load(cfg)
    examples = pair_examples(build_pairs(cfg["pairs"]))
    settings = TrainSettings.from_dict(
        dict(
            algorithm="dpo",
            max_steps=cfg["steps"],
            learning_rate=cfg["lr"],
            batch_size=cfg["batch_size"],
            gradient_accumulation_steps=cfg["grad_accum"],
            lr_scheduler=cfg["scheduler"],
            warmup_ratio=cfg["warmup_ratio"],
            weight_decay=0.0,
            max_grad_norm=cfg["max_grad_norm"],
            beta=cfg["beta"],
            loss_type="sigmoid",
            max_length=cfg["max_length"],
            precision=cfg["precision"],
            seed=cfg["seed"],
            eval_every=0,
            checkpoint_every=0,
            samples_per_eval=0,
            logging_every=1,
            device=cfg["device"],
            lora=LoraSettings(
                r=cfg["lora_r"],
                alpha=cfg["lora_alpha"],
                dropout=cfg["lora_dropout"],
                target_modules="all-linear",
            ),
        )
    )
    marks: dict = {"steps": [], "losses": [], "save": []}
    meter = Meter(loaded.device)

    def on_log(text: str) -> None:
        if text.startswith("training "):
            marks["loop_start"] = meter.now()

    def on_progress(done: int, total: int, text: str) -> None:
        if text.startswith("step "):
            marks["steps"].append(meter.now())

    def checkpoint_dir(step: int) -> Path:
        marks["save"].append(meter.now())
        return Path(cfg["work"]) / "checkpoints" / f"step-{step}"

    hooks = TrainHooks(
        checkpoint_dir=checkpoint_dir,
        on_metrics=lambda step, m: marks["losses"].append(m["loss"]) if "loss" in m else None,
        on_checkpoint=lambda step, path, manifest: marks["save"].append(meter.now()),
        on_log=on_log,
        on_progress=on_progress,
        reference_cache_dir=Path(cfg["cache_dir"]),
    )
    torch.manual_seed(cfg["seed"])  # seeds the LoRA dropout stream, as TRL's set_seed(seed) does
    result = train(loaded, TrainData(train_pairs=examples), settings, hooks)
    out = meter.finish()
    if result.status != "done":
        raise RuntimeError(f"our run ended {result.status}")
    ref = result.reference
    out.update(
        ref_s=ref["seconds"],
        ref_computed=ref["computed"],
        ref_cached=ref["cached"],
        train_s=marks["steps"][-1] - marks["loop_start"],
        steps=len(marks["steps"]),
        step_s=_durations(marks),
        losses=marks["losses"],
        save_s=(marks["save"][1] - marks["save"][0]) if len(marks["save"]) == 2 else None,
    )
    return out


def run_trl(cfg: dict, precompute: bool) -> dict:
    from datasets import Dataset
    from peft import LoraConfig
    from torch.utils.data import Sampler
    from transformers import TrainerCallback
    from trl import DPOConfig, DPOTrainer

    from engine.generation import has_chat_template
    from engine.training.encode import encode_pairs

    loaded = _load(cfg)
    pairs = build_pairs(cfg["pairs"])
    order = step_order(len(pairs), cfg)
    chat = has_chat_template(loaded.tokenizer)
    if chat:  # conversational: TRL applies the chat template as our encode_prompts does
        rows = [
            {
                "prompt": [{"role": "user", "content": p["prompt"]}],
                "chosen": [{"role": "assistant", "content": p["chosen"]}],
                "rejected": [{"role": "assistant", "content": p["rejected"]}],
            }
            for p in pairs
        ]
    else:  # standard text: TRL appends the eos token to the completions
        rows = [dict(p) for p in pairs]
    # Our token ids, for the check that both trainers see the same sequences (not timed).
    ours_encoded, _ = encode_pairs(loaded.tokenizer, pair_examples(pairs), cfg["max_length"])
    marks: dict = {"steps": [], "losses": [], "ref_s": 0.0}
    meter = Meter(loaded.device)

    class OrderSampler(Sampler):
        def __iter__(self):
            return iter(order)

        def __len__(self):
            return len(order)

    class Trainer(DPOTrainer):
        def _get_train_sampler(self, train_dataset=None):
            return OrderSampler()

        def _precompute_ref_logps(self, dataset, name, batch_size):
            tick = meter.now()
            try:
                return super()._precompute_ref_logps(dataset, name, batch_size)
            finally:
                marks["ref_s"] += meter.now() - tick

    class Clock(TrainerCallback):
        def on_train_begin(self, args, state, control, **kwargs):
            marks["loop_start"] = meter.now()

        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "loss" in logs and "train_runtime" not in logs:
                marks["steps"].append(meter.now())
                marks["losses"].append(float(logs["loss"]))

    cuda = loaded.device.startswith("cuda")
    args = DPOConfig(
        output_dir=str(Path(cfg["work"]) / "trl-output"),
        per_device_train_batch_size=cfg["batch_size"],
        gradient_accumulation_steps=cfg["grad_accum"],
        max_steps=cfg["steps"],
        learning_rate=cfg["lr"],
        lr_scheduler_type=cfg["scheduler"],
        warmup_steps=round(cfg["warmup_ratio"] * cfg["steps"]),
        weight_decay=0.0,
        max_grad_norm=cfg["max_grad_norm"],
        optim=cfg["trl_optim"],
        beta=cfg["beta"],
        loss_type=["sigmoid"],
        max_length=cfg["max_length"],
        precompute_ref_log_probs=precompute,
        precompute_ref_batch_size=cfg["batch_size"],
        disable_dropout=False,  # keep LoRA dropout, as our trainer does
        gradient_checkpointing=False,
        bf16=cuda,
        fp16=False,
        use_cpu=not cuda,
        seed=cfg["seed"],
        data_seed=cfg["seed"],
        report_to="none",
        logging_steps=1,
        save_strategy="no",
        eval_strategy="no",
        disable_tqdm=True,
        dataloader_num_workers=0,
        push_to_hub=False,
    )
    peft_config = LoraConfig(
        r=cfg["lora_r"],
        lora_alpha=cfg["lora_alpha"],
        lora_dropout=cfg["lora_dropout"],
        target_modules="all-linear",
        bias="none",
        task_type="CAUSAL_LM",
    )
    trainer = Trainer(
        model=loaded.model,
        args=args,
        train_dataset=Dataset.from_list(rows),
        processing_class=loaded.tokenizer,
        peft_config=peft_config,
        callbacks=[Clock()],
    )
    trainer.train()
    out = meter.finish()
    prepared = trainer.train_dataset
    # A pair ours leaves out as too long (TRL truncates it instead) counts as a mismatch.
    mismatched = abs(len(prepared) - len(ours_encoded)) + sum(
        (list(a), list(b), list(c)) != (e.prompt_ids, e.chosen_ids, e.rejected_ids)
        for a, b, c, e in zip(
            prepared["prompt_ids"],
            prepared["chosen_ids"],
            prepared["rejected_ids"],
            ours_encoded,
            strict=False,
        )
    )
    output_dir = Path(args.output_dir)
    out.update(
        ref_s=marks["ref_s"] if precompute else None,
        ref_computed=2 * len(pairs) if precompute else 0,
        ref_cached=0,
        train_s=marks["steps"][-1] - marks["loop_start"],
        steps=len(marks["steps"]),
        step_s=_durations(marks),
        losses=marks["losses"],
        data_format="conversational" if chat else "standard",
        token_mismatches=mismatched,
        output_files=sum(1 for f in output_dir.rglob("*") if f.is_file())
        if output_dir.exists()
        else 0,
    )
    return out


def child_main(cfg: dict, row: str, result_path: Path) -> None:
    import torch

    torch.set_num_threads(cfg["threads"])
    if row.startswith("ours"):
        out = run_ours(cfg)
    else:
        out = run_trl(cfg, precompute=row == "trl-precompute")
    out["threads_at_end"] = torch.get_num_threads()
    result_path.write_text(json.dumps(out))


# --------------------------------------------------------------------------- parent side


def _versions() -> str:
    code = (
        "import torch, transformers, peft, trl, accelerate, datasets;"
        "print(f'torch {torch.__version__}, transformers {transformers.__version__}, "
        "peft {peft.__version__}, trl {trl.__version__}, accelerate {accelerate.__version__}, "
        "datasets {datasets.__version__}')"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    return done.stdout.strip() or "versions unknown"


def _child_env(cfg: dict, work: Path) -> dict:
    env = dict(os.environ)
    threads = str(cfg["threads"])
    env.update(
        OMP_NUM_THREADS=threads,
        MKL_NUM_THREADS=threads,
        TOKENIZERS_PARALLELISM="false",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        HF_DATASETS_OFFLINE="1",
        HF_DATASETS_CACHE=str(work / "hf-datasets"),
        TQDM_DISABLE="1",
        HF_HUB_DISABLE_TELEMETRY="1",
        PYTHONPATH=os.pathsep.join([str(ROOT)] + [p for p in [env.get("PYTHONPATH")] if p]),
    )
    return env


def _busy_cores(seconds: float = 1.0) -> float | None:
    """CPU cores busy right now (from /proc/stat over ``seconds``); None where unreadable.
    Unlike the load average, it does not lag a minute behind."""

    def sample() -> tuple[int, int]:
        with open("/proc/stat", encoding="ascii") as handle:
            values = [int(v) for v in handle.readline().split()[1:]]
        idle = values[3] + (values[4] if len(values) > 4 else 0)
        return sum(values), idle

    try:
        total0, idle0 = sample()
        time.sleep(seconds)
        total1, idle1 = sample()
    except (OSError, ValueError, IndexError):
        return None
    total = total1 - total0
    return None if total <= 0 else (os.cpu_count() or 1) * (1 - (idle1 - idle0) / total)


def _cpu_snapshot() -> tuple[float, float, float] | None:
    """(clock, CPU seconds all processes have used, CPU seconds of our finished children)."""
    try:
        with open("/proc/stat", encoding="ascii") as handle:
            values = [int(v) for v in handle.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (
        time.perf_counter(),
        (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK"),
        children.ru_utime + children.ru_stime,
    )


def _others_cores(before, after) -> float | None:
    """Cores used by other processes between two snapshots (all busy time less our child's)."""
    if before is None or after is None or after[0] <= before[0]:
        return None
    wall = after[0] - before[0]
    return max(0.0, ((after[1] - before[1]) - (after[2] - before[2])) / wall)


def _load_text() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} on {os.cpu_count()} CPUs"


def _table(cfg: dict, results: dict) -> str:
    pairs_per_step = cfg["batch_size"] * cfg["grad_accum"]
    mem_head = (
        "peak GPU mem over model (MiB)"
        if cfg["device"].startswith("cuda")
        else "peak RSS growth (MiB)"
    )
    lines = [
        f"| # | run | reference log-probs | train steps (s) | pairs/s | median step (ms) "
        f"| wall (s) | {mem_head} | final loss | mean loss | other load (cores) |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n, (row, title) in enumerate(ROWS, 1):
        r = results.get(row)
        if r is None:  # not among --rows
            continue
        if "error" in r:
            lines.append(f"| {n} | {title} | failed: {r['error']} | | | | | | | | |")
            continue
        if r["ref_s"] is None:
            ref = "inside every step"
        elif r["ref_cached"] and not r["ref_computed"]:
            ref = f"{r['ref_s']:.2f} s ({r['ref_cached']} seqs from cache)"
        else:
            ref = f"{r['ref_s']:.2f} s ({r['ref_computed']} seqs computed)"
        pps = r["steps"] * pairs_per_step / r["train_s"]
        losses = r["losses"]
        median = statistics.median(r["step_s"]) * 1000
        others = "?" if r.get("others_cores") is None else f"{r['others_cores']:.2f}"
        lines.append(
            f"| {n} | {title} | {ref} | {r['train_s']:.2f} | {pps:.1f} | {median:.1f} | "
            f"{r['wall_s']:.2f} | {r['mem_growth_mib']:.1f} | {losses[-1]:.4f} | "
            f"{sum(losses) / len(losses):.4f} | {others} |"
        )
    return "\n".join(lines)


def _notes(cfg: dict, results: dict) -> list[str]:
    notes = []
    ok = {k: v for k, v in results.items() if "error" not in v}

    def delta(a: str, b: str) -> str | None:
        if a in ok and b in ok and len(ok[a]["losses"]) == len(ok[b]["losses"]):
            d = max(abs(x - y) for x, y in zip(ok[a]["losses"], ok[b]["losses"], strict=True))
            return f"{d:.2e}"
        return None

    for a, b, what in (
        ("ours-first", "ours-cached", "ours run 1 vs run 2"),
        ("ours-first", "trl-default", "ours run 1 vs TRL default"),
        ("trl-default", "trl-precompute", "TRL default vs TRL precompute"),
    ):
        d = delta(a, b)
        if d is not None:
            notes.append(f"max |per-step loss difference|, {what}: {d}")
    for row in ("trl-default", "trl-precompute"):
        if row in ok:
            r = ok[row]
            notes.append(
                f"{row}: {r['data_format']} data, pairs whose token ids differ from "
                f"ours: {r['token_mismatches']} of {cfg['pairs']}; files TRL wrote to "
                f"its output_dir: {r['output_files']}"
            )
    for row, r in ok.items():
        save = r.get("save_s")
        notes.append(
            f"{row}: torch threads at end {r['threads_at_end']}, memory baseline "
            f"{r['mem_base_mib']:.1f} MiB, peak {r['mem_peak_mib']:.1f} MiB "
            f"({r['mem_kind']})"
            + ("" if save is None else f", final checkpoint save {save:.3f} s (in wall)")
        )
    return notes


def parse_args(argv=None) -> argparse.Namespace:
    from engine.demo import DEMO_MODEL_DIR

    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    p.add_argument("--model", default=str(DEMO_MODEL_DIR), help="local Hugging Face model folder")
    p.add_argument("--pairs", type=int, default=256, help="preference pairs (demo train split)")
    p.add_argument("--steps", type=int, default=60, help="optimizer steps")
    p.add_argument("--batch-size", type=int, default=8, help="pairs per micro-batch")
    p.add_argument("--grad-accum", type=int, default=1, help="micro-batches per step")
    p.add_argument("--lr", type=float, default=2e-3, help="peak learning rate")
    p.add_argument("--beta", type=float, default=0.1)
    p.add_argument("--scheduler", default="cosine", choices=("cosine", "linear", "constant"))
    p.add_argument("--warmup-ratio", type=float, default=0.1)
    p.add_argument("--max-grad-norm", type=float, default=1.0)
    p.add_argument("--max-length", type=int, default=256)
    p.add_argument("--lora-r", type=int, default=8)
    p.add_argument("--lora-alpha", type=float, default=16)
    p.add_argument("--lora-dropout", type=float, default=0.05)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu", help="cpu or cuda[:N]")
    p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads in every run")
    p.add_argument(
        "--trl-optim",
        default="adamw_torch",
        help="TRL optim (adamw_torch = torch.optim.AdamW, as ours)",
    )
    p.add_argument(
        "--rows",
        default=",".join(r for r, _ in ROWS),
        help="comma-separated subset of " + ", ".join(r for r, _ in ROWS),
    )
    p.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run every row this many times (round robin); the table shows each "
        "row's fastest repetition",
    )
    p.add_argument("--json", type=Path, help="also write all results here")
    p.add_argument("--verbose", action="store_true", help="show the children's output")
    p.add_argument(
        "--keep-work",
        action="store_true",
        help="keep the temporary folder (caches, checkpoints, results)",
    )
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--child-config", help=argparse.SUPPRESS)
    p.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def _run_row(
    row: str, cfg: dict, row_work: Path, work: Path, verbose: bool, script: str = __file__
) -> dict:
    """One configuration in a fresh subprocess of ``script`` (this benchmark, or another
    built the same way); its results, or {"error": ...}."""
    row_work.mkdir(parents=True)
    result_path = row_work / "result.json"
    cmd = [
        sys.executable,
        str(Path(script).resolve()),
        "--child",
        row,
        "--child-config",
        json.dumps({**cfg, "work": str(row_work)}),
        "--result",
        str(result_path),
    ]
    tick, before = time.perf_counter(), _cpu_snapshot()
    done = subprocess.run(
        cmd, env=_child_env(cfg, work), cwd=str(ROOT), capture_output=not verbose, text=True
    )
    others = _others_cores(before, _cpu_snapshot())
    if done.returncode == 0 and result_path.is_file():
        result = json.loads(result_path.read_text())
    else:
        tail = (done.stderr or "").strip().splitlines()[-1:] or [f"exit {done.returncode}"]
        result = {"error": tail[0][:200]}
        if not verbose and done.stderr:
            print(done.stderr[-4000:], file=sys.stderr)
    result.update(others_cores=others, subprocess_s=time.perf_counter() - tick)
    return result


def _best(found: list[dict]) -> dict:
    """The repetition with the fastest training steps (the least disturbed one)."""
    ok = [r for r in found if "error" not in r]
    return min(ok, key=lambda r: r["train_s"]) if ok else found[-1]


def report_cores(cuda: bool, threads: int) -> None:
    """Print how busy the CPU is before the first run, and warn when the benchmark's
    threads cannot each have a core."""
    busy = _busy_cores()
    if busy is not None:
        print(f"- CPU cores busy before the first run: {busy:.2f} of {os.cpu_count()}")
    if not cuda and busy is not None and busy + threads > (os.cpu_count() or 1) + 0.5:
        print(
            f"- WARNING: {busy:.1f} busy cores plus {threads} threads exceed the "
            f"{os.cpu_count()} CPUs; OpenMP threads that must share cores slow down by far "
            "more than the share (spin-waiting), so timings may mostly measure contention. "
            "Use fewer --threads or an idle machine."
        )


@contextlib.contextmanager
def work_folder(prefix: str, keep: bool):
    """A scratch folder for the rows' subprocesses, removed afterwards unless ``keep``."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield work
    finally:
        if keep:
            print(f"- work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def run_repetitions(
    rows: list[str], repeat: int, work: Path, verbose: bool, rep_cfg, run_row=None
) -> dict[str, list[dict]]:
    """Each row once per repetition, in order, each in its own subprocess (``run_row``,
    default this benchmark's) with ``rep_cfg(rep)`` as its config; a line per run."""
    run_row = run_row or _run_row
    runs: dict[str, list[dict]] = {row: [] for row in rows}
    for rep in range(repeat):
        cfg = rep_cfg(rep)
        for row in rows:
            result = run_row(row, cfg, work / f"{row}-{rep}", work, verbose)
            runs[row].append(result)
            others = result.get("others_cores")
            print(
                f"- {row}{f' #{rep + 1}' if repeat > 1 else ''}: "
                f"{result['subprocess_s']:.1f} s in its subprocess"
                + ("" if others is None else f", other processes busy on {others:.2f} cores")
                + (f" ({result['error']})" if "error" in result else ""),
                flush=True,
            )
    return runs


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.child:
        child_main(json.loads(args.child_config), args.child, args.result)
        return 0
    cuda = args.device.startswith("cuda")
    rows = [r.strip() for r in args.rows.split(",") if r.strip()]
    unknown = sorted(set(rows) - {r for r, _ in ROWS})
    if unknown:
        raise SystemExit(f"unknown rows: {', '.join(unknown)}")
    if "ours-cached" in rows and "ours-first" not in rows:
        raise SystemExit("ours-cached reuses the cache that ours-first fills: run both")
    build_pairs(args.pairs)  # validate before starting children
    if args.repeat < 1:
        raise SystemExit("--repeat must be at least 1")
    cfg = {
        "model": str(Path(args.model).expanduser().resolve()),
        "pairs": args.pairs,
        "steps": args.steps,
        "batch_size": args.batch_size,
        "grad_accum": args.grad_accum,
        "lr": args.lr,
        "beta": args.beta,
        "scheduler": args.scheduler,
        "warmup_ratio": args.warmup_ratio,
        "max_grad_norm": args.max_grad_norm,
        "max_length": args.max_length,
        "lora_r": args.lora_r,
        "lora_alpha": args.lora_alpha,
        "lora_dropout": args.lora_dropout,
        "seed": args.seed,
        "device": args.device,
        "dtype": "bfloat16" if cuda else "float32",
        "precision": "bf16" if cuda else "fp32",
        "threads": args.threads,
        "trl_optim": args.trl_optim,
    }
    print(f"# DPO benchmark: ours vs TRL  ({time.strftime('%Y-%m-%d %H:%M:%S')})")
    print(
        f"- machine: {platform.platform()}, {platform.processor() or platform.machine()}; "
        f"{_load_text()} at start"
    )
    print(f"- {_versions()}")
    print(
        f"- model {cfg['model']}; {cfg['pairs']} pairs, {cfg['steps']} steps x "
        f"{cfg['batch_size']} x {cfg['grad_accum']} pairs, lr {cfg['lr']} {cfg['scheduler']} "
        f"warmup {cfg['warmup_ratio']}, beta {cfg['beta']}, LoRA r={cfg['lora_r']} "
        f"alpha={cfg['lora_alpha']} dropout={cfg['lora_dropout']} all-linear, "
        f"{cfg['device']} {cfg['precision']}, {cfg['threads']} threads, seed {cfg['seed']}"
    )
    report_cores(cuda, args.threads)
    started = time.perf_counter()
    with work_folder("bench-dpo-", args.keep_work) as work:
        # Each repetition starts with an empty reference cache, shared by its "ours" rows.
        runs = run_repetitions(
            rows,
            args.repeat,
            work,
            args.verbose,
            lambda rep: {**cfg, "cache_dir": str(work / f"reference-cache-{rep}")},
        )
    results = {row: _best(found) for row, found in runs.items()}
    print(f"- total {time.perf_counter() - started:.1f} s; {_load_text()} at end")
    print()
    print(_table(cfg, results))
    print()
    for note in _notes(cfg, results):
        print(f"- {note}")
    if args.repeat > 1:
        for row, found in runs.items():
            times = ", ".join("failed" if "error" in r else f"{r['train_s']:.2f}" for r in found)
            print(
                f"- {row}: train steps (s) of the {args.repeat} repetitions: {times} "
                "(the table shows the fastest)"
            )
    if args.json:
        args.json.write_text(json.dumps({"config": cfg, "runs": runs}, indent=2))
    return 0 if all("error" not in r for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
