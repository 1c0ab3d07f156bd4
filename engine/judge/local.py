"""A local causal language model as judge.

Each pair is asked in both orders (its first completion shown as A, then as B) and the
two probabilities of "first is better" are averaged, so a judge that leans towards
whichever answer it reads first cancels out. The probabilities come from the next-token
distribution over the answer labels (see choice_probs), not from sampled text.

A judge model folder may carry ``judge.json`` ({"mode", "template", "choices",
"criteria"}) saying how it was trained to be asked; ``load_judge_config`` reads it and
``build_local_judge`` applies it under the user's own settings. torch is imported only
when a judge runs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from engine.errors import EngineError, SettingsError
from engine.judge.base import PairItem, PointItem, ProgressFn, Score, StopFn, Verdict
from engine.judge.choice_probs import RowOutcome, choice_token_ids, first_label_probs
from engine.judge.templates import (
    DEFAULT_CRITERIA,
    DEFAULT_PAIR_TEMPLATE,
    DEFAULT_POINT_TEMPLATE,
    MODES,
    check_template,
    render_pair,
    render_point,
)

if TYPE_CHECKING:
    from engine.loading import LoadedModel

JUDGE_FILE = "judge.json"
DEFAULT_CHOICES = {"pairwise": ("A", "B"), "pointwise": ("yes", "no")}
DEFAULT_TEMPLATES = {"pairwise": DEFAULT_PAIR_TEMPLATE, "pointwise": DEFAULT_POINT_TEMPLATE}


SAMPLED_BYTES = 1 << 20


def weights_fingerprint(folder: Path) -> str:
    """A cheap fingerprint of a model folder's weights (each file's size and its first and
    last MiB), so that a judge retrained in place gets a new identity and its labels and
    agreement figures are not mixed with the old one's. Stable across copies."""
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.safetensors")) + sorted(folder.glob("*.bin")):
        size = path.stat().st_size
        digest.update(f"{path.name}:{size}".encode())
        with path.open("rb") as handle:
            digest.update(handle.read(SAMPLED_BYTES))
            handle.seek(max(size - SAMPLED_BYTES, 0))
            digest.update(handle.read(SAMPLED_BYTES))
    return digest.hexdigest()[:16]


class LocalJudge:
    """The Judge protocol (engine.judge.base) on a loaded causal LM."""

    def __init__(
        self,
        loaded: LoadedModel,
        *,
        template: str = DEFAULT_PAIR_TEMPLATE,
        criteria: str = DEFAULT_CRITERIA,
        choices: Sequence[str] = DEFAULT_CHOICES["pairwise"],
        point_template: str = DEFAULT_POINT_TEMPLATE,
        point_choices: Sequence[str] = DEFAULT_CHOICES["pointwise"],
        batch_size: int = 16,
        name: str | None = None,
    ) -> None:
        check_template(template, "pairwise")
        check_template(point_template, "pointwise")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise SettingsError(f"The judge's batch size must be at least 1, not {batch_size!r}.")
        self.loaded = loaded
        self.template, self.point_template, self.criteria = template, point_template, criteria
        self.choices, self.point_choices = tuple(choices), tuple(point_choices)
        self._pair_ids = choice_token_ids(loaded.tokenizer, self.choices, "choices")
        self._point_ids = choice_token_ids(loaded.tokenizer, self.point_choices, "point choices")
        self.batch_size = batch_size
        self.name = name or loaded.name
        settings = [
            template,
            point_template,
            criteria,
            self.choices,
            self.point_choices,
            weights_fingerprint(Path(loaded.source_dir)),
        ]
        digest = hashlib.sha256(json.dumps(settings).encode()).hexdigest()[:8]
        self._identity = f"local:{self.name}#{digest}"

    @property
    def identity(self) -> str:
        return self._identity

    def compare(
        self,
        items: Sequence[PairItem],
        *,
        progress: ProgressFn | None = None,
        should_stop: StopFn | None = None,
    ) -> list[Verdict]:
        rows = [
            (
                render_pair(self.template, it.prompt, it.first, it.second, self.criteria),
                render_pair(self.template, it.prompt, it.second, it.first, self.criteria),
            )
            for it in items
        ]
        outcomes = first_label_probs(
            self.loaded,
            rows,
            self._pair_ids,
            what="pair",
            batch_size=self.batch_size,
            progress=progress,
            should_stop=should_stop,
        )
        verdicts = []
        for outcome in outcomes:
            if outcome.error is not None:
                verdicts.append(Verdict(None, outcome.error, {"tokens": outcome.tokens}))
                continue
            # Shown second, the first completion is label B: P(first better) = 1 - P(A).
            probs = _probs(outcome)
            shown_first, shown_second = probs[0], 1.0 - probs[1]
            verdicts.append(
                Verdict(
                    (shown_first + shown_second) / 2,
                    None,
                    {
                        "first_shown_first": shown_first,
                        "second_shown_first": shown_second,
                        "tokens": outcome.tokens,
                    },
                )
            )
        return verdicts

    def score(
        self,
        items: Sequence[PointItem],
        *,
        progress: ProgressFn | None = None,
        should_stop: StopFn | None = None,
    ) -> list[Score]:
        rows = [
            (render_point(self.point_template, it.prompt, it.completion, self.criteria),)
            for it in items
        ]
        outcomes = first_label_probs(
            self.loaded,
            rows,
            self._point_ids,
            what="completion",
            batch_size=self.batch_size,
            progress=progress,
            should_stop=should_stop,
        )
        return [
            Score(None, o.error, {"tokens": o.tokens})
            if o.error is not None
            else Score(_probs(o)[0], None, {"tokens": o.tokens})
            for o in outcomes
        ]


def _probs(outcome: RowOutcome) -> list[float]:
    """The probabilities of an outcome without an error."""
    assert outcome.probs is not None, "first_label_probs sets them on every row without an error"
    return outcome.probs


@dataclass(frozen=True)
class JudgeFileConfig:
    """How a judge model wants to be asked: from its judge.json, else the defaults."""

    mode: str = "pairwise"
    template: str = DEFAULT_PAIR_TEMPLATE
    choices: tuple[str, ...] = DEFAULT_CHOICES["pairwise"]
    criteria: str = DEFAULT_CRITERIA
    # Verdicts closer to 1/2 than this are ties: what the judge says when it cannot tell.
    tie_margin: float = 0.0


def load_judge_config(folder: str | Path) -> JudgeFileConfig:
    """Read ``judge.json`` in ``folder``; the default pairwise settings when there is none.
    Missing keys take the defaults of the file's mode; a bad file raises EngineError."""
    path = Path(folder) / JUDGE_FILE
    if not path.is_file():
        return JudgeFileConfig()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EngineError(
            f"Could not read the judge settings in {path}: {exc}.",
            "Fix the file (JSON with mode, template, choices, criteria) or remove it.",
        ) from None
    if not isinstance(data, dict):
        raise EngineError(
            f"{path} must hold a JSON object.",
            'Write {"mode": ..., "template": ..., "choices": [...], "criteria": ...}.',
        )
    mode = data.get("mode", "pairwise")
    if mode not in MODES:
        raise EngineError(
            f"{path} names an unknown judge mode {mode!r}.", f"Use one of: {', '.join(MODES)}."
        )
    template = data.get("template") or DEFAULT_TEMPLATES[mode]
    check_template(template, mode)
    choices = tuple(data.get("choices") or DEFAULT_CHOICES[mode])
    criteria = data.get("criteria", DEFAULT_CRITERIA)
    if not isinstance(criteria, str):
        raise EngineError(f"The criteria in {path} must be text.", "Write them as a JSON string.")
    tie_margin = data.get("tie_margin", 0.0)
    if (
        isinstance(tie_margin, bool)
        or not isinstance(tie_margin, int | float)
        or not 0.0 <= tie_margin <= 0.5
    ):
        raise EngineError(
            f"The tie_margin in {path} must be a number from 0 to 0.5, not {tie_margin!r}.",
            "Fix it or remove the key (0: never a tie).",
        )
    return JudgeFileConfig(
        mode=mode,
        template=template,
        choices=choices,
        criteria=criteria,
        tie_margin=float(tie_margin),
    )


def build_local_judge(
    loaded: LoadedModel,
    *,
    mode: str | None = None,
    template: str | None = None,
    criteria: str | None = None,
    choices: Sequence[str] | None = None,
    batch_size: int = 16,
    name: str | None = None,
) -> LocalJudge:
    """A LocalJudge asked the way the model's judge.json says, unless the caller says
    otherwise for ``mode`` (None keeps the file's value). The file's template and labels
    serve the mode they were written for; the other mode keeps the defaults."""
    own = load_judge_config(loaded.source_dir)
    mode = mode or own.mode
    if mode not in MODES:
        raise EngineError(f"Unknown judge mode {mode!r}.", f"Use one of: {', '.join(MODES)}.")
    templates = dict(DEFAULT_TEMPLATES)
    labels: dict[str, tuple[str, ...]] = dict(DEFAULT_CHOICES)
    templates[own.mode], labels[own.mode] = own.template, own.choices
    templates[mode] = template or templates[mode]
    labels[mode] = tuple(choices or labels[mode])
    return LocalJudge(
        loaded,
        template=templates["pairwise"],
        choices=labels["pairwise"],
        point_template=templates["pointwise"],
        point_choices=labels["pointwise"],
        criteria=own.criteria if criteria is None else criteria,
        batch_size=batch_size,
        name=name,
    )
