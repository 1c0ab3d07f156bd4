"""`workbench compare`: the base model and checkpoints on the same prompts, side by side
and scored; the same arguments find the stored comparison and generate nothing again."""

from __future__ import annotations

from typing import Any

from workbench.cli.job_commands import report_job
from workbench.cli.output import ProgressBar
from workbench.comparing.choices import ComparisonError, Decoding, EntrantChoice, PromptSet
from workbench.project import Project


def parse_models(text: str) -> list[EntrantChoice]:
    """ "base,12,base:3": the project's default model, checkpoint 12, base model 3."""
    choices = []
    for item in (part.strip() for part in text.split(",")):
        if item == "base":
            choices.append(EntrantChoice())
        elif item.startswith("base:") and item[5:].isdigit():
            choices.append(EntrantChoice(model_id=int(item[5:])))
        elif item.isdigit():
            choices.append(EntrantChoice(checkpoint_id=int(item)))
        else:
            raise ComparisonError(
                f"{item!r} in --models is neither 'base', 'base:MODEL_ID' nor a checkpoint id."
            )
    return choices


def _prompt_set(args) -> PromptSet:
    if args.prompt_id:
        return PromptSet(split=None, prompt_ids=tuple(args.prompt_id))
    if args.sample is not None:
        return PromptSet(split=args.split, sample=args.sample, sample_seed=args.sample_seed)
    return PromptSet(split=args.split, limit=args.limit)


def _decoding(args) -> Decoding:
    if args.seeds is None and args.temperature is None:
        return Decoding()
    return Decoding(greedy=False, seeds=args.seeds or 1, temperature=args.temperature)


def _percent(value: float | None) -> str:
    return "   -  " if value is None else f"{value:6.1%}"


def _number(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def print_comparison(result: dict[str, Any]) -> None:
    decoding = "greedy" if result["greedy"] else f"{result['seeds']} seed(s), sampled"
    reward = result.get("reward") or {}
    print(
        f"Comparison {result['comparison_id']} {result['name']!r}: {result['prompts']} "
        f"prompt(s), {decoding}; {result['generated']} completion(s) generated"
        + (", stopped before the end" if result["stopped"] else "")
    )
    if reward.get("source") == "reward_model":
        print(
            f"Reward: the reward model {reward['label']} (checkpoint {reward['checkpoint_id']})"
            + (f", {reward['scored']} answer(s) scored now" if "scored" in reward else "")
        )
    for model in result["models"]:
        verdicts = model.get("verdicts")
        tail = (
            "(baseline)"
            if verdicts is None
            else ", ".join(f"{name} {count}" for name, count in verdicts.items())
        )
        print(f"{model['id']!s:>8}  {model['label']}  n={model['n']}  {tail}")
        for rule, rate in model["pass_rate"].items():
            low, high = model["pass_rate_ci"][rule]
            print(f"          {rule:<12} pass {_percent(rate)}  95% CI [{low:.1%}, {high:.1%}]")
        print(
            f"          mean reward {_number(model['mean_reward'])}   "
            f"mean length {_number(model['mean_length_tokens'], 1)} tokens"
        )
        if model.get("win_rate_vs_baseline") is not None:
            print(
                f"          judge win rate vs baseline {_percent(model['win_rate_vs_baseline'])}"
                f" over {model['judged_vs_baseline']} answer(s)"
            )
    for row in result.get("rows", []):
        print(f"[{row['prompt_id']}] {row['prompt']}  (reference {row['reference']})")
        for cell in row["entrants"]:
            texts = " | ".join(repr(a["text"]) for a in cell["answers"]) or "-"
            print(
                f"    {cell['label']}: {texts}  reward {_number(cell['reward'])}"
                + (f"  {cell['verdict']}" if cell["verdict"] else "")
            )


def _check_judge(project: Project, name: str) -> None:
    """Refuse a judge that cannot run before anything is stored or generated."""
    from workbench.judging.runtime import resolve_judge_config

    try:
        config = resolve_judge_config(project, {"judge": name})
    except (KeyError, ValueError) as exc:
        message = exc.args[0] if exc.args else str(exc)
        raise ComparisonError(f"The judge {name!r} cannot compare: {message}") from None
    if config.mode == "pointwise":
        raise ComparisonError(
            f"The judge {name!r} scores single answers (pointwise); comparing with the "
            "baseline needs a pairwise judge."
        )


def _reward_model(project: Project, given: str | None) -> int | None:
    """The checkpoint id of --reward-model ("none": back to the rules' reward), checked
    to be a reward model that can load before anything is stored or generated."""
    from workbench.comparing.reward_scores import check_reward_model

    if given is None or given.strip().lower() == "none":
        return None
    if not given.strip().isdigit():
        raise ComparisonError(
            f"--reward-model takes the checkpoint id of a reward model (or none), not {given!r}."
        )
    return check_reward_model(project, int(given)).checkpoint_id


def cmd_compare(args) -> int:
    from workbench.comparing.figures import figures
    from workbench.comparing.store import find_or_create, load
    from workbench.jobs.worker import run_inline

    project = Project.open(args.project)
    if args.judge:
        _check_judge(project, args.judge)
    reward_model = _reward_model(project, args.reward_model)
    comparison, created = find_or_create(
        project, parse_models(args.models), _prompt_set(args), _decoding(args), name=args.name
    )
    bar = ProgressBar(f"comparison {comparison.id}", enabled=not args.quiet)
    try:
        params = {"comparison_id": comparison.id, "batch_size": args.batch_size}
        if args.judge:
            params["judge"] = args.judge
        if args.reward_model is not None:
            params["reward_model"] = reward_model
        job = run_inline(project, "compare", params, on_progress=bar, interruptible=True)
    finally:
        bar.close()
    if job.status == "done" and args.rows:
        assert job.result is not None
        job.result["rows"] = figures(project, load(project, comparison.id), rows=True)["rows"]
    if job.result is not None:
        job.result["created"] = created
    return report_job(job, args.json, print_comparison)


def add_commands(sub) -> None:
    p = sub.add_parser(
        "compare",
        help="the base model and checkpoints answering the same prompts, scored side by side",
    )
    p.add_argument("project")
    p.add_argument(
        "--models",
        required=True,
        metavar="base,CKPT_ID,...",
        help="the baseline first, then up to 8 others: 'base' (the project's model), "
        "'base:MODEL_ID' or a checkpoint id",
    )
    p.add_argument("--split", default="eval", help="prompts of this split (eval)")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--limit", type=int, help="the first N prompts of the split")
    which.add_argument("--sample", type=int, metavar="N", help="a random sample of N prompts")
    which.add_argument(
        "--prompt-id", type=int, action="append", help="a prompt id (repeatable; no split)"
    )
    p.add_argument("--sample-seed", type=int, default=0, help="seed of --sample (0)")
    p.add_argument(
        "--seeds", type=int, metavar="K", help="sample K completions per prompt (default: greedy)"
    )
    p.add_argument(
        "--temperature",
        type=float,
        metavar="T",
        help="sampling temperature (the project's default); samples instead of greedy",
    )
    p.add_argument("--name", help="name of a new comparison (default: from the models)")
    p.add_argument(
        "--judge",
        metavar="NAME",
        help="a stored judge compares each model's answers with the baseline's (both "
        "orders); adds win_rate_vs_baseline",
    )
    p.add_argument(
        "--reward-model",
        metavar="CKPT_ID",
        help="score every answer with this reward model (a checkpoint of a reward run); "
        "mean_reward then comes from it, and the comparison keeps it ('none': the rules)",
    )
    p.add_argument("--batch-size", type=int, default=16, help="prompts per generate call (16)")
    p.add_argument("--rows", action="store_true", help="also each prompt's answers and verdicts")
    p.add_argument("--quiet", action="store_true", help="no progress bar on stderr")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_compare)
