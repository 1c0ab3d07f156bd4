"""`workbench eval`, `label`, `rules` and `score`: the project's verifiable rules at work."""

from __future__ import annotations

from workbench.cli import rules_manage, score_commands
from workbench.cli.job_commands import report_job
from workbench.cli.judge_commands import (
    check_label_options,
    label_judge_params,
    label_request,
    print_judge_labels,
)
from workbench.cli.output import ProgressBar
from workbench.project import Project


def _run(project_dir: str, kind: str, params: dict, description: str):
    from workbench.jobs.worker import run_inline

    project = Project.open(project_dir)
    bar = ProgressBar(description)
    try:
        return run_inline(project, kind, params, on_progress=bar)
    finally:
        bar.close()


def print_evaluation(result: dict) -> None:
    where = f"checkpoint {result['checkpoint_id']}" if result["checkpoint_id"] else result["model"]
    print(
        f"Evaluation {result['evaluation_id']}: {where} on {result['count']} "
        f"{result['split']} prompt(s), greedy={not result['sampling']['do_sample']}"
    )
    width = max(len(name) for name in result["pass_rate"])
    for name, rate in result["pass_rate"].items():
        print(
            f"  {name:<{width}}  pass rate {rate:6.1%}   mean score {result['mean_score'][name]:.3f}"
        )
    print(
        f"  mean reward {result['mean_reward']:.3f}"
        + (
            f"   mean length {result['mean_length_tokens']:.1f} tokens"
            if "mean_length_tokens" in result
            else ""
        )
    )


def cmd_eval(args) -> int:
    params = {"split": args.split}
    optional = {
        "checkpoint_id": args.checkpoint,
        "adapter_path": args.adapter,
        "limit": args.limit,
        "rule_ids": args.rule,
        "model_id": args.model_id,
    }
    params.update({k: v for k, v in optional.items() if v is not None})
    job = _run(args.project, "evaluate", params, f"evaluating on {args.split}")
    return report_job(job, args.json, print_evaluation)


def print_labels(result: dict) -> None:
    print(
        f"Added {result['pairs_added']} preference pair(s) from {result['completions_scored']} "
        f"completion(s) of {result['prompts']} prompt(s), source 'rule' ({', '.join(result['rules'])})."
    )
    if result["prompts_all_equal"]:
        print(f"{result['prompts_all_equal']} prompt(s) had completions that all scored the same.")
    if result["prompts_single_completion"]:
        print(
            f"{result['prompts_single_completion']} prompt(s) had a single distinct completion; "
            "use --generate N to sample more."
        )


def cmd_label(args) -> int:
    check_label_options(args)
    if args.by == "judge":
        job = _run(args.project, "label_judge", label_judge_params(args), "labelling by judge")
        return report_job(job, args.json, print_judge_labels)
    request = label_request(args, "rules", rule_ids=tuple(args.rule) if args.rule else None)
    job = _run(args.project, "label_rules", request.params(), "labelling by rules")
    return report_job(job, args.json, print_labels)


def add_commands(sub) -> None:
    p = sub.add_parser("eval", help="greedy pass rate per rule and mean reward over a split")
    p.add_argument("project")
    p.add_argument("--split", default="eval")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--checkpoint", type=int, help="evaluate this checkpoint's adapter")
    source.add_argument("--adapter", help="evaluate the PEFT adapter in this folder")
    p.add_argument("--model-id", type=int)
    p.add_argument("--limit", type=int, help="at most this many prompts")
    p.add_argument(
        "--rule", type=int, action="append", help="rule id (default: every enabled rule)"
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("label", help="propose preference labels automatically (rules or a judge)")
    p.add_argument("project")
    p.add_argument("--by", choices=["rules", "judge"], required=True)
    p.add_argument("--split", help="only prompts of this split")
    p.add_argument("--limit", type=int, help="at most this many prompts")
    p.add_argument(
        "--generate",
        type=int,
        default=0,
        metavar="N",
        help="first sample N new candidates per prompt",
    )
    p.add_argument(
        "--temperature",
        type=float,
        default=None,
        metavar="T",
        help="sampling temperature of the --generate candidates (1.0); higher gives "
        "more varied mistakes to learn from",
    )
    p.add_argument(
        "--max-pairs",
        "--max-pairs-per-prompt",
        dest="max_pairs",
        type=int,
        default=4,
        help="pairs per prompt at most (4)",
    )
    p.add_argument(
        "--rule", type=int, action="append", help="rule id (default: every enabled rule)"
    )
    add_judge_options(p)
    p.add_argument("--seed", type=int)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_label)

    rules_manage.add_commands(sub)
    score_commands.add_commands(sub)


def add_judge_options(p) -> None:
    group = p.add_argument_group("--by judge")
    group.add_argument(
        "--judge",
        metavar="NAME",
        help="a judge of the project (default: the project's default judge)",
    )
    group.add_argument(
        "--endpoint",
        metavar="URL",
        help="a one-off OpenAI-compatible endpoint judge, e.g. http://127.0.0.1:8000/v1",
    )
    group.add_argument(
        "--model", metavar="M", help="the model the endpoint serves (with --endpoint)"
    )
    group.add_argument(
        "--api-key-env",
        metavar="VAR",
        help="environment variable holding the endpoint's API key (OPENAI_API_KEY)",
    )
    group.add_argument(
        "--template",
        metavar="FILE",
        help="judge prompt template: a text file with {prompt} {first} {second} "
        "and optionally {criteria}",
    )
    group.add_argument("--criteria", metavar="TEXT", help="what the judge should value")
    group.add_argument(
        "--tie-margin",
        type=float,
        metavar="M",
        help="a tie when |P(first better) - 0.5| < M (default: the judge's own "
        "suggestion in its judge.json, else 0: never)",
    )
