"""What a preference run trains on, from the project's labels, and the snapshot of it
kept in the run's folder so that a resumed run trains on exactly the same examples
even after new labels arrive."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from engine.training.examples import PairExample, PromptExample, UnpairedExample
from engine.training.hooks import TrainData
from workbench.atomic_write import write_atomically
from workbench.data.preference_data import LabelDataset, build_dataset, hold_out
from workbench.data.preference_data.dataset import dataset_hash
from workbench.data.prompts import list_prompts
from workbench.labels.comparisons import SOURCES
from workbench.training.config import RunConfig

SNAPSHOT_FILE = "dataset.json"


def split_labels(
    project,
    sources=SOURCES,
    min_confidence: float | None = None,
    eval_fraction: float = 0.1,
    seed: int = 0,
) -> tuple[LabelDataset, LabelDataset, bool]:
    """(train, eval, held_out): eval is the labels on eval-split prompts, or, when there
    are none, ``eval_fraction`` of the labelled prompts held out (whole prompts)."""
    select = {"sources": tuple(sources), "min_confidence": min_confidence}
    train = build_dataset(project, split="train", **select)
    evaluation = build_dataset(project, split="eval", **select)
    if evaluation.pairs or evaluation.unpaired or not 0 < eval_fraction < 1:
        return train, evaluation, False
    train, evaluation = hold_out(train, eval_fraction, seed=seed)
    return train, evaluation, True


def build_train_data(project, config: RunConfig) -> tuple[TrainData, dict[str, Any], str]:
    """(data, snapshot, hash) of the labels the config selects (see split_labels), or for
    online RL of the prompts it samples."""
    if config.train.online:
        return build_prompt_data(project, config)
    train, evaluation, held_out = split_labels(
        project, config.sources, config.min_confidence, config.eval_fraction, config.train.seed
    )
    data = TrainData(
        train.pairs,
        evaluation.pairs,
        train.unpaired,
        evaluation.unpaired,
        sample_prompts(project, evaluation, config.train.samples_per_eval),
    )
    snapshot = {
        "train": train.snapshot,
        "eval": evaluation.snapshot,
        "held_out": held_out,
        "counts": {"train": train.counts, "eval": evaluation.counts},
    }
    return data, snapshot, combined_hash(data)


def build_prompt_data(project, config: RunConfig) -> tuple[TrainData, dict[str, Any], str]:
    """Online RL trains on prompts (with their reference answers for the rules) and
    evaluates on the eval split's."""
    train = _prompt_examples(project, config.prompt_split)
    evaluation = _prompt_examples(project, "eval") if config.prompt_split != "eval" else []
    data = TrainData(
        sample_prompts=[e.prompt for e in evaluation[: config.train.samples_per_eval]],
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
        PromptExample(r.messages if r.messages else r.text, r.reference, r.id)
        for r in list_prompts(project, split=split, limit=None)
    ]


def sample_prompts(project, evaluation, count: int) -> list:
    """Prompts for the samples shown at each evaluation: the eval examples' prompts, or
    the project's eval-split prompts."""
    if count <= 0:
        return []
    seen, prompts = set(), []
    for example in [*evaluation.pairs, *evaluation.unpaired]:
        key = json.dumps(example.prompt, sort_keys=True)
        if key not in seen:
            seen.add(key)
            prompts.append(example.prompt)
        if len(prompts) == count:
            return prompts
    for record in list_prompts(project, split="eval", limit=count - len(prompts)):
        prompts.append(record.messages if record.messages else record.text)
    return prompts


def combined_hash(data: TrainData) -> str:
    if data.train_prompts or data.eval_prompts:
        payload = json.dumps(
            [asdict(e) for e in data.train_prompts + data.eval_prompts],
            sort_keys=True,
            ensure_ascii=False,
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()
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
    )
