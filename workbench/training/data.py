"""What a run trains on, of the kind its algorithm's spec names (``spec.data``): pairs
or single examples from the project's labels, demonstrations (SFT, see
workbench.training.demonstrations) or prompts (online); how many examples a config would
select; and the snapshot of it kept in the run's folder so that a resumed run trains on
exactly the same examples even after new labels arrive."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from engine.training.examples import (
    DemonstrationExample,
    PairExample,
    PromptExample,
    UnpairedExample,
    examples_hash,
)
from engine.training.hooks import TrainData
from workbench.atomic_write import write_atomically
from workbench.data.preference_data import LabelDataset, build_dataset, hold_out
from workbench.data.preference_data.dataset import dataset_hash
from workbench.data.prompts import list_prompts
from workbench.labels.comparisons import SOURCES
from workbench.training.config import RunConfig
from workbench.training.demonstrations import Demonstrations, build_demonstrations

SNAPSHOT_FILE = "dataset.json"


def split_labels(
    project,
    sources=SOURCES,
    min_confidence: float | None = None,
    eval_fraction: float = 0.1,
    seed: int = 0,
    since: float | None = None,
) -> tuple[LabelDataset, LabelDataset, bool]:
    """(train, eval, held_out): eval is the labels on eval-split prompts, or, when there
    are none, ``eval_fraction`` of the labelled prompts held out (whole prompts).
    ``since`` (a Unix time) keeps only the labels made from then on."""
    sources = tuple(sources)
    train = build_dataset(
        project, split="train", sources=sources, min_confidence=min_confidence, since=since
    )
    evaluation = build_dataset(
        project, split="eval", sources=sources, min_confidence=min_confidence, since=since
    )
    if evaluation.pairs or evaluation.unpaired or not 0 < eval_fraction < 1:
        return train, evaluation, False
    train, evaluation = hold_out(train, eval_fraction, seed=seed)
    return train, evaluation, True


def dataset_counts(
    project,
    sources=SOURCES,
    min_confidence: float | None = None,
    eval_fraction: float = 0.1,
    seed: int = 0,
    demonstrations: str | None = None,
    since: float | None = None,
) -> dict[str, Any]:
    """{"train": counts, "eval": counts, "held_out": bool}, split as a run splits it.
    ``demonstrations``: the sft_source of a run that trains on demonstrations, whose
    number each part's counts then give as "demonstrations"."""
    train, evaluation, held_out = split_labels(
        project, sources, min_confidence, eval_fraction, seed, since
    )
    parts = {"train": dict(train.counts), "eval": dict(evaluation.counts)}
    if demonstrations is not None:
        found = build_demonstrations(
            project, demonstrations, "{reference}", lambda: (train, evaluation, held_out)
        )
        parts["train"]["demonstrations"] = len(found.train)
        parts["eval"]["demonstrations"] = len(found.eval)
    return {**parts, "held_out": held_out}


def build_train_data(project, config: RunConfig) -> tuple[TrainData, dict[str, Any], str]:
    """(data, snapshot, hash) of the labels the config selects (see split_labels), or of
    the demonstrations or prompts its algorithm trains on."""
    if config.train.spec.data == "prompts":
        return build_prompt_data(project, config)
    if config.train.spec.data == "demonstrations":
        return build_demonstration_data(project, config)
    train, evaluation, held_out = split_labels(
        project,
        config.sources,
        config.min_confidence,
        config.eval_fraction,
        config.train.seed,
        config.labels_since,
    )
    data = TrainData(
        train.pairs,
        evaluation.pairs,
        train.unpaired,
        evaluation.unpaired,
        # A reward model generates no samples, and so has no samples_per_eval.
        sample_prompts(
            project,
            [*evaluation.pairs, *evaluation.unpaired],
            config.train.method.get("samples_per_eval", 0),
        ),
    )
    snapshot = {
        "train": train.snapshot,
        "eval": evaluation.snapshot,
        "held_out": held_out,
        "counts": {"train": train.counts, "eval": evaluation.counts},
    }
    return data, snapshot, combined_hash(data)


def build_demonstration_data(project, config: RunConfig) -> tuple[TrainData, dict[str, Any], str]:
    """SFT trains on demonstrations (workbench.training.demonstrations), from the prompts'
    references or from the labels the config selects."""
    method = config.train.method

    def labels() -> tuple[LabelDataset, LabelDataset, bool]:
        return split_labels(
            project,
            config.sources,
            config.min_confidence,
            config.eval_fraction,
            config.train.seed,
            config.labels_since,
        )

    found: Demonstrations = build_demonstrations(
        project, method.sft_source, method.completion_template, labels
    )
    data = TrainData(
        sample_prompts=sample_prompts(project, found.eval, method.samples_per_eval),
        train_demonstrations=found.train,
        eval_demonstrations=found.eval,
    )
    snapshot = {
        "demonstrations": found.snapshot,
        "held_out": found.held_out,
        "counts": {
            "train": {"demonstrations": len(found.train)},
            "eval": {"demonstrations": len(found.eval)},
        },
    }
    return data, snapshot, combined_hash(data)


def build_prompt_data(project, config: RunConfig) -> tuple[TrainData, dict[str, Any], str]:
    """Online RL trains on prompts (with their reference answers for the rules) and
    evaluates on the eval split's."""
    train = _prompt_examples(project, config.prompt_split)
    evaluation = _prompt_examples(project, "eval") if config.prompt_split != "eval" else []
    data = TrainData(
        sample_prompts=[e.prompt for e in evaluation[: config.train.method.samples_per_eval]],
        train_prompts=train,
        eval_prompts=evaluation,
    )
    snapshot = {
        "prompts": {
            "split": config.prompt_split,
            "train": [e.prompt_id for e in train],
            "eval": [e.prompt_id for e in evaluation],
        },
        "counts": {"train": {"prompts": len(train)}, "eval": {"prompts": len(evaluation)}},
    }
    return data, snapshot, combined_hash(data)


def _prompt_examples(project, split: str) -> list[PromptExample]:
    return [
        PromptExample(r.engine_input, r.reference, r.id)
        for r in list_prompts(project, split=split, limit=None)
    ]


def sample_prompts(
    project, evaluation: Sequence[PairExample | UnpairedExample | DemonstrationExample], count: int
) -> list:
    """Prompts for the samples shown at each evaluation: the eval examples' prompts, then
    the project's eval-split prompts."""
    if count <= 0:
        return []
    seen, prompts = set(), []
    for example in evaluation:
        key = json.dumps(example.prompt, sort_keys=True)
        if key not in seen:
            seen.add(key)
            prompts.append(example.prompt)
        if len(prompts) == count:
            return prompts
    for record in list_prompts(project, split="eval", limit=count - len(prompts)):
        prompts.append(record.engine_input)
    return prompts


def combined_hash(data: TrainData) -> str:
    if data.train_prompts or data.eval_prompts:
        payload = json.dumps(
            [asdict(e) for e in data.train_prompts + data.eval_prompts],
            sort_keys=True,
            ensure_ascii=False,
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()
    if data.train_demonstrations or data.eval_demonstrations:
        return examples_hash(data.train_demonstrations + data.eval_demonstrations)
    return dataset_hash(
        data.train_pairs + data.eval_pairs, data.train_unpaired + data.eval_unpaired
    )


def save_snapshot(folder: Path, data: TrainData) -> None:
    payload = {
        "train_pairs": [asdict(e) for e in data.train_pairs],
        "eval_pairs": [asdict(e) for e in data.eval_pairs],
        "train_unpaired": [asdict(e) for e in data.train_unpaired],
        "eval_unpaired": [asdict(e) for e in data.eval_unpaired],
        "sample_prompts": data.sample_prompts,
        "train_prompts": [asdict(e) for e in data.train_prompts],
        "eval_prompts": [asdict(e) for e in data.eval_prompts],
        "train_demonstrations": [asdict(e) for e in data.train_demonstrations],
        "eval_demonstrations": [asdict(e) for e in data.eval_demonstrations],
    }
    write_atomically(
        folder / SNAPSHOT_FILE,
        lambda tmp: tmp.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8"),
    )


def load_snapshot(folder: Path) -> TrainData:
    path = folder / SNAPSHOT_FILE
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(
            f"The run's dataset snapshot {path} is missing or unreadable ({exc}), "
            "so it cannot resume exactly; start a new run instead."
        ) from exc
    return TrainData(
        [PairExample(**e) for e in payload["train_pairs"]],
        [PairExample(**e) for e in payload["eval_pairs"]],
        [UnpairedExample(**e) for e in payload["train_unpaired"]],
        [UnpairedExample(**e) for e in payload["eval_unpaired"]],
        payload["sample_prompts"],
        [PromptExample(**e) for e in payload.get("train_prompts", [])],
        [PromptExample(**e) for e in payload.get("eval_prompts", [])],
        [DemonstrationExample(**e) for e in payload.get("train_demonstrations", [])],
        [DemonstrationExample(**e) for e in payload.get("eval_demonstrations", [])],
    )
