"""What an SFT run imitates: demonstrations (a prompt and the completion to learn) from
the project, by the run's ``sft_source`` (engine.algorithms.method_settings.SFT_SOURCES):

- "references": each prompt's reference answer, written through ``completion_template``
  ("{reference}" replaced by it); train-split prompts train, eval-split ones evaluate. An
  imported chat dataset's last assistant turn is its prompt's reference
  (workbench.data.prompt_io.validate);
- "chosen": the chosen completion of every labelled pair and every completion labelled
  desirable, from the labels a DPO run with the same selection takes (sources, minimum
  confidence, eval split or held-out share).

Either way each (prompt, completion) is kept once, in a stable order, so the same project
gives the same demonstrations and the same dataset hash.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from engine.training.examples import DemonstrationExample, Prompt, content_key
from workbench.data.preference_data import LabelDataset
from workbench.data.prompts import list_prompts

# split_labels of workbench.training.data with the run's label selection: (train, eval,
# held_out), called only by the sources that read labels.
LabelSplit = Callable[[], tuple[LabelDataset, LabelDataset, bool]]


@dataclass
class Demonstrations:
    train: list[DemonstrationExample]
    eval: list[DemonstrationExample]
    snapshot: dict[str, Any] = field(default_factory=dict)  # small: where they came from
    held_out: bool = False


def fill(template: str, reference: str) -> str:
    """The completion ``template`` makes of a reference (plain replacement: braces of
    the user's own, as in a JSON answer format, stay as they are)."""
    return template.replace("{reference}", reference)


def unique(pairs: Iterable[tuple[Prompt, str]]) -> list[DemonstrationExample]:
    """One demonstration per distinct (prompt, completion), in first-seen order."""
    seen: set[str] = set()
    out = []
    for prompt, completion in pairs:
        key = content_key(prompt, completion)
        if key not in seen:
            seen.add(key)
            out.append(DemonstrationExample(key, prompt, completion))
    return out


def _from_references(project: Any, template: str, labels: LabelSplit) -> Demonstrations:
    parts: dict[str, list[DemonstrationExample]] = {}
    ids: dict[str, list[int | None]] = {}
    for split in ("train", "eval"):
        records = [r for r in list_prompts(project, split=split, limit=None) if r.reference]
        parts[split] = unique((r.engine_input, fill(template, r.reference or "")) for r in records)
        ids[split] = [r.id for r in records]
    snapshot = {"source": "references", "template": template, "prompt_ids": ids}
    return Demonstrations(parts["train"], parts["eval"], snapshot)


def _from_labels(project: Any, template: str, labels: LabelSplit) -> Demonstrations:
    train, evaluation, held_out = labels()
    snapshot = {"source": "chosen", "train": train.snapshot, "eval": evaluation.snapshot}
    return Demonstrations(_chosen(train), _chosen(evaluation), snapshot, held_out)


def _chosen(dataset: LabelDataset) -> list[DemonstrationExample]:
    return unique(
        [(p.prompt, p.chosen) for p in dataset.pairs]
        + [(u.prompt, u.completion) for u in dataset.unpaired if u.desirable]
    )


_BUILDERS: dict[str, Callable[[Any, str, LabelSplit], Demonstrations]] = {
    "references": _from_references,
    "chosen": _from_labels,
}


def demonstration_builder(source: str) -> Callable[[Any, str, LabelSplit], Demonstrations]:
    """The builder of ``source`` (one of SFT_SOURCES); ValueError for another."""
    try:
        return _BUILDERS[source]
    except (KeyError, TypeError):
        raise ValueError(
            f"sft_source must be one of {', '.join(_BUILDERS)}, not {source!r}"
        ) from None


def build_demonstrations(
    project: Any, source: str, template: str, labels: LabelSplit
) -> Demonstrations:
    return demonstration_builder(source)(project, template, labels)
