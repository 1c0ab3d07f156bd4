"""Benchmark: our GRPO trainer beside TRL's GRPOTrainer on the demo arithmetic task.

    .venv/bin/python tests/benchmarks/bench_grpo.py                  # demo model, CPU, defaults
    .venv/bin/python tests/benchmarks/bench_grpo.py --quick          # 3 steps per row, to debug
    .venv/bin/python tests/benchmarks/bench_grpo.py --steps 100 --target 0.6 --repeat 2

Same model (the embedded demo model unless ``--model``), same train prompts in the same
order (TRL is given our trainer's data order through its sampler), same group size,
completion length, temperature, LoRA (r, alpha, dropout, "all-linear"), optimizer (torch
AdamW), learning rate and schedule, DAPO loss with beta 0 and group-scaled advantages,
steps and seed; the reward is literally the same function (our ``rules_source`` on the
demo rules, called from TRL's reward function). By default TRL's sampling is seeded as
ours is (per step), so both sides draw the same completions while their weights agree.

Rows, each in a fresh subprocess so that peak memory and threads do not leak between them:
  1. ours: engine.training.train with algorithm "grpo"
  2. TRL GRPOTrainer
  3. ours with DAPO's dynamic sampling (groups without reward variance replaced): the
     same settings otherwise; it samples more per step, so its curve is not TRL's

Both are evaluated the same way every ``--eval-every`` steps: greedy answers to the first
``--eval-prompts`` eval prompts, scored by the same rules (our ``evaluate_online``; for TRL
it runs from a TrainerCallback on the trainer's model); evaluation time is kept out of the
training time. Measured: steps/s and completions/s over the training steps, the share of
that time spent generating, the training time until the eval pass rate first reaches
``--target``, the final pass rate and peak memory growth over the loaded model.
See tests/benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.benchmarks import bench_dpo as dpo_bench  # noqa: E402  (after the sys.path line)
from tests.benchmarks.bench_dpo import (  # noqa: E402
    Meter,
    _best,
    _load,
    _load_text,
    _versions,
    report_cores,
    run_repetitions,
    step_order,
    work_folder,
)

ROWS = (
    ("ours", "ours (engine.training.train, grpo)"),
    ("trl", "TRL GRPOTrainer"),
    ("ours-dynamic", "ours + dynamic sampling (DAPO)"),
)
QUICK = {"steps": 3, "eval_every": 2, "eval_prompts": 16}
QUICK_TEXT = ", ".join(f"--{key.replace('_', '-')} {value}" for key, value in QUICK.items())


# --------------------------------------------------------------------------- data


def prompt_data():
    """TrainData with every demo train prompt and every eval prompt, answers as references."""
    from engine.demo.task import demo_splits
    from engine.training.examples import PromptExample
    from engine.training.hooks import TrainData

    splits = demo_splits()
    train = [PromptExample(p.question, str(p.answer), i) for i, p in enumerate(splits["train"])]
    evaluation = [PromptExample(p.question, str(p.answer)) for p in splits["eval"]]
    return TrainData(train_prompts=train, eval_prompts=evaluation)


def demo_rewards():
    """The demo project's reward: its rules (format gate 0.1 + numeric answer 1.0)."""
    from engine.training.online.rewards import rules_source
    from workbench.demo_project import DEMO_RULES

    return [rules_source(DEMO_RULES)]


def our_settings(cfg: dict, dynamic_sampling: bool = False):
    from engine.lora import LoraSettings
    from engine.training.config import TrainSettings

    return TrainSettings.from_dict(
        dict(
            algorithm="grpo",
            max_steps=cfg["steps"],
            learning_rate=cfg["lr"],
            batch_size=cfg["batch_size"],
            gradient_accumulation_steps=1,
            lr_scheduler=cfg["scheduler"],
            warmup_ratio=cfg["warmup_ratio"],
            weight_decay=0.0,
            max_grad_norm=cfg["max_grad_norm"],
            beta=0.0,
            num_generations=cfg["generations"],
            dynamic_sampling=dynamic_sampling,
            max_completion_length=cfg["max_completion_length"],
            temperature=cfg["temperature"],
            top_p=1.0,
            top_k=0,
            num_iterations=1,
            epsilon=0.2,
            grpo_loss_type="dapo",
            scale_rewards="group",
            importance_sampling_level="token",
            mask_truncated_completions=False,
            samples_per_step=0,
            samples_per_eval=0,
            eval_prompts=cfg["eval_prompts"],
            eval_every=cfg["eval_every"],
            checkpoint_every=0,
            logging_every=1,
            precision=cfg["precision"],
            seed=cfg["seed"],
            device=cfg["device"],
            lora=LoraSettings(
                r=cfg["lora_r"],
                alpha=cfg["lora_alpha"],
                dropout=cfg["lora_dropout"],
                target_modules="all-linear",
            ),
        )
    )


# --------------------------------------------------------------------------- child side


class EvalRun:
    """What ``evaluate_online`` reads of a run, for a model that is not ours to train (TRL's
    policy, or the base model): the same greedy answers to the same eval prompts, scored by
    the same reward sources."""

    def __init__(self, loaded, model, settings, data, sources):
        from engine.generation import stop_token_ids
        from engine.training.online.loop import _fitting

        self.loaded, self.model, self.settings, self.sources = loaded, model, settings, sources
        self.eval_prompts, _ = _fitting(loaded, data.eval_prompts, settings)
        self.accelerator = SimpleNamespace(process_index=0, num_processes=1)
        self.eos_ids = stop_token_ids(loaded)
        self.device = loaded.device
        self.main = True

    def policy(self):
        return self.model

    def phase(self, name: str, done: int = 0, total: int = 0) -> None:
        """Progress display of a run: the benchmark shows none."""

    def pass_rate(self, step: int) -> float:
        from engine.training.online.evaluation import evaluate_online

        metrics, _ = evaluate_online(self, step)
        return metrics["eval_rewards/answer/mean"]


def _train_clock(marks: dict) -> list[float]:
    """Training seconds at the end of each step: from the start of the loop, less the time
    of the evaluations run before that step ended."""
    evals = sorted((step, seconds) for step, _, seconds in marks["evals"])
    out = []
    for n, mark in enumerate(marks["steps"], 1):
        excluded = sum(seconds for step, seconds in evals if step < n)
        out.append(mark - marks["loop_start"] - excluded)
    return out


def _summary(marks: dict, cfg: dict, out: dict) -> dict:
    clock = _train_clock(marks)
    reached = next(
        ((step, rate) for step, rate, _ in marks["evals"] if rate >= cfg["target"]), None
    )
    out.update(
        steps=len(marks["steps"]),
        train_s=clock[-1],
        gen_s=sum(marks["gen_s"]),
        eval_s=sum(s for _, _, s in marks["evals"]),
        evals=[[step, rate, seconds] for step, rate, seconds in marks["evals"]],
        target_step=reached[0] if reached else None,
        target_s=clock[reached[0] - 1] if reached else None,
        final_pass=marks["evals"][-1][1] if marks["evals"] else None,
        losses=marks["losses"],
        rewards=marks["rewards"],
        step_s=[b - a for a, b in zip([0.0, *clock], clock, strict=False)],
    )
    return out


def run_base(cfg: dict) -> dict:
    """The base model's greedy pass rate on the same eval prompts (printed once)."""
    loaded = _load(cfg)
    data = prompt_data()
    settings = our_settings(cfg)
    evaluator = EvalRun(loaded, loaded.model, settings, data, demo_rewards())
    tick = time.perf_counter()
    rate = evaluator.pass_rate(0)
    return {
        "base_pass": rate,
        "eval_prompts": len(evaluator.eval_prompts[: cfg["eval_prompts"]]),
        "eval_s": time.perf_counter() - tick,
    }


def run_ours(cfg: dict, dynamic_sampling: bool = False) -> dict:
    import torch

    from engine.training import train
    from engine.training.hooks import TrainHooks

    loaded = _load(cfg)
    data = prompt_data()
    settings = our_settings(cfg, dynamic_sampling)
    sources = demo_rewards()
    marks: dict = {"steps": [], "evals": [], "gen_s": [], "losses": [], "rewards": []}
    dropped: list[float] = []
    meter = Meter(loaded.device)

    def on_log(text: str) -> None:
        if text.startswith("training "):
            marks["loop_start"] = meter.now()

    def on_progress(done: int, total: int, text: str) -> None:
        if text.startswith("step "):
            marks["steps"].append(meter.now())

    def on_metrics(step: int, metrics: dict) -> None:
        if "grad_norm" in metrics:  # a training step (reported before its progress mark)
            marks["gen_s"].append(metrics["train/generation_seconds"])
            marks["losses"].append(metrics["loss"])
            marks["rewards"].append(metrics["reward"])
            dropped.append(metrics.get("dynamic_sampling/dropped_groups", 0.0))
        elif "eval_rewards/answer/mean" in metrics:  # evaluation, run right after the mark
            marks["evals"].append(
                (step, metrics["eval_rewards/answer/mean"], meter.now() - marks["steps"][step - 1])
            )

    hooks = TrainHooks(
        checkpoint_dir=lambda step: Path(cfg["work"]) / "checkpoints" / str(step),
        on_metrics=on_metrics,
        on_log=on_log,
        on_progress=on_progress,
    )
    torch.manual_seed(cfg["seed"])
    result = train(loaded, data, settings, hooks, rewards=sources)
    out = meter.finish()
    if result.status != "done":
        raise RuntimeError(f"our run ended {result.status}")
    out["dropped_groups"] = sum(dropped)
    return _summary(marks, cfg, out)


def run_trl(cfg: dict) -> dict:
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from torch.utils.data import Sampler
    from transformers import TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    from engine.generation import encode_prompts
    from engine.training.online.rollout import rollout_seed

    loaded = _load(cfg)
    data = prompt_data()
    settings = our_settings(cfg)
    sources = demo_rewards()
    g = cfg["generations"]
    # Our trainer's prompt order, each prompt repeated for its group (TRL's RepeatSampler
    # layout with steps_per_generation = num_iterations = 1).
    order = [i for i in step_order(len(data.train_prompts), cfg) for _ in range(g)]
    rows = [
        {"prompt": [{"role": "user", "content": e.prompt}], "answer": e.reference}
        for e in data.train_prompts
    ]
    marks: dict = {"steps": [], "evals": [], "gen_s": [], "turn_s": [], "losses": [], "rewards": []}
    meter = Meter(loaded.device)

    def rules(prompts, completions, answer, **kwargs):
        """TRL reward function: our rules source on the same texts and references."""
        texts = [c[-1]["content"] if isinstance(c, list) else c for c in completions]
        questions = [p[-1]["content"] if isinstance(p, list) else p for p in prompts]
        return [
            0.0 if v is None else float(v)
            for v in sources[0].score(questions, texts, list(answer)).values
        ]

    class OrderSampler(Sampler):
        def __iter__(self):
            return iter(order)

        def __len__(self):
            return len(order)

    class Trainer(GRPOTrainer):
        def _get_train_sampler(self, dataset=None):
            return OrderSampler()

        def _generate(self, prompts):  # tokenize + generate + decode: our rollout.sample
            tick = meter.now()
            try:
                return super()._generate(prompts)
            finally:
                marks["gen_s"].append(meter.now() - tick)

        def _generate_single_turn(self, *args, **kwargs):  # model.generate alone
            tick = meter.now()
            try:
                if not cfg["same_sampling_seeds"]:
                    return super()._generate_single_turn(*args, **kwargs)
                with torch.random.fork_rng(devices=[]):  # as our rollout.sample seeds each step
                    torch.manual_seed(rollout_seed(cfg["seed"], self.state.global_step, 0, 0))
                    return super()._generate_single_turn(*args, **kwargs)
            finally:
                marks["turn_s"].append(meter.now() - tick)

    holder: dict = {}

    class Clock(TrainerCallback):
        def on_train_begin(self, args, state, control, **kwargs):
            marks["loop_start"] = meter.now()

        def on_step_end(self, args, state, control, **kwargs):
            marks["steps"].append(meter.now())
            step = state.global_step
            if step % cfg["eval_every"] == 0 or step == cfg["steps"]:
                trainer = holder["trainer"]
                evaluator = EvalRun(
                    loaded, trainer.accelerator.unwrap_model(trainer.model), settings, data, sources
                )
                rate = evaluator.pass_rate(step)
                marks["evals"].append((step, rate, meter.now() - marks["steps"][-1]))

        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "loss" in logs and "train_runtime" not in logs:
                marks["losses"].append(float(logs["loss"]))
                marks["rewards"].append(float(logs["reward"]))

    cuda = loaded.device.startswith("cuda")
    args = GRPOConfig(
        output_dir=str(Path(cfg["work"]) / "trl-output"),
        per_device_train_batch_size=cfg["batch_size"] * g,  # TRL counts completions
        gradient_accumulation_steps=1,
        num_generations=g,
        steps_per_generation=1,
        num_iterations=1,
        max_completion_length=cfg["max_completion_length"],
        temperature=cfg["temperature"],
        top_p=1.0,
        top_k=0,
        beta=0.0,
        loss_type="dapo",
        scale_rewards="group",
        epsilon=0.2,
        importance_sampling_level="token",
        mask_truncated_completions=False,
        max_steps=cfg["steps"],
        learning_rate=cfg["lr"],
        lr_scheduler_type=cfg["scheduler"],
        warmup_steps=round(cfg["warmup_ratio"] * cfg["steps"]),
        weight_decay=0.0,
        max_grad_norm=cfg["max_grad_norm"],
        optim=cfg["trl_optim"],
        disable_dropout=False,  # keep LoRA dropout, as our trainer does
        gradient_checkpointing=False,
        bf16=cuda,
        fp16=False,
        use_cpu=not cuda,
        seed=cfg["seed"],
        data_seed=cfg["seed"],
        log_completions=False,
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
        reward_funcs=[rules],
        args=args,
        train_dataset=Dataset.from_list(rows),
        processing_class=loaded.tokenizer,
        peft_config=peft_config,
        callbacks=[Clock()],
    )
    holder["trainer"] = trainer
    # Not timed: do TRL's prompt token ids and end tokens equal ours?
    tick = meter.now()
    theirs, _, _ = trainer._tokenize_prompts([r["prompt"] for r in rows])
    ours = encode_prompts(loaded.tokenizer, [e.prompt for e in data.train_prompts])
    mismatched = sum(list(a) != list(b) for a, b in zip(theirs, ours, strict=True))
    from engine.generation import stop_token_ids

    same_eos = sorted(trainer.eos_token_ids) == sorted(stop_token_ids(loaded))
    check_s = meter.now() - tick
    trainer.train()
    out = meter.finish()
    output_dir = Path(args.output_dir)
    out.update(
        token_mismatches=mismatched,
        same_eos=same_eos,
        check_s=check_s,
        turn_s=sum(marks["turn_s"]),
        output_files=sum(1 for f in output_dir.rglob("*") if f.is_file())
        if output_dir.exists()
        else 0,
    )
    return _summary(marks, cfg, out)


def child_main(cfg: dict, row: str, result_path: Path) -> None:
    import torch

    torch.set_num_threads(cfg["threads"])
    rows = {
        "base": run_base,
        "ours": run_ours,
        "trl": run_trl,
        "ours-dynamic": lambda c: run_ours(c, dynamic_sampling=True),
    }
    out = rows[row](cfg)
    out["threads_at_end"] = torch.get_num_threads()
    result_path.write_text(json.dumps(out))


# --------------------------------------------------------------------------- parent side


def _table(cfg: dict, results: dict) -> str:
    completions_per_step = cfg["batch_size"] * cfg["generations"]
    mem_head = (
        "peak GPU mem over model (MiB)"
        if cfg["device"].startswith("cuda")
        else "peak RSS growth (MiB)"
    )
    lines = [
        f"| # | run | steps | train time (s) | steps/s | completions/s | generation share "
        f"| time to pass rate {cfg['target']:.2f} | final pass rate | {mem_head} "
        f"| other load (cores) |",
        "|---|---|---:|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    for n, (row, title) in enumerate(ROWS, 1):
        r = results.get(row)
        if r is None:  # not among --rows
            continue
        if "error" in r:
            lines.append(f"| {n} | {title} | failed: {r['error']} | | | | | | | | |")
            continue
        if r["target_step"] is None:
            target = "not reached"
        else:
            target = f"{r['target_s']:.1f} s (step {r['target_step']})"
        final = "?" if r["final_pass"] is None else f"{r['final_pass']:.3f}"
        others = "?" if r.get("others_cores") is None else f"{r['others_cores']:.2f}"
        lines.append(
            f"| {n} | {title} | {r['steps']} | {r['train_s']:.1f} | "
            f"{r['steps'] / r['train_s']:.3f} | "
            f"{r['steps'] * completions_per_step / r['train_s']:.1f} | "
            f"{100 * r['gen_s'] / r['train_s']:.1f}% | {target} | {final} | "
            f"{r['mem_growth_mib']:.1f} | {others} |"
        )
    return "\n".join(lines)


def _notes(cfg: dict, results: dict, base: dict) -> list[str]:
    notes = []
    if "error" in base:
        notes.append(f"base model pass rate: failed ({base['error']})")
    else:
        notes.append(
            f"base model (no adapter) greedy pass rate on the same {base['eval_prompts']} "
            f"eval prompts: {base['base_pass']:.3f}"
        )
    ok = {k: v for k, v in results.items() if "error" not in v}
    for row, r in ok.items():
        curve = ", ".join(
            f"{step}: {rate:.3f} ({seconds:.1f} s)" for step, rate, seconds in r["evals"]
        )
        notes.append(
            f"{row}: eval pass rate by step (evaluation time, not in the train "
            f"time): {curve}; {r['eval_s']:.1f} s in all"
        )
    if "ours" in ok and "trl" in ok:
        a, b = ok["ours"], ok["trl"]
        n = min(len(a["losses"]), len(b["losses"]))
        same = next((i for i in range(n) if abs(a["rewards"][i] - b["rewards"][i]) > 1e-6), n)
        first = (
            "every step" if same == n else "no step" if same == 0 else f"the first {same} step(s)"
        )
        notes.append(
            f"mean reward per step identical (to 1e-6) for {first} of {n}; "
            f"step-1 loss ours {a['losses'][0]:.6g} vs TRL {b['losses'][0]:.6g}"
            + (
                ""
                if cfg["same_sampling_seeds"]
                else " (TRL samples from its own random stream: expected to differ)"
            )
        )
        notes.append(
            f"mean reward over all steps: ours {sum(a['rewards']) / n:.4f}, "
            f"TRL {sum(b['rewards'][:n]) / n:.4f}"
        )
    if "ours-dynamic" in ok:
        notes.append(
            f"ours-dynamic: {ok['ours-dynamic']['dropped_groups']:.0f} groups without reward "
            "variance dropped and replaced over the run (their sampling is in its train time)"
        )
    if "trl" in ok:
        r = ok["trl"]
        notes.append(
            f"trl: prompts whose token ids differ from ours: {r['token_mismatches']} of "
            f"{cfg['train_prompts']}; same end tokens: {r['same_eos']}; model.generate "
            f"alone (_generate_single_turn) {r['turn_s']:.1f} s of its "
            f"{r['gen_s']:.1f} s generation; files TRL wrote to its output_dir: "
            f"{r['output_files']}"
        )
    for row, r in ok.items():
        notes.append(
            f"{row}: torch threads at end {r['threads_at_end']}, memory baseline "
            f"{r['mem_base_mib']:.1f} MiB, peak {r['mem_peak_mib']:.1f} MiB "
            f"({r['mem_kind']}), wall from loaded model to end {r['wall_s']:.1f} s"
        )
    return notes


def parse_args(argv=None) -> argparse.Namespace:
    from engine.demo import DEMO_MODEL_DIR

    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    p.add_argument("--model", default=str(DEMO_MODEL_DIR), help="local Hugging Face model folder")
    p.add_argument("--steps", type=int, default=60, help="optimizer steps")
    p.add_argument("--batch-size", type=int, default=8, help="prompts per step")
    p.add_argument("--generations", type=int, default=8, help="completions per prompt (group)")
    p.add_argument("--max-completion-length", type=int, default=20)
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--lr", type=float, default=2e-3, help="peak learning rate")
    p.add_argument("--scheduler", default="cosine", choices=("cosine", "linear", "constant"))
    p.add_argument("--warmup-ratio", type=float, default=0.1)
    p.add_argument("--max-grad-norm", type=float, default=1.0)
    p.add_argument("--lora-r", type=int, default=8)
    p.add_argument("--lora-alpha", type=float, default=16)
    p.add_argument("--lora-dropout", type=float, default=0.0)
    p.add_argument("--eval-every", type=int, default=10, help="evaluate every this many steps")
    p.add_argument(
        "--eval-prompts",
        type=int,
        default=100,
        help="eval-split prompts answered greedily at each evaluation",
    )
    p.add_argument(
        "--target", type=float, default=0.50, help="eval pass rate whose first reaching is timed"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu", help="cpu or cuda[:N]")
    p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads in every run")
    p.add_argument(
        "--trl-optim",
        default="adamw_torch",
        help="TRL optim (adamw_torch = torch.optim.AdamW, as ours)",
    )
    p.add_argument(
        "--trl-own-rng",
        action="store_true",
        help="let TRL sample from its own random stream instead of seeding each "
        "step's generation as ours does",
    )
    p.add_argument("--quick", action="store_true", help=f"debug run; defaults become {QUICK_TEXT}")
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
    p.add_argument("--keep-work", action="store_true", help="keep the temporary folder")
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--child-config", help=argparse.SUPPRESS)
    p.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    if "--quick" in (sys.argv[1:] if argv is None else argv):
        p.set_defaults(**QUICK)  # flags given explicitly still win
    return p.parse_args(argv)


def _run_row(row: str, cfg: dict, row_work: Path, work: Path, verbose: bool) -> dict:
    return dpo_bench._run_row(row, cfg, row_work, work, verbose, script=__file__)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.child:
        child_main(json.loads(args.child_config), args.child, args.result)
        return 0
    from engine.demo.task import demo_splits

    cuda = args.device.startswith("cuda")
    rows = [r.strip() for r in args.rows.split(",") if r.strip()]
    unknown = sorted(set(rows) - {r for r, _ in ROWS})
    if unknown:
        raise SystemExit(f"unknown rows: {', '.join(unknown)}")
    if args.repeat < 1 or args.steps < 1 or args.eval_every < 1:
        raise SystemExit("--repeat, --steps and --eval-every must be at least 1")
    cfg = {
        "model": str(Path(args.model).expanduser().resolve()),
        "steps": args.steps,
        "batch_size": args.batch_size,
        "grad_accum": 1,
        "generations": args.generations,
        "max_completion_length": args.max_completion_length,
        "temperature": args.temperature,
        "lr": args.lr,
        "scheduler": args.scheduler,
        "warmup_ratio": args.warmup_ratio,
        "max_grad_norm": args.max_grad_norm,
        "lora_r": args.lora_r,
        "lora_alpha": args.lora_alpha,
        "lora_dropout": args.lora_dropout,
        "eval_every": args.eval_every,
        "eval_prompts": args.eval_prompts,
        "target": args.target,
        "seed": args.seed,
        "device": args.device,
        "dtype": "bfloat16" if cuda else "float32",
        "precision": "bf16" if cuda else "fp32",
        "threads": args.threads,
        "trl_optim": args.trl_optim,
        "same_sampling_seeds": not args.trl_own_rng,
        "train_prompts": len(demo_splits()["train"]),
    }
    print(f"# GRPO benchmark: ours vs TRL  ({time.strftime('%Y-%m-%d %H:%M:%S')})")
    print(
        f"- machine: {platform.platform()}, {platform.processor() or platform.machine()}; "
        f"{_load_text()} at start"
    )
    print(f"- {_versions()}")
    print(
        f"- model {cfg['model']}; {cfg['train_prompts']} demo train prompts, {cfg['steps']} "
        f"steps x {cfg['batch_size']} prompts x {cfg['generations']} completions of at most "
        f"{cfg['max_completion_length']} tokens (temperature {cfg['temperature']}), lr "
        f"{cfg['lr']} {cfg['scheduler']} warmup {cfg['warmup_ratio']}, DAPO loss, beta 0, "
        f"group-scaled advantages, LoRA r={cfg['lora_r']} alpha={cfg['lora_alpha']} "
        f"dropout={cfg['lora_dropout']} all-linear, {cfg['device']} {cfg['precision']}, "
        f"{cfg['threads']} threads, seed {cfg['seed']}; eval every {cfg['eval_every']} steps "
        f"on {cfg['eval_prompts']} eval prompts (greedy), target pass rate {cfg['target']}; "
        f"TRL sampling seeded {'as ours' if cfg['same_sampling_seeds'] else 'by TRL'}"
    )
    report_cores(cuda, args.threads)
    started = time.perf_counter()
    with work_folder("bench-grpo-", args.keep_work) as work:
        base = _run_row("base", cfg, work / "base", work, args.verbose)
        print(
            f"- base model evaluation: {base['subprocess_s']:.1f} s in its subprocess"
            + (f" ({base['error']})" if "error" in base else ""),
            flush=True,
        )
        runs = run_repetitions(
            rows, args.repeat, work, args.verbose, lambda _rep: cfg, run_row=_run_row
        )
    results = {row: _best(found) for row, found in runs.items()}
    print(f"- total {time.perf_counter() - started:.1f} s; {_load_text()} at end")
    print()
    print(_table(cfg, results))
    print()
    for note in _notes(cfg, results, base):
        print(f"- {note}")
    if args.repeat > 1:
        for row, found in runs.items():
            times = ", ".join(
                "failed"
                if "error" in r
                else f"{r['train_s']:.1f} s (target "
                + (
                    "not reached"
                    if r["target_step"] is None
                    else f"{r['target_s']:.1f} s at step {r['target_step']}"
                )
                + ")"
                for r in found
            )
            print(
                f"- {row}: train time of the {args.repeat} repetitions: {times} "
                "(the table shows the fastest)"
            )
    if args.json:
        args.json.write_text(json.dumps({"config": cfg, "base": base, "runs": runs}, indent=2))
    return 0 if all("error" not in r for r in [base, *results.values()]) else 1


if __name__ == "__main__":
    sys.exit(main())
