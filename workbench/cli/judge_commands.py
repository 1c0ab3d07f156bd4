"""`workbench label --by judge`: the job's parameters from the command line, and its summary."""

from __future__ import annotations

from pathlib import Path

from workbench.labels.auto_label import AutoLabelRequest
from workbench.labels.auto_label import candidate_sampling as sampling_of

JUDGE_ONLY = ("judge", "endpoint", "model", "api_key_env", "template", "criteria", "tie_margin")


def check_label_options(args) -> None:
    """Refuse options that do not fit the chosen --by, rather than ignore them."""
    if args.temperature is not None:
        if not args.generate:
            raise ValueError(
                "--temperature applies to the candidates --generate N samples; add --generate."
            )
        if args.temperature <= 0:
            raise ValueError(f"--temperature must be above 0, not {args.temperature:g}.")
    given = [name for name in JUDGE_ONLY if getattr(args, name, None) is not None]
    if args.by == "rules":
        if given:
            flags = ", ".join("--" + name.replace("_", "-") for name in given)
            raise ValueError(f"{flags} only apply to --by judge.")
        return
    if args.rule:
        raise ValueError("--rule only applies to --by rules.")
    if args.endpoint and args.judge:
        raise ValueError(
            "Give either --judge NAME (a judge of the project) or --endpoint URL, not both."
        )
    if bool(args.endpoint) != bool(args.model):
        raise ValueError("A one-off endpoint judge needs both --endpoint URL and --model NAME.")
    if args.api_key_env and not args.endpoint:
        raise ValueError("--api-key-env goes with --endpoint; a stored judge keeps its own.")


def _read_template(path: str) -> str:
    try:
        return Path(path).expanduser().read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(
            f"Could not read the judge template {path}: {exc}. Give a text file "
            "with {prompt}, {first} and {second} in it."
        ) from None


def candidate_sampling(args) -> dict | None:
    """The sampling settings the label options give to --generate, None when default."""
    return sampling_of(args.seed, args.temperature)


def label_request(args, by: str, **only_for_by) -> AutoLabelRequest:
    """The options `label --by rules|judge` shares with the Label view's dialog."""
    return AutoLabelRequest(
        by=by,
        split=args.split,
        limit=args.limit,
        generate=args.generate,
        temperature=args.temperature,
        seed=args.seed,
        max_pairs_per_prompt=args.max_pairs,
        **only_for_by,
    )


def label_judge_params(args) -> dict:
    # A tie margin not given: the judge's own suggestion (judge.json), or 0.
    request = label_request(args, "judge", judge=args.judge, tie_margin=args.tie_margin)
    params = request.params()
    if args.endpoint:
        config = {
            "name": f"endpoint {args.model}",
            "kind": "endpoint",
            "base_url": args.endpoint,
            "model": args.model,
        }
        if args.api_key_env:
            config["api_key_env"] = args.api_key_env
        params["judge_config"] = config
    optional = {
        "criteria": args.criteria,
        "template": _read_template(args.template) if args.template else None,
    }
    params.update({k: v for k, v in optional.items() if v is not None})
    return params


def _agreement_line(what: str, figures: dict) -> str:
    if not figures["pairs"]:
        return f"  Agreement with {what} labels: no pair labelled by both yet."
    kappa = "n/a" if figures["kappa"] is None else f"{figures['kappa']:.2f}"
    return (
        f"  Agreement with {what} labels: {figures['percent']:.1f}% over {figures['pairs']} "
        f"pair(s), Cohen's kappa {kappa}."
    )


def print_judge_labels(result: dict) -> None:
    mean = result["mean_confidence"]
    print(
        f"Judge {result['judge']} ({result['identity']}): {result['pairs_judged']} pair(s) of "
        f"{result['prompts']} prompt(s) judged; added {result['labels_added']} label(s) with "
        f"source 'ai' ({result['ties']} tie(s)), {result['errors']} error(s)"
        + (f", mean confidence {mean:.3f}." if mean is not None else ".")
    )
    for message in result["error_examples"]:
        print(f"  error: {message}")
    if result["errors"]:
        print("  Pairs with an error were not labelled.")
    if result["stopped"]:
        print(f"  Stopped before {result['stopped']} pair(s) were judged; run again to finish.")
    if result["pairs_skipped_labelled_before"]:
        print(
            f"  {result['pairs_skipped_labelled_before']} pair(s) skipped: this judge "
            "labelled them before."
        )
    if not result["pairs"]:
        print("  No new pair to judge; use --generate N to sample more candidates.")
    print(_agreement_line("human", result["agreement_human"]))
    print(_agreement_line("rule", result["agreement_rule"]))
