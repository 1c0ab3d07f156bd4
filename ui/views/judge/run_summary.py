"""What a label_judge job's result says, in sentences: what was judged and stored, what
failed (with the first messages), what was skipped, and what the run cost."""

from __future__ import annotations


def plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def summary_lines(result: dict) -> list[str]:
    added, ties = result.get("labels_added", 0), result.get("ties", 0)
    lines = [
        f"Judged {plural(result.get('pairs_judged', 0), 'pair')} of "
        f"{plural(result.get('prompts', 0), 'prompt')}: "
        f"{plural(added, 'label')} added with source ai ({plural(ties, 'tie')}), "
        f"{plural(result.get('errors', 0), 'error')}."
    ]
    figures = []
    if result.get("mean_confidence") is not None:
        figures.append(f"mean confidence {result['mean_confidence']:.2f}")
    if result.get("requests_sent") is not None:
        figures.append(f"{plural(result['requests_sent'], 'request')} sent")
    if figures:
        lines.append(", ".join(figures).capitalize() + ".")
    lines += [f"Error: {message}" for message in result.get("error_examples", [])]
    if result.get("errors"):
        lines.append("Pairs with an error were not labelled.")
    if result.get("stopped"):
        lines.append(
            f"Stopped before {plural(result['stopped'], 'pair')}; run again to finish "
            "(the labels made so far are kept)."
        )
    if result.get("pairs_skipped_labelled_before"):
        lines.append(
            f"{plural(result['pairs_skipped_labelled_before'], 'pair')} skipped: labelled before."
        )
    if not result.get("pairs"):
        lines.append("No new pair to judge: set Generate first to sample more candidates.")
    if result.get("identity"):
        lines.append(f"Judge identity: {result['identity']}")
    return lines
